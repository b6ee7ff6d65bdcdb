//! The checks a change must pass to be taken in. Each returns a refusal as
//! a value, naming the change or record and the field; only a storage
//! failure (a lookup that fails) is an error, and it aborts the message.

use std::collections::hash_map;

use automerge::{Change, ChangeHash, ExpandedChange};
use massline_model::change_limits::OpIndex;
use massline_model::judge::{Edit, Judgement};
use massline_model::protocol::RefusalCode;
use massline_model::record_doc;
use massline_model::records::rules::{self, Broken};
use massline_model::{DocId, Scope};
use rusqlite::{OptionalExtension, Transaction, params};
use rustc_hash::{FxHashMap, FxHashSet};

use super::apply::Working;
use super::commit::Admitted;
use super::{Batch, Parsed, Prepared, Refused, Stop, Unread, refuse};
use crate::context::ServerContext;
use crate::documents;
use crate::error::Error;
use crate::purge;
use crate::registry::{self, Device};

/// The record a change the server holds belongs to, if it holds it: accepted
/// earlier in this message, or stored before.
pub(super) fn known(b: &Batch<'_>, hash: &ChangeHash) -> Result<Option<DocId>, Error> {
    if let Some(d) = b.docs_of.get(hash) {
        return Ok(Some(*d));
    }
    let doc: Option<Vec<u8>> =
        b.tx.prepare_cached("SELECT doc_id FROM changes WHERE hash = ?1")?
            .query_row(params![&hash.0[..]], |r| r.get(0))
            .optional()?;
    Ok(doc.and_then(|d| DocId::from_slice(&d)))
}

/// Whether the server already has the change (a resend after a lost
/// answer). A first change is stored exactly when its record is: by this
/// message, or before it ([`Batch::stored_before`]).
pub(super) fn stored(
    b: &Batch<'_>,
    hash: &ChangeHash,
    parsed: &Result<Parsed, Unread>,
) -> Result<bool, Error> {
    match parsed {
        Ok(c) if c.deps().is_empty() => {
            let id = DocId::of_first_change(hash);
            Ok(match b.work.get(&id) {
                Some(w) => w.n_new > 0,
                None => b.stored_before.contains(&id),
            })
        }
        _ => Ok(known(b, hash)?.is_some()),
    }
}

/// The records of the message's first changes that the server has before
/// it, looked up together.
pub(super) fn stored_before(
    tx: &Transaction<'_>,
    entries: &[Prepared],
) -> Result<FxHashSet<DocId>, Error> {
    let firsts: Vec<DocId> = entries
        .iter()
        .filter_map(|e| match e {
            Prepared::Change {
                hash,
                parsed: Ok(c),
                ..
            } if c.deps().is_empty() => Some(DocId::of_first_change(hash)),
            _ => None,
        })
        .collect();
    documents::existing(tx, &firsts)
}

/// The change, unless it was refused unread.
pub(super) fn readable(
    hash: ChangeHash,
    parsed: Result<Parsed, Unread>,
) -> Result<Parsed, Refused> {
    parsed.map_err(|e| unread(hash, &e))
}

/// The refusal of a change that could not be read.
pub(super) fn unread(hash: ChangeHash, e: &Unread) -> Refused {
    refuse(
        RefusalCode::Malformed,
        format!("change {hash} is refused unread: {e}"),
    )
}

/// The change is the device's own: written by its actor, its message naming
/// the device's person and nothing else (`message`, the device's person's
/// [`record_doc::message_of`], which nearly every change carries as it is).
pub(super) fn author(
    device: &Device,
    message: &str,
    hash: ChangeHash,
    change: &Parsed,
) -> Result<(), Refused> {
    if change.actor_id().to_bytes() != device.actor.as_slice() {
        return Err(refuse(
            RefusalCode::WrongActor,
            format!(
                "change {hash} was written by actor {}, not by this device",
                change.actor_id()
            ),
        ));
    }
    if change.message() == Some(message) {
        return Ok(());
    }
    let me = &device.principal.person;
    match record_doc::author_in(change.message()) {
        Some(Ok(p)) if p != *me => Err(refuse(
            RefusalCode::WrongActor,
            format!("change {hash} names {p} as its author, but this device is {me}'s"),
        )),
        Some(Err(e)) => Err(refuse(
            RefusalCode::Malformed,
            format!("change {hash}: {e}"),
        )),
        Some(Ok(p)) if change.message() == Some(record_doc::message_of(&p).as_str()) => Ok(()),
        Some(Ok(_)) => Err(refuse(
            RefusalCode::Malformed,
            format!(
                "change {hash}: its message holds more than its author (`{}`)",
                record_doc::message_of(me)
            ),
        )),
        None => Err(refuse(
            RefusalCode::Malformed,
            format!(
                "change {hash} names no author: every change's message names its \
                 author's person (`{}`)",
                record_doc::message_of(me)
            ),
        )),
    }
}

