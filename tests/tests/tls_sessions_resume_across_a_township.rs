//! The server remembers the TLS session of every phone of a township: a
//! phone whose last sync came before hundreds of other phones' connections
//! still resumes its session (no certificate sent, a shorter handshake on a
//! slow link) rather than starting over, and keeps resuming sync after sync.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use massline_core::sync::tls;
use massline_tests::{TestServer, Township, raw};
use rustls::HandshakeKind;
use rustls::client::Resumption;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// More phones than rustls remembers sessions for by default (256); a
/// township has some 1,500.
const OTHER_PHONES: u16 = 300;
const CONNECTIONS_EACH: usize = 3;

/// HTTP/2's connection preface and an empty SETTINGS frame.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// A phone's TLS settings: pinned to the server, with sessions of its own,
/// and no early data, so the server's first frame follows its ticket.
fn phone(pin: [u8; 32]) -> Arc<rustls::ClientConfig> {
    let mut config = (*tls::client_config(pin)).clone();
    config.resumption = Resumption::in_memory_sessions(8);
    config.enable_early_data = false;
    Arc::new(config)
}

/// Connects as `phone` from `local`; returns how the handshake went. Reads
/// the server's first HTTP/2 frame, which follows its session tickets, so
/// the phone has them when the connection closes.
async fn connect(
    phone: &Arc<rustls::ClientConfig>,
    local: IpAddr,
    server: SocketAddr,
) -> HandshakeKind {
    let tcp = raw::tcp_from(local, server).await.unwrap();
    let name = ServerName::try_from("massline.local").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(phone.clone())
        .connect(name, tcp)
        .await
        .unwrap();
    let kind = tls.get_ref().1.handshake_kind().unwrap();
    tls.write_all(PREFACE).await.unwrap();
    let mut header = [0u8; 9];
    tls.read_exact(&mut header).await.unwrap();
    assert_eq!(header[3], 4, "the server's SETTINGS frame");
    kind
}

#[tokio::test]
async fn a_phone_resumes_its_session_after_hundreds_of_other_phones() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let pin = massline_server::certs::load_or_create(&town.data)
        .unwrap()
        .fingerprint;
    let first = phone(pin);
    let here = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1));
    assert_eq!(
        connect(&first, here, server.addr).await,
        HandshakeKind::Full
    );

    // Other phones sync, each from its own address, a few times each.
    for i in 0..OTHER_PHONES {
        let other = phone(pin);
        let [high, low] = i.to_be_bytes();
        let addr = IpAddr::V4(Ipv4Addr::new(127, 0, 2 + high, low));
        for _ in 0..CONNECTIONS_EACH {
            connect(&other, addr, server.addr).await;
        }
    }

    for sync in 1..=3 {
        assert_eq!(
            connect(&first, here, server.addr).await,
            HandshakeKind::Resumed,
            "sync {sync} after {} other connections",
            usize::from(OTHER_PHONES) * CONNECTIONS_EACH
        );
    }
    server.stop().await;
}
