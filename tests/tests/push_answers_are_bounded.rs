//! The answer to a push message is bounded too: a message with more bad
//! changes than the server answers one by one is refused as a whole, with one
//! reason, and stores nothing; a reason quoting what a device sent is cut
//! short. Up to that many, each bad change gets its refusal and the good ones
//! in the same message land.

use massline_proto::pb;
use massline_server::ingest::{MAX_REASON_BYTES, MAX_REFUSALS_PER_MESSAGE};
use massline_tests::{Device, TestServer, Township, problem, raw};
use prost::Message;
use serde_json::{Value, json};

fn entry(serial: u64, mode: &str) -> Value {
    json!({"kind": "study_entry", "scope": "v/dongcun/m/wang", "serial": serial,
           "member": "wang", "date": "2024-05-01", "material": "mass_line_reading",
           "topic": "读本", "mode": mode, "minutes": 30, "reflection": ""})
}

/// A message of one good change followed by `bad` chunks that are not changes.
fn good_then_garbage(wang: &Device, serial: u64, bad: usize) -> pb::PushRequest {
    let good = raw::first_change(&raw::actor_of(wang), "wang", entry(serial, "self_study"));
    let mut plain = raw::raw_entry(&good);
    for _ in 0..bad {
        plain.extend(raw::raw_entry(b"not a change"));
    }
    raw::packed_message(&plain, bad as u32 + 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_refusals_refuse_the_message_with_one_reason() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let (channel, token) = raw::channel_of(&wang).await;

    let over = good_then_garbage(&wang, 1, MAX_REFUSALS_PER_MESSAGE + 1);
    let err = raw::push(channel.clone(), &token, vec![over])
        .await
        .expect_err("refused as a whole");
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert!(
        err.message()
            .contains(&format!("more than {MAX_REFUSALS_PER_MESSAGE}")),
        "{}",
        err.message()
    );
    assert!(err.message().len() < 2 * MAX_REASON_BYTES);
    assert_eq!(town.stored_changes(), 0, "not even its good change");
    li.still_syncs(problem("村道坑洼")).await;

    // At the limit, each bad change is refused and the good one lands.
    let at = good_then_garbage(&wang, 2, MAX_REFUSALS_PER_MESSAGE);
    let answers = raw::push(channel, &token, vec![at]).await.unwrap();
    assert_eq!(answers[0].accepted, 1);
    assert_eq!(answers[0].refused.len(), MAX_REFUSALS_PER_MESSAGE);
    assert!(answers[0].encoded_len() < MAX_REFUSALS_PER_MESSAGE * (MAX_REASON_BYTES + 16));
    assert_eq!(town.stored_changes(), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reason_quoting_what_a_device_sent_is_cut_short() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let actor = raw::actor_of(&wang);
    // An unknown study mode of 60,000 characters: the reason quotes it.
    let long = raw::first_change(&actor, "wang", entry(1, &"夜".repeat(20_000)));
    let answer = raw::push_changes(&wang, &[long]).await;
    let r = &answer.refused[0];
    assert_eq!(r.code(), pb::RefusalCode::InvalidRecord, "{}", r.reason);
    assert!(r.reason.contains("`mode`"), "{}", r.reason);
    assert!(
        r.reason.len() <= MAX_REASON_BYTES,
        "{} bytes",
        r.reason.len()
    );
    assert!(r.reason.ends_with('…'));
    server.stop().await;
}

/// Messages of one call that wait together are taken in by one transaction:
/// each keeps its own answer, and one refused as a whole is rolled back
/// alone, ending the group, while the messages before it are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_taken_in_together_answer_alone_and_a_refused_one_stores_nothing() {
    use massline_core::packing::Entry;
    use massline_server::{db::Db, ingest, registry};

    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let (_, token) = raw::channel_of(&wang).await;
    let db = Db::open(&town.data).unwrap();
    let device = db
        .lookup(|tx| registry::authenticate(tx, &token))
        .unwrap()
        .unwrap();
    let good = |serial: u64| {
        let bytes = raw::first_change(&raw::actor_of(&wang), "wang", entry(serial, "self_study"));
        let hash = automerge::Change::try_from(&bytes[..]).unwrap().hash();
        Entry::Change { hash, bytes }
    };
    let garbage = |i: usize| {
        let mut hash = [0xee_u8; 32];
        hash[..8].copy_from_slice(&(i as u64).to_le_bytes());
        Entry::Change {
            hash: automerge::ChangeHash(hash),
            bytes: b"not a change".to_vec(),
        }
    };
    let first = ingest::prepare(vec![good(1), garbage(0)]);
    let over = ingest::prepare(
        std::iter::once(good(2))
            .chain((1..=MAX_REFUSALS_PER_MESSAGE + 1).map(garbage))
            .collect(),
    );
    let after = ingest::prepare(vec![good(3)]);
    let now = chrono::Utc::now().timestamp();
    let taken = ingest::ingest_together(&db, &device, vec![first, over, after], now).unwrap();
    assert_eq!(taken.acks.len(), 1, "only the first message is answered");
    assert_eq!(
        (taken.acks[0].accepted, taken.acks[0].refused.len()),
        (1, 1)
    );
    assert!(
        matches!(
            taken.refused,
            Some(massline_server::Error::MessageRefused(_))
        ),
        "{:?}",
        taken.refused
    );
    assert_eq!(
        town.stored_changes(),
        1,
        "the first message's good change, not the refused message's, nor any after it"
    );
    server.stop().await;
}
