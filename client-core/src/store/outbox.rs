//! Local changes the server has not acknowledged yet.

use automerge::ChangeHash;
use rusqlite::{Transaction, params};

use crate::error::Error;
use crate::ids::DocId;
use crate::protocol::RefusalCode;

/// A local change waiting to be pushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Its place in the outbox (oldest first).
    pub id: i64,
    /// The change's hash.
    pub hash: ChangeHash,
    /// The document it changes.
    pub doc: DocId,
    /// The change chunk.
    pub bytes: Vec<u8>,
}

/// A local change the server refused, kept for the person to see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The document the change was for.
    pub doc: DocId,
    /// The change's hash.
    pub hash: ChangeHash,
    /// The server's code for the reason.
    pub code: String,
    /// The server's reason, in plain words.
    pub reason: String,
}

/// Queues a local change for the next push.
pub fn add(
    tx: &Transaction<'_>,
    hash: &ChangeHash,
    doc: &DocId,
    bytes: &[u8],
    now: i64,
) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO outbox (hash, doc_id, bytes, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![&hash.0[..], &doc.as_bytes()[..], bytes, now])?;
    Ok(())
}

/// Queues a change of this device again for a server that lacks it (one
/// restored from a backup), forgetting an earlier refusal: the server checks it
/// like any push, and recognises one it holds by its hash.
pub fn requeue(
    tx: &Transaction<'_>,
    hash: &ChangeHash,
    doc: &DocId,
    bytes: &[u8],
    now: i64,
) -> Result<(), Error> {
    // Taken out and queued anew, so the changes go in the order given.
    tx.prepare_cached("DELETE FROM outbox WHERE hash = ?1")?
        .execute(params![&hash.0[..]])?;
    add(tx, hash, doc, bytes, now)
}

/// Whether any of `hashes` waits in the outbox refused for want of a change
/// it depends on (which another device may yet send).
pub fn waits_for_dependency(tx: &Transaction<'_>, hashes: &[ChangeHash]) -> Result<bool, Error> {
    let mut stmt =
        tx.prepare_cached("SELECT 1 FROM outbox WHERE hash = ?1 AND refused_code IN (?2, ?3)")?;
    let codes = [
        RefusalCode::MissingDependency,
        RefusalCode::DependsOnRefused,
    ]
    .map(|c| c.code());
    for h in hashes {
        if stmt.exists(params![&h.0[..], codes[0], codes[1]])? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn hash_of(bytes: Vec<u8>) -> rusqlite::Result<ChangeHash> {
    ChangeHash::try_from(bytes.as_slice()).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(e))
    })
}

fn doc_of(bytes: Vec<u8>) -> rusqlite::Result<DocId> {
    DocId::from_slice(&bytes).ok_or(rusqlite::Error::InvalidColumnType(
        0,
        "doc_id".into(),
        rusqlite::types::Type::Blob,
    ))
}

/// Changes waiting to be pushed (not refused), oldest first, at least one and
/// then up to about `max_bytes` in all.
pub fn pending(tx: &Transaction<'_>, max_bytes: usize) -> Result<Vec<Pending>, Error> {
    let mut stmt = tx.prepare_cached(
        "SELECT hash, doc_id, bytes, id FROM outbox WHERE refused_code IS NULL ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    let mut total = 0;
    while let Some(r) = rows.next()? {
        if total >= max_bytes {
            break;
        }
        let bytes: Vec<u8> = r.get(2)?;
        total += bytes.len();
        out.push(Pending {
            id: r.get(3)?,
            hash: hash_of(r.get(0)?)?,
            doc: doc_of(r.get(1)?)?,
            bytes,
        });
    }
    Ok(out)
}

/// The server has stored the changes queued from `first` to `last` (as
/// [`pending`] listed them, in order) except those refused: they leave the outbox.
pub fn acknowledge(tx: &Transaction<'_>, first: i64, last: i64) -> Result<(), Error> {
    tx.prepare_cached("DELETE FROM outbox WHERE id BETWEEN ?1 AND ?2 AND refused_code IS NULL")?
        .execute(params![first, last])?;
    Ok(())
}

/// The server refused a change: it stays, marked, and is not sent again;
/// but a change to a record purged for good leaves the outbox (the record
/// itself leaves with the pull that names its purge).
pub fn refuse(
    tx: &Transaction<'_>,
    hash: &ChangeHash,
    code: &str,
    reason: &str,
) -> Result<(), Error> {
    if code == RefusalCode::Purged.code() {
        tx.prepare_cached("DELETE FROM outbox WHERE hash = ?1")?
            .execute(params![&hash.0[..]])?;
        return Ok(());
    }
    tx.prepare_cached("UPDATE outbox SET refused_code = ?2, refused_reason = ?3 WHERE hash = ?1")?
        .execute(params![&hash.0[..], code, reason])?;
    Ok(())
}

/// What waits in the outbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Changes waiting to be pushed.
    pub unsent: u64,
    /// Their bytes (before compression).
    pub unsent_bytes: u64,
    /// Changes the server refused.
    pub refused: u64,
}

/// How many changes wait to be pushed (and their bytes), and how many were refused.
pub fn counts(tx: &Transaction<'_>) -> Result<Counts, Error> {
    Ok(tx.query_row(
        "SELECT count(*) FILTER (WHERE refused_code IS NULL),
                coalesce(sum(length(bytes)) FILTER (WHERE refused_code IS NULL), 0),
                count(*) FILTER (WHERE refused_code IS NOT NULL) FROM outbox",
        [],
        |r| {
            Ok(Counts {
                unsent: r.get::<_, i64>(0)? as u64,
                unsent_bytes: r.get::<_, i64>(1)? as u64,
                refused: r.get::<_, i64>(2)? as u64,
            })
        },
    )?)
}

/// Every refused change, oldest first.
pub fn refused(tx: &Transaction<'_>) -> Result<Vec<Refused>, Error> {
    let mut stmt = tx.prepare_cached(
        "SELECT doc_id, hash, refused_code, refused_reason FROM outbox
         WHERE refused_code IS NOT NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Refused {
            doc: doc_of(r.get(0)?)?,
            hash: hash_of(r.get(1)?)?,
            code: r.get(2)?,
            reason: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
