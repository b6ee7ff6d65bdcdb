//! HTTP/2 frames no honest client sends cost the sender its connection, and
//! nobody else anything, on the devices' port and the dashboard's alike:
//! - streams opened and at once reset by the client (rapid reset), or made
//!   to be reset by the server (a stream's window pushed past 2³¹ − 1, so
//!   the server must reset it) free their stream's place at once, so they
//!   are not held to the streams-per-connection cap: past a bounded number
//!   of them the server sends the connection away (GOAWAY
//!   `ENHANCE_YOUR_CALM`) instead of starting calls without end;
//! - a request whose headers decode to more than the server takes (an HPACK
//!   bomb: one big header stored in the compression table, then named again
//!   and again at one byte each) is refused before any service sees it;
//! - a header block that never ends (CONTINUATION frames without end) is
//!   cut off once it passes the header limit, not buffered without bound;
//! - meanwhile an honest device syncs and the dashboard's login page is
//!   served.
//!
//! The frames are written by hand over TLS, pinned to the server's
//! certificate, since no HTTP/2 library sends them.

use std::net::SocketAddr;
use std::time::Duration;

use massline_tests::h2::{
    CANCEL, CONTINUATION, END_HEADERS, END_STREAM, ENHANCE_YOUR_CALM, GOAWAY, HEADERS, HEALTH,
    RST_STREAM, Tls, WINDOW_UPDATE, connect, frame, literal, request,
};
use massline_tests::web::Https;
use massline_tests::{Device, TestServer, Township, opinion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

/// Streams an abusive connection opens, far more than the server should
/// take before sending it away.
const STREAMS: u32 = 20_000;

/// What the server sent on a connection.
#[derive(Debug, Default)]
struct Heard {
    /// The GOAWAY's error code, if one came.
    goaway: Option<u32>,
    /// Response header blocks, and how many of them began `:status: 200`.
    headers: usize,
    ok: usize,
    resets: usize,
    /// The connection ended (EOF or error).
    closed: bool,
}

/// Reads frames until the connection ends or `quiet` passes with nothing.
fn listen(mut rd: tokio::io::ReadHalf<Tls>, quiet: Duration) -> JoinHandle<Heard> {
    tokio::spawn(async move {
        let mut heard = Heard::default();
        let mut head = [0u8; 9];
        loop {
            match tokio::time::timeout(quiet, rd.read_exact(&mut head)).await {
                Err(_) => return heard,
                Ok(Err(_)) => {
                    heard.closed = true;
                    return heard;
                }
                Ok(Ok(_)) => {}
            }
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let mut body = vec![0; len];
            if rd.read_exact(&mut body).await.is_err() {
                heard.closed = true;
                return heard;
            }
            match head[3] {
                HEADERS => {
                    heard.headers += 1;
                    // `:status: 200` is entry 8 of the static table.
                    if body.first() == Some(&0x88) {
                        heard.ok += 1;
                    }
                }
                RST_STREAM => heard.resets += 1,
                GOAWAY => {
                    heard.goaway = Some(u32::from_be_bytes([body[4], body[5], body[6], body[7]]))
                }
                _ => {}
            }
        }
    })
}

/// Writes `frames` for stream ids 1, 3, 5, … (`STREAMS` of them), in
/// batches, until the server stops reading; returns how many were written.
async fn flood(wr: &mut tokio::io::WriteHalf<Tls>, per_stream: impl Fn(u32) -> Vec<u8>) -> u32 {
    let mut written = 0;
    while written < STREAMS {
        let mut batch = Vec::new();
        for i in written..(written + 100).min(STREAMS) {
            batch.extend(per_stream(2 * i + 1));
        }
        match tokio::time::timeout(Duration::from_secs(2), wr.write_all(&batch)).await {
            Ok(Ok(())) => {}
            _ => break,
        }
        written = (written + 100).min(STREAMS);
    }
    let _ = wr.flush().await;
    written
}

/// An honest device syncs while `attack` runs.
async fn device_syncs_meanwhile(device: &Device) {
    device.client.create(opinion("晒场的路要修"), None).unwrap();
    tokio::time::timeout(Duration::from_secs(8), device.client.sync())
        .await
        .expect("an honest sync hung during the flood")
        .unwrap();
}

async fn abuse_is_sent_away(
    town: &Township,
    server: SocketAddr,
    per_stream: impl Fn(u32) -> Vec<u8>,
) -> (u32, Heard) {
    let tls = connect(town, server, None).await;
    let (rd, mut wr) = tokio::io::split(tls);
    let heard = listen(rd, Duration::from_secs(3));
    let written = flood(&mut wr, per_stream).await;
    let heard = heard.await.unwrap();
    (written, heard)
}

fn assert_sent_away(what: &str, written: u32, heard: &Heard) {
    assert_eq!(
        heard.goaway,
        Some(ENHANCE_YOUR_CALM),
        "{what}: {written} streams written, the server answered {heard:?}"
    );
}

/// On the devices' port, then the dashboard's, a connection whose every
/// stream is `per_stream` is sent away while an honest device syncs.
async fn sent_away_on_both_ports(per_stream: impl Fn(u32) -> Vec<u8> + Copy) {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    for (port, name) in [(server.addr, "devices"), (server.web.unwrap(), "dashboard")] {
        let attack = abuse_is_sent_away(&town, port, per_stream);
        let (written, heard) = tokio::join!(attack, device_syncs_meanwhile(&li)).0;
        assert_sent_away(name, written, &heard);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rapid_resets_send_the_connection_away() {
    sent_away_on_both_ports(|id| {
        let mut f = frame(HEADERS, END_HEADERS, id, &request("POST", HEALTH));
        f.extend(frame(RST_STREAM, 0, id, &CANCEL.to_be_bytes()));
        f
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_the_server_must_reset_send_the_connection_away() {
    sent_away_on_both_ports(|id| {
        // The stream's send window is 65,535 to start with: twice
        // 2³¹ − 1 more overflows it, a stream error the server answers
        // with a reset of its own.
        let mut f = frame(HEADERS, END_HEADERS, id, &request("POST", HEALTH));
        for _ in 0..2 {
            f.extend(frame(WINDOW_UPDATE, 0, id, &0x7fff_ffffu32.to_be_bytes()));
        }
        f
    })
    .await;
}

/// What the server answers a request whose header block is `block`
/// (a GET, ended with its headers), on a connection of its own.
async fn answer_to(town: &Township, port: SocketAddr, block: &[u8]) -> Heard {
    let tls = connect(town, port, None).await;
    let (rd, mut wr) = tokio::io::split(tls);
    let heard = listen(rd, Duration::from_secs(2));
    wr.write_all(&frame(HEADERS, END_HEADERS | END_STREAM, 1, block))
        .await
        .unwrap();
    wr.flush().await.unwrap();
    let heard = heard.await.unwrap();
    drop(wr);
    heard
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_that_decode_past_the_limit_reach_no_service() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    // A health check (its request message left out: tonic answers 200 with
    // a gRPC error, having read the headers)
    // and the login page: each answered 200 when asked honestly.
    for (port, path) in [(server.addr, HEALTH), (server.web.unwrap(), "/login")] {
        let honest = request("GET", path);
        let heard = answer_to(&town, port, &honest).await;
        assert_eq!(heard.ok, 1, "{path} asked honestly: {heard:?}");
        // The same, with one 4,000-byte header stored in the compression
        // table and named again 40 times, one byte each: 160 KB of headers
        // decoded from 4 KB.
        let mut bomb = honest.clone();
        literal(&mut bomb, 0x40, "x-bomb", &[b'a'; 4000]);
        bomb.extend(std::iter::repeat_n(0x80 | 62, 40));
        let heard = answer_to(&town, port, &bomb).await;
        assert_eq!(
            heard.ok, 0,
            "{path} asked with 160 KB of headers: {heard:?}"
        );
        assert!(
            heard.goaway.is_some() || heard.resets > 0 || heard.headers > 0,
            "{path} asked with 160 KB of headers: no refusal came, {heard:?}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_blocks_that_never_end_are_cut_off() {
    let town = Township::new();
    let server = TestServer::start_with_dashboard(&town).await;
    let https = Https::new(&town, server.web.unwrap());
    for port in [server.addr, server.web.unwrap()] {
        let tls = connect(&town, port, None).await;
        let (rd, mut wr) = tokio::io::split(tls);
        let heard = listen(rd, Duration::from_secs(3));
        let mut out = frame(HEADERS, 0, 1, &request("POST", HEALTH));
        let mut junk = Vec::new();
        for i in 0..300 {
            literal(&mut junk, 0, &format!("x-junk-{i}"), &[b'b'; 32]);
        }
        let mut sent = out.len();
        let mut cut = false;
        // Up to 64 MiB of one header block, in frames of some 13 KB.
        while sent < 64 << 20 {
            out.extend(frame(CONTINUATION, 0, 1, &junk));
            if out.len() > 256 << 10 {
                sent += out.len();
                let w = tokio::time::timeout(Duration::from_secs(2), wr.write_all(&out)).await;
                out.clear();
                if !matches!(w, Ok(Ok(()))) {
                    cut = true;
                    break;
                }
            }
        }
        let heard = heard.await.unwrap();
        assert!(
            cut || heard.closed || heard.goaway.is_some(),
            "{sent} bytes of one header block taken: {heard:?}"
        );
        // Cut off at the header limit (16 KiB): what was written counts
        // what the sockets' buffers took besides, a few MiB on loopback. A
        // limit of 16 MiB would take some 20 MiB.
        assert!(sent < 10 << 20, "{sent} bytes of one header block taken");
    }
    assert_eq!(https.get("/login", &[]).await.status, 200);
    server.stop().await;
}
