//! Attempts per address (or per person) over time: a token bucket for each,
//! kept in memory (a restart forgets them, which costs an attacker one burst).

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use crate::connections::address_key;

/// Most addresses (or other keys) remembered at once by one limiter.
/// Addresses whose bucket has filled up again are forgotten first; past
/// this, while every remembered address is still short of attempts, a new
/// address waits like one that used up its own, so a crowd of addresses
/// cannot grow the table without bound.
pub const MAX_TRACKED_ADDRESSES: usize = 16_384;

/// A rate: `burst` attempts at once, then one more every `every`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Attempts an address may make at once.
    pub burst: u32,
    /// The time in which one attempt comes back.
    pub every: Duration,
}

#[derive(Debug)]
struct Bucket {
    /// Attempts left; below zero after a crowd of attempts at once, which
    /// then takes longer to come back.
    tokens: i64,
    /// When `tokens` was last brought up to date.
    at: Instant,
}

impl Bucket {
    /// Adds the attempts that came back since `at`.
    fn refill(&mut self, rate: Rate, now: Instant) {
        let burst = i64::from(rate.burst);
        if self.tokens >= burst || rate.every.is_zero() {
            self.tokens = burst;
            self.at = now;
            return;
        }
        let back = now.saturating_duration_since(self.at).as_nanos() / rate.every.as_nanos();
        let back = i64::try_from(back).unwrap_or(i64::MAX);
        if back > 0 {
            self.tokens = self.tokens.saturating_add(back).min(burst);
            self.at = if self.tokens >= burst {
                now
            } else {
                // `back` attempts came back: fewer than a burst, so it fits.
                self.at + rate.every * u32::try_from(back).unwrap_or(u32::MAX)
            };
        }
    }

    /// How long until the bucket holds an attempt again.
    fn wait(&self, rate: Rate, now: Instant) -> Duration {
        let missing = u32::try_from(1 - self.tokens).unwrap_or(u32::MAX);
        (self.at + rate.every * missing).saturating_duration_since(now)
    }
}

/// Attempts per key (an address, a person) at a [`Rate`].
///
/// An attempt is let in while its key has attempts left ([`check`]), and
/// only those that count use one up ([`charge`]); attempts let in at the
/// same moment may take a key below zero, down to minus a burst, so a crowd
/// of them costs as long to come back.
///
/// [`check`]: PerKey::check
/// [`charge`]: PerKey::charge
#[derive(Debug)]
pub struct PerKey<K> {
    rate: Rate,
    buckets: Mutex<FxHashMap<K, Bucket>>,
}

impl<K: std::hash::Hash + Eq> PerKey<K> {
    /// Counts attempts at `rate`.
    pub fn new(rate: Rate) -> PerKey<K> {
        PerKey {
            rate,
            buckets: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FxHashMap<K, Bucket>> {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `key` has an attempt left; if not, how long until it has.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        let (rate, now) = (self.rate, Instant::now());
        let mut buckets = self.lock();
        if let Some(b) = buckets.get_mut(key) {
            b.refill(rate, now);
            if b.tokens <= 0 {
                return Err(b.wait(rate, now));
            }
        } else if buckets.len() >= MAX_TRACKED_ADDRESSES {
            // Only a key that is remembered can be charged: make room.
            buckets.retain(|_, b| {
                b.refill(rate, now);
                b.tokens < i64::from(rate.burst)
            });
            if buckets.len() >= MAX_TRACKED_ADDRESSES {
                return Err(rate.every);
            }
        }
        Ok(())
    }

    /// Uses up one attempt of `key`.
    pub fn charge(&self, key: K) {
        let (rate, now) = (self.rate, Instant::now());
        let mut buckets = self.lock();
        let b = buckets.entry(key).or_insert(Bucket {
            tokens: i64::from(rate.burst),
            at: now,
        });
        b.refill(rate, now);
        b.tokens = (b.tokens - 1).max(-i64::from(rate.burst));
    }
}

/// Attempts per address (an IPv4 address or an IPv6 /64) at a [`Rate`]:
/// a [`PerKey`] keyed by [`address_key`].
#[derive(Debug)]
pub struct PerAddress(PerKey<IpAddr>);

impl PerAddress {
    /// Counts attempts at `rate`.
    pub fn new(rate: Rate) -> PerAddress {
        PerAddress(PerKey::new(rate))
    }

    /// Whether `ip` has an attempt left; if not, how long until it has.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.0.check(&address_key(ip))
    }

    /// Uses up one attempt of `ip`.
    pub fn charge(&self, ip: IpAddr) {
        self.0.charge(address_key(ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_attempt_per_interval() {
        let rate = Rate {
            burst: 3,
            every: Duration::from_millis(200),
        };
        let limit = PerAddress::new(rate);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            limit.check(ip).unwrap();
            limit.charge(ip);
        }
        let wait = limit.check(ip).unwrap_err();
        assert!(wait <= rate.every && wait > Duration::ZERO, "{wait:?}");
        limit.check("10.0.0.2".parse().unwrap()).unwrap();
        std::thread::sleep(rate.every + Duration::from_millis(20));
        limit.check(ip).unwrap();
        limit.charge(ip);
        assert!(limit.check(ip).is_err());
    }

    #[test]
    fn a_crowd_of_attempts_at_once_costs_as_long_to_come_back() {
        let rate = Rate {
            burst: 2,
            every: Duration::from_secs(10),
        };
        let limit = PerAddress::new(rate);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        limit.check(ip).unwrap();
        for _ in 0..100 {
            limit.charge(ip);
        }
        // Two below zero at most: three intervals until the next attempt.
        let wait = limit.check(ip).unwrap_err();
        assert!(wait > rate.every * 2 && wait <= rate.every * 3, "{wait:?}");
    }
}
