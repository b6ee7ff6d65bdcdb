//! Connections from devices: the server's own accept loop in front of tonic,
//! so that no device (or crowd of sockets) can hold the server's connections,
//! its file descriptors or its accept loop.
//!
//! - Every accepted TCP connection takes a slot in a [`table`] that counts
//!   connections in all and per address. Over the per-address cap a new
//!   connection is accepted and closed at once; at the global cap it takes
//!   the place of the connection that serves nobody: the oldest one still in
//!   its TLS handshake, else the one idle longest. Accepting and closing
//!   (rather than leaving connections in the kernel's backlog) keeps the
//!   backlog moving, so an honest device's connection is never stuck behind
//!   a full queue of hostile ones.
//! - The TLS handshake runs in a task of its own with a deadline, so a slow
//!   or silent peer never holds up the accept loop.
//! - Each connection's socket is [`guarded`]: it is closed when it carries no
//!   call for [`IDLE_TIMEOUT`], when it outlives [`MAX_CONNECTION_AGE`] plus
//!   [`CONNECTION_AGE_GRACE`], or when its slot is taken by a newer one.
//!   A call counts only while the server does a device's work on it
//!   ([`calls`]): a call that merely waits (its request never comes, its
//!   answer is never let in) keeps no connection.
//! - Accept errors (out of file descriptors, out of memory) back off instead
//!   of spinning.
//! - At start the open-file soft limit is raised to the hard limit, and the
//!   global cap is derived from it ([`connection_cap`]).

mod calls;
mod guarded;
mod table;
mod tls;

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tonic::transport::server::Connected;

pub use calls::{Call, TrackCalls};
use guarded::Guarded;
use table::{Admission, Slot, Table};
pub use tls::TlsStream;

use crate::certs::ServerCert;
use crate::error::Error;

/// How long a new connection may take to finish its TLS handshake. A
/// handshake over 2G (600 ms round trips) takes a couple of seconds; a peer
/// that says nothing is closed after this.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection that carries no call for this long is closed. A device opens
/// one connection per sync and runs its calls at once, so an honest
/// connection is idle only between syncs, when it has no reason to stay.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Interval of HTTP/2 pings on a connection, so a device that vanished in the
/// middle of a call is noticed.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// A ping not answered within this closes the connection.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// A connection older than this is asked to go away (HTTP/2 GOAWAY): it
/// takes no new call, and the device opens a new connection for its next.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(10 * 60);

/// Calls under way when a connection reaches [`MAX_CONNECTION_AGE`] have this
/// long to finish; then the connection is closed. A whole village uploaded
/// over 2G takes well under a minute.
pub const CONNECTION_AGE_GRACE: Duration = Duration::from_secs(2 * 60);

/// Most connections served at once, whatever the open-file limit allows. A
/// township has some 1,500 phones; an idle TLS connection costs some tens of
/// KiB.
pub const MAX_CONNECTIONS: usize = 4096;

/// Most connections from one address (an IPv4 address, or an IPv6 /64) at
/// once. Phones behind one carrier NAT share an address, so this leaves room
/// for a village syncing together.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 64;

/// Most calls under way on one connection (HTTP/2 `MAX_CONCURRENT_STREAMS`).
/// A device runs two (push and pull) at once.
pub const MAX_STREAMS_PER_CONNECTION: u32 = 16;

/// Streams a client may open and reset before the server has taken them up
/// (a rapid reset), per connection; one more and the connection is sent
/// away (HTTP/2 GOAWAY `ENHANCE_YOUR_CALM`). A reset stream gives its place
/// back at once, so without this the streams-per-connection cap would not
/// bound the streams a connection makes the server start. (h2's own
/// default, set here so that both ports keep it whatever tonic does.)
pub const MAX_PENDING_ACCEPT_RESETS: usize = 20;

