//! Message sizes that follow the link. A cut that leaves a message
//! unanswered makes the next ones smaller, down to a single change each; the
//! answered messages after it make them grow back. A link that drops every
//! few kilobytes still carries something on every connection, where a
//! message larger than a connection lasts would be sent again whole, for
//! ever. The sizes live in the store, so the sync after a cut starts as
//! small as the cut taught, in this process or the next.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::{OptionalExtension, params};

use super::engine::SyncOptions;
use crate::error::Error;
use crate::store::Db;

/// The size of one kind of message (push or pull): uncompressed bytes of
/// changes per message, never below one change.
#[derive(Debug)]
pub struct Adaptive {
    current: AtomicUsize,
    ceiling: usize,
}

impl Adaptive {
    /// Starts at `stored` (what the last sync left), or at `ceiling`.
    pub fn new(stored: Option<usize>, ceiling: usize) -> Self {
        let ceiling = ceiling.max(1);
        Adaptive {
            current: AtomicUsize::new(stored.unwrap_or(ceiling).clamp(1, ceiling)),
            ceiling,
        }
    }

    /// Bytes of changes the next message may hold (a message holds at least
    /// one change, however large).
    pub fn get(&self) -> usize {
        self.current.load(Ordering::Relaxed)
    }

    /// A message got through: the next may be twice as large, up to the ceiling.
    pub fn answered(&self) {
        let ceiling = self.ceiling;
        let _ = self
            .current
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                Some(c.saturating_mul(2).min(ceiling))
            });
    }

    /// A cut left a message of `bytes` unanswered: the next holds at most
    /// half as much.
    pub fn cut(&self, bytes: usize) {
        let _ = self
            .current
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                Some((c.min(bytes) / 2).max(1))
            });
    }

    /// What to keep in the store: `None` when back at the ceiling.
    fn to_store(&self) -> Option<i64> {
        let c = self.get();
        (c < self.ceiling).then(|| i64::try_from(c).unwrap_or(i64::MAX))
    }
}

/// The sizes of one sync's push and pull messages.
#[derive(Debug)]
pub struct LinkSizes {
    /// Push messages.
    pub push: Arc<Adaptive>,
    /// Pull answers, asked of the server.
    pub pull: Arc<Adaptive>,
    /// What the store held when loaded (push, pull), as [`Adaptive`] keeps it.
    stored: (Option<i64>, Option<i64>),
}

impl LinkSizes {
    /// The sizes the last sync left, under the ceilings of `opts`.
    pub fn load(db: &Db, opts: &SyncOptions) -> Result<LinkSizes, Error> {
        Ok(Self::under(Self::stored(db)?, opts))
    }

    /// The sizes the last sync left (push, pull), as the store keeps them:
    /// read before connecting, while the link's ceilings are not yet known.
    pub fn stored(db: &Db) -> Result<(Option<i64>, Option<i64>), Error> {
        let stored: Option<(Option<i64>, Option<i64>)> = db.read(|tx| {
            Ok(tx
                .query_row(
                    "SELECT push_message_bytes, pull_message_bytes FROM sync_log WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
        })?;
        Ok(stored.unwrap_or_default())
    }

    /// The `stored` sizes under the ceilings of `opts`.
    pub fn under(stored: (Option<i64>, Option<i64>), opts: &SyncOptions) -> LinkSizes {
        let (push, pull) = stored;
        let size = |v: Option<i64>| v.and_then(|v| usize::try_from(v).ok());
        let mut sizes = LinkSizes {
            push: Arc::new(Adaptive::new(size(push), opts.push_message_bytes)),
            pull: Arc::new(Adaptive::new(size(pull), opts.pull_message_bytes)),
            stored: (None, None),
        };
        sizes.stored = (sizes.push.to_store(), sizes.pull.to_store());
        sizes
    }

    /// Whether the sizes moved since they were loaded: only then has
    /// [`LinkSizes::save`] anything to write.
    pub fn moved(&self) -> bool {
        (self.push.to_store(), self.pull.to_store()) != self.stored
    }

    /// Keeps the sizes for the next sync; writes nothing when they are as
    /// loaded (a sync that met no cut, on a link that had met none).
    pub fn save(&self, db: &Db) -> Result<(), Error> {
        if !self.moved() {
            return Ok(());
        }
        let (push, pull) = (self.push.to_store(), self.pull.to_store());
        db.write(|tx| {
            tx.execute(
                "INSERT INTO sync_log (id, push_message_bytes, pull_message_bytes)
                 VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET push_message_bytes = ?1,
                     pull_message_bytes = ?2",
                params![push, pull],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_halves_the_unanswered_message_and_answers_double_back() {
        let size = Adaptive::new(None, 256 << 10);
        assert_eq!(size.get(), 256 << 10);
        // A 6 kB message cut: the next is 3 kB, whatever the ceiling.
        size.cut(6000);
        assert_eq!(size.get(), 3000);
        for _ in 0..20 {
            size.cut(size.get());
        }
        assert_eq!(size.get(), 1, "down to one change a message");
        size.answered();
        size.answered();
        assert_eq!(size.get(), 4);
        for _ in 0..40 {
            size.answered();
        }
        assert_eq!(size.get(), 256 << 10, "back up to the ceiling, not past it");
    }

    #[test]
    fn sizes_outlive_the_sync_that_learned_them() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("s.db"), None).expect("db");
        let opts = SyncOptions::default();
        let sizes = LinkSizes::load(&db, &opts).expect("load");
        assert_eq!(sizes.push.get(), opts.push_message_bytes);
        sizes.push.cut(5000);
        sizes.pull.cut(800);
        sizes.save(&db).expect("save");
        let again = LinkSizes::load(&db, &opts).expect("load");
        assert_eq!((again.push.get(), again.pull.get()), (2500, 400));
        // A slower link's lower ceiling bounds what was stored.
        let slow = SyncOptions {
            push_message_bytes: 1000,
            ..opts
        };
        assert_eq!(LinkSizes::load(&db, &slow).expect("load").push.get(), 1000);
    }

    #[test]
    fn sizes_as_loaded_are_not_written_again() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("s.db"), None).expect("db");
        let opts = SyncOptions::default();
        let sizes = LinkSizes::load(&db, &opts).expect("load");
        sizes.pull.cut(800);
        sizes.save(&db).expect("save");
        let unchanged = LinkSizes::load(&db, &opts).expect("load");
        // Another hand changes the row: a save of sizes as loaded leaves it.
        db.write(|tx| {
            tx.execute("UPDATE sync_log SET pull_message_bytes = 777", [])?;
            Ok(())
        })
        .expect("write");
        unchanged.save(&db).expect("save");
        assert_eq!(LinkSizes::load(&db, &opts).expect("load").pull.get(), 777);
        unchanged.pull.answered();
        unchanged.save(&db).expect("save");
        assert_eq!(LinkSizes::load(&db, &opts).expect("load").pull.get(), 800);
    }
}
