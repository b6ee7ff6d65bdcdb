//! A record made and edited offline reaches the server with its whole history
//! in one push message; the server judges its edits ahead, on the cores, and
//! keeps a judgement made ahead only where what it assumed came true.

use automerge::Automerge;
use massline_core::Record;
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, raw, study};
use serde_json::{Map, Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_made_and_edited_offline_arrive_as_their_last_edits() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    // Enough records for the judging ahead to run on more than one thread.
    for n in 0..12u32 {
        let id = wang
            .client
            .create(study("wang", 30 + n, "群众路线读本"), None)
            .unwrap();
        for edit in 1..=4u32 {
            wang.client
                .edit(&id, |r| {
                    if let Record::StudyEntry(s) = r {
                        s.minutes += edit;
                        s.reflection.push_str(&format!("，第{edit}次补充"));
                    }
                    Ok(())
                })
                .unwrap();
        }
    }
    let report = wang.client.sync().await.unwrap();
    assert_eq!(report.pushed, 60, "{report:?}");
    assert!(wang.outbox().is_empty());
    let on_server = town.server_records();
    assert_eq!(on_server.len(), 12);
    assert_eq!(
        on_server,
        wang.records(),
        "the server holds each record's last edit"
    );
    let minutes: Vec<i64> = on_server
        .iter()
        .map(|(_, r)| r["minutes"].as_i64().unwrap())
        .collect();
    assert!(
        minutes.iter().all(|&m| (40..52).contains(&m)),
        "{minutes:?}"
    );
}

/// A message's changes are stored many to a statement: each still gets the
/// next number in the order the device sent them, and each record is
/// written at its last change's number (where the typed rows and the pulls
/// of other devices pick it up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messages_changes_are_numbered_in_the_order_they_were_sent() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    for n in 0..120u32 {
        let id = wang
            .client
            .create(study("wang", 30 + n % 60, "群众路线读本"), None)
            .unwrap();
        if n % 3 == 0 {
            wang.client
                .edit(&id, |r| {
                    if let Record::StudyEntry(s) = r {
                        s.minutes += 1;
                    }
                    Ok(())
                })
                .unwrap();
        }
    }
    let sent = wang.outbox();
    assert!(sent.len() > massline_model::runs::ROWS_PER_STATEMENT);
    let report = wang.client.sync().await.unwrap();
    assert_eq!(report.pushed as usize, sent.len(), "{report:?}");
    assert_eq!(report.calls, 2, "one push message and a pull: {report:?}");
    let db = town.server_db();
    let stored: Vec<(i64, String)> = db
        .prepare("SELECT seq, lower(hex(hash)) FROM changes ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let hashes: Vec<&String> = stored.iter().map(|(_, h)| h).collect();
    assert_eq!(hashes, sent.iter().collect::<Vec<_>>(), "in the order sent");
    assert!(
        stored.windows(2).all(|w| w[1].0 == w[0].0 + 1),
        "numbered one after another: {:?}",
        stored.iter().map(|(s, _)| s).collect::<Vec<_>>()
    );
    let off: Vec<(String, i64, i64)> = db
        .prepare(
            "SELECT lower(hex(d.doc_id)), d.updated_seq,
                    (SELECT max(seq) FROM changes c WHERE c.doc_id = d.doc_id)
             FROM documents d
             WHERE d.updated_seq != (SELECT max(seq) FROM changes c WHERE c.doc_id = d.doc_id)",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        off.is_empty(),
        "{} records written at another number than their last change's, first {:?}",
        off.len(),
        off.first()
    );
}

fn entry(minutes: i64, reflection: &str) -> Value {
    json!({"kind": "study_entry", "scope": "v/dongcun/m/wang", "serial": 1, "member": "wang",
           "date": "2024-05-01", "material": "mass_line_reading", "topic": "读本",
           "mode": "self_study", "minutes": minutes, "reflection": reflection})
}

/// A change to the record `first` made, by `actor`, naming wang as its
/// author, that sets its root's `key` to `value`.
fn edit_of_first(first: &[u8], actor: &automerge::ActorId, key: &str, value: Value) -> Vec<u8> {
    let mut doc = Automerge::load(first).unwrap().with_actor(actor.clone());
    let old: Map<String, Value> = massline_core::doc_json::read_root(&doc);
    let mut new = old.clone();
    new.insert(key.into(), value);
    let mut tx = doc.transaction();
    massline_core::doc_json::reconcile_map(&mut tx, &automerge::ROOT, &old, &new).unwrap();
    tx.commit_with(raw::commit_by("wang"));
    doc.get_last_local_change().unwrap().raw_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_judged_ahead_of_a_refused_change_is_judged_again() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let zhao = Device::enrol(&town, server.addr, "zhao").await;
    let actor = raw::actor_of(&wang);

    // A record, an edit of it by another device's actor (refused), and an
    // edit of the record as first made. Judged ahead, the last assumes the
    // refused one was accepted before it.
    let first = raw::first_change(&actor, "wang", entry(30, ""));
    let foreign = edit_of_first(&first, &raw::actor_of(&zhao), "minutes", json!(99));
    let own = edit_of_first(&first, &actor, "reflection", json!("好"));
    let answers = raw::push_changes(&wang, &[first, foreign, own]).await;
    let got: Vec<(u32, pb::RefusalCode)> = answers
        .refused
        .iter()
        .map(|r| (r.index, r.code()))
        .collect();
    assert_eq!(got, [(1, pb::RefusalCode::WrongActor)], "{answers:?}");
    assert_eq!(answers.accepted, 2, "{answers:?}");

    let on_server = town.server_records();
    assert_eq!(on_server.len(), 1);
    let record = &on_server[0].1;
    assert_eq!(
        (record["minutes"].as_i64(), record["reflection"].as_str()),
        (Some(30), Some("好")),
        "nothing of the refused edit stands: {record}"
    );
}

/// A message sent again (its answer lost on the way), now with new records
/// after it: the records the server has are known as stored, looked up many
/// at a time, and the new ones are written many to a statement, each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_again_with_new_records_stores_each_record_once() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let outbox = || -> Vec<Vec<u8>> {
        wang.store_db()
            .prepare("SELECT bytes FROM outbox ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let make = |from: u32, to: u32| {
        for n in from..to {
            wang.client
                .create(study("wang", 30 + n % 60, "群众路线读本"), None)
                .unwrap();
        }
    };
    make(0, 150);
    let first = outbox();
    assert!(first.len() > massline_model::runs::ROWS_PER_STATEMENT);
    let answer = raw::push_changes(&wang, &first).await;
    assert_eq!((answer.accepted, answer.refused.len()), (150, 0));

    make(150, 170);
    let again = outbox();
    assert_eq!(again.len(), 170);
    let answer = raw::push_changes(&wang, &again).await;
    assert_eq!(
        (answer.accepted, answer.refused.len()),
        (170, 0),
        "{answer:?}"
    );
    let db = town.server_db();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM documents"), 170);
    assert_eq!(count("SELECT count(*) FROM changes"), 170);
    assert_eq!(town.server_records(), wang.records());
}
