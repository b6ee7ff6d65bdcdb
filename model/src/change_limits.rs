//! What one change from a device may hold, checked before Automerge reads it.
//!
//! An Automerge change is columnar and run-length encoded: a few bytes can
//! declare millions of operations, an operation can name an actor the change
//! does not list, and parsing or applying such a change costs memory and time
//! out of all proportion to its size. [`parse`] therefore reads the chunk's
//! header and the run lengths of its columns itself, refuses anything over
//! the limits below, and only then hands the bytes to Automerge; it then
//! checks the operations the change holds against what records are made of.
//!
//! The limits are far above what any record needs: the largest field is 8,000
//! characters, the deepest record nests two objects (a list of maps, e.g. a
//! measure's progress notes), and the largest change a village's year of
//! records makes (`bench/data`) is a few kilobytes and about a hundred
//! operations.

use automerge::legacy::{ElementId, Key, ObjectId, OpId, OpType};
use automerge::{ActorId, Change, ChangeHash, ExpandedChange, ObjType, ScalarValue};
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

use crate::change_columns;
use crate::change_written;
use crate::leb::Reader;

/// Most bytes one change may have. A whole record made in one change holds at
/// most a few dozen kilobytes; a push or pull message carries at most one
/// change beyond its target size, so [`crate::packing::MAX_MESSAGE_BYTES`]
/// is sized from this.
pub const MAX_CHANGE_BYTES: usize = 1 << 20;

/// Most operations one change may hold, counted from its columns' run lengths
/// before any operation is decoded. A record's first change holds one
/// operation per field, list item and map entry: about 30 for most records, a
/// few hundred for a study session with a whole village's attendance.
pub const MAX_OPS_PER_CHANGE: u64 = 20_000;

/// Most operations the changes of one push message may hold together, counted
/// as each is checked: a message of changes each within
/// [`MAX_OPS_PER_CHANGE`] could otherwise hold 16,384 times that much work.
/// A real message (256 KiB, and at most one larger change) holds under
/// 50,000.
pub const MAX_OPS_PER_MESSAGE: u64 = 200_000;

/// Most bytes of one string value: the longest text field is 8,000
/// characters, up to 32,000 bytes of UTF-8.
pub const MAX_STRING_BYTES: usize = 64 << 10;

/// Most bytes of a map key: keys are field names, person ids (at most 64
/// bytes) and step codes.
pub const MAX_KEY_BYTES: usize = 256;

/// Most objects one change may nest inside one another, counted from the
/// root or from the object it writes into. Records nest two (a list of maps);
/// as every stored record holds exactly its canonical form, no document on
/// the server is ever deeper than its record's shape plus this, which bounds
/// every recursive walk over it.
pub const MAX_NESTING: usize = 8;

/// Most changes one change may depend on: the heads of its record as its
/// author saw them, one per device that edited it concurrently.
pub const MAX_DEPENDENCIES: u64 = 1024;

/// Most actors one change may name besides its own (the authors of the
/// objects and values it builds on).
pub const MAX_OTHER_ACTORS: u64 = 1024;

/// Most bytes of an actor id; a device's is 16.
pub const MAX_ACTOR_BYTES: u64 = 64;

/// Most bytes of a change's message; ours is `{"by":"<person>"}`.
pub const MAX_CHANGE_MESSAGE_BYTES: u64 = 256;

/// Most columns a change may have; Automerge writes at most 14.
pub const MAX_COLUMNS: u64 = 32;

pub(crate) const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
pub(crate) const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;

/// Why a change's bytes are refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeLimitError {
    /// More bytes than [`MAX_CHANGE_BYTES`].
    #[error("the change is {0} bytes long; at most {MAX_CHANGE_BYTES} are allowed")]
    TooLarge(usize),
    /// Not a plain, intact change chunk.
    #[error("not a plain Automerge change: {0}")]
    NotPlain(&'static str),
    /// A column declares more than [`MAX_OPS_PER_CHANGE`] rows.
    #[error("the change declares more than {MAX_OPS_PER_CHANGE} operations")]
    TooManyOps,
    /// A part of the change is over its limit.
    #[error("{what} is over its limit of {max}")]
    OverLimit {
        /// Which part.
        what: &'static str,
        /// The limit.
        max: u64,
    },
    /// The chunk's structure is broken.
    #[error("malformed change: {0}")]
    Malformed(&'static str),
    /// Automerge could not read it.
    #[error("not a readable Automerge change: {0}")]
    Unreadable(#[source] automerge::LoadChangeError),
    /// Not the next change of its actor in the record: Automerge asserts
    /// that each actor's changes to a document are numbered 1, 2, 3, …, and
    /// panics on a gap.
    #[error("it is change {seq} of its actor, but the record has {} of that actor's", next - 1)]
    OutOfSequence {
        /// The change's sequence number.
        seq: u64,
        /// The one the record expects of its actor.
        next: u64,
    },
    /// Its operations are not numbered on from those of the changes it
    /// depends on: Automerge applies such a change, but the document then
    /// no longer loads (it reads each change's operation count from the
    /// numbers).
    #[error("its operations are numbered from {start}, but the changes it depends on end at {}", expected - 1)]
    StartOp {
        /// The number of its first operation.
        start: u64,
        /// The number it must have.
        expected: u64,
    },
    /// Its operations are numbered from inside those of its actor's
    /// previous change to the record: it does not build on that change, and
    /// two operations would share an id.
    #[error(
        "its operations are numbered from {start}, but its actor's previous change to the record ends at {last}"
    )]
    OwnOpsReused {
        /// The number of its first operation.
        start: u64,
        /// The number of the last operation of its actor's previous change.
        last: u64,
    },
    /// An operation is not one a record is made of.
    #[error("operation {index}: {why}")]
    Operation {
        /// The operation's position in the change.
        index: usize,
        /// What is wrong with it.
        why: String,
    },
}

