//! Data at rest is private to its owner: after a real server has served a
//! sync, its data directory is 0700 and its database, write-ahead log,
//! shared-memory file and TLS key are 0600; a device's store and its
//! companions are 0600. That holds under a umask that would leave them
//! readable by all, and for files found open to others, which are tightened
//! when the server or the store starts.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use massline_core::Client;
use massline_files::{PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, sqlite_files};
use massline_tests::{Device, TestServer, Township, opinion};
use nix::sys::stat::{Mode, umask};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The files a server keeps in its data directory: database, its `-wal`
/// and `-shm`, and the certificate with its key.
fn server_files(data: &Path) -> Vec<PathBuf> {
    let mut files = sqlite_files(&data.join("massline.db")).to_vec();
    files.push(data.join("tls.pem"));
    files
}

/// Asserts each of `files` exists with `PRIVATE_FILE_MODE`, and `dir` (if
/// any) with `PRIVATE_DIR_MODE`.
fn assert_private(dir: Option<&Path>, files: &[PathBuf]) {
    if let Some(dir) = dir {
        assert_eq!(
            mode(dir),
            PRIVATE_DIR_MODE,
            "{} is open to others",
            dir.display()
        );
    }
    for f in files {
        assert_eq!(
            mode(f),
            PRIVATE_FILE_MODE,
            "{} is open to others",
            f.display()
        );
    }
}

/// The usual umask, under which SQLite and plain file creation leave files
/// readable by all: what is private must be made so on purpose.
fn readable_by_all_by_default() {
    umask(Mode::from_bits_truncate(0o022));
}

#[tokio::test]
async fn a_server_and_a_device_keep_their_files_private() {
    readable_by_all_by_default();
    let township = Township::new();
    let server = TestServer::start(&township).await;
    let zhang = Device::enrol(&township, server.addr, "zhang").await;
    zhang
        .client
        .create(opinion("低保评定不公开"), None)
        .unwrap();
    zhang.problem("村务公开不及时");
    let report = zhang.client.sync().await.unwrap();
    assert_eq!(report.pushed, 2);

    // While both run, every file of theirs exists, the logs included.
    assert_private(Some(&township.data), &server_files(&township.data));
    assert_private(None, &sqlite_files(&zhang.path));
    server.stop().await;
}

#[tokio::test]
async fn files_found_open_to_others_are_tightened_when_they_are_opened() {
    readable_by_all_by_default();
    let township = Township::new();
    // As an older server would have left them: everything readable by all,
    // the log and index of a database still in use.
    let in_use = rusqlite::Connection::open(township.data.join("massline.db")).unwrap();
    in_use
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
    massline_server::certs::load_or_create(&township.data).unwrap();
    set_mode(&township.data, 0o755);
    for f in server_files(&township.data) {
        set_mode(&f, 0o644);
    }

    let server = TestServer::start(&township).await;
    let zhang = Device::enrol(&township, server.addr, "zhang").await;
    zhang.problem("村务公开不及时");
    zhang.client.sync().await.unwrap();
    assert_private(Some(&township.data), &server_files(&township.data));

    // A device store copied or made readable by all is tightened when the
    // app opens it again.
    for f in sqlite_files(&zhang.path) {
        set_mode(&f, 0o644);
    }
    let reopened = Client::open(&zhang.path).unwrap();
    assert_private(None, &sqlite_files(&zhang.path));
    reopened.create(opinion("道路年久失修"), None).unwrap();
    assert_eq!(reopened.sync().await.unwrap().pushed, 1);
    assert_private(None, &sqlite_files(&zhang.path));
    drop(in_use);
    server.stop().await;
}
