//! The township's dashboard: web pages served over HTTPS by `massline-server
//! serve`, on a port of its own (`--web`, the gRPC port + 1 unless told).
//!
//! A port of its own rather than the gRPC port with routing by content type:
//! browsers need HTTP/1.1 as well as HTTP/2 (the devices' port offers only
//! HTTP/2, and tonic's server answers nothing else), a browser's connections
//! must not take places counted for devices (each port has its own
//! connection table and caps), and a township can open one port to phones
//! and keep the other to the office's LAN. Both ports share the server's
//! certificate, its accept loop with its handshake deadline, caps and idle
//! timeouts ([`crate::connections`]), and one start command.
//!
//! - [`routes`]: every route, the one list the router is built from.
//! - [`session`]: what runs around every request: timing, language, the
//!   session, CSRF tokens, error pages, security headers.
//! - [`accounts`]: passwords (argon2id), one-time login links, sessions.
//! - [`access`]: which villages a person sees, by the sync's own rules.
//! - [`stats`]: the overview's figures, SQL over the typed rows.
//! - [`ledger`]: ledgers (台账) declared once, shown as a page, CSV and XLSX.
//! - [`filings`]: the township office's filing inbox, acknowledged from the
//!   dashboard through [`crate::acting`]; [`issue`]: issuing a problem to a
//!   village, the same way; [`purge`]: purging a record for good at a
//!   villager's request, and the audit log; [`bundles`]: taking in a
//!   device's sync bundle uploaded by the township office
//!   ([`multipart`] reads the upload).
//! - [`pages`]: the handlers; [`chart`]: server-drawn SVG charts;
//!   [`i18n`]: the dashboard's own words in Chinese and English.

pub mod access;
pub mod accounts;
mod assets;
mod bundles;
pub mod chart;
mod export;
mod filings;
pub mod i18n;
mod issue;
pub mod ledger;
pub mod multipart;
mod pages;
mod purge;
pub mod routes;
pub mod session;
pub mod stats;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use futures::StreamExt;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;
use tonic::transport::server::Connected;
use tower::ServiceExt;

use crate::connections::{self, ConnectionLimits, Incoming, Peer};
use crate::db::Db;
use crate::limits::Limiter;
use crate::rate::{PerAddress, PerKey, Rate};

pub use routes::{ROUTES, Route};

/// Most dashboard connections at once. A township office has a few dozen
/// people; a browser opens up to six connections to a host over HTTP/1.1.
pub const WEB_MAX_CONNECTIONS: usize = 256;

/// Most dashboard connections from one address at once (an office behind
/// one NAT address shares it).
pub const WEB_MAX_CONNECTIONS_PER_ADDRESS: usize = 32;

/// Most requests under way on one HTTP/2 connection of the dashboard.
pub const WEB_MAX_STREAMS_PER_CONNECTION: u32 = 32;

/// How long a browser may take to send a request's headers (HTTP/1.1): a
/// peer that trickles them is cut off.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Most bytes of a request's headers (HTTP/1.1 read buffer, HTTP/2 header
/// list). The dashboard's requests carry two cookies and a short query.
pub const MAX_HEADER_BYTES: usize = 16 << 10;

/// How long requests under way may take to finish once the server stops.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Failed logins allowed per address: this many at once, then one more
/// each interval.
pub const LOGIN_FAILURES_PER_ADDRESS: Rate = Rate {
    burst: 10,
    every: Duration::from_secs(60),
};

/// Failed logins allowed per person, from any address: guessing one
/// officer's password from many addresses is as slow as from one.
pub const LOGIN_FAILURES_PER_PERSON: Rate = Rate {
    burst: 5,
    every: Duration::from_secs(5 * 60),
};

/// Password checks (argon2id, some 19 MiB and tens of milliseconds each)
/// run at once; further logins wait their turn, so a flood of logins cannot
/// take the server's memory or every core.
pub const PASSWORD_CHECKS_AT_ONCE: usize = 2;

/// How the dashboard runs; [`Default`] gives the production values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebOptions {
    /// Connection caps and timeouts of the dashboard's port.
    pub connections: ConnectionLimits,
    /// See [`LOGIN_FAILURES_PER_ADDRESS`].
    pub login_failures_per_address: Rate,
    /// See [`LOGIN_FAILURES_PER_PERSON`].
    pub login_failures_per_person: Rate,
    /// See [`accounts::SESSION_LIFETIME`].
    pub session_lifetime: Duration,
    /// See [`accounts::SESSION_IDLE_TIMEOUT`].
    pub session_idle: Duration,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions {
            connections: ConnectionLimits {
                max_connections: WEB_MAX_CONNECTIONS,
                per_address: WEB_MAX_CONNECTIONS_PER_ADDRESS,
                streams_per_connection: WEB_MAX_STREAMS_PER_CONNECTION,
                ..ConnectionLimits::default()
            },
            login_failures_per_address: LOGIN_FAILURES_PER_ADDRESS,
            login_failures_per_person: LOGIN_FAILURES_PER_PERSON,
            session_lifetime: accounts::SESSION_LIFETIME,
            session_idle: accounts::SESSION_IDLE_TIMEOUT,
        }
    }
}

