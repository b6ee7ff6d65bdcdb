//! HTTP/2 control frames sent without end cost their sender, not the
//! server, on the devices' port and the dashboard's alike:
//! - SETTINGS and PINGs each owe the sender an acknowledgement. A sender
//!   that never reads them does not make the server queue them: the server
//!   holds at most one unsent and reads no further frame until it is
//!   written, so once the sockets' buffers are full it stops reading the
//!   connection and the sender's writes stall. It does not send the
//!   connection away. Read back later, each frame is answered exactly once.
//! - A sender that reads its acknowledgements gets each frame answered
//!   once, as fast as it reads them, and nothing else.
//! - Empty DATA frames carry nothing but framing: a connection that sends
//!   them over and over is sent away (GOAWAY `ENHANCE_YOUR_CALM`).
//! - None of these frames is a call, so a flooding connection is closed at
//!   the idle timeout whatever it sends: one that is stalled, one that reads
//!   its acknowledgements, and one that sends connection WINDOW_UPDATEs
//!   (which the server reads and does not answer).
//! - Meanwhile and afterwards an honest device syncs and the dashboard's
//!   login page is served.
//!
//! The frames are written by hand over TLS, pinned to the server's
//! certificate, since no HTTP/2 library sends them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use massline_tests::h2::{
    self, ACK, DATA, END_HEADERS, ENHANCE_YOUR_CALM, GOAWAY, HEADERS, HEALTH, PING, SETTINGS, Tls,
    WINDOW_UPDATE, frame, request,
};
use massline_tests::web::Https;
use massline_tests::{Device, TestServer, Township, opinion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

const SETTINGS_HEADER_TABLE_SIZE: u16 = 0x1;

/// The attacker's socket buffers, each way (the kernel doubles them). Set
/// small so that the flood fills the pipe sooner; the server's buffers are
/// the kernel's own choice.
const ATTACKER_BUFFER: u32 = 64 << 10;

/// A flood that takes nothing for this long has stalled: the server has
/// stopped reading.
const STALL: Duration = Duration::from_millis(500);

/// How long an honest device's sync, or the login page, may take during a
/// flood (some 15 ms each when nothing else runs).
const HONEST: Duration = Duration::from_secs(5);

/// A SETTINGS frame setting the header table to its default size: valid,
/// and owed an acknowledgement.
fn settings() -> Vec<u8> {
    let mut p = SETTINGS_HEADER_TABLE_SIZE.to_be_bytes().to_vec();
    p.extend_from_slice(&4096u32.to_be_bytes());
    frame(SETTINGS, 0, 0, &p)
}

/// A PING, owed a PING with the ACK flag and the same payload.
fn ping() -> Vec<u8> {
    frame(PING, 0, 0, b"massline")
}

type Reader = tokio::io::ReadHalf<Tls>;
type Writer = tokio::io::WriteHalf<Tls>;

/// An HTTP/2 connection to `server` with small socket buffers, past the
/// preface and an empty SETTINGS frame (so the server owes one
/// acknowledgement already).
async fn connect(town: &Township, server: SocketAddr) -> (Reader, Writer) {
    tokio::io::split(h2::connect(town, server, Some(ATTACKER_BUFFER)).await)
}

/// The most frames a flood can have written before it stalls, if the
/// server queues nothing: each frame the server has read sits in the pipe
/// back as an answer of at least 9 bytes (a frame's header), each it has
/// not read sits in the pipe forward, of at least 9 bytes too. The pipes
/// are the sockets' buffers, which the kernel grows up to `tcp_rmem` and
/// `tcp_wmem`'s maxima, and TLS's and HTTP/2's own buffers (tens of KiB).
fn pipe_bound_frames() -> u64 {
    let max = |file: &str, otherwise: u64| {
        std::fs::read_to_string(format!("/proc/sys/net/ipv4/{file}"))
            .ok()
            .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
            .unwrap_or(otherwise)
    };
    (max("tcp_rmem", 64 << 20) + max("tcp_wmem", 64 << 20) + (2 << 20)) / 9
}

#[derive(Debug, PartialEq, Eq)]
enum End {
    /// Nothing taken for the stall time: the server stopped reading.
    Stalled,
    /// The connection failed: the server closed it.
    Closed,
    /// All the frames asked for were written.
    Written,
}

#[derive(Debug)]
struct Flood {
    /// Whole frames written (taken by the TLS stream; the last few tens of
    /// KiB may wait in its buffer).
    frames: u64,
    end: End,
    /// From the flood's start to its end (the stall time left out).
    took: Duration,
    /// The longest a write waited for the connection to take anything.
    longest_wait: Duration,
    /// The rest of a frame written in part.
    rest: Vec<u8>,
}

/// Writes `one` again and again, `frames` times, pausing `pause` between
/// writes and reading nothing, unless the connection takes nothing for
/// `stall` or fails first.
async fn flood(
    wr: &mut Writer,
    one: &[u8],
    frames: u64,
    stall: Duration,
    pause: Duration,
) -> Flood {
    let batch = one.repeat(1024);
    let len = one.len() as u64;
    let total = frames.saturating_mul(len);
    let start = Instant::now();
    let mut bytes = 0u64;
    let mut longest_wait = Duration::ZERO;
    let end = loop {
        if bytes == total {
            break End::Written;
        }
        let at = (bytes % batch.len() as u64) as usize;
        let upto = (at as u64 + (total - bytes)).min(batch.len() as u64) as usize;
        let waiting = Instant::now();
        let wrote = tokio::time::timeout(stall, wr.write(&batch[at..upto])).await;
        longest_wait = longest_wait.max(waiting.elapsed());
        match wrote {
            Ok(Ok(0)) | Ok(Err(_)) => break End::Closed,
            Ok(Ok(n)) => bytes += n as u64,
            Err(_) => break End::Stalled,
        }
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    };
    let mut took = start.elapsed();
    if end == End::Stalled {
        took -= stall;
    }
    let part = (bytes % len) as usize;
    let rest = if part == 0 {
        Vec::new()
    } else {
        one[part..].to_vec()
    };
    Flood {
        frames: bytes / len,
        end,
        took,
        longest_wait,
        rest,
    }
}

/// What the server sent on a connection.
#[derive(Debug, Default)]
struct Heard {
    settings_acks: u64,
    ping_acks: u64,
    /// The GOAWAY's error code, if one came.
    goaway: Option<u32>,
    /// The connection ended (EOF or error).
    closed: bool,
    /// When it ended, since the listening started.
    closed_after: Option<Duration>,
}

/// Reads frames until `settings_acks` SETTINGS and `ping_acks` PINGs have
/// been acknowledged, then on for a moment to hear any acknowledgement too
/// many; or until the connection ends, or `within` passes.
fn listen(
    mut rd: Reader,
    settings_acks: u64,
    ping_acks: u64,
    within: Duration,
) -> JoinHandle<Heard> {
    tokio::spawn(async move {
        let mut heard = Heard::default();
        let start = Instant::now();
        let mut deadline = start + within;
        let mut head = [0u8; 9];
        let mut done = false;
        loop {
            if !done && heard.settings_acks >= settings_acks && heard.ping_acks >= ping_acks {
                done = true;
                deadline = Instant::now() + Duration::from_millis(200);
            }
            match tokio::time::timeout_at(deadline.into(), rd.read_exact(&mut head)).await {
                Err(_) => return heard,
                Ok(Err(_)) => break,
                Ok(Ok(_)) => {}
            }
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let mut body = vec![0; len];
            if rd.read_exact(&mut body).await.is_err() {
                break;
            }
            match (head[3], head[4] & ACK) {
                (SETTINGS, ACK) => heard.settings_acks += 1,
                (PING, ACK) => heard.ping_acks += 1,
                (GOAWAY, _) => {
                    heard.goaway = Some(u32::from_be_bytes([body[4], body[5], body[6], body[7]]))
                }
                _ => {}
            }
        }
        heard.closed = true;
        heard.closed_after = Some(start.elapsed());
        heard
    })
}

/// An honest device makes a record and syncs it, and the dashboard's login
/// page is served, each within [`HONEST`].
async fn others_are_served(li: &Device, https: &Https, when: &str) {
    li.client.create(opinion("晒场的路要修"), None).unwrap();
    let report = tokio::time::timeout(HONEST, li.client.sync())
        .await
        .unwrap_or_else(|_| panic!("{when}: an honest sync hung"))
        .unwrap();
    assert!(
        report.pushed > 0 && report.refused == 0,
        "{when}: the honest device's record did not get through: {report:?}"
    );
    let login = tokio::time::timeout(HONEST, https.get("/login", &[]))
        .await
        .unwrap_or_else(|_| panic!("{when}: the login page hung"));
    assert_eq!(login.status, 200, "{when}: the login page");
}

/// A server with its dashboard, an enrolled device and a dashboard client.
async fn township(
    tweak: impl FnOnce(&mut massline_server::ServeConfig),
) -> (Township, TestServer, Device, Https) {
    let town = Township::new();
    let server = TestServer::start_dashboard_configured(&town, tweak).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let https = Https::new(&town, server.web.unwrap());
    (town, server, li, https)
}

/// On the devices' port, then the dashboard's, a connection that writes
/// `one` (a frame owed an acknowledgement) without end and never reads:
/// the server stops reading it within what the sockets' buffers hold, and
/// answers every frame once it is read; others are served throughout.
/// Gives the connection's SETTINGS and PING acknowledgements owed per
/// frame.
async fn unread_acknowledgements_stop_the_reading(one: &[u8], owed: (u64, u64)) {
    let (town, server, li, https) = township(|_| {}).await;
    let bound = pipe_bound_frames();
    for (port, name) in [(server.addr, "devices"), (server.web.unwrap(), "dashboard")] {
        let (rd, mut wr) = connect(&town, port).await;
        let during = format!("{name}: during the flood");
        let (flooded, ()) = tokio::join!(
            flood(&mut wr, one, bound + 1, STALL, Duration::ZERO),
            others_are_served(&li, &https, &during),
        );
        // What the server does: it stops reading (it neither sends the
        // connection away nor closes it). Here some 495,000 SETTINGS
        // (7 MiB) or 272,000 PINGs (4.4 MiB) are written, in 0.3 to 0.7 s,
        // before the writes stall: the server's socket send buffer, grown
        // by the kernel to `tcp_wmem`'s maximum (4 MiB), holds the
        // acknowledgements of all but the last 20,000 or so; the server
        // itself holds one.
        println!(
            "{name}: {} frames in {:?}, then {:?}; at most {bound} fit in the pipes",
            flooded.frames, flooded.took, flooded.end
        );
        assert!(
            flooded.end != End::Written && flooded.frames <= bound,
            "{name}: the server read {} frames of {} bytes, past what the sockets hold, \
             so it queues its acknowledgements: {flooded:?}",
            flooded.frames,
            one.len(),
        );
        others_are_served(&li, &https, &format!("{name}: while the flood is stalled")).await;

        // Read back, with what is left of the flood sent: every frame is
        // answered exactly once, none dropped and none twice.
        let sent = flooded.frames + u64::from(!flooded.rest.is_empty());
        let (settings_acks, ping_acks) = (1 + owed.0 * sent, owed.1 * sent);
        let heard = listen(rd, settings_acks, ping_acks, Duration::from_secs(10));
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            wr.write_all(&flooded.rest).await?;
            wr.flush().await
        })
        .await;
        let heard = heard.await.unwrap();
        println!("{name}: read back {heard:?}");
        if flooded.end == End::Stalled {
            assert!(
                heard.settings_acks == settings_acks
                    && heard.ping_acks == ping_acks
                    && heard.goaway.is_none()
                    && !heard.closed,
                "{name}: {sent} frames written, {settings_acks} SETTINGS and {ping_acks} PINGs \
                 owed an acknowledgement; heard {heard:?}",
            );
        } else {
            // Sent away: just as good.
            assert!(heard.goaway.is_some() || heard.closed, "{name}: {heard:?}");
        }
        drop(wr);
        others_are_served(&li, &https, &format!("{name}: after the flood")).await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_settings_acknowledgements_stop_the_server_reading() {
    unread_acknowledgements_stop_the_reading(&settings(), (1, 0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_ping_acknowledgements_stop_the_server_reading() {
    unread_acknowledgements_stop_the_reading(&ping(), (0, 1)).await;
}

/// SETTINGS and PINGs each, read back as they come.
const READ_BACK: u64 = 50_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_pings_read_back_are_each_answered_once() {
    let (town, server, li, https) = township(|_| {}).await;
    let pair = [settings(), ping()].concat();
    for (port, name) in [(server.addr, "devices"), (server.web.unwrap(), "dashboard")] {
        let (rd, mut wr) = connect(&town, port).await;
        let heard = listen(rd, 1 + READ_BACK, READ_BACK, Duration::from_secs(10));
        let during = format!("{name}: during the flood");
        let (flooded, ()) = tokio::join!(
            flood(
                &mut wr,
                &pair,
                READ_BACK,
                Duration::from_secs(5),
                Duration::ZERO
            ),
            others_are_served(&li, &https, &during),
        );
        wr.flush().await.unwrap();
        let heard = heard.await.unwrap();
        println!("{name}: {flooded:?}, {heard:?}");
        assert_eq!(flooded.end, End::Written, "{name}: {heard:?}");
        // What the server does: it answers each, some 400,000 frames a
        // second here, and sends nothing else. Sending the connection away
        // would do too.
        assert!(
            heard.goaway == Some(ENHANCE_YOUR_CALM)
                || (heard.settings_acks == 1 + READ_BACK
                    && heard.ping_acks == READ_BACK
                    && heard.goaway.is_none()
                    && !heard.closed),
            "{name}: {READ_BACK} SETTINGS and PINGs each: {heard:?}"
        );
        drop(wr);
        others_are_served(&li, &https, &format!("{name}: after the flood")).await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_data_frames_send_the_connection_away() {
    let (town, server, li, https) = township(|_| {}).await;
    for (port, name) in [(server.addr, "devices"), (server.web.unwrap(), "dashboard")] {
        let (rd, mut wr) = connect(&town, port).await;
        let heard = listen(rd, u64::MAX, u64::MAX, Duration::from_secs(5));
        wr.write_all(&frame(HEADERS, END_HEADERS, 1, &request("POST", HEALTH)))
            .await
            .unwrap();
        let during = format!("{name}: during the flood");
        let empty = frame(DATA, 0, 1, &[]);
        let (flooded, ()) = tokio::join!(
            flood(&mut wr, &empty, 1_000_000, STALL, Duration::ZERO),
            others_are_served(&li, &https, &during),
        );
        let heard = heard.await.unwrap();
        println!("{name}: {flooded:?}, {heard:?}");
        // What the server does: a GOAWAY ENHANCE_YOUR_CALM after 100 empty
        // DATA frames (h2's own limit), then it closes the connection; the
        // flood fails after some 25,000 frames, what the sockets took.
        assert_eq!(
            heard.goaway,
            Some(ENHANCE_YOUR_CALM),
            "{name}: {flooded:?}, {heard:?}"
        );
        assert!(heard.closed, "{name}: {heard:?}");
        assert_ne!(flooded.end, End::Written, "{name}: {flooded:?}");
        others_are_served(&li, &https, &format!("{name}: after the flood")).await;
    }
    server.stop().await;
}

/// The idle timeout of the township below: time enough for a flood that
/// reads nothing to stall first, even on a busy machine.
const IDLE: Duration = Duration::from_secs(3);

/// The most a flooding connection lives past [`IDLE`].
const IDLE_SLACK: Duration = Duration::from_secs(3);

/// Three floods on one port: SETTINGS never read (which stalls), and at a
/// pace that leaves the cores to others SETTINGS and PINGs read back, and
/// WINDOW_UPDATEs of the connection by one byte (the server answers none,
/// and reads them as fast as they come: the window would overflow only
/// after 2³¹ of them). Gives how long each connection lived, from its end
/// of the TLS handshake.
async fn floods_until_closed(town: &Township, port: SocketAddr) -> [(Flood, Duration); 3] {
    let pace = Duration::from_millis(20);
    let lifetime = IDLE + IDLE_SLACK;
    let unread = async {
        let (_rd, mut wr) = connect(town, port).await;
        let start = Instant::now();
        // At full speed, so that it stalls well before the idle timeout.
        let flooded = flood(&mut wr, &settings(), u64::MAX, lifetime, Duration::ZERO).await;
        (flooded, start.elapsed())
    };
    let read = async {
        let (rd, mut wr) = connect(town, port).await;
        let start = Instant::now();
        let heard = listen(rd, u64::MAX, u64::MAX, lifetime);
        let pair = [settings(), ping()].concat();
        let flooded = flood(&mut wr, &pair, u64::MAX, lifetime, pace).await;
        let lived = start.elapsed();
        let heard = heard.await.unwrap();
        assert!(heard.closed, "{heard:?}");
        (flooded, lived)
    };
    let windows = async {
        let (_rd, mut wr) = connect(town, port).await;
        let start = Instant::now();
        let one = frame(WINDOW_UPDATE, 0, 0, &1u32.to_be_bytes());
        let flooded = flood(&mut wr, &one, u64::MAX, lifetime, pace).await;
        (flooded, start.elapsed())
    };
    let (a, b, c) = tokio::join!(unread, read, windows);
    [a, b, c]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooding_connections_are_closed_when_idle() {
    let (town, server, li, https) = township(|c| {
        c.connections.idle_timeout = IDLE;
        c.web.connections.idle_timeout = IDLE;
    })
    .await;
    let (devices, dashboard, ()) = tokio::join!(
        floods_until_closed(&town, server.addr),
        floods_until_closed(&town, server.web.unwrap()),
        others_are_served(&li, &https, "during the floods"),
    );
    for (name, floods) in [("devices", devices), ("dashboard", dashboard)] {
        for ((flooded, lived), what) in floods.iter().zip(["unread", "read back", "windows"]) {
            println!("{name}, {what}: {flooded:?}, closed after {lived:?}");
            // What the server does: each is closed at the idle timeout, 3 s
            // after it was accepted (the production timeout is 60 s); the
            // unread one had stalled long before.
            assert!(
                flooded.end == End::Closed && *lived <= IDLE + IDLE_SLACK,
                "{name}, {what}: {flooded:?}, after {lived:?}"
            );
            if what == "unread" {
                assert!(
                    flooded.longest_wait >= STALL,
                    "{name}: the unread flood never stalled before it was closed: {flooded:?}"
                );
            }
        }
    }
    others_are_served(&li, &https, "after the floods").await;
    server.stop().await;
}
