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
//! - [`backup`]: backups made while serving, and restoring one.
//! - [`purge`]: purging a record for good; [`purge_journal`]: every purge
//!   also kept beside the database, made again after a restore.
//! - [`connections`]: the accept loop, TLS handshakes and the limits on
//!   connections; [`rate`]: attempts per address.
//! - [`service`]: the gRPC edge (sync, enrollment).
//! - [`web`]: the township's dashboard, on a port of its own; [`acting`]:
//!   the township office's acts from it, each a change through the intake.
//! - [`admin`]: the township office's commands; [`cli`]: the command line;
//!   [`logs`]: the log's two forms;
//!   [`demo`]: a believable township to look at.
//!
//! [`run`] and [`serve`] take their listeners and their shutdown signal from
//! outside, so tests bind port 0 and stop them cleanly.

pub mod acting;
pub mod admin;
pub mod backup;
pub mod bundle;
pub mod certs;
pub mod cli;
pub mod connections;
pub mod context;
pub mod db;
pub mod demo;
pub mod documents;
pub mod error;
pub mod feed;
pub mod follower;
pub mod ingest;
pub mod limits;
pub mod logs;
pub mod metrics;
pub mod own_runs;
pub mod purge;
pub mod purge_journal;
pub mod rate;
pub mod registry;
pub mod rows;
pub mod schema;
pub mod service;
pub mod web;

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
    /// How the dashboard runs (when it has a listener, see [`Listeners`]).
    pub web: web::WebOptions,
    /// Where to serve Prometheus metrics, if anywhere ([`metrics`]).
    pub metrics: Option<std::net::SocketAddr>,
    /// A file to write the devices' address into once the server serves
    /// (its database open, its listeners taking connections), for whatever
    /// started it to wait on.
    pub ready_file: Option<PathBuf>,
}

/// Writes the address a server serves on into `path`, whole or not at
/// all: into a file beside it, then renamed over it, so that a reader never
/// finds it empty or cut short.
fn write_ready(path: &std::path::Path, local: std::net::SocketAddr) -> Result<(), Error> {
    let mut beside = path.as_os_str().to_owned();
    beside.push(".writing");
    let beside = PathBuf::from(beside);
    std::fs::write(&beside, local.to_string())
        .and_then(|()| std::fs::rename(&beside, path))
        .map_err(|e| Error::Io(format!("the ready file {}", path.display()), e))
}

/// Where the server listens: devices' gRPC, and the dashboard if any.
#[derive(Debug)]
pub struct Listeners {
    /// Devices' gRPC.
    pub grpc: TcpListener,
    /// The dashboard (HTTPS).
    pub web: Option<TcpListener>,
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

/// Serves devices on `listener` until `shutdown` completes, then finishes
/// the calls under way and returns. Plain text (`config.tls` off) is served
/// only on a loopback address.
pub async fn run(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    serve(
        Listeners {
            grpc: listener,
            web: None,
        },
        config,
        shutdown,
    )
    .await
}

/// Refuses plain-text gRPC (`tls` false) on anything but a loopback address.
pub fn plaintext_only_on_loopback(local: std::net::SocketAddr, tls: bool) -> Result<(), Error> {
    if !tls && !local.ip().is_loopback() {
        return Err(Error::Invalid(format!(
            "plain-text gRPC (--plaintext) is served only on a loopback address such as \
             127.0.0.1, not on {local}: devices on a network need TLS"
        )));
    }
    Ok(())
}

/// Serves devices, and the dashboard if it has a listener, until `shutdown`
/// completes; then finishes the calls and requests under way and returns.
/// The dashboard is always HTTPS, with the server's certificate.
pub async fn serve(
    listeners: Listeners,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let listener = listeners.grpc;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Io("listener".into(), e))?;
    plaintext_only_on_loopback(local, config.tls)?;
    let open_files =
        connections::raise_open_file_limit().map_err(|e| Error::Io("open-file limit".into(), e))?;
    let db = Arc::new(db::Db::open(&config.data_dir)?);
    // Purges the database lacks (it was restored from an older backup) are
    // made again before any device can pull what they erased.
    for p in purge::reapply(&db)? {
        tracing::warn!(record = %p.id, kind = p.kind.code(), by = %p.by, "purge made again from the purge journal");
    }
    let public = config
        .public_address
        .clone()
        .unwrap_or_else(|| local.to_string());
    db.write(|tx| {
        registry::set_setting(tx, "public_address", &public)?;
        registry::set_setting(tx, "tls", if config.tls { "on" } else { "off" })
    })?;

