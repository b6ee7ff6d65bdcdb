//! Keeps the typed rows following the records.
//!
//! Taking in a push commits the changes and the records' documents, answers
//! the device, and pokes the follower, which brings the rows up to date in a
//! transaction of its own (`rows::catch_up`). The rows are where the
//! dashboard counts; they lag the records by the time of that transaction,
//! and a server that stops between the two catches up when it starts again.
//!
//! A device uploading many messages pokes the follower after each: it waits
//! until the pokes pause ([`QUIET`], at most [`MAX_LAG`] after the first),
//! so the rows of the whole upload are written after it, not between each
//! message and the next, holding up the next on the one writer; and they are
//! written [`RECORDS_PER_CATCH_UP`] records to a transaction, each when no
//! device's push is being taken in (until [`MAX_LAG`] after the first poke,
//! then whatever comes), so a device waits on the rows at most for one such
//! transaction, and usually not at all.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::db::Db;
use crate::rows;

/// How long the pokes must pause before the rows catch up.
pub const QUIET: Duration = Duration::from_millis(100);

/// The longest the rows wait for the pokes to pause, after the first poke.
pub const MAX_LAG: Duration = Duration::from_secs(1);

/// A handle that wakes the follower, and tells it of pushes under way.
#[derive(Clone, Debug)]
pub struct Follower {
    wake: Arc<Notify>,
    /// How many push calls are being taken in.
    pushes: Arc<watch::Sender<usize>>,
}

impl Default for Follower {
    fn default() -> Self {
        Follower {
            wake: Arc::default(),
            pushes: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Follower {
    /// Says records changed: the rows should catch up.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// Says a push call is being taken in, until the guard is dropped: the
    /// rows wait for it, up to [`MAX_LAG`] after the poke they follow.
    pub fn pushing(&self) -> Pushing {
        self.pushes.send_modify(|n| *n += 1);
        Pushing(self.pushes.clone())
    }

    /// Waits until no push is being taken in, or until `latest`.
    async fn no_push_before(&self, latest: Instant) {
        let mut pushes = self.pushes.subscribe();
        let _ = tokio::time::timeout_at(latest, pushes.wait_for(|&n| n == 0)).await;
    }
}

/// A push call under way, as the follower counts it ([`Follower::pushing`]).
#[derive(Debug)]
pub struct Pushing(Arc<watch::Sender<usize>>);

impl Drop for Pushing {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Most records whose rows are written in one transaction: a few
/// milliseconds of work (the 2,700 records of a village's upload took
/// 35 ms in one), the longest a push waits for the rows to let the writer go.
pub const RECORDS_PER_CATCH_UP: u32 = 256;

/// Brings the rows up to date, [`RECORDS_PER_CATCH_UP`] records to a
/// transaction, each once no push is being taken in (or `latest` has come);
/// a failure is logged, and the next poke tries again.
async fn catch_up(db: &Arc<Db>, pushes: &Follower, latest: Instant) {
    loop {
        pushes.no_push_before(latest).await;
        let db = db.clone();
        let done = tokio::task::spawn_blocking(move || {
            db.write(|tx| rows::catch_up_some(tx, RECORDS_PER_CATCH_UP))
        })
        .await;
        match done {
            Ok(Ok(caught)) if caught.more => {}
            Ok(Ok(_)) => return,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "typed rows could not catch up");
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "bringing the typed rows up to date failed");
                return;
            }
        }
    }
}

/// Waits for a poke and then for the pokes to pause; whether `halt` was
/// poked meanwhile, and the longest the rows may lag: [`MAX_LAG`] after the
/// first poke.
async fn settled(wake: &Notify, halt: &Notify) -> (bool, Instant) {
    tokio::select! {
        () = wake.notified() => {}
        () = halt.notified() => return (true, Instant::now()),
    }
    let latest = Instant::now() + MAX_LAG;
    loop {
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(QUIET) => return (false, latest),
            () = tokio::time::sleep_until(latest) => return (false, latest),
            () = halt.notified() => return (true, Instant::now()),
        }
    }
}

