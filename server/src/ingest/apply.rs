//! Changes applied to their records' documents, through the model's judge.
//!
//! A record's document is built on first need (a new record read from its
//! plain first change has none until another change of it arrives), from
//! what is stored plus the changes accepted in this message. Applying one
//! change costs nearly as much as applying several: a change at the head
//! takes the rest of its author's chain in the message (each change building
//! only on the one before) with it in one call, each still judged on its own
//! when its turn comes.

use automerge::{Automerge, Change, ChangeHash};
use massline_model::DocId;
use massline_model::Scope;
use massline_model::change_limits::OpIndex;
use massline_model::judge::{self, Judgement, Standing};
use massline_model::protocol::RefusalCode;
use rusqlite::Transaction;

use super::{Batch, Foreseen, Parsed, Prepared, Stop, admit, refuse};
use crate::documents::{self, Current};
use crate::error::Error;

/// Most changes of one author's chain applied to a record's document in one
/// call (the rest are applied in later calls): bounds the work done ahead of
/// the changes' own turn.
pub const MAX_CHAIN: usize = 64;

/// A record being changed within one message.
pub(super) struct Working {
    /// Its stored form before the message, if it was stored.
    pub current: Option<Current>,
    /// The document: stored plus accepted, and any change applied ahead
    /// (boxed: a message holds hundreds of records, most without one).
    pub doc: Option<Box<Automerge>>,
    /// The record as it stands with the changes accepted so far.
    pub standing: Standing,
    /// That record as JSON, if it was written ahead (by the first stage,
    /// for a plain first change).
    pub record_json: Option<String>,
    /// Its scope and the scope's number, once known.
    pub scope: Option<(Scope, i64)>,
    /// The changes accepted in this message, concatenated.
    pub chunks: Vec<u8>,
    /// How many that is.
    pub n_new: i64,
    /// Where they are among the message's admitted changes.
    pub admitted: Vec<usize>,
    /// Its sequence number, once stored.
    pub last_seq: i64,
    /// The operations of the record's accepted changes, built on first need,
    /// to check a change against before Automerge applies it.
    pub index: Option<OpIndex>,
}

impl Working {
    /// A record's working state: a stored one with its document, a new one
    /// with nothing.
    pub fn open(tx: &Transaction<'_>, id: DocId, new: bool) -> Result<Working, Error> {
        // A new record has nothing stored: its first change was checked for that.
        let current = if new {
            None
        } else {
            documents::current(tx, &id)?
        };
        let (doc, standing, scope) = match &current {
            Some(c) => {
                let doc = documents::load(&id, &c.state)?;
                let standing = Standing::of(&doc).map_err(|e| Error::damaged(id, e))?;
                let scope = standing
                    .record
                    .as_ref()
                    .map(|r| (r.scope.clone(), c.scope_id));
                (Some(Box::new(doc)), standing, scope)
            }
            None => (None, Standing::default(), None),
        };
        Ok(Working {
            current,
            doc,
            standing,
            record_json: None,
            scope,
            chunks: Vec::new(),
            n_new: 0,
            admitted: Vec::new(),
            last_seq: 0,
            index: None,
        })
    }

    /// Whether the record is not stored and took no change yet.
    pub fn is_new(&self) -> bool {
        self.scope.is_none()
    }

    /// Whether the document holds `hash`: it was applied ahead, in a chain.
    pub fn holds(&self, hash: &ChangeHash) -> bool {
        self.doc
            .as_ref()
            .is_some_and(|d| d.get_change_meta_by_hash(hash).is_some())
    }

    /// Drops the document and the index built from it: a refused change may
    /// be in them; both are rebuilt from what was accepted when next needed.
    pub fn forget(&mut self) {
        self.doc = None;
        self.index = None;
    }

    /// Whether a judgement made ahead holds for change `hash` of record
    /// `id`: the record is new to the server and took exactly the changes
    /// the judgement assumed. If so, a document built without the change is
    /// dropped (it would lack the change once accepted), and rebuilt when
    /// next needed.
    pub fn takes_foreseen(&mut self, id: DocId, hash: &ChangeHash, ahead: &Foreseen) -> bool {
        let holds = ahead.record == id && self.current.is_none() && self.n_new == ahead.after;
        if holds && !self.holds(hash) {
            self.forget();
        }
        holds
    }

    /// Builds the document, if it is not, from what is stored and accepted.
    pub fn build(&mut self, id: &DocId) -> Result<(), Error> {
        if self.doc.is_none() {
            let mut doc = match &self.current {
                Some(c) => documents::load(id, &c.state)?,
                None => Automerge::new(),
            };
            doc.load_incremental(&self.chunks)
                .map_err(|e| Error::damaged(*id, e))?;
            self.doc = Some(Box::new(doc));
        }
        Ok(())
    }
}

/// Applies `change` to record `id`'s document (with the rest of its chain
/// from `rest`, the message after it) and judges it.
pub(super) fn judge(
    b: &mut Batch<'_>,
    id: DocId,
    change: Change,
    rest: &[Option<Prepared>],
) -> Result<Judgement, Stop> {
    let hash = change.hash();
    let actor = b.device.actor.as_slice();
    let w = admit::working(&mut b.work, id)?;
    w.build(&id)?;
    let Working {
        doc: Some(doc),
        standing,
        index,
        ..
    } = w
    else {
        return Err(Error::damaged(id, "its document was not built").into());
    };
    // Dropped with the document if the change is refused.
    b.applied.insert(hash, id);
    let applied = &mut b.applied;
    let more = || match index {
        Some(index) => chain_after(hash, actor, rest, index)
            .inspect(|c| {
                applied.insert(c.hash(), id);
            })
            .collect(),
        None => Vec::new(),
    };
    judge::apply(doc, standing, change, more).map_err(|e| {
        let code = match e {
            judge::JudgeError::MissingDependency(_) => RefusalCode::MissingDependency,
            judge::JudgeError::DoesNotApply(_) => RefusalCode::Malformed,
        };
        refuse(code, format!("record {id}: {e}")).into()
    })
}

/// The changes later in the message that continue a chain from `from`, each
/// building only on the one before it, written by `actor`, and naming only
/// what the record has (checked against `index`, which takes each in).
fn chain_after<'r>(
    from: ChangeHash,
    actor: &'r [u8],
    rest: &'r [Option<Prepared>],
    index: &'r mut OpIndex,
) -> impl Iterator<Item = Change> + 'r {
    let mut last = from;
    rest.iter()
        .filter_map(move |entry| match entry {
            Some(Prepared::Change {
                hash,
                parsed: Ok(Parsed::Change(c)),
                ..
            }) if c.deps() == [last] && c.actor_id().to_bytes() == actor => {
                let ops = c.ops();
                if index.check(ops).is_err() {
                    return Some(None);
                }
                let Ok(change) = c.to_change() else {
                    return Some(None);
                };
                index.add(ops);
                last = *hash;
                Some(Some(change))
            }
            _ => None,
        })
        .map_while(|c| c)
        .take(MAX_CHAIN)
}
