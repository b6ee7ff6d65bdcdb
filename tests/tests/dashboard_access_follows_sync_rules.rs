//! Who sees what on the dashboard follows the sync's access rules: a village
//! secretary, logged in in a real browser, gets 403 or 404 for every route of
//! the router that shows a village, asked for the other village (and 200 for
//! their own), and no other page of theirs names the other village; the
//! township office sees both; members have no dashboard.

use massline_server::web::ROUTES;
use massline_tests::browser::Browser;
use massline_tests::web::{self, Https, PASSWORD};
use massline_tests::{TestServer, Township};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secretary_sees_only_their_village_on_every_route() {
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
    assert!(
        browser.url().await.contains("/v/dongcun"),
        "a secretary starts at their village"
    );

    let mut tried = 0;
    for route in ROUTES {
        for sample in route.samples {
            if route.method != "GET" {
                // Forms: what they answer a secretary names no other village.
                let (status, body) = browser
                    .fetch_with(
                        sample,
                        serde_json::json!({ "method": "POST", "credentials": "same-origin" }),
                    )
                    .await;
                let body = String::from_utf8_lossy(&body);
                assert!(status != 200 || !body.contains("西村"), "{sample}");
                continue;
            }
            if route.village_scoped {
                let theirs = sample.replace("{village}", "xicun");
                let (status, body) = browser.fetch(&theirs).await;
                assert!(matches!(status, 403 | 404), "{theirs}: {status}");
                let body = String::from_utf8_lossy(&body);
                assert!(
                    !body.contains("西村") && !body.contains("孙党员"),
                    "{theirs} tells of 西村"
                );
                let own = sample.replace("{village}", "dongcun");
                let (status, _) = browser.fetch(&own).await;
                assert_eq!(status, 200, "{own}");
                tried += 1;
            } else {
                let (_, body) = browser.fetch(sample).await;
                let body = String::from_utf8_lossy(&body);
                assert!(
                    !body.contains("西村") && !body.contains("孙党员"),
                    "{sample} tells of 西村"
                );
            }
        }
    }
    assert!(tried >= 6, "only {tried} village routes tried");
    // A village that does not exist is refused the same way, before it is looked up.
    assert_eq!(browser.fetch("/v/nowhere").await.0, 403);
    browser.close().await;

    // The township office sees both villages.
    let https = Https::new(&town, addr);
    let liu = https.login("liu", PASSWORD).await;
    for sample in [
        "/v/xicun",
        "/v/dongcun",
        "/ledgers/study?village=xicun&format=csv",
    ] {
        assert_eq!(https.get_as(&liu, sample).await.status, 200, "{sample}");
    }
    assert_eq!(https.get_as(&liu, "/v/nowhere").await.status, 404);
    let overview = https.get_as(&liu, "/?period=campaign").await.text();
    assert!(overview.contains("东村") && overview.contains("西村"));

    // A member has no dashboard: no password, no login link.
    let db = massline_server::admin::open(&town.data).unwrap();
    let wang = massline_core::PersonId::new("wang").unwrap();
    let err = massline_server::admin::set_password(&db, &wang, PASSWORD).unwrap_err();
    assert!(err.to_string().contains("no dashboard"), "{err}");
    assert!(
        massline_server::admin::login_link(&db, &wang, Some("x:1".into()), web::LINK_VALIDITY)
            .is_err()
    );
    server.stop().await;
}
