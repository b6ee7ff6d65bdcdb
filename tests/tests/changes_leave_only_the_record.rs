//! A change may carry nothing its record does not keep, since whatever it
//! carries travels to every phone that reads the record: an operation
//! overwriting or deleting another of the same change, a list item inserted
//! and deleted in one change, a key that is not a field of the kind (at any
//! depth), a value in another form than the record keeps it, bytes after the
//! operations, a message saying more than who made it. Each is refused with
//! the field or the operation at fault; the honest edit beside them lands.

use automerge::transaction::Transactable;
use automerge::{ROOT, ReadDoc};
use massline_proto::pb;
use massline_tests::raw::{self, HandChange};
use massline_tests::{Device, TestServer, Township, problem, rectification};
use serde_json::json;

#[track_caller]
fn refused(answer: &pb::PushResponse, index: u32, code: pb::RefusalCode, says: &str) {
    let r = answer
        .refused
        .iter()
        .find(|r| r.index == index)
        .unwrap_or_else(|| panic!("change {index} should be refused: {answer:?}"));
    assert_eq!(r.code(), code, "{}", r.reason);
    assert!(r.reason.contains(says), "{}", r.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_record_does_not_keep_is_refused() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let pb_id = li.problem("村务公开不及时");
    let id = li
        .client
        .create(rectification(pb_id, "每月公开一次"), None)
        .unwrap();
    li.client.sync().await.unwrap();
    let big = "废".repeat(2000);

    // A megabyte-sized objective written, then overwritten in the same change.
    let overwritten = raw::edit_ops(&li, &id, |tx, _| {
        tx.put(ROOT, "objective", big.as_str()).unwrap();
        tx.put(ROOT, "objective", "群众满意").unwrap();
        raw::commit_by("li")
    });
    // A progress note inserted and deleted again.
    let inserted_and_deleted = raw::edit_ops(&li, &id, |tx, _| {
        let (_, list) = tx.get(ROOT, "progress").unwrap().unwrap();
        let note = tx.insert_object(&list, 0, automerge::ObjType::Map).unwrap();
        tx.put(&note, "text", big.as_str()).unwrap();
        tx.delete(&list, 0).unwrap();
        raw::commit_by("li")
    });
    // A key that is no field, inside a progress note.
    let stray_key = raw::edit_change(&li, &id, "li", |root| {
        root.insert(
            "progress".into(),
            json!([{"date": "2024-06-01", "text": "已公开", "author": "li", "colour": big}]),
        );
    });
    // A value the record keeps in another form: null for an absent filing,
    // and a serial that is text.
    let null_filing = raw::edit_change(&li, &id, "li", |root| {
        root.insert("filed".into(), json!(null));
    });
    let text_serial = raw::edit_change(&li, &id, "li", |root| {
        root.insert("serial".into(), json!(big));
    });
    // Bytes after the operations, and a message saying more than its author.
    let trailing = {
        let mut h = HandChange::first(&li, "li", Vec::new());
        h.extra = big.as_bytes().to_vec();
        h.bytes()
    };
    let chatty = raw::edit_ops(&li, &id, |tx, _| {
        tx.put(ROOT, "objective", "群众满意").unwrap();
        raw::commit_by("li").with_message(json!({"by": "li", "note": big}).to_string())
    });
    // The honest edit.
    let honest = raw::edit_change(&li, &id, "li", |root| {
        root.insert("objective".into(), json!("群众满意"));
    });

    let answer = raw::push_changes(
        &li,
        &[
            overwritten,
            inserted_and_deleted,
            stray_key,
            null_filing,
            text_serial,
            trailing,
            chatty,
            honest,
        ],
    )
    .await;
    use pb::RefusalCode::{InvalidRecord, Malformed};
    refused(&answer, 0, Malformed, "overwrites or deletes operation 0");
    refused(&answer, 1, Malformed, "overwrites or deletes operation 0");
    refused(&answer, 2, InvalidRecord, "progress[0]");
    refused(&answer, 3, InvalidRecord, "`filed`");
    refused(&answer, 4, InvalidRecord, "`serial`");
    refused(&answer, 5, Malformed, "bytes follow its operations");
    refused(&answer, 6, Malformed, "message");
    assert_eq!(
        (answer.accepted, answer.refused.len()),
        (1, 7),
        "{answer:?}"
    );
    assert!(answer.refused.iter().all(|r| r.index < 7));

    // Nothing of them reached the record or any phone.
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    zhang.client.sync().await.unwrap();
    let r = massline_tests::record_of!(zhang, &id, Rectification);
    assert_eq!((r.objective.as_str(), r.progress.len()), ("群众满意", 0));
    let stored: i64 = town
        .server_db()
        .query_row("SELECT max(length(bytes)) FROM changes", [], |r| r.get(0))
        .unwrap();
    assert!(stored < 2000, "a stored change of {stored} bytes");
    li.still_syncs(problem("路灯不亮")).await;
    server.stop().await;
}
