//! Backups of a data directory made while the server serves it, and putting
//! one back.
//!
//! A backup is one file: a header (what it is, its format, the database's
//! schema), the data directory's files, and a SHA-256 of everything before
//! it. The database is copied with `VACUUM INTO`, which reads one snapshot
//! in a read transaction while the server goes on writing; the certificate
//! and its key go with it, so devices keep trusting the restored server.
//!
//! A restore checks the whole file before anything is put in place: a file
//! that is not a backup, is cut short or damaged, or holds a newer schema is
//! refused with the reason, and the data directory stays as it was. The
//! restored server gets a new identity ([`crate::registry::renew_server_id`]),
//! so the devices that meet it send again what it lacks.
//!
//! The purge journal ([`crate::purge_journal`]) goes into the backup too. A
//! restore over a directory keeps that directory's journal, merged with the
//! backup's, and makes again every purge the restored database lacks: a
//! purge made after the backup is not undone by restoring it.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::{purge, purge_journal, registry, schema};

/// The first bytes of every backup.
pub const MAGIC: &[u8; 16] = b"massline-backup\n";

/// The backup format this server writes and the newest it reads.
pub const FORMAT: u32 = 1;

/// Most files one backup may hold (a data directory holds two).
pub const MAX_FILES: u32 = 8;

/// Longest name, in bytes, of a file in a backup.
pub const MAX_NAME_BYTES: u16 = 64;

/// The database's file in the data directory.
pub const DATABASE: &str = "massline.db";

/// The files of a data directory a backup holds and a restore puts back:
/// the database, then the certificate and key (see [`crate::certs`]), then
/// the purge journal if there is one (see [`crate::purge_journal`]).
pub const FILES: [&str; 3] = [DATABASE, crate::certs::FILE, purge_journal::FILE];

/// Suffix of files being written, removed when a step fails.
const PARTIAL: &str = ".partial";

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The database's schema version.
    pub schema: u32,
    /// The files, with their sizes in bytes.
    pub files: Vec<(String, u64)>,
    /// Purges of the journal the restored database lacked, made again.
    pub purges_made_again: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "schema {}:", self.schema)?;
        for (name, size) in &self.files {
            write!(f, " {name} ({size} bytes)")?;
        }
        if self.purges_made_again > 0 {
            write!(
                f,
                "; {} purge(s) made after the backup made again",
                self.purges_made_again
            )?;
        }
        Ok(())
    }
}

fn io_error(what: impl std::fmt::Display, path: &Path) -> impl FnOnce(io::Error) -> Error {
    let what = format!("{what} {}", path.display());
    move |e| Error::Io(what, e)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A file made only its owner may read, replacing a stale one left by a
/// step that failed.
fn private_new(path: &Path) -> Result<File, Error> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(io_error("cannot remove", path)(e));
        }
        _ => {}
    }
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(massline_files::PRIVATE_FILE_MODE);
    }
    opts.open(path).map_err(io_error("cannot make", path))
}

/// Makes the directory entry of `path` durable.
fn sync_parent(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error("cannot sync", dir))?;
    }
    Ok(())
}

/// Removes `path` when dropped, unless kept.
struct Scratch(Option<PathBuf>);

