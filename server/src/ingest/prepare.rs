//! The first stage: what needs no database. Each change is held to the
//! change limits and parsed, and a new record is read straight from its
//! plain first change (no Automerge document built: most changes a township
//! sees are first changes), and the later changes of a record made in the
//! message are judged ahead ([`foresee`](super::foresee)). This runs for one
//! message while the one before it is being taken in.

use automerge::{Change, ChangeHash};
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
        parsed: Result<Change, Unread>,
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
    /// For the plain first change of a record: the record it makes, judged
    /// from its operations.
    pub first: Option<Box<Judgement>>,
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
/// ready sooner while the one before it is taken in.
pub fn prepare(entries: Vec<Entry>) -> Vec<Prepared> {
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
    let mut prepared: Vec<Prepared> = parallel::map_in_order(checked, read)
        .into_iter()
        .zip(entries)
        .map(|(read, entry)| read.with_bytes(entry))
        .collect();
    foresee::foresee(&mut prepared);
    prepared
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
    let (parsed, first) = match within.and_then(Within::parse) {
        Err(e) => (Err(e.into()), None),
        Ok(c) if c.change.hash() != hash => (Err(Unread::WrongHash), None),
        Ok(c) if !c.change.deps().is_empty() => (Ok(c.change), None),
        Ok(c) => first_of(c),
    };
    let record_json = first
        .as_ref()
        .and_then(|j| j.edit.as_ref().ok())
        .and_then(|edit| serde_json::to_string(&edit.merged.record).ok());
    Prepared::Change {
        hash,
        bytes: Vec::new(),
        parsed,
        ahead: Ahead {
            first: first.map(Box::new),
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

/// A change without dependencies: judged from its operations when it is the
/// plain first change of a record (which checks them as it goes); otherwise
/// it must name nothing made before it.
fn first_of(c: change_limits::Checked) -> (Result<Change, Unread>, Option<Judgement>) {
    if let Some(judged) = judge::first(&c.change, c.expanded) {
        return (Ok(c.change), Some(judged));
    }
    match OpIndex::default().check(&c.change.decode()) {
        Ok(()) => (Ok(c.change), None),
        Err(e) => (Err(e.into()), None),
    }
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
                Ok(c) => assert_eq!(c.raw_bytes(), &sent[i].1[..], "entry {i}"),
                Err(e) => panic!("entry {i}: {e}"),
            }
        }
    }
}
