//! Purging a record for good: a villager's personal data erased on their
//! request by a township officer, with the reason kept.
//!
//! [`purge`] deletes, in one transaction, the record's stored changes, its
//! document and its typed rows (and the rows of other records that link to
//! it, such as a problem's `problem_opinions`), and writes an audit row in
//! `purges`: the record's id, kind and scope, who purged it, when and why.
//! The purge takes a number of its own in the changes' sequence, so each
//! device reading the scope hears of it once, on its next pull (`feed`), and
//! deletes its own copy. The hashes of the purged changes are kept (nothing
//! else of them), so that no change to the record, or building on it, is
//! taken again (`ingest` refuses it as purged).
//!
//! The writer runs with `secure_delete` on, so deleted content is zeroed in
//! the database's pages, and a purge ends with a checkpoint that truncates
//! the log, so the bytes leave the files.
//!
//! Every purge is also kept in the purge journal beside the database
//! ([`crate::purge_journal`]), written before the purge commits; a restored
//! or older database has the journal's purges made again ([`reapply`]).

use massline_model::{Coded, DocId, PersonId, RecordKind, Role, Scope};
use rusqlite::{OptionalExtension, Transaction, params};
use tracing::warn;

use crate::db::Db;
use crate::error::Error;
use crate::purge_journal::{self, Line};
use crate::{registry, rows};

/// Most bytes of a purge's reason: a sentence or two for the audit log.
pub const MAX_REASON_BYTES: usize = 1000;

/// Why a purge was not made.
#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    /// No such record on this server.
    #[error("record {0}: no such record")]
    NotFound(DocId),
    /// The record was purged before.
    #[error("record {id}: already purged by {by} ({reason})")]
    AlreadyPurged {
        /// The record.
        id: DocId,
        /// Who purged it.
        by: String,
        /// Why.
        reason: String,
    },
    /// The record's kind is the organization's evidence, never purged.
    #[error(
        "record {id}: a {kind} cannot be purged (only visits, opinions and service \
         requests, which hold a villager's personal data); withdraw it instead"
    )]
    NotPurgeable {
        /// The record.
        id: DocId,
        /// Its kind's code.
        kind: &'static str,
    },
    /// `by` is not a township officer (or not a person of this server).
    #[error("{0} is not a township officer: only a township officer purges a record")]
    NotOfficer(PersonId),
    /// The reason is empty or too long.
    #[error("a purge needs a reason of 1 to {MAX_REASON_BYTES} bytes")]
    Reason,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] Error),
}

impl From<rusqlite::Error> for PurgeError {
    fn from(e: rusqlite::Error) -> Self {
        PurgeError::Storage(e.into())
    }
}

/// A purge made: the audit row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purge {
    /// The record purged.
    pub id: DocId,
    /// Its kind.
    pub kind: RecordKind,
    /// Its scope.
    pub scope: String,
    /// The purge's number in the changes' sequence.
    pub seq: i64,
    /// The township officer who purged it.
    pub by: PersonId,
    /// When (Unix seconds).
    pub at: i64,
    /// Why.
    pub reason: String,
}

/// Purges record `id` for good on behalf of `by`, a township officer, for
/// `reason`; then truncates the database's log so the deleted bytes leave it.
pub fn purge(
    db: &Db,
    id: &DocId,
    by: &PersonId,
    reason: &str,
    now: i64,
) -> Result<Purge, PurgeError> {
    let done = db.write(|tx| {
        let done = purge_in(tx, id, by, reason, now)?;
        // Durable before the purge commits: no purge without its line.
        purge_journal::append(db.dir(), &done.line())?;
        Ok::<_, PurgeError>(done)
    })?;
    db.checkpoint()?;
    Ok(done)
}

impl Purge {
    /// The purge as the journal keeps it.
    pub fn line(&self) -> Line {
        Line {
            id: self.id.to_hex(),
            kind: self.kind.code().to_string(),
            scope: self.scope.clone(),
            by: self.by.to_string(),
            at: self.at,
            reason: self.reason.clone(),
        }
    }
}

