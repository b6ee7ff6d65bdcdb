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
//! written [`RECORDS_PER_CATCH_UP`] records to a transaction, so another
//! device's push waits at most for one of them.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::db::Db;
use crate::rows;

/// How long the pokes must pause before the rows catch up.
pub const QUIET: Duration = Duration::from_millis(100);

/// The longest the rows wait for the pokes to pause, after the first poke.
pub const MAX_LAG: Duration = Duration::from_secs(1);

/// A handle that wakes the follower.
#[derive(Clone, Debug, Default)]
pub struct Follower {
    wake: Arc<Notify>,
}

impl Follower {
    /// Says records changed: the rows should catch up.
    pub fn poke(&self) {
        self.wake.notify_one();
    }
}

/// Most records whose rows are written in one transaction: a few
/// milliseconds of work (the 2,700 records of a village's upload took
/// 35 ms in one), the longest a push waits for the rows to let the writer go.
pub const RECORDS_PER_CATCH_UP: u32 = 256;

/// Brings the rows up to date, [`RECORDS_PER_CATCH_UP`] records to a
/// transaction; a failure is logged, and the next poke tries again.
async fn catch_up(db: &Arc<Db>) {
    loop {
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
/// poked meanwhile.
async fn settled(wake: &Notify, halt: &Notify) -> bool {
    tokio::select! {
        () = wake.notified() => {}
        () = halt.notified() => return true,
    }
    let latest = Instant::now() + MAX_LAG;
    loop {
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(QUIET) => return false,
            () = tokio::time::sleep_until(latest) => return false,
            () = halt.notified() => return true,
        }
    }
}

/// Starts the follower: it catches up at once (after a stop that left rows
/// behind), then whenever poked (once the pokes pause), until `stop` is
/// poked, when it catches up a last time and ends.
pub fn start(db: Arc<Db>) -> (Follower, Follower, tokio::task::JoinHandle<()>) {
    let follower = Follower::default();
    let stop = Follower::default();
    let (wake, halt) = (follower.wake.clone(), stop.wake.clone());
    let task = tokio::spawn(async move {
        loop {
            catch_up(&db).await;
            if settled(&wake, &halt).await {
                catch_up(&db).await;
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
            assert!(!settled(&wake, &halt).await);
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
            assert!(!settled(&wake, &halt).await);
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
    fn a_stop_ends_the_wait_at_once() {
        block_on(async {
            let (wake, halt) = (Arc::new(Notify::new()), Notify::new());
            let poker = keep_poking(wake.clone());
            tokio::time::sleep(QUIET / 2).await;
            halt.notify_one();
            let started = Instant::now();
            assert!(settled(&wake, &halt).await);
            assert!(started.elapsed() < QUIET);
            poker.abort();
        });
    }
}