type Limited<T> = Result<T, ChangeLimitError>;

fn malformed<T>(why: &'static str) -> Limited<T> {
    Err(ChangeLimitError::Malformed(why))
}

/// How a column's values are encoded (the low three bits of its spec).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    /// Run-length encoded unsigned numbers (group sizes, integers, value metadata).
    Unsigned,
    /// Run-length encoded actor indexes.
    Actor,
    /// Run-length encoded signed deltas.
    Delta,
    /// Alternating run lengths of false and true.
    Boolean,
    /// Run-length encoded strings.
    String,
    /// Raw bytes of values, read as the value metadata says.
    Raw,
}

fn column_kind(spec: u64) -> ColumnKind {
    match spec & 7 {
        1 => ColumnKind::Actor,
        3 => ColumnKind::Delta,
        4 => ColumnKind::Boolean,
        5 => ColumnKind::String,
        7 => ColumnKind::Raw,
        _ => ColumnKind::Unsigned,
    }
}

/// Adds `n` rows to a column's count, refusing more than [`MAX_OPS_PER_CHANGE`].
fn add_rows(rows: &mut u64, n: u64) -> Limited<()> {
    *rows = rows.checked_add(n).ok_or(ChangeLimitError::TooManyOps)?;
    if *rows > MAX_OPS_PER_CHANGE {
        return Err(ChangeLimitError::TooManyOps);
    }
    Ok(())
}

/// Most an operation counter (or any other number in a change's columns) may
/// be: Automerge keeps counters as `u32` and panics on a larger one while
/// parsing a change.
pub const MAX_COUNTER: u64 = u32::MAX as u64;

/// Reads one value of a run-length encoded column, checking it, and returns
/// it as a delta (0 for a column of another kind).
fn rle_value(r: &mut Reader<'_>, kind: ColumnKind, actors: u64) -> Limited<i64> {
    match kind {
        ColumnKind::Delta => {
            return r
                .sleb()
                .ok_or_else(|| ChangeLimitError::Malformed("a delta value"));
        }
        ColumnKind::String => {
            let len = r
                .uleb()
                .ok_or_else(|| ChangeLimitError::Malformed("a string"))?;
            if len > MAX_KEY_BYTES as u64 {
                return Err(ChangeLimitError::OverLimit {
                    what: "a map key",
                    max: MAX_KEY_BYTES as u64,
                });
            }
            r.take(len)
                .ok_or_else(|| ChangeLimitError::Malformed("a string is cut short"))?;
        }
        ColumnKind::Actor => {
            let a = r
                .uleb()
                .ok_or_else(|| ChangeLimitError::Malformed("an actor"))?;
            if a >= actors {
                return malformed("an operation names an actor the change does not list");
            }
        }
        _ => {
            // Counters (of the objects operations write into) are read as
            // `u32`; no other number a change holds comes near.
            let n = r
                .uleb()
                .ok_or_else(|| ChangeLimitError::Malformed("a number"))?;
            if n > MAX_COUNTER {
                return malformed("a number is out of range");
            }
        }
    }
    Ok(0)
}

/// Adds `n` rows of `delta` to a delta column's running value (a counter),
/// which must stay within `0..=MAX_COUNTER`.
fn add_delta(value: &mut i64, n: u64, delta: i64) -> Limited<()> {
    let sum = i128::from(*value) + i128::from(n) * i128::from(delta);
    match i64::try_from(sum) {
        Ok(v) if (0..=MAX_COUNTER as i64).contains(&v) => {
            *value = v;
            Ok(())
        }
        _ => malformed("a counter is out of range"),
    }
}

/// Counts the rows of one column without expanding its runs.
fn column_rows(data: &[u8], kind: ColumnKind, actors: u64) -> Limited<u64> {
    let mut r = Reader::new(data);
    let mut rows = 0;
    match kind {
        ColumnKind::Raw => return Ok(0),
        ColumnKind::Boolean => {
            while !r.done() {
                let n = r
                    .uleb()
                    .ok_or_else(|| ChangeLimitError::Malformed("a boolean run"))?;
                add_rows(&mut rows, n)?;
            }
        }
        _ => {
            // A delta column's running value, each a counter Automerge reads.
            let mut value = 0;
            while !r.done() {
                let count = r
                    .sleb()
                    .ok_or_else(|| ChangeLimitError::Malformed("a run length"))?;
                if count > 0 {
                    add_rows(&mut rows, count.unsigned_abs())?;
                    let delta = rle_value(&mut r, kind, actors)?;
                    add_delta(&mut value, count.unsigned_abs(), delta)?;
                } else if count < 0 {
                    let n = count.unsigned_abs();
                    add_rows(&mut rows, n)?;
                    for _ in 0..n {
                        let delta = rle_value(&mut r, kind, actors)?;
                        add_delta(&mut value, 1, delta)?;
                    }
                } else {
                    let n = r
                        .uleb()
                        .ok_or_else(|| ChangeLimitError::Malformed("a null run"))?;
                    add_rows(&mut rows, n)?;
                }
            }
        }
    }
    Ok(rows)
}

fn over(what: &'static str, max: u64) -> ChangeLimitError {
    ChangeLimitError::OverLimit { what, max }
}

