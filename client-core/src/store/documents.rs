//! Record documents as stored, and the index of every change by hash.

use automerge::{Automerge, ChangeHash};
use massline_model::runs;
use rusqlite::types::ToSql;
use rusqlite::{OptionalExtension, Transaction, params};
use rustc_hash::FxHashSet;
use serde_json::Value;

use crate::access::Scope;
use crate::doc_json;
use crate::error::{Because, Error};
use crate::ids::DocId;
use crate::record_doc;
use crate::records::{Record, RecordKind, Withdrawal};
use crate::store::outbox;
use crate::stored_doc;

/// A document's stored form.
#[derive(Clone, Debug)]
pub struct StoredDoc {
    /// Its id.
    pub id: DocId,
    /// A run of Automerge chunks that loads as the document.
    pub state: Vec<u8>,
    /// How many chunks the run holds.
    pub chunks: i64,
}

/// A record as listed: its id, scope, kind, and current state.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordRow {
    /// The record's id.
    pub id: DocId,
    /// The scope its document is bound to (`None` if the document names
    /// none that reads: see `problem`).
    pub scope: Option<Scope>,
    /// Its kind (`None` if the document names none this version knows: see
    /// `problem`).
    pub kind: Option<RecordKind>,
    /// The record, or `None` if the document does not read as a valid record.
    pub record: Option<Record>,
    /// Why the document does not read as a record.
    pub problem: Option<String>,
    /// Who withdrew the record, when and why, if it was withdrawn.
    pub withdrawn: Option<Withdrawal>,
    /// When it last changed on this device (unix seconds).
    pub updated_at: i64,
}

/// The stored form of a document, if the device has it.
pub fn stored(tx: &Transaction<'_>, id: &DocId) -> Result<Option<StoredDoc>, Error> {
    Ok(tx
        .prepare_cached("SELECT state, chunks FROM documents WHERE doc_id = ?1")?
        .query_row(params![&id.as_bytes()[..]], |r| {
            Ok(StoredDoc {
                id: *id,
                state: r.get(0)?,
                chunks: r.get(1)?,
            })
        })
        .optional()?)
}

impl StoredDoc {
    /// The stored run of chunks.
    pub fn run(&self) -> stored_doc::Run<'_> {
        stored_doc::Run {
            state: &self.state,
            chunks: self.chunks,
        }
    }
}

/// Loads a stored document.
pub fn load(stored: &StoredDoc) -> Result<Automerge, Error> {
    stored_doc::load(&stored.state).map_err(|e| {
        Error::Storage(Because::of(
            format!("record {} does not load", stored.id),
            e,
        ))
    })
}

/// Writes a document after changes were applied to it. `previous` is its
/// stored form before (none for a new document); `new_chunks` are the chunks
/// just applied, concatenated, `n_new` of them.
pub fn put(
    tx: &Transaction<'_>,
    id: &DocId,
    doc: &Automerge,
    previous: Option<&StoredDoc>,
    new_chunks: &[u8],
    n_new: i64,
    now: i64,
) -> Result<(), Error> {
    let written = Written {
        row: Row::of(doc_json::read_root(doc)),
        previous,
        new_chunks,
        n_new,
    };
    put_row(tx, id, written, now, || Ok(doc.save()))
}

/// A record's row as written beside its document: what its root reads as.
/// Made apart from the database, so it can be made ahead, on any thread.
#[derive(Clone, Debug)]
pub struct Row {
    scope: String,
    kind: String,
    /// The record as JSON, or `None` with `problem` saying why the root does
    /// not read as one.
    record: Option<String>,
    problem: Option<String>,
    withdrawn: Option<String>,
}

impl Row {
    /// The row of a document whose root is `root`.
    pub fn of(root: serde_json::Map<String, Value>) -> Row {
        let field = |k: &str| match root.get(k) {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let (scope, kind) = (field("scope"), field("kind"));
        let (record, problem, withdrawn) = match record_doc::parse_root(root) {
            Ok(r) => (
                serde_json::to_string(&r.record).ok(),
                None,
                r.withdrawn.and_then(|w| serde_json::to_string(&w).ok()),
            ),
            Err(e) => (None, Some(e.to_string()), None),
        };
        Row {
            scope,
            kind,
            record,
            problem,
            withdrawn,
        }
    }
}

/// A document's new state, as its row and the chunks that made it.
#[derive(Debug)]
pub struct Written<'a> {
    /// What the document's root reads as.
    pub row: Row,
    /// Its stored form before, if any.
    pub previous: Option<&'a StoredDoc>,
    /// The chunks just applied, concatenated.
    pub new_chunks: &'a [u8],
    /// How many chunks that is.
    pub n_new: i64,
}

