//! Each actor's changes to a record are numbered 1, 2, 3, …: Automerge
//! asserts it, and a change numbered past its actor's next made it panic
//! inside the server's intake (found by
//! mutated_pushes_leave_the_server_serving, a byte of an edit's header
//! flipped). The server refuses such an edit, naming the record and the
//! numbers, stores nothing of it, and takes the edit numbered right.

use automerge::Change;
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, raw, study};
use serde_json::json;

/// `edit` numbered `seq` instead, written as Automerge writes it.
fn numbered(edit: &[u8], seq: u64) -> Vec<u8> {
    let mut expanded = Change::try_from(edit).unwrap().decode();
    expanded.seq = seq;
    Change::from(expanded).raw_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_numbered_past_its_actors_next_is_refused() {
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
    for seq in [3, 1 << 40] {
        let answer = raw::push_changes(&wang, &[numbered(&edit, seq)]).await;
        assert_eq!(answer.accepted, 0, "{answer:?}");
        let r = &answer.refused[0];
        assert_eq!(r.code(), pb::RefusalCode::Malformed, "{}", r.reason);
        assert!(r.reason.contains(&format!("record {id}")), "{}", r.reason);
        assert!(
            r.reason.contains(&format!(
                "it is change {seq} of its actor, but the record has 1 of that actor's"
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