/// Checks a change chunk's bytes against the limits, reading no operation:
/// size, a plain chunk with a matching checksum, the header's counts and
/// lengths, every column's rows and the actors they name, nothing after
/// the columns. Returns how many operations it declares (its longest
/// column).
pub fn check_chunk(bytes: &[u8]) -> Limited<u64> {
    check_chunk_hashed(bytes).map(|(ops, _)| ops)
}

/// [`check_chunk`], with the change's hash (that of everything after its
/// checksum, whose first bytes the checksum is).
pub(crate) fn check_chunk_hashed(bytes: &[u8]) -> Limited<(u64, ChangeHash)> {
    if bytes.len() > MAX_CHANGE_BYTES {
        return Err(ChangeLimitError::TooLarge(bytes.len()));
    }
    let not_plain = |why| Err(ChangeLimitError::NotPlain(why));
    if bytes.get(..4) != Some(&MAGIC[..]) {
        return not_plain("it does not start as an Automerge chunk");
    }
    match bytes.get(8) {
        Some(&CHUNK_CHANGE) => {}
        Some(&CHUNK_COMPRESSED) => return not_plain("compressed changes are not accepted"),
        _ => return not_plain("the chunk is not a change"),
    }
    // The checksum is the start of the hash of everything after it; a chunk
    // whose checksum does not match would be stored but never load again.
    let hash = Sha256::digest(&bytes[8..]);
    if bytes[4..8] != hash[..4] {
        return not_plain("its checksum does not match its contents");
    }
    let hash = ChangeHash(hash.into());
    let mut r = Reader::new(&bytes[9..]);
    let len = r
        .uleb()
        .ok_or_else(|| ChangeLimitError::Malformed("chunk length"))?;
    if r.rest().len() as u64 != len {
        return malformed("the chunk length disagrees with its bytes");
    }
    let deps = r
        .uleb()
        .ok_or_else(|| ChangeLimitError::Malformed("dependencies"))?;
    if deps > MAX_DEPENDENCIES {
        return Err(over("the number of dependencies", MAX_DEPENDENCIES));
    }
    r.take(deps.saturating_mul(32))
        .ok_or_else(|| ChangeLimitError::Malformed("dependencies are cut short"))?;
    let actor = r
        .uleb()
        .ok_or_else(|| ChangeLimitError::Malformed("actor"))?;
    if actor > MAX_ACTOR_BYTES {
        return Err(over("the actor id's length", MAX_ACTOR_BYTES));
    }
    r.take(actor)
        .ok_or_else(|| ChangeLimitError::Malformed("actor is cut short"))?;
    r.uleb().ok_or_else(|| ChangeLimitError::Malformed("seq"))?;
    let start_op = r
        .uleb()
        .ok_or_else(|| ChangeLimitError::Malformed("start op"))?;
    r.sleb()
        .ok_or_else(|| ChangeLimitError::Malformed("time"))?;
    let message = r
        .uleb()
        .ok_or_else(|| ChangeLimitError::Malformed("message"))?;
    if message > MAX_CHANGE_MESSAGE_BYTES {
        return Err(over(
            "the change message's length",
            MAX_CHANGE_MESSAGE_BYTES,
        ));
    }
    r.take(message)
        .ok_or_else(|| ChangeLimitError::Malformed("message is cut short"))?;
    let others = r
        .uleb()
        .ok_or_else(|| ChangeLimitError::Malformed("other actors"))?;
    if others > MAX_OTHER_ACTORS {
        return Err(over("the number of other actors", MAX_OTHER_ACTORS));
    }
    for _ in 0..others {
        let n = r
            .uleb()
            .ok_or_else(|| ChangeLimitError::Malformed("an actor"))?;
        if n > MAX_ACTOR_BYTES {
            return Err(over("an actor id's length", MAX_ACTOR_BYTES));
        }
        r.take(n)
            .ok_or_else(|| ChangeLimitError::Malformed("an actor is cut short"))?;
    }
    let n_columns = r
        .uleb()
        .ok_or_else(|| ChangeLimitError::Malformed("columns"))?;
    if n_columns > MAX_COLUMNS {
        return Err(over("the number of columns", MAX_COLUMNS));
    }
    let mut columns = Vec::new();
    for _ in 0..n_columns {
        let spec = r
            .uleb()
            .ok_or_else(|| ChangeLimitError::Malformed("a column"))?;
        let len = r
            .uleb()
            .ok_or_else(|| ChangeLimitError::Malformed("a column"))?;
        columns.push((spec, len));
    }
    let mut most_rows = 0;
    for (spec, len) in columns {
        if spec & 8 != 0 {
            return malformed("compressed columns are not accepted");
        }
        let data = r
            .take(len)
            .ok_or_else(|| ChangeLimitError::Malformed("a column is cut short"))?;
        let rows = column_rows(data, column_kind(spec), others + 1)?;
        most_rows = most_rows.max(rows);
    }
    // Operation ids count up from the start op; keep them within what
    // Automerge accepts for a counter.
    if start_op == 0 || start_op.saturating_add(most_rows) > u64::from(u32::MAX) {
        return malformed("its operation counters are out of range");
    }
    if !r.done() {
        return malformed("bytes follow its operations");
    }
    Ok((most_rows, hash))
}

/// What a checked change's operations look like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// How many operations it holds.
    pub ops: usize,
    /// The longest chain of objects it makes inside one another.
    pub nesting: usize,
}

fn op_error<T>(index: usize, why: impl Into<String>) -> Limited<T> {
    Err(ChangeLimitError::Operation {
        index,
        why: why.into(),
    })
}

