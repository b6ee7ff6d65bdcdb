//! Taking in pushed changes: each one checked, the good ones stored and
//! numbered, the bad ones refused with a reason, all of one message in one
//! durable transaction.
//!
//! A change is accepted only if it parses, was written by the sending device's
//! actor (and names the device's person as its author, if it names one),
//! depends only on changes the server has, belongs to one record in a scope
//! the device's person may write, and passes the record rules of
//! `massline_core::records::rules`: the record valid once merged, the author's
//! own edit theirs to make, the people and records it names in the village.

use std::collections::{HashMap, HashSet};

use automerge::{Automerge, Change, ChangeHash};
use massline_core::first_change;
use massline_core::packing::Entry;
use massline_core::record_doc::{self, StoredRecord};
use massline_core::records::rules::{self, Broken};
use massline_core::sync::protocol::{PushAck, Refusal, RefusalCode};
use massline_core::{DocId, PersonId, Scope};
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
}

impl Working {
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

type Refuse = (RefusalCode, String);

fn refuse(code: RefusalCode, reason: impl Into<String>) -> Refuse {
    (code, reason.into())
}

struct Batch<'a> {
    tx: &'a Transaction<'a>,
    device: &'a Device,
    now: i64,
    work: HashMap<DocId, Working>,
    order: Vec<DocId>,
    docs_of: HashMap<ChangeHash, DocId>,
    refused: HashSet<ChangeHash>,
    /// Scopes already found to exist in this message, and their numbers.
    scopes: std::cell::RefCell<HashMap<Scope, i64>>,
    /// People already looked up in this message.
    people: std::cell::RefCell<HashMap<PersonId, Option<massline_core::VillageCode>>>,
}

