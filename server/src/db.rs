//! The server's SQLite database: one writer, a few readers, WAL, durable commits.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use massline_files as private_files;

use crate::error::Error;
use crate::{registry, rows, schema};

/// Pooled read connections, for pulls and other reads of bounded size.
pub const READERS: usize = 4;

/// Prepared statements each connection keeps: every statement the writer
/// runs in a push message (checks, lookups, the changes' inserts of each
/// size, the records' writes), with the typed rows' and the dashboard's
/// beside them, so none is prepared again for the next message.
pub const STATEMENTS_KEPT: usize = 256;

/// The database in the data directory.
///
/// No connection is ever held across a network send: a pull reads a bounded
/// batch, lets its reader go, then sends. The token check has a reader of its
/// own ([`Db::lookup`]) besides, so it waits only behind other lookups of a
/// row or two, never behind pulls, however many devices pull at once.
#[derive(Debug)]
pub struct Db {
    // Readers close first, so the writer is the last connection and folds the
    // WAL back into the database file as it closes.
    readers: Vec<Mutex<Connection>>,
    lookups: Mutex<Connection>,
    writer: Mutex<Connection>,
    dir: PathBuf,
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Db {
    /// Opens (creating if needed) `massline.db` in `dir` and upgrades it,
    /// its typed rows' tables made as the record kinds declare them.
    /// The directory, the database and its `-wal` and `-shm` files are made
    /// private to their owner, or tightened if found open to others.
    pub fn open(dir: &Path) -> Result<Db, Error> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |e| Error::Io(format!("cannot make {path} private"), e)
        };
        private_files::private_dir(dir).map_err(io(dir))?;
        let path = dir.join("massline.db");
        private_files::private_sqlite(&path).map_err(io(&path))?;
        let mut writer = Connection::open(&path)?;
        writer.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
        writer.busy_timeout(Duration::from_secs(30))?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is on disk before the server acknowledges it.
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.pragma_update(None, "cache_size", -16384)?;
        writer.pragma_update(None, "temp_store", "MEMORY")?;
        // Deleted content is zeroed, not left in free pages: a purged
        // record's bytes leave the file (see [`crate::purge`]).
        writer.pragma_update(None, "secure_delete", "ON")?;
        // Fold the log back into the database every 32 MiB rather than 4 MiB:
        // pushes of new records touch index pages all over a growing
        // database, and fewer checkpoints write each such page fewer times.
        writer.pragma_update(None, "wal_autocheckpoint", 8192)?;
        let version: u32 = writer.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > schema::VERSION {
            return Err(Error::Invalid(format!(
                "{} was written by a newer massline-server (schema {version}, this one knows {})",
                path.display(),
                schema::VERSION
            )));
        }
        writer.pragma_update(None, "foreign_keys", "OFF")?;
        let tx = writer.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        if version < schema::VERSION {
            schema::upgrade(&tx, version)?;
        }
        rows::follow_declarations(&tx)?;
        registry::server_id(&tx)?;
        tx.commit()?;
        // Foreign keys on only after the upgrade: an upgrade that makes a
        // table anew (schema 8) drops the old one while rows point at it.
        writer.pragma_update(None, "foreign_keys", "ON")?;
        let reader = || -> Result<Mutex<Connection>, Error> {
            let r = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            r.busy_timeout(Duration::from_secs(30))?;
            r.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
            Ok(Mutex::new(r))
        };
        let readers = (0..READERS).map(|_| reader()).collect::<Result<_, _>>()?;
        Ok(Db {
            readers,
            lookups: reader()?,
            writer: Mutex::new(writer),
            dir: dir.to_path_buf(),
        })
    }

    /// The data directory the database is in (files kept beside it, such
    /// as the purge journal, live there too).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `f` in one write transaction, committed durably only if `f` succeeds.
    pub fn write<T, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Folds the log into the database and truncates it, so the log holds no
    /// page as it was before the last write (after a purge). Waits for the
    /// readers' transactions open now.
    pub fn checkpoint(&self) -> Result<(), Error> {
        let conn = lock(&self.writer);
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Runs `f` in one read transaction (a consistent snapshot) on a free
    /// reader. `f` must do bounded work and never wait on the network: the
    /// readers are shared by every call.
    pub fn read<T, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = self
            .readers
            .iter()
            .find_map(|m| m.try_lock().ok())
            .unwrap_or_else(|| lock(&self.readers[rand::random_range(0..READERS)]));
        in_read_transaction(conn, f)
    }

    /// Runs `f`, a lookup of a row or two by key (the token check), in one
    /// read transaction on the reader kept for such lookups.
    pub fn lookup<T, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        in_read_transaction(lock(&self.lookups), f)
    }
}

fn in_read_transaction<T, E: From<rusqlite::Error>>(
    mut conn: MutexGuard<'_, Connection>,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
) -> Result<T, E> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
    f(&tx)
}