/// The places [`check_ops`] makes room for at once: a record's first
/// change writes about this many.
const WRITTEN_ROOM: usize = 64;

/// Checks a parsed change's operations: at least one, only what records are
/// made of (maps, lists, and string, integer, boolean or null values),
/// strings within [`MAX_STRING_BYTES`], objects nested at most
/// [`MAX_NESTING`] deep, and no operation overwriting or deleting another of
/// the same change (what it wrote would leave nothing in the record).
pub fn check_ops(expanded: &ExpandedChange) -> Limited<Shape> {
    // A device never makes a change of nothing (Automerge commits none), and
    // a document holding one whose operation counter starts past the
    // record's no longer loads.
    if expanded.operations.is_empty() {
        return malformed("it holds no operations");
    }
    let actor = &expanded.actor_id;
    let start = expanded.start_op.get();
    let own = |counter: u64, a: &automerge::ActorId| a == actor && counter >= start;
    // Objects this change makes, by counter, and how deep each lies below the
    // object it hangs from (where each object and item is, and whether it
    // exists, [`OpIndex::check`] checks).
    let mut made: FxHashMap<u64, usize> = FxHashMap::default();
    // Each place (a map key, a list item) the change writes, and by which
    // operation: writing one twice leaves one of the two in conflict, kept
    // but never shown.
    // Room for the usual change's operations at once (a map grown one
    // insert at a time is rebuilt at 4, 8, 16...), no more than a few dozen.
    let mut written: FxHashMap<(&ObjectId, &Key), usize> = FxHashMap::with_capacity_and_hasher(
        expanded.operations.len().min(WRITTEN_ROOM),
        Default::default(),
    );
    let mut nesting = 0;
    for (index, op) in expanded.operations.iter().enumerate() {
        let id = start.saturating_add(index as u64);
        // An object made before: the record's canonical form keeps it within
        // the record's shape.
        let depth = match &op.obj {
            ObjectId::Id(o) if own(o.0, &o.1) => made.get(&o.0).copied().unwrap_or(0),
            _ => 0,
        };
        if let Key::Map(k) = &op.key
            && k.len() > MAX_KEY_BYTES
        {
            return Err(over("a map key", MAX_KEY_BYTES as u64));
        }
        if let Some(p) = op.pred.iter().find(|p| own(p.0, &p.1)) {
            return op_error(
                index,
                format!(
                    "it overwrites or deletes operation {} of the same change, which then leaves nothing in the record",
                    p.0 - start
                ),
            );
        }
        if let Key::Seq(ElementId::Id(e)) = &op.key
            && own(e.0, &e.1)
            && !op.insert
        {
            return op_error(index, "it changes a list item the same change inserted");
        }
        if !op.insert
            && let Some(j) = written.insert((&op.obj, &op.key), index)
        {
            return op_error(
                index,
                format!("it writes the same place as operation {j}, leaving one of them unseen"),
            );
        }
        match &op.action {
            OpType::Make(ObjType::Map | ObjType::List) => {
                let d = depth + 1;
                if d > MAX_NESTING {
                    return Err(over("the nesting of objects", MAX_NESTING as u64));
                }
                nesting = nesting.max(d);
                made.insert(id, d);
            }
            OpType::Make(t) => {
                return op_error(index, format!("records hold no {t:?} objects"));
            }
            OpType::Delete if !op.insert => {}
            OpType::Put(v) => match v {
                ScalarValue::Str(s) if s.len() > MAX_STRING_BYTES => {
                    return Err(over("a string's length in bytes", MAX_STRING_BYTES as u64));
                }
                ScalarValue::Str(_)
                | ScalarValue::Int(_)
                | ScalarValue::Boolean(_)
                | ScalarValue::Null => {}
                other => {
                    return op_error(
                        index,
                        format!("records hold no {} values", scalar_kind(other)),
                    );
                }
            },
            OpType::Delete => return op_error(index, "it inserts a deletion"),
            OpType::Increment(_) => return op_error(index, "records hold no counters"),
            OpType::MarkBegin(_) | OpType::MarkEnd(_) => {
                return op_error(index, "records hold no text marks");
            }
        }
    }
    Ok(Shape {
        ops: expanded.operations.len(),
        nesting,
    })
}

/// Where an operation wrote: a key of a map, or a list item (named by the
/// operation that inserted it).
#[derive(Clone, PartialEq, Eq)]
enum Slot {
    Key(String),
    Item(OpId),
}

/// What an operation made or wrote, as far as later operations may name it.
#[derive(Clone)]
struct Made {
    obj: ObjectId,
    slot: Slot,
    /// The object it made, if it made one.
    object: Option<ObjType>,
    /// Whether it inserted a list item.
    inserted: bool,
}

/// Every operation of a record's accepted changes, by id: what a new change
/// of the record may name. Automerge trusts the changes it applies to name
/// only objects, list items and values that exist, in the right kind of
/// object, and panics or builds a document that no longer loads when one
/// does not (a list position in a map, an object that is a plain value, a
/// value it replaces under another key) or is numbered out of its actor's
/// sequence; [`OpIndex::check`] refuses those first.
#[derive(Clone, Default)]
pub struct OpIndex {
    ops: FxHashMap<OpId, Made>,
    /// The number of the last operation of each change, by hash.
    last_ops: FxHashMap<ChangeHash, u64>,
    /// Each actor's last change to the record: its sequence number and the
    /// number of its last operation.
    actors: FxHashMap<ActorId, ActorLast>,
}

