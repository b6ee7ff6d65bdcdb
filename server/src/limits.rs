//! What one device may cost the server: how many calls it runs at once, how
//! long a call may wait on it or stay open, and how many bytes it may push per
//! hour and per day.
//!
//! A device that goes over a limit is refused with the limit named; other
//! devices are not affected. The defaults are the `pub const`s below;
//! [`Limits`] (in `ServeConfig`) overrides them.
//!
//! The byte accounting is kept in memory only: a restarted server starts every
//! device's hour and day at zero again. Counting durably would cost a write on
//! every push message or a table of its own.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Calls one device may have open at once. An honest device runs two (its
/// push and its pull, side by side); the rest is room for the calls of a link
/// that died and that the server has not yet given up on.
pub const CALLS_PER_DEVICE: usize = 4;

/// How long the server waits for a device to take the next message of an
/// answer before it cuts the call off. On 2G (8 kB/s) the messages already on
/// their way, a few times 50 kB, drain in well under this.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a push call may go without the device's next message before the
/// server cuts it off, so a link that died silently frees its call.
pub const RECEIVE_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest a call stays open. A 2G phone uploads a village's year in
/// about 30 s and a township officer's phone downloads 30 villages in about
/// 9 minutes; a call cut off here is resumed by the next one.
pub const CALL_TIME: Duration = Duration::from_secs(15 * 60);

/// Push bytes (packed frames, as sent) one device may send in one clock hour
/// (UTC). A village's year is about 150 kB packed.
pub const BYTES_PER_HOUR: u64 = 16 << 20;

/// Push bytes (packed frames, as sent) one device may send in one day (UTC).
pub const BYTES_PER_DAY: u64 = 64 << 20;

/// The limits a server applies to each device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Calls one device may have open at once ([`CALLS_PER_DEVICE`]).
    pub calls_per_device: usize,
    /// Wait for a device to take an answer ([`SEND_TIMEOUT`]).
    pub send_timeout: Duration,
    /// Wait for a pushing device's next message ([`RECEIVE_TIMEOUT`]).
    pub receive_timeout: Duration,
    /// Longest a call stays open ([`CALL_TIME`]).
    pub call_time: Duration,
    /// Push bytes per device per hour ([`BYTES_PER_HOUR`]).
    pub bytes_per_hour: u64,
    /// Push bytes per device per day ([`BYTES_PER_DAY`]).
    pub bytes_per_day: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            calls_per_device: CALLS_PER_DEVICE,
            send_timeout: SEND_TIMEOUT,
            receive_timeout: RECEIVE_TIMEOUT,
            call_time: CALL_TIME,
            bytes_per_hour: BYTES_PER_HOUR,
            bytes_per_day: BYTES_PER_DAY,
        }
    }
}

/// The period of a byte quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// A clock hour, UTC.
    Hour,
    /// A day, UTC.
    Day,
}

impl Period {
    fn seconds(self) -> i64 {
        match self {
            Period::Hour => 3_600,
            Period::Day => 86_400,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Period::Hour => "hour",
            Period::Day => "day",
        }
    }

    fn adjective(self) -> &'static str {
        match self {
            Period::Hour => "hourly",
            Period::Day => "daily",
        }
    }
}

/// Why a device's call was refused or cut off.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// The device already runs as many calls as it may.
    #[error(
        "device {device} already has {open} calls open, the most one device may: \
         wait for one to finish"
    )]
    TooManyCalls {
        /// The device.
        device: u64,
        /// Its calls open.
        open: usize,
    },
    /// A push message would take the device over a byte quota.
    #[error(
        "device {device} is over its {} push quota: {used} of {limit} bytes sent this {}, \
         and this message has {bytes} more; the quota resets at {} UTC (in {resets_in} s)",
        .period.adjective(),
        .period.noun(),
        .resets.format("%Y-%m-%d %H:%M")
    )]
    Quota {
        /// The device.
        device: u64,
        /// Which quota.
        period: Period,
        /// Bytes it sent in the period so far.
        used: u64,
        /// The quota.
        limit: u64,
        /// The message refused.
        bytes: u64,
        /// When the period ends.
        resets: DateTime<Utc>,
        /// Seconds from the refusal until then.
        resets_in: i64,
    },
}

