//! Taking in pushed changes: each one checked, the good ones stored and
//! numbered, the bad ones refused with a reason, all of one message in one
//! durable transaction.
//!
//! A change is accepted only if it keeps within `massline_model::change_limits`
//! (checked on its bytes before Automerge reads it), was written by the
//! sending device's actor and names the device's person as its author,
//! depends only on changes the server has, belongs to one record in a scope
//! the device's person may write (checked before anything else about the
//! record, so no refusal tells of a scope the device may not write), leaves
//! the record holding nothing but its fields in their own form
//! (`record_doc::parse_written`), and passes the record rules of
//! `massline_model::records::rules`: the record valid once merged, the author's
//! own edit theirs to make, the people and records it names in the village.
//!
//! A message with more than [`MAX_REFUSALS_PER_MESSAGE`] bad changes is
//! refused as a whole, with one reason, and nothing of it is stored.

use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};

use automerge::{Automerge, Change, ChangeHash};
use massline_model::change_limits::{self, OpIndex};
use massline_model::first_change;
use massline_model::packing::Entry;
use massline_model::protocol::{PushAck, Refusal, RefusalCode};
use massline_model::record_doc::{self, StoredRecord};
use massline_model::records::rules::{self, Broken};
use massline_model::{DocId, PersonId, Scope};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::context::ServerContext;
use crate::db::Db;
use crate::documents::{self, Current};
use crate::error::Error;
use crate::registry::{self, Device};

/// A document being changed within one message.
struct Working {
    current: Option<Current>,
    /// The document, built on first need: a new record read straight from its
    /// first change has none until another change of it arrives.
    doc: Option<Automerge>,
    scope: Option<Scope>,
    scope_id: i64,
    record: Option<StoredRecord>,
    /// Who created the record, as its first change names them.
    creator: Option<PersonId>,
    chunks: Vec<u8>,
    n_new: i64,
    last_seq: i64,
    /// The operations of the record's accepted changes, built on first need,
    /// to check a change against before Automerge applies it.
    index: Option<OpIndex>,
}

impl Working {
    /// Drops the document and the index built from it: a refused change may
    /// be in them; both are rebuilt from what was accepted when next needed.
    fn forget(&mut self) {
        self.doc = None;
        self.index = None;
    }

    /// The operations of every change of the record accepted so far, from the
    /// changes table (which holds this message's accepted changes too).
    fn index(&mut self, tx: &Transaction<'_>, id: &DocId) -> Result<&mut OpIndex, Error> {
        if self.index.is_none() {
            let mut index = OpIndex::default();
            let mut stmt =
                tx.prepare_cached("SELECT bytes FROM changes WHERE doc_id = ?1 ORDER BY seq")?;
            let mut rows = stmt.query(params![&id.as_bytes()[..]])?;
            while let Some(row) = rows.next()? {
                let bytes = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
                let change = Change::try_from(bytes)
                    .map_err(|e| Error::Corrupt(id.to_hex(), e.to_string()))?;
                index.add(&change.decode());
            }
            self.index = Some(index);
        }
        self.index
            .as_mut()
            .ok_or_else(|| Error::Corrupt(id.to_hex(), "index not built".into()))
    }

    /// The document as stored plus the changes taken in this message.
    fn doc(&mut self, id: &DocId) -> Result<&mut Automerge, Error> {
        if self.doc.is_none() {
            let mut doc = match &self.current {
                Some(c) => documents::load(id, &c.state)?,
                None => Automerge::new(),
            };
            doc.load_incremental(&self.chunks)
                .map_err(|e| Error::Corrupt(id.to_hex(), e.to_string()))?;
            self.doc = Some(doc);
        }
        self.doc
            .as_mut()
            .ok_or_else(|| Error::Corrupt(id.to_hex(), "document not built".into()))
    }
}

/// Most refusals one push message may earn; past this the message is refused
/// as a whole, with one reason, and nothing of it is stored. An honest device
/// gets a refusal for a change only where its phone and the server judge
/// differently (a person it could not look up, a scope taken away): a few,
/// not a thousand in one message.
pub const MAX_REFUSALS_PER_MESSAGE: usize = 1000;