/// An actor's last change to a record.
#[derive(Clone, Copy, Default)]
struct ActorLast {
    seq: u64,
    last_op: u64,
}

impl std::fmt::Debug for OpIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpIndex")
            .field("ops", &self.ops.len())
            .finish()
    }
}

impl OpIndex {
    /// Takes in a change's operations (one that [`OpIndex::check`] passed,
    /// or that the record holds).
    pub fn add(&mut self, expanded: &ExpandedChange) {
        let start = expanded.start_op.get();
        let last_op = start
            .saturating_add(expanded.operations.len() as u64)
            .saturating_sub(1);
        let actor = self.actors.entry(expanded.actor_id.clone()).or_default();
        if expanded.seq >= actor.seq {
            *actor = ActorLast {
                seq: expanded.seq,
                last_op,
            };
        }
        for (i, op) in expanded.operations.iter().enumerate() {
            let id = OpId(start.saturating_add(i as u64), expanded.actor_id.clone());
            let made = made_by(&id, op);
            self.ops.insert(id, made);
        }
        if let Some(hash) = expanded.hash {
            self.last_ops.insert(hash, last_op);
        }
    }

    /// Whether `change` is the next of its actor in the record, and every
    /// object, list item and earlier value it names is one the record has
    /// (or the change made before), of the right kind and in the right place.
    pub fn check(&self, expanded: &ExpandedChange) -> Limited<()> {
        let before = self.actors.get(&expanded.actor_id);
        let next = before.map_or(1, |last| last.seq.saturating_add(1));
        if expanded.seq != next {
            return Err(ChangeLimitError::OutOfSequence {
                seq: expanded.seq,
                next,
            });
        }
        // Automerge numbers a change's operations on from the last of those
        // it depends on. (A dependency this index does not hold is another
        // check's to refuse.)
        let known: Option<Vec<u64>> = expanded
            .deps
            .iter()
            .map(|d| self.last_ops.get(d).copied())
            .collect();
        if let Some(known) = known {
            let expected = known.into_iter().max().unwrap_or(0).saturating_add(1);
            if expanded.start_op.get() != expected {
                return Err(ChangeLimitError::StartOp {
                    start: expanded.start_op.get(),
                    expected,
                });
            }
        }
        // Each actor numbers its operations on from its own last change, as
        // every change builds on the one its actor made before. A change
        // numbered from inside its actor's earlier ones would give two
        // operations one id, which Automerge neither refuses nor survives.
        if let Some(before) = before
            && expanded.start_op.get() <= before.last_op
        {
            return Err(ChangeLimitError::OwnOpsReused {
                start: expanded.start_op.get(),
                last: before.last_op,
            });
        }
        let start = expanded.start_op.get();
        let mut own: FxHashMap<OpId, Made> = FxHashMap::default();
        for (index, op) in expanded.operations.iter().enumerate() {
            let find = |id: &OpId| own.get(id).or_else(|| self.ops.get(id));
            let obj_type = match &op.obj {
                ObjectId::Root => ObjType::Map,
                ObjectId::Id(o) => match find(o).and_then(|m| m.object) {
                    Some(t) => t,
                    None => {
                        return op_error(
                            index,
                            "it writes into an object the record does not have",
                        );
                    }
                },
            };
            let slot = match (&op.key, obj_type, op.insert) {
                (Key::Map(k), ObjType::Map, false) => Slot::Key(k.to_string()),
                (Key::Seq(ElementId::Head), ObjType::List, true) => {
                    Slot::Item(OpId(0, expanded.actor_id.clone()))
                }
                (Key::Seq(ElementId::Id(e)), ObjType::List, _) => {
                    let item = find(e).is_some_and(|m| m.inserted && m.obj == op.obj);
                    if !item {
                        return op_error(index, "it names a list item the list does not have");
                    }
                    Slot::Item(e.clone())
                }
                _ => return op_error(index, "its key does not fit the object it writes into"),
            };
            if op.insert && !op.pred.is_empty() {
                return op_error(index, "an inserted item replaces nothing");
            }
            for p in op.pred.iter() {
                let same_place = find(p).is_some_and(|m| {
                    m.obj == op.obj
                        && match (&m.slot, &slot, m.inserted) {
                            // A list item's first value is the insert itself.
                            (_, Slot::Item(e), true) => p == e,
                            (a, b, false) => a == b,
                            _ => false,
                        }
                });
                if !same_place {
                    return op_error(index, "it replaces a value that is not where it writes");
                }
            }
            if matches!(op.action, OpType::Delete) && op.pred.is_empty() {
                return op_error(index, "it deletes nothing");
            }
            let id = OpId(
                start.saturating_add(index as u64),
                expanded.actor_id.clone(),
            );
            let made = made_by(&id, op);
            own.insert(id, made);
        }
        Ok(())
    }
}

/// What operation `id` makes or writes.
fn made_by(id: &OpId, op: &automerge::legacy::Op) -> Made {
    let slot = match &op.key {
        _ if op.insert => Slot::Item(id.clone()),
        Key::Map(k) => Slot::Key(k.to_string()),
        Key::Seq(ElementId::Id(e)) => Slot::Item(e.clone()),
        Key::Seq(ElementId::Head) => Slot::Item(OpId(0, id.1.clone())),
    };
    Made {
        obj: op.obj.clone(),
        slot,
        object: match &op.action {
            OpType::Make(t) => Some(*t),
            _ => None,
        },
        inserted: op.insert,
    }
}

