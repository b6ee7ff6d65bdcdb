//! A store encrypted with its key (SQLCipher) enrols and syncs with a real
//! server over TLS. Read without the key, its file and write-ahead log show
//! neither the records' text (made on it or pulled to it) nor the device
//! token, and plain SQLite cannot open it. Without its key, or with a wrong
//! one, it does not open, with an error saying which; with the key
//! everything comes back, through the core and through `massline --key-file`
//! or `MASSLINE_STORE_KEY`.
//!
//! Needs the `sqlcipher` feature:
//! `cargo test -p massline-tests --features sqlcipher --test encrypted_store`.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use massline_core::{Client, Error, StoreKey};
use massline_files::sqlite_files;
use massline_tests::{Device, TestServer, Township, cli_binary, opinion, problem};

/// Made on the encrypted device.
const OPINION: &str = "低保评定不公开，群众意见很大";
/// Made on another device and pulled to the encrypted one.
const PROBLEM: &str = "村务公开栏三个月未更新";

/// Which of the store's files (database, `-wal`, `-shm`) hold `needle`.
fn files_holding(store: &Path, needle: &str) -> Vec<String> {
    let needle = needle.as_bytes();
    sqlite_files(store)
        .iter()
        .filter(|f| {
            std::fs::read(f)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
        .map(|f| f.display().to_string())
        .collect()
}

/// Runs `massline` on `store` with `args`, with no key unless `key_file` or
/// `key_env` gives one.
fn cli(store: &Path, key_file: Option<&Path>, key_env: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(cli_binary());
    cmd.arg("--store").arg(store);
    for var in [
        "MASSLINE_STORE",
        "MASSLINE_STORE_KEY",
        "MASSLINE_STORE_KEY_FILE",
    ] {
        cmd.env_remove(var);
    }
    if let Some(f) = key_file {
        cmd.arg("--key-file").arg(f);
    }
    if let Some(k) = key_env {
        cmd.env("MASSLINE_STORE_KEY", k);
    }
    cmd.args(args).output().unwrap()
}

fn store_key_error(result: Result<Client, Error>) -> String {
    match result {
        Err(e @ Error::StoreKey(_)) => e.to_string(),
        Err(e) => panic!("not a store key error: {e:?}"),
        Ok(_) => panic!("the store opened"),
    }
}

#[tokio::test]
async fn an_encrypted_store_syncs_and_shows_nothing_without_its_key() {
    let township = Township::new();
    let server = TestServer::start(&township).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zhang.db");
    let key = StoreKey::random();

    let zhang = Client::open_with_key(&path, &key).unwrap();
    zhang
        .enroll(&township.code("zhang", server.addr), None, "zhang")
        .await
        .unwrap();
    let token = zhang.identity().unwrap().unwrap().device_token;
    let made = zhang.create(opinion(OPINION), None).unwrap();
    // A plain device of the same village: the control, whose store shows
    // the same text in the clear, so the search below would find it.
    let li = Device::enrol(&township, server.addr, "li").await;
    let pulled = li.client.create(problem(PROBLEM), None).unwrap();
    li.client.sync().await.unwrap();
    assert_eq!(zhang.sync().await.unwrap().pushed, 1);
    li.client.sync().await.unwrap();
    let li_token = li.client.identity().unwrap().unwrap().device_token;
    for needle in [OPINION, PROBLEM, li_token.as_str()] {
        assert!(
            !files_holding(&li.path, needle).is_empty(),
            "the plain store should show {needle}"
        );
    }

    // Open, with its log in use: nothing readable in any of its files.
    assert!(
        std::fs::metadata(sqlite_files(&path)[1].as_path())
            .unwrap()
            .len()
            > 0,
        "the write-ahead log is in use"
    );
    for needle in [OPINION, PROBLEM, token.as_str()] {
        assert_eq!(
            files_holding(&path, needle),
            Vec::<String>::new(),
            "{needle}"
        );
    }
    let before = zhang.list_all(None).unwrap();
    assert_eq!(before.len(), 2);
    drop(zhang);

    // Closed: the same, and plain SQLite sees no database.
    for needle in [OPINION, PROBLEM, token.as_str()] {
        assert_eq!(
            files_holding(&path, needle),
            Vec::<String>::new(),
            "{needle}"
        );
    }
    let head = std::fs::read(&path).unwrap();
    assert_ne!(&head[..16], b"SQLite format 3\0");
    let plain = rusqlite::Connection::open(&path).unwrap();
    let err = plain
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap_err();
    assert_eq!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase)
    );
    drop(plain);

    // No key, a wrong key, a key for a plain store: each says what it is.
    let no_key = store_key_error(Client::open(&path));
    assert!(no_key.contains("is encrypted"), "{no_key}");
    assert!(no_key.contains("open it with its key"), "{no_key}");
    let wrong = store_key_error(Client::open_with_key(&path, &StoreKey::random()));
    assert!(wrong.contains("the key does not open"), "{wrong}");
    let plain_with_key = store_key_error(Client::open_with_key(&li.path, &key));
    assert!(
        plain_with_key.contains("is not encrypted"),
        "{plain_with_key}"
    );

    // With the key everything is back, and sync goes on.
    let zhang = Client::open_with_key(&path, &key).unwrap();
    assert_eq!(zhang.identity().unwrap().unwrap().device_token, token);
    assert_eq!(zhang.list_all(None).unwrap(), before);
    assert!(zhang.get(&made).unwrap().record.is_some());
    assert!(zhang.get(&pulled).unwrap().record.is_some());
    zhang.create(problem("道路年久失修"), None).unwrap();
    assert_eq!(zhang.sync().await.unwrap().pushed, 1);

    // The command line: a key file, or the key in the environment.
    let key_file = dir.path().join("zhang.key");
    std::fs::write(&key_file, format!("{}\n", key.to_hex())).unwrap();
    let listed = cli(&path, Some(&key_file), None, &["list", "--json"]);
    assert!(listed.status.success(), "{listed:?}");
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains(OPINION) && listed.contains(PROBLEM),
        "{listed}"
    );
    let status = cli(&path, None, Some(&key.to_hex()), &["status", "--json"]);
    assert!(status.status.success(), "{status:?}");
    let refused = cli(&path, None, None, &["list"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("is encrypted") && said.contains("open it with its key"),
        "{said}"
    );
    let wrong = cli(&path, None, Some(&StoreKey::random().to_hex()), &["list"]);
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert!(said.contains("the key does not open"), "{said}");
    assert_eq!(said.lines().count(), 1, "one clear line: {said}");
    let malformed = cli(&path, None, Some("not a key"), &["list"]);
    assert!(String::from_utf8_lossy(&malformed.stderr).contains("64 hex characters"));

    server.stop().await;
}