/// A change to a record purged for good, or building on one of its changes,
/// is refused as purged, and nothing of it is stored (see `crate::purge`).
/// Only in a scope the device may write: any other gets the refusal of a
/// scope not its own, so a refusal never tells of another's record.
pub(super) fn not_purged(
    b: &mut Batch<'_>,
    hash: ChangeHash,
    deps: &[ChangeHash],
) -> Result<(), Stop> {
    if !b.purges {
        return Ok(());
    }
    let mut found = purge::record_of_change(b.tx, &hash.0, deps.is_empty())?;
    for dep in deps {
        if found.is_some() {
            break;
        }
        if !b.docs_of.contains_key(dep) {
            found = purge::record_of_change(b.tx, &dep.0, false)?;
        }
    }
    let Some((id, scope)) = found else {
        return Ok(());
    };
    may_write(b, id, &scope.to_string())?;
    Err(refuse(
        RefusalCode::Purged,
        format!(
            "record {id} was purged for good by the township office: change {hash} is not taken"
        ),
    )
    .into())
}

/// The record a change belongs to: its own for a first change, else that of
/// the changes it depends on (which must all be of one record and known).
pub(super) fn record(b: &Batch<'_>, hash: ChangeHash, deps: &[ChangeHash]) -> Result<DocId, Stop> {
    if deps.is_empty() {
        return Ok(DocId::of_first_change(&hash));
    }
    let mut doc = None;
    for dep in deps {
        if b.refused.contains(dep) {
            return Err(refuse(
                RefusalCode::DependsOnRefused,
                format!("change {hash} builds on change {dep}, which was refused"),
            )
            .into());
        }
        let Some(d) = known(b, dep)? else {
            return Err(refuse(
                RefusalCode::MissingDependency,
                format!("change {hash} builds on change {dep}, which the server does not have"),
            )
            .into());
        };
        if doc.is_some_and(|x| x != d) {
            return Err(refuse(
                RefusalCode::Malformed,
                format!("change {hash} builds on changes of two different records"),
            )
            .into());
        }
        doc = Some(d);
    }
    doc.ok_or_else(|| refuse(RefusalCode::Malformed, "no record").into())
}

/// The working state of a record the message has opened.
pub(super) fn working(
    work: &mut FxHashMap<DocId, Box<Working>>,
    id: DocId,
) -> Result<&mut Working, Error> {
    work.get_mut(&id)
        .map(|w| &mut **w)
        .ok_or_else(|| Error::damaged(id, "its working state vanished"))
}

/// Permission first: a device learns nothing of a record, or of the fields
/// of one, in a scope it may not write. An existing record's scope is fixed;
/// a new one's is the scope its plain first change names (a new record read
/// through Automerge is checked by [`new_scope`] once it is read).
pub(super) fn scope(b: &mut Batch<'_>, id: DocId, first: Option<&Judgement>) -> Result<(), Stop> {
    let w = working(&mut b.work, id)?;
    match (&w.scope, first) {
        (Some((fixed, _)), _) => {
            // Checked already in this message: the record's earlier change.
            if b.scopes.contains_key(fixed) && b.device.principal.can_write(fixed) {
                return Ok(());
            }
            let fixed = fixed.clone();
            may_write_scope(b, id, fixed)
        }
        (
            None,
            Some(Judgement {
                scope_named: Some(named),
                ..
            }),
        ) => {
            if b.last_named.as_deref() == Some(named.as_str()) {
                return Ok(());
            }
            let named = named.clone();
            may_write(b, id, &named)
        }
        (None, _) => Ok(()),
    }
}

/// [`scope`] for a new record read through Automerge.
pub(super) fn new_scope(b: &mut Batch<'_>, id: DocId, judged: &Judgement) -> Result<(), Stop> {
    may_write(b, id, judged.scope_named.as_deref().unwrap_or_default())
}

/// Whether the device's person may write the scope a record names (as
/// written), which must exist. An unknown scope and a scope that is not
/// theirs get the same refusal, so a refusal never tells which scopes exist.
fn may_write(b: &mut Batch<'_>, id: DocId, named: &str) -> Result<(), Stop> {
    if b.last_named.as_deref() == Some(named) {
        return Ok(());
    }
    match Scope::parse(named) {
        Ok(scope) => {
            may_write_scope(b, id, scope)?;
            let last = b.last_named.get_or_insert_default();
            last.clear();
            last.push_str(named);
            Ok(())
        }
        Err(_) => Err(forbidden(b, id, named).into()),
    }
}

