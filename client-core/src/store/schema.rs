//! The device database: version, tables, and upgrades from older versions.
//!
//! Records, the outbox of local changes, and sync cursors live in one SQLite
//! database, so a change and the bookkeeping about it commit together.

use rusqlite::Transaction;

/// The schema version this code writes (`PRAGMA user_version`).
pub const VERSION: u32 = 8;

const V1: &str = "
CREATE TABLE identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server_address TEXT NOT NULL,
    cert_sha256 BLOB NOT NULL,
    device_id INTEGER NOT NULL,
    device_token TEXT NOT NULL,
    actor BLOB NOT NULL,
    person TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    village TEXT,
    village_name TEXT,
    township TEXT NOT NULL,
    next_serial INTEGER NOT NULL DEFAULT 1,
    enrolled_at INTEGER NOT NULL
);

-- One row per record. `state` is a run of Automerge chunks (a saved document
-- and/or changes) that Automerge::load reads as one document; `chunks` counts
-- them so the run can be compacted. `record` is the current record as JSON, or
-- NULL with `problem` saying why the document does not read as a record.
CREATE TABLE documents (
    doc_id BLOB PRIMARY KEY,
    scope TEXT NOT NULL,
    kind TEXT NOT NULL,
    state BLOB NOT NULL,
    chunks INTEGER NOT NULL,
    record TEXT,
    problem TEXT,
    updated_at INTEGER NOT NULL
);
CREATE INDEX documents_by_kind ON documents (kind, updated_at);

-- Every change the device holds, by hash, and its document.
CREATE TABLE changes (
    hash BLOB PRIMARY KEY,
    doc_id BLOB NOT NULL
) WITHOUT ROWID;

-- Local changes the server has not acknowledged, oldest first. A change the
-- server refused stays, with the reason, for the person to see.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB NOT NULL UNIQUE,
    doc_id BLOB NOT NULL,
    bytes BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    refused_code TEXT,
    refused_reason TEXT
);

