//! The metrics endpoint (`serve --metrics ADDR`, plain HTTP) holds a bounded
//! number of connections for a bounded time, so whoever reaches its address
//! cannot take the file descriptors the devices' and the dashboard's
//! connections need: a connection that says nothing, or sends a request's
//! headers a few bytes at a time, is closed once the header read timeout
//! passes; a flood of connections leaves at most the metrics' connection cap
//! open (the longest idle give way to new ones); and a scraper arriving in
//! the middle of the flood still reads the metrics.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use massline_server::metrics::{HEADER_READ_TIMEOUT, MAX_CONNECTIONS};
use massline_tests::metrics::try_scrape;
use massline_tests::{TestServer, Township, raw};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Connections the flood opens: many times the cap.
const FLOOD: usize = 200;

/// Whether the server has closed `s` (EOF or error), without waiting.
fn closed(s: &TcpStream) -> bool {
    let mut buf = [0u8; 64];
    !matches!(s.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Scrapes `addr` off the async threads, by `deadline`. A connection the
/// server closes at once (full of connections it has yet to close) is
/// tried again, as a scraper does at its next interval.
async fn scrapes(addr: SocketAddr, deadline: Instant) -> String {
    loop {
        let tried = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::task::spawn_blocking(move || try_scrape(addr)),
        )
        .await
        .expect("the scrape hung")
        .unwrap();
        match tried {
            Ok(text) => return text,
            Err(e) if Instant::now() < deadline => {
                eprintln!("scrape failed ({e}); trying again");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("no scrape got through in time: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_connections_are_bounded_in_number_and_time() {
    let town = Township::new();
    let (server, addr) = TestServer::start_with_metrics(&town).await;
    // The endpoint comes up as the server starts.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the metrics endpoint did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    scrapes(addr, Instant::now() + Duration::from_secs(5)).await;

    // One connection says nothing; another sends a request's first line
    // and then a byte of header every 300 ms.
    let silent = TcpStream::connect(addr).await.unwrap();
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let deadline = started + HEADER_READ_TIMEOUT + Duration::from_secs(2);
    while !(closed(&silent) && closed(&slow)) {
        assert!(
            Instant::now() < deadline,
            "a silent or slow connection was still open after {:?}",
            started.elapsed()
        );
        let _ = slow.write_all(b"a").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // A flood of connections from many addresses, each saying nothing: at
    // most the cap stay open, and the scraper (from an address of its own)
    // gets through.
    let mut flood = Vec::new();
    let flooded = Instant::now();
    for n in 0..FLOOD {
        let from = IpAddr::V4(Ipv4Addr::new(127, 0, 3, 10 + (n % 50) as u8));
        flood.push(raw::tcp_from(from, addr).await.unwrap());
    }
    // Through while the flood's connections are all still within their
    // header timeout: room is made by closing them, not by their timing out.
    scrapes(addr, flooded + HEADER_READ_TIMEOUT / 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let open = flood.iter().filter(|s| !closed(s)).count();
    assert!(
        open <= MAX_CONNECTIONS,
        "{open} of {FLOOD} idle metrics connections held open (cap {MAX_CONNECTIONS})"
    );
    drop(flood);
    server.stop().await;
}
