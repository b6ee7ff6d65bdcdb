//! Every form of the dashboard carries its session's token: in a real
//! browser, a form posted without it, or with a wrong one, is refused (403)
//! and changes nothing; the page's own form, with it, works. The login form
//! likewise needs the token of its login cookie.

use massline_tests::browser::Browser;
use massline_tests::web::{self, Https, PASSWORD};
use massline_tests::{TestServer, Township};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_their_token_are_refused() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    web::populate(&town, server.addr).await;
    let addr = server.web.unwrap();
    let base = format!("https://127.0.0.1:{}", addr.port());

    let browser = Browser::start().await;
    browser.open(&format!("{base}/login")).await;
    browser.type_into("person", "zhang").await;
    browser.type_into("password", PASSWORD).await;
    browser.click("login").await;

    let form = |body: &str| {
        json!({
            "method": "POST",
            "credentials": "same-origin",
            "headers": { "Content-Type": "application/x-www-form-urlencoded" },
            "body": body,
        })
    };
    for body in ["", "csrf=", "csrf=not-the-token", "other=1"] {
        let (status, page) = browser.fetch_with("/logout", form(body)).await;
        assert_eq!(status, 403, "logout with {body:?}");
        assert!(String::from_utf8_lossy(&page).contains("表单已过期或来源不明"));
    }
    // Nothing changed: still logged in.
    let (status, page) = browser.fetch("/v/dongcun").await;
    assert_eq!(status, 200);
    assert!(
        String::from_utf8_lossy(&page).contains("张书记"),
        "logged out by a refused form"
    );
    // The page's own form carries the token.
    browser.click("logout").await;
    assert!(browser.url().await.ends_with("/login"));
    browser.close().await;

    // The login form, without the token its cookie holds, is refused even
    // with the right password.
    let https = Https::new(&town, addr);
    let page = https.get("/login", &[]).await;
    let cookie = page.set_cookie(web::LOGIN_COOKIE).unwrap();
    for (cookies, csrf) in [
        (vec![], page.csrf().unwrap()),
        (
            vec![(web::LOGIN_COOKIE, cookie.as_str())],
            "wrong".to_string(),
        ),
    ] {
        let answer = https
            .post(
                "/login",
                &cookies,
                &[("csrf", &csrf), ("person", "zhang"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(answer.status, 403, "{}", answer.text());
        assert!(answer.set_cookie(web::SESSION_COOKIE).is_none());
    }
    server.stop().await;
}
