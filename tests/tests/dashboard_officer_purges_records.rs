//! The township officer purges a villager's opinion for good from its page
//! on the dashboard, in a real browser: a reason, a confirmation step, then
//! the same purge as `admin purge`, in the officer's name. The audit log
//! (`/purged`) lists it, the opinions ledger no longer has it, its page says
//! who purged it, when and why, and the phone that held it loses it on its
//! next sync. A purge without a reason, and a secretary's post of the form
//! with a valid token of their own, purge nothing.

use massline_core::PersonId;
use massline_tests::browser::Browser;
use massline_tests::web::{Https, PASSWORD, SESSION_COOKIE};
use massline_tests::{Device, TestServer, Township, opinion};

const SECRET: &str = "王大娘说低保评定不公开-PURGE-DASH-0001";
const KEPT: &str = "村东头路灯坏了-KEPT-0002";
const REASON: &str = "王大娘本人申请删除";

fn purges(town: &Township) -> i64 {
    town.server_db()
        .query_row("SELECT count(*) FROM purges", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_officer_purges_an_opinion_and_it_leaves_ledgers_and_phones() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let db = massline_server::admin::open(&town.data).unwrap();
    for who in ["liu", "zhang"] {
        massline_server::admin::set_password(&db, &PersonId::new(who).unwrap(), PASSWORD).unwrap();
    }
    drop(db);
    let id = zhang.client.create(opinion(SECRET), None).unwrap();
    let kept = zhang.client.create(opinion(KEPT), None).unwrap();
    zhang.client.sync().await.unwrap();
    town.wait_for_rows();
    let (hex, kept_hex) = (id.to_hex(), kept.to_hex());
    let addr = server.web.unwrap();
    let base = format!("https://127.0.0.1:{}", addr.port());
    let ledger = format!("{base}/ledgers/opinions?village=dongcun&period=campaign");

    let browser = Browser::start().await;
    browser.log_in(&base, "liu", PASSWORD).await;
    browser.open(&ledger).await;
    let page = browser.source().await;
    assert!(page.contains(&hex) && page.contains(&kept_hex), "{page}");
    browser.open(&format!("{base}/r/{hex}")).await;
    browser.type_into("purge-reason", REASON).await;
    browser.click("purge").await;
    // The confirmation step: nothing is purged yet.
    assert!(
        browser.url().await.ends_with(&format!("/r/{hex}/purge")),
        "{}",
        browser.url().await
    );
    assert!(browser.text_of("purge-warning").await.contains("无法恢复"));
    assert_eq!(purges(&town), 0, "purged before it was confirmed");
    browser.click("purge-confirm").await;
    assert!(browser.url().await.ends_with(&format!("/r/{hex}")));
    assert_eq!(browser.text_of("purged-reason").await, REASON);
    assert!(browser.text_of("purged-by").await.contains("刘干事"));
    assert!(!browser.source().await.contains(SECRET));

    // The audit log lists it: record, kind, village, who, why; no content.
    browser.open(&format!("{base}/purged")).await;
    assert_eq!(browser.text_of(&format!("purged-{hex}")).await, hex);
    let log = browser.source().await;
    assert!(
        log.contains(REASON) && log.contains("东村") && log.contains("刘干事"),
        "{log}"
    );
    assert!(!log.contains(SECRET), "the log shows the record's content");
    // The ledger no longer has it; the other opinion stays.
    browser.open(&ledger).await;
    let page = browser.source().await;
    assert!(!page.contains(&hex) && !page.contains(SECRET), "{page}");
    assert!(page.contains(&kept_hex));
    browser.close().await;

    // The phone that held it loses it on its next sync.
    let r = zhang.client.sync().await.unwrap();
    assert!(r.changed.contains(&id), "{r:?}");
    assert!(zhang.client.get(&id).is_err(), "the phone still holds it");
    assert!(zhang.client.get(&kept).is_ok());

    let https = Https::new(&town, addr);
    let liu = https.login("liu", PASSWORD).await;
    let zhang_web = https.login("zhang", PASSWORD).await;
    let form = |csrf: &str, reason: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("reason".to_string(), reason.to_string()),
            ("confirm".to_string(), "yes".to_string()),
        ]
    };
    let post = |cookie: String, form: Vec<(String, String)>| {
        let https = https.clone();
        let path = format!("/r/{kept_hex}/purge");
        async move {
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            https.post(&path, &[(SESSION_COOKIE, &cookie)], &form).await
        }
    };
    // No reason: refused naming it, nothing purged.
    let answer = post(liu.cookie.clone(), form(&liu.csrf, "  ")).await;
    assert_eq!(answer.status, 422);
    assert!(answer.text().contains("reason"), "{}", answer.text());
    // A secretary, with a valid token of their own: refused, and never shown the form.
    let answer = post(zhang_web.cookie.clone(), form(&zhang_web.csrf, REASON)).await;
    assert_eq!(answer.status, 403, "{}", answer.text());
    assert_eq!(https.get_as(&zhang_web, "/purged").await.status, 403);
    let page = https.get_as(&zhang_web, &format!("/r/{kept_hex}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.text().contains("purge-form"), "{}", page.text());
    // The secretary reads their village's purged record's page: it says so.
    let gone = https.get_as(&zhang_web, &format!("/r/{hex}")).await;
    assert!(gone.text().contains(REASON), "{}", gone.text());
    assert_eq!(purges(&town), 1, "a refused post purged something");
    assert!(zhang.client.sync().await.is_ok());
    assert!(zhang.client.get(&kept).is_ok(), "the kept opinion went");
    server.stop().await;
}