/// Whether writing `n_new` more chunks compacts the document into one save.
pub fn will_compact(previous: Option<&StoredDoc>, n_new: i64) -> bool {
    stored_doc::will_compact(previous.map(StoredDoc::run), n_new)
}

/// A document's new state, ready to be written ([`put_rows`]).
#[derive(Debug)]
pub struct NewState {
    id: DocId,
    state: Vec<u8>,
    chunks: i64,
    row: Row,
    now: i64,
}

impl NewState {
    /// The state `w` leaves document `id` in at `now`. `save` makes the
    /// compacted document when the run of chunks grows too long; it is not
    /// called otherwise.
    pub fn of(
        id: &DocId,
        w: Written<'_>,
        now: i64,
        save: impl FnOnce() -> Result<Vec<u8>, Error>,
    ) -> Result<NewState, Error> {
        let (state, chunks) =
            stored_doc::next_run(w.previous.map(StoredDoc::run), w.new_chunks, w.n_new, save)?;
        Ok(NewState {
            id: *id,
            state,
            chunks,
            row: w.row,
            now,
        })
    }

    /// The bytes of its stored form.
    pub fn state_bytes(&self) -> usize {
        self.state.len()
    }
}

/// Writes a document's new state. `save` makes the compacted document when
/// the run of chunks grows too long; it is not called otherwise.
pub fn put_row(
    tx: &Transaction<'_>,
    id: &DocId,
    w: Written<'_>,
    now: i64,
    save: impl FnOnce() -> Result<Vec<u8>, Error>,
) -> Result<(), Error> {
    put_rows(tx, &[NewState::of(id, w, now, save)?])
}

/// Writes documents' new states, many to a statement ([`runs`]).
pub fn put_rows(tx: &Transaction<'_>, states: &[NewState]) -> Result<(), Error> {
    for run in runs::of(states) {
        let sql = format!(
            "INSERT INTO documents (doc_id, scope, kind, state, chunks, record, problem,
                                    updated_at, withdrawn)
             VALUES {}
             ON CONFLICT (doc_id) DO UPDATE SET scope = excluded.scope, kind = excluded.kind,
                 state = excluded.state, chunks = excluded.chunks, record = excluded.record,
                 problem = excluded.problem, updated_at = excluded.updated_at,
                 withdrawn = excluded.withdrawn",
            runs::values(run.len(), 9)
        );
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(run.len() * 9);
        for n in run {
            values.extend([
                n.id.as_bytes() as &dyn ToSql,
                &n.row.scope,
                &n.row.kind,
                &n.state,
                &n.chunks,
                &n.row.record,
                &n.row.problem,
                &n.now,
                &n.row.withdrawn,
            ]);
        }
        tx.prepare_cached(&sql)?.execute(&values[..])?;
    }
    Ok(())
}

/// Which of `ids` the device holds a document of, each looked up by its
/// key with one kept statement (cheaper than lists of keys, which SQLite
/// sorts into a table of their own first).
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

/// Notes that the device holds change `hash`, of document `doc`.
pub fn index_change(tx: &Transaction<'_>, hash: &ChangeHash, doc: &DocId) -> Result<(), Error> {
    index_changes(tx, &[(*hash, *doc)])
}

/// [`index_change`] of many changes, many to a statement ([`runs`]).
pub fn index_changes(tx: &Transaction<'_>, changes: &[(ChangeHash, DocId)]) -> Result<(), Error> {
    for run in runs::of(changes) {
        let sql = format!(
            "INSERT OR IGNORE INTO changes (hash, doc_id) VALUES {}",
            runs::values(run.len(), 2)
        );
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(run.len() * 2);
        for (hash, doc) in run {
            values.extend([&hash.0 as &dyn ToSql, doc.as_bytes()]);
        }
        tx.prepare_cached(&sql)?.execute(&values[..])?;
    }
    Ok(())
}

/// The document holding change `hash`, if the device has that change.
pub fn doc_of_change(tx: &Transaction<'_>, hash: &ChangeHash) -> Result<Option<DocId>, Error> {
    let bytes: Option<Vec<u8>> = tx
        .prepare_cached("SELECT doc_id FROM changes WHERE hash = ?1")?
        .query_row(params![&hash.0[..]], |r| r.get(0))
        .optional()?;
    Ok(bytes.and_then(|b| DocId::from_slice(&b)))
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
    let id: Vec<u8> = r.get(0)?;
    let record: Option<String> = r.get(3)?;
    Ok(RecordRow {
        id: DocId::from_slice(&id).ok_or(rusqlite::Error::InvalidColumnType(
            0,
            "doc_id".into(),
            rusqlite::types::Type::Blob,
        ))?,
        scope: Scope::parse(&r.get::<_, String>(1)?).ok(),
        kind: r.get::<_, String>(2)?.parse().ok(),
        record: record.and_then(|s| serde_json::from_str(&s).ok()),
        problem: r.get(4)?,
        updated_at: r.get(5)?,
        withdrawn: r
            .get::<_, Option<String>>(6)?
            .and_then(|s| serde_json::from_str(&s).ok()),
    })
}

