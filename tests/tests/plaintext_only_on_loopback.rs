//! `massline-server serve --plaintext` refuses, at start and with a clear
//! error, to listen on anything but a loopback address; on loopback it
//! serves.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use massline_server::ServeConfig;
use massline_tests::{Township, server_binary};

#[test]
fn plaintext_on_a_network_address_is_refused_at_start() {
    let town = Township::new();
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let mut child = Command::new(server_binary())
            .args(["serve", "--plaintext", "--listen", listen, "--data"])
            .arg(&town.data)
            .env("RUST_LOG", "off")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                child.kill().unwrap();
                panic!("{listen}: serving plain text");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(!status.success(), "{listen}: exited with {status}");
        assert!(
            stderr.contains("loopback") && stderr.contains("--plaintext"),
            "{listen}: {stderr}"
        );
    }
}

#[tokio::test]
async fn plaintext_serves_on_loopback_and_is_refused_elsewhere_by_run() {
    let town = Township::new();
    let config = |tls| ServeConfig {
        tls,
        ..massline_tests::serve_config(&town)
    };

    let anywhere = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        massline_server::run(anywhere, config(false), std::future::pending()),
    )
    .await
    .expect("serving plain text on 0.0.0.0")
    .unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");

    let loopback = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = loopback.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(massline_server::run(loopback, config(false), async {
        let _ = stopped.await;
    }));
    // A plain-text enrollment code (once the server has said it serves
    // plain text) reaches it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        let code = town.code("wang", addr);
        if code.starts_with("massline+plain://") {
            break code;
        }
        assert!(Instant::now() < deadline, "{code}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let dir = tempfile::tempdir().unwrap();
    let client = massline_core::Client::open(dir.path().join("device.db")).unwrap();
    tokio::time::timeout(Duration::from_secs(10), client.enroll(&code, None, "wang"))
        .await
        .unwrap()
        .unwrap();
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
}