/// Streams the server may have to reset for a client's errors (a stream
/// pushed past its flow-control window, malformed headers, streams over
/// [`MAX_STREAMS_PER_CONNECTION`]) over one connection's life; one more and
/// the connection is sent away. tonic turns hyper's limit off unless it is
/// given one, and each such reset frees its stream's place as a client's
/// own reset would. An honest device makes none.
pub const MAX_LOCAL_ERROR_RESETS: usize = 1024;

/// Bytes of one request's headers, decoded (HTTP/2
/// `SETTINGS_MAX_HEADER_LIST_SIZE`), on the devices' port; a device's call
/// sends a few hundred. More is refused before any service sees it, and a
/// header block growing past it is cut off.
pub const MAX_HEADER_LIST_BYTES: u32 = 16 << 10;

/// File descriptors kept out of the connection cap, for the database (a
/// writer and four readers, each with its log and shared memory), the
/// certificate, the runtime and the connections being closed to make room.
pub const FD_RESERVE: u64 = 128;

/// Most connections closed to make room that may not have finished closing
/// yet; a new connection over the cap beyond that is refused instead, so the
/// descriptors in use never outgrow the cap by more than this.
pub const MAX_PENDING_EVICTIONS: usize = 32;

/// TLS sessions the server remembers, so that a phone's next connection
/// resumes (no certificate sent, a cheaper handshake) rather than starting
/// over. A township has some 1,500 phones, each holding one ticket of ours
/// at a time (see [`tls_config_for`]); rustls' default of 256 would
/// forget most of them between two syncs. An entry is some 200 bytes.
pub const TLS_SESSIONS: usize = 8192;

/// First pause after an accept error (out of descriptors, out of memory).
pub const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);

/// Longest pause after repeated accept errors.
pub const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Limits on connections; [`Default`] gives the production values above.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// See [`TLS_HANDSHAKE_TIMEOUT`].
    pub handshake_timeout: Duration,
    /// See [`IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
    /// See [`KEEPALIVE_INTERVAL`].
    pub keepalive_interval: Duration,
    /// See [`KEEPALIVE_TIMEOUT`].
    pub keepalive_timeout: Duration,
    /// See [`MAX_CONNECTION_AGE`].
    pub max_age: Duration,
    /// See [`CONNECTION_AGE_GRACE`].
    pub age_grace: Duration,
    /// See [`MAX_CONNECTIONS`]; the open-file limit may lower it.
    pub max_connections: usize,
    /// See [`MAX_CONNECTIONS_PER_ADDRESS`].
    pub per_address: usize,
    /// See [`MAX_STREAMS_PER_CONNECTION`].
    pub streams_per_connection: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            handshake_timeout: TLS_HANDSHAKE_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            keepalive_interval: KEEPALIVE_INTERVAL,
            keepalive_timeout: KEEPALIVE_TIMEOUT,
            max_age: MAX_CONNECTION_AGE,
            age_grace: CONNECTION_AGE_GRACE,
            max_connections: MAX_CONNECTIONS,
            per_address: MAX_CONNECTIONS_PER_ADDRESS,
            streams_per_connection: MAX_STREAMS_PER_CONNECTION,
        }
    }
}

/// The address a per-address limit counts under: an IPv4 address (also when
/// it comes mapped into IPv6), or the /64 network of an IPv6 address, since
/// one IPv6 host usually holds a whole /64.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

/// Raises the open-file soft limit to the hard limit, and returns the soft
/// limit in force afterwards (`u64::MAX` when unlimited).
#[cfg(unix)]
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft < hard {
        match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => return Ok(hard),
            // Some systems refuse an unlimited soft limit: keep what we had.
            Err(e) => tracing::warn!(soft, hard, "cannot raise the open-file limit: {e}"),
        }
    }
    Ok(soft)
}

/// Raises the open-file soft limit to the hard limit (nothing to do here).
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    Ok(u64::MAX)
}

/// The global connection cap: `max`, lowered so that connections never take
/// the descriptors the server needs for itself ([`FD_RESERVE`]).
pub fn connection_cap(open_file_limit: u64, max: usize) -> usize {
    let allowed = open_file_limit.saturating_sub(FD_RESERVE).max(1);
    usize::try_from(allowed).map_or(max, |a| a.min(max))
}

