//! A pull may name records the township purged for good, and the phone
//! deletes them; a hostile or broken server (here a hand-made one) can make
//! it delete nothing else. A `purged` id that is not 16 bytes, or more ids
//! than one message may name, fails the sync with an error naming the field
//! and leaves the store as it was; an id the phone does not hold, or one it
//! holds in a scope it does not read, deletes nothing; a record of a scope
//! it reads is deleted with its changes.

use massline_core::protocol::MAX_PURGED_PER_MESSAGE;
use massline_core::{Client, DocId};
use massline_proto::pb;
use massline_tests::hostile::{Enrols, HostileServer, pull_answer};
use massline_tests::raw;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn problem_root(scope: &str, serial: u64, title: &str) -> Value {
    json!({"kind": "problem", "scope": scope, "serial": serial, "title": title,
           "how_found": "self_search", "area": "mass_service", "background": "",
           "causes": "", "manifestations": "", "direction": "", "solutions": "",
           "opinions": []})
}

fn record_of(chunk: &[u8]) -> DocId {
    DocId::of_first_change(&automerge::ChangeHash(Sha256::digest(&chunk[8..]).into()))
}

fn naming(purged: Vec<Vec<u8>>) -> Vec<pb::PullResponse> {
    vec![pb::PullResponse {
        through: 3,
        done: true,
        purged,
        ..pb::PullResponse::default()
    }]
}

fn held(phone: &Client) -> Vec<DocId> {
    let mut ids: Vec<DocId> = phone
        .list_all(None)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_deletes_only_purged_records_of_scopes_the_phone_reads() {
    let server = HostileServer::start(Enrols {
        person: "li".into(),
        role: pb::Role::Cadre,
        village: "dongcun".into(),
        scopes: vec!["v/dongcun/shared".into(), "v/dongcun/cadre".into()],
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let phone = Client::open(dir.path().join("phone.db")).unwrap();
    phone.enroll(&server.code(), None, "li").await.unwrap();

    let zhang = automerge::ActorId::from([9u8; 16]);
    let ours = raw::first_change(
        &zhang,
        "zhang",
        problem_root("v/dongcun/shared", 1, "村道坑洼"),
    );
    // A record of a scope the phone does not read, which a broken server sent.
    let theirs = raw::first_change(
        &zhang,
        "zhang",
        problem_root("v/xicun/shared", 2, "路灯不亮"),
    );
    server.answer_next_pull(pull_answer(&[vec![ours.clone(), theirs.clone()]], 2));
    phone.sync().await.unwrap();
    let (ours, theirs) = (record_of(&ours), record_of(&theirs));
    let before = held(&phone);
    assert_eq!(before.len(), 2);

    let too_many = vec![vec![1u8; 16]; MAX_PURGED_PER_MESSAGE + 1];
    for (what, purged, says) in [
        ("an id of 15 bytes", vec![vec![1u8; 15]], "`purged`"),
        ("too many ids", too_many, "more than"),
    ] {
        server.answer_next_pull(naming(purged));
        let e = phone.sync().await.expect_err(what);
        assert!(e.to_string().contains(says), "{what}: {e}");
        assert_eq!(held(&phone), before, "{what}");
    }

    // Unknown, and of a scope it does not read: nothing is deleted.
    server.answer_next_pull(naming(vec![vec![7u8; 16], theirs.as_bytes().to_vec()]));
    phone.sync().await.unwrap();
    assert_eq!(held(&phone), before);

    // Of a scope it reads: deleted.
    server.answer_next_pull(naming(vec![ours.as_bytes().to_vec()]));
    let r = phone.sync().await.unwrap();
    assert_eq!(r.changed, [ours], "{r:?}");
    assert_eq!(held(&phone), [theirs]);
}