/// Checks and stores the changes of one push message; answers once they are durable.
pub fn ingest(db: &Db, device: &Device, entries: Vec<Entry>, now: i64) -> Result<PushAck, Error> {
    db.write(|tx| {
        let mut batch = Batch {
            tx,
            device,
            now,
            work: HashMap::new(),
            order: Vec::new(),
            docs_of: HashMap::new(),
            refused: HashSet::new(),
            scopes: Default::default(),
            people: Default::default(),
        };
        let mut ack = PushAck::default();
        for (index, entry) in entries.into_iter().enumerate() {
            let outcome = match entry {
                Entry::Change { hash, bytes } => batch.take(hash, bytes).map_err(|r| (hash, r)),
                Entry::Document { doc, .. } => Err((
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
                    batch.refused.insert(hash);
                    ack.refused.push(Refusal {
                        index: index as u32,
                        code,
                        reason,
                    });
                }
            }
        }
        batch.finish()?;
        registry::seen(tx, device.id)?;
        Ok(ack)
    })
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
    fn take(&mut self, hash: ChangeHash, bytes: Vec<u8>) -> Result<(), Refuse> {
        let storage = |e: Error| {
            refuse(
                RefusalCode::Malformed,
                format!("server storage failed: {e}"),
            )
        };
        if self.known(&hash).map_err(storage)?.is_some() {
            return Ok(()); // already stored: a resend after a lost answer
        }
        let change = Change::from_bytes(bytes.clone()).map_err(|e| {
            refuse(
                RefusalCode::Malformed,
                format!("not a readable Automerge change: {e}"),
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
            Some(Err(e)) => return Err(refuse(RefusalCode::Malformed, e)),
            Some(Ok(p)) => Some(p),
            None => None,
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
        let invalid = |v: &dyn std::fmt::Display| {
            refuse(RefusalCode::InvalidRecord, format!("record {id}: {v}"))
        };
        // A new record's first change is read straight from its operations;
        // anything else goes through Automerge.
        let first = match (w.record.is_none() && w.n_new == 0, deps.is_empty()) {
            (true, true) => first_change::root_of(&change),
            _ => None,
        };
        let (after, seen, made, created_by) = match first {
            Some(root) => {
                let after = record_doc::parse_root(root).map_err(|v| invalid(&v))?;
                (after.clone(), None, after, author)
            }
            None => {
                // Applied in place; a refused change drops the document, which
                // is rebuilt from what was accepted when next needed.
                let (before, creator) = (w.record.clone(), w.creator.clone());
                let doc = w.doc(&id).map_err(storage)?;
                let mut heads = doc.get_heads();
                let applied = doc.apply_changes([change]);
                let judged = applied
                    .map_err(|e| {
                        refuse(
                            RefusalCode::Malformed,
                            format!("record {id}: change does not apply: {e}"),
                        )
                    })
                    .and_then(|_| {
                        if doc.get_change_meta_by_hash(&hash).is_none() {
                            return Err(refuse(
                                RefusalCode::MissingDependency,
                                format!(
                                    "record {id}: change {hash} depends on changes the server does not have"
                                ),
                            ));
                        }
                        let after = record_doc::read(doc).map_err(|v| invalid(&v))?;
                        // The edit as its author made it: from the record they
                        // saw (the change's dependencies) to the record they
                        // left (with the change).
                        let mut seen_heads = deps.clone();
                        heads.sort();
                        seen_heads.sort();
                        let (seen, made) = if heads == seen_heads {
                            (before, after.clone())
                        } else {
                            let seen = record_doc::read_at(doc, &deps).map_err(|v| invalid(&v))?;
                            let made = record_doc::read_at(doc, &[hash])
                                .map_err(|v| invalid(&v))?
                                .ok_or_else(|| invalid(&"the change holds no record"))?;
                            (seen, made)
                        };
                        Ok((after, seen, made, creator))
                    });
                match judged {
                    Ok(j) => j,
                    Err(r) => {
                        w.doc = None;
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
                    if w.n_new > 0 || w.record.is_some() {
                        w.doc = None;
                    }
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
        let current = documents::current(self.tx, &id)?;
        if first && current.is_some() {
            return Err(Error::Corrupt(
                id.to_hex(),
                "a first change for an existing record".into(),
            ));
        }
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
        })
    }

    /// The scope of the record after the change: fixed for an existing record,
    /// and one the device's person may write.
    fn check_scope(&self, id: &DocId, w: &Working, scope: &Scope) -> Result<(Scope, i64), Refuse> {
        let who = &self.device.principal;
        let storage = |e: Error| {
            refuse(
                RefusalCode::Malformed,
                format!("server storage failed: {e}"),
            )
        };
        if let Some(fixed) = w.scope.as_ref().filter(|s| *s != scope) {
            return Err(refuse(
                RefusalCode::ImmutableField,
                format!("record {id}: its scope is {fixed} and cannot become {scope}"),
            ));
        }
        let known = self.scopes.borrow().get(scope).copied();
        if w.scope.is_none()
            && known.is_none()
            && !registry::scope_exists(self.tx, scope).map_err(storage)?
        {
            return Err(refuse(
                RefusalCode::ForbiddenScope,
                format!("record {id}: scope {scope} is unknown to this township"),
            ));
        }
        if !who.can_write(scope) {
            return Err(refuse(
                RefusalCode::ForbiddenScope,
                format!(
                    "record {id}: {} ({}) may not write {scope}",
                    self.device.name,
                    who.role.code()
                ),
            ));
        }
        let scope_id = match (w.scope.is_some(), known) {
            (true, _) => w.scope_id,
            (false, Some(n)) => n,
            (false, None) => {
                let n = registry::scope_id(self.tx, scope).map_err(storage)?;
                self.scopes.borrow_mut().insert(scope.clone(), n);
                n
            }
        };
        Ok((scope.clone(), scope_id))
    }

    /// Writes every record that took changes.
    fn finish(mut self) -> Result<(), Error> {
        for id in &self.order {
            let Some(w) = self.work.get_mut(id) else { continue };
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