-- Where the device stands in each scope it may read: the server's sequence
-- number of the last change received.
CREATE TABLE cursors (
    scope TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE sync_log (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_attempt_at INTEGER,
    last_success_at INTEGER,
    last_error TEXT
);
";

/// Version 2: a record's withdrawal (who, when, why) beside its JSON, so
/// lists leave withdrawn records out. No record was withdrawn before.
const V2: &str = "
ALTER TABLE documents ADD COLUMN withdrawn TEXT;
";

/// Version 3: the message sizes the last syncs left for the link (NULL: the
/// largest), so a sync after a cut link starts as small as the cut taught,
/// in this process or the next.
const V3: &str = "
ALTER TABLE sync_log ADD COLUMN push_message_bytes INTEGER;
ALTER TABLE sync_log ADD COLUMN pull_message_bytes INTEGER;
";

/// Version 4: the identity of the server the cursors were given by, and
/// whether the device is sending again what a restored server lacks.
const V4: &str = "
ALTER TABLE identity ADD COLUMN server_id BLOB;
ALTER TABLE identity ADD COLUMN recovering INTEGER NOT NULL DEFAULT 0;
";

/// Version 5: the last sync bundle exported, so its reply can be matched to
/// it: its nonce and the changes (outbox id, hash) of each of its push
/// messages, as `u32` count then `i64` id and 32-byte hash each, little-endian.
const V5: &str = "
CREATE TABLE bundle_export (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    nonce BLOB NOT NULL,
    messages BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
";

/// Version 6: the device's own key for signing its sync bundles (Ed25519,
/// PKCS#8), made at enrollment; NULL for a device enrolled before.
const V6: &str = "
ALTER TABLE identity ADD COLUMN bundle_signing_key BLOB;
";

/// Version 7: the outbox without its index of hashes. An answered push
/// message's changes leave the outbox by their place in it alone, and each
/// index entry removed with them was more of the log to write; a change is
/// found by its hash only on recovery, where the outbox is read once. The
/// table is made anew (an index made for `UNIQUE` cannot be dropped), its
/// rows and its count of places kept: places already given out (and named
/// by an exported bundle) are never given again.
const V7: &str = "
CREATE TABLE outbox_v7 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB NOT NULL,
    doc_id BLOB NOT NULL,
    bytes BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    refused_code TEXT,
    refused_reason TEXT
);
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'outbox_v7', seq FROM sqlite_sequence WHERE name = 'outbox';
INSERT INTO outbox_v7 (id, hash, doc_id, bytes, created_at, refused_code, refused_reason)
    SELECT id, hash, doc_id, bytes, created_at, refused_code, refused_reason FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v7 RENAME TO outbox;
";

/// Version 8: how far the server has answered the outbox. The changes of
/// an answered push message stay, answered, until their call ends; then
/// they leave together, and an outbox that held only them is emptied whole
/// (its pages freed at once, not row by row).
const V8: &str = "
CREATE TABLE outbox_answered (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    through INTEGER NOT NULL
);
INSERT INTO outbox_answered (id, through) VALUES (1, 0);
";

/// Brings a database at `from` up to [`VERSION`], one step at a time.
pub fn upgrade(tx: &Transaction<'_>, from: u32) -> rusqlite::Result<()> {
    for version in from..VERSION {
        match version {
            0 => tx.execute_batch(V1)?,
            1 => tx.execute_batch(V2)?,
            2 => tx.execute_batch(V3)?,
            3 => tx.execute_batch(V4)?,
            4 => tx.execute_batch(V5)?,
            5 => tx.execute_batch(V6)?,
            6 => tx.execute_batch(V7)?,
            7 => tx.execute_batch(V8)?,
            _ => unreachable_version(version),
        }
    }
    tx.pragma_update(None, "user_version", VERSION)
}

#[allow(clippy::panic)]
fn unreachable_version(v: u32) {
    panic!("no upgrade step from schema version {v}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;

    #[test]
    fn a_version_1_store_opens_and_keeps_its_records() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("old.db");
        {
            let conn = rusqlite::Connection::open(&path).expect("open");
            conn.execute_batch(V1).expect("v1");
            conn.execute(
                "INSERT INTO documents (doc_id, scope, kind, state, chunks, record, updated_at)
                 VALUES (x'00112233445566778899aabbccddeeff', 'v/a/shared', 'notice', x'', 0, '{}', 5)",
                [],
            )
            .expect("row");
            conn.pragma_update(None, "user_version", 1)
                .expect("version");
        }
        let db = Db::open(&path, None).expect("upgrade");
        let (version, withdrawn, kept): (u32, Option<String>, i64) = db
            .read(|tx| {
                Ok((
                    tx.pragma_query_value(None, "user_version", |r| r.get(0))?,
                    tx.query_row("SELECT withdrawn FROM documents", [], |r| r.get(0))?,
                    tx.query_row("SELECT count(*) FROM documents", [], |r| r.get(0))?,
                ))
            })
            .expect("read");
        assert_eq!((version, withdrawn, kept), (VERSION, None, 1));
    }

    #[test]
    fn a_version_6_outbox_keeps_its_changes_and_never_gives_a_place_again() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("old.db");
        {
            let conn = rusqlite::Connection::open(&path).expect("open");
            for step in [V1, V2, V3, V4, V5, V6] {
                conn.execute_batch(step).expect("an old version");
            }
            let mut add = conn
                .prepare(
                    "INSERT INTO outbox (hash, doc_id, bytes, created_at, refused_code)
                     VALUES (?1, x'00112233445566778899aabbccddeeff', x'85', 1, ?2)",
                )
                .expect("insert");
            for (n, refused) in [(1u8, None), (2, Some("missing_dependency")), (3, None)] {
                add.execute(rusqlite::params![vec![n; 32], refused])
                    .expect("row");
            }
            // The newest place was given out and answered: it is gone.
            conn.execute("DELETE FROM outbox WHERE id = 3", [])
                .expect("answered");
            conn.pragma_update(None, "user_version", 6)
                .expect("version");
        }
        let db = Db::open(&path, None).expect("upgrade");
        let (kept, indexes, next) = db
            .write(|tx| {
                let kept: Vec<(i64, Vec<u8>, Option<String>)> = tx
                    .prepare("SELECT id, hash, refused_code FROM outbox ORDER BY id")?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<_, _>>()?;
                let indexes: i64 = tx.query_row(
                    "SELECT count(*) FROM pragma_index_list('outbox')",
                    [],
                    |r| r.get(0),
                )?;
                tx.execute(
                    "INSERT INTO outbox (hash, doc_id, bytes, created_at) VALUES (x'04', x'00', x'', 2)",
                    [],
                )?;
                let next: i64 = tx.query_row("SELECT max(id) FROM outbox", [], |r| r.get(0))?;
                Ok((kept, indexes, next))
            })
            .expect("read");
        assert_eq!(
            kept,
            vec![
                (1, vec![1; 32], None),
                (2, vec![2; 32], Some("missing_dependency".to_string()))
            ]
        );
        assert_eq!(indexes, 0, "the outbox has no index of hashes");
        assert_eq!(next, 4, "place 3 was given out before the upgrade");
    }

    #[test]
    fn a_version_7_outbox_opens_with_nothing_answered_and_all_its_changes_waiting() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("old.db");
        {
            let conn = rusqlite::Connection::open(&path).expect("open");
            for step in [V1, V2, V3, V4, V5, V6, V7] {
                conn.execute_batch(step).expect("an old version");
            }
            for n in 1..=2u8 {
                conn.execute(
                    "INSERT INTO outbox (hash, doc_id, bytes, created_at)
                     VALUES (?1, x'00112233445566778899aabbccddeeff', x'85', 1)",
                    [vec![n; 32]],
                )
                .expect("row");
            }
            conn.pragma_update(None, "user_version", 7)
                .expect("version");
        }
        let db = Db::open(&path, None).expect("upgrade");
        let (through, waiting) = db
            .read(|tx| {
                let through: i64 =
                    tx.query_row("SELECT through FROM outbox_answered", [], |r| r.get(0))?;
                Ok::<_, crate::Error>((through, crate::store::outbox::counts(tx)?.unsent))
            })
            .expect("read");
        assert_eq!((through, waiting), (0, 2));
    }
}
