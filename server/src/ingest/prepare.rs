//! The first stage: what needs no database. Each change is held to the
//! change limits and parsed, and a new record is read straight from its
//! plain first change (no Automerge document built: most changes a township
//! sees are first changes), and the later changes of a record made in the
//! message are judged ahead ([`foresee`](super::foresee)). This runs for one
//! message while the one before it is being taken in.

use automerge::{ActorId, Change, ChangeHash, ExpandedChange};
use massline_model::DocId;
use massline_model::change_limits::{self, ChangeLimitError, OpIndex, Within};
use massline_model::judge::{self, Judgement};
use massline_model::packing::Entry;
use massline_model::parallel;

use super::foresee::{self, Foreseen};

/// Why a change is refused before its record is looked at.
#[derive(Debug, thiserror::Error)]
pub enum Unread {
    /// It breaks a change limit, does not parse, or (a first change) names
    /// what was made before it.
    #[error(transparent)]
    Limits(#[from] ChangeLimitError),
    /// Its bytes hash to another hash than the one it was sent with.
    #[error("its hash is not that of its bytes")]
    WrongHash,
}

/// A change the first stage read: its operations (and Automerge's `Change`
/// where one is needed), or, for the plain first change of a record, judged
/// from its operations, only what the serial stage asks of it. No Automerge
/// change is built for such a change (most changes a township sees are
/// first changes): the record is stored from the judgement and the change's
/// bytes. Both are boxed: a message's entries are moved between its stages,
/// and an entry holding either inline would be some 600 bytes.
#[derive(Debug)]
pub enum Parsed {
    /// A change read as operations.
    Change(Box<Later>),
    /// A plain first change, judged.
    First(Box<FirstRead>),
}

/// A plain first change, as the first stage read it.
#[derive(Debug)]
pub struct FirstRead {
    /// Its author's actor id.
    pub actor: ActorId,
    /// Its message.
    pub message: Option<String>,
    /// The record it makes.
    pub judged: Judgement,
}

impl Parsed {
    /// The changes it builds on.
    pub fn deps(&self) -> &[ChangeHash] {
        match self {
            Parsed::Change(c) => c.deps(),
            Parsed::First(_) => &[],
        }
    }

    /// Its author's actor id.
    pub fn actor_id(&self) -> &ActorId {
        match self {
            Parsed::Change(c) => c.actor_id(),
            Parsed::First(f) => &f.actor,
        }
    }

    /// Its message.
    pub fn message(&self) -> Option<&str> {
        match self {
            Parsed::Change(c) => c.message(),
            Parsed::First(f) => f.message.as_deref(),
        }
    }
}

/// A change that builds on others (or a first change that is not plain),
/// as the first stage read it: its operations, and Automerge's change of
/// them once one is needed. Building that writes the operations out again,
/// which a change judged ahead ([`foresee`](super::foresee)) never needs:
/// the first stage builds it for every other change ([`prepare_on`]), and
/// the serial stage for a change whose judgement ahead does not hold.
#[derive(Debug)]
pub struct Later {
    hash: ChangeHash,
    ops: ExpandedChange,
    change: Option<Change>,
}

impl Later {
    fn of(checked: change_limits::Checked) -> Later {
        let (hash, ops, change) = checked.into_read();
        Later { hash, ops, change }
    }

    /// The changes it builds on.
    pub fn deps(&self) -> &[ChangeHash] {
        &self.ops.deps
    }

    /// Its author's actor id.
    pub fn actor_id(&self) -> &ActorId {
        &self.ops.actor_id
    }

    /// Its message.
    pub fn message(&self) -> Option<&str> {
        self.ops.message.as_deref()
    }

    /// Its operations.
    pub fn ops(&self) -> &ExpandedChange {
        &self.ops
    }

    /// Whether Automerge's change is built.
    #[cfg(test)]
    pub(super) fn is_built(&self) -> bool {
        self.change.is_some()
    }

    /// Builds Automerge's change, if it is not built.
    fn build(&mut self) -> Result<(), ChangeLimitError> {
        if self.change.is_none() {
            self.change = Some(change_limits::built(self.ops.clone(), self.hash)?);
        }
        Ok(())
    }

