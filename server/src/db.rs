//! The server's SQLite database: one writer, a few readers, WAL, durable commits.
//!
//! The one writer has two connections, used one at a time: one that checks
//! foreign keys, for every write, and one that does not, for the intake of
//! pushed changes ([`Db::intake`]), which writes only numbers it looked up
//! in the same transaction (a change's scope and device) and many rows to a
//! statement. SQLite keeps a statement journal for a statement that writes
//! many rows and may stop halfway: a foreign key checked or a key met twice.
//! The intake's inserts say `OR FAIL` (a key met twice fails the whole
//! transaction anyway) and check no foreign key, so none is kept.

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
    writer: Mutex<Writer>,
    dir: PathBuf,
}

/// The writer's two connections.
#[derive(Debug)]
struct Writer {
    // Closes before `checked`, which folds the WAL back as it closes.
    intake: Connection,
    checked: Connection,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A connection that writes: durable commits, its statements kept.
fn writer(path: &Path) -> Result<Connection, Error> {
    let writer = Connection::open(path)?;
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
    Ok(writer)
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
        let mut writer = writer(&path)?;
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
        let intake = self::writer(&path)?;
        intake.pragma_update(None, "foreign_keys", "OFF")?;
        let reader = || -> Result<Mutex<Connection>, Error> {
            let r = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            r.busy_timeout(Duration::from_secs(30))?;
            r.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
            // The schema read now, as the server starts, not by the first
            // call each connection serves.
            r.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
            Ok(Mutex::new(r))
        };
        let readers = (0..READERS).map(|_| reader()).collect::<Result<_, _>>()?;
        Ok(Db {
            readers,
            lookups: reader()?,
            writer: Mutex::new(Writer {
                intake,
                checked: writer,
            }),
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
        in_write_transaction(&mut lock(&self.writer).checked, f)
    }

    /// [`Db::write`] for the intake of pushed changes, on the writer's
    /// connection that checks no foreign key: `f` writes only numbers of
    /// rows it looked up in the same transaction (see the module's note).
    pub fn intake<T, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        in_write_transaction(&mut lock(&self.writer).intake, f)
    }

    /// Folds the log into the database and truncates it, so the log holds no
    /// page as it was before the last write (after a purge). Waits for the
    /// readers' transactions open now.
    pub fn checkpoint(&self) -> Result<(), Error> {
        let writer = lock(&self.writer);
        writer
            .checked
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
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

fn in_write_transaction<T, E: From<rusqlite::Error>>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
) -> Result<T, E> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

fn in_read_transaction<T, E: From<rusqlite::Error>>(
    mut conn: MutexGuard<'_, Connection>,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
) -> Result<T, E> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
    f(&tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every write but the intake checks foreign keys: a person put in a
    /// village that does not exist is refused. The intake, which writes
    /// only numbers it looked up, checks none.
    #[test]
    fn only_the_intake_leaves_foreign_keys_unchecked() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let put = |tx: &Transaction<'_>, id: &str| {
            tx.execute(
                "INSERT INTO people (id, name, role, village, created_at)
                 VALUES (?1, '张', 'member', 'nowhere', 0)",
                [id],
            )
        };
        let checked = db.write(|tx| put(tx, "zhang"));
        assert!(
            matches!(&checked, Err(rusqlite::Error::SqliteFailure(e, _))
                if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            "{checked:?}"
        );
        assert_eq!(db.intake(|tx| put(tx, "li")).unwrap(), 1);
    }
}
