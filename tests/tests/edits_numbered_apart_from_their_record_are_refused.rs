//! Automerge numbers a change's operations on from the last operation of the
//! changes it depends on, and reads each change's operation count back from
//! those numbers when a document loads. An edit numbered otherwise is
//! applied, and its record then never loads again (found by the `edit` fuzz
//! target). The server refuses such an edit, naming the record and the
//! numbers, stores nothing of it, and takes the edit numbered right.
//!
//! An actor's edits to a record build each on the one before, so each is
//! numbered on from its actor's last. An edit numbered on from an earlier
//! change instead, and called the next of its actor, would give two
//! operations one id: Automerge applies it into a document whose operations
//! are out of order (found by `mutated_pushes_leave_the_server_serving`).
//! The server refuses it too.

use automerge::Change;
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, raw, study};
use serde_json::json;

/// `edit` with its operations numbered from `start`, written as Automerge
/// writes it.
fn numbered_from(edit: &[u8], start: u64) -> Vec<u8> {
    let mut expanded = Change::try_from(edit).unwrap().decode();
    expanded.start_op = std::num::NonZeroU64::new(start).unwrap();
    Change::from(expanded).raw_bytes().to_vec()
}

/// `edit` called change `seq` of its actor, written as Automerge writes it.
fn called(edit: &[u8], seq: u64) -> Vec<u8> {
    let mut expanded = Change::try_from(edit).unwrap().decode();
    expanded.seq = seq;
    Change::from(expanded).raw_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_numbered_apart_from_its_record_is_refused() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let id = wang
        .client
        .create(study("wang", 45, "群众路线读本"), None)
        .unwrap();
    wang.client.sync().await.unwrap();
    let stored = town.stored_changes();

    let edit = raw::edit_change(&wang, &id, "wang", |root| {
        root.insert("reflection".into(), json!("体会很深。"));
    });
    let right = Change::try_from(&edit[..]).unwrap().start_op().get();
    // (Numbered lower, its own operations would take the numbers of those it
    // overwrites, refused before this; the model's tests cover it.)
    for start in [right + 1, right + 1000] {
        let answer = raw::push_changes(&wang, &[numbered_from(&edit, start)]).await;
        assert_eq!(answer.accepted, 0, "{answer:?}");
        let r = &answer.refused[0];
        assert_eq!(r.code(), pb::RefusalCode::Malformed, "{}", r.reason);
        assert!(r.reason.contains(&format!("record {id}")), "{}", r.reason);
        assert!(
            r.reason.contains(&format!(
                "its operations are numbered from {start}, but the changes it depends on end at {}",
                right - 1
            )),
            "{}",
            r.reason
        );
        assert_eq!(town.stored_changes(), stored);
    }

    let answer = raw::push_changes(&wang, &[edit]).await;
    assert_eq!(
        (answer.accepted, answer.refused.len()),
        (1, 0),
        "{answer:?}"
    );
    wang.still_syncs(study("wang", 30, "党章")).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_beside_its_actors_last_one_is_refused() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let id = wang
        .client
        .create(study("wang", 45, "群众路线读本"), None)
        .unwrap();
    wang.client.sync().await.unwrap();

    // Two edits of the record as the phone holds it: each builds on the
    // first change, neither on the other, and both are numbered alike.
    let first = raw::edit_change(&wang, &id, "wang", |root| {
        root.insert("reflection".into(), json!("体会很深。"));
    });
    let beside = raw::edit_change(&wang, &id, "wang", |root| {
        root.insert("minutes".into(), json!(50));
    });
    let answer = raw::push_changes(&wang, std::slice::from_ref(&first)).await;
    assert_eq!(answer.accepted, 1, "{answer:?}");
    let stored = town.stored_changes();
    let first = Change::try_from(&first[..]).unwrap();
    let forged = called(&beside, first.seq() + 1);
    let answer = raw::push_changes(&wang, &[forged]).await;
    assert_eq!(answer.accepted, 0, "{answer:?}");
    let r = &answer.refused[0];
    assert_eq!(r.code(), pb::RefusalCode::Malformed, "{}", r.reason);
    assert!(r.reason.contains(&format!("record {id}")), "{}", r.reason);
    assert!(
        r.reason.contains(&format!(
            "its operations are numbered from {}, but its actor's previous change to the record ends at {}",
            first.start_op(),
            first.max_op()
        )),
        "{}",
        r.reason
    );
    assert_eq!(town.stored_changes(), stored);
    wang.still_syncs(study("wang", 30, "党章")).await;
    server.stop().await;
}
