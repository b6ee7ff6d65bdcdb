//! Bad input gets a clear refusal and changes nothing else: garbage, a cut-off
//! change, an unknown scope, an invalid record, another device's actor, an
//! oversized or corrupt message, a wrong token or a used-up enrollment code.

use massline_core::Client;
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, raw, study};
use serde_json::{Value, json};

fn entry(scope: &str, member: &str, minutes: i64, serial: u64) -> Value {
    json!({"kind": "study_entry", "scope": scope, "serial": serial, "member": member,
           "date": "2024-05-01", "material": "mass_line_reading", "topic": "读本",
           "mode": "self_study", "minutes": minutes, "reflection": ""})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_change_is_refused_with_a_reason_and_good_ones_pass() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let zhao = Device::enrol(&town, server.addr, "zhao").await;
    let actor = raw::actor_of(&wang);
    let scope = "v/dongcun/m/wang";

    let good = raw::first_change(&actor, "wang", entry(scope, "wang", 30, 1));
    let garbage = b"this is not an automerge change".to_vec();
    let truncated = {
        let c = raw::first_change(&actor, "wang", entry(scope, "wang", 45, 2));
        c[..c.len() / 2].to_vec()
    };
    let unknown_scope = raw::first_change(&actor, "wang", entry("v/nowhere/m/wang", "wang", 30, 3));
    let negative_minutes = raw::first_change(&actor, "wang", entry(scope, "wang", -5, 4));
    let too_long = raw::first_change(&actor, "wang", entry(scope, "wang", 5000, 5));
    let foreign_actor =
        raw::first_change(&raw::actor_of(&zhao), "wang", entry(scope, "wang", 30, 6));
    let good_too = raw::first_change(&actor, "wang", entry(scope, "wang", 90, 7));

    let (channel, token) = raw::channel_of(&wang).await;
    let answers = raw::push(
        channel,
        &token,
        vec![raw::message(&[
            good,
            garbage,
            truncated,
            unknown_scope,
            negative_minutes,
            too_long,
            foreign_actor,
            good_too,
        ])],
    )
    .await
    .unwrap();
    let a = &answers[0];
    assert_eq!(a.accepted, 2, "{a:?}");
    let got: Vec<(u32, pb::RefusalCode)> = a.refused.iter().map(|r| (r.index, r.code())).collect();
    assert_eq!(
        got,
        [
            (1, pb::RefusalCode::Malformed),
            (2, pb::RefusalCode::Malformed),
            (3, pb::RefusalCode::ForbiddenScope),
            (4, pb::RefusalCode::InvalidRecord),
            (5, pb::RefusalCode::InvalidRecord),
            (6, pb::RefusalCode::WrongActor),
        ]
    );
    assert!(
        a.refused[2].reason.contains("v/nowhere/m/wang"),
        "{}",
        a.refused[2].reason
    );
    assert!(
        a.refused[3].reason.contains("minutes"),
        "{}",
        a.refused[3].reason
    );
    assert!(
        a.refused[4].reason.contains("minutes"),
        "{}",
        a.refused[4].reason
    );
    assert_eq!(town.stored_changes(), 2);

    // The device's own sync is unaffected.
    wang.client
        .create(study("wang", 20, "正常记录"), None)
        .unwrap();
    let r = wang.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.refused), (1, 0));
    assert_eq!(town.stored_changes(), 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_corrupt_messages_end_the_call_and_nothing_else() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let (channel, token) = raw::channel_of(&wang).await;

    let huge = pb::PushRequest {
        frame: vec![7u8; 9 << 20],
        changes: 1,
        dictionary: 0,
    };
    let err = raw::push(channel.clone(), &token, vec![huge])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.code(),
            tonic::Code::OutOfRange | tonic::Code::ResourceExhausted
        ),
        "{err:?}"
    );

    let corrupt = pb::PushRequest {
        frame: b"\x28\xb5\x2f\xfd garbage".to_vec(),
        changes: 1,
        dictionary: 0,
    };
    let err = raw::push(channel.clone(), &token, vec![corrupt])
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");

    let lying = {
        let mut m = raw::message(&[raw::first_change(
            &raw::actor_of(&wang),
            "wang",
            entry("v/dongcun/m/wang", "wang", 30, 1),
        )]);
        m.changes = 3;
        m
    };
    let err = raw::push(channel, &token, vec![lying]).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert_eq!(town.stored_changes(), 0);

    wang.client
        .create(study("wang", 20, "之后照常"), None)
        .unwrap();
    assert_eq!(wang.client.sync().await.unwrap().pushed, 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_or_a_used_code_is_refused() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let (channel, _) = raw::channel_of(&wang).await;
    let err = raw::pull(channel.clone(), "not-a-token", pb::PullRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let err = raw::push(channel, "", vec![]).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);

    let code = town.code("zhao", server.addr);
    let dir = tempfile::tempdir().unwrap();
    let first = Client::open(dir.path().join("a.db")).unwrap();
    first.enroll(&code, None, "a").await.unwrap();
    let second = Client::open(dir.path().join("b.db")).unwrap();
    let err = second.enroll(&code, None, "b").await.unwrap_err();
    assert!(err.to_string().contains("already used"), "{err}");
    assert!(second.identity().unwrap().is_none());

    let damaged = code.replace("pin=", "pin=AA");
    let third = Client::open(dir.path().join("c.db")).unwrap();
    assert!(third.enroll(&damaged, None, "c").await.is_err());
    server.stop().await;
}
