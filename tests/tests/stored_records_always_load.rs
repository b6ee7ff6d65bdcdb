//! Every record the server stores loads again: a change sent as a raw chunk
//! (packing's tag 3) whose checksum does not match its bytes, or deflated, is
//! refused, and the record it targets still loads, takes its owner's next
//! edit, is counted in the typed rows and reaches another device.

use massline_core::Record;
use massline_proto::pb;
use massline_server::admin;
use massline_tests::{Device, TestServer, Township, raw, record_of, study};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_chunk_with_a_wrong_checksum_is_refused_and_the_record_lives_on() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let id = wang
        .client
        .create(study("wang", 45, "群众路线读本"), None)
        .unwrap();
    wang.client.sync().await.unwrap();

    let edit = raw::edit_change(&wang, &id, "wang", |root| {
        root.insert("reflection".into(), json!("体会很深。".repeat(100)));
    });
    let mut wrong = edit.clone();
    wrong[5] ^= 0x5a;
    let deflated = automerge::Change::try_from(&edit[..])
        .unwrap()
        .bytes()
        .to_vec();
    assert_ne!(deflated[8], edit[8], "sent deflated");
    let mut plain = raw::raw_entry(&wrong);
    plain.extend(raw::raw_entry(&deflated));
    let (channel, token) = raw::channel_of(&wang).await;
    let answer = raw::push(channel, &token, vec![raw::packed_message(&plain, 2)])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(answer.accepted, 0, "{answer:?}");
    let reasons: Vec<_> = answer
        .refused
        .iter()
        .map(|r| (r.code(), r.reason.as_str()))
        .collect();
    assert_eq!(reasons[0].0, pb::RefusalCode::Malformed);
    assert!(reasons[0].1.contains("checksum"), "{}", reasons[0].1);
    assert!(reasons[1].1.contains("compressed"), "{}", reasons[1].1);
    assert_eq!(town.stored_changes(), 1);

    // The owner's next edit lands, the rows count it, another device reads it.
    wang.client
        .edit(&id, |r| {
            if let Record::StudyEntry(e) = r {
                e.minutes = 50;
            }
            Ok(())
        })
        .unwrap();
    let r = wang.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.refused), (1, 0));
    town.wait_for_rows();
    let minutes: i64 = town
        .server_db()
        .query_row("SELECT minutes FROM study_entries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(minutes, 50);
    let db = admin::open(&town.data).unwrap();
    let rebuilt = admin::rebuild_rows(&db).unwrap();
    assert!(!rebuilt.contains("do not read"), "{rebuilt}");
    zhang.client.sync().await.unwrap();
    assert_eq!(record_of!(zhang, &id, StudyEntry).minutes, 50);
    assert_eq!(admin::history_lines(&db, &id.to_hex()).unwrap().len(), 2);
    server.stop().await;
}
