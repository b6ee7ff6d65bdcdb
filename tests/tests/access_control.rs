//! Roles decide scopes: a member reads village notices and their own study log
//! and writes only that log; nobody reads another village; a revoked device is
//! refused at once. The server enforces this whatever a device sends.

use massline_core::protocol::scopes_digest;
use massline_core::{Error, RecordKind};
use massline_proto::pb;
use massline_server::registry;
use massline_tests::{Device, TestServer, Township, opinion, raw, rectification, study};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_cannot_read_another_members_log_or_another_village() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let zhao = Device::enrol(&town, server.addr, "zhao").await;
    let chen = Device::enrol(&town, server.addr, "chen").await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    wang.client
        .create(study("wang", 60, "王的学习"), None)
        .unwrap();
    zhang.client.create(opinion("东村的意见"), None).unwrap();
    let pb = zhang.problem("东村的问题");
    zhang
        .client
        .create(rectification(pb, "东村的整改"), None)
        .unwrap();
    wang.client.sync().await.unwrap();
    zhang.client.sync().await.unwrap();

    zhao.client.sync().await.unwrap();
    let mut kinds: Vec<_> = zhao
        .client
        .list(None)
        .unwrap()
        .into_iter()
        .map(|r| r.kind)
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [Some(RecordKind::Problem), Some(RecordKind::Rectification)],
        "a member sees only the shared lists"
    );

    chen.client.sync().await.unwrap();
    assert!(
        chen.client.list(None).unwrap().is_empty(),
        "西村 sees nothing of 东村"
    );

    // Asking by hand for wang's log, with zhao's own scope digest, gets nothing of it.
    let (channel, token) = raw::channel_of(&zhao).await;
    let mine = ["t/shared", "v/dongcun/m/zhao", "v/dongcun/shared"];
    let answers = raw::pull(
        channel.clone(),
        &token,
        pb::PullRequest {
            common: 0,
            scopes_digest: scopes_digest(mine),
            cursors: vec![pb::ScopeCursor {
                scope: "v/dongcun/m/wang".into(),
                seq: 0,
            }],
            ..pb::PullRequest::default()
        },
    )
    .await
    .unwrap();
    let entries: u32 = answers.iter().map(|a| a.entries).sum();
    assert_eq!(
        entries, 2,
        "only the shared problem and rectification: {answers:?}"
    );
    // Claiming wang's scopes only earns the list of zhao's own.
    let answers = raw::pull(
        channel,
        &token,
        pb::PullRequest {
            common: 0,
            scopes_digest: scopes_digest(["v/dongcun/m/wang", "v/dongcun/shared"]),
            cursors: vec![],
            ..pb::PullRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(answers.len(), 1);
    let mut scopes = answers[0].scopes.clone();
    scopes.sort();
    assert_eq!(scopes, mine);
    assert_eq!(answers[0].entries, 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_cannot_write_a_cadre_record_or_anothers_log() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;

    // The phone refuses before anything is saved.
    assert!(matches!(
        wang.client.create(opinion("x"), None),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        wang.client.create(study("zhao", 30, "替别人记"), None),
        Err(Error::Forbidden(_))
    ));
    assert!(wang.client.list(None).unwrap().is_empty());

    // A device that sends them anyway is refused by the server.
    let actor = raw::actor_of(&wang);
    let opinion_doc = raw::first_change(
        &actor,
        "wang",
        json!({"kind": "opinion", "scope": "v/dongcun/cadre", "serial": 1,
               "date": "2024-05-01", "channel": "household_visit", "source": "poor",
               "area": "village_affairs", "four_winds": "none", "text": "伪造",
               "anonymous": false, "status": "received"}),
    );
    let other_log = raw::first_change(
        &actor,
        "wang",
        json!({"kind": "study_entry", "scope": "v/dongcun/m/zhao", "serial": 2,
               "member": "zhao", "date": "2024-05-01", "material": "other", "topic": "t",
               "mode": "self_study", "minutes": 30, "reflection": ""}),
    );
    let (channel, token) = raw::channel_of(&wang).await;
    let answers = raw::push(
        channel,
        &token,
        vec![raw::message(&[opinion_doc, other_log])],
    )
    .await
    .unwrap();
    assert_eq!(answers[0].accepted, 0);
    let codes: Vec<_> = answers[0].refused.iter().map(|r| r.code()).collect();
    assert_eq!(
        codes,
        [
            pb::RefusalCode::ForbiddenScope,
            pb::RefusalCode::ForbiddenScope
        ]
    );
    assert_eq!(town.stored_changes(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_of_anothers_log_among_the_members_own_is_refused_alone() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let actor = raw::actor_of(&wang);
    let log = |serial: u32, member: &str| {
        raw::first_change(
            &actor,
            "wang",
            json!({"kind": "study_entry", "scope": format!("v/dongcun/m/{member}"),
                   "serial": serial, "member": member, "date": "2024-05-01",
                   "material": "other", "topic": "t", "mode": "self_study",
                   "minutes": 30, "reflection": ""}),
        )
    };
    // The scope a message's records name is checked once for all of them
    // that name it, and again for each record naming another.
    let (channel, token) = raw::channel_of(&wang).await;
    let answers = raw::push(
        channel,
        &token,
        vec![raw::message(&[
            log(1, "wang"),
            log(2, "zhao"),
            log(3, "wang"),
            log(4, "zhao"),
        ])],
    )
    .await
    .unwrap();
    assert_eq!(answers[0].accepted, 2);
    let codes: Vec<_> = answers[0].refused.iter().map(|r| r.code()).collect();
    assert_eq!(
        codes,
        [
            pb::RefusalCode::ForbiddenScope,
            pb::RefusalCode::ForbiddenScope
        ]
    );
    for r in &answers[0].refused {
        assert!(
            r.reason.contains("may not write scope v/dongcun/m/zhao"),
            "{}",
            r.reason
        );
    }
    assert_eq!(town.stored_changes(), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_refused_at_once() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    li.client.sync().await.unwrap();
    let device = li.client.identity().unwrap().unwrap().device_id;
    let db = massline_server::admin::open(&town.data).unwrap();
    db.write(|tx| registry::revoke(tx, device)).unwrap();

    li.problem("丢失的手机上的记录");
    let err = li.client.sync().await.unwrap_err();
    assert!(
        matches!(err, Error::Refused(ref m) if m.contains("revoked")),
        "{err}"
    );
    assert_eq!(
        li.client.status().unwrap().unsent,
        1,
        "nothing on the phone is lost"
    );
    assert_eq!(town.stored_changes(), 0);
    assert!(li.client.list(Some(RecordKind::Problem)).unwrap().len() == 1);
    server.stop().await;
}
