//! A storage failure while a push message is taken in is the server's
//! failure, not the device's: the whole message is aborted (the device gets
//! an error status and nothing of the message is stored), no change is
//! refused, and once the storage works again the device's next sync stores
//! everything. Failing here: a write of the third change of a message (a
//! trigger raising an error), and a lookup the record rules make (a person's
//! row that no longer reads).

use massline_core::Error;
use massline_tests::{Device, TestServer, Township, rectification};

/// The server's database, opened beside the running server to break it.
fn open_writable(town: &Township) -> rusqlite::Connection {
    rusqlite::Connection::open(town.data.join("massline.db")).unwrap()
}

/// The device's sync fails with the server's storage error, and leaves every
/// change unsent and none refused.
async fn sync_is_aborted(device: &Device, changes: u64, why: &str) {
    let err = device
        .client
        .sync()
        .await
        .expect_err("the message is aborted");
    assert!(
        matches!(&err, Error::Refused(m) if m.contains("storage") && m.contains(why)),
        "{err}"
    );
    let status = device.client.status().unwrap();
    assert!(status.refused.is_empty(), "{:?}", status.refused);
    assert_eq!(status.unsent, changes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_failing_mid_message_stores_nothing_and_refuses_nothing() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    for i in 0..5 {
        zhang.problem(&format!("问题{i}"));
    }
    let db = open_writable(&town);
    db.execute_batch(
        "CREATE TRIGGER disk_fails BEFORE INSERT ON changes
         WHEN (SELECT count(*) FROM changes) >= 2
         BEGIN SELECT RAISE(ABORT, 'disk failed'); END;",
    )
    .unwrap();

    sync_is_aborted(&zhang, 5, "disk failed").await;
    assert_eq!(
        town.stored_changes(),
        0,
        "not even the two before the failure"
    );
    assert!(town.server_records().is_empty());

    db.execute_batch("DROP TRIGGER disk_fails").unwrap();
    let r = zhang.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.refused), (5, 0), "{r:?}");
    assert_eq!(town.stored_changes(), 5);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_failing_under_the_rules_stores_nothing_and_refuses_nothing() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    // A measure naming `li` responsible: the rules look `li` up.
    let problem = zhang.problem("村务公开不及时");
    zhang
        .client
        .create(rectification(problem, "每月公开一次"), None)
        .unwrap();
    let db = open_writable(&town);
    db.execute("UPDATE people SET name = x'ff' WHERE id = 'li'", [])
        .unwrap();

    sync_is_aborted(&zhang, 2, "name").await;
    assert_eq!(town.stored_changes(), 0, "not even the problem before it");

    db.execute("UPDATE people SET name = '李委员' WHERE id = 'li'", [])
        .unwrap();
    let r = zhang.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.refused), (2, 0), "{r:?}");
    assert_eq!(town.stored_changes(), 2);
    server.stop().await;
}