/// Most bytes of one refusal's reason; a longer one (one quoting what a device
/// sent) is cut, so the answer to a message stays bounded.
pub const MAX_REASON_BYTES: usize = 600;

type Refuse = (RefusalCode, String);

fn refuse(code: RefusalCode, reason: impl Into<String>) -> Refuse {
    (code, reason.into())
}

/// `reason` cut to [`MAX_REASON_BYTES`], at a character boundary.
fn bounded(mut reason: String) -> String {
    if reason.len() > MAX_REASON_BYTES {
        let mut end = MAX_REASON_BYTES - '…'.len_utf8();
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason.push('…');
    }
    reason
}

struct Batch<'a> {
    tx: &'a Transaction<'a>,
    device: &'a Device,
    now: i64,
    work: FxHashMap<DocId, Working>,
    order: Vec<DocId>,
    docs_of: FxHashMap<ChangeHash, DocId>,
    refused: FxHashSet<ChangeHash>,
    /// Scopes already found to exist in this message, and their numbers.
    scopes: std::cell::RefCell<HashMap<Scope, i64>>,
    /// People already looked up in this message.
    people: std::cell::RefCell<HashMap<PersonId, Option<massline_model::VillageCode>>>,
}

/// The record a plain first change makes, read without Automerge.
#[derive(Debug)]
pub struct FirstRead {
    /// The scope its root names, as written.
    scope: Option<String>,
    /// The record, or why its root is not one.
    read: Result<StoredRecord, massline_model::ValidationError>,
}

impl FirstRead {
    fn of(root: serde_json::Map<String, serde_json::Value>) -> Self {
        FirstRead {
            scope: scope_named(&root),
            read: record_doc::parse_written(root),
        }
    }
}

/// The scope a record's root names, as written.
fn scope_named(root: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    root.get("scope")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

/// A change without dependencies: the record it makes when it is the plain
/// first change of a record, read straight from its operations (which
/// checks them as it goes); otherwise it must name nothing made before it.
fn first_of(c: change_limits::Checked) -> (Result<Change, String>, Option<FirstRead>) {
    if let Some(root) = first_change::root_of_expanded(c.expanded) {
        return (Ok(c.change), Some(FirstRead::of(root)));
    }
    match OpIndex::default().check(&c.change.decode()) {
        Ok(()) => (Ok(c.change), None),
        Err(e) => (Err(e.to_string()), None),
    }
}

/// One pushed entry, with the work that needs no database done ahead.
// Nearly every entry is a change; boxing it would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Prepared {
    /// A change: its bytes, parsed, and, for a first change, the record it makes.
    Change {
        /// Its hash.
        hash: ChangeHash,
        /// Its bytes.
        bytes: Vec<u8>,
        /// The parsed change, or why it is refused unread.
        parsed: Result<Change, String>,
        /// For a change without dependencies: the record it makes when it is
        /// the plain first change of a new record.
        first: Option<FirstRead>,
    },
    /// A whole document, which a push may not carry.
    Document(DocId),
}

/// Checks a message's entries against the change limits, parses them and
/// reads first changes, touching no database: this runs for one message
/// while the one before it is taken in.
pub fn prepare(entries: Vec<Entry>) -> Vec<Prepared> {
    let mut budget = change_limits::MAX_OPS_PER_MESSAGE;
    entries
        .into_iter()
        .map(|e| match e {
            Entry::Change { hash, bytes } => {
                let (parsed, first) = match change_limits::parse_within(&bytes, &mut budget) {
                    Err(e) => (Err(e.to_string()), None),
                    Ok(c) if c.change.hash() != hash => {
                        (Err("its hash is not that of its bytes".to_string()), None)
                    }
                    Ok(c) if !c.change.deps().is_empty() => (Ok(c.change), None),
                    Ok(c) => first_of(c),
                };
                Prepared::Change {
                    hash,
                    bytes,
                    parsed,
                    first,
                }
            }
            Entry::Document { doc, .. } => Prepared::Document(doc),
        })
        .collect()
}