    /// Automerge's change (built now if it was not).
    pub fn into_change(self) -> Result<Change, ChangeLimitError> {
        match self.change {
            Some(c) => Ok(c),
            None => change_limits::built(self.ops, self.hash),
        }
    }

    /// A copy of Automerge's change (built now if it was not).
    pub fn to_change(&self) -> Result<Change, ChangeLimitError> {
        match &self.change {
            Some(c) => Ok(c.clone()),
            None => change_limits::built(self.ops.clone(), self.hash),
        }
    }
}

/// One pushed entry, with the work that needs no database done ahead.
#[derive(Debug)]
pub enum Prepared {
    /// A change: its bytes, parsed, and, for a plain first change, the
    /// record it makes.
    Change {
        /// Its hash.
        hash: ChangeHash,
        /// Its bytes.
        bytes: Vec<u8>,
        /// The parsed change, or why it is refused unread.
        parsed: Result<Parsed, Unread>,
        /// What was worked out ahead of the serial stage.
        ahead: Ahead,
    },
    /// A whole document, which a push may not carry.
    Document(DocId),
}

/// What the first stage works out ahead for one change. The judgements are
/// boxed: they hold whole records, and a message's entries are moved
/// between its stages.
#[derive(Debug)]
pub struct Ahead {
    /// For a plain first change that reads as a record: the record as the
    /// `documents` table keeps it (JSON), written on the first stage's
    /// threads.
    pub record_json: Option<String>,
    /// For a later change of a record made in the same message: judged
    /// ahead ([`foresee`](super::foresee)).
    pub foreseen: Option<Box<Foreseen>>,
}

/// Checks a message's entries against the change limits, parses them and
/// reads first changes, touching no database. The message's budget of
/// operations is taken change by change, in order (read from their bytes,
/// cheaply); the rest, Automerge's reading and the checks after it, runs on
/// the machine's cores ([`parallel::map_in_order`]), so a large message is
/// ready sooner.
pub fn prepare(entries: Vec<Entry>) -> Vec<Prepared> {
    prepare_on(entries, parallel::cores())
}

/// [`prepare`] on at most `threads` threads. A message read while the one
/// before it is taken in leaves that serial stage a core of its own: it is
/// what the call waits on, and the threads reading ahead would otherwise
/// share its core.
pub fn prepare_on(entries: Vec<Entry>, threads: usize) -> Vec<Prepared> {
    let mut budget = change_limits::MAX_OPS_PER_MESSAGE;
    let checked: Vec<Checking<'_>> = entries
        .iter()
        .map(|e| match e {
            Entry::Change { hash, bytes } => {
                Checking::Change(*hash, change_limits::within(bytes, &mut budget))
            }
            Entry::Document { doc, .. } => Checking::Document(*doc),
        })
        .collect();
    let read = parallel::map_in_order_on(checked, parallel::ITEMS_PER_THREAD, threads, read);
    let mut prepared: Vec<Prepared> = read
        .into_iter()
        .zip(entries)
        .map(|(read, entry)| read.with_bytes(entry))
        .collect();
    foresee::foresee(&mut prepared, threads);
    build_unforeseen(&mut prepared, threads);
    prepared
}

/// Builds Automerge's change of every later change not judged ahead, which
/// the serial stage judges on the record's document; one that does not
/// build is refused unread.
fn build_unforeseen(prepared: &mut [Prepared], threads: usize) {
    let unforeseen: Vec<&mut Result<Parsed, Unread>> = prepared
        .iter_mut()
        .filter_map(|p| match p {
            Prepared::Change {
                parsed: parsed @ Ok(Parsed::Change(_)),
                ahead: Ahead { foreseen: None, .. },
                ..
            } => Some(parsed),
            _ => None,
        })
        .collect();
    parallel::map_in_order_on(unforeseen, parallel::ITEMS_PER_THREAD, threads, |parsed| {
        if let Ok(Parsed::Change(later)) = parsed
            && let Err(e) = later.build()
        {
            *parsed = Err(Unread::from(e));
        }
    });
}

/// An entry of a message: a change with its hash as sent, through the cheap
/// checks of [`change_limits::within`] (or refused by them), or a document.
enum Checking<'a> {
    Change(ChangeHash, Result<Within<'a>, ChangeLimitError>),
    Document(DocId),
}

/// Reads an entry, on any thread; its bytes are added after
/// ([`Prepared::with_bytes`]).
fn read(entry: Checking<'_>) -> Prepared {
    let (hash, within) = match entry {
        Checking::Change(hash, within) => (hash, within),
        Checking::Document(doc) => return Prepared::Document(doc),
    };
    let parsed = within
        .map_err(Unread::from)
        .and_then(|within| parsed(hash, within));
    let record_json = match &parsed {
        Ok(Parsed::First(f)) => f
            .judged
            .edit
            .as_ref()
            .ok()
            .and_then(|edit| serde_json::to_string(&edit.merged().record).ok()),
        _ => None,
    };
    Prepared::Change {
        hash,
        bytes: Vec::new(),
        parsed,
        ahead: Ahead {
            record_json,
            foreseen: None,
        },
    }
}

impl Prepared {
    /// An entry read (by [`read`]) with the bytes it was read from, which
    /// its message held meanwhile.
    fn with_bytes(mut self, entry: Entry) -> Prepared {
        if let (
            Prepared::Change { bytes, .. },
            Entry::Change {
                bytes: read_from, ..
            },
        ) = (&mut self, entry)
        {
            *bytes = read_from;
        }
        self
    }
}

/// Reads a change sent as `hash`.
fn parsed(hash: ChangeHash, within: Within<'_>) -> Result<Parsed, Unread> {
    let c = within.parse()?;
    if c.hash != hash {
        return Err(Unread::WrongHash);
    }
    if c.deps().is_empty() {
        return first_of(c, within.bytes());
    }
    Ok(Parsed::Change(Box::new(Later::of(c))))
}

/// A change without dependencies: judged from its operations when it is the
/// plain first change of a record (which checks them as it goes); otherwise
/// Automerge reads it, and it must name nothing made before it.
fn first_of(c: change_limits::Checked, bytes: &[u8]) -> Result<Parsed, Unread> {
    let actor = c.expanded.actor_id.clone();
    let message = c.expanded.message.clone();
    if let Some(judged) = judge::first(c.expanded) {
        return Ok(Parsed::First(Box::new(FirstRead {
            actor,
            message,
            judged,
        })));
    }
    let mut later = Later::of(change_limits::parse(bytes)?);
    OpIndex::default().check(later.ops())?;
    later.build()?;
    Ok(Parsed::Change(Box::new(later)))
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    use super::*;

    /// A change, as sent: its hash and bytes.
    fn change(n: i64) -> (ChangeHash, Vec<u8>) {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "n", n).expect("a put");
        let c = doc.get_last_local_change().expect("a change");
        (c.hash(), c.raw_bytes().to_vec())
    }

