//! The dashboard's port has the devices' connection hygiene: a connection
//! that says nothing, or stops halfway through its TLS handshake, is closed
//! at the handshake timeout, and one that asks nothing after its handshake
//! at the idle timeout, while pages are served meanwhile.

use std::time::{Duration, Instant};

use massline_server::connections::ConnectionLimits;
use massline_tests::web::Https;
use massline_tests::{TestServer, Township};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long until the server closes `stream` (reads until end of file).
async fn closed_after(mut stream: impl tokio::io::AsyncRead + Unpin) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("the connection stayed open 20 s"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_idle_browser_connections_are_closed() {
    let town = Township::new();
    let server = TestServer::start_dashboard_configured(&town, |c| {
        c.web.connections = ConnectionLimits {
            handshake_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(2),
            ..c.web.connections.clone()
        };
    })
    .await;
    let addr = server.web.unwrap();

    let silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut half = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The first bytes of a TLS ClientHello, and no more.
    half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc])
        .await
        .unwrap();
    let https = Https::new(&town, addr);
    let (silent, half, page) = tokio::join!(
        closed_after(silent),
        closed_after(half),
        https.get("/login", &[])
    );
    assert_eq!(page.status, 200, "no page while connections hang");
    for (what, took) in [("silent", silent), ("half a handshake", half)] {
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(5),
            "{what}: closed after {took:?}"
        );
    }

    // Past the handshake, a connection that asks nothing is closed when idle.
    let pin = massline_server::certs::load_or_create(&town.data)
        .unwrap()
        .fingerprint;
    let mut config = (*massline_core::sync::tls::client_config(pin)).clone();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(
            rustls::pki_types::ServerName::try_from("massline.local").unwrap(),
            tcp,
        )
        .await
        .unwrap();
    let idle = closed_after(tls).await;
    assert!(
        idle >= Duration::from_millis(1500) && idle < Duration::from_secs(6),
        "idle connection closed after {idle:?}"
    );
    server.stop().await;
}