/// Checks and stores the changes of one push message; answers once they are
/// durable. A device revoked meanwhile gets [`Error::Revoked`] and nothing is stored.
pub fn ingest(db: &Db, device: &Device, entries: Vec<Entry>, now: i64) -> Result<PushAck, Error> {
    ingest_prepared(db, device, prepare(entries), now)
}

/// [`ingest`] for entries already [`prepare`]d.
pub fn ingest_prepared(
    db: &Db,
    device: &Device,
    entries: Vec<Prepared>,
    now: i64,
) -> Result<PushAck, Error> {
    db.write(|tx| {
        // In the transaction that stores the message: a revocation commits
        // either before it (and nothing of the message is stored) or after.
        if !registry::enrolled(tx, device.id)? {
            return Err(Error::Revoked(device.id));
        }
        let mut batch = Batch {
            tx,
            device,
            now,
            work: FxHashMap::default(),
            order: Vec::new(),
            docs_of: FxHashMap::default(),
            refused: FxHashSet::default(),
            scopes: Default::default(),
            people: Default::default(),
        };
        let mut ack = PushAck::default();
        let mut entries: Vec<Option<Prepared>> = entries.into_iter().map(Some).collect();
        for index in 0..entries.len() {
            let (done, rest) = entries.split_at_mut(index + 1);
            let Some(entry) = done[index].take() else {
                continue;
            };
            let outcome = match entry {
                Prepared::Change {
                    hash,
                    bytes,
                    parsed,
                    first,
                } => batch
                    .take(hash, bytes, parsed, first, rest)
                    .map_err(|r| (hash, r)),
                Prepared::Document(doc) => Err((
                    ChangeHash([0; 32]),
                    refuse(
                        RefusalCode::Malformed,
                        format!("record {doc}: a push carries changes, not whole records"),
                    ),
                )),
            };
            match outcome {
                Ok(()) => ack.accepted += 1,
                Err((hash, (code, reason))) => {
                    if ack.refused.len() == MAX_REFUSALS_PER_MESSAGE {
                        // Returning an error rolls back the whole message.
                        return Err(Error::MessageRefused(format!(
                            "more than {MAX_REFUSALS_PER_MESSAGE} of its changes are refused \
                             (change {index}: {})",
                            bounded(reason)
                        )));
                    }
                    batch.refused.insert(hash);
                    ack.refused.push(Refusal {
                        index: index as u32,
                        code,
                        reason: bounded(reason),
                    });
                }
            }
        }
        batch.finish()?;
        registry::seen(tx, device.id)?;
        Ok(ack)
    })
}

/// The changes later in the message that continue a chain from `from`, each
/// building only on the one before it, written by `actor`, and naming only
/// what the record has (checked against `index`, which takes each in).
fn chain_after(
    from: ChangeHash,
    actor: &[u8],
    rest: &[Option<Prepared>],
    index: &mut OpIndex,
) -> Vec<Change> {
    const MOST: usize = 64;
    let mut last = from;
    let mut out = Vec::new();
    for entry in rest {
        if let Some(Prepared::Change {
            hash,
            parsed: Ok(c),
            ..
        }) = entry
            && c.deps() == [last]
            && c.actor_id().to_bytes() == actor
        {
            let ops = c.decode();
            if index.check(&ops).is_err() {
                break;
            }
            index.add(&ops);
            out.push(c.clone());
            last = *hash;
            if out.len() == MOST {
                break;
            }
        }
    }
    out
}

