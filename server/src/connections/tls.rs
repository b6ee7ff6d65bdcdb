//! The server's side of TLS, which answers a resumed device's first
//! requests from its early data (TLS 1.3 0-RTT) in the server's first
//! flight (0.5-RTT): an idle sync over a resumed session then costs the
//! TCP round trip and one more, where a stream that waits for the end of the
//! handshake costs two more.
//!
//! Early data may be replayed by whoever captured it. The server accepts it
//! only on resumption with a ticket it keeps in memory, and rustls takes a
//! ticket out of that store when it is used, so one ClientHello's early data
//! is read at most once by one server process, and a restarted server knows
//! no ticket at all. Every call a device makes is idempotent besides: a pull
//! reads, a push's changes are stored by their hash. The dashboard, whose
//! forms are not idempotent, never accepts early data (its configuration
//! says none).
//!
//! [`TlsStream::accept`] drives the handshake until it is complete, or
//! until the device's early data was accepted and the server's flight is
//! written; the rest of the handshake (the device's `Finished`) is read as
//! the connection is read, after the early data.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use rustls::{ServerConfig, ServerConnection};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A TLS connection of the server over `io`.
#[derive(Debug)]
pub struct TlsStream<IO> {
    io: IO,
    conn: ServerConnection,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> TlsStream<IO> {
    /// Runs the handshake over `io` until application data can flow.
    pub async fn accept(config: Arc<ServerConfig>, io: IO) -> io::Result<TlsStream<IO>> {
        let conn = ServerConnection::new(config).map_err(io::Error::other)?;
        let mut stream = TlsStream { io, conn };
        poll_fn(|cx| stream.poll_started(cx)).await?;
        Ok(stream)
    }

    /// The transport under the TLS.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// How the handshake went, as the metrics name it: `full`, `resumed`,
    /// or `early_data` (resumed, and the early data taken).
    pub fn kind(&mut self) -> &'static str {
        if self.conn.early_data().is_some() {
            "early_data"
        } else if self.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
            "resumed"
        } else {
            "full"
        }
    }

    fn poll_started(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_write_tls(cx))?;
            if !self.conn.is_handshaking() || self.conn.early_data().is_some() {
                return Poll::Ready(Ok(()));
            }
            if ready!(self.poll_read_tls(cx))? == 0 {
                return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
            }
        }
    }

    /// Reads what the transport has into rustls and processes it. Ready(0)
    /// at the transport's end.
    fn poll_read_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let n = match self.conn.read_tls(&mut Blocking {
            io: &mut self.io,
            cx,
        }) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if let Err(e) = self.conn.process_new_packets() {
            // The alert describing the error, if it can go at once.
            let _ = self.poll_write_tls(cx);
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
        }
        Poll::Ready(Ok(n))
    }

    /// Writes everything rustls has to send; Ready once it is all written.
    fn poll_write_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut Blocking {
                io: &mut self.io,
                cx,
            }) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            // Early data comes first: all of it precedes the device's
            // `Finished`, and so anything sent after the handshake.
            if let Some(mut early) = this.conn.early_data() {
                let n = early.read(buf.initialize_unfilled())?;
                if n > 0 {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
            }
            match this.conn.reader().read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            // Handshake messages (the ticket after the device's `Finished`)
            // and alerts go out before waiting for more.
            if let Poll::Ready(Err(e)) = this.poll_write_tls(cx) {
                return Poll::Ready(Err(e));
            }
            // At the transport's end the reader above says whether the
            // device closed cleanly, so the loop ends.
            ready!(this.poll_read_tls(cx))?;
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut written = 0;
        loop {
            // rustls takes what its send buffer has room for.
            let n = this.conn.writer().write(&buf[written..])?;
            written += n;
            if written == buf.len() {
                break;
            }
            if n == 0 && !this.conn.wants_write() {
                // Nothing taken and nothing to send: application data before
                // the handshake allows it, which `accept` rules out.
                return Poll::Ready(Err(io::Error::other(
                    "TLS cannot send application data yet",
                )));
            }
            match this.poll_write_tls(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending if written > 0 => return Poll::Ready(Ok(written)),
                Poll::Pending => return Poll::Pending,
            }
        }
        // Sent now if the transport takes it, else at the next write or flush.
        if let Poll::Ready(Err(e)) = this.poll_write_tls(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.conn.writer().flush()?;
        ready!(this.poll_write_tls(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.conn.send_close_notify();
        ready!(this.poll_write_tls(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

/// The transport as blocking I/O for rustls: `WouldBlock` where it would wait.
struct Blocking<'a, 'b, IO> {
    io: &'a mut IO,
    cx: &'a mut Context<'b>,
}

impl<IO: AsyncRead + Unpin> Read for Blocking<'_, '_, IO> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut buf = ReadBuf::new(buf);
        match Pin::new(&mut *self.io).poll_read(self.cx, &mut buf) {
            Poll::Ready(Ok(())) => Ok(buf.filled().len()),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl<IO: AsyncWrite + Unpin> Write for Blocking<'_, '_, IO> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match Pin::new(&mut *self.io).poll_write(self.cx, buf) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match Pin::new(&mut *self.io).poll_write_vectored(self.cx, bufs) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match Pin::new(&mut *self.io).poll_flush(self.cx) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}