/// Sync bundle uploads taken in at once (each up to
/// [`session::MAX_UPLOAD_BYTES`] in memory); another is refused at once
/// (503), never kept waiting behind one whose body is still arriving.
pub const UPLOADS_AT_ONCE: usize = 1;

/// What every request of the dashboard shares.
#[derive(Debug)]
pub struct Web {
    db: Arc<Db>,
    options: WebOptions,
    address_failures: PerAddress,
    person_failures: PerKey<String>,
    password_checks: Semaphore,
    uploads: Semaphore,
    limiter: Limiter,
    replies: bundles::Replies,
}

/// The dashboard's state as handlers take it.
pub type State = Arc<Web>;

impl Web {
    /// The dashboard over `db`; bundles taken in from it count against
    /// their devices' push quotas in `limiter`, the one the sync service
    /// charges.
    pub fn new(db: Arc<Db>, options: WebOptions, limiter: Limiter) -> State {
        Arc::new(Web {
            address_failures: PerAddress::new(options.login_failures_per_address),
            person_failures: PerKey::new(options.login_failures_per_person),
            password_checks: Semaphore::new(PASSWORD_CHECKS_AT_ONCE),
            uploads: Semaphore::new(UPLOADS_AT_ONCE),
            limiter,
            replies: bundles::Replies::default(),
            db,
            options,
        })
    }

    /// Runs `f` on the database off the async runtime (SQLite blocks).
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, crate::Error> + Send + 'static,
    ) -> Result<T, crate::Error> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| crate::Error::Invalid(format!("dashboard task failed: {e}")))?
    }
}

/// Serves the dashboard on the connections `incoming` brings (already past
/// their TLS handshake, each guarded by its idle and age deadlines) until
/// `shutdown` completes; then lets requests under way finish, for up to
/// [`SHUTDOWN_GRACE`].
pub async fn serve(incoming: Incoming, state: State, shutdown: impl Future<Output = ()>) {
    let app = routes::router(state.clone());
    let limits = &state.options.connections;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.keepalive_interval)
        .keep_alive_timeout(limits.keepalive_timeout)
        .max_concurrent_streams(limits.streams_per_connection)
        .max_pending_accept_reset_streams(connections::MAX_PENDING_ACCEPT_RESETS)
        .max_local_error_reset_streams(connections::MAX_LOCAL_ERROR_RESETS)
        .max_header_list_size(u32::try_from(MAX_HEADER_BYTES).unwrap_or(u32::MAX));
    let graceful = GracefulShutdown::new();
    let mut incoming = incoming;
    tokio::pin!(shutdown);
    loop {
        let io = tokio::select! {
            io = incoming.next() => io,
            () = &mut shutdown => break,
        };
        let Some(Ok(io)) = io else { break };
        let peer = io.connect_info();
        let app = app.clone();
        // A request counts as a call on its connection only while it is
        // worked on (see `session::around`).
        let service = tower::service_fn(move |req: axum::http::Request<hyper::body::Incoming>| {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert::<Peer>(peer.clone());
            app.clone().oneshot(req)
        });
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service));
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("dashboard connection ended: {e}");
            }
        });
    }
    // Closing the accept loop's channel stops it and the listening socket.
    drop(incoming);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("dashboard requests still under way at shutdown were cut");
    }
}

/// The address of the dashboard as people reach it: the host of
/// `public_address` (the devices' address) if given, with the dashboard's
/// port; else the address it listens on.
pub fn public_address(public: Option<&str>, local: std::net::SocketAddr) -> String {
    match public.and_then(|p| p.rsplit_once(':')) {
        Some((host, _)) => format!("{host}:{}", local.port()),
        None => local.to_string(),
    }
}

/// The open-file budget left to the devices' port once the dashboard's
/// connections have theirs.
pub fn devices_open_files(open_files: u64, web: &ConnectionLimits) -> u64 {
    open_files.saturating_sub(u64::try_from(web.max_connections).unwrap_or(u64::MAX))
}

/// Starts accepting dashboard connections on `listener` with the server's
/// certificate, offering HTTP/2 and HTTP/1.1.
pub fn accept(
    listener: tokio::net::TcpListener,
    cert: &crate::certs::ServerCert,
    limits: ConnectionLimits,
    open_files: u64,
) -> Result<(Incoming, tokio::task::JoinHandle<()>), crate::Error> {
    let tls = connections::tls_config_for(cert, &[b"h2", b"http/1.1"], 0)?;
    Ok(connections::accept(listener, Some(tls), limits, open_files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_is_reached_on_the_devices_host_with_its_own_port() {
        let local: std::net::SocketAddr = "0.0.0.0:7444".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            public_address(Some("192.168.1.10:7443"), local),
            "192.168.1.10:7444"
        );
        assert_eq!(public_address(None, local), "0.0.0.0:7444");
    }
}