impl Batch<'_> {
    fn known(&self, hash: &ChangeHash) -> Result<Option<DocId>, Error> {
        if let Some(d) = self.docs_of.get(hash) {
            return Ok(Some(*d));
        }
        let doc: Option<Vec<u8>> = self
            .tx
            .prepare_cached("SELECT doc_id FROM changes WHERE hash = ?1")?
            .query_row(params![&hash.0[..]], |r| r.get(0))
            .optional()?;
        Ok(doc.and_then(|d| DocId::from_slice(&d)))
    }

    /// Checks one change and, if it is good, stores it. `Err` is a refusal;
    /// storage failures abort the whole message.
    fn take(
        &mut self,
        hash: ChangeHash,
        bytes: Vec<u8>,
        parsed: Result<Change, String>,
        first: Option<FirstRead>,
        rest: &[Option<Prepared>],
    ) -> Result<(), Refuse> {
        let taken = self.take_change(hash, bytes, parsed, first, rest);
        if taken.is_err() {
            // A refused change may have been applied ahead as part of a chain:
            // its record's document is rebuilt from what was accepted.
            for w in self.work.values_mut() {
                if w.doc
                    .as_ref()
                    .is_some_and(|d| d.get_change_meta_by_hash(&hash).is_some())
                {
                    w.forget();
                }
            }
        }
        taken
    }

    fn take_change(
        &mut self,
        hash: ChangeHash,
        bytes: Vec<u8>,
        parsed: Result<Change, String>,
        first: Option<FirstRead>,
        rest: &[Option<Prepared>],
    ) -> Result<(), Refuse> {
        let storage = |e: Error| {
            refuse(
                RefusalCode::Malformed,
                format!("server storage failed: {e}"),
            )
        };
        // Already stored (a resend after a lost answer)? A first change is
        // stored exactly when its record is.
        let first_of = match &parsed {
            Ok(c) if c.deps().is_empty() => Some(DocId::of_first_change(&hash)),
            _ => None,
        };
        let stored = match first_of {
            Some(id) => match self.work.get(&id) {
                Some(w) => w.n_new > 0,
                None => documents::exists(self.tx, &id).map_err(storage)?,
            },
            None => self.known(&hash).map_err(storage)?.is_some(),
        };
        if stored {
            return Ok(());
        }
        let change = parsed.map_err(|e| {
            refuse(
                RefusalCode::Malformed,
                format!("change {hash} is refused unread: {e}"),
            )
        })?;
        if change.actor_id().to_bytes() != self.device.actor.as_slice() {
            return Err(refuse(
                RefusalCode::WrongActor,
                format!(
                    "change {hash} was written by actor {}, not by this device",
                    change.actor_id()
                ),
            ));
        }
        let me = &self.device.principal.person;
        let author = match record_doc::author_of(&change) {
            Some(Ok(p)) if p != *me => {
                return Err(refuse(
                    RefusalCode::WrongActor,
                    format!("change {hash} names {p} as its author, but this device is {me}'s"),
                ));
            }
            Some(Err(e)) => {
                return Err(refuse(
                    RefusalCode::Malformed,
                    format!("change {hash}: {e}"),
                ));
            }
            Some(Ok(p)) if change.message() == Some(record_doc::message_of(&p).as_str()) => Some(p),
            Some(Ok(_)) => {
                return Err(refuse(
                    RefusalCode::Malformed,
                    format!(
                        "change {hash}: its message holds more than its author (`{}`)",
                        record_doc::message_of(me)
                    ),
                ));
            }
            None => {
                return Err(refuse(
                    RefusalCode::Malformed,
                    format!(
                        "change {hash} names no author: every change's message names its \
                         author's person (`{}`)",
                        record_doc::message_of(me)
                    ),
                ));
            }
        };
        let deps = change.deps().to_vec();
        let id = self.doc_for(&hash, change.deps())?;
        if !self.work.contains_key(&id) {
            let w = self.open(id, change.deps().is_empty()).map_err(storage)?;
            self.work.insert(id, w);
            self.order.push(id);
        }
        let Some(w) = self.work.get_mut(&id) else {
            return Err(refuse(RefusalCode::Malformed, "record vanished"));
        };
        // A new record's first change is read straight from its operations;
        // anything else goes through Automerge.
        let first = match (w.record.is_none() && w.n_new == 0, deps.is_empty()) {
            (true, true) => first,
            _ => None,
        };
        // Permission first: a device learns nothing of a record, or of the
        // fields of one, in a scope it may not write.
        let fixed = w.scope.as_ref().map(ToString::to_string);
        if let Some(named) = fixed
            .as_deref()
            .or(first.as_ref().and_then(|f| f.scope.as_deref()))
        {
            self.may_write(&id, named)?;
        }
        let Some(w) = self.work.get_mut(&id) else {
            return Err(refuse(RefusalCode::Malformed, "record vanished"));
        };
        let invalid = |v: &dyn std::fmt::Display| {
            refuse(RefusalCode::InvalidRecord, format!("record {id}: {v}"))
        };
        let (after, seen, made, created_by) = match first {
            Some(read) => {
                let after = read.read.map_err(|v| invalid(&v))?;
                (after.clone(), None, after, author)
            }
            None => {
                // Applied in place; a refused change drops the document, which
                // is rebuilt from what was accepted when next needed.
                let (before, creator) = (w.record.clone(), w.creator.clone());
                let actor = &self.device.actor;
                let doc = w.doc(&id).map_err(storage)?;
                // A change already in the document was applied ahead, with the
                // one it builds on, as part of a chain (below).
                let ahead = doc.get_change_meta_by_hash(&hash).is_some();
                let mut heads = if ahead { deps.clone() } else { doc.get_heads() };
                heads.sort();
                let mut seen_heads = deps.clone();
                seen_heads.sort();
                let linear = heads == seen_heads;
                let applied = if ahead {
                    Ok(())
                } else {
                    // Automerge trusts what it applies to name only what the
                    // record has: checked first (a chain's changes too).
                    let index = w.index(self.tx, &id).map_err(storage)?;
                    let ops = change.decode();
                    index.check(&ops).map_err(|e| {
                        refuse(
                            RefusalCode::Malformed,
                            format!("record {id}: change {hash}: {e}"),
                        )
                    })?;
                    index.add(&ops);
                    // Applying one change costs nearly as much as applying
                    // several: take the rest of this record's chain from the
                    // message (each change building only on the one before) in
                    // the same call. Each is still judged on its own below.
                    let chain = if linear {
                        chain_after(hash, actor, rest, index)
                    } else {
                        Vec::new()
                    };
                    let doc = w.doc(&id).map_err(storage)?;
                    doc.apply_changes(std::iter::once(change).chain(chain))
                        .map(|_| ())
                };
                let doc = w.doc(&id).map_err(storage)?;
                let judged = applied
                    .map_err(|e| {
                        refuse(
                            RefusalCode::Malformed,
                            format!("record {id}: change does not apply: {e}"),
                        )
                    })
                    .and_then(|()| {
                        if doc.get_change_meta_by_hash(&hash).is_none() {
                            return Err(refuse(
                                RefusalCode::MissingDependency,
                                format!(
                                    "record {id}: change {hash} depends on changes the server does not have"
                                ),
                            ));
                        }
                        // The edit as its author made it: from the record they
                        // saw (the change's dependencies) to the record they
                        // left (with the change).
                        let made_root = if linear && doc.get_heads() == [hash] {
                            massline_model::doc_json::read_root(doc)
                        } else {
                            record_doc::root_at(doc, &[hash])
                        };
                        Ok((made_root, linear))
                    });
                let (made_root, linear) = match judged {
                    Ok(j) => j,
                    Err(r) => {
                        w.forget();
                        return Err(r);
                    }
                };
                // A new record not read straight from its first change: its
                // scope is known only now, and is checked before its fields.
                if fixed.is_none() {
                    let named = scope_named(&made_root).unwrap_or_default();
                    if let Err(r) = self.may_write(&id, &named) {
                        if let Some(w) = self.work.get_mut(&id) {
                            w.forget();
                        }
                        return Err(r);
                    }
                }
                let Some(w) = self.work.get_mut(&id) else {
                    return Err(refuse(RefusalCode::Malformed, "record vanished"));
                };
                let read = |w: &mut Working| -> Result<_, Refuse> {
                    let made = record_doc::parse_written(made_root).map_err(|v| invalid(&v))?;
                    if linear {
                        return Ok((made.clone(), before, made, creator));
                    }
                    let doc = w.doc(&id).map_err(storage)?;
                    let after = record_doc::read(doc).map_err(|v| invalid(&v))?;
                    let seen = record_doc::read_at(doc, &deps).map_err(|v| invalid(&v))?;
                    Ok((after, seen, made, creator))
                };
                match read(w) {
                    Ok(j) => j,
                    Err(r) => {
                        w.forget();
                        return Err(r);
                    }
                }
            }
        };
        let Some(w) = self.work.get(&id) else {
            return Err(refuse(RefusalCode::Malformed, "record vanished"));
        };
        let principal = &self.device.principal;
        let pending = |d: &DocId| self.work.get(d).and_then(|w| w.record.clone());
        let ctx = ServerContext {
            tx: self.tx,
            pending: &pending,
            people: &self.people,
        };
        let judged = rules::Change {
            id,
            seen: seen.as_ref(),
            made: &made,
            merged: &after,
            by: principal,
            created_by: created_by.as_ref(),
        };
        let checked = self
            .check_scope(&id, w, &after.scope)
            .and_then(|(scope, scope_id)| {
                rules::check(&judged, &ctx)
                    .map(|()| (scope, scope_id))
                    .map_err(|b| match b {
                        Broken::Invalid(v) => invalid(&v),
                        Broken::NotAllowed(v) => {
                            refuse(RefusalCode::ImmutableField, format!("record {id}: {v}"))
                        }
                    })
            });
        let (scope, scope_id) = match checked {
            Ok(s) => s,
            Err(r) => {
                if let Some(w) = self.work.get_mut(&id) {
                    w.forget();
                }
                return Err(r);
            }
        };
        let seq = self
            .tx
            .prepare_cached(
                "INSERT INTO changes (hash, doc_id, scope_id, device_id, bytes, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    &hash.0[..],
                    &id.as_bytes()[..],
                    scope_id,
                    self.device.id as i64,
                    bytes,
                    self.now
                ])
            })
            .map(|_| self.tx.last_insert_rowid())
            .map_err(|e| storage(e.into()))?;
        let Some(w) = self.work.get_mut(&id) else {
            return Err(refuse(RefusalCode::Malformed, "record vanished"));
        };
        if w.creator.is_none() && w.record.is_none() {
            w.creator = created_by.clone();
        }
        w.scope = Some(scope);
        w.scope_id = scope_id;
        w.record = Some(after);
        w.chunks.extend_from_slice(&bytes);
        w.n_new += 1;
        w.last_seq = seq;
        self.docs_of.insert(hash, id);
        Ok(())
    }

    /// The record a change belongs to: its own for a first change, else that of
    /// the changes it depends on (which must all be of one record and known).
    fn doc_for(&self, hash: &ChangeHash, deps: &[ChangeHash]) -> Result<DocId, Refuse> {
        if deps.is_empty() {
            return Ok(DocId::of_first_change(hash));
        }
        let mut doc = None;
        for dep in deps {
            if self.refused.contains(dep) {
                return Err(refuse(
                    RefusalCode::DependsOnRefused,
                    format!("change {hash} builds on change {dep}, which was refused"),
                ));
            }
            let d = self
                .known(dep)
                .map_err(|e| {
                    refuse(
                        RefusalCode::Malformed,
                        format!("server storage failed: {e}"),
                    )
                })?
                .ok_or_else(|| {
                    refuse(
                        RefusalCode::MissingDependency,
                        format!(
                            "change {hash} builds on change {dep}, which the server does not have"
                        ),
                    )
                })?;
            if doc.is_some_and(|x| x != d) {
                return Err(refuse(
                    RefusalCode::Malformed,
                    format!("change {hash} builds on changes of two different records"),
                ));
            }
            doc = Some(d);
        }
        doc.ok_or_else(|| refuse(RefusalCode::Malformed, "no record"))
    }

    fn open(&self, id: DocId, first: bool) -> Result<Working, Error> {
        // A new record has nothing stored: its first change was checked for that.
        let current = if first {
            None
        } else {
            documents::current(self.tx, &id)?
        };
        let (doc, scope, record, creator) = match &current {
            Some(c) => {
                let doc = documents::load(&id, &c.state)?;
                let read = record_doc::read(&doc)
                    .map_err(|e| Error::Corrupt(id.to_hex(), e.to_string()))?;
                let creator = record_doc::created_by(&doc);
                (Some(doc), Some(read.scope.clone()), Some(read), creator)
            }
            // Built from the accepted changes when first needed.
            None => (None, None, None, None),
        };
        Ok(Working {
            creator,
            scope_id: current.as_ref().map_or(0, |c| c.scope_id),
            current,
            doc,
            scope,
            record,
            chunks: Vec::new(),
            n_new: 0,
            last_seq: 0,
            index: None,
        })
    }

    /// Whether the device's person may write the scope a record names (as
    /// written), which must exist. An unknown scope and a scope that is not
    /// theirs get the same refusal, so a refusal never tells which scopes
    /// exist.
    fn may_write(&self, id: &DocId, named: &str) -> Result<(), Refuse> {
        let who = &self.device.principal;
        let refused = || {
            refuse(
                RefusalCode::ForbiddenScope,
                format!(
                    "record {id}: {} ({}) may not write scope {named}",
                    self.device.name,
                    who.role.code()
                ),
            )
        };
        let Ok(scope) = Scope::parse(named) else {
            return Err(refused());
        };
        if !who.can_write(&scope) {
            return Err(refused());
        }
        if self.scopes.borrow().contains_key(&scope) {
            return Ok(());
        }
        let storage = |e: Error| {
            refuse(
                RefusalCode::Malformed,
                format!("server storage failed: {e}"),
            )
        };
        if !registry::scope_exists(self.tx, &scope).map_err(storage)? {
            return Err(refused());
        }
        let n = registry::scope_id(self.tx, &scope).map_err(storage)?;
        self.scopes.borrow_mut().insert(scope, n);
        Ok(())
    }

    /// The scope of the record after the change, fixed for an existing
    /// record, and its number; [`Batch::may_write`] has passed it.
    fn check_scope(&self, id: &DocId, w: &Working, scope: &Scope) -> Result<(Scope, i64), Refuse> {
        if let Some(fixed) = w.scope.as_ref() {
            if fixed != scope {
                return Err(refuse(
                    RefusalCode::ImmutableField,
                    format!("record {id}: its scope is {fixed} and cannot become {scope}"),
                ));
            }
            return Ok((scope.clone(), w.scope_id));
        }
        // A new record's scope was looked up when it was checked.
        let known = self.scopes.borrow().get(scope).copied();
        match known {
            Some(n) => Ok((scope.clone(), n)),
            None => Err(refuse(
                RefusalCode::ForbiddenScope,
                format!("record {id}: scope {scope} was not checked"),
            )),
        }
    }

    /// Writes every record that took changes.
    fn finish(mut self) -> Result<(), Error> {
        for id in &self.order {
            let Some(w) = self.work.get_mut(id) else {
                continue;
            };
            if documents::will_compact(w.current.as_ref(), w.n_new) {
                w.doc(id)?;
            }
            let Some(record) = &w.record else { continue };
            if w.n_new == 0 {
                continue;
            }
            documents::put(
                self.tx,
                id,
                &documents::Update {
                    doc: w.doc.as_ref(),
                    current: w.current.as_ref(),
                    new_chunks: &w.chunks,
                    n_new: w.n_new,
                    scope_id: w.scope_id,
                    stored: record,
                    seq: w.last_seq,
                },
            )?;
        }
        Ok(())
    }
}
