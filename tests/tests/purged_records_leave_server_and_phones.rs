//! A villager's opinion purged for good by a township officer (`admin
//! purge`, the server's real binary) leaves the server at once and every
//! phone at its next sync: no byte of its text stays in the server's or the
//! phones' database files (or their logs, or the pages an upload freed),
//! its typed rows and its link from
//! a problem that took it up go, and the audit log keeps who purged what,
//! when and why. A phone that edited it offline before hearing of the purge
//! gets its change refused as purged and its outbox empties, and its changes
//! sent again by hand are refused as purged; an idle sync
//! afterwards is one call. A kind that is the organization's evidence (a
//! notice) is not purged, nor does anyone but a township officer purge.

use std::path::Path;
use std::process::Command;

use massline_core::{DocId, Record, RecordKind};
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, notice, opinion, raw, server_binary, visit};
use serde_json::json;

const SECRET: &str = "王大爷说邻居家占了他的宅基地-PURGE-ME-0001";
const EDITED: &str = "王大爷补充说已经吵了三年-PURGE-ME-0002";

/// Runs `massline-server admin --data DIR purge …`; its status and output.
fn purge(town: &Township, record: &DocId, by: &str, reason: &str) -> (bool, String) {
    let out = Command::new(server_binary())
        .arg("admin")
        .arg("--data")
        .arg(&town.data)
        .args([
            "purge",
            "--record",
            &record.to_hex(),
            "--by",
            by,
            "--reason",
            reason,
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Whether `text` is anywhere in the bytes of a SQLite database, its log
/// and index file, once its log has been folded back in (as the server and
/// the phones do after a purge; done here too, for what came after).
fn holds(db: &Path, text: &str) -> bool {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    let needle = text.as_bytes();
    ["", "-wal", "-shm"].iter().any(|suffix| {
        let path = format!("{}{suffix}", db.display());
        std::fs::read(path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    })
}

fn count(town: &Township, sql: &str) -> i64 {
    town.server_db().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_opinion_leaves_the_server_and_every_phone() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let server_db = town.data.join("massline.db");

    let visit_id = li.client.create(visit("王家", &["修路"]), None).unwrap();
    let id = li.client.create(opinion(SECRET), None).unwrap();
    li.client.sync().await.unwrap();
    zhang.client.sync().await.unwrap();
    // The secretary takes the opinion up in a problem.
    let problem = zhang
        .client
        .create(
            Record::from_fields(
                RecordKind::Problem,
                json!({"title": "宅基地纠纷", "how_found": "self_search",
                       "area": "mass_service", "opinions": [id.to_hex()]}),
            )
            .unwrap(),
            None,
        )
        .unwrap();
    zhang.client.sync().await.unwrap();
    li.client.sync().await.unwrap();
    town.wait_for_rows();
    assert!(zhang.client.get(&id).is_ok() && li.client.get(&id).is_ok());
    assert_eq!(
        count(&town, "SELECT count(*) FROM problem_opinions"),
        1,
        "the problem took the opinion up"
    );
    // The search finds the text where it is.
    for db in [&server_db, &li.path, &zhang.path] {
        assert!(holds(db, SECRET), "{} lacks the opinion", db.display());
    }
    let opinions_before = count(&town, "SELECT count(*) FROM opinions");
    // li's own changes to the opinion, as a phone that never heard would resend them.
    let li_actor = raw::actor_of(&li);
    let resent: Vec<Vec<u8>> = raw::doc_of(&li, &id)
        .get_changes(&[])
        .into_iter()
        .filter(|c| *c.actor_id() == li_actor)
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    assert!(!resent.is_empty());

    // Offline, before it hears of the purge, li writes the answer given.
    li.client
        .edit(&id, |r| {
            if let Record::Opinion(o) = r {
                o.answer = Some(EDITED.to_string());
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(li.outbox().len(), 1);

    let (ok, out) = purge(&town, &id, "liu", "本人申请删除个人信息");
    assert!(ok, "{out}");
    assert!(out.contains(&id.to_string()), "{out}");
    town.wait_for_rows();
    assert!(
        !holds(&server_db, SECRET),
        "the server still holds the opinion"
    );
    assert_eq!(
        count(&town, "SELECT count(*) FROM opinions"),
        opinions_before - 1
    );
    assert_eq!(count(&town, "SELECT count(*) FROM visits"), 1);
    assert_eq!(count(&town, "SELECT count(*) FROM problem_opinions"), 0);
    let audit: (String, String, String, String) = town
        .server_db()
        .query_row(
            "SELECT lower(hex(p.doc_id)), p.kind, p.purged_by, p.reason FROM purges p",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        audit,
        (
            id.to_hex(),
            "opinion".into(),
            "liu".into(),
            "本人申请删除个人信息".into()
        )
    );
    let metrics_lag = count(
        &town,
        "SELECT (SELECT max(seq) FROM purges) - (SELECT value FROM settings WHERE key = 'rows_through')",
    );
    assert!(
        metrics_lag <= 0,
        "the rows lag behind a purge: {metrics_lag}"
    );

    // The secretary's phone hears of it, and forgets it.
    let r = zhang.client.sync().await.unwrap();
    assert!(r.changed.contains(&id), "{r:?}");
    assert!(zhang.client.get(&id).is_err());
    assert!(
        !holds(&zhang.path, SECRET),
        "the secretary's phone holds it"
    );
    // The problem stays, naming the id of an opinion that is no more.
    assert!(zhang.client.get(&problem).is_ok());

    // li's edit is refused as purged, and leaves the outbox. (A sync reads
    // the outbox for its push before its pull's first answer can come.)
    let r = li.client.sync().await.unwrap();
    assert_eq!(r.refused, 1, "{r:?}");
    assert!(li.outbox().is_empty(), "{:?}", li.outbox());
    assert!(li.client.get(&id).is_err());
    assert!(li.client.get(&visit_id).is_ok(), "the visit stays");
    for text in [SECRET, EDITED] {
        assert!(!holds(&li.path, text), "li's phone holds {text}");
        assert!(!holds(&server_db, text), "the server holds {text}");
    }
    let metric: i64 = count(
        &town,
        "SELECT count(*) FROM changes c WHERE c.doc_id IN (SELECT doc_id FROM purges)",
    );
    assert_eq!(metric, 0);

    // Sent again by hand (its first change among them), each is refused as
    // purged and the record stays gone.
    let answer = raw::push_changes(&li, &resent).await;
    assert_eq!(answer.accepted, 0, "{answer:?}");
    assert_eq!(answer.refused.len(), resent.len(), "{answer:?}");
    for r in &answer.refused {
        assert_eq!(r.code, pb::RefusalCode::Purged as i32, "{answer:?}");
    }
    assert_eq!(
        count(
            &town,
            "SELECT count(*) FROM documents WHERE doc_id IN (SELECT doc_id FROM purges)"
        ),
        0
    );

    // Then syncs are idle again: one call each.
    for d in [&li, &zhang] {
        let idle = d.client.sync().await.unwrap();
        assert_eq!(
            (idle.pushed, idle.pulled, idle.calls),
            (0, 0, 1),
            "{idle:?}"
        );
    }
    // Purged twice: said so, nothing changes.
    let (ok, out) = purge(&town, &id, "liu", "再删一次");
    assert!(!ok && out.contains("already purged"), "{out}");
    server.stop().await;
}

/// Once the server has a phone's changes their outbox rows go, and the
/// outbox pages freed whole are left as they are rather than written again
/// with zeros: a purge still leaves no copy of the text in them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_opinion_leaves_no_copy_in_the_pages_an_upload_freed() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    // Other opinions before and after it: its change sits in the middle of
    // an outbox many pages long.
    let filler = |i: usize| opinion(&format!("第{i}条意见：{}", "村里的路需要修".repeat(20)));
    for i in 0..40 {
        li.client.create(filler(i), None).unwrap();
    }
    let id = li.client.create(opinion(SECRET), None).unwrap();
    for i in 40..80 {
        li.client.create(filler(i), None).unwrap();
    }
    let r = li.client.sync().await.unwrap();
    assert_eq!((r.pushed, r.refused), (81, 0), "{r:?}");
    assert!(li.outbox().is_empty());
    let freed: i64 = li
        .store_db()
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap();
    assert!(freed > 0, "the upload freed no page whole");

    let (ok, out) = purge(&town, &id, "liu", "本人申请删除个人信息");
    assert!(ok, "{out}");
    let r = li.client.sync().await.unwrap();
    assert!(r.changed.contains(&id), "{r:?}");
    assert!(li.client.get(&id).is_err());
    assert!(
        !holds(&li.path, SECRET),
        "li's phone holds the opinion in a page its upload freed"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_township_officer_purges_and_only_personal_data() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let notice_id = li.client.create(notice("五月村务公开"), None).unwrap();
    let opinion_id = li.client.create(opinion(SECRET), None).unwrap();
    li.client.sync().await.unwrap();

    let (ok, out) = purge(&town, &notice_id, "liu", "试试");
    assert!(!ok, "a notice was purged: {out}");
    assert!(out.contains("cannot be purged"), "{out}");

    for by in ["li", "zhang", "nobody"] {
        let (ok, out) = purge(&town, &opinion_id, by, "试试");
        assert!(!ok, "{by} purged: {out}");
        assert!(out.contains("not a township officer"), "{out}");
    }
    let (ok, out) = purge(&town, &opinion_id, "liu", "  ");
    assert!(!ok && out.contains("reason"), "{out}");
    assert_eq!(count(&town, "SELECT count(*) FROM documents"), 2);
    assert_eq!(count(&town, "SELECT count(*) FROM purges"), 0);
    server.stop().await;
}
