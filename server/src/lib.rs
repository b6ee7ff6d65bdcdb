//! The township server: enrols devices, takes in their changes after checking
//! every one, and hands each device what others changed in the scopes it may
//! read.
//!
//! # Layout
//!
//! - [`db`], [`schema`]: the SQLite database in the data directory.
//! - [`registry`]: villages, people, devices, enrollment, who reads what.
//! - [`ingest`]: checking and storing pushed changes; [`context`]: what the
//!   record rules look up while checking.
//! - [`feed`]: answering pulls.
//! - [`limits`]: what one device may cost: calls at once, waits, bytes per hour and day.
//! - [`documents`]: the current state of every record; [`rows`]: its typed
//!   row, for the dashboard's SQL.
//! - [`certs`]: the server's own TLS certificate.
//! - [`connections`]: the accept loop, TLS handshakes and the limits on
//!   connections; [`rate`]: attempts per address.
//! - [`service`]: the gRPC edge (sync, enrollment).
//! - [`admin`]: the township office's commands; [`cli`]: the command line.
//!
//! [`run`] takes its listener and its shutdown signal from outside, so tests
//! bind port 0 and stop it cleanly.

pub mod admin;
pub mod certs;
pub mod cli;
pub mod connections;
pub mod context;
pub mod db;
pub mod documents;
pub mod error;
pub mod feed;
pub mod follower;
pub mod ingest;
pub mod limits;
pub mod rate;
pub mod registry;
pub mod rows;
pub mod schema;
pub mod service;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use massline_proto::pb;
use tokio::net::TcpListener;
use tonic::transport::Server;

pub use error::Error;

/// How a server runs.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The data directory: database, certificate. Made (or tightened) so
    /// that only the server's user reads it.
    pub data_dir: PathBuf,
    /// Serve TLS (the normal case); plain text only for local development,
    /// and only on a loopback address.
    pub tls: bool,
    /// The address devices use, written into enrollment codes.
    pub public_address: Option<String>,
    /// Tuning of pull answers.
    pub feed: feed::FeedOptions,
    /// Limits on connections: caps, timeouts, keepalive.
    pub connections: connections::ConnectionLimits,
    /// Failed enrollment attempts allowed per address.
    pub enroll_failures: rate::Rate,
    /// What each device may cost the server.
    pub limits: limits::Limits,
}

/// Largest gRPC message the server accepts: a push message's frame, which
/// must decompress to at most `packing::MAX_MESSAGE_BYTES` (zstd adds a few
/// bytes per 128 KiB block to data it cannot compress).
pub const MAX_MESSAGE_BYTES: usize = massline_model::protocol::MAX_GRPC_MESSAGE_BYTES;

/// Largest gRPC message the server sends: a pull message (at most
/// `packing::MAX_MESSAGE_BYTES` before compression) or the answer to a push
/// message (at most `ingest::MAX_REFUSALS_PER_MESSAGE` reasons of at most
/// `ingest::MAX_REASON_BYTES`).
pub const MAX_ANSWER_BYTES: usize = massline_model::protocol::MAX_GRPC_MESSAGE_BYTES;
const _: () =
    assert!(MAX_ANSWER_BYTES > ingest::MAX_REFUSALS_PER_MESSAGE * (ingest::MAX_REASON_BYTES + 16));

/// Serves on `listener` until `shutdown` completes, then finishes the calls
/// under way and returns. Plain text (`config.tls` off) is served only on a
/// loopback address.
pub async fn run(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let local = listener
        .local_addr()
        .map_err(|e| Error::Io("listener".into(), e))?;
    if !config.tls && !local.ip().is_loopback() {
        return Err(Error::Invalid(format!(
            "plain-text gRPC (--plaintext) is served only on a loopback address such as \
             127.0.0.1, not on {local}: devices on a network need TLS"
        )));
    }
    let open_files =
        connections::raise_open_file_limit().map_err(|e| Error::Io("open-file limit".into(), e))?;
    let db = Arc::new(db::Db::open(&config.data_dir)?);
    let public = config
        .public_address
        .clone()
        .unwrap_or_else(|| local.to_string());
    db.write(|tx| {
        registry::set_setting(tx, "public_address", &public)?;
        registry::set_setting(tx, "tls", if config.tls { "on" } else { "off" })
    })?;

    let tls = if config.tls {
        let cert = certs::load_or_create(&config.data_dir)?;
        tracing::info!(
            fingerprint = %massline_model::ids::hex_encode(&cert.fingerprint),
            "TLS certificate"
        );
        Some(connections::tls_acceptor(&cert)?)
    } else {
        tracing::warn!("serving plain-text gRPC: for local development only");
        None
    };

    let (rows_follower, stop_follower, following) = follower::start(db.clone());
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<pb::sync_server::SyncServer<service::sync::SyncService>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(massline_proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| Error::internal("the reflection service", e))?;

    let limits = config.connections.clone();
    let (incoming, accepting) = connections::accept(listener, tls, limits.clone(), open_files);
    tracing::info!(%local, %public, "massline-server listening");
    Server::builder()
        .http2_keepalive_interval(Some(limits.keepalive_interval))
        .http2_keepalive_timeout(Some(limits.keepalive_timeout))
        .max_concurrent_streams(limits.streams_per_connection)
        // tonic's own grace (`max_connection_age_grace`) would skip the
        // GOAWAY and cut the connection outright; the grace is enforced by
        // the connection's socket instead (see `connections`).
        .max_connection_age(limits.max_age)
        .layer(connections::TrackCalls)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(pb::enrollment_server::EnrollmentServer::new(
            service::enrollment::EnrollmentService::new(db.clone(), config.enroll_failures),
        ))
        .add_service(
            pb::sync_server::SyncServer::new(service::sync::SyncService::new(
                db.clone(),
                config.feed,
                rows_follower,
                limits::Limiter::new(config.limits),
            ))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_ANSWER_BYTES),
        )
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .map_err(|e| Error::Invalid(format!("server stopped: {e}")))?;
    let _ = accepting.await;
    stop_follower.poke();
    let _ = following.await;
    tracing::info!("massline-server stopped");
    Ok(())
}
