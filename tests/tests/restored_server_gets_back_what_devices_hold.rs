//! A server restored from a backup gets back, from the devices, every change
//! it had acknowledged after the backup: its new identity tells each device
//! that meets it to lower its cursors and to find, by asking for the latest
//! of its changes in each record it wrote, which of its own changes the
//! server lacks, and to push those again, each checked like any push. A
//! change that depends on another device's lost change waits for that device
//! to send it, and goes at the next sync. After every device has synced, the
//! server holds every change any device holds, each once; every device holds
//! every record it may read; a device that made nothing after the backup
//! sends nothing again; and every idle sync is one round trip again.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use massline_core::Record;
use massline_tests::{Device, ServerProcess, Township, opinion, problem, server_binary, study};

fn admin(data: &Path, args: &[&str]) {
    let out = Command::new(server_binary())
        .arg("admin")
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every change hash the server stores, and how many rows hold them.
fn server_changes(town: &Township) -> (BTreeSet<String>, i64) {
    let db = town.server_db();
    let mut stmt = db.prepare("SELECT lower(hex(hash)) FROM changes").unwrap();
    let hashes: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let n = hashes.len() as i64;
    (hashes.into_iter().collect(), n)
}

fn reflect(device: &Device, id: &massline_core::DocId, text: &str) {
    device
        .client
        .edit(id, |r| {
            if let Record::StudyEntry(s) = r {
                s.reflection = text.to_string();
            }
            Ok(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restore_the_devices_send_back_every_change_the_server_lost() {
    let town = Township::new();
    let server = ServerProcess::spawn(&town, "127.0.0.1:0");
    let addr = server.addr;
    let zhang = Device::enrol(&town, addr, "zhang").await;
    let li = Device::enrol(&town, addr, "li").await;
    let wang = Device::enrol(&town, addr, "wang").await;
    let chen = Device::enrol(&town, addr, "chen").await;
    let liu = Device::enrol(&town, addr, "liu").await;
    let devices = [&zhang, &li, &wang, &chen, &liu];

    // Before the backup: records from every village device, seen by all.
    let shared = zhang.problem("村务公开不及时");
    let log = zhang
        .client
        .create(study("wang", 30, "备份前"), None)
        .unwrap();
    wang.client.create(study("wang", 40, "自学"), None).unwrap();
    li.client.create(opinion("修路"), None).unwrap();
    chen.client.create(opinion("西村用水"), None).unwrap();
    for _ in 0..2 {
        for d in devices {
            d.client.sync().await.unwrap();
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("before.backup");
    admin(&town.data, &["backup", "--to", backup.to_str().unwrap()]);
    let (at_backup, _) = server_changes(&town);

    // After it, acknowledged and then lost: new records and edits of old
    // ones; li edits a record zhang made after the backup (so li's change
    // depends on zhang's), and li's devices pull each other's. chen makes
    // nothing and does not sync.
    let after = zhang
        .client
        .create(study("wang", 25, "备份后"), None)
        .unwrap();
    reflect(&zhang, &log, "备份后改的体会");
    zhang.client.create(problem("道路失修"), None).unwrap();
    wang.client
        .create(study("wang", 50, "备份后自学"), None)
        .unwrap();
    for d in [&zhang, &wang, &li] {
        assert_eq!(d.client.sync().await.unwrap().refused, 0);
    }
    reflect(&li, &after, "李委员补充的体会");
    li.client.sync().await.unwrap();
    for d in [&zhang, &wang, &liu] {
        d.client.sync().await.unwrap();
    }
    let (before_restore, _) = server_changes(&town);
    let lost: BTreeSet<_> = before_restore.difference(&at_backup).cloned().collect();
    assert!(
        lost.len() >= 5,
        "only {} changes after the backup",
        lost.len()
    );
    let _ = shared;
    server.terminate();

    admin(
        &town.data,
        &["restore", "--from", backup.to_str().unwrap(), "--replace"],
    );
    assert_eq!(server_changes(&town).0, at_backup);
    let server = ServerProcess::spawn(&town, &addr.to_string());

    // li first: its edit waits for zhang's record, which only zhang sends.
    let first = li.client.sync().await.unwrap();
    assert!(first.resent >= 1, "li sent nothing again: {first:?}");
    let mut resent = first.resent;
    for d in [&zhang, &wang, &chen, &liu] {
        let r = d.client.sync().await.unwrap();
        if std::ptr::eq(d, &chen) {
            assert_eq!(r.resent, 0, "chen made nothing after the backup: {r:?}");
        }
        resent += r.resent;
    }
    // The second round takes li's edit, now that zhang's record is back.
    for d in devices {
        let r = d.client.sync().await.unwrap();
        resent += r.resent;
    }

    let (held, rows) = server_changes(&town);
    assert_eq!(rows as usize, held.len(), "a change is stored twice");
    for lost in &lost {
        assert!(held.contains(lost), "change {lost} was not sent back");
    }
    for d in devices {
        for h in d.held_changes() {
            assert!(
                held.contains(&h),
                "the server lacks change {h} a device holds"
            );
        }
    }
    assert!(
        resent as usize >= lost.len(),
        "{resent} sent again, {} lost",
        lost.len()
    );
    assert_eq!(liu.records(), town.server_records());
    assert_eq!(zhang.records(), li.records());
    assert_eq!(town.integrity(), "ok");

    // Idle again: one round trip each, nothing sent.
    for d in devices {
        let r = d.client.sync().await.unwrap();
        assert_eq!(
            (r.calls, r.pushed, r.pulled, r.resent),
            (1, 0, 0, 0),
            "an idle sync after recovery: {r:?}"
        );
        assert!(d.outbox().is_empty(), "changes left unsent or refused");
    }
    server.terminate();
}
