//! The current state of every record: its document and its rows.

use automerge::Automerge;
use massline_model::record_doc::StoredRecord;
use massline_model::stored_doc;
use massline_model::{DocId, Record, Scope};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::Error;

/// A record's stored document and where it lives.
#[derive(Clone, Debug)]
pub struct Current {
    /// A run of Automerge chunks that loads as the document.
    pub state: Vec<u8>,
    /// How many chunks the run holds.
    pub chunks: i64,
    /// The scope's number.
    pub scope_id: i64,
}

/// The stored document of a record, if the server has it.
pub fn current(tx: &Transaction<'_>, id: &DocId) -> Result<Option<Current>, Error> {
    Ok(tx
        .prepare_cached("SELECT state, chunks, scope_id FROM documents WHERE doc_id = ?1")?
        .query_row(params![&id.as_bytes()[..]], |r| {
            Ok(Current {
                state: r.get(0)?,
                chunks: r.get(1)?,
                scope_id: r.get(2)?,
            })
        })
        .optional()?)
}

/// Whether the server has a record.
pub fn exists(tx: &Transaction<'_>, id: &DocId) -> Result<bool, Error> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM documents WHERE doc_id = ?1)")?
        .query_row(params![&id.as_bytes()[..]], |r| r.get(0))?)
}

/// Loads a stored document.
pub fn load(id: &DocId, state: &[u8]) -> Result<Automerge, Error> {
    stored_doc::load(state).map_err(|e| Error::damaged(*id, e))
}

/// A record after changes were applied to it.
#[derive(Debug)]
pub struct Update<'a> {
    /// The document now, if it was built (needed only to compact).
    pub doc: Option<&'a Automerge>,
    /// Its stored form before, if it existed.
    pub current: Option<&'a Current>,
    /// The changes just applied, concatenated.
    pub new_chunks: &'a [u8],
    /// How many changes that is.
    pub n_new: i64,
    /// The record's scope.
    pub scope_id: i64,
    /// The record now, with its scope and withdrawal.
    pub stored: &'a StoredRecord,
    /// `stored`'s record as JSON, if that was written already.
    pub record_json: Option<&'a str>,
    /// The sequence number of the last change applied.
    pub seq: i64,
}

/// Whether writing `n_new` more changes compacts the document into one save.
pub fn will_compact(current: Option<&Current>, n_new: i64) -> bool {
    stored_doc::will_compact(current.map(Current::run), n_new)
}

impl Current {
    /// The stored run of chunks.
    pub fn run(&self) -> stored_doc::Run<'_> {
        stored_doc::Run {
            state: &self.state,
            chunks: self.chunks,
        }
    }
}

/// Writes a record's document and its JSON (its typed rows follow, see `rows::catch_up`).
pub fn put(tx: &Transaction<'_>, id: &DocId, u: &Update<'_>) -> Result<(), Error> {
    let (state, chunks) =
        stored_doc::next_run(u.current.map(Current::run), u.new_chunks, u.n_new, || {
            u.doc
                .map(Automerge::save)
                .ok_or_else(|| Error::damaged(*id, "compacting a document never built"))
        })?;
    let corrupt = |e: serde_json::Error| Error::damaged(*id, e);
    let record = match u.record_json {
        Some(json) => std::borrow::Cow::Borrowed(json),
        None => serde_json::to_string(&u.stored.record)
            .map_err(corrupt)?
            .into(),
    };
    let withdrawn = u
        .stored
        .withdrawn
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(corrupt)?;
    tx.prepare_cached(
        "INSERT INTO documents (doc_id, scope_id, kind, state, chunks, record, created_seq,
                                updated_seq, withdrawn)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)
         ON CONFLICT (doc_id) DO UPDATE SET state = ?4, chunks = ?5, record = ?6,
             updated_seq = ?7, withdrawn = ?8",
    )?
    .execute(params![
        &id.as_bytes()[..],
        u.scope_id,
        u.stored.record.kind().code(),
        state,
        chunks,
        record,
        u.seq,
        withdrawn
    ])?;
    Ok(())
}

/// A record as it stands, with its scope and withdrawal, from its stored JSON.
pub fn lookup(tx: &Transaction<'_>, id: &DocId) -> Result<Option<StoredRecord>, Error> {
    let row: Option<(String, Option<String>, String)> = tx
        .prepare_cached(
            "SELECT d.record, d.withdrawn, s.name FROM documents d
             JOIN scopes s ON s.id = d.scope_id WHERE d.doc_id = ?1",
        )?
        .query_row(params![&id.as_bytes()[..]], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((record, withdrawn, scope)) = row else {
        return Ok(None);
    };
    stored_record(id, &record, withdrawn.as_deref(), &scope).map(Some)
}

/// A record from the columns `documents` keeps of it.
pub fn stored_record(
    id: &DocId,
    record: &str,
    withdrawn: Option<&str>,
    scope: &str,
) -> Result<StoredRecord, Error> {
    let corrupt = |e: serde_json::Error| Error::damaged(*id, e);
    Ok(StoredRecord {
        scope: Scope::parse(scope).map_err(|e| Error::damaged(*id, e))?,
        record: serde_json::from_str::<Record>(record).map_err(corrupt)?,
        withdrawn: withdrawn
            .map(serde_json::from_str)
            .transpose()
            .map_err(corrupt)?,
    })
}
