//! A push's answered changes leave the device's outbox beside the rest of
//! the sync, which does not wait for them: once the sync returns none of
//! them waits, a sync started at once sends none of them again, and soon
//! the outbox holds none of them at all.

use std::time::{Duration, Instant};

use massline_tests::{Device, TestServer, Township, study};

const RECORDS: u32 = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_changes_leave_the_outbox_beside_the_sync() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let record = |n: u32| {
        wang.client
            .create(study("wang", 30 + n, "群众路线读本"), None)
            .unwrap();
    };
    (0..RECORDS).for_each(record);
    let report = wang.client.sync().await.unwrap();
    assert_eq!(report.pushed, u64::from(RECORDS), "{report:?}");
    assert!(wang.outbox().is_empty(), "answered changes wait no more");
    assert_eq!(wang.client.status().unwrap().unsent, 0);
    // With no other sync to take them out, they leave.
    let rows = || {
        wang.store_db()
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while rows() > 0 {
        assert!(
            Instant::now() < deadline,
            "{} answered changes are still in the outbox",
            rows()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A sync started at once, whether or not they have left yet, sends
    // none of them again.
    (RECORDS..2 * RECORDS).for_each(record);
    let report = wang.client.sync().await.unwrap();
    assert_eq!(report.pushed, u64::from(RECORDS), "{report:?}");
    let again = wang.client.sync().await.unwrap();
    assert_eq!(again.pushed, 0, "{again:?}");
    assert_eq!(town.stored_changes(), i64::from(2 * RECORDS));
    assert!(wang.outbox().is_empty());
}