fn scalar_kind(v: &ScalarValue) -> &'static str {
    match v {
        ScalarValue::Bytes(_) => "byte",
        ScalarValue::Uint(_) => "unsigned",
        ScalarValue::F64(_) => "floating-point",
        ScalarValue::Counter(_) => "counter",
        ScalarValue::Timestamp(_) => "timestamp",
        ScalarValue::Unknown { .. } => "unknown",
        _ => "such",
    }
}

/// A change from a device that keeps within the limits, with its operations.
#[derive(Debug)]
pub struct Checked {
    /// Its hash.
    pub hash: ChangeHash,
    /// Its operations, decoded once for every check and reading.
    pub expanded: ExpandedChange,
    /// What they look like.
    pub shape: Shape,
    /// Automerge's reading of it, where Automerge read it.
    read: Option<Change>,
}

impl Checked {
    /// The changes it builds on (none: the first change of a record).
    pub fn deps(&self) -> &[ChangeHash] {
        &self.expanded.deps
    }

    /// Automerge's `Change`, built from the operations where they were read
    /// in one pass (Automerge writes them as the bytes read, so it is the
    /// same change). A reader that needs no more than the operations and
    /// the header (a plain first change) never pays for it.
    pub fn into_change(self) -> Limited<Change> {
        match self.read {
            Some(read) => Ok(read),
            None => built(self.expanded, self.hash),
        }
    }

    /// Its hash, its operations, and Automerge's change where Automerge read
    /// it (elsewhere [`built`] makes one from the operations, when one is
    /// needed).
    pub fn into_read(self) -> (ChangeHash, ExpandedChange, Option<Change>) {
        (self.hash, self.expanded, self.read)
    }

    /// [`Checked::into_change`], keeping the operations.
    pub fn into_parts(self) -> Limited<(Change, ExpandedChange)> {
        let change = match self.read {
            Some(read) => read,
            None => built(self.expanded.clone(), self.hash)?,
        };
        Ok((change, self.expanded))
    }
}

/// Automerge's `Change` of operations read in one pass, whose bytes hash to
/// `hash` (written out again: it costs about as much as reading them).
pub fn built(expanded: ExpandedChange, hash: ChangeHash) -> Limited<Change> {
    let change = Change::from(expanded);
    if change.hash() != hash {
        return malformed("it is not written as Automerge writes its operations");
    }
    Ok(change)
}

/// A change, checked: [`check_chunk`], then read (in one pass where it can
/// be, else by Automerge), then [`check_ops`]. Where each operation writes is
/// checked against the record ([`OpIndex::check`]) by the caller, who knows
/// the record.
pub fn parse(bytes: &[u8]) -> Limited<Checked> {
    let mut budget = MAX_OPS_PER_MESSAGE;
    parse_within(bytes, &mut budget)
}

/// [`parse`] for a change of a message whose operations so far left
/// `budget` of [`MAX_OPS_PER_MESSAGE`]; takes this change's from it.
pub fn parse_within(bytes: &[u8], budget: &mut u64) -> Limited<Checked> {
    within(bytes, budget)?.parse()
}

/// A change's bytes that [`check_chunk`] passed and whose operations its
/// message's budget took: what is left of [`parse_within`], the costly part,
/// which can run apart from (and alongside) the other changes of the message.
#[derive(Clone, Copy, Debug)]
pub struct Within<'a> {
    bytes: &'a [u8],
    hash: ChangeHash,
}

/// The first, cheap part of [`parse_within`]: the change's bytes checked,
/// and its operations taken from `budget`, the message's budget left. A
/// message's changes go through it in order.
pub fn within<'a>(bytes: &'a [u8], budget: &mut u64) -> Limited<Within<'a>> {
    let (ops, hash) = check_chunk_hashed(bytes)?;
    *budget = budget
        .checked_sub(ops)
        .ok_or(over("the operations of its message", MAX_OPS_PER_MESSAGE))?;
    Ok(Within { bytes, hash })
}

impl Within<'_> {
    /// The rest of [`parse_within`]: read, then [`check_ops`] and the
    /// written form.
    pub fn parse(self) -> Limited<Checked> {
        in_one_pass(self.bytes, self.hash).unwrap_or_else(|| by_automerge(self.bytes))
    }

    /// The change's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.bytes
    }
}

/// [`Within::parse`] with the operations read in one pass
/// ([`change_columns::read`]), kept only if Automerge writes them as exactly
/// `bytes` ([`change_written`]): then they are what Automerge reads. `None`
/// leaves the change to [`by_automerge`]. `hash` is that of `bytes`.
pub(crate) fn in_one_pass(bytes: &[u8], hash: ChangeHash) -> Option<Limited<Checked>> {
    let mut expanded = change_columns::read(bytes)?;
    if !change_written::is_written_form(&expanded, bytes) {
        return None;
    }
    expanded.hash = Some(hash);
    Some(check_ops(&expanded).map(|shape| Checked {
        hash,
        expanded,
        shape,
        read: None,
    }))
}

