//! A dashboard session ends on logout (in a real browser: the old cookie no
//! longer opens a page), at once when its person is revoked or given another
//! role (checked on every request, devices revoked with them), and when it
//! outlives its lifetime.

use std::time::Duration;

use massline_core::{PersonId, Role, VillageCode};
use massline_server::admin;
use massline_tests::browser::Browser;
use massline_tests::web::{self, Https, PASSWORD, SESSION_COOKIE};
use massline_tests::{Device, TestServer, Township};

fn to_login(answer: &web::Answer) -> bool {
    answer.status == 303 && answer.header("location") == Some("/login")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revocation_role_change_and_expiry_end_a_session() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    web::populate(&town, server.addr).await;
    let addr = server.web.unwrap();
    let base = format!("https://127.0.0.1:{}", addr.port());
    let https = Https::new(&town, addr);

    // Logout, in the browser.
    let browser = Browser::start().await;
    browser.open(&format!("{base}/login")).await;
    browser.type_into("person", "zhang").await;
    browser.type_into("password", PASSWORD).await;
    browser.click("login").await;
    let cookie = browser
        .client
        .get_named_cookie(SESSION_COOKIE)
        .await
        .unwrap()
        .value()
        .to_string();
    let login = https.session(cookie.clone()).await;
    browser.click("logout").await;
    assert!(
        browser.url().await.ends_with("/login"),
        "{}",
        browser.url().await
    );
    browser.open(&format!("{base}/v/dongcun")).await;
    assert!(
        browser.url().await.ends_with("/login"),
        "still logged in after logout"
    );
    assert!(
        to_login(&https.get_as(&login, "/v/dongcun").await),
        "the old cookie still works"
    );
    browser.close().await;

    // Revoked: the next request is refused, and the person's device too.
    let db = admin::open(&town.data).unwrap();
    let li = https.login("li", PASSWORD).await;
    assert_eq!(https.get_as(&li, "/v/dongcun").await.status, 200);
    let li_phone = Device::enrol(&town, server.addr, "li").await;
    admin::revoke_person(&db, &PersonId::new("li").unwrap()).unwrap();
    assert!(
        to_login(&https.get_as(&li, "/v/dongcun").await),
        "a revoked person's session"
    );
    assert!(
        li_phone.client.sync().await.is_err(),
        "a revoked person's device syncs"
    );
    let form = https.get("/login", &[]).await;
    let again = https
        .post(
            "/login",
            &[(
                web::LOGIN_COOKIE,
                &form.set_cookie(web::LOGIN_COOKIE).unwrap(),
            )],
            &[
                ("csrf", &form.csrf().unwrap()),
                ("person", "li"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status, 401, "a revoked person logs in again");

    // Another role: the session opened as a cadre of 西村 ends at once.
    let chen = https.login("chen", PASSWORD).await;
    assert_eq!(https.get_as(&chen, "/v/xicun").await.status, 200);
    admin::set_role(
        &db,
        &PersonId::new("chen").unwrap(),
        Role::Secretary,
        Some(&VillageCode::new("xicun").unwrap()),
    )
    .unwrap();
    assert!(
        to_login(&https.get_as(&chen, "/v/xicun").await),
        "a session of the old role"
    );
    server.stop().await;

    // Expiry: a server whose sessions live two seconds.
    let server = TestServer::start_dashboard_configured(&town, |c| {
        c.web.session_lifetime = Duration::from_secs(2);
    })
    .await;
    let https = Https::new(&town, server.web.unwrap());
    let zhang = https.login("zhang", PASSWORD).await;
    assert_eq!(https.get_as(&zhang, "/v/dongcun").await.status, 200);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert!(
        to_login(&https.get_as(&zhang, "/v/dongcun").await),
        "an expired session"
    );
    server.stop().await;
}
