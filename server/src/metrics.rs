//! What an office's monitoring scrapes: a Prometheus endpoint on an address
//! of its own (`serve --metrics ADDR`, off by default), plain HTTP, meant for
//! the machine or the office's LAN. Counters are kept by the `metrics` crate
//! wherever the work is done; the database's size and how far the typed rows
//! lag behind the changes are read every [`SAMPLE_EVERY`].
//!
//! The endpoint takes its connections through the server's own accept loop
//! ([`crate::connections`]), with caps of its own ([`MAX_CONNECTIONS`],
//! [`MAX_CONNECTIONS_PER_ADDRESS`]) and a header read timeout, so that
//! whoever reaches its address cannot hold the server's file descriptors:
//! the exporter's own listener holds every connection for as long as its
//! peer likes.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper_util::rt::{TokioIo, TokioTimer};
use massline_model::protocol::PushAck;
use metrics::{counter, gauge};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tonic::transport::server::Connected;

use crate::connections::{self, ConnectionLimits};
use crate::db::Db;
use crate::error::Error;
use crate::registry;

/// Metrics connections open at once: a scraper or two need one each. At
/// the cap a new connection takes the place of the longest idle one.
pub const MAX_CONNECTIONS: usize = 16;

/// Metrics connections from one address at once.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 4;

/// Time a metrics connection has to send a request's headers, counted from
/// its start or the end of its last answer: a scrape's request is one line.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes of a request's headers the endpoint reads (hyper's least).
pub const MAX_HEADER_BYTES: usize = 8 << 10;

/// How often the exporter's histograms are drained.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The connection limits of the metrics endpoint: the caps above, and the
/// devices' idle, age and grace times.
pub fn connection_limits() -> ConnectionLimits {
    ConnectionLimits {
        max_connections: MAX_CONNECTIONS,
        per_address: MAX_CONNECTIONS_PER_ADDRESS,
        ..ConnectionLimits::default()
    }
}

/// How often the database's size and the rows' lag are read.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(15);

/// Push calls begun.
pub const PUSH_CALLS: &str = "massline_push_calls_total";
/// Pull calls begun.
pub const PULL_CALLS: &str = "massline_pull_calls_total";
/// Changes stored (including ones the server already had).
pub const CHANGES_ACCEPTED: &str = "massline_changes_accepted_total";
/// Changes refused, labelled by `reason` (the refusal's code).
pub const CHANGES_REFUSED: &str = "massline_changes_refused_total";
/// Push messages received.
pub const PUSH_MESSAGES: &str = "massline_push_messages_total";
/// Compressed bytes of push messages received.
pub const PUSH_BYTES: &str = "massline_push_bytes_total";
/// Compressed bytes of pull messages sent.
pub const PULL_BYTES: &str = "massline_pull_bytes_total";
/// Seconds to take in one push message, or the messages of a call taken in
/// together by one transaction (checked and durable).
pub const PUSH_MESSAGE_SECONDS: &str = "massline_push_message_seconds";
/// Seconds a pull call took, from its start to its last message.
pub const PULL_CALL_SECONDS: &str = "massline_pull_call_seconds";
/// TLS handshakes begun well, labelled by `kind`: `full`, `resumed`, or
/// `early_data` (resumed, the first calls read from early data).
pub const TLS_HANDSHAKES: &str = "massline_tls_handshakes_total";
/// Connections open (devices' and the dashboard's).
pub const CONNECTIONS: &str = "massline_connections";
/// Bytes of the database file (pages in use and free).
pub const DATABASE_BYTES: &str = "massline_database_bytes";
/// Stored changes the typed rows have not followed yet.
pub const ROWS_LAG: &str = "massline_rows_lag_changes";

/// Serves the metrics on `addr` and starts sampling `db`; its connections
/// count against `open_files` like the devices'. Must run inside the
/// server's tokio runtime.
pub async fn serve(addr: SocketAddr, db: Arc<Db>, open_files: u64) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Io(format!("metrics listener on {addr}"), e))?;
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| Error::internal("the metrics endpoint", e))?;
    let (mut incoming, _accepting) =
        connections::accept(listener, None, connection_limits(), open_files);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES);
    let upkeep = handle.clone();
    tokio::spawn(async move {
        while let Some(Ok(io)) = incoming.next().await {
            let peer = io.connect_info();
            let handle = handle.clone();
            let service = hyper::service::service_fn(move |req| {
                // Counted as a call while answered, so the connection is
                // idle only between requests.
                let call = peer.call();
                answer(handle.clone(), req, call)
            });
            let conn = http.serve_connection(TokioIo::new(io), service);
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!("metrics connection ended: {e}");
                }
            });
        }
    });
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SAMPLE_EVERY);
        loop {
            every.tick().await;
            let d = db.clone();
            if let Ok(Ok((bytes, lag))) = tokio::task::spawn_blocking(move || sample(&d)).await {
                gauge!(DATABASE_BYTES).set(bytes as f64);
                gauge!(ROWS_LAG).set(lag as f64);
            }
        }
    });
    Ok(())
}

/// The answer to any request: `OK` at `/health`, the metrics elsewhere.
async fn answer(
    handle: PrometheusHandle,
    req: hyper::Request<hyper::body::Incoming>,
    _call: connections::Call,
) -> Result<hyper::Response<String>, Infallible> {
    let body = match req.uri().path() {
        "/health" => "OK".to_string(),
        _ => tokio::task::spawn_blocking(move || handle.render())
            .await
            .unwrap_or_default(),
    };
    let mut response = hyper::Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(response)
}

/// The database's bytes, and the changes the rows have not followed.
fn sample(db: &Db) -> Result<(u64, u64), Error> {
    db.read(|tx| {
        let pages: i64 = tx.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let size: i64 = tx.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let head = registry::last_seq(tx)?;
        let through: i64 = registry::setting(tx, crate::rows::THROUGH)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok::<_, Error>(((pages * size) as u64, (head - through).max(0) as u64))
    })
}

/// A push message answered: its changes stored and refused.
pub fn answered(ack: &PushAck) {
    counter!(CHANGES_ACCEPTED).increment(u64::from(ack.accepted));
    for r in &ack.refused {
        counter!(CHANGES_REFUSED, "reason" => r.code.code()).increment(1);
    }
}
