//! The server keeps every change it acknowledged, whether it is stopped and
//! restarted between syncs or killed with SIGKILL in the middle of one.

use std::time::Duration;

use massline_tests::{Device, ServerProcess, Township, opinion, study};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_a_restart_between_syncs() {
    let town = Township::new();
    let server = ServerProcess::spawn(&town, "127.0.0.1:0");
    let addr = server.addr;
    let zhang = Device::enrol(&town, addr, "zhang").await;
    for i in 0..50 {
        zhang
            .client
            .create(study("wang", 30, &format!("学习 {i}")), None)
            .unwrap();
    }
    zhang.client.create(opinion("修路"), None).unwrap();
    zhang.client.sync().await.unwrap();
    server.terminate();

    let server = ServerProcess::spawn(&town, &addr.to_string());
    let li = Device::enrol(&town, addr, "li").await;
    assert_eq!(li.client.sync().await.unwrap().pulled, 51);
    assert_eq!(li.records(), zhang.records());
    assert_eq!(zhang.client.sync().await.unwrap().pulled, 0);
    server.terminate();
    assert_eq!(town.integrity(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_syncs_keeps_what_it_acknowledged() {
    let town = Township::new();
    let mut server = ServerProcess::spawn(&town, "127.0.0.1:0");
    let addr = server.addr;
    let zhang = Device::enrol(&town, addr, "zhang").await;
    let mut made = 0;
    for round in 0..12u64 {
        for i in 0..150 {
            zhang
                .client
                .create(
                    study(
                        "wang",
                        30,
                        &format!("第{round}轮 {i} 十八届三中全会精神学习"),
                    ),
                    None,
                )
                .unwrap();
            made += 1;
        }
        let before = zhang.outbox();
        let syncing = tokio::spawn({
            let path = zhang.path.clone();
            async move {
                let c = massline_core::Client::open(&path).unwrap();
                c.sync().await
            }
        });
        // Kill at a different moment each round: before, during and after the push.
        tokio::time::sleep(Duration::from_millis(round * 7)).await;
        server.kill();
        let _ = syncing.await.unwrap();
        let after = zhang.outbox();
        for hash in before.iter().filter(|h| !after.contains(h)) {
            assert!(
                town.has_change(hash),
                "round {round}: acknowledged change {hash} lost"
            );
        }
        assert_eq!(town.integrity(), "ok", "round {round}");
        server = ServerProcess::spawn(&town, &addr.to_string());
    }
    zhang.client.sync().await.unwrap();
    assert!(zhang.outbox().is_empty());
    assert_eq!(town.stored_changes(), made);
    assert_eq!(town.server_records(), zhang.records());
    server.terminate();
}
