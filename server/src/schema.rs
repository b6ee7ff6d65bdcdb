//! The server database: version, tables, and upgrades from older versions.

use rusqlite::Transaction;

/// The schema version this code writes (`PRAGMA user_version`).
pub const VERSION: u32 = 1;

const V1: &str = "
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE villages (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE people (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    village TEXT REFERENCES villages (code),
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX people_by_village ON people (village);

-- One-time enrollment codes; only a hash of the secret is kept.
CREATE TABLE enrollment_codes (
    secret_hash BLOB PRIMARY KEY,
    person TEXT NOT NULL REFERENCES people (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    device_id INTEGER
) WITHOUT ROWID;

-- Enrolled devices; only a hash of the token is kept.
CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person TEXT NOT NULL REFERENCES people (id),
    actor BLOB NOT NULL UNIQUE,
    token_hash BLOB NOT NULL UNIQUE,
    name TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_seen_at INTEGER
);

CREATE TABLE scopes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    village TEXT NOT NULL REFERENCES villages (code)
);

-- The current state of every record: `state` is a run of Automerge chunks,
-- `record` the record as JSON.
CREATE TABLE documents (
    doc_id BLOB PRIMARY KEY,
    scope_id INTEGER NOT NULL REFERENCES scopes (id),
    kind TEXT NOT NULL,
    state BLOB NOT NULL,
    chunks INTEGER NOT NULL,
    record TEXT NOT NULL,
    created_seq INTEGER NOT NULL,
    updated_seq INTEGER NOT NULL
);
CREATE INDEX documents_by_scope ON documents (scope_id);

-- Every accepted change, numbered in the order it became durable. The number
-- is never reused (AUTOINCREMENT), so device cursors stay meaningful.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB NOT NULL UNIQUE,
    doc_id BLOB NOT NULL,
    scope_id INTEGER NOT NULL REFERENCES scopes (id),
    device_id INTEGER NOT NULL REFERENCES devices (id),
    bytes BLOB NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX changes_by_scope ON changes (scope_id, seq);
CREATE INDEX changes_by_doc ON changes (doc_id, seq);
";

/// Brings a database at `from` up to [`VERSION`], one step at a time.
pub fn upgrade(tx: &Transaction<'_>, from: u32) -> rusqlite::Result<()> {
    for version in from..VERSION {
        if version == 0 {
            tx.execute_batch(V1)?;
        }
    }
    tx.pragma_update(None, "user_version", VERSION)
}
