//! The connection under gRPC: TCP, optionally TLS, with every byte counted.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, BufWriter, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// How a connection's TLS handshake went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Handshake {
    /// No TLS (a development server), or the handshake is not done.
    #[default]
    None,
    /// A full handshake: the server sent its certificate.
    Full,
    /// A session resumed, the first calls sent after the handshake.
    Resumed,
    /// A session resumed, the first calls sent with the ClientHello (TLS
    /// 1.3 early data) and taken by the server: one round trip fewer.
    EarlyData,
}

impl Handshake {
    fn code(self) -> u8 {
        match self {
            Handshake::None => 0,
            Handshake::Full => 1,
            Handshake::Resumed => 2,
            Handshake::EarlyData => 3,
        }
    }

    fn from_code(c: u8) -> Handshake {
        match c {
            1 => Handshake::Full,
            2 => Handshake::Resumed,
            3 => Handshake::EarlyData,
            _ => Handshake::None,
        }
    }

    /// Its name in reports: `full`, `resumed`, `early-data` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            Handshake::None => "none",
            Handshake::Full => "full",
            Handshake::Resumed => "resumed",
            Handshake::EarlyData => "early-data",
        }
    }
}

/// Bytes that crossed the link (TLS and HTTP/2 included), both ways, and
/// how its TLS handshake went.
#[derive(Clone, Debug, Default)]
pub struct LinkBytes {
    sent: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    handshake: Arc<AtomicU8>,
    early: Arc<AtomicBool>,
    opened: Arc<OnceLock<Instant>>,
    handshake_millis: Arc<AtomicU64>,
}

impl LinkBytes {
    /// Bytes written to the socket.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
    /// Bytes read from the socket.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
    /// How the TLS handshake went, once it is done.
    pub fn handshake(&self) -> Handshake {
        Handshake::from_code(self.handshake.load(Ordering::Relaxed))
    }
    /// Notes that the connection was handed over before its TLS handshake,
    /// its first calls to go as early data: connecting took the TCP round
    /// trip alone.
    pub fn started_early(&self) {
        self.early.store(true, Ordering::Relaxed);
    }
    /// Whether the connection was handed over before its TLS handshake.
    pub fn is_early(&self) -> bool {
        self.early.load(Ordering::Relaxed)
    }
    /// Notes when connecting began.
    pub fn opening(&self) {
        let _ = self.opened.set(Instant::now());
    }
    /// From the start of connecting to the end of the TLS handshake (TCP
    /// and TLS, two round trips however the handshake went), once it is done.
    pub fn handshake_took(&self) -> Option<Duration> {
        match self.handshake_millis.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(ms - 1)),
        }
    }
}

/// A TCP stream that counts what passes.
#[derive(Debug)]
pub struct Counted {
    inner: TcpStream,
    bytes: LinkBytes,
}

impl Counted {
    /// Wraps `inner`, counting into `bytes`.
    pub fn new(inner: TcpStream, bytes: LinkBytes) -> Self {
        Counted { inner, bytes }
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        self.bytes.received.fetch_add(n, Ordering::Relaxed);
        r
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.bytes.sent.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Plain bytes gathered before TLS seals them: HTTP/2 writes a call's
/// frames one by one (preface, settings, headers, data) and flushes once,
/// and each write would otherwise be a TLS record of its own, 22 bytes more.
pub const GATHER_BYTES: usize = 16 << 10;

/// The stream gRPC runs over: TLS (the normal case) or plain text (development).
#[derive(Debug)]
pub enum LinkStream {
    /// TLS over counted TCP, written through a buffer of [`GATHER_BYTES`];
    /// its handshake is noted in the counters once done.
    Tls(Box<BufWriter<TlsStream<Counted>>>),
    /// Plain counted TCP.
    Plain(Counted),
}

impl AsyncRead for LinkStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LinkStream::Tls(s) => {
                let r = Pin::new(s.as_mut()).poll_read(cx, buf);
                let (tcp, tls) = s.get_ref().get_ref();
                let noted = &tcp.bytes.handshake;
                if noted.load(Ordering::Relaxed) == 0 && !tls.is_handshaking() {
                    let kind = match tls.handshake_kind() {
                        Some(
                            rustls::HandshakeKind::Full
                            | rustls::HandshakeKind::FullWithHelloRetryRequest,
                        ) => Handshake::Full,
                        _ if tls.is_early_data_accepted() => Handshake::EarlyData,
                        _ => Handshake::Resumed,
                    };
                    noted.store(kind.code(), Ordering::Relaxed);
                    if let Some(t) = tcp.bytes.opened.get() {
                        let ms = u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
                        tcp.bytes.handshake_millis.store(ms + 1, Ordering::Relaxed);
                    }
                }
                r
            }
            LinkStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for LinkStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            LinkStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            LinkStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            LinkStream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
            LinkStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            LinkStream::Tls(s) => s.is_write_vectored(),
            LinkStream::Plain(s) => s.is_write_vectored(),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LinkStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            LinkStream::Plain(s) => Pin::new(s).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LinkStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            LinkStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
