//! Taking in pushed changes: each one checked, the good ones stored and
//! numbered, the bad ones refused with a reason, all of one message (or of
//! the messages of a call that waited together, [`ingest_together`]) in one
//! durable transaction.
//!
//! A change is taken in stages, each a file of its own:
//!
//! - [`prepare`]: held to `massline_model::change_limits` (on its bytes,
//!   before Automerge reads it), parsed, and a new record read straight from
//!   its plain first change (and written as the JSON `documents` keeps); no
//!   database, so it runs for one message while the one before it is taken
//!   in.
//! - [`admit`]: written by the sending device's actor, naming the device's
//!   person as its author; depending only on changes the server has, of one
//!   record; in a scope the device's person may write (checked before
//!   anything else about the record, so no refusal tells of a scope the
//!   device may not write); naming only what its record has (`OpIndex`);
//!   leaving the record holding nothing but its fields in their own form
//!   (`record_doc::parse_written`); passing `massline_model::records::rules`.
//! - [`apply`]: the change (with the rest of its author's chain in the
//!   message) applied to its record's document and read by
//!   `massline_model::judge`, unless it was judged ahead in the first stage
//!   ([`foresee`]: a record made in the same message) on what came true.
//! - [`commit`]: numbered and stored, and the records written once the
//!   message is through.
//!
//! A refusal is a value: the device's answer says why, and the message goes
//! on. A storage failure is not a refusal: it aborts the whole transaction,
//! the device gets an error status and sends it again, and nothing of it is
//! stored. A message with more than [`MAX_REFUSALS_PER_MESSAGE`] bad changes
//! is refused as a whole, with one reason, and nothing of it is stored.

mod admit;
mod apply;
mod commit;
mod foresee;
mod prepare;

use automerge::ChangeHash;
use massline_model::packing::Entry;
use massline_model::protocol::{PushAck, Refusal, RefusalCode};
use massline_model::{DocId, Scope};
use rusqlite::Transaction;
use rustc_hash::{FxHashMap, FxHashSet};

pub use apply::MAX_CHAIN;
pub use foresee::Foreseen;
pub use prepare::{Ahead, FirstRead, Later, Parsed, Prepared, Unread, prepare, prepare_on};

use crate::context::People;
use crate::db::Db;
use crate::error::Error;
use crate::registry::{self, Device};
use apply::Working;

/// Most refusals one push message may earn; past this the message is refused
/// as a whole, with one reason, and nothing of it is stored. An honest device
/// gets a refusal for a change only where its phone and the server judge
/// differently (a person it could not look up, a scope taken away): a few,
/// not a thousand in one message.
pub const MAX_REFUSALS_PER_MESSAGE: usize = 1000;

/// Most bytes of one refusal's reason; a longer one (one quoting what a device
/// sent) is cut, so the answer to a message stays bounded.
pub const MAX_REASON_BYTES: usize = 600;

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
    let mut taken = ingest_together(db, device, vec![entries], now)?;
    match (taken.refused, taken.acks.pop()) {
        (Some(e), _) => Err(e),
        (None, Some(ack)) => Ok(ack),
        (None, None) => Err(Error::internal(
            "taking in a push message",
            "no answer came of it",
        )),
    }
}

/// What became of messages taken in together.
#[derive(Debug)]
pub struct Together {
    /// The answers of the messages stored, in order.
    pub acks: Vec<PushAck>,
    /// Why the message after them was refused whole (nothing of it, nor of
    /// any after it, is stored).
    pub refused: Option<Error>,
}

