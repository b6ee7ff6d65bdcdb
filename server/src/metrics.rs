//! What an office's monitoring scrapes: a Prometheus endpoint on an address
//! of its own (`serve --metrics ADDR`, off by default), plain HTTP, meant for
//! the machine or the office's LAN. Counters are kept by the `metrics` crate
//! wherever the work is done; the database's size and how far the typed rows
//! lag behind the changes are read every [`SAMPLE_EVERY`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use massline_model::protocol::PushAck;
use metrics::{counter, gauge};
use metrics_exporter_prometheus::PrometheusBuilder;

use crate::db::Db;
use crate::error::Error;
use crate::registry;

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
/// Compressed bytes of push messages received.
pub const PUSH_BYTES: &str = "massline_push_bytes_total";
/// Compressed bytes of pull messages sent.
pub const PULL_BYTES: &str = "massline_pull_bytes_total";
/// Seconds to take in one push message (checked and durable).
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

/// Serves the metrics on `addr` and starts sampling `db`. Must run inside the
/// server's tokio runtime.
pub fn serve(addr: SocketAddr, db: Arc<Db>) -> Result<(), Error> {
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .map_err(|e| Error::internal("the metrics endpoint", e))?;
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
