//! The township officer acknowledges a filing from the dashboard, in a real
//! browser: the measure a secretary's phone submitted is in the filing
//! inbox, the officer's click acknowledges it as a change of their own
//! (their dashboard device's actor, through the intake), it leaves the
//! inbox, and the secretary's phone gets it on its next sync, filed by the
//! officer today. A form without its CSRF token, a measure not submitted,
//! and a secretary change nothing; the secretary gets 403 for the inbox and
//! its form.

use massline_core::PersonId;
use massline_core::records::{Filing, Record};
use massline_tests::browser::Browser;
use massline_tests::web::{self, Https, PASSWORD, SESSION_COOKIE};
use massline_tests::{Device, TestServer, Township, rectification};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_officer_acknowledges_a_filing_and_the_phone_gets_it() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let p = zhang.problem("村务公开不规范");
    let measure = web::submitted_measure(&zhang, p, "每月公开村务");
    let other = web::submitted_measure(&zhang, p, "建立值班制度");
    let not_submitted = zhang
        .client
        .create(rectification(p, "一站式代办"), None)
        .unwrap();
    let r = zhang.client.sync().await.unwrap();
    assert_eq!(r.refused, 0, "{r:?}");
    town.wait_for_rows();
    let db = massline_server::admin::open(&town.data).unwrap();
    for who in ["liu", "zhang"] {
        massline_server::admin::set_password(&db, &PersonId::new(who).unwrap(), PASSWORD).unwrap();
    }
    drop(db);
    let addr = server.web.unwrap();
    let base = format!("https://127.0.0.1:{}", addr.port());

    // 刘干事 sees both submitted measures, by village, and acknowledges one.
    let browser = Browser::start().await;
    browser.log_in(&base, "liu", PASSWORD).await;
    browser.open(&format!("{base}/filings")).await;
    let row = browser
        .text_of(&format!("waiting-{}", measure.to_hex()))
        .await;
    assert!(
        row.contains("东村") && row.contains("每月公开村务"),
        "{row}"
    );
    assert!(row.contains("张书记"), "who submitted it: {row}");
    assert!(
        !browser.source().await.contains("一站式代办"),
        "not submitted"
    );
    browser.click(&format!("ack-{}", measure.to_hex())).await;
    assert!(browser.text_of("notice").await.contains("已确认备案"));
    let page = browser.source().await;
    assert!(
        !page.contains(&format!("waiting-{}", measure.to_hex())),
        "still listed"
    );
    assert!(page.contains(&format!("waiting-{}", other.to_hex())));
    let shot = browser.screenshot("filings").await;
    eprintln!("filings: {}", shot.display());
    browser.close().await;

    // The secretary's phone gets the officer's change on its next sync.
    zhang.client.sync().await.unwrap();
    let Some(Record::Rectification(m)) = zhang.client.get(&measure).unwrap().record else {
        panic!("not a measure");
    };
    let today = chrono::Local::now().date_naive();
    assert_eq!(
        m.filed,
        Some(Filing {
            date: today,
            acknowledged_by: PersonId::new("liu").unwrap(),
        })
    );
    let history = zhang.client.history(&measure).unwrap();
    let by: Vec<_> = history.iter().filter_map(|h| h.by.as_ref()).collect();
    assert_eq!(by.last().map(|p| p.as_str()), Some("liu"), "{by:?}");
    // Made with the actor of liu's own dashboard device.
    let actor: Vec<u8> = town
        .server_db()
        .query_row(
            "SELECT actor FROM devices WHERE person = 'liu' AND dashboard = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(history.last().unwrap().actor.to_bytes(), &actor[..]);

    let https = Https::new(&town, addr);
    let liu = https.login("liu", PASSWORD).await;
    let changes = town.stored_changes();
    // Without its CSRF token the form changes nothing.
    let path = format!("/filings/{}", other.to_hex());
    let answer = https
        .post(&path, &[(SESSION_COOKIE, &liu.cookie)], &[])
        .await;
    assert_eq!(answer.status, 403);
    // A measure not submitted is refused, naming the record and the field.
    let answer = https
        .post(
            &format!("/filings/{}", not_submitted.to_hex()),
            &[(SESSION_COOKIE, &liu.cookie)],
            &[("csrf", &liu.csrf)],
        )
        .await;
    assert_eq!(answer.status, 422);
    let text = answer.text();
    assert!(
        text.contains(&not_submitted.to_hex()) && text.contains("submitted"),
        "{text}"
    );

    // A secretary has no inbox and cannot post its form.
    let zhang_web = https.login("zhang", PASSWORD).await;
    assert_eq!(https.get_as(&zhang_web, "/filings").await.status, 403);
    let answer = https
        .post(
            &path,
            &[(SESSION_COOKIE, &zhang_web.cookie)],
            &[("csrf", &zhang_web.csrf)],
        )
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        town.stored_changes(),
        changes,
        "a refused act stored a change"
    );
    let inbox = https.get_as(&liu, "/filings").await.text();
    assert!(inbox.contains(&format!("waiting-{}", other.to_hex())));

    // Once liu's dashboard device is revoked, liu's acts are refused, as a
    // lost phone's changes are, and no new device is made for them.
    let db = massline_server::admin::open(&town.data).unwrap();
    db.write(|tx| {
        let id: i64 = tx.query_row(
            "SELECT id FROM devices WHERE person = 'liu' AND dashboard = 1",
            [],
            |r| r.get(0),
        )?;
        massline_server::registry::revoke(tx, id as u64)
    })
    .unwrap();
    let answer = https
        .post(
            &path,
            &[(SESSION_COOKIE, &liu.cookie)],
            &[("csrf", &liu.csrf)],
        )
        .await;
    assert_eq!(answer.status, 422);
    assert!(answer.text().contains("revoked"), "{}", answer.text());
    assert_eq!(
        town.stored_changes(),
        changes,
        "a revoked device's act was stored"
    );
    server.stop().await;
}
