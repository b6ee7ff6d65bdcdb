//! A connection that never finishes its TLS handshake (says nothing, or
//! starts a ClientHello and stops) is closed after the handshake timeout,
//! and devices still enrol meanwhile.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use massline_tests::{Device, TestServer, Township, raw};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HANDSHAKE: Duration = Duration::from_millis(400);

/// Waits until the server closes `tcp`; returns how long that took.
async fn closed_after(mut tcp: tokio::net::TcpStream, opened: Instant) -> Duration {
    let mut buf = [0u8; 256];
    let outcome = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(outcome.is_ok(), "the server kept a silent handshake open");
    opened.elapsed()
}

#[tokio::test]
async fn a_handshake_never_finished_is_closed_after_the_timeout() {
    let town = Township::new();
    let server = TestServer::start_configured(&town, "127.0.0.1:0", |c| {
        c.connections.handshake_timeout = HANDSHAKE;
    })
    .await;
    let local = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

    let opened = Instant::now();
    let silent = raw::tcp_from(local, server.addr).await.unwrap();
    let mut started = raw::tcp_from(local, server.addr).await.unwrap();
    // A TLS record header announcing a ClientHello of 512 bytes, and 5 of them.
    started
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03])
        .await
        .unwrap();

    // Meanwhile a device enrols as usual.
    Device::enrol(&town, server.addr, "wang").await;

    for (what, tcp) in [("silent", silent), ("half a ClientHello", started)] {
        let took = closed_after(tcp, opened).await;
        eprintln!("{what}: closed after {took:?}");
        assert!(
            took >= HANDSHAKE - Duration::from_millis(50),
            "{what}: closed after {took:?}, before the timeout"
        );
        assert!(
            took < HANDSHAKE + Duration::from_secs(3),
            "{what}: closed only after {took:?}"
        );
    }
    server.stop().await;
}
