//! The township officer takes in a device's sync bundle on the dashboard
//! (`/bundles`), in a real browser: the file a phone with no link exported
//! is uploaded, its records appear in the ledger, the page says what came of
//! it, and the reply bundle downloaded from it (an attachment named for the
//! device and the day) imports on the phone, emptying its outbox. The same
//! bundle again is said to be one; a tampered bundle shows the refusal's
//! reason and stores nothing; a secretary cannot import; and bundles count
//! against the device's push quota as pushes do.

use massline_core::PersonId;
use massline_core::bundle::HEADER_BYTES;
use massline_server::limits::Limits;
use massline_tests::browser::Browser;
use massline_tests::web::{Https, PASSWORD, SESSION_COOKIE};
use massline_tests::{Device, TestServer, Township, opinion};
use rand::{Rng, SeedableRng};

const TEXT: &str = "村里路灯坏了三个月-BUNDLE-0001";

fn passwords(town: &Township) {
    let db = massline_server::admin::open(&town.data).unwrap();
    for who in ["liu", "zhang"] {
        massline_server::admin::set_password(&db, &PersonId::new(who).unwrap(), PASSWORD).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_uploaded_on_the_dashboard_reaches_the_ledger_and_its_reply_the_phone() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    passwords(&town);
    let device = zhang.client.identity().unwrap().unwrap().device_id;
    let addr = server.web.unwrap();
    let base = format!("https://127.0.0.1:{}", addr.port());

    // No link in the village: the secretary's phone exports a bundle.
    let id = zhang.client.create(opinion(TEXT), None).unwrap();
    let bundle = zhang.client.export_bundle().unwrap().bytes;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zhang.bundle");
    std::fs::write(&file, &bundle).unwrap();

    let browser = Browser::start().await;
    browser.log_in(&base, "liu", PASSWORD).await;
    browser.open(&format!("{base}/bundles")).await;
    browser
        .type_into("bundle-file", file.to_str().unwrap())
        .await;
    browser.click("bundle-import").await;
    assert_eq!(browser.text_of("bundle-accepted").await, "1");
    assert_eq!(browser.text_of("bundle-refused").await, "0");
    let shown = browser.text_of("bundle-device").await;
    assert!(
        shown.contains(&device.to_string()) && shown.contains("张书记"),
        "{shown}"
    );
    // Its record is in the ledger.
    let href = browser
        .client
        .find(fantoccini::Locator::Id("bundle-reply"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let (status, reply) = browser.fetch(&href).await;
    assert_eq!(status, 200);
    browser
        .open(&format!(
            "{base}/ledgers/opinions?village=dongcun&period=campaign"
        ))
        .await;
    let ledger = browser.source().await;
    assert!(
        ledger.contains(TEXT) || ledger.contains(&id.to_hex()),
        "{ledger}"
    );

    // The reply, carried back, imports on the phone as a sync's answers.
    assert_eq!(zhang.outbox().len(), 1);
    let done = zhang.client.import_bundle(&reply).unwrap();
    assert_eq!((done.pushed, done.refused), (1, 0), "{done:?}");
    assert!(zhang.outbox().is_empty(), "{:?}", zhang.outbox());

    // The same bundle again: said to be one, nothing stored twice.
    let stored = town.stored_changes();
    browser.open(&format!("{base}/bundles")).await;
    browser
        .type_into("bundle-file", file.to_str().unwrap())
        .await;
    browser.click("bundle-import").await;
    assert!(browser.text_of("bundle-again").await.contains("此前已导入"));
    assert_eq!(town.stored_changes(), stored);

    // A tampered bundle: the refusal's reason, and nothing stored.
    zhang.client.create(opinion("第二条意见"), None).unwrap();
    let fresh = zhang.client.export_bundle().unwrap().bytes;
    let mut tampered = fresh.clone();
    tampered[HEADER_BYTES + 5] ^= 0x20;
    let bad = dir.path().join("tampered.bundle");
    std::fs::write(&bad, &tampered).unwrap();
    browser.open(&format!("{base}/bundles")).await;
    browser
        .type_into("bundle-file", bad.to_str().unwrap())
        .await;
    browser.click("bundle-import").await;
    let why = browser.text_of("bundle-error").await;
    assert!(
        why.contains(&format!("authentication does not match device {device}")),
        "{why}"
    );
    assert_eq!(town.stored_changes(), stored);
    browser.close().await;

    // The reply is an attachment named for the device and the day.
    let https = Https::new(&town, addr);
    let liu = https.login("liu", PASSWORD).await;
    let answer = https
        .post_file(
            "/bundles",
            &[(SESSION_COOKIE, &liu.cookie)],
            &[("csrf", &liu.csrf)],
            ("bundle", "zhang.bundle", &bundle),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let text = answer.text();
    let at = text.find("/bundles/reply/").unwrap();
    let path: String = text[at..].chars().take_while(|c| *c != '"').collect();
    let download = https.get_as(&liu, &path).await;
    assert_eq!(download.status, 200);
    let day = chrono::Local::now().format("%Y%m%d");
    assert_eq!(
        download.header("content-disposition"),
        Some(
            format!("attachment; filename=\"massline-reply-device-{device}-{day}.bundle\"")
                .as_str()
        )
    );
    assert_eq!(download.body, reply, "the same bundle is answered the same");
    // The tampered bundle by hand: 422, naming why.
    let answer = https
        .post_file(
            "/bundles",
            &[(SESSION_COOKIE, &liu.cookie)],
            &[("csrf", &liu.csrf)],
            ("bundle", "tampered.bundle", &tampered),
        )
        .await;
    assert_eq!(answer.status, 422);
    assert!(answer.text().contains("authentication does not match"));

    // A file larger than any bundle: refused before it is read, saying why.
    let answer = https
        .post_declaring(
            "/bundles",
            &[(SESSION_COOKIE, &liu.cookie)],
            massline_server::web::session::MAX_UPLOAD_BYTES as u64 + 1,
        )
        .await;
    assert_eq!(answer.status, 413);
    assert!(
        answer.text().contains("a sync bundle is at most"),
        "{}",
        answer.text()
    );

    // An upload stalled on its way keeps nobody waiting: another is refused
    // at once, saying why, and once the stalled one is gone uploads go on.
    let stalled = https
        .start_stalled_upload("/bundles", &[(SESSION_COOKIE, &liu.cookie)], 100_000)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let answer = https
        .post_file(
            "/bundles",
            &[(SESSION_COOKIE, &liu.cookie)],
            &[("csrf", &liu.csrf)],
            ("bundle", "tampered.bundle", &tampered),
        )
        .await;
    assert_eq!(answer.status, 503, "{}", answer.text());
    assert!(
        answer.text().contains("另一个同步包正在上传"),
        "{}",
        answer.text()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(stalled);
    let mut after = 0;
    for _ in 0..50 {
        after = https
            .post_file(
                "/bundles",
                &[(SESSION_COOKIE, &liu.cookie)],
                &[("csrf", &liu.csrf)],
                ("bundle", "tampered.bundle", &tampered),
            )
            .await
            .status;
        if after != 503 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(after, 422, "uploads go on once the stalled one is gone");

    // A secretary, with a valid token of their own: no page, no import, no reply.
    let zhang_web = https.login("zhang", PASSWORD).await;
    assert_eq!(https.get_as(&zhang_web, "/bundles").await.status, 403);
    let answer = https
        .post_file(
            "/bundles",
            &[(SESSION_COOKIE, &zhang_web.cookie)],
            &[("csrf", &zhang_web.csrf)],
            ("bundle", "zhang.bundle", &fresh),
        )
        .await;
    assert_eq!(answer.status, 403, "{}", answer.text());
    assert_eq!(https.get_as(&zhang_web, &path).await.status, 403);
    // Without the token: refused.
    let answer = https
        .post_file(
            "/bundles",
            &[(SESSION_COOKIE, &liu.cookie)],
            &[],
            ("bundle", "zhang.bundle", &fresh),
        )
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        town.stored_changes(),
        stored,
        "a refused upload stored a change"
    );
    server.stop().await;
}

/// An opinion whose text is 4,000 random characters (about 7 kB once
/// compressed, compressing poorly).
fn noise(rng: &mut rand::rngs::StdRng) -> massline_core::Record {
    let text: String = (0..4000)
        .map(|_| char::from_u32(0x4E00 + rng.random_range(0..4000)).unwrap())
        .collect();
    opinion(&text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundles_taken_in_on_the_dashboard_count_against_the_push_quota() {
    let town = Township::new();
    let server = TestServer::start_dashboard_configured(&town, |c| {
        c.limits = Limits {
            bytes_per_hour: 12_000,
            ..Limits::default()
        };
    })
    .await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    passwords(&town);
    let https = Https::new(&town, server.web.unwrap());
    let liu = https.login("liu", PASSWORD).await;
    let upload = |bytes: Vec<u8>| {
        let (https, liu) = (https.clone(), liu.clone());
        async move {
            https
                .post_file(
                    "/bundles",
                    &[(SESSION_COOKIE, &liu.cookie)],
                    &[("csrf", &liu.csrf)],
                    ("bundle", "zhang.bundle", &bytes),
                )
                .await
        }
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    // About 7 kB of the 12 kB this hour, by bundle; the reply carried back.
    zhang.client.create(noise(&mut rng), None).unwrap();
    let answer = upload(zhang.client.export_bundle().unwrap().bytes).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let text = answer.text();
    let at = text.find("/bundles/reply/").unwrap();
    let path: String = text[at..].chars().take_while(|c| *c != '"').collect();
    let reply = https.get_as(&liu, &path).await.body;
    zhang.client.import_bundle(&reply).unwrap();
    assert!(zhang.outbox().is_empty());
    let stored = town.stored_changes();
    assert_eq!(stored, 1);
    // Another 7 kB, which alone would fit: the push is refused, the bundle's
    // bytes counted.
    zhang.client.create(noise(&mut rng), None).unwrap();
    let err = zhang.client.sync().await.unwrap_err().to_string();
    assert!(err.contains("push quota"), "{err}");
    assert_eq!(town.stored_changes(), stored);
    // And by bundle too: refused whole, saying why.
    let answer = upload(zhang.client.export_bundle().unwrap().bytes).await;
    assert_eq!(answer.status, 422, "{}", answer.text());
    assert!(
        answer.text().contains("over its hourly push quota"),
        "{}",
        answer.text()
    );
    assert_eq!(
        town.stored_changes(),
        stored,
        "a bundle over the quota stored a change"
    );
    server.stop().await;
}
