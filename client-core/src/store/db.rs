//! The SQLite connections: one writer, one reader, WAL, durable commits.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::key::{self, StoreKey};
use super::schema;
use crate::error::{Because, Error};
use massline_files as private_files;

/// The device database. Writes go through one connection, one transaction at
/// a time; reads use a second connection and never wait for a write.
#[derive(Debug)]
pub struct Db {
    // Fields drop in order: the reader closes first, so the writer is the last
    // connection and folds the WAL back into the database file as it closes.
    reader: Mutex<Connection>,
    writer: Mutex<Connection>,
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock rolled its transaction back; the
    // connection itself is still sound.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit is on disk before it returns, so an edit survives power loss.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -16384)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Deleted content is zeroed in the pages written anyway; pages freed
    // whole (the outbox's, once the server has the changes) are left as
    // they are, not written again, and a purge ends by rebuilding the file
    // without them ([`Db::erase_freed`]).
    conn.pragma_update(None, "secure_delete", "FAST")?;
    Ok(())
}

impl Db {
    /// Opens (creating if needed) the database at `path` and upgrades it.
    /// With `key` the store is encrypted (see [`key`]); the file and its
    /// companions are private to their owner either way.
    pub fn open(path: &Path, key: Option<&StoreKey>) -> Result<Db, Error> {
        private_files::private_sqlite(path).map_err(|e| {
            Error::Storage(Because::of(
                format!("cannot make {} private", path.display()),
                e,
            ))
        })?;
        let mut writer = Connection::open(path)?;
        key::unlock(&writer, path, key)?;
        configure(&writer)?;
        let version: u32 = writer.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > schema::VERSION {
            return Err(Error::Storage(
                format!(
                    "{} was written by a newer massline (schema {version}, this one knows {})",
                    path.display(),
                    schema::VERSION
                )
                .into(),
            ));
        }
        if version < schema::VERSION {
            let tx = writer.transaction_with_behavior(TransactionBehavior::Exclusive)?;
            schema::upgrade(&tx, version)?;
            tx.commit()?;
        }
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        key::unlock(&reader, path, key)?;
        reader.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(Db {
            reader: Mutex::new(reader),
            writer: Mutex::new(writer),
        })
    }

    /// Runs `f` in one write transaction, committed (durably) only if `f` succeeds.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        in_write_transaction(&mut lock(&self.writer), f)
    }

    /// [`Db::write`] for bookkeeping that a power cut may undo at no cost,
    /// and nothing else: cursors moved past changes the device already
    /// holds (asked for again, they are taken as before, by hash), and the
    /// server's answers to pushes (the changes go again, and the server
    /// knows the ones it holds by hash). Its commit does not wait for the
    /// disk; the next durable commit carries it there, and a commit lost to
    /// a power cut is lost whole.
    pub fn write_lazily<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut conn = lock(&self.writer);
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let out = in_write_transaction(&mut conn, f);
        // Durable again before the lock goes, whatever `f` did.
        conn.pragma_update(None, "synchronous", "FULL")?;
        out
    }

    /// Rebuilds the database without its free pages, folds the log into it
    /// and truncates the log, so that no page of the file or the log holds
    /// anything deleted before (after a purge).
    pub fn erase_freed(&self) -> Result<(), Error> {
        let conn = lock(&self.writer);
        conn.execute_batch("VACUUM")?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Runs `f` on the reading connection, in one read transaction.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut conn = lock(&self.reader);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        f(&tx)
    }
}

fn in_write_transaction<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_the_store_leaves_everything_in_the_database_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        {
            let db = Db::open(&path, None).expect("open");
            db.write(|tx| {
                tx.execute(
                    "INSERT INTO cursors (scope, seq) VALUES ('v/a/shared', 7)",
                    [],
                )?;
                Ok(())
            })
            .expect("write");
            db.read(|tx| {
                Ok(tx.query_row("SELECT count(*) FROM cursors", [], |r| r.get::<_, i64>(0))?)
            })
            .expect("read");
        }
        assert!(
            !dir.path().join("s.db-wal").exists(),
            "the WAL was not folded back"
        );
        let copy = dir.path().join("copy.db");
        std::fs::copy(&path, &copy).expect("copy");
        let db = Db::open(&copy, None).expect("open copy");
        let seq: i64 = db
            .read(|tx| Ok(tx.query_row("SELECT seq FROM cursors", [], |r| r.get(0))?))
            .expect("read");
        assert_eq!(seq, 7);
    }

    fn synchronous(tx: &Transaction<'_>) -> Result<i64, Error> {
        Ok(tx.pragma_query_value(None, "synchronous", |r| r.get(0))?)
    }

    #[test]
    fn a_lazy_write_commits_without_waiting_and_leaves_writes_durable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("s.db"), None).expect("open");
        let (normal, full) = (1, 2);
        let during = db
            .write_lazily(|tx| {
                tx.execute(
                    "INSERT INTO cursors (scope, seq) VALUES ('v/a/shared', 7)",
                    [],
                )?;
                synchronous(tx)
            })
            .expect("lazy write");
        assert_eq!(during, normal, "a lazy commit does not wait for the disk");
        assert_eq!(db.write(synchronous).expect("write"), full);
        let failed: Result<(), Error> = db.write_lazily(|_| Err(Error::Storage("refused".into())));
        assert!(failed.is_err());
        assert_eq!(
            db.write(synchronous).expect("write"),
            full,
            "a failed lazy write leaves writes durable"
        );
        let seq: i64 = db
            .read(|tx| Ok(tx.query_row("SELECT seq FROM cursors", [], |r| r.get(0))?))
            .expect("read");
        assert_eq!(seq, 7, "the lazy write was committed");
    }
}
