//! Nothing a device sends sizes an allocation or drives unbounded work: the
//! entry count a message declares, how far it decompresses and through what
//! zstd window, how many operations a change's columns declare and which
//! actors they name, how deep it nests objects, which kinds of operation it
//! holds. A hostile device speaking raw gRPC is refused, with a reason, before
//! the work; right after each hostile message the server serves an ordinary
//! device's sync, and the hostile message stored nothing.

use std::time::Duration;

use automerge::legacy::{ElementId, Key, ObjectId, Op, OpId, OpType, SortedVec};
use automerge::{ROOT, ReadDoc, ScalarValue};

use massline_proto::pb;
use massline_tests::raw::{self, HandChange, OBJ_ACTOR, OBJ_COUNTER, null_run, puts_of_null, run};
use massline_tests::{Device, TestServer, Township, problem, study};
use serde_json::{Value, json};
use tonic::transport::Channel;

fn entry(serial: u64) -> Value {
    json!({"kind": "study_entry", "scope": "v/dongcun/m/wang", "serial": serial,
           "member": "wang", "date": "2024-05-01", "material": "mass_line_reading",
           "topic": "读本", "mode": "self_study", "minutes": 30, "reflection": ""})
}

/// A township with the member `wang` (the hostile device) and the cadre `li`
/// (an ordinary one).
async fn town() -> (Township, TestServer, Device, Device) {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    (town, server, wang, li)
}

/// Pushes `messages` by hand; the call must end within 10 s.
async fn push(
    channel: &Channel,
    token: &str,
    messages: Vec<pb::PushRequest>,
) -> Result<Vec<pb::PushResponse>, tonic::Status> {
    tokio::time::timeout(
        Duration::from_secs(10),
        raw::push(channel.clone(), token, messages),
    )
    .await
    .expect("the server answers within 10 s")
}

