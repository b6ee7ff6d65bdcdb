//! The current state of every record: its document and its rows.

use automerge::Automerge;
use massline_model::record_doc::StoredRecord;
use massline_model::stored_doc;
use massline_model::{DocId, Record, Scope};
use std::borrow::Cow;

use rusqlite::types::ToSql;
use rusqlite::{OptionalExtension, Transaction, params};
use rustc_hash::FxHashSet;

use crate::error::Error;
use massline_model::runs;

/// A record's stored document and where it lives.
#[derive(Clone, Debug)]
pub struct Current {
    /// A run of Automerge chunks that loads as the document: the stored
    /// save or run, then the record's changes stored after it.
    pub state: Vec<u8>,
    /// How many chunks the run holds.
    pub chunks: i64,
    /// The scope's number.
    pub scope_id: i64,
}

/// The stored document of a record, if the server has it: `documents`
/// keeps a save (or a run of chunks) through `saved_through`, and the
/// record's later changes are read from `changes`, where every change is
/// kept anyway; a record whose `saved_through` is NULL has all its changes
/// in `state`.
pub fn current(tx: &Transaction<'_>, id: &DocId) -> Result<Option<Current>, Error> {
    let key = &id.as_bytes()[..];
    let row: Option<(Vec<u8>, i64, i64, Option<i64>)> = tx
        .prepare_cached(
            "SELECT state, chunks, scope_id, saved_through FROM documents WHERE doc_id = ?1",
        )?
        .query_row(params![key], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((mut state, chunks, scope_id, saved_through)) = row else {
        return Ok(None);
    };
    if let Some(through) = saved_through {
        let mut stmt = tx.prepare_cached(
            "SELECT bytes FROM changes WHERE doc_id = ?1 AND seq > ?2 ORDER BY seq",
        )?;
        let mut later = stmt.query(params![key, through])?;
        while let Some(r) = later.next()? {
            let bytes = r
                .get_ref(0)?
                .as_blob()
                .map_err(|e| Error::damaged(*id, e))?;
            state.extend_from_slice(bytes);
        }
    }
    Ok(Some(Current {
        state,
        chunks,
        scope_id,
    }))
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

/// A record's row of `documents`, as an [`Update`] leaves it.
#[derive(Debug)]
pub struct Row<'a> {
    id: DocId,
    scope_id: i64,
    kind: &'static str,
    /// The new save, when the run of chunks is compacted into one.
    save: Option<Vec<u8>>,
    chunks: i64,
    record: Cow<'a, str>,
    withdrawn: Option<String>,
    seq: i64,
}

impl<'a> Row<'a> {
    /// The row of record `id` after update `u`. The changes just stored in
    /// `changes` are not written again: the stored save or run is left as
    /// it is (an empty one for a new record), and replaced only when the
    /// run grows long enough to compact.
    pub fn of(id: &DocId, u: &Update<'a>) -> Result<Row<'a>, Error> {
        let (save, chunks) = if will_compact(u.current, u.n_new) {
            let doc = u
                .doc
                .ok_or_else(|| Error::damaged(*id, "compacting a document never built"))?;
            (Some(doc.save()), 1)
        } else {
            (None, u.current.map_or(0, |c| c.chunks) + u.n_new)
        };
        let corrupt = |e: serde_json::Error| Error::damaged(*id, e);
        let record = match u.record_json {
            Some(json) => Cow::Borrowed(json),
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
        Ok(Row {
            id: *id,
            scope_id: u.scope_id,
            kind: u.stored.record.kind().code(),
            save,
            chunks,
            record,
            withdrawn,
            seq: u.seq,
        })
    }
}

/// Writes a record's document and its JSON (its typed rows follow, see
/// `rows::catch_up`).
pub fn put(tx: &Transaction<'_>, row: &Row<'_>) -> Result<(), Error> {
    // A save holds every change through this one; a run left as it is
    // holds those through the last save, or (NULL, from before the run
    // stopped being rewritten) every change through its last update.
    tx.prepare_cached(
        "INSERT INTO documents (doc_id, scope_id, kind, state, chunks, record, created_seq,
                                updated_seq, withdrawn, saved_through)
         VALUES (?1, ?2, ?3, coalesce(?4, x''), ?5, ?6, ?7, ?7, ?8, CASE WHEN ?4 IS NULL THEN 0 ELSE ?7 END)
         ON CONFLICT (doc_id) DO UPDATE SET state = coalesce(?4, state), chunks = ?5, record = ?6,
             updated_seq = ?7, withdrawn = ?8,
             saved_through = CASE WHEN ?4 IS NULL THEN coalesce(saved_through, updated_seq) ELSE ?7 END",
    )?
    .execute(params![
        &row.id.as_bytes()[..],
        row.scope_id,
        row.kind,
        row.save,
        row.chunks,
        row.record,
        row.seq,
        row.withdrawn
    ])?;
    Ok(())
}

/// [`put`] for records the server had none of before (see [`existing`]),
/// many rows to a statement.
pub fn put_new(tx: &Transaction<'_>, rows: &[Row<'_>]) -> Result<(), Error> {
    for run in runs::of(rows) {
        let sql = format!(
            "INSERT OR FAIL INTO documents (doc_id, scope_id, kind, state, chunks, record, created_seq,
                                    updated_seq, withdrawn, saved_through) VALUES {}",
            runs::values(run.len(), 10)
        );
        let values: Vec<(Vec<u8>, i64)> = run
            .iter()
            .map(|r| {
                let state = r.save.clone().unwrap_or_default();
                (state, if r.save.is_some() { r.seq } else { 0 })
            })
            .collect();
        let mut params: Vec<&dyn ToSql> = Vec::with_capacity(run.len() * 10);
        for (r, (state, saved_through)) in run.iter().zip(&values) {
            params.extend([
                r.id.as_bytes() as &dyn ToSql,
                &r.scope_id,
                &r.kind,
                state,
                &r.chunks,
                &r.record,
                &r.seq,
                &r.seq,
                &r.withdrawn,
                saved_through,
            ]);
        }
        tx.prepare_cached(&sql)?.execute(&params[..])?;
    }
    Ok(())
}

/// Which of `ids` the server has a record of, each looked up by its key
/// with one kept statement (cheaper than lists of keys, which SQLite sorts
/// into a table of their own first).
pub fn existing(tx: &Transaction<'_>, ids: &[DocId]) -> Result<FxHashSet<DocId>, Error> {
    let mut found = FxHashSet::default();
    let mut stmt = tx.prepare_cached("SELECT 1 FROM documents WHERE doc_id = ?1")?;
    for id in ids {
        if stmt.exists([&id.as_bytes()[..]])? {
            found.insert(*id);
        }
    }
    Ok(found)
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