    let cert = if config.tls || listeners.web.is_some() {
        let cert = certs::load_or_create(&config.data_dir)?;
        tracing::info!(
            fingerprint = %massline_model::ids::hex_encode(&cert.fingerprint),
            "TLS certificate"
        );
        Some(cert)
    } else {
        None
    };
    let tls = match (&cert, config.tls) {
        (Some(cert), true) => Some(connections::tls_config(cert)?),
        _ => {
            tracing::warn!("serving plain-text gRPC: for local development only");
            None
        }
    };
    // One limiter for pushes and the bundles the dashboard takes in.
    let limiter = limits::Limiter::new(config.limits);
    let mut device_files = open_files;
    let (stop_web, web_stopped) = tokio::sync::watch::channel(());
    let dashboard = match (listeners.web, &cert) {
        (Some(web_listener), Some(cert)) => {
            let web_local = web_listener
                .local_addr()
                .map_err(|e| Error::Io("dashboard listener".into(), e))?;
            let address = web::public_address(config.public_address.as_deref(), web_local);
            db.write(|tx| registry::set_setting(tx, "web_address", &address))?;
            device_files = web::devices_open_files(open_files, &config.web.connections);
            let (incoming, accepting) = web::accept(
                web_listener,
                cert,
                config.web.connections.clone(),
                open_files,
            )?;
            let state = web::Web::new(db.clone(), config.web.clone(), limiter.clone());
            let mut stopped = web_stopped;
            let serving = tokio::spawn(web::serve(incoming, state, async move {
                // Stops when told, or when the devices' server ends.
                let _ = stopped.changed().await;
            }));
            tracing::info!("dashboard at https://{address}/");
            Some((serving, accepting))
        }
        _ => None,
    };

    if let Some(addr) = config.metrics {
        metrics::serve(addr, db.clone(), open_files).await?;
        // Its connections take descriptors the devices' would otherwise.
        device_files = device_files
            .saturating_sub(u64::try_from(metrics::MAX_CONNECTIONS).unwrap_or(u64::MAX));
        tracing::info!(%addr, "metrics served");
    }
    let (rows_follower, stop_follower, following) = follower::start(db.clone());
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<pb::sync_server::SyncServer<service::sync::SyncService>>()
        .await;
    // Reflection in both versions (many clients still ask for v1alpha),
    // each listing every service served, health and reflection included.
    let described = || {
        tonic_reflection::server::Builder::configure()
            .include_reflection_service(false)
            .register_encoded_file_descriptor_set(massline_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            )
    };
    let reflection = described()
        .build_v1()
        .map_err(|e| Error::internal("the reflection service", e))?;
    let reflection_alpha = described()
        .build_v1alpha()
        .map_err(|e| Error::internal("the reflection service", e))?;

    let limits = config.connections.clone();
    let (incoming, accepting) = connections::accept(listener, tls, limits.clone(), device_files);
    tracing::info!(%local, %public, "massline-server listening");
    if let Some(path) = &config.ready_file {
        write_ready(path, local)?;
    }
    let served = Server::builder()
        .http2_keepalive_interval(Some(limits.keepalive_interval))
        .http2_keepalive_timeout(Some(limits.keepalive_timeout))
        .max_concurrent_streams(limits.streams_per_connection)
        .http2_max_pending_accept_reset_streams(Some(connections::MAX_PENDING_ACCEPT_RESETS))
        .http2_max_local_error_reset_streams(Some(connections::MAX_LOCAL_ERROR_RESETS))
        .http2_max_header_list_size(connections::MAX_HEADER_LIST_BYTES)
        // tonic's own grace (`max_connection_age_grace`) would skip the
        // GOAWAY and cut the connection outright; the grace is enforced by
        // the connection's socket instead (see `connections`).
        .max_connection_age(limits.max_age)
        .layer(connections::TrackCalls)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(pb::enrollment_server::EnrollmentServer::new(
            service::enrollment::EnrollmentService::new(db.clone(), config.enroll_failures),
        ))
        .add_service(
            pb::sync_server::SyncServer::new(service::sync::SyncService::new(
                db.clone(),
                config.feed,
                rows_follower,
                limiter,
            ))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_ANSWER_BYTES),
        )
        .serve_with_incoming_shutdown(incoming, async move {
            shutdown.await;
            let _ = stop_web.send(());
        })
        .await
        .map_err(|e| Error::Invalid(format!("server stopped: {e}")));
    let _ = accepting.await;
    if let Some((serving, accepting)) = dashboard {
        let _ = serving.await;
        let _ = accepting.await;
    }
    served?;
    stop_follower.poke();
    let _ = following.await;
    tracing::info!("massline-server stopped");
    Ok(())
}