#[track_caller]
fn refused_whole(answer: Result<Vec<pb::PushResponse>, tonic::Status>, says: &str) {
    let err = answer.expect_err("the message is refused");
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains(says), "{}", err.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_sizes_and_windows_a_message_declares_are_refused_before_they_cost() {
    let (town, server, wang, li) = town().await;
    let (channel, token) = raw::channel_of(&wang).await;
    let good = raw::first_change(&raw::actor_of(&wang), "wang", entry(1));

    // Four billion entries declared, one held: nothing is sized by the count.
    let mut m = raw::message(std::slice::from_ref(&good));
    m.changes = u32::MAX;
    refused_whole(push(&channel, &token, vec![m]).await, "at most 16384");
    li.still_syncs(problem("村道坑洼")).await;

    // A million tiny entries, a 1.4 KB message: refused by its count.
    let tiny = [3u8, 0].repeat(1_000_000);
    let m = raw::packed_message(&tiny, 1_000_000);
    assert!(m.frame.len() < 4096, "{} bytes", m.frame.len());
    refused_whole(push(&channel, &token, vec![m]).await, "entries");
    // Saying 16,384 while holding a million: reading stops at the 16,385th.
    let m = raw::packed_message(&tiny, 16_384);
    refused_whole(push(&channel, &token, vec![m]).await, "holds 16385");
    li.still_syncs(problem("路灯不亮")).await;

    // One entry decompressing to 3 MiB.
    let m = raw::packed_message(&raw::raw_entry(&vec![0u8; 3 << 20]), 1);
    refused_whole(
        push(&channel, &token, vec![m]).await,
        "decompresses to more",
    );
    li.still_syncs(problem("水渠堵塞")).await;

    // A good change in a zstd frame that asks for a 128 MiB window.
    let frame = {
        use std::io::Write;
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        e.set_parameter(zstd::stream::raw::CParameter::WindowLog(27))
            .unwrap();
        e.write_all(&raw::raw_entry(&good)).unwrap();
        e.finish().unwrap()
    };
    let m = pb::PushRequest {
        frame,
        changes: 1,
        dictionary: 0,
    };
    refused_whole(push(&channel, &token, vec![m]).await, "memory");
    li.still_syncs(problem("垃圾乱倒")).await;

    assert_eq!(
        town.stored_changes(),
        4,
        "only the ordinary device's records"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_a_change_declares_are_counted_before_any_is_read() {
    let (town, server, wang, li) = town().await;
    let (channel, token) = raw::channel_of(&wang).await;

    // Four billion operations in 40 bytes of columns.
    let bomb = HandChange::first(&wang, "wang", puts_of_null(1 << 32)).bytes();
    assert!(bomb.len() < 200, "{} bytes", bomb.len());
    // An operation on an object of an actor the change does not list.
    let mut stray = puts_of_null(1);
    stray.splice(
        0..0,
        [(OBJ_ACTOR, run(1, &[5])), (OBJ_COUNTER, run(1, &[1]))],
    );
    let stray = HandChange::first(&wang, "wang", stray).bytes();
    // The same key written twice by one change: one value stays unseen.
    let twice = HandChange::first(&wang, "wang", puts_of_null(2)).bytes();
    // Operations counters past what Automerge takes.
    let mut late = HandChange::first(&wang, "wang", puts_of_null(1));
    late.start_op = u64::MAX - 1;
    let late = late.bytes();
    // Nulls declared in a run of 2^63: still only counted.
    let mut nulls = puts_of_null(1);
    nulls.insert(0, (OBJ_ACTOR, null_run(1 << 63)));
    let nulls = HandChange::first(&wang, "wang", nulls).bytes();
    let good = raw::first_change(&raw::actor_of(&wang), "wang", entry(1));

    let answers = push(
        &channel,
        &token,
        vec![raw::message(&[bomb, stray, twice, late, nulls, good])],
    )
    .await
    .unwrap();
    let a = &answers[0];
    assert_eq!(a.accepted, 1, "{a:?}");
    let reasons: Vec<(u32, &str)> = a
        .refused
        .iter()
        .map(|r| {
            assert_eq!(r.code(), pb::RefusalCode::Malformed, "{}", r.reason);
            (r.index, r.reason.as_str())
        })
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    for (i, says) in [
        "more than 20000 operations",
        "an actor the change does not list",
        "writes the same place as operation 0",
        "counters are out of range",
        "more than 20000 operations",
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(reasons[i].0, i as u32);
        assert!(reasons[i].1.contains(says), "{}", reasons[i].1);
    }
    li.still_syncs(problem("村道坑洼")).await;

    // Changes each within the limit, together over what one message may hold.
    let heavy: Vec<Vec<u8>> = (0..11)
        .map(|i| {
            let mut h = HandChange::first(&wang, "wang", puts_of_null(19_999));
            h.start_op = 1 + i;
            h.bytes()
        })
        .collect();
    let answers = push(&channel, &token, vec![raw::message(&heavy)])
        .await
        .unwrap();
    let last = answers[0].refused.last().unwrap();
    assert_eq!(last.index, 10);
    assert!(
        last.reason.contains("operations of its message"),
        "{}",
        last.reason
    );
    assert_eq!(town.stored_changes(), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_nesting_and_what_records_never_hold_are_refused_before_automerge_reads_them() {
    use automerge::ObjType;
    use automerge::transaction::Transactable;
    let (town, server, wang, li) = town().await;
    let actor = raw::actor_of(&wang);
    let fields = |tx: &mut automerge::transaction::Transaction<'_>, skip: &str| {
        if let Value::Object(m) = entry(1) {
            for (k, v) in m.iter().filter(|(k, _)| *k != skip) {
                let v = match v {
                    Value::String(s) => ScalarValue::Str(s.as_str().into()),
                    Value::Number(n) => ScalarValue::Int(n.as_i64().unwrap()),
                    _ => unreachable!(),
                };
                tx.put(ROOT, k.as_str(), v).unwrap();
            }
        }
    };
    // 15,000 maps inside one another under the reflection: a few kilobytes.
    let deep = raw::first_ops(&actor, |tx| {
        fields(tx, "reflection");
        let mut obj = tx.put_object(ROOT, "reflection", ObjType::Map).unwrap();
        for _ in 0..15_000 {
            obj = tx.put_object(&obj, "a", ObjType::Map).unwrap();
        }
        raw::commit_by("wang")
    });
    // The topic as a text object, and the minutes as a counter: they read
    // back as a string and a number, but are not what a record holds.
    let text = raw::first_ops(&actor, |tx| {
        fields(tx, "topic");
        let t = tx.put_object(ROOT, "topic", ObjType::Text).unwrap();
        tx.splice_text(&t, 0, 0, "读本").unwrap();
        raw::commit_by("wang")
    });
    let counter = raw::first_ops(&actor, |tx| {
        fields(tx, "minutes");
        tx.put(ROOT, "minutes", ScalarValue::counter(30)).unwrap();
        raw::commit_by("wang")
    });
    let answer = raw::push_changes(&wang, &[deep, text, counter]).await;
    assert_eq!(answer.accepted, 0, "{answer:?}");
    let reasons: Vec<&str> = answer.refused.iter().map(|r| r.reason.as_str()).collect();
    assert!(reasons[0].contains("nesting of objects"), "{}", reasons[0]);
    assert!(reasons[1].contains("no Text objects"), "{}", reasons[1]);
    assert!(reasons[2].contains("no counter values"), "{}", reasons[2]);
    li.still_syncs(problem("村道坑洼")).await;
    wang.still_syncs(study("wang", 30, "之后照常")).await;
    assert_eq!(town.stored_changes(), 2);
    server.stop().await;
}

/// An operation putting a string at `key` of `obj`, replacing `pred`.
fn op(obj: ObjectId, key: Key, insert: bool, pred: Vec<OpId>) -> Op {
    Op {
        action: OpType::Put(ScalarValue::Str("x".into())),
        obj,
        key,
        pred: SortedVec::from(pred),
        insert,
    }
}

/// The operation that wrote the root's `key`.
fn at(doc: &automerge::Automerge, key: &str) -> OpId {
    raw::op_id(&doc.get(ROOT, key).unwrap().unwrap().1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_naming_what_the_record_lacks_are_refused_before_automerge_applies_them() {
    let (town, server, _wang, li) = town().await;
    let pb_id = li.problem("村务公开不及时");
    let id = li
        .client
        .create(massline_tests::rectification(pb_id, "每月公开一次"), None)
        .unwrap();
    li.client.sync().await.unwrap();

    type Ops = Box<dyn Fn(&automerge::Automerge) -> Vec<Op>>;
    let cases: Vec<(&str, Ops)> = vec![
        // A list position in a map (the root).
        (
            "its key does not fit",
            Box::new(move |_| vec![op(ObjectId::Root, Key::Seq(ElementId::Head), true, vec![])]),
        ),
        // A value written into a value (the measure's text) as if an object.
        (
            "an object the record does not have",
            Box::new(move |d| {
                vec![op(
                    ObjectId::Id(at(d, "measure")),
                    Key::Map("k".into()),
                    false,
                    vec![],
                )]
            }),
        ),
        // Into an object nobody made.
        (
            "an object the record does not have",
            Box::new(move |d| {
                let mut ghost = at(d, "steps");
                ghost.0 += 1000;
                vec![op(ObjectId::Id(ghost), Key::Map("k".into()), false, vec![])]
            }),
        ),
        // After a list item the list does not have.
        (
            "a list item the list does not have",
            Box::new(move |d| {
                let list = at(d, "responsible");
                let ghost = OpId(999, list.1.clone());
                vec![op(
                    ObjectId::Id(list),
                    Key::Seq(ElementId::Id(ghost)),
                    true,
                    vec![],
                )]
            }),
        ),
        // Replacing the measure while writing the objective.
        (
            "not where it writes",
            Box::new(move |d| {
                vec![op(
                    ObjectId::Root,
                    Key::Map("objective".into()),
                    false,
                    vec![at(d, "measure")],
                )]
            }),
        ),
        // A deletion of nothing.
        (
            "deletes nothing",
            Box::new(move |_| {
                vec![Op {
                    action: OpType::Delete,
                    obj: ObjectId::Root,
                    key: Key::Map("objective".into()),
                    pred: SortedVec::new(),
                    insert: false,
                }]
            }),
        ),
    ];
    let (channel, token) = raw::channel_of(&li).await;
    for (says, ops) in cases {
        let change = raw::hand_ops(&li, &id, "li", ops);
        let answers = push(&channel, &token, vec![raw::message(&[change])]).await;
        let a = &answers.expect("an answer, not a failed call")[0];
        assert_eq!(a.refused.len(), 1, "{says}: {a:?}");
        assert_eq!(
            a.refused[0].code(),
            pb::RefusalCode::Malformed,
            "{}",
            a.refused[0].reason
        );
        assert!(
            a.refused[0].reason.contains(says),
            "{}",
            a.refused[0].reason
        );
    }
    // The record takes its owner's edit, and every stored record loads.
    li.client
        .edit(&id, |r| {
            if let massline_core::Record::Rectification(x) = r {
                x.objective = "群众满意".into();
            }
            Ok(())
        })
        .unwrap();
    let r = li.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.refused), (1, 0));
    let db = massline_server::admin::open(&town.data).unwrap();
    let rebuilt = massline_server::admin::rebuild_rows(&db).unwrap();
    assert!(!rebuilt.contains("do not read"), "{rebuilt}");
    li.still_syncs(problem("路灯不亮")).await;
    server.stop().await;
}
