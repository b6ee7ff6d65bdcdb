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
//! - [`documents`]: the current state of every record; [`rows`]: its typed
//!   row, for the dashboard's SQL.
//! - [`certs`]: the server's own TLS certificate.
//! - [`service`]: the gRPC edge (sync, enrollment).
//! - [`admin`]: the township office's commands; [`cli`]: the command line.
//!
//! [`run`] takes its listener and its shutdown signal from outside, so tests
//! bind port 0 and stop it cleanly.

pub mod admin;
pub mod certs;
pub mod cli;
pub mod context;
pub mod db;
pub mod documents;
pub mod error;
pub mod feed;
pub mod follower;
pub mod ingest;
pub mod registry;
pub mod rows;
pub mod schema;
pub mod service;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use massline_proto::pb;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};

pub use error::Error;

/// How a server runs.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The data directory: database, certificate.
    pub data_dir: PathBuf,
    /// Serve TLS (the normal case); plain text only for local development.
    pub tls: bool,
    /// The address devices use, written into enrollment codes.
    pub public_address: Option<String>,
    /// Tuning of pull answers.
    pub feed: feed::FeedOptions,
}

/// Largest gRPC message the server accepts: a push message's frame, which
/// must decompress to at most `packing::MAX_MESSAGE_BYTES` (zstd adds a few
/// bytes per 128 KiB block to data it cannot compress).
pub const MAX_MESSAGE_BYTES: usize = massline_core::packing::MAX_MESSAGE_BYTES + (64 << 10);

/// Largest gRPC message the server sends: a pull message (at most
/// `packing::MAX_MESSAGE_BYTES` before compression) or the answer to a push
/// message (at most `ingest::MAX_REFUSALS_PER_MESSAGE` reasons of at most
/// `ingest::MAX_REASON_BYTES`).
pub const MAX_ANSWER_BYTES: usize = massline_core::packing::MAX_MESSAGE_BYTES + (64 << 10);
const _: () =
    assert!(MAX_ANSWER_BYTES > ingest::MAX_REFUSALS_PER_MESSAGE * (ingest::MAX_REASON_BYTES + 16));

/// Serves on `listener` until `shutdown` completes, then finishes the calls
/// under way and returns.
pub async fn run(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| Error::Io(config.data_dir.display().to_string(), e))?;
    let db = Arc::new(db::Db::open(&config.data_dir)?);
    let local = listener
        .local_addr()
        .map_err(|e| Error::Io("listener".into(), e))?;
    let public = config
        .public_address
        .clone()
        .unwrap_or_else(|| local.to_string());
    db.write(|tx| {
        registry::set_setting(tx, "public_address", &public)?;
        registry::set_setting(tx, "tls", if config.tls { "on" } else { "off" })
    })?;

    let (rows_follower, stop_follower, following) = follower::start(db.clone());
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<pb::sync_server::SyncServer<service::sync::SyncService>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(massline_proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| Error::Invalid(e.to_string()))?;

    let mut builder = Server::builder();
    if config.tls {
        let cert = certs::load_or_create(&config.data_dir)?;
        tracing::info!(
            fingerprint = %massline_core::ids::hex_encode(&cert.fingerprint),
            "TLS certificate"
        );
        builder = builder
            .tls_config(
                ServerTlsConfig::new().identity(Identity::from_pem(&cert.cert_pem, &cert.key_pem)),
            )
            .map_err(|e| Error::Certificate(e.to_string()))?;
    } else {
        tracing::warn!("serving plain-text gRPC: for local development only");
    }
    tracing::info!(%local, %public, "massline-server listening");
    builder
        .add_service(health_service)
        .add_service(reflection)
        .add_service(pb::enrollment_server::EnrollmentServer::new(
            service::enrollment::EnrollmentService::new(db.clone()),
        ))
        .add_service(
            pb::sync_server::SyncServer::new(service::sync::SyncService::new(
                db.clone(),
                config.feed,
                rows_follower,
            ))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_ANSWER_BYTES),
        )
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener)
                .with_nodelay(Some(true))
                .with_keepalive(Some(std::time::Duration::from_secs(60))),
            shutdown,
        )
        .await
        .map_err(|e| Error::Invalid(format!("server stopped: {e}")))?;
    stop_follower.poke();
    let _ = following.await;
    tracing::info!("massline-server stopped");
    Ok(())
}
