//! Early data (TLS 1.3 0-RTT) can be replayed by whoever captured it: the
//! server reads it only with a ticket it keeps in memory and uses up, so a
//! phone's connection sent again byte for byte gets no second answer.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use massline_core::sync::link::Handshake;
use massline_tests::metrics::{sample, scrape};
use massline_tests::{Device, TestServer, Township};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long the proxy holds the server's first bytes: the client can send
/// nothing but its first flight before they reach it.
const HOLD: Duration = Duration::from_millis(300);

/// A TCP proxy to `target` that keeps, connection by connection, what each
/// client sent before the server's first bytes reached it: its first flight
/// (the ClientHello and any early data), which is what an eavesdropper
/// replays; the rest (the client's `Finished`) depends on the server's
/// answer, which a replay never matches.
async fn recording_proxy(target: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let kept = sent.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(target).await.unwrap();
            let n = {
                let mut s = kept.lock().unwrap();
                s.push(Vec::new());
                s.len() - 1
            };
            let kept = kept.clone();
            let answered = Arc::new(AtomicBool::new(false));
            tokio::spawn(async move {
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = async {
                    let mut buf = vec![0u8; 16 << 10];
                    while let Ok(k) = cr.read(&mut buf).await {
                        if k == 0 || sw.write_all(&buf[..k]).await.is_err() {
                            break;
                        }
                        if !answered.load(Ordering::SeqCst) {
                            kept.lock().unwrap()[n].extend_from_slice(&buf[..k]);
                        }
                    }
                    let _ = sw.shutdown().await;
                };
                let down = async {
                    let mut first = vec![0u8; 16 << 10];
                    if let Ok(k @ 1..) = sr.read(&mut first).await {
                        tokio::time::sleep(HOLD).await;
                        answered.store(true, Ordering::SeqCst);
                        if cw.write_all(&first[..k]).await.is_ok() {
                            let _ = tokio::io::copy(&mut sr, &mut cw).await;
                        }
                    }
                    let _ = cw.shutdown().await;
                };
                tokio::join!(up, down);
            });
        }
    });
    (addr, sent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_data_replayed_from_a_capture_is_not_read_again() {
    let town = Township::new();
    let (server, metrics) = TestServer::start_with_metrics(&town).await;
    let (proxy, captured) = recording_proxy(server.addr).await;
    let zhao = Device::enrol_through(&town, server.addr, proxy, "zhao").await;
    let idle = zhao.client.sync().await.unwrap();
    assert_eq!(idle.handshake, Handshake::EarlyData, "{idle:?}");

    let before = tokio::task::spawn_blocking(move || scrape(metrics))
        .await
        .unwrap();
    let pulls = sample(&before, "massline_pull_calls_total");
    let early = sample(
        &before,
        "massline_tls_handshakes_total{kind=\"early_data\"}",
    );
    assert_eq!((pulls, early), (Some(1.0), Some(1.0)), "{before}");

    // The phone's first flight on the sync's connection (the ClientHello
    // with the pull in early data), sent again on a new connection.
    let capture = captured.lock().unwrap().last().unwrap().clone();
    // A TLS record's header is 5 bytes, its length the last two: more than
    // the ClientHello's record was sent, i.e. early data.
    let hello = 5 + usize::from(u16::from_be_bytes([capture[3], capture[4]]));
    assert!(
        capture.len() > hello + 100,
        "{} bytes captured, {hello} of them the ClientHello",
        capture.len()
    );
    let mut replay = TcpStream::connect(server.addr).await.unwrap();
    replay.write_all(&capture).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), replay.read_to_end(&mut answer)).await;

    let after = tokio::task::spawn_blocking(move || scrape(metrics))
        .await
        .unwrap();
    assert_eq!(
        sample(&after, "massline_pull_calls_total"),
        pulls,
        "a replayed pull was answered: {after}"
    );
    assert_eq!(
        sample(&after, "massline_tls_handshakes_total{kind=\"early_data\"}"),
        early,
        "{after}"
    );
    server.stop().await;
}