    #[test]
    fn a_large_message_is_read_on_several_threads_and_answered_in_order() {
        let n = parallel::ITEMS_PER_THREAD * parallel::MAX_THREADS;
        let mut sent: Vec<(ChangeHash, Vec<u8>)> = (0..n as i64).map(change).collect();
        // Two sent under a hash not theirs: refused where they are.
        let wrong = [5, n - parallel::ITEMS_PER_THREAD / 2];
        for &i in &wrong {
            sent[i].0.0[0] ^= 1;
        }
        let entries = sent
            .iter()
            .map(|(hash, bytes)| Entry::Change {
                hash: *hash,
                bytes: bytes.clone(),
            })
            .collect();
        let prepared = prepare(entries);
        assert_eq!(prepared.len(), n);
        for (i, p) in prepared.iter().enumerate() {
            let Prepared::Change {
                hash,
                parsed,
                bytes,
                ..
            } = p
            else {
                panic!("entry {i} is not a change");
            };
            assert_eq!(*hash, sent[i].0, "entry {i}");
            assert_eq!(bytes, &sent[i].1, "entry {i} keeps its bytes");
            match parsed {
                Err(Unread::WrongHash) => assert!(wrong.contains(&i), "entry {i}"),
                Ok(c) => {
                    let sent = Change::from_bytes(sent[i].1.clone()).expect("a change");
                    // Each change has an actor of its own.
                    assert_eq!(c.actor_id(), sent.actor_id(), "entry {i}");
                }
                Err(e) => panic!("entry {i}: {e}"),
            }
        }
    }
}
