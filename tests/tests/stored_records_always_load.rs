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

/// How `documents` holds record `id`: (bytes of its stored save or run,
/// chunks the document loads from, `saved_through`).
fn stored_form(town: &Township, id: &massline_core::DocId) -> (i64, i64, Option<i64>) {
    town.server_db()
        .query_row(
            "SELECT length(state), chunks, saved_through FROM documents WHERE doc_id = ?1",
            [&id.as_bytes()[..]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

fn last_seq(town: &Township) -> i64 {
    town.server_db()
        .query_row("SELECT max(seq) FROM changes", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_records_changes_are_written_once_and_it_loads_whole_through_compaction() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let id = wang
        .client
        .create(study("wang", 1, "群众路线读本"), None)
        .unwrap();
    let mut minutes = 1;
    let edits = |n: i64, minutes: &mut i64| {
        for _ in 0..n {
            *minutes += 1;
            let m = *minutes;
            wang.client
                .edit(&id, |r| {
                    if let Record::StudyEntry(e) = r {
                        e.minutes = m as u32;
                    }
                    Ok(())
                })
                .unwrap();
        }
    };
    let db = admin::open(&town.data).unwrap();
    let loads_whole = |changes: usize| {
        assert_eq!(
            admin::history_lines(&db, &id.to_hex()).unwrap().len(),
            changes,
            "the record's document holds every change"
        );
    };

    // A new record: its change is kept in `changes` only.
    wang.client.sync().await.unwrap();
    assert_eq!(stored_form(&town, &id), (0, 1, Some(0)));
    loads_whole(1);

    // Edits are appended to nothing: the document is read from `changes`.
    edits(5, &mut minutes);
    assert_eq!(wang.client.sync().await.unwrap().pushed, 5);
    assert_eq!(stored_form(&town, &id), (0, 6, Some(0)));
    loads_whole(6);

    // Past the longest run, the document is saved, through its last change.
    edits(30, &mut minutes);
    assert_eq!(wang.client.sync().await.unwrap().pushed, 30);
    let (saved, chunks, through) = stored_form(&town, &id);
    assert!(saved > 0, "compacted into a save");
    assert_eq!((chunks, through), (1, Some(last_seq(&town))));
    loads_whole(36);
    edits(2, &mut minutes);
    wang.client.sync().await.unwrap();
    let (_, chunks, _) = stored_form(&town, &id);
    assert_eq!(chunks, 3, "the save and the two changes after it");
    loads_whole(38);

    // A record stored before `saved_through` held all its changes in its run.
    let old = wang.client.create(study("wang", 1, "党章"), None).unwrap();
    wang.client.sync().await.unwrap();
    let before = last_seq(&town);
    {
        let rw = rusqlite::Connection::open(town.data.join("massline.db")).unwrap();
        rw.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        let run: Vec<u8> = rw
            .query_row("SELECT bytes FROM changes WHERE seq = ?1", [before], |r| {
                r.get(0)
            })
            .unwrap();
        rw.execute(
            "UPDATE documents SET state = ?2, saved_through = NULL WHERE doc_id = ?1",
            rusqlite::params![&old.as_bytes()[..], run],
        )
        .unwrap();
    }
    assert_eq!(admin::history_lines(&db, &old.to_hex()).unwrap().len(), 1);
    wang.client
        .edit(&old, |r| {
            if let Record::StudyEntry(e) = r {
                e.minutes = 90;
            }
            Ok(())
        })
        .unwrap();
    wang.client.sync().await.unwrap();
    let (_, chunks, through) = stored_form(&town, &old);
    assert_eq!(
        (chunks, through),
        (2, Some(before)),
        "the old run holds every change through its last update"
    );
    assert_eq!(admin::history_lines(&db, &old.to_hex()).unwrap().len(), 2);

    let rebuilt = admin::rebuild_rows(&db).unwrap();
    assert!(!rebuilt.contains("do not read"), "{rebuilt}");
    zhang.client.sync().await.unwrap();
    assert_eq!(record_of!(zhang, &id, StudyEntry).minutes, minutes as u32);
    assert_eq!(record_of!(zhang, &old, StudyEntry).minutes, 90);
    server.stop().await;
}