/// Who is at the other end of a connection: put into each call's
/// extensions, so a service can rate-limit per address.
#[derive(Clone, Debug)]
pub struct Peer {
    /// The device's address and port.
    pub addr: SocketAddr,
    slot: Arc<Slot>,
}

impl Peer {
    /// Counts a call on this connection until the returned guard is
    /// dropped: while one is, the connection is neither idle nor chosen to
    /// give way (see [`calls`]).
    pub fn call(&self) -> Call {
        Call::start(&self.slot)
    }
}

/// An accepted connection, TLS or plain, as tonic serves it.
#[derive(Debug)]
pub enum ServerIo {
    /// Plain-text gRPC (loopback development servers only).
    Plain(Guarded),
    /// gRPC over TLS.
    Tls(Box<TlsStream<Guarded>>),
}

impl ServerIo {
    fn guarded(&self) -> &Guarded {
        match self {
            ServerIo::Plain(g) => g,
            ServerIo::Tls(t) => t.get_ref(),
        }
    }
}

impl Connected for ServerIo {
    type ConnectInfo = Peer;

    fn connect_info(&self) -> Peer {
        let g = self.guarded();
        Peer {
            addr: g.peer(),
            slot: g.slot().clone(),
        }
    }
}

impl AsyncRead for ServerIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ServerIo::Plain(g) => Pin::new(g).poll_read(cx, buf),
            ServerIo::Tls(t) => Pin::new(t.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ServerIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            ServerIo::Plain(g) => Pin::new(g).poll_write(cx, buf),
            ServerIo::Tls(t) => Pin::new(t.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            ServerIo::Plain(g) => Pin::new(g).poll_write_vectored(cx, bufs),
            ServerIo::Tls(t) => Pin::new(t.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            ServerIo::Plain(g) => g.is_write_vectored(),
            ServerIo::Tls(t) => t.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ServerIo::Plain(g) => Pin::new(g).poll_flush(cx),
            ServerIo::Tls(t) => Pin::new(t.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ServerIo::Plain(g) => Pin::new(g).poll_shutdown(cx),
            ServerIo::Tls(t) => Pin::new(t.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Early data (TLS 1.3 0-RTT) a resumed device may send before its
/// handshake is done: room for an idle sync's pull and a slow link's first
/// push messages. rustls holds it per connection until it is read.
pub const MAX_EARLY_DATA_BYTES: u32 = 16 << 10;

/// The TLS side of the devices' server: its certificate, offering HTTP/2,
/// reading a resumed device's early data (see [`tls`]).
pub fn tls_config(cert: &ServerCert) -> Result<Arc<ServerConfig>, Error> {
    tls_config_for(cert, &[b"h2"], MAX_EARLY_DATA_BYTES)
}

/// The server's certificate, offering the application protocols `alpn`
/// (the dashboard offers HTTP/1.1 besides HTTP/2, for browsers) and taking
/// up to `early_data` bytes of early data from a resumed client (0: none).
pub fn tls_config_for(
    cert: &ServerCert,
    alpn: &[&[u8]],
    early_data: u32,
) -> Result<Arc<ServerConfig>, Error> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    const BAD: &str = "cannot serve it over TLS";
    let chain = CertificateDer::pem_slice_iter(cert.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::certificate(BAD, e))?;
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes())
        .map_err(|e| Error::certificate(BAD, e))?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::certificate(BAD, e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| Error::certificate(BAD, e))?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // A resumption uses up its ticket and each connection gives one new
    // ticket, so a phone that keeps syncing holds one entry, refreshed each
    // time; with rustls' default of two a phone would add one forgotten
    // ticket per connection and push other phones' sessions out sooner.
    // Tickets stay in this store (no stateless ticketer): that is what
    // makes early data single use.
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(TLS_SESSIONS);
    config.send_tls13_tickets = 1;
    config.max_early_data_size = early_data;
    config.send_half_rtt_data = early_data > 0;
    Ok(Arc::new(config))
}

/// The connections tonic serves, as they finish their handshake. Dropping
/// it stops the accept loop, which closes the listening socket.
#[derive(Debug)]
pub struct Incoming {
    ready: mpsc::Receiver<ServerIo>,
}

impl futures::Stream for Incoming {
    type Item = Result<ServerIo, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.ready.poll_recv(cx).map(|io| io.map(Ok))
    }
}

/// Starts accepting on `listener`: TLS with `tls`, plain text without.
/// Returns the connections for tonic, and the accept loop's task, which ends
/// (closing the listener) once the [`Incoming`] is dropped.
pub fn accept(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    limits: ConnectionLimits,
    open_file_limit: u64,
) -> (Incoming, tokio::task::JoinHandle<()>) {
    let cap = connection_cap(open_file_limit, limits.max_connections);
    if cap < limits.max_connections {
        tracing::warn!(
            open_file_limit,
            cap,
            "the open-file limit allows only {cap} connections at once (raise `ulimit -Hn` for more)"
        );
    }
    tracing::info!(cap, per_address = limits.per_address, "connection limits");
    let table = Table::new(cap, limits.per_address);
    let (ready_tx, ready) = mpsc::channel(64);
    let task = tokio::spawn(accept_loop(listener, tls, limits, table, ready_tx));
    (Incoming { ready }, task)
}

/// Whether an accept error concerns only the one connection (which the peer
/// gave up on before we took it), so the next accept may follow at once.
fn only_that_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    )
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    limits: ConnectionLimits,
    table: Arc<Table>,
    ready: mpsc::Sender<ServerIo>,
) {
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        let accepted = tokio::select! {
            () = ready.closed() => return,
            a = listener.accept() => a,
        };
        let (tcp, addr) = match accepted {
            Ok(a) => {
                backoff = ACCEPT_BACKOFF_MIN;
                a
            }
            Err(e) if only_that_connection(&e) => continue,
            Err(e) => {
                // Out of descriptors (EMFILE, ENFILE) or memory: the pending
                // connection stays in the backlog and the next accept would
                // fail the same way at once. Pause, longer each time.
                if backoff == ACCEPT_BACKOFF_MIN {
                    tracing::warn!("accepting connections failed: {e}; backing off");
                }
                tokio::select! {
                    () = ready.closed() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        let slot = match table.admit(addr.ip()) {
            Admission::Admitted(slot) => slot,
            // Accepted and dropped here: closed at once.
            Admission::OverAddress => {
                tracing::debug!(%addr, "connection refused: too many from this address");
                continue;
            }
            Admission::Full => {
                tracing::debug!(%addr, "connection refused: connection cap reached");
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let guarded = Guarded::new(tcp, addr, slot, &limits);
        let tls = tls.clone();
        let ready = ready.clone();
        let handshake_timeout = limits.handshake_timeout;
        tokio::spawn(async move {
            let io = match tls {
                None => ServerIo::Plain(guarded),
                Some(config) => {
                    let accept = TlsStream::accept(config, guarded);
                    match tokio::time::timeout(handshake_timeout, accept).await {
                        Ok(Ok(mut stream)) => {
                            metrics::counter!(crate::metrics::TLS_HANDSHAKES, "kind" => stream.kind())
                                .increment(1);
                            ServerIo::Tls(Box::new(stream))
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%addr, "TLS handshake failed: {e}");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%addr, "TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            io.guarded().slot().established();
            let _ = ready.send(io).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(address_key(mapped), "10.1.2.3".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_cap_leaves_descriptors_for_the_server_itself() {
        assert_eq!(connection_cap(1024, MAX_CONNECTIONS), 1024 - 128);
        assert_eq!(connection_cap(1 << 20, MAX_CONNECTIONS), MAX_CONNECTIONS);
        assert_eq!(connection_cap(u64::MAX, MAX_CONNECTIONS), MAX_CONNECTIONS);
        assert_eq!(connection_cap(100, MAX_CONNECTIONS), 1);
    }
}
