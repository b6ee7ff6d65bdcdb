//! A connection's socket, closed when the connection has served its time.
//!
//! hyper keeps a read pending on every connection it serves, so a timer
//! polled from `poll_read` closes an idle connection without any task of
//! its own: when it fires, the read fails and hyper drops the connection.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use super::ConnectionLimits;
use super::table::{Slot, SlotGuard};

/// A TCP connection with its place in the table and its deadlines.
#[derive(Debug)]
pub struct Guarded {
    tcp: TcpStream,
    peer: SocketAddr,
    guard: SlotGuard,
    idle: Duration,
    /// Past this even calls under way are cut: age plus grace.
    end: Instant,
    timer: Pin<Box<Sleep>>,
}

impl Guarded {
    pub(crate) fn new(
        tcp: TcpStream,
        peer: SocketAddr,
        guard: SlotGuard,
        limits: &ConnectionLimits,
    ) -> Guarded {
        let opened = Instant::from_std(guard.slot().opened());
        let end = opened + limits.max_age + limits.age_grace;
        let first = (opened + limits.idle_timeout).min(end);
        Guarded {
            tcp,
            peer,
            guard,
            idle: limits.idle_timeout,
            end,
            timer: Box::pin(tokio::time::sleep_until(first)),
        }
    }

    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    pub(crate) fn slot(&self) -> &Arc<Slot> {
        self.guard.slot()
    }

    /// An error once the connection must close; registers for a wake-up
    /// otherwise.
    fn check(&mut self, cx: &mut Context<'_>) -> std::io::Result<()> {
        use std::io::{Error, ErrorKind};
        let slot = self.guard.slot();
        slot.waker().register(cx.waker());
        loop {
            if slot.is_evicted() {
                return Err(Error::new(
                    ErrorKind::ConnectionAborted,
                    "closed to make room for a new connection",
                ));
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= self.end {
                return Err(Error::new(
                    ErrorKind::TimedOut,
                    "connection past its maximum age and grace",
                ));
            }
            let next = if slot.calls() > 0 {
                now + self.idle
            } else {
                let until = Instant::from_std(slot.idle_since()) + self.idle;
                if now >= until {
                    return Err(Error::new(ErrorKind::TimedOut, "connection idle"));
                }
                until
            };
            self.timer.as_mut().reset(next.min(self.end));
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if let Err(e) = this.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if let Err(e) = this.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}
