//! The connections open now: how many in all and per address, and which one
//! gives way when the server is full.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::task::AtomicWaker;
use rustc_hash::FxHashMap;

use super::{MAX_PENDING_EVICTIONS, address_key};

/// One open connection, as the table, its socket and its calls see it.
#[derive(Debug)]
pub(crate) struct Slot {
    opened: Instant,
    /// TLS handshake done (or none needed).
    established: AtomicBool,
    /// Calls under way.
    calls: AtomicUsize,
    /// When a call last started or ended, in milliseconds after `opened`.
    last_active_ms: AtomicU64,
    /// Closed to make room for a newer connection.
    evicted: AtomicBool,
    /// The task serving the connection, woken to close it.
    waker: AtomicWaker,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            opened: Instant::now(),
            established: AtomicBool::new(false),
            calls: AtomicUsize::new(0),
            last_active_ms: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        }
    }

    pub(crate) fn opened(&self) -> Instant {
        self.opened
    }

    pub(crate) fn established(&self) {
        self.established.store(true, Ordering::Release);
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_active_ms.fetch_max(ms, Ordering::AcqRel);
    }

    pub(crate) fn call_started(&self) {
        self.calls.fetch_add(1, Ordering::AcqRel);
        self.touch();
    }

    pub(crate) fn call_ended(&self) {
        self.touch();
        self.calls.fetch_sub(1, Ordering::AcqRel);
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::Acquire)
    }

    /// Since when the connection has carried no call (if it carries none now).
    pub(crate) fn idle_since(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_active_ms.load(Ordering::Acquire))
    }

    pub(crate) fn is_evicted(&self) -> bool {
        self.evicted.load(Ordering::Acquire)
    }

    pub(crate) fn waker(&self) -> &AtomicWaker {
        &self.waker
    }

    fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        self.waker.wake();
    }
}

#[derive(Debug, Default)]
struct Inner {
    slots: FxHashMap<u64, (IpAddr, Arc<Slot>)>,
    per_address: FxHashMap<IpAddr, usize>,
    /// Evicted slots whose sockets have not closed yet.
    evicting: usize,
    next_id: u64,
}

/// The connection table.
#[derive(Debug)]
pub(crate) struct Table {
    inner: Mutex<Inner>,
    cap: usize,
    per_address: usize,
}

/// What the table says to a new connection.
pub(crate) enum Admission {
    /// Served: the slot is its own until dropped.
    Admitted(SlotGuard),
    /// Its address has too many connections already.
    OverAddress,
    /// The server is full of connections that are all busy.
    Full,
}

impl Table {
    pub(crate) fn new(cap: usize, per_address: usize) -> Arc<Table> {
        Arc::new(Table {
            inner: Mutex::default(),
            cap,
            per_address,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a slot for a connection from `ip`, closing an idle connection
    /// to make room if the server is full.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Admission {
        let key = address_key(ip);
        let mut t = self.lock();
        if t.per_address.get(&key).copied().unwrap_or(0) >= self.per_address {
            return Admission::OverAddress;
        }
        if t.slots.len() - t.evicting >= self.cap {
            if t.evicting >= MAX_PENDING_EVICTIONS {
                return Admission::Full;
            }
            // The connection serving nobody: still shaking hands (oldest
            // first), else idle (longest first).
            let victim = t
                .slots
                .values()
                .map(|(_, s)| s)
                .filter(|s| !s.is_evicted() && s.calls() == 0)
                .min_by_key(|s| (s.established.load(Ordering::Acquire), s.idle_since()))
                .cloned();
            match victim {
                Some(v) => {
                    v.evict();
                    t.evicting += 1;
                }
                None => return Admission::Full,
            }
        }
        let id = t.next_id;
        t.next_id += 1;
        let slot = Arc::new(Slot::new());
        t.slots.insert(id, (key, slot.clone()));
        *t.per_address.entry(key).or_default() += 1;
        metrics::gauge!(crate::metrics::CONNECTIONS).increment(1);
        Admission::Admitted(SlotGuard {
            table: self.clone(),
            id,
            slot,
        })
    }

    fn release(&self, id: u64) {
        let mut t = self.lock();
        if let Some((key, slot)) = t.slots.remove(&id) {
            metrics::gauge!(crate::metrics::CONNECTIONS).decrement(1);
            if slot.is_evicted() {
                t.evicting -= 1;
            }
            if let Some(n) = t.per_address.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    t.per_address.remove(&key);
                }
            }
        }
    }
}

/// A connection's place in the table, given back when dropped (when the
/// socket closes).
#[derive(Debug)]
pub(crate) struct SlotGuard {
    table: Arc<Table>,
    id: u64,
    slot: Arc<Slot>,
}

impl SlotGuard {
    pub(crate) fn slot(&self) -> &Arc<Slot> {
        &self.slot
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.table.release(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(a: Admission) -> SlotGuard {
        match a {
            Admission::Admitted(g) => g,
            Admission::OverAddress => panic!("over the address cap"),
            Admission::Full => panic!("full"),
        }
    }

    #[test]
    fn an_address_over_its_cap_is_refused_and_others_are_not() {
        let table = Table::new(10, 2);
        let one: IpAddr = "10.0.0.1".parse().unwrap();
        let _a = admitted(table.admit(one));
        let b = admitted(table.admit(one));
        assert!(matches!(table.admit(one), Admission::OverAddress));
        let _c = admitted(table.admit("10.0.0.2".parse().unwrap()));
        drop(b);
        let _d = admitted(table.admit(one));
    }

    #[test]
    fn a_full_table_closes_the_oldest_handshake_then_the_longest_idle_never_a_busy_one() {
        let table = Table::new(3, 10);
        let ip = |n: u8| IpAddr::from([10, 0, 0, n]);
        let busy = admitted(table.admit(ip(1)));
        busy.slot().established();
        busy.slot().call_started();
        let idle = admitted(table.admit(ip(2)));
        idle.slot().established();
        let shaking = admitted(table.admit(ip(3)));

        let newer = admitted(table.admit(ip(4)));
        assert!(shaking.slot().is_evicted());
        assert!(!idle.slot().is_evicted() && !busy.slot().is_evicted());
        drop(shaking);

        newer.slot().established();
        newer.slot().call_started();
        let fifth = admitted(table.admit(ip(5)));
        assert!(idle.slot().is_evicted());
        assert!(!busy.slot().is_evicted());
        drop(idle);

        fifth.slot().call_started();
        assert!(matches!(table.admit(ip(6)), Admission::Full));
        assert!(!busy.slot().is_evicted() && !newer.slot().is_evicted());
    }
}
