//! Files only their owner may read: a device's store and the server's data
//! directory, database and key. Made with these modes whatever the umask, and
//! tightened (with a warning in the log) when found open to other users.
//!
//! SQLite makes a database's `-wal` and `-shm` files with the mode of the
//! database file, so a database file made private before SQLite opens it
//! keeps its companions private too.
//!
//! On systems without Unix modes these functions only make what is missing.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Mode of a directory only its owner may list or enter.
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Mode of a file only its owner may read or write.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// The files SQLite keeps for the database `db`: itself, its write-ahead log
/// and its shared-memory index.
pub fn sqlite_files(db: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [db.to_path_buf(), with("-wal"), with("-shm")]
}

/// Makes `dir` (and any missing parent) with [`PRIVATE_DIR_MODE`], or
/// tightens it to that mode if it exists open to others.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(PRIVATE_DIR_MODE);
    }
    builder.create(dir)?;
    tighten(dir, PRIVATE_DIR_MODE)
}

/// Makes the SQLite database `db` private before SQLite opens it: creates it
/// empty with [`PRIVATE_FILE_MODE`] if it is missing (SQLite takes an empty
/// file for a new database), and tightens it and its `-wal` and `-shm` files
/// if they exist open to others.
pub fn private_sqlite(db: &Path) -> io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(PRIVATE_FILE_MODE);
    }
    match opts.open(db) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    for file in sqlite_files(db) {
        private_file(&file)?;
    }
    Ok(())
}

/// Tightens the file at `path` to [`PRIVATE_FILE_MODE`] if it exists open to
/// others; a missing file is left missing.
pub fn private_file(path: &Path) -> io::Result<()> {
    tighten(path, PRIVATE_FILE_MODE)
}

/// Takes every permission outside `allowed` away from `path`, if it exists.
#[cfg(unix)]
fn tighten(path: &Path, allowed: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = match fs::metadata(path) {
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if mode & !allowed == 0 {
        return Ok(());
    }
    let tightened = mode & allowed;
    fs::set_permissions(path, fs::Permissions::from_mode(tightened))?;
    tracing::warn!(
        path = %path.display(),
        "was open to other users (mode {mode:o}); tightened to mode {tightened:o}"
    );
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_path: &Path, _allowed: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).expect("metadata").permissions().mode() & 0o7777
    }

    #[test]
    fn loose_files_and_directories_are_tightened_and_missing_ones_made_private() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("data");
        private_dir(&dir).expect("make");
        assert_eq!(mode(&dir), PRIVATE_DIR_MODE);
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        private_dir(&dir).expect("tighten");
        assert_eq!(mode(&dir), PRIVATE_DIR_MODE);

        let db = dir.join("s.db");
        private_sqlite(&db).expect("make");
        assert_eq!(mode(&db), PRIVATE_FILE_MODE);
        let [_, wal, shm] = sqlite_files(&db);
        for f in [&db, &wal, &shm] {
            fs::write(f, b"").expect("write");
            fs::set_permissions(f, fs::Permissions::from_mode(0o664)).expect("chmod");
        }
        private_sqlite(&db).expect("tighten");
        for f in [&db, &wal, &shm] {
            assert_eq!(mode(f), PRIVATE_FILE_MODE, "{}", f.display());
        }
        // Owner bits are kept as they were: a read-only file stays read-only.
        fs::set_permissions(&db, fs::Permissions::from_mode(0o444)).expect("chmod");
        private_file(&db).expect("tighten");
        assert_eq!(mode(&db), 0o400);
    }
}
