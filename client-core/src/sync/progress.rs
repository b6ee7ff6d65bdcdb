//! How far the running sync is, for a person to see: a terminal draws it as
//! a bar, an app as a progress bar. The sync writes counters as it goes;
//! anyone may read them at any time, from any thread, without waiting on it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::link::LinkBytes;

/// Where a sync stands, at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncProgress {
    /// Whether a sync is running.
    pub running: bool,
    /// Local changes waiting to be sent when it started.
    pub to_send: u64,
    /// Of those, answered by the server so far (stored or refused).
    pub sent: u64,
    /// Changes taken in from the server so far.
    pub received: u64,
    /// Bytes sent over the link so far (TLS and HTTP/2 included).
    pub bytes_sent: u64,
    /// Bytes received over the link so far.
    pub bytes_received: u64,
}

/// The counters one store's syncs write.
#[derive(Debug, Default)]
pub struct Progress {
    running: AtomicBool,
    to_send: AtomicU64,
    sent: AtomicU64,
    received: AtomicU64,
    link: Mutex<Option<LinkBytes>>,
}

impl Progress {
    /// A sync starts with `to_send` changes waiting.
    pub fn begin(&self, to_send: u64) {
        self.to_send.store(to_send, Ordering::Relaxed);
        self.sent.store(0, Ordering::Relaxed);
        self.received.store(0, Ordering::Relaxed);
        *self.link.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.running.store(true, Ordering::Relaxed);
    }

    /// The sync's connection is up; its bytes count from here.
    pub fn connected(&self, link: LinkBytes) {
        *self.link.lock().unwrap_or_else(|p| p.into_inner()) = Some(link);
    }

    /// The server answered `n` more of the changes sent.
    pub fn answered(&self, n: u64) {
        self.sent.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` more changes came in.
    pub fn took_in(&self, n: u64) {
        self.received.fetch_add(n, Ordering::Relaxed);
    }

    /// The sync is over, done or cut; its figures stay readable.
    pub fn end(&self) {
        self.running.store(false, Ordering::Relaxed);
    }

    /// The figures now.
    pub fn now(&self) -> SyncProgress {
        let link = self.link.lock().unwrap_or_else(|p| p.into_inner());
        SyncProgress {
            running: self.running.load(Ordering::Relaxed),
            to_send: self.to_send.load(Ordering::Relaxed),
            sent: self.sent.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            bytes_sent: link.as_ref().map_or(0, LinkBytes::sent),
            bytes_received: link.as_ref().map_or(0, LinkBytes::received),
        }
    }
}
