//! Attempts per address over time: a token bucket for each address, kept in
//! memory (a restart forgets them, which costs an attacker one burst).

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use crate::connections::address_key;

/// Most addresses remembered at once. Addresses whose bucket has filled up
/// again are forgotten first; past this, while every remembered address is
/// still short of attempts, a new address waits like one that used up its
/// own, so a crowd of addresses cannot grow the table without bound.
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
    tokens: u32,
    /// When `tokens` was last brought up to date.
    at: Instant,
}

impl Bucket {
    /// Adds the attempts that came back since `at`.
    fn refill(&mut self, rate: Rate, now: Instant) {
        if self.tokens >= rate.burst || rate.every.is_zero() {
            self.tokens = rate.burst;
            self.at = now;
            return;
        }
        let back = now.saturating_duration_since(self.at).as_nanos() / rate.every.as_nanos();
        let back = u32::try_from(back).unwrap_or(u32::MAX);
        if back > 0 {
            self.tokens = self.tokens.saturating_add(back).min(rate.burst);
            self.at = if self.tokens >= rate.burst {
                now
            } else {
                self.at + rate.every * back
            };
        }
    }

    fn wait(&self, rate: Rate, now: Instant) -> Duration {
        (self.at + rate.every).saturating_duration_since(now)
    }
}

/// Attempts per address (an IPv4 address or an IPv6 /64) at a [`Rate`].
#[derive(Debug)]
pub struct PerAddress {
    rate: Rate,
    buckets: Mutex<FxHashMap<IpAddr, Bucket>>,
}

impl PerAddress {
    /// Counts attempts at `rate`.
    pub fn new(rate: Rate) -> PerAddress {
        PerAddress {
            rate,
            buckets: Mutex::default(),
        }
    }

    /// Takes one attempt for `ip`, or says how long until it has one.
    pub fn take(&self, ip: IpAddr) -> Result<(), Duration> {
        let (rate, now, key) = (self.rate, Instant::now(), address_key(ip));
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !buckets.contains_key(&key) && buckets.len() >= MAX_TRACKED_ADDRESSES {
            buckets.retain(|_, b| {
                b.refill(rate, now);
                b.tokens < rate.burst
            });
            if buckets.len() >= MAX_TRACKED_ADDRESSES {
                return Err(rate.every);
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: rate.burst,
            at: now,
        });
        bucket.refill(rate, now);
        if bucket.tokens == 0 {
            return Err(bucket.wait(rate, now));
        }
        bucket.tokens -= 1;
        Ok(())
    }

    /// Gives back an attempt taken for `ip` (one that turned out to count for
    /// nothing).
    pub fn give_back(&self, ip: IpAddr) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(&address_key(ip)) {
            b.tokens = (b.tokens + 1).min(self.rate.burst);
        }
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
            limit.take(ip).unwrap();
        }
        let wait = limit.take(ip).unwrap_err();
        assert!(wait <= rate.every && wait > Duration::ZERO, "{wait:?}");
        limit.take("10.0.0.2".parse().unwrap()).unwrap();
        std::thread::sleep(rate.every + Duration::from_millis(20));
        limit.take(ip).unwrap();
        assert!(limit.take(ip).is_err());
        limit.give_back(ip);
        limit.take(ip).unwrap();
    }
}
