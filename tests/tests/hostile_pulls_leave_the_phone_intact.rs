//! The phone holds what it pulls to the limits the server holds a device's
//! changes to, before Automerge sees it. A hostile or broken server (here a
//! hand-made one) answering a pull with a change declaring four billion
//! operations, maps nested 15,000 deep, an edit writing into an object its
//! record lacks, an edit numbered past its actor's next, a message declaring
//! four billion entries, a whole saved record, more operations in one
//! message than one may hold, or a chunk whose checksum is wrong fails the
//! sync with an error naming the record and what is wrong; that message
//! moves no cursor and leaves the store as it was, a good message before it
//! in the same answer is kept, and the phone syncs as before once the server
//! answers properly.

use std::num::NonZeroU64;
use std::path::Path;

use automerge::legacy::{Key, ObjectId, Op, OpId, OpType, SortedVec};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, Change, ChangeHash, ExpandedChange, ObjType, ROOT};
use massline_core::packing::Packer;
use massline_core::protocol::Seq;
use massline_core::{Client, DocId, Scope};
use massline_proto::pb;
use massline_tests::hostile::{Enrols, HostileServer, pull_answer};
use massline_tests::raw::{self, HandChange, puts_of_null};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn problem_root(serial: u64, title: &str) -> Value {
    json!({"kind": "problem", "scope": "v/dongcun/shared", "serial": serial, "title": title,
           "how_found": "self_search", "area": "mass_service", "background": "",
           "causes": "", "manifestations": "", "direction": "", "solutions": "",
           "opinions": []})
}

fn hash_of(chunk: &[u8]) -> ChangeHash {
    ChangeHash(Sha256::digest(&chunk[8..]).into())
}

fn record_of(chunk: &[u8]) -> DocId {
    DocId::of_first_change(&hash_of(chunk))
}