/// Starts the follower: it catches up at once (after a stop that left rows
/// behind), then whenever poked (once the pokes pause), until `stop` is
/// poked, when it catches up a last time and ends.
pub fn start(db: Arc<Db>) -> (Follower, Follower, tokio::task::JoinHandle<()>) {
    let follower = Follower::default();
    let stop = Follower::default();
    let (wake, halt, pushes) = (follower.wake.clone(), stop.wake.clone(), follower.clone());
    let task = tokio::spawn(async move {
        let mut latest = Instant::now();
        loop {
            catch_up(&db, &pushes, latest).await;
            let halted;
            (halted, latest) = settled(&wake, &halt).await;
            if halted {
                catch_up(&db, &pushes, Instant::now()).await;
                return;
            }
        }
    });
    (follower, stop, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
            .block_on(f)
    }

    /// Pokes `wake` now and then every tenth of [`QUIET`], until aborted.
    fn keep_poking(wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                wake.notify_one();
                tokio::time::sleep(QUIET / 10).await;
            }
        })
    }

    #[test]
    fn one_poke_is_followed_once_the_pokes_pause() {
        block_on(async {
            let (wake, halt) = (Notify::new(), Notify::new());
            wake.notify_one();
            let started = Instant::now();
            assert!(!settled(&wake, &halt).await.0);
            let took = started.elapsed();
            assert!(took >= QUIET, "caught up {took:?} after the poke");
            assert!(took < MAX_LAG, "caught up {took:?} after the poke");
        });
    }

    #[test]
    fn pokes_that_go_on_are_followed_no_later_than_the_longest_lag() {
        block_on(async {
            let (wake, halt) = (Arc::new(Notify::new()), Notify::new());
            let poker = keep_poking(wake.clone());
            let started = Instant::now();
            assert!(!settled(&wake, &halt).await.0);
            let took = started.elapsed();
            poker.abort();
            assert!(took >= MAX_LAG, "caught up {took:?} after the first poke");
            assert!(
                took < MAX_LAG * 3,
                "caught up {took:?} after the first poke"
            );
        });
    }

    #[test]
    fn rows_wait_for_a_push_under_way_to_end() {
        block_on(async {
            let follower = Follower::default();
            let push = follower.pushing();
            let ends = tokio::spawn(async move {
                tokio::time::sleep(QUIET).await;
                drop(push);
            });
            let started = Instant::now();
            follower.no_push_before(started + MAX_LAG).await;
            let took = started.elapsed();
            assert!(took >= QUIET, "went ahead {took:?} into the push");
            assert!(took < MAX_LAG, "waited {took:?}, past the push's end");
            ends.await.expect("the push ended");
            // With none under way, at once.
            let started = Instant::now();
            follower.no_push_before(started + MAX_LAG).await;
            assert!(started.elapsed() < QUIET);
        });
    }

    #[test]
    fn rows_wait_for_pushes_no_longer_than_the_longest_lag() {
        block_on(async {
            let follower = Follower::default();
            let _push = follower.pushing();
            let started = Instant::now();
            follower.no_push_before(started + QUIET).await;
            let took = started.elapsed();
            assert!(took >= QUIET, "went ahead {took:?} into the push");
            assert!(took < QUIET * 5, "waited {took:?} for a push that goes on");
        });
    }

    #[test]
    fn a_stop_ends_the_wait_at_once() {
        block_on(async {
            let (wake, halt) = (Arc::new(Notify::new()), Notify::new());
            let poker = keep_poking(wake.clone());
            tokio::time::sleep(QUIET / 2).await;
            halt.notify_one();
            let started = Instant::now();
            assert!(settled(&wake, &halt).await.0);
            assert!(started.elapsed() < QUIET);
            poker.abort();
        });
    }
}