/// Bytes sent in one period.
#[derive(Clone, Copy, Debug, Default)]
struct Window {
    /// The period's number since the epoch.
    number: i64,
    bytes: u64,
}

impl Window {
    fn used(&self, number: i64) -> u64 {
        if self.number == number { self.bytes } else { 0 }
    }
}

#[derive(Debug, Default)]
struct Use {
    calls: usize,
    hour: Window,
    day: Window,
}

/// The calls and push bytes of every device that called since the server
/// started (one small entry per enrolled device at most).
#[derive(Clone, Debug, Default)]
pub struct Limiter {
    limits: Limits,
    devices: Arc<Mutex<HashMap<u64, Use>>>,
}

/// One open call of a device; the device's count goes down when it is dropped.
#[derive(Debug)]
pub struct CallSlot {
    devices: Arc<Mutex<HashMap<u64, Use>>>,
    device: u64,
}

impl Drop for CallSlot {
    fn drop(&mut self) {
        if let Some(u) = lock(&self.devices).get_mut(&self.device) {
            u.calls = u.calls.saturating_sub(1);
        }
    }
}

fn lock(m: &Mutex<HashMap<u64, Use>>) -> MutexGuard<'_, HashMap<u64, Use>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Limiter {
    /// Applies `limits`.
    pub fn new(limits: Limits) -> Self {
        Limiter {
            limits,
            devices: Arc::default(),
        }
    }

    /// The limits applied.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Opens a call of `device`, if it has a call to spare.
    pub fn begin_call(&self, device: u64) -> Result<CallSlot, LimitError> {
        let mut devices = lock(&self.devices);
        let u = devices.entry(device).or_default();
        if u.calls >= self.limits.calls_per_device {
            return Err(LimitError::TooManyCalls {
                device,
                open: u.calls,
            });
        }
        u.calls += 1;
        Ok(CallSlot {
            devices: self.devices.clone(),
            device,
        })
    }

    /// Counts `bytes` pushed by `device` at `now`, unless they would take it
    /// over its hourly or daily quota (then nothing is counted).
    pub fn charge(&self, device: u64, bytes: u64, now: DateTime<Utc>) -> Result<(), LimitError> {
        let mut devices = lock(&self.devices);
        let u = devices.entry(device).or_default();
        let t = now.timestamp();
        for (period, window, limit) in [
            (Period::Hour, &u.hour, self.limits.bytes_per_hour),
            (Period::Day, &u.day, self.limits.bytes_per_day),
        ] {
            let number = t.div_euclid(period.seconds());
            let used = window.used(number);
            if used.saturating_add(bytes) > limit {
                let resets =
                    DateTime::from_timestamp((number + 1) * period.seconds(), 0).unwrap_or(now);
                return Err(LimitError::Quota {
                    device,
                    period,
                    used,
                    limit,
                    bytes,
                    resets,
                    resets_in: (resets - now).num_seconds(),
                });
            }
        }
        for (period, window) in [(Period::Hour, &mut u.hour), (Period::Day, &mut u.day)] {
            let number = t.div_euclid(period.seconds());
            *window = Window {
                number,
                bytes: window.used(number) + bytes,
            };
        }
        Ok(())
    }
}

/// Why the server stopped a call's stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Cut {
    /// The device took nothing of the answer for the send timeout.
    #[error("the device took nothing more of its answer for {} s: call cut off", .0.as_secs())]
    NotReading(Duration),
    /// The pushing device sent nothing for the receive timeout.
    #[error("the device sent nothing for {} s: call cut off", .0.as_secs())]
    NotSending(Duration),
    /// The call reached the longest a call may stay open.
    #[error("the call was open {} s, the most a call may: call again to go on", .0.as_secs())]
    TooLong(Duration),
    /// The device went away (nothing to tell it).
    #[error("the device went away")]
    Gone,
}

