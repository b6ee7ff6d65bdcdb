//! A backup made before a purge, restored, does not bring the purged record
//! back: every purge is also kept in the purge journal beside the database
//! (`purges.jsonl`, 0600, no content), which backups hold and a restore over
//! the directory keeps; the restore, and the start of `serve` on a database
//! put back some other way, make again each purge the database lacks. The
//! opinion is then not on the server, the audit log lists the purge, and
//! phones that still held it lose it at their next sync instead of giving it
//! back.

use std::path::Path;
use std::process::Command;

use massline_tests::{Device, ServerProcess, Township, opinion, server_binary};

const SECRET: &str = "赵大爷家宅基地纠纷细节-RESTORE-PURGE-0001";
const SECOND: &str = "钱大妈反映的家庭情况-RESTORE-PURGE-0002";
const REASON: &str = "赵大爷本人申请删除";

/// Runs `massline-server admin --data <data> <args>`: whether it
/// succeeded, and what it printed.
fn admin(data: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(server_binary())
        .arg("admin")
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Whether `text` is in the bytes of the database at `db` or its log.
fn holds(db: &Path, text: &str) -> bool {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    let needle = text.as_bytes();
    ["", "-wal"].iter().any(|suffix| {
        std::fs::read(format!("{}{suffix}", db.display()))
            .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
    })
}

fn count(town: &Township, sql: &str) -> i64 {
    town.server_db().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_from_before_a_purge_restores_without_the_purged_record() {
    let town = Township::new();
    let server = ServerProcess::spawn(&town, "127.0.0.1:0");
    let addr = server.addr;
    let zhang = Device::enrol(&town, addr, "zhang").await;
    let li = Device::enrol(&town, addr, "li").await;
    let id = zhang.client.create(opinion(SECRET), None).unwrap();
    zhang.client.sync().await.unwrap();
    li.client.sync().await.unwrap();
    assert!(li.client.get(&id).is_ok());

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("before-purge.backup");
    let (ok, text) = admin(&town.data, &["backup", "--to", file.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(!text.contains("purges.jsonl"), "{text}");
    // The purge, while the server serves; no phone has synced since.
    let (ok, text) = admin(
        &town.data,
        &[
            "purge",
            "--record",
            &id.to_hex(),
            "--by",
            "liu",
            "--reason",
            REASON,
        ],
    );
    assert!(ok, "{text}");
    let journal = town.data.join("purges.jsonl");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&journal).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the purge journal is readable by others");
    }
    let kept = std::fs::read_to_string(&journal).unwrap();
    assert!(
        kept.contains(&id.to_hex()) && kept.contains(REASON),
        "{kept}"
    );
    assert!(
        !kept.contains(SECRET),
        "the journal holds the record's content"
    );
    // A backup made now holds the journal.
    let later = dir.path().join("after-purge.backup");
    let (ok, text) = admin(&town.data, &["backup", "--to", later.to_str().unwrap()]);
    assert!(ok && text.contains("purges.jsonl"), "{text}");
    server.terminate();

    // The older backup, restored over the directory.
    let (ok, text) = admin(
        &town.data,
        &["restore", "--from", file.to_str().unwrap(), "--replace"],
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("1 purge(s) made after the backup made again"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&journal).unwrap(),
        kept,
        "the journal was lost"
    );
    let hex = id.to_hex();
    assert_eq!(
        count(
            &town,
            &format!("SELECT count(*) FROM documents WHERE lower(hex(doc_id)) = '{hex}'")
        ),
        0,
        "the restore brought the opinion back"
    );
    assert_eq!(count(&town, "SELECT count(*) FROM opinions"), 0);
    assert!(!holds(&town.data.join("massline.db"), SECRET));
    let (ok, log) = admin(&town.data, &["purged"]);
    assert!(
        ok && log.contains(&hex) && log.contains("liu") && log.contains(REASON),
        "{log}"
    );

    // Phones that still hold it meet the restored server: they lose it,
    // and the server does not take it back.
    let server = ServerProcess::spawn(&town, &addr.to_string());
    li.client.sync().await.unwrap();
    zhang.client.sync().await.unwrap();
    for phone in [&li, &zhang] {
        assert!(phone.client.get(&id).is_err(), "a phone still holds it");
        assert!(!holds(&phone.path, SECRET), "a phone's file holds it");
    }
    li.client.sync().await.unwrap();
    assert!(town.server_records().iter().all(|(r, _)| *r != hex));
    assert!(!holds(&town.data.join("massline.db"), SECRET));

    // A second opinion purged after the later backup (which holds a journal
    // of its own): restoring that backup keeps both purges.
    let second = zhang.client.create(opinion(SECOND), None).unwrap();
    zhang.client.sync().await.unwrap();
    let (ok, text) = admin(
        &town.data,
        &[
            "purge",
            "--record",
            &second.to_hex(),
            "--by",
            "liu",
            "--reason",
            REASON,
        ],
    );
    assert!(ok, "{text}");
    server.terminate();
    let (ok, text) = admin(
        &town.data,
        &["restore", "--from", later.to_str().unwrap(), "--replace"],
    );
    assert!(ok, "{text}");
    let merged = std::fs::read_to_string(&journal).unwrap();
    assert!(
        merged.contains(&hex) && merged.contains(&second.to_hex()),
        "{merged}"
    );
    let (_, log) = admin(&town.data, &["purged"]);
    assert!(log.contains(&second.to_hex()), "{log}");
    // zhang, who still holds it, sends it back to the restored server: refused.
    let server = ServerProcess::spawn(&town, &addr.to_string());
    zhang.client.sync().await.unwrap();
    assert!(
        zhang.client.get(&second).is_err(),
        "the second opinion came back"
    );
    assert!(
        town.server_records()
            .iter()
            .all(|(r, _)| *r != second.to_hex())
    );
    server.terminate();

    // A database put back some other way (the old backup restored into a
    // new directory, the journal copied beside it): `serve` makes the purge
    // again as it starts, before any phone may pull.
    let other = dir.path().join("by-hand");
    let (ok, text) = admin(&other, &["restore", "--from", file.to_str().unwrap()]);
    assert!(ok, "{text}");
    let by_hand = Township::at(&other);
    let held = format!("SELECT count(*) FROM documents WHERE lower(hex(doc_id)) = '{hex}'");
    assert_eq!(count(&by_hand, &held), 1);
    std::fs::copy(&journal, other.join("purges.jsonl")).unwrap();
    let server = ServerProcess::spawn(&by_hand, "127.0.0.1:0");
    // A cadre's new phone, the first to pull from it, does not get it.
    let fresh = Device::enrol(&by_hand, server.addr, "li").await;
    fresh.client.sync().await.unwrap();
    assert!(fresh.client.get(&id).is_err(), "a phone pulled the opinion");
    assert_eq!(count(&by_hand, &held), 0, "serve started with the opinion");
    // Both purges of the journal are in its audit log.
    assert_eq!(count(&by_hand, "SELECT count(*) FROM purges"), 2);
    server.terminate();
    assert!(!holds(&other.join("massline.db"), SECRET));
}
