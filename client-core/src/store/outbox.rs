//! Local changes the server has not acknowledged yet.

use std::collections::{HashMap, HashSet};

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
        "INSERT INTO outbox (hash, doc_id, bytes, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![&hash.0[..], &doc.as_bytes()[..], bytes, now])?;
    Ok(())
}

/// Queues changes of this device again, in the order given, for a server
/// that lacks them (one restored from a backup), forgetting any earlier
/// refusal: the server checks them like any push, and recognises one it
/// holds by its hash. A change still queued is taken out and queued anew.
pub fn requeue(
    tx: &Transaction<'_>,
    changes: &[(ChangeHash, DocId, Vec<u8>)],
    now: i64,
) -> Result<(), Error> {
    // The outbox has no index of hashes (see the schema, version 7): it
    // is read once here, where recovery needs one.
    let queued: HashMap<ChangeHash, i64> = tx
        .prepare("SELECT hash, id FROM outbox")?
        .query_map([], |r| Ok((hash_of(r.get(0)?)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut take_out = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
    let mut queued_now = HashSet::new();
    for (hash, doc, bytes) in changes {
        if !queued_now.insert(*hash) {
            continue;
        }
        if let Some(id) = queued.get(hash) {
            take_out.execute(params![id])?;
        }
        add(tx, hash, doc, bytes, now)?;
    }
    Ok(())
}

/// Whether any of `hashes` waits in the outbox refused for want of a change
/// it depends on (which another device may yet send).
pub fn waits_for_dependency(tx: &Transaction<'_>, hashes: &[ChangeHash]) -> Result<bool, Error> {
    let codes = [
        RefusalCode::MissingDependency,
        RefusalCode::DependsOnRefused,
    ]
    .map(|c| c.code());
    let waiting: HashSet<ChangeHash> = tx
        .prepare_cached("SELECT hash FROM outbox WHERE refused_code IN (?1, ?2)")?
        .query_map(params![codes[0], codes[1]], |r| hash_of(r.get(0)?))?
        .collect::<Result<_, _>>()?;
    Ok(hashes.iter().any(|h| waiting.contains(h)))
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
    Ok(pending_after(tx, 0, max_bytes)?.0)
}

/// [`pending`] of the changes queued after `after` (a place in the outbox),
/// and whether more wait after those read.
pub fn pending_after(
    tx: &Transaction<'_>,
    after: i64,
    max_bytes: usize,
) -> Result<(Vec<Pending>, bool), Error> {
    let after = after.max(answered_through(tx)?);
    let mut stmt = tx.prepare_cached(
        "SELECT hash, doc_id, bytes, id FROM outbox WHERE refused_code IS NULL AND id > ?1
         ORDER BY id",
    )?;
    let mut rows = stmt.query([after])?;
    let mut out = Vec::new();
    let mut total = 0;
    while let Some(r) = rows.next()? {
        if total >= max_bytes {
            return Ok((out, true));
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
    Ok((out, false))
}

/// Bytes of the changes waiting to be pushed (not refused) queued after
/// `after`, measured without reading them.
pub fn pending_bytes_after(tx: &Transaction<'_>, after: i64) -> Result<usize, Error> {
    let after = after.max(answered_through(tx)?);
    let n: i64 = tx
        .prepare_cached(
            "SELECT coalesce(sum(length(bytes)), 0) FROM outbox
             WHERE refused_code IS NULL AND id > ?1",
        )?
        .query_row([after], |r| r.get(0))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// The server has stored the changes queued up to `last` (as [`pending`]
/// listed them, in order) except those refused: they are answered, and no
/// longer wait to be pushed. They leave the outbox at [`clear_answered`].
pub fn acknowledge(tx: &Transaction<'_>, last: i64) -> Result<(), Error> {
    tx.prepare_cached("UPDATE outbox_answered SET through = max(through, ?1)")?
        .execute([last])?;
    Ok(())
}

/// Which outbox rows still wait, as an SQL condition: the changes the
/// server has not answered, those it refused and those queued after its
/// answered place. For statements that keep what still waits on the outbox.
pub const WAITING: &str = "refused_code IS NOT NULL OR id > (SELECT through FROM outbox_answered)";

/// The place in the outbox up to which the server has answered: every
/// change queued there or before, and not refused, it has stored.
fn answered_through(tx: &Transaction<'_>) -> Result<i64, Error> {
    Ok(tx
        .prepare_cached("SELECT through FROM outbox_answered")?
        .query_row([], |r| r.get(0))?)
}

/// Whether answered changes are still in the outbox, to leave it.
pub fn any_answered(tx: &Transaction<'_>) -> Result<bool, Error> {
    let through = answered_through(tx)?;
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE id <= ?1 AND refused_code IS NULL)",
        )?
        .query_row([through], |r| r.get(0))?)
}

/// Takes the answered changes out of the outbox. When they are all it
/// holds (after a whole upload, the usual case), the outbox is emptied
/// whole, which frees its pages at once: deleting row by row moves the rows
/// left on each page between pages as it goes (3.3 ms of CPU for a
/// village's 2,720 changes, against 0.5 ms).
pub fn clear_answered(tx: &Transaction<'_>) -> Result<(), Error> {
    let through = answered_through(tx)?;
    let others: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE id > ?1)
                 OR EXISTS (SELECT 1 FROM outbox WHERE id <= ?1 AND refused_code IS NOT NULL)",
        )?
        .query_row([through], |r| r.get(0))?;
    if others {
        tx.prepare_cached("DELETE FROM outbox WHERE id <= ?1 AND refused_code IS NULL")?
            .execute([through])?;
    } else {
        tx.prepare_cached("DELETE FROM outbox")?.execute([])?;
    }
    Ok(())
}

/// The server refused the change queued as `id` (as [`pending`] listed
/// it): it stays, marked, and is not sent again; but a change to a record
/// purged for good leaves the outbox (the record itself leaves with the
/// pull that names its purge).
pub fn refuse(tx: &Transaction<'_>, id: i64, code: &str, reason: &str) -> Result<(), Error> {
    if code == RefusalCode::Purged.code() {
        tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?
            .execute(params![id])?;
        return Ok(());
    }
    tx.prepare_cached("UPDATE outbox SET refused_code = ?2, refused_reason = ?3 WHERE id = ?1")?
        .execute(params![id, code, reason])?;
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
    let through = answered_through(tx)?;
    Ok(tx.query_row(
        "SELECT count(*) FILTER (WHERE refused_code IS NULL AND id > ?1),
                coalesce(sum(length(bytes)) FILTER (WHERE refused_code IS NULL AND id > ?1), 0),
                count(*) FILTER (WHERE refused_code IS NOT NULL) FROM outbox",
        [through],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::Db;

    fn queued(db: &Db, n: u8) -> Vec<i64> {
        db.write(|tx| {
            for i in 0..n {
                let doc = DocId::from_slice(&[i + 1; 16]).expect("id");
                add(tx, &ChangeHash([i; 32]), &doc, &[i; 40], 0)?;
            }
            let ids = tx
                .prepare("SELECT id FROM outbox ORDER BY id")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok::<_, Error>(ids)
        })
        .expect("queued")
    }

    fn left(db: &Db) -> Vec<i64> {
        db.read(|tx| {
            Ok::<_, Error>(
                tx.prepare("SELECT id FROM outbox ORDER BY id")?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<Vec<i64>, _>>()?,
            )
        })
        .expect("left")
    }

    #[test]
    fn answered_changes_wait_no_more_and_leave_together_refused_and_later_ones_stay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("a.db"), None).expect("open");
        let ids = queued(&db, 6);
        let waiting = |db: &Db| {
            db.read(|tx| {
                let ids: Vec<i64> = pending(tx, usize::MAX)?.iter().map(|p| p.id).collect();
                Ok::<_, Error>((ids, counts(tx)?.unsent))
            })
            .expect("pending")
        };
        db.write(|tx| refuse(tx, ids[1], "malformed", "bad"))
            .expect("refuse");
        db.write(|tx| acknowledge(tx, ids[2])).expect("ack");
        // Answered: no longer waiting, though still in the table.
        assert_eq!(waiting(&db), (ids[3..].to_vec(), 3));
        assert_eq!(left(&db), ids);
        db.write(clear_answered).expect("clear");
        // The refused change and the unanswered ones stay.
        assert_eq!(left(&db), [ids[1], ids[3], ids[4], ids[5]]);
        db.write(|tx| acknowledge(tx, ids[5])).expect("ack");
        assert_eq!(waiting(&db), (Vec::new(), 0));
        db.write(clear_answered).expect("clear");
        assert_eq!(left(&db), [ids[1]]);
        db.write(|tx| {
            tx.execute("DELETE FROM outbox WHERE id = ?1", [ids[1]])?;
            Ok::<_, Error>(())
        })
        .expect("take out");
        // All the outbox holds is answered: it is emptied whole, and the
        // next change is numbered after.
        let next = queued(&db, 2);
        db.write(|tx| acknowledge(tx, next[1])).expect("ack");
        db.write(clear_answered).expect("clear");
        assert!(left(&db).is_empty());
        let last = queued(&db, 1);
        assert!(last[0] > next[1], "{last:?} after {next:?}");
        assert_eq!(waiting(&db), (last, 1));
    }
}