/// [`purge`] inside a write transaction.
pub fn purge_in(
    tx: &Transaction<'_>,
    id: &DocId,
    by: &PersonId,
    reason: &str,
    now: i64,
) -> Result<Purge, PurgeError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.len() > MAX_REASON_BYTES {
        return Err(PurgeError::Reason);
    }
    match registry::person(tx, by)? {
        Some(p) if p.role == Role::TownshipOfficer && !registry::revoked(tx, by)? => {}
        _ => return Err(PurgeError::NotOfficer(by.clone())),
    }
    let key = &id.as_bytes()[..];
    let found: Option<(String, i64, String)> = tx
        .query_row(
            "SELECT d.kind, d.scope_id, s.name FROM documents d
             JOIN scopes s ON s.id = d.scope_id WHERE d.doc_id = ?1",
            params![key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((kind, scope_id, scope)) = found else {
        return Err(match purged(tx, id)? {
            Some(p) => PurgeError::AlreadyPurged {
                id: *id,
                by: p.by.to_string(),
                reason: p.reason,
            },
            None => PurgeError::NotFound(*id),
        });
    };
    let kind = RecordKind::from_code(&kind)
        .ok_or_else(|| Error::damaged(*id, format!("unknown kind {kind}")))?;
    if !kind.purgeable() {
        return Err(PurgeError::NotPurgeable {
            id: *id,
            kind: kind.code(),
        });
    }
    let purge = Purge {
        id: *id,
        kind,
        scope,
        seq: 0,
        by: by.clone(),
        at: now,
        reason: reason.to_string(),
    };
    erase(tx, scope_id, purge).map_err(PurgeError::from)
}

/// Deletes the record of `purge` (in the scope numbered `scope_id`) if the
/// server holds it, and writes the audit row under the purge's own number,
/// which it returns in the purge: the purge made, once its checks passed.
fn erase(tx: &Transaction<'_>, scope_id: i64, mut purge: Purge) -> Result<Purge, Error> {
    let (id, kind) = (&purge.id, purge.kind);
    let key = &id.as_bytes()[..];
    // Whether the typed rows are current now: then, having deleted its
    // record's rows itself, the purge leaves them current past its number
    // (else the follower moves them past it when it catches up).
    let rows_through: i64 = registry::setting(tx, rows::THROUGH)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let rows_current = rows_through >= registry::last_seq(tx)?;
    // The purge's own number: the next of the changes' AUTOINCREMENT, which
    // never gives it to a change (the sequence only grows).
    // (A database that never held a change has no row for it yet.)
    tx.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'changes', 0
         WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'changes')",
        [],
    )?;
    let seq: i64 = tx.query_row(
        "UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(seq), 0) FROM changes)) + 1
         WHERE name = 'changes' RETURNING seq",
        [],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO purged_changes (hash, doc_id)
         SELECT hash, doc_id FROM changes WHERE doc_id = ?1",
        params![key],
    )?;
    tx.execute("DELETE FROM changes WHERE doc_id = ?1", params![key])?;
    tx.execute("DELETE FROM documents WHERE doc_id = ?1", params![key])?;
    rows::forget(tx, id, kind)?;
    tx.execute(
        "INSERT INTO purges (doc_id, kind, scope_id, seq, purged_by, purged_at, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            key,
            kind.code(),
            scope_id,
            seq,
            purge.by.as_str(),
            purge.at,
            purge.reason
        ],
    )?;
    if rows_current {
        registry::set_setting(tx, rows::THROUGH, &seq.to_string())?;
    }
    purge.seq = seq;
    Ok(purge)
}

/// Makes again every purge of the journal beside `db`
/// ([`crate::purge_journal`]) that the database does not hold: after a
/// restore from a backup older than the purge, or a database put back by
/// hand. The record, if the database holds it, is deleted as a purge
/// deletes it; if not, the audit row alone is written, so that no change
/// of the record is taken again. Either way the purge takes a new number,
/// so devices that meet the server hear of it again and delete their copy.
/// The purge stays in the name of the officer who made it, at its time,
/// for its reason. Returns the purges made.
pub fn reapply(db: &Db) -> Result<Vec<Purge>, Error> {
    let lines = purge_journal::read(&db.dir().join(purge_journal::FILE))?;
    let mut made = Vec::new();
    for line in lines {
        let bad = |what: &str| {
            Error::Invalid(format!(
                "{}: the purge of {:?} has {what}",
                purge_journal::FILE,
                line.id
            ))
        };
        let id = DocId::parse_hex(&line.id).ok_or_else(|| bad("no record id"))?;
        let kind = RecordKind::from_code(&line.kind)
            .filter(|k| k.purgeable())
            .ok_or_else(|| bad("no kind that is purged"))?;
        let scope = Scope::parse(&line.scope).map_err(|_| bad("no scope"))?;
        let by = PersonId::new(&line.by).map_err(|_| bad("no person"))?;
        let done = db.write(|tx| reapply_in(tx, &id, kind, &scope, &by, line.at, &line.reason))?;
        made.extend(done);
    }
    if !made.is_empty() {
        db.checkpoint()?;
    }
    Ok(made)
}

