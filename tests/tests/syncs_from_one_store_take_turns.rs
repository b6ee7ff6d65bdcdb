//! A phone may start sync from several places at once (a button, a
//! background job, a screen opening): the store runs them one after another,
//! so the device never holds more calls than the server allows it, every
//! sync succeeds and each change is pushed once.

use std::sync::Arc;

use massline_server::limits::CALLS_PER_DEVICE;
use massline_tests::{Device, TestServer, Township, study};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_syncs_at_once_all_succeed_and_push_each_change_once() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Arc::new(Device::enrol(&town, server.addr, "wang").await);
    for i in 0..20 {
        wang.client
            .create(study("wang", 30, &format!("学习{i}")), None)
            .unwrap();
    }

    let syncs: Vec<_> = (0..CALLS_PER_DEVICE * 3)
        .map(|_| {
            let wang = wang.clone();
            tokio::spawn(async move { wang.client.sync().await })
        })
        .collect();
    let mut pushed = 0;
    for sync in syncs {
        pushed += sync.await.unwrap().expect("every sync succeeds").pushed;
    }
    assert_eq!(pushed, 20, "each change is pushed by exactly one sync");
    assert_eq!(wang.client.status().unwrap().unsent, 0);
}