/// The clock of one call: when it must end, and how long each wait on the
/// device may last.
#[derive(Clone, Copy, Debug)]
pub struct CallClock {
    deadline: Instant,
    limits: Limits,
}

impl CallClock {
    /// A call starting now under `limits`.
    pub fn start(limits: &Limits) -> Self {
        CallClock {
            deadline: Instant::now() + limits.call_time,
            limits: *limits,
        }
    }

    /// Waits until `tx` takes `item`: no longer than the send timeout, nor
    /// past the call's end.
    pub async fn send<T>(&self, tx: &mpsc::Sender<T>, item: T) -> Result<(), Cut> {
        match self.wait(self.limits.send_timeout, tx.send(item)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Cut::Gone),
            Err(None) => Err(Cut::NotReading(self.limits.send_timeout)),
            Err(Some(cut)) => Err(cut),
        }
    }

    /// Waits for the device's next message (`next`): no longer than the
    /// receive timeout, nor past the call's end.
    pub async fn receive<T>(&self, next: impl Future<Output = T>) -> Result<T, Cut> {
        self.wait(self.limits.receive_timeout, next)
            .await
            .map_err(|cut| cut.unwrap_or(Cut::NotSending(self.limits.receive_timeout)))
    }

    /// `f`, unless `timeout` passes first (`Err(None)`) or the call's end
    /// comes first (`Err(Some(TooLong))`).
    async fn wait<T>(
        &self,
        timeout: Duration,
        f: impl Future<Output = T>,
    ) -> Result<T, Option<Cut>> {
        let waited = Instant::now() + timeout;
        let until = waited.min(self.deadline);
        tokio::time::timeout_at(until, f).await.map_err(|_| {
            (until == self.deadline && until < waited)
                .then_some(Cut::TooLong(self.limits.call_time))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn calls_are_counted_until_dropped() {
        let l = Limiter::new(Limits {
            calls_per_device: 2,
            ..Limits::default()
        });
        let a = l.begin_call(1).unwrap();
        let _b = l.begin_call(1).unwrap();
        assert!(matches!(
            l.begin_call(1),
            Err(LimitError::TooManyCalls { device: 1, open: 2 })
        ));
        let _other = l.begin_call(2).unwrap();
        drop(a);
        let _c = l.begin_call(1).unwrap();
    }

    #[test]
    fn quotas_refuse_what_would_exceed_and_reset_with_their_period() {
        let l = Limiter::new(Limits {
            bytes_per_hour: 100,
            bytes_per_day: 250,
            ..Limits::default()
        });
        l.charge(7, 60, at("2026-11-28T10:05:00Z")).unwrap();
        let e = l.charge(7, 50, at("2026-11-28T10:59:00Z")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "device 7 is over its hourly push quota: 60 of 100 bytes sent this hour, \
             and this message has 50 more; the quota resets at 2026-11-28 11:00 UTC (in 60 s)"
        );
        l.charge(8, 100, at("2026-11-28T10:59:00Z")).unwrap();
        l.charge(7, 100, at("2026-11-28T11:00:00Z")).unwrap();
        l.charge(7, 80, at("2026-11-28T12:00:00Z")).unwrap();
        let e = l.charge(7, 20, at("2026-11-28T13:00:00Z")).unwrap_err();
        assert!(matches!(
            e,
            LimitError::Quota {
                period: Period::Day,
                used: 240,
                ..
            }
        ));
        assert!(e.to_string().contains("resets at 2026-11-29 00:00 UTC"));
        l.charge(7, 20, at("2026-11-29T00:00:00Z")).unwrap();
    }
}