const ROW: &str =
    "SELECT doc_id, scope, kind, record, problem, updated_at, withdrawn FROM documents";

/// Records of one kind (or all), most recently changed first; withdrawn ones
/// only if asked for.
pub fn list(
    tx: &Transaction<'_>,
    kind: Option<RecordKind>,
    with_withdrawn: bool,
) -> Result<Vec<RecordRow>, Error> {
    let mut stmt = tx.prepare_cached(&format!(
        "{ROW} WHERE (?1 IS NULL OR kind = ?1) AND (?2 OR withdrawn IS NULL)
         ORDER BY updated_at DESC, doc_id"
    ))?;
    let rows = stmt.query_map(params![kind.map(|k| k.code()), with_withdrawn], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One record by id.
pub fn get(tx: &Transaction<'_>, id: &DocId) -> Result<Option<RecordRow>, Error> {
    Ok(tx
        .prepare_cached(&format!("{ROW} WHERE doc_id = ?1"))?
        .query_row(params![&id.as_bytes()[..]], row)
        .optional()?)
}

/// Ids of records whose hex id starts with `prefix`.
pub fn ids_with_prefix(tx: &Transaction<'_>, prefix: &str) -> Result<Vec<DocId>, Error> {
    let prefix = prefix.to_ascii_lowercase();
    if prefix.is_empty() || prefix.len() > 32 || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(Vec::new());
    }
    let mut stmt = tx.prepare_cached("SELECT doc_id FROM documents WHERE hex(doc_id) LIKE ?1")?;
    let rows = stmt.query_map(params![format!("{}%", prefix.to_ascii_uppercase())], |r| {
        r.get::<_, Vec<u8>>(0)
    })?;
    let mut out = Vec::new();
    for r in rows {
        if let Some(id) = DocId::from_slice(&r?) {
            out.push(id);
        }
    }
    Ok(out)
}

/// The id of every record the device holds.
pub fn ids(tx: &Transaction<'_>) -> Result<Vec<DocId>, Error> {
    let mut stmt = tx.prepare_cached("SELECT doc_id FROM documents ORDER BY doc_id")?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for r in rows {
        if let Some(id) = DocId::from_slice(&r?) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Removes the records of `scope`, which the person may no longer read, and
/// the index of their changes: what they may no longer read leaves the
/// phone. A record with changes in the outbox the server has not answered
/// (or refused) stays: nothing the person made is lost; it goes to the
/// server, which refuses it if they may no longer write there, and the
/// refusal stays for them to see.
pub fn forget_scope(tx: &Transaction<'_>, scope: &str) -> Result<u64, Error> {
    let waiting = format!("SELECT doc_id FROM outbox WHERE {}", outbox::WAITING);
    tx.execute(
        &format!(
            "DELETE FROM changes WHERE doc_id IN (SELECT doc_id FROM documents
               WHERE scope = ?1 AND doc_id NOT IN ({waiting}))"
        ),
        params![scope],
    )?;
    let gone = tx.execute(
        &format!("DELETE FROM documents WHERE scope = ?1 AND doc_id NOT IN ({waiting})"),
        params![scope],
    )?;
    Ok(gone as u64)
}

/// Deletes a record the township purged for good, with the index of its
/// changes and its changes still in the outbox (the server would refuse
/// them for ever), if the device holds it in a scope it reads (one with a
/// cursor): a server can make a device delete nothing else. Returns whether
/// it was there.
pub fn purge(tx: &Transaction<'_>, id: &DocId) -> Result<bool, Error> {
    let key = &id.as_bytes()[..];
    let gone = tx
        .prepare_cached(
            "DELETE FROM documents WHERE doc_id = ?1 AND scope IN (SELECT scope FROM cursors)",
        )?
        .execute(params![key])?;
    if gone == 0 {
        return Ok(false);
    }
    tx.prepare_cached("DELETE FROM changes WHERE doc_id = ?1")?
        .execute(params![key])?;
    tx.prepare_cached("DELETE FROM outbox WHERE doc_id = ?1")?
        .execute(params![key])?;
    Ok(true)
}

/// How many records the device holds.
pub fn count(tx: &Transaction<'_>) -> Result<u64, Error> {
    Ok(tx.query_row("SELECT count(*) FROM documents", [], |r| r.get::<_, i64>(0))? as u64)
}
