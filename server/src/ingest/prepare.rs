//! The first stage: what needs no database. Each change is held to the
//! change limits and parsed, and a new record is read straight from its
//! plain first change (no Automerge document built: most changes a township
//! sees are first changes). This runs for one message while the one before
//! it is being taken in.

use automerge::{Change, ChangeHash};
use massline_model::DocId;
use massline_model::change_limits::{self, ChangeLimitError, OpIndex};
use massline_model::judge::{self, Judgement};
use massline_model::packing::Entry;

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
        /// For the plain first change of a record: the record it makes,
        /// judged from its operations.
        first: Option<Judgement>,
    },
    /// A whole document, which a push may not carry.
    Document(DocId),
}

/// Checks a message's entries against the change limits, parses them and
/// reads first changes, touching no database.
pub fn prepare(entries: Vec<Entry>) -> Vec<Prepared> {
    let mut budget = change_limits::MAX_OPS_PER_MESSAGE;
    entries
        .into_iter()
        .map(|e| match e {
            Entry::Change { hash, bytes } => {
                let (parsed, first) = match change_limits::parse_within(&bytes, &mut budget) {
                    Err(e) => (Err(e.into()), None),
                    Ok(c) if c.change.hash() != hash => (Err(Unread::WrongHash), None),
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