/// [`Within::parse`] by Automerge's reading.
pub(crate) fn by_automerge(bytes: &[u8]) -> Limited<Checked> {
    let change = Change::try_from(bytes).map_err(ChangeLimitError::Unreadable)?;
    let expanded = change.decode();
    let shape = check_ops(&expanded)?;
    // Saved and loaded again, a document holds each change as Automerge
    // writes its operations; bytes in any other form (a column declaring
    // more rows than the change has operations, a run that could be longer)
    // would come back with another hash, and the record would never load.
    if Change::from(expanded.clone()).hash() != change.hash() {
        return malformed("it is not written as Automerge writes its operations");
    }
    Ok(Checked {
        hash: change.hash(),
        expanded,
        shape,
        read: Some(change),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::access::Scope;
    use crate::ids::PersonId;
    use crate::record_doc::{self, Author};
    use crate::records::{Attendance, Record, RecordKind};
    use automerge::transaction::{CommitOptions, Transactable};
    use automerge::{ActorId, Automerge, ROOT};

    /// A record's first change, as a phone makes it.
    pub(crate) fn first_change_of(record: &Record) -> Vec<u8> {
        let actor = ActorId::from([7u8; 16]);
        let person = PersonId::new("zhang").expect("id");
        let by = Author {
            actor: &actor,
            person: &person,
            time: 1_700_000_000,
        };
        let village = crate::ids::VillageCode::new("dongcun").expect("code");
        let scope: Scope = record.home_scope(&village);
        record_doc::create(&by, &scope, 1, record)
            .expect("create")
            .2
            .bytes
    }

    /// A record of every kind, from the fixtures.
    pub(crate) fn every_kind() -> Vec<Record> {
        include_str!("records/fixtures/records.jsonl")
            .lines()
            .map(|l| serde_json::from_str(l).expect("fixture"))
            .collect()
    }

    #[test]
    fn every_kind_of_record_keeps_well_within_the_limits() {
        for record in every_kind() {
            let bytes = first_change_of(&record);
            let checked = parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", record.kind()));
            OpIndex::default()
                .check(&checked.expanded)
                .expect("names only what it makes");
            let shape = checked.shape;
            assert!(shape.nesting <= 2, "{}: {shape:?}", record.kind());
            assert!(shape.ops < 100, "{}: {shape:?}", record.kind());
        }
    }

    #[test]
    fn the_largest_records_a_village_makes_keep_within_half_the_limits() {
        // A session with 500 people marked, each absent with the longest
        // reason, and notes of 8,000 four-byte characters.
        let Some(Record::StudySession(mut s)) = every_kind()
            .into_iter()
            .find(|r| matches!(r, Record::StudySession(_)))
        else {
            panic!("no session fixture")
        };
        s.notes = "𠀀".repeat(8000);
        s.attendance = (0..500)
            .map(|i| {
                (
                    PersonId::new(format!("person-{i:03}-{}", "x".repeat(50))).expect("id"),
                    Attendance {
                        present: false,
                        reason: "外".repeat(200),
                    },
                )
            })
            .collect();
        let record = Record::StudySession(s);
        record.validate().expect("a valid record");
        let bytes = first_change_of(&record);
        assert!(bytes.len() < MAX_CHANGE_BYTES / 2, "{} bytes", bytes.len());
        let shape = parse(&bytes).expect("parse").shape;
        assert!((shape.ops as u64) < MAX_OPS_PER_CHANGE / 4, "{shape:?}");
        assert_eq!(shape.nesting, 2);
    }

    fn change_with(f: impl FnOnce(&mut automerge::transaction::Transaction<'_>)) -> Vec<u8> {
        let mut doc = Automerge::new().with_actor(ActorId::from([7u8; 16]));
        let mut tx = doc.transaction();
        f(&mut tx);
        tx.commit_with(CommitOptions::default().with_message("{\"by\":\"zhang\"}".to_string()));
        doc.get_last_local_change()
            .expect("a change")
            .raw_bytes()
            .to_vec()
    }

    #[track_caller]
    fn refused(bytes: &[u8], says: &str) {
        let err = parse(bytes).expect_err("refused");
        assert!(err.to_string().contains(says), "{err}");
    }

    #[test]
    fn objects_nested_deeper_than_the_limit_are_refused_before_automerge_reads_them() {
        let nested = |levels: usize| {
            change_with(|tx| {
                let mut obj = ROOT;
                for _ in 0..levels {
                    obj = tx.put_object(&obj, "a", ObjType::Map).expect("nest");
                }
            })
        };
        let shape = parse(&nested(MAX_NESTING)).map(|c| c.shape.nesting);
        assert!(matches!(shape, Ok(MAX_NESTING)), "{shape:?}");
        refused(&nested(MAX_NESTING + 1), "nesting");
        refused(&nested(1000), "nesting");
        refused(&nested(100_000), "operations");
    }

    #[test]
    fn only_maps_lists_strings_integers_booleans_and_null_are_taken() {
        refused(
            &change_with(|tx| {
                tx.put_object(ROOT, "t", ObjType::Text).expect("text");
            }),
            "Text",
        );
        refused(
            &change_with(|tx| {
                tx.put(ROOT, "c", ScalarValue::counter(1)).expect("counter");
            }),
            "counter",
        );
        refused(
            &change_with(|tx| {
                tx.put(ROOT, "b", ScalarValue::Bytes(vec![1, 2, 3]))
                    .expect("bytes");
            }),
            "byte",
        );
        refused(
            &change_with(|tx| {
                tx.put(ROOT, "f", 1.5).expect("float");
            }),
            "floating-point",
        );
        refused(
            &change_with(|tx| {
                tx.put(ROOT, "s", "x".repeat(MAX_STRING_BYTES + 1))
                    .expect("string");
            }),
            "string",
        );
    }

    #[test]
    fn an_operation_undoing_another_of_the_same_change_is_refused() {
        refused(
            &change_with(|tx| {
                tx.put(ROOT, "a", 1).expect("put");
                tx.put(ROOT, "a", 2).expect("put");
            }),
            "overwrites or deletes operation 0",
        );
        refused(
            &change_with(|tx| {
                tx.put(ROOT, "gone", "x".repeat(1000)).expect("put");
                tx.delete(ROOT, "gone").expect("delete");
            }),
            "overwrites or deletes",
        );
        refused(
            &change_with(|tx| {
                let l = tx.put_object(ROOT, "l", ObjType::List).expect("list");
                tx.insert(&l, 0, "x").expect("insert");
                tx.delete(&l, 0).expect("delete");
            }),
            "overwrites or deletes operation 1",
        );
    }

    #[test]
    fn a_chunk_with_a_wrong_checksum_or_compressed_is_refused() {
        let mut notice = every_kind()
            .into_iter()
            .find(|r| r.kind() == RecordKind::Notice)
            .expect("a notice");
        if let Record::Notice(n) = &mut notice {
            n.content = "公开".repeat(200);
        }
        let good = first_change_of(&notice);
        assert!(check_chunk(&good).is_ok());
        let mut wrong = good.clone();
        wrong[4] ^= 0xff;
        refused(&wrong, "checksum");
        let mut compressed = Change::try_from(&good[..]).expect("change");
        let deflated = compressed.bytes().to_vec();
        assert_ne!(deflated, good, "a change over 256 bytes is deflated");
        refused(&deflated, "compressed");
        let mut long = good.clone();
        long.extend(std::iter::repeat_n(0, MAX_CHANGE_BYTES));
        refused(&long, "bytes long");
    }

    #[test]
    fn a_change_numbered_out_of_its_actors_sequence_is_refused() {
        let mut doc = Automerge::new().with_actor(ActorId::from([7u8; 16]));
        let mut edit = |v: i64| {
            let mut tx = doc.transaction();
            tx.put(ROOT, "a", v).expect("put");
            tx.commit_with(CommitOptions::default());
            doc.get_last_local_change().expect("a change").decode()
        };
        let (first, second) = (edit(1), edit(2));
        let mut index = OpIndex::default();
        index.check(&first).expect("the first");
        index.add(&first);
        index.check(&second).expect("the next");
        for seq in [1, 3, u64::MAX] {
            let mut skipping = second.clone();
            skipping.seq = seq;
            let e = index.check(&skipping).expect_err("out of sequence");
            assert!(
                matches!(e, ChangeLimitError::OutOfSequence { seq: s, next: 2 } if s == seq),
                "{e:?}"
            );
        }
        let mut late = first.clone();
        late.seq = 2;
        assert!(
            OpIndex::default().check(&late).is_err(),
            "a first change is 1"
        );
    }

    #[test]
    fn operations_not_numbered_on_from_their_dependencies_are_refused() {
        let mut doc = Automerge::new().with_actor(ActorId::from([7u8; 16]));
        let mut edit = |v: i64| {
            let mut tx = doc.transaction();
            tx.put(ROOT, "a", v).expect("put");
            tx.put(ROOT, "b", v).expect("put");
            tx.commit_with(CommitOptions::default());
            doc.get_last_local_change().expect("a change").decode()
        };
        let (first, second) = (edit(1), edit(2));
        let mut index = OpIndex::default();
        index.add(&first);
        index
            .check(&second)
            .expect("numbered on from the first's two");
        for start in [1, 2, 4, u64::from(u32::MAX)] {
            let mut apart = second.clone();
            apart.start_op = std::num::NonZeroU64::new(start).expect("not 0");
            let e = index.check(&apart).expect_err("numbered apart");
            assert!(
                matches!(e, ChangeLimitError::StartOp { start: s, expected: 3 } if s == start),
                "{e:?}"
            );
        }
        let mut late = first.clone();
        late.start_op = std::num::NonZeroU64::new(2).expect("not 0");
        assert!(
            matches!(
                OpIndex::default().check(&late),
                Err(ChangeLimitError::StartOp { expected: 1, .. })
            ),
            "a first change's operations are numbered from 1"
        );
    }

    #[test]
    fn a_change_numbered_from_inside_its_actors_last_one_is_refused() {
        let mut doc = Automerge::new().with_actor(ActorId::from([7u8; 16]));
        let commit = |doc: &mut Automerge, v: i64| {
            let mut tx = doc.transaction();
            tx.put(ROOT, "a", v).expect("put");
            tx.commit_with(CommitOptions::default());
            doc.get_last_local_change().expect("a change").decode()
        };
        let first = commit(&mut doc, 1);
        // The same actor edits two copies of the record after its first
        // change: both edits build on the first, neither on the other.
        let mut fork = doc.fork().with_actor(ActorId::from([7u8; 16]));
        let second = commit(&mut doc, 2);
        let mut beside = commit(&mut fork, 3);
        beside.seq = 3;
        let mut index = OpIndex::default();
        index.add(&first);
        index.add(&second);
        let e = index.check(&beside).expect_err("its ids are the second's");
        assert!(
            matches!(e, ChangeLimitError::OwnOpsReused { start: 2, last: 2 }),
            "{e:?}"
        );
        let mut after = commit(&mut doc, 4);
        index
            .check(&after)
            .expect("the next change on the same copy is numbered on");
        after.seq = 2;
        assert!(index.check(&after).is_err(), "a used number");
    }

    #[test]
    fn a_change_of_nothing_is_refused() {
        let mut doc = automerge::AutoCommit::new().with_actor(ActorId::from([7u8; 16]));
        let hash = doc.empty_change(CommitOptions::default());
        let empty = doc.get_change_by_hash(&hash).expect("the change");
        refused(empty.raw_bytes(), "it holds no operations");
    }
}
