//! A record made with no link reaches another device of the same village once
//! both have synced, and only the devices allowed to read it.

use massline_core::{Record, RecordKind};
use massline_tests::{Device, TestServer, Township, opinion, rectification, study};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_made_offline_reaches_another_device_of_the_village() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let addr = server.addr;
    server.stop().await;

    // No server now: records are saved on the phone all the same.
    let pb = zhang.problem("村务公开不及时");
    let op = zhang
        .client
        .create(opinion("低保评定不公开"), None)
        .unwrap();
    let rc = zhang
        .client
        .create(rectification(pb, "每月公开一次村务"), None)
        .unwrap();
    assert_eq!(zhang.client.status().unwrap().unsent, 3);
    assert!(
        zhang.client.sync().await.is_err(),
        "sync without a server must fail"
    );
    assert_eq!(
        zhang.client.status().unwrap().unsent,
        3,
        "a failed sync loses nothing"
    );

    let server = TestServer::start_at(&town, &addr.to_string()).await;
    let r = zhang.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.refused), (3, 0));
    assert_eq!(zhang.client.status().unwrap().unsent, 0);
    let r = li.client.sync().await.unwrap();
    assert_eq!(r.pulled, 3);

    assert_eq!(
        li.client.get(&op).unwrap().record,
        Some(opinion("低保评定不公开"))
    );
    assert_eq!(
        li.client.get(&rc).unwrap().record,
        Some(rectification(pb, "每月公开一次村务"))
    );
    assert_eq!(li.records(), zhang.records());
    assert_eq!(town.server_records(), zhang.records());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_gets_the_shared_list_but_not_cadre_records() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    zhang.client.create(opinion("意见"), None).unwrap();
    let pb = zhang.problem("问题");
    let rc = zhang
        .client
        .create(rectification(pb, "整改"), None)
        .unwrap();
    let mine = wang
        .client
        .create(study("wang", 40, "十八届三中全会精神"), None)
        .unwrap();
    zhang.client.sync().await.unwrap();
    wang.client.sync().await.unwrap();

    let kinds: Vec<RecordKind> = wang
        .client
        .list(None)
        .unwrap()
        .iter()
        .filter_map(|r| r.record.as_ref().map(Record::kind))
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(wang.client.get(&rc).is_ok());
    assert!(
        wang.client
            .list(Some(RecordKind::Opinion))
            .unwrap()
            .is_empty()
    );

    // The secretary sees the member's study log.
    zhang.client.sync().await.unwrap();
    assert!(zhang.client.get(&mine).is_ok());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_sync_is_one_small_call_however_many_records() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    for i in 0..300 {
        zhang
            .client
            .create(study("wang", 30, &format!("第{i}次学习")), None)
            .unwrap();
    }
    zhang.client.sync().await.unwrap();
    li.client.sync().await.unwrap();
    for device in [&zhang, &li] {
        let idle = device.client.sync().await.unwrap();
        assert_eq!(
            (idle.pushed, idle.pulled, idle.calls),
            (0, 0, 1),
            "{idle:?}"
        );
        assert!(idle.payload_sent + idle.payload_received <= 64, "{idle:?}");
    }
    server.stop().await;
}