/// Checks and stores several push messages of one call (each [`prepare`]d)
/// in one durable transaction: the messages that came in while the one
/// before them was being taken in share its commit. Each is taken in as
/// if alone, after those before it; one refused as a whole
/// ([`Error::MessageRefused`]) stores nothing and ends the group, the
/// messages before it stored. A storage failure stores none of them.
pub fn ingest_together(
    db: &Db,
    device: &Device,
    messages: Vec<Vec<Prepared>>,
    now: i64,
) -> Result<Together, Error> {
    db.intake(|tx| {
        // In the transaction that stores the messages: a revocation commits
        // either before it (and nothing of them is stored) or after.
        if !registry::enrolled(tx, device.id)? {
            return Err(Error::Revoked(device.id));
        }
        let purges = crate::purge::any(tx)?;
        let mut taken = Together {
            acks: Vec::with_capacity(messages.len()),
            refused: None,
        };
        for entries in messages {
            // A message writes nothing before its last change is judged
            // (`commit::finish`): one refused as a whole left nothing.
            match take_message(tx, device, entries, now, purges) {
                Ok(ack) => taken.acks.push(ack),
                Err(e @ Error::MessageRefused(_)) => {
                    taken.refused = Some(e);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        registry::called(tx, device.id, None)?;
        Ok(taken)
    })
}

/// One message's changes, in order, in the transaction `tx`.
fn take_message(
    tx: &Transaction<'_>,
    device: &Device,
    entries: Vec<Prepared>,
    now: i64,
    purges: bool,
) -> Result<PushAck, Error> {
    let stored_before = admit::stored_before(tx, &entries)?;
    let mut batch = Batch::new(tx, device, now, purges, stored_before);
    let mut ack = PushAck::default();
    let mut entries: Vec<Option<Prepared>> = entries.into_iter().map(Some).collect();
    for index in 0..entries.len() {
        let (done, rest) = entries.split_at_mut(index + 1);
        let Some(entry) = done[index].take() else {
            continue;
        };
        let (hash, taken) = batch.take(entry, rest);
        match taken {
            Ok(()) => ack.accepted += 1,
            Err(Stop::Failed(e)) => return Err(e),
            Err(Stop::Refused(r)) => {
                let reason = bounded(r.reason);
                if ack.refused.len() == MAX_REFUSALS_PER_MESSAGE {
                    // Returning this error rolls back the whole message.
                    return Err(Error::MessageRefused(format!(
                        "more than {MAX_REFUSALS_PER_MESSAGE} of its changes are refused \
                         (change {index}: {reason})"
                    )));
                }
                batch.refused(hash);
                let index = index as u32;
                ack.refused.push(Refusal {
                    index,
                    reason,
                    code: r.code,
                });
            }
        }
    }
    commit::finish(&mut batch)?;
    Ok(ack)
}

/// A change refused, and why: a value the device gets in its answer.
#[derive(Debug)]
struct Refused {
    code: RefusalCode,
    reason: String,
}

fn refuse(code: RefusalCode, reason: impl Into<String>) -> Refused {
    Refused {
        code,
        reason: reason.into(),
    }
}

/// Why a change was not taken in.
#[derive(Debug)]
enum Stop {
    /// It is refused; the message goes on.
    Refused(Refused),
    /// The server failed; the whole message is aborted.
    Failed(Error),
}

impl From<Refused> for Stop {
    fn from(r: Refused) -> Self {
        Stop::Refused(r)
    }
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Failed(e)
    }
}

impl From<rusqlite::Error> for Stop {
    fn from(e: rusqlite::Error) -> Self {
        Stop::Failed(e.into())
    }
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

/// One push message being taken in.
struct Batch<'a> {
    tx: &'a Transaction<'a>,
    device: &'a Device,
    /// The message each change of the device's person carries.
    message: String,
    now: i64,
    /// The records this message changes, and the order they were met in
    /// (boxed: the map grows by moving its entries, hundreds a message).
    work: FxHashMap<DocId, Box<Working>>,
    order: Vec<DocId>,
    /// The changes accepted in this message, and their records.
    docs_of: FxHashMap<ChangeHash, DocId>,
    /// The same changes, in the order they were accepted, to be stored.
    admitted: Vec<commit::Admitted>,
    refused: FxHashSet<ChangeHash>,
    /// Changes applied to a record's document and not (yet) accepted: a
    /// refused one is dropped with the document, which is rebuilt from what
    /// was accepted when next needed.
    applied: FxHashMap<ChangeHash, DocId>,
    /// Scopes found to exist in this message, and their numbers.
    scopes: FxHashMap<Scope, i64>,
    /// The scope, as written, of the last record found to be in a scope the
    /// device may write: a message's records mostly name one scope, read
    /// and checked once.
    last_named: Option<String>,
    /// People looked up in this message.
    people: People,
    /// Whether any record was ever purged (read in the message's
    /// transaction): if none was, no change's record is looked up.
    purges: bool,
    /// Which records of the message's first changes the server had before it.
    stored_before: FxHashSet<DocId>,
}

impl<'a> Batch<'a> {
    fn new(
        tx: &'a Transaction<'a>,
        device: &'a Device,
        now: i64,
        purges: bool,
        stored_before: FxHashSet<DocId>,
    ) -> Self {
        Batch {
            tx,
            device,
            message: massline_model::record_doc::message_of(&device.principal.person),
            now,
            work: FxHashMap::default(),
            order: Vec::new(),
            docs_of: FxHashMap::default(),
            admitted: Vec::new(),
            refused: FxHashSet::default(),
            applied: FxHashMap::default(),
            scopes: FxHashMap::default(),
            last_named: None,
            people: People::default(),
            purges,
            stored_before,
        }
    }

    /// Takes one entry in; `rest` is the message after it.
    fn take(
        &mut self,
        entry: Prepared,
        rest: &[Option<Prepared>],
    ) -> (ChangeHash, Result<(), Stop>) {
        match entry {
            Prepared::Change {
                hash,
                bytes,
                parsed,
                ahead,
            } => (hash, self.take_change(hash, bytes, parsed, ahead, rest)),
            Prepared::Document(doc) => {
                let why = format!("record {doc}: a push carries changes, not whole records");
                (
                    ChangeHash([0; 32]),
                    Err(refuse(RefusalCode::Malformed, why).into()),
                )
            }
        }
    }

    /// One change through the stages.
    fn take_change(
        &mut self,
        hash: ChangeHash,
        bytes: Vec<u8>,
        parsed: Result<Parsed, Unread>,
        ahead: Ahead,
        rest: &[Option<Prepared>],
    ) -> Result<(), Stop> {
        let Ahead {
            record_json,
            foreseen,
        } = ahead;
        if admit::stored(self, &hash, &parsed)? {
            return Ok(());
        }
        let parsed = admit::readable(hash, parsed)?;
        admit::author(self.device, &self.message, hash, &parsed)?;
        admit::not_purged(self, hash, parsed.deps())?;
        let id = admit::record(self, hash, parsed.deps())?;
        let new = self.open(id, parsed.deps().is_empty())?;
        let judged = match parsed {
            Parsed::First(read) => {
                admit::scope(self, id, Some(&read.judged))?;
                read.judged
            }
            Parsed::Change(later) => {
                admit::scope(self, id, None)?;
                match foreseen {
                    Some(ahead)
                        if admit::working(&mut self.work, id)?
                            .takes_foreseen(id, &hash, &ahead) =>
                    {
                        ahead.judgement
                    }
                    _ => {
                        admit::operations(self, id, hash, later.ops())?;
                        let change = later
                            .into_change()
                            .map_err(|e| admit::unread(hash, &e.into()))?;
                        let judged = apply::judge(self, id, change, rest)?;
                        if new {
                            admit::new_scope(self, id, &judged)?;
                        }
                        judged
                    }
                }
            }
        };
        let edit = admit::written(id, judged)?;
        let scope = admit::rules(self, id, &edit)?;
        // The JSON written ahead is that of the first change's edit: the
        // edit taken whenever it was there.
        commit::store(self, id, hash, bytes, (edit, record_json), scope)
    }

    /// The record's working state, opened on first need; whether it is new.
    fn open(&mut self, id: DocId, first: bool) -> Result<bool, Error> {
        if !self.work.contains_key(&id) {
            let w = Working::open(self.tx, id, first)?;
            self.work.insert(id, Box::new(w));
            self.order.push(id);
        }
        Ok(self.work.get(&id).is_some_and(|w| w.is_new()))
    }

    /// Notes a refused change; a document it was applied to is dropped.
    fn refused(&mut self, hash: ChangeHash) {
        self.refused.insert(hash);
        if let Some(id) = self.applied.remove(&hash)
            && let Some(w) = self.work.get_mut(&id)
        {
            w.forget();
        }
    }
}
