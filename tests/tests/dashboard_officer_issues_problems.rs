//! The township officer issues a problem to a village from the dashboard
//! (上级点, "issued by superiors"), in a real browser: the problem is made as
//! a change of the officer's own dashboard device, through the intake, and
//! the village's phone gets it on its next sync. A problem without a title,
//! the form without its CSRF token, and a secretary change nothing; the
//! secretary gets 403 for the form and its post.

use massline_core::PersonId;
use massline_core::records::{HowFound, Record};
use massline_tests::browser::Browser;
use massline_tests::web::{Https, PASSWORD, SESSION_COOKIE};
use massline_tests::{Device, TestServer, Township};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_officer_issues_a_problem_that_reaches_the_village() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let db = massline_server::admin::open(&town.data).unwrap();
    for who in ["liu", "zhang"] {
        massline_server::admin::set_password(&db, &PersonId::new(who).unwrap(), PASSWORD).unwrap();
    }
    drop(db);
    let addr = server.web.unwrap();
    let base = format!("https://127.0.0.1:{}", addr.port());

    let browser = Browser::start().await;
    browser.log_in(&base, "liu", PASSWORD).await;
    browser.open(&format!("{base}/issue")).await;
    browser.type_into("title", "村务公开栏长期未更新").await;
    browser.type_into("background", "乡镇督查发现").await;
    browser.click("issue").await;
    let url = browser.url().await;
    let hex = url.rsplit("/r/").next().unwrap().to_string();
    assert_eq!(hex.len(), 32, "{url}");
    let page = browser.source().await;
    assert!(
        page.contains("村务公开栏长期未更新") && page.contains("上级点"),
        "{page}"
    );
    browser.close().await;

    // 东村's phone gets it, issued by liu.
    zhang.client.sync().await.unwrap();
    let id = massline_core::DocId::parse_hex(&hex).unwrap();
    let Some(Record::Problem(p)) = zhang.client.get(&id).unwrap().record else {
        panic!("not a problem");
    };
    assert_eq!(p.how_found, HowFound::SuperiorIssued);
    assert_eq!(p.found_on, Some(chrono::Local::now().date_naive()));
    let history = zhang.client.history(&id).unwrap();
    assert_eq!(history[0].by.as_ref().map(|p| p.as_str()), Some("liu"));

    let https = Https::new(&town, addr);
    let liu = https.login("liu", PASSWORD).await;
    let changes = town.stored_changes();
    let form = |csrf: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("village".to_string(), "dongcun".to_string()),
            ("title".to_string(), "干部作风漂浮".to_string()),
            ("area".to_string(), "mass_service".to_string()),
        ]
    };
    let post = |cookie: String, form: Vec<(String, String)>| {
        let https = https.clone();
        async move {
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            https
                .post("/issue", &[(SESSION_COOKIE, &cookie)], &form)
                .await
        }
    };
    // Without its CSRF token: refused.
    let mut no_token = form("");
    no_token.remove(0);
    assert_eq!(post(liu.cookie.clone(), no_token).await.status, 403);
    // Without a title: refused, naming the field.
    let mut untitled = form(&liu.csrf);
    untitled[2].1 = String::new();
    let answer = post(liu.cookie.clone(), untitled).await;
    assert_eq!(answer.status, 422);
    assert!(answer.text().contains("title"), "{}", answer.text());
    // A secretary: no form, no post.
    let zhang_web = https.login("zhang", PASSWORD).await;
    assert_eq!(https.get_as(&zhang_web, "/issue").await.status, 403);
    assert_eq!(
        post(zhang_web.cookie.clone(), form(&zhang_web.csrf))
            .await
            .status,
        403
    );
    assert_eq!(
        town.stored_changes(),
        changes,
        "a refused act stored a change"
    );
    server.stop().await;
}