impl Scratch {
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// Writes through to `inner`, hashing what passes.
struct Hashing<T> {
    inner: T,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Copies the data directory `data` of a server, running or not, into the
/// one file `to` (0600), replacing it only once the copy is whole.
pub fn backup(data: &Path, to: &Path) -> Result<Summary, Error> {
    let db_path = data.join(DATABASE);
    if !db_path.is_file() {
        return Err(Error::Invalid(format!(
            "{} holds no massline-server database ({DATABASE})",
            data.display()
        )));
    }
    // The snapshot first, beside the backup: `VACUUM INTO` wants a new file.
    let snapshot = with_suffix(to, ".db.partial");
    drop(private_new(&snapshot)?);
    let _snapshot_scratch = Scratch(Some(snapshot.clone()));
    let conn = Connection::open_with_flags(&db_path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let schema: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let target = snapshot
        .to_str()
        .ok_or_else(|| Error::Invalid(format!("{} is not a UTF-8 path", snapshot.display())))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    drop(conn);

    let partial = with_suffix(to, PARTIAL);
    let file = private_new(&partial)?;
    let scratch = Scratch(Some(partial.clone()));
    let mut out = Hashing {
        inner: BufWriter::new(file),
        hash: Sha256::new(),
    };
    let written = io_error("cannot write", &partial);
    let mut files = vec![(DATABASE.to_string(), snapshot.clone())];
    for name in &FILES[1..] {
        let path = data.join(name);
        if path.is_file() {
            files.push(((*name).to_string(), path));
        }
    }
    let mut summary = Summary {
        schema,
        files: Vec::new(),
        purges_made_again: 0,
    };
    let header = || -> io::Result<Vec<u8>> {
        let mut h = Vec::with_capacity(36);
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&FORMAT.to_le_bytes());
        h.extend_from_slice(&schema.to_le_bytes());
        h.extend_from_slice(&chrono::Utc::now().timestamp().to_le_bytes());
        h.extend_from_slice(&(files.len() as u32).to_le_bytes());
        Ok(h)
    };
    let result = (|| -> io::Result<()> {
        out.write_all(&header()?)?;
        for (name, path) in &files {
            let mut src = File::open(path)?;
            let size = src.metadata()?.len();
            out.write_all(&(name.len() as u16).to_le_bytes())?;
            out.write_all(name.as_bytes())?;
            out.write_all(&size.to_le_bytes())?;
            // Exactly the size written above, even if the file grows meanwhile.
            let copied = io::copy(&mut (&mut src).take(size), &mut out)?;
            if copied != size {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{} shrank while it was copied", path.display()),
                ));
            }
            summary.files.push((name.clone(), size));
        }
        let digest = out.hash.clone().finalize();
        out.inner.write_all(&digest)?;
        out.inner.flush()?;
        out.inner.get_ref().sync_all()
    })();
    result.map_err(written)?;
    drop(out);
    fs::rename(&partial, to).map_err(io_error("cannot write", to))?;
    scratch.keep();
    sync_parent(to)?;
    Ok(summary)
}

/// Why `from` is refused, in the words the officer sees.
fn refused(from: &Path, why: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{} cannot be restored: {why}", from.display()))
}

/// Reads exactly `buf.len()` bytes, or says the backup is cut short.
fn read_exact(r: &mut impl Read, buf: &mut [u8], from: &Path) -> Result<(), Error> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => refused(from, "the file is cut short (truncated)"),
        _ => Error::Io(format!("cannot read {}", from.display()), e),
    })
}

/// Whether `dir` is missing or holds nothing.
fn empty_dir(dir: &Path) -> Result<bool, Error> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(io_error("cannot read", dir)(e)),
    }
}