/// Everything in the phone's store that a pull could change: each record's
/// row and document, the changes it knows, its cursors, its outbox.
fn store_of(client: &Client, path: &Path) -> (Vec<String>, i64, Vec<(Scope, Seq)>, u64) {
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let docs = db
        .prepare("SELECT hex(doc_id) || hex(state) || coalesce(record, '') FROM documents ORDER BY doc_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let changes = db
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .unwrap();
    let status = client.status().unwrap();
    (docs, changes, status.cursors, status.unsent)
}

/// Columns of `n` operations setting `n` different root keys to null.
fn null_fields(record: u64, n: i64) -> Vec<(u32, Vec<u8>)> {
    let mut keys = Vec::new();
    raw::sleb(&mut keys, -n);
    for k in 0..n {
        let key = format!("r{record}k{k}");
        raw::uleb(&mut keys, key.len() as u64);
        keys.extend_from_slice(key.as_bytes());
    }
    let mut columns = puts_of_null(n);
    columns[0] = (raw::KEY_STR, keys);
    columns
}

/// Change `seq` of `actor` to the record whose first change is `first`,
/// holding `op`: what no Automerge transaction makes when `op` writes into an
/// object nobody made or `seq` is not the actor's next.
fn hand_edit(actor: &ActorId, first: &[u8], seq: u64, op: Op) -> Vec<u8> {
    let base = Change::try_from(first).unwrap();
    Change::from(ExpandedChange {
        operations: vec![op],
        actor_id: actor.clone(),
        hash: None,
        seq,
        start_op: NonZeroU64::new(base.max_op() + 1).unwrap(),
        time: 1_700_000_000,
        message: Some(json!({"by": "zhang"}).to_string()),
        deps: vec![base.hash()],
        extra_bytes: Vec::new(),
        author: None,
    })
    .raw_bytes()
    .to_vec()
}

/// A put of `key` into `obj`, replacing nothing.
fn put(obj: ObjectId, key: &str) -> Op {
    Op {
        action: OpType::Put("x".into()),
        obj,
        key: Key::Map(key.into()),
        pred: SortedVec::new(),
        insert: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_outside_the_limits_fail_naming_the_record_and_change_nothing() {
    let server = HostileServer::start(Enrols {
        person: "li".into(),
        role: pb::Role::Cadre,
        village: "dongcun".into(),
        scopes: vec!["v/dongcun/shared".into(), "v/dongcun/cadre".into()],
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let phone = Client::open(&path).unwrap();
    phone.enroll(&server.code(), None, "li").await.unwrap();

    let zhang = ActorId::from([9u8; 16]);
    let first = raw::first_change(&zhang, "zhang", problem_root(1, "村道坑洼"));
    server.answer_next_pull(pull_answer(&[vec![first.clone()]], 1));
    let r = phone.sync().await.unwrap();
    assert_eq!((r.pulled, r.through), (1, Seq(1)), "{r:?}");

    let hand = |start_op: u64, columns| {
        HandChange {
            actor: zhang.clone(),
            start_op,
            message: json!({"by": "zhang"}).to_string(),
            columns,
            extra: Vec::new(),
        }
        .bytes()
    };
    let bomb = hand(1, puts_of_null(1 << 32));
    let deep = raw::first_ops(&zhang, |tx| {
        let mut obj = tx.put_object(ROOT, "a", ObjType::Map).unwrap();
        for _ in 0..15_000 {
            obj = tx.put_object(&obj, "a", ObjType::Map).unwrap();
        }
        raw::commit_by("zhang")
    });
    let ghost = hand_edit(
        &zhang,
        &first,
        2,
        put(ObjectId::Id(OpId(999, zhang.clone())), "k"),
    );
    // Automerge asserts each actor's changes are numbered 1, 2, 3, … and
    // panics on a gap.
    let skipping = hand_edit(&zhang, &first, 5, put(ObjectId::Root, "note"));
    // Eleven records of 19,999 null fields each: each within the limit,
    // together over what one message may hold.
    let heavy: Vec<Vec<u8>> = (0..11).map(|i| hand(1, null_fields(i, 19_999))).collect();
    let second = raw::first_change(&zhang, "zhang", problem_root(2, "路灯不亮"));
    let mut counted = pull_answer(&[vec![second.clone()]], 2);
    counted[0].entries = u32::MAX;
    let saved = {
        let mut doc = Automerge::new();
        doc.apply_changes([Change::try_from(&second[..]).unwrap()])
            .unwrap();
        doc.save()
    };
    let mut packer = Packer::new(3);
    packer.push_document(&record_of(&second), &saved);
    let (frame, entries) = packer.flush();
    let whole = vec![pb::PullResponse {
        frame,
        entries,
        through: 2,
        done: true,
        ..pb::PullResponse::default()
    }];
    // A chunk the packer sends as it is (it rebuilds a plain change's checksum).
    let mut wrong = second.clone();
    wrong[4] ^= 0xff;
    let corrupt = vec![pb::PullResponse {
        frame: zstd::bulk::compress(&raw::raw_entry(&wrong), 3).unwrap(),
        entries: 1,
        through: 2,
        done: true,
        ..pb::PullResponse::default()
    }];

    let id = record_of(&first);
    let cases: Vec<(&str, Vec<pb::PullResponse>, Option<DocId>, &str)> = vec![
        (
            "four billion operations",
            pull_answer(&[vec![bomb.clone()]], 2),
            Some(record_of(&bomb)),
            "more than 20000 operations",
        ),
        (
            "nesting 15,000 deep",
            pull_answer(&[vec![deep.clone()]], 2),
            Some(record_of(&deep)),
            "the nesting of objects",
        ),
        (
            "an object the record lacks",
            pull_answer(&[vec![ghost]], 2),
            Some(id),
            "writes into an object the record does not have",
        ),
        (
            "a change numbered past its actor's next",
            pull_answer(&[vec![skipping]], 2),
            Some(id),
            "it is change 5 of its actor, but the record has 1 of that actor's",
        ),
        (
            "four billion entries declared",
            counted,
            None,
            "at most 16384 are allowed",
        ),
        (
            "a whole record",
            whole,
            Some(record_of(&second)),
            "the server sent the whole record",
        ),
        (
            "operations of a message",
            pull_answer(std::slice::from_ref(&heavy), 2),
            Some(record_of(&heavy[10])),
            "the operations of its message",
        ),
        (
            "a wrong checksum",
            corrupt,
            Some(record_of(&wrong)),
            "checksum does not match",
        ),
    ];
    for (what, answer, record, says) in cases {
        let before = store_of(&phone, &path);
        server.answer_next_pull(answer);
        let err = tokio::time::timeout(std::time::Duration::from_secs(20), phone.sync())
            .await
            .expect("the phone answers within 20 s")
            .expect_err(what)
            .to_string();
        assert!(err.contains(says), "{what}: {err}");
        if let Some(id) = record {
            assert!(err.contains(&format!("record {id}")), "{what}: {err}");
        }
        assert_eq!(store_of(&phone, &path), before, "{what}: the store changed");
        assert_eq!(phone.status().unwrap().last_error, Some(err));
    }
    // Every pull after the first asked from where the phone stood.
    let asked: Vec<u64> = server.pull_requests().iter().map(|r| r.common).collect();
    assert_eq!(asked, [0, 1, 1, 1, 1, 1, 1, 1, 1]);

    // A good message, then a bad one: the first is kept, with its cursor.
    server.answer_next_pull(pull_answer(&[vec![second.clone()], vec![bomb]], 2));
    let err = phone
        .sync()
        .await
        .expect_err("the second message")
        .to_string();
    assert!(err.contains("more than 20000 operations"), "{err}");
    assert!(phone.get(&record_of(&second)).unwrap().record.is_some());
    let (_, _, cursors, _) = store_of(&phone, &path);
    assert!(cursors.iter().all(|(_, seq)| *seq == Seq(2)), "{cursors:?}");

    // Answered properly, the phone syncs as before.
    let third = raw::first_change(&zhang, "zhang", problem_root(3, "水渠堵塞"));
    server.answer_next_pull(pull_answer(&[vec![third.clone()]], 3));
    let r = phone.sync().await.unwrap();
    assert_eq!((r.pulled, r.through), (1, Seq(3)), "{r:?}");
    assert_eq!(phone.list(None).unwrap().len(), 3);
}
