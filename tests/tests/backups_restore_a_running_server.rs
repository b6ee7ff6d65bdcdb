//! `massline-server admin backup` copies a server's data directory while it
//! serves and devices sync, into one private file; `admin restore` puts it
//! back into an empty directory (private, with a new server identity) where
//! a server starts and the devices enrolled before sync with it as they are.
//! A file that is not a backup, one cut short or damaged, one of a newer
//! schema, and a data directory with files in it are refused with the
//! reason, and the directory stays as it was.

use std::path::Path;
use std::process::Command;

use massline_tests::{Device, ServerProcess, Township, server_binary, study};

/// Runs `massline-server admin --data <data> <args>`: whether it succeeded,
/// and what it printed (standard output and error).
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

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Names of the entries of `dir`, sorted (none if it is missing).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn server_id(town: &Township) -> String {
    town.setting("server_id")
        .expect("the server has an identity")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_made_while_devices_sync_restores_a_server_they_sync_with() {
    let town = Township::new();
    let server = ServerProcess::spawn(&town, "127.0.0.1:0");
    let addr = server.addr;
    let zhang = Device::enrol(&town, addr, "zhang").await;
    for i in 0..20 {
        zhang
            .client
            .create(study("wang", 30, &format!("备份前 {i}")), None)
            .unwrap();
    }
    zhang.client.sync().await.unwrap();
    let before_backup = zhang.records();

    // Devices keep syncing while backups are made.
    let li = Device::enrol(&town, addr, "li").await;
    let syncing = tokio::spawn(async move {
        for i in 0..30 {
            li.client
                .create(study("zhao", 20, &format!("备份时 {i}")), None)
                .unwrap();
            li.client.sync().await.unwrap();
        }
        li
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("township.backup");
    let data = town.data.clone();
    let f = file.clone();
    let made = tokio::task::spawn_blocking(move || {
        (0..3)
            .map(|_| admin(&data, &["backup", "--to", f.to_str().unwrap()]))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (ok, text) in &made {
        assert!(ok, "backup failed: {text}");
        assert!(
            text.contains("massline.db") && text.contains("tls.pem"),
            "{text}"
        );
    }
    let li = syncing.await.unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600, "the backup is readable by others");
    assert_eq!(
        entries(dir.path()),
        ["township.backup"],
        "scratch files left"
    );
    let old_id = server_id(&town);
    server.terminate();

    let restored = dir.path().join("restored");
    let (ok, text) = admin(&restored, &["restore", "--from", file.to_str().unwrap()]);
    assert!(ok, "restore failed: {text}");
    #[cfg(unix)]
    {
        assert_eq!(mode(&restored), 0o700);
        for f in ["massline.db", "tls.pem"] {
            assert_eq!(mode(&restored.join(f)), 0o600, "{f}");
        }
    }
    assert_eq!(entries(&restored), ["massline.db", "tls.pem"]);
    let town2 = Township::at(&restored);
    assert_eq!(town2.integrity(), "ok");
    assert_ne!(server_id(&town2), old_id, "a restore keeps the identity");
    // Every record synced before the backups began is there.
    let on_server: Vec<String> = town2.server_records().into_iter().map(|r| r.0).collect();
    for (id, _) in &before_backup {
        assert!(on_server.contains(id), "record {id} is not in the backup");
    }

    // The same certificate, the same devices: both sync with it as they are.
    let server = ServerProcess::spawn(&town2, &addr.to_string());
    zhang.client.sync().await.unwrap();
    li.client.sync().await.unwrap();
    zhang.still_syncs(study("wang", 15, "恢复后")).await;
    server.terminate();
}

#[test]
fn restores_refuse_what_is_no_whole_backup_and_leave_the_directory_as_it_was() {
    let town = Township::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("good.backup");
    let (ok, text) = admin(&town.data, &["backup", "--to", file.to_str().unwrap()]);
    assert!(ok, "{text}");
    let good = std::fs::read(&file).unwrap();

    let target = dir.path().join("target");
    let refused = |name: &str, bytes: &[u8], says: &str| {
        let bad = dir.path().join(name);
        std::fs::write(&bad, bytes).unwrap();
        let (ok, text) = admin(&target, &["restore", "--from", bad.to_str().unwrap()]);
        assert!(!ok, "{name} was restored");
        assert!(text.contains(says), "{name}: {text}");
        assert!(
            entries(&target).is_empty(),
            "{name} left {:?}",
            entries(&target)
        );
    };
    refused(
        "not-a-backup",
        b"SQLite format 3\0 and more",
        "not a massline backup",
    );
    refused("empty", b"", "not a massline backup");
    refused("cut-short", &good[..good.len() / 2], "cut short");
    refused("no-checksum", &good[..good.len() - 10], "cut short");
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    refused("flipped", &flipped, "damaged");
    let mut longer = good.clone();
    longer.push(0);
    refused("longer", &longer, "damaged");
    // Schema, at bytes 20..24 of the header.
    let mut newer = good.clone();
    newer[20..24].copy_from_slice(&(massline_server::schema::VERSION + 1).to_le_bytes());
    refused("newer-schema", &newer, "newer schema");
    let mut newer_format = good.clone();
    newer_format[16..20].copy_from_slice(&(massline_server::backup::FORMAT + 1).to_le_bytes());
    refused("newer-format", &newer_format, "newer massline-server");

    // A directory with a server's files in it is not overwritten unless told.
    let (ok, text) = admin(&town.data, &["restore", "--from", file.to_str().unwrap()]);
    assert!(!ok && text.contains("not empty"), "{text}");
    let id = server_id(&town);
    let (ok, text) = admin(
        &town.data,
        &["restore", "--from", file.to_str().unwrap(), "--replace"],
    );
    assert!(ok, "{text}");
    assert_ne!(server_id(&town), id);
    assert_eq!(town.integrity(), "ok");
    let (ok, text) = admin(&town.data, &["person", "list"]);
    assert!(ok && text.contains("zhang"), "{text}");
}