/// Puts the backup `from` in place as the data directory `data`, which must
/// be missing or empty unless `replace` (then the server using it must be
/// stopped). The whole file is checked before anything in `data` changes;
/// the restored database gets a new server identity.
pub fn restore(from: &Path, data: &Path, replace: bool) -> Result<Summary, Error> {
    let file = File::open(from).map_err(io_error("cannot open", from))?;
    let mut input = Hashing {
        inner: BufReader::new(file),
        hash: Sha256::new(),
    };
    let mut magic = [0_u8; 16];
    let mut got = 0;
    while got < magic.len() {
        match input.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(Error::Io(format!("cannot read {}", from.display()), e)),
        }
    }
    if got < magic.len() || &magic != MAGIC {
        return Err(refused(from, "it is not a massline backup"));
    }
    let mut word = [0_u8; 4];
    read_exact(&mut input, &mut word, from)?;
    let format = u32::from_le_bytes(word);
    if format > FORMAT {
        return Err(refused(
            from,
            format!(
                "it was made by a newer massline-server (backup format {format}; this one reads \
                 up to {FORMAT}): restore it with that version"
            ),
        ));
    }
    read_exact(&mut input, &mut word, from)?;
    let schema = u32::from_le_bytes(word);
    if schema > schema::VERSION {
        return Err(refused(
            from,
            format!(
                "its database is of a newer schema ({schema}; this massline-server knows up to \
                 {}): restore it with the version that made it",
                schema::VERSION
            ),
        ));
    }
    let mut when = [0_u8; 8];
    read_exact(&mut input, &mut when, from)?;
    read_exact(&mut input, &mut word, from)?;
    let count = u32::from_le_bytes(word);
    if count > MAX_FILES {
        return Err(refused(
            from,
            format!("it says it holds {count} files, more than {MAX_FILES}"),
        ));
    }
    if !replace && !empty_dir(data)? {
        return Err(Error::Invalid(format!(
            "{} is not empty: restore into a new directory, or stop the server using it and \
             give --replace",
            data.display()
        )));
    }
    massline_files::private_dir(data).map_err(io_error("cannot make private", data))?;

    let mut restored: Vec<(String, PathBuf, Scratch)> = Vec::new();
    let mut summary = Summary {
        schema,
        files: Vec::new(),
        purges_made_again: 0,
    };
    for _ in 0..count {
        let mut len = [0_u8; 2];
        read_exact(&mut input, &mut len, from)?;
        let len = u16::from_le_bytes(len);
        if len > MAX_NAME_BYTES {
            return Err(refused(
                from,
                format!("a file's name is {len} bytes, more than {MAX_NAME_BYTES}"),
            ));
        }
        let mut name = vec![0_u8; usize::from(len)];
        read_exact(&mut input, &mut name, from)?;
        let name = String::from_utf8_lossy(&name).into_owned();
        // Only the data directory's own files, each once: a name is never a path.
        if !FILES.contains(&name.as_str()) || restored.iter().any(|(n, ..)| *n == name) {
            return Err(refused(
                from,
                format!("it holds {name:?}, which is no file of a data directory"),
            ));
        }
        let mut size = [0_u8; 8];
        read_exact(&mut input, &mut size, from)?;
        let size = u64::from_le_bytes(size);
        let path = data.join(format!("{name}{PARTIAL}"));
        let scratch = Scratch(Some(path.clone()));
        let mut out = BufWriter::new(private_new(&path)?);
        // Streamed, so the size the file declares sizes nothing in memory.
        let copied = io::copy(&mut (&mut input).take(size), &mut out)
            .map_err(|e| Error::Io(format!("cannot restore {name} from {}", from.display()), e))?;
        if copied != size {
            return Err(refused(from, "the file is cut short (truncated)"));
        }
        out.flush()
            .and_then(|()| out.get_ref().sync_all())
            .map_err(io_error("cannot write", &path))?;
        summary.files.push((name.clone(), size));
        restored.push((name, path, scratch));
    }
    let digest = input.hash.clone().finalize();
    let mut stored = [0_u8; 32];
    read_exact(&mut input.inner, &mut stored, from)?;
    let mut rest = [0_u8; 1];
    let trailing = input
        .inner
        .read(&mut rest)
        .map_err(io_error("cannot read", from))?;
    if stored[..] != digest[..] || trailing != 0 {
        return Err(refused(
            from,
            "it is damaged: its checksum does not match its contents",
        ));
    }
    let Some((_, db_partial, _)) = restored.iter().find(|(n, ..)| n == DATABASE) else {
        return Err(refused(from, format!("it holds no {DATABASE}")));
    };
    renew_identity(db_partial, schema).map_err(|e| refused(from, e))?;
    // The purges of the directory being replaced are kept, with the backup's.
    if let Some((_, journal, _)) = restored.iter().find(|(n, ..)| n == purge_journal::FILE) {
        let in_backup = purge_journal::read(journal).map_err(|e| refused(from, e))?;
        let kept = purge_journal::read(&data.join(purge_journal::FILE))?;
        if !kept.is_empty() {
            purge_journal::write_new(journal, &purge_journal::merge(kept, in_backup))?;
        }
    }

    // Nothing of an older database may outlive it: its log would be read
    // into the restored one.
    for old in massline_files::sqlite_files(&data.join(DATABASE)) {
        match fs::remove_file(&old) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(io_error("cannot remove", &old)(e));
            }
            _ => {}
        }
    }
    for (name, path, scratch) in restored {
        let target = data.join(&name);
        fs::rename(&path, &target).map_err(io_error("cannot write", &target))?;
        scratch.keep();
    }
    sync_parent(&data.join(DATABASE))?;
    if data.join(purge_journal::FILE).is_file() {
        let db = crate::db::Db::open(data)?;
        summary.purges_made_again = purge::reapply(&db)?.len();
    }
    Ok(summary)
}

