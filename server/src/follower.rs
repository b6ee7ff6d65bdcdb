//! Keeps the typed rows following the records.
//!
//! Taking in a push commits the changes and the records' documents, answers
//! the device, and pokes the follower, which brings the rows up to date in a
//! transaction of its own (`rows::catch_up`). The rows are where the
//! dashboard counts; they lag the records by the time of that transaction,
//! and a server that stops between the two catches up when it starts again.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::db::Db;
use crate::error::Error;
use crate::rows;

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

async fn catch_up(db: &Arc<Db>) -> Result<u64, Error> {
    let db = db.clone();
    tokio::task::spawn_blocking(move || db.write(rows::catch_up))
        .await
        .map_err(|e| Error::internal("bringing the typed rows up to date", e))?
}

/// Starts the follower: it catches up at once (after a stop that left rows
/// behind), then whenever poked, until `stop` is poked, when it catches up a
/// last time and ends.
pub fn start(db: Arc<Db>) -> (Follower, Follower, tokio::task::JoinHandle<()>) {
    let follower = Follower::default();
    let stop = Follower::default();
    let (wake, halt) = (follower.wake.clone(), stop.wake.clone());
    let task = tokio::spawn(async move {
        loop {
            if let Err(e) = catch_up(&db).await {
                tracing::error!(error = %e, "typed rows could not catch up");
            }
            tokio::select! {
                () = wake.notified() => {}
                () = halt.notified() => {
                    if let Err(e) = catch_up(&db).await {
                        tracing::error!(error = %e, "typed rows could not catch up");
                    }
                    return;
                }
            }
        }
    });
    (follower, stop, task)
}
