//! HTTP/2 frames written by hand over TLS pinned to a test township's
//! server, for the tests of what no HTTP/2 library sends.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;

use crate::Township;

/// What a client sends first.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types.
pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;
pub const CONTINUATION: u8 = 0x9;

/// Flags.
pub const ACK: u8 = 0x1;
pub const END_STREAM: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;

/// Error codes.
pub const CANCEL: u32 = 0x8;
pub const ENHANCE_YOUR_CALM: u32 = 0xb;

/// The path of a gRPC health check, a call anyone may make.
pub const HEALTH: &str = "/grpc.health.v1.Health/Check";

/// A TLS connection to the server.
pub type Tls = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

/// A frame of `kind`, with `flags`, on `stream`.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = Vec::with_capacity(9 + payload.len());
    f.extend_from_slice(&len.to_be_bytes()[1..]);
    f.push(kind);
    f.push(flags);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK integer with an `n`-bit prefix, the prefix's other bits `mask`.
pub fn hpack_int(out: &mut Vec<u8>, mask: u8, n: u32, mut v: usize) {
    let max = (1usize << n) - 1;
    if v < max {
        out.push(mask | v as u8);
        return;
    }
    out.push(mask | max as u8);
    v -= max;
    while v >= 128 {
        out.push((v % 128 + 128) as u8);
        v /= 128;
    }
    out.push(v as u8);
}

/// A header field written out in full (`0x00`: not indexed, `0x40`: stored
/// in the dynamic table).
pub fn literal(out: &mut Vec<u8>, kind: u8, name: &str, value: &[u8]) {
    out.push(kind);
    hpack_int(out, 0, 7, name.len());
    out.extend_from_slice(name.as_bytes());
    hpack_int(out, 0, 7, value.len());
    out.extend_from_slice(value);
}

/// The header block of a gRPC call to `path` (also a fine request for a
/// dashboard page), its body to follow.
pub fn request(method: &str, path: &str) -> Vec<u8> {
    let mut b = Vec::new();
    literal(&mut b, 0, ":method", method.as_bytes());
    literal(&mut b, 0, ":scheme", b"https");
    literal(&mut b, 0, ":path", path.as_bytes());
    literal(&mut b, 0, ":authority", b"massline.local");
    literal(&mut b, 0, "content-type", b"application/grpc");
    literal(&mut b, 0, "te", b"trailers");
    literal(&mut b, 0, "authorization", b"Bearer not-a-token");
    b
}

/// An HTTP/2 connection to `server` (pinned to `town`'s certificate), past
/// the preface and an empty SETTINGS frame, so the server owes it one
/// acknowledgement already. `buffers` sets the socket's buffers each way.
pub async fn connect(town: &Township, server: SocketAddr, buffers: Option<u32>) -> Tls {
    let pin = massline_server::certs::load_or_create(&town.data)
        .unwrap()
        .fingerprint;
    let mut config = (*massline_core::sync::tls::client_config(pin)).clone();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(size) = buffers {
        socket.set_recv_buffer_size(size).unwrap();
        socket.set_send_buffer_size(size).unwrap();
    }
    let tcp = socket.connect(server).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("massline.local").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(SETTINGS, 0, 0, &[]));
    tls.write_all(&hello).await.unwrap();
    tls.flush().await.unwrap();
    tls
}