/// One purge of the journal made again, unless the database holds it.
fn reapply_in(
    tx: &Transaction<'_>,
    id: &DocId,
    kind: RecordKind,
    scope: &Scope,
    by: &PersonId,
    at: i64,
    reason: &str,
) -> Result<Option<Purge>, Error> {
    if purged(tx, id)?.is_some() {
        return Ok(None);
    }
    let held: Option<(i64, String)> = tx
        .query_row(
            "SELECT d.scope_id, s.name FROM documents d
             JOIN scopes s ON s.id = d.scope_id WHERE d.doc_id = ?1",
            params![&id.as_bytes()[..]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (scope_id, name) = match held {
        Some(held) => held,
        None if registry::scope_exists(tx, scope)? => {
            (registry::scope_id(tx, scope)?, scope.to_string())
        }
        None => {
            // A village this database does not know: made at a later start,
            // once the village is added again.
            warn!(record = %id, %scope, "a purge of a village this server does not know waits");
            return Ok(None);
        }
    };
    let purge = Purge {
        id: *id,
        kind,
        scope: name,
        seq: 0,
        by: by.clone(),
        at,
        reason: reason.to_string(),
    };
    erase(tx, scope_id, purge).map(Some)
}

fn purge_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Purge>> {
    let key: Vec<u8> = r.get(0)?;
    let (kind, by): (String, String) = (r.get(1)?, r.get(4)?);
    Ok(
        match (
            DocId::from_slice(&key),
            RecordKind::from_code(&kind),
            PersonId::new(&by),
        ) {
            (Some(id), Some(kind), Ok(by)) => Some(Purge {
                id,
                kind,
                scope: r.get(2)?,
                seq: r.get(3)?,
                by,
                at: r.get(5)?,
                reason: r.get(6)?,
            }),
            _ => None,
        },
    )
}

const SELECT: &str = "SELECT p.doc_id, p.kind, s.name, p.seq, p.purged_by, p.purged_at, p.reason
                      FROM purges p JOIN scopes s ON s.id = p.scope_id";

/// The purge of record `id`, if it was purged.
pub fn purged(tx: &Transaction<'_>, id: &DocId) -> Result<Option<Purge>, Error> {
    Ok(tx
        .prepare_cached(&format!("{SELECT} WHERE p.doc_id = ?1"))?
        .query_row(params![&id.as_bytes()[..]], purge_from_row)
        .optional()?
        .flatten())
}

/// Every purge, newest first: the audit log.
pub fn log(tx: &Transaction<'_>) -> Result<Vec<Purge>, Error> {
    let mut stmt = tx.prepare(&format!("{SELECT} ORDER BY p.seq DESC"))?;
    let rows = stmt.query_map([], purge_from_row)?;
    let mut out = Vec::new();
    for r in rows {
        out.extend(r?);
    }
    Ok(out)
}

/// Whether any record was ever purged: until one is, the intake looks up
/// no change's record among the purged.
pub fn any(tx: &Transaction<'_>) -> Result<bool, Error> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM purges)")?
        .query_row([], |r| r.get(0))?)
}

/// The record a change was of, if it was purged: the change itself was
/// purged, or (a first change) its record.
pub fn record_of_change(
    tx: &Transaction<'_>,
    hash: &[u8; 32],
    first: bool,
) -> Result<Option<(DocId, Scope)>, Error> {
    let id = if first {
        Some(DocId::of_first_change(&automerge::ChangeHash(*hash)))
    } else {
        tx.prepare_cached("SELECT doc_id FROM purged_changes WHERE hash = ?1")?
            .query_row(params![&hash[..]], |r| r.get::<_, Vec<u8>>(0))
            .optional()?
            .and_then(|k| DocId::from_slice(&k))
    };
    let Some(id) = id else { return Ok(None) };
    let scope: Option<String> = tx
        .prepare_cached(
            "SELECT s.name FROM purges p JOIN scopes s ON s.id = p.scope_id WHERE p.doc_id = ?1",
        )?
        .query_row(params![&id.as_bytes()[..]], |r| r.get(0))
        .optional()?;
    Ok(scope.and_then(|s| Scope::parse(&s).ok()).map(|s| (id, s)))
}

/// The audit log as printable lines: when, record, kind, scope, by, reason.
pub fn log_lines(db: &Db) -> Result<Vec<String>, Error> {
    Ok(db
        .read(log)?
        .into_iter()
        .map(|p| {
            let at = chrono::DateTime::from_timestamp(p.at, 0)
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default();
            format!(
                "{at}\t{}\t{}\t{}\t{}\t{}",
                p.id,
                p.kind.code(),
                p.scope,
                p.by,
                p.reason
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use massline_model::VillageCode;

    #[test]
    fn a_purge_of_the_journal_is_made_again_once_in_its_officers_name() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        db.write(|tx| registry::add_village(tx, &VillageCode::new("dongcun").unwrap(), "东村"))
            .unwrap();
        // An officer this database never knew (added after its backup),
        // of a record it never held.
        let line = Line {
            id: "0123456789abcdef0123456789abcdef".into(),
            kind: "opinion".into(),
            scope: "v/dongcun/cadre".into(),
            by: "gone".into(),
            at: 1_700_000_000,
            reason: "本人申请删除".into(),
        };
        purge_journal::append(dir.path(), &line).unwrap();
        let made = reapply(&db).unwrap();
        assert_eq!(made.len(), 1);
        assert_eq!(made[0].line(), line);
        assert!(made[0].seq > 0);
        assert!(reapply(&db).unwrap().is_empty(), "made twice");
        let log = db.read(log).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].by.as_str(), "gone");
        // A record of it is refused as purged from now on.
        let id = DocId::parse_hex(&line.id).unwrap();
        assert!(db.read(|tx| purged(tx, &id)).unwrap().is_some());
    }
}