/// [`may_write`] for a scope read already.
fn may_write_scope(b: &mut Batch<'_>, id: DocId, scope: Scope) -> Result<(), Stop> {
    if !b.device.principal.can_write(&scope) {
        return Err(forbidden(b, id, &scope.to_string()).into());
    }
    if let hash_map::Entry::Vacant(e) = b.scopes.entry(scope) {
        if !registry::scope_exists(b.tx, e.key())? {
            let named = e.key().to_string();
            return Err(forbidden(b, id, &named).into());
        }
        let n = registry::scope_id(b.tx, e.key())?;
        e.insert(n);
    }
    Ok(())
}

/// The refusal of a scope the device may not write, or that does not exist.
fn forbidden(b: &Batch<'_>, id: DocId, named: &str) -> Refused {
    refuse(
        RefusalCode::ForbiddenScope,
        format!(
            "record {id}: {} ({}) may not write scope {named}",
            b.device.name,
            b.device.principal.role.code()
        ),
    )
}

/// The operations of every change of the record accepted so far, from the
/// changes table (which holds this message's accepted changes too).
fn index<'w>(
    w: &'w mut Working,
    tx: &Transaction<'_>,
    id: &DocId,
    admitted: &[Admitted],
) -> Result<&'w mut OpIndex, Error> {
    if w.index.is_none() {
        let mut index = OpIndex::default();
        let mut add = |bytes: &[u8]| -> Result<(), Error> {
            let change = Change::try_from(bytes).map_err(|e| Error::damaged(*id, e))?;
            index.add(&change.decode());
            Ok(())
        };
        // What is stored, then what this message added (stored with it).
        let mut stmt =
            tx.prepare_cached("SELECT bytes FROM changes WHERE doc_id = ?1 ORDER BY seq")?;
        let mut rows = stmt.query(params![&id.as_bytes()[..]])?;
        while let Some(row) = rows.next()? {
            add(row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?)?;
        }
        for &i in &w.admitted {
            add(admitted[i].bytes())?;
        }
        w.index = Some(index);
    }
    Ok(w.index.get_or_insert_default())
}

/// Automerge trusts what it applies to name only what the record has:
/// checked first, against the operations of the record's accepted changes
/// (a change applied ahead, in a chain, was checked then).
pub(super) fn operations(
    b: &mut Batch<'_>,
    id: DocId,
    hash: ChangeHash,
    ops: &ExpandedChange,
) -> Result<(), Stop> {
    let w = working(&mut b.work, id)?;
    if w.holds(&hash) {
        return Ok(());
    }
    let index = index(w, b.tx, &id, &b.admitted)?;
    index.check(ops).map_err(|e| {
        refuse(
            RefusalCode::Malformed,
            format!("record {id}: change {hash}: {e}"),
        )
    })?;
    index.add(ops);
    Ok(())
}

/// The edit, if the record reads as written: nothing but its fields, each
/// in its own form.
pub(super) fn written(id: DocId, judged: Judgement) -> Result<Edit, Refused> {
    judged
        .edit
        .map_err(|v| refuse(RefusalCode::InvalidRecord, format!("record {id}: {v}")))
}

/// The record keeps its scope, and the edit passes the record rules; gives
/// the scope and its number.
pub(super) fn rules(b: &Batch<'_>, id: DocId, edit: &Edit) -> Result<(Scope, i64), Stop> {
    let scope = &edit.merged().scope;
    let n = match b.work.get(&id).and_then(|w| w.scope.as_ref()) {
        Some((fixed, _)) if fixed != scope => {
            return Err(refuse(
                RefusalCode::ImmutableField,
                format!("record {id}: its scope is {fixed} and cannot become {scope}"),
            )
            .into());
        }
        Some((_, n)) => *n,
        // A new record's scope was looked up when it was checked.
        None => *b.scopes.get(scope).ok_or_else(|| {
            refuse(
                RefusalCode::ForbiddenScope,
                format!("record {id}: scope {scope} was not checked"),
            )
        })?,
    };
    let pending = |d: &DocId| b.work.get(d).and_then(|w| w.standing.record.clone());
    let ctx = ServerContext::new(b.tx, &pending, &b.people);
    let judged = rules::check(&edit.change(id, &b.device.principal), &ctx);
    ctx.failure()?;
    judged.map_err(|broken| match broken {
        Broken::Invalid(v) => refuse(RefusalCode::InvalidRecord, format!("record {id}: {v}")),
        Broken::NotAllowed(v) => refuse(RefusalCode::ImmutableField, format!("record {id}: {v}")),
    })?;
    Ok((scope.clone(), n))
}
