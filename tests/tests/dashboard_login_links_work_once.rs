//! A one-time login link from `admin login-link` logs in once, only when its
//! page's button is pressed (opening the page uses nothing up); used,
//! expired and unknown links are refused each with its own reason; members
//! get none.

use std::time::Duration;

use massline_core::PersonId;
use massline_server::admin;
use massline_tests::web::{self, Https};
use massline_tests::{TestServer, Township};

async fn press(https: &Https, link_path: &str) -> web::Answer {
    let page = https.get(link_path, &[]).await;
    let Some(cookie) = page.set_cookie(web::LOGIN_COOKIE) else {
        return page;
    };
    let secret = link_path.rsplit('/').next().unwrap();
    https
        .post(
            "/login/link",
            &[(web::LOGIN_COOKIE, &cookie)],
            &[("csrf", &page.csrf().unwrap()), ("secret", secret)],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_links_log_in_once_and_say_why_they_do_not() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    let addr = server.web.unwrap();
    let https = Https::new(&town, addr);
    let db = admin::open(&town.data).unwrap();
    let li = PersonId::new("li").unwrap();

    // The link carries the address the dashboard serves on.
    let link = admin::login_link(&db, &li, None, web::LINK_VALIDITY).unwrap();
    let prefix = format!("https://{addr}/login/link/");
    assert!(link.starts_with(&prefix), "{link}");
    let path = link
        .trim_start_matches(&format!("https://{addr}"))
        .to_string();

    for _ in 0..2 {
        let page = https.get(&path, &[]).await;
        assert_eq!(page.status, 200, "opening the page uses the link up");
    }
    let used = press(&https, &path).await;
    assert_eq!(used.status, 303);
    let session = https
        .session(used.set_cookie(web::SESSION_COOKIE).unwrap())
        .await;
    assert_eq!(https.get_as(&session, "/v/dongcun").await.status, 200);

    let again = press(&https, &path).await;
    assert_eq!(again.status, 410);
    assert!(again.text().contains("already used"), "{}", again.text());

    let short = admin::login_link(&db, &li, None, Duration::from_secs(1)).unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = https
        .get(short.trim_start_matches(&format!("https://{addr}")), &[])
        .await;
    assert_eq!(expired.status, 410);
    assert!(expired.text().contains("expired"), "{}", expired.text());

    let unknown = https
        .get(
            "/login/link/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            &[],
        )
        .await;
    assert_eq!(unknown.status, 410);
    assert!(unknown.text().contains("unknown"), "{}", unknown.text());

    let long = admin::login_link(&db, &li, None, Duration::from_secs(8 * 86_400));
    assert!(long.is_err(), "a link valid for more than 7 days");
    let member = admin::login_link(
        &db,
        &PersonId::new("wang").unwrap(),
        None,
        web::LINK_VALIDITY,
    );
    assert!(member.unwrap_err().to_string().contains("no dashboard"));
    server.stop().await;
}
