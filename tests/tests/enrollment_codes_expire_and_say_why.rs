//! Enrollment codes expire (seven days unless `admin enroll-code
//! --valid-for` says otherwise), and an expired code, a used one and an
//! unknown one are refused each with its own reason, which reaches the
//! person enrolling through the client's error and the command line.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use massline_core::Client;
use massline_tests::{TestServer, Township, cli_binary, server_binary};

fn admin(data: &Path, args: &[&str]) -> Output {
    Command::new(server_binary())
        .arg("admin")
        .arg("--data")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "off")
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// `admin enroll-code` for `person`, with `more` options; the code.
fn enroll_code(town: &Township, server: &TestServer, person: &str, more: &[&str]) -> String {
    let addr = server.addr.to_string();
    let mut args = vec![
        "enroll-code",
        "--person",
        person,
        "--address",
        &addr,
        "--no-qr",
    ];
    args.extend_from_slice(more);
    let out = admin(&town.data, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `massline enroll CODE` on a fresh store: its error message.
fn cli_enroll_error(code: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(cli_binary())
        .arg("--store")
        .arg(dir.path().join("device.db"))
        .args(["enroll", code])
        .env("MASSLINE_LANG", "en")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success(), "enrolled with {code}");
    String::from_utf8(out.stderr).unwrap()
}

/// `Client::enroll` with `code` on a fresh store: its error, and whether the
/// store stayed unenrolled.
async fn client_enroll_error(code: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::open(dir.path().join("device.db")).unwrap();
    let err = client.enroll(code, None, "phone").await.unwrap_err();
    assert!(client.identity().unwrap().is_none());
    err.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_says_it_expired() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let code = enroll_code(&town, &server, "wang", &["--valid-for", "1s"]);
    // Valid to the second: two seconds on it has certainly run out.
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let client = client_enroll_error(&code).await;
    assert!(client.contains("expired"), "{client}");
    assert!(!client.contains("already used"), "{client}");
    let cli = cli_enroll_error(&code);
    assert!(cli.contains("expired on"), "{cli}");
    assert!(
        cli.contains("ask the township office for a new one"),
        "{cli}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_code_says_it_was_used_and_an_unknown_one_that_it_is_unknown() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let code = enroll_code(&town, &server, "wang", &[]);
    let dir = tempfile::tempdir().unwrap();
    Client::open(dir.path().join("first.db"))
        .unwrap()
        .enroll(&code, None, "first")
        .await
        .unwrap();

    let client = client_enroll_error(&code).await;
    assert!(client.contains("already used"), "{client}");
    assert!(!client.contains("expired"), "{client}");
    let cli = cli_enroll_error(&code);
    assert!(cli.contains("already used"), "{cli}");

    // The same code with its secret changed: no such code.
    let (head, rest) = code.split_once("://").unwrap();
    let (addr, tail) = rest.split_once('/').unwrap();
    let other = if tail.starts_with('A') { 'B' } else { 'A' };
    let unknown = format!("{head}://{addr}/{other}{}", &tail[1..]);
    let client = client_enroll_error(&unknown).await;
    assert!(client.contains("unknown"), "{client}");
    server.stop().await;
}

#[tokio::test]
async fn codes_are_valid_seven_days_unless_told_otherwise_and_never_beyond_ninety() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    enroll_code(&town, &server, "wang", &[]);
    enroll_code(&town, &server, "zhao", &["--valid-for", "2d"]);
    enroll_code(&town, &server, "li", &["--valid-for", "12h"]);
    let db = town.server_db();
    let validity = |person: &str| -> i64 {
        db.query_row(
            "SELECT expires_at - created_at FROM enrollment_codes WHERE person = ?1",
            [person],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(validity("wang"), 7 * 86_400);
    assert_eq!(validity("zhao"), 2 * 86_400);
    assert_eq!(validity("li"), 12 * 3_600);

    for bad in ["0d", "91d", "2x", "d", "7天"] {
        let out = admin(
            &town.data,
            &[
                "enroll-code",
                "--person",
                "wang",
                "--valid-for",
                bad,
                "--no-qr",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "--valid-for {bad} accepted");
        assert!(stderr.contains("--valid-for"), "{bad}: {stderr}");
    }
    server.stop().await;
}
