//! A sync reports which records the pulled changes changed on the device, so
//! a screen can refresh just those: each once, and none on an idle sync.

use massline_core::Record;
use massline_core::records::RectificationStatus;
use massline_tests::{Device, TestServer, Township, opinion, rectification};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_lists_each_record_the_pull_changed_once() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;

    let op = zhang
        .client
        .create(opinion("低保评定不公开"), None)
        .unwrap();
    let pb = zhang.problem("村务公开不及时");
    let rc = zhang
        .client
        .create(rectification(pb, "每月公开一次村务"), None)
        .unwrap();
    zhang
        .client
        .edit(&rc, |r| {
            if let Record::Rectification(r) = r {
                r.advance(
                    RectificationStatus::InProgress,
                    chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
                );
            }
            Ok(())
        })
        .unwrap();
    let pushed = zhang.client.sync().await.unwrap();
    assert!(
        pushed.changed.is_empty(),
        "the device's own changes are not news to it"
    );

    let mut expected = vec![op, pb, rc];
    expected.sort();
    let first = li.client.sync().await.unwrap();
    assert_eq!(first.pulled, 4, "three records, one of them edited");
    assert_eq!(first.changed, expected, "each changed record once");

    let idle = li.client.sync().await.unwrap();
    assert!(idle.changed.is_empty(), "{:?}", idle.changed);
    server.stop().await;
}