/// Checks the restored database at `path` and gives it a new identity.
fn renew_identity(path: &Path, schema: u32) -> Result<(), Error> {
    let mut conn = Connection::open(path)?;
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(Error::Invalid(format!(
            "its database fails SQLite's check: {check}"
        )));
    }
    let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version != schema {
        return Err(Error::Invalid(format!(
            "its database is of schema {version}, its header says {schema}"
        )));
    }
    if version < 1 {
        return Err(Error::Invalid("its database is empty".into()));
    }
    let tx = conn.transaction()?;
    registry::renew_server_id(&tx)?;
    tx.commit()?;
    // Closing folds any log back into the file, which is then moved whole.
    conn.close().map_err(|(_, e)| Error::Storage(e))?;
    Ok(())
}

/// How many scheduled backups are kept unless told otherwise.
pub const DEFAULT_KEEP: usize = 14;

/// Shortest time between scheduled backups.
pub const MIN_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

/// The names scheduled backups are given: `massline-<UTC time>.backup`,
/// which sort by time.
const SCHEDULED: (&str, &str) = ("massline-", ".backup");

/// Makes a backup of `data` in `dir` (made 0700 if missing), named for the
/// time, and removes the oldest of the scheduled backups there beyond
/// `keep`. Returns the new file.
pub fn scheduled(data: &Path, dir: &Path, keep: usize) -> Result<PathBuf, Error> {
    massline_files::private_dir(dir).map_err(io_error("cannot make private", dir))?;
    let name = format!(
        "{}{}{}",
        SCHEDULED.0,
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        SCHEDULED.1
    );
    let path = dir.join(name);
    backup(data, &path)?;
    let mut made: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(io_error("cannot read", dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(SCHEDULED.0) && n.ends_with(SCHEDULED.1))
        })
        .collect();
    made.sort();
    let extra = made.len().saturating_sub(keep.max(1));
    for old in &made[..extra] {
        fs::remove_file(old).map_err(io_error("cannot remove", old))?;
    }
    Ok(path)
}

/// Makes a scheduled backup every `period` while the server serves (the
/// first one `period` after it starts). A failed backup is logged; the next
/// one is tried on time.
pub async fn every(data: PathBuf, dir: PathBuf, period: std::time::Duration, keep: usize) {
    let period = period.max(MIN_PERIOD);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let (d, t) = (data.clone(), dir.clone());
        match tokio::task::spawn_blocking(move || scheduled(&d, &t, keep)).await {
            Ok(Ok(path)) => tracing::info!(path = %path.display(), "backup made"),
            Ok(Err(e)) => tracing::error!(error = %e, "scheduled backup failed"),
            Err(e) => tracing::error!(error = %e, "scheduled backup failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_backups_keep_the_newest_and_restore() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        drop(crate::db::Db::open(&data).unwrap());
        let dir = root.path().join("backups");
        let mut made = Vec::new();
        for _ in 0..4 {
            made.push(scheduled(&data, &dir, 2).unwrap());
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let mut left: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        left.sort();
        assert_eq!(left, made[2..]);
        let restored = root.path().join("restored");
        let summary = restore(&made[3], &restored, false).unwrap();
        assert_eq!(summary.schema, schema::VERSION);
        assert!(summary.files.iter().any(|(n, _)| n == DATABASE));
    }
}
