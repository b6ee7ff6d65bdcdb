//! A change's bytes as Automerge writes them, for the operations
//! [`crate::change_columns::read`] gives.
//!
//! A change read in one pass is kept only when its bytes are exactly those
//! Automerge writes for what was read (see [`crate::change_columns`]); bytes
//! in any other form would come back with another hash once a document
//! holding them is saved and loaded. Building Automerge's own change to
//! compare costs twice what reading did (it indexes the actors and builds a
//! change of its own), so [`is_written_form`] writes the same bytes here and
//! compares them.
//!
//! The form, from the Automerge binary format: after the chunk's type and
//! length, the dependencies in order, the author, seq, start op, time and
//! message, the other actors (those the operations name, sorted), then the
//! columns of the operations, each left out when it is empty. A column is
//! run-length encoded: two or more equal values in a row as a run, the single
//! values between runs together as one literal run, nulls as a null run, and
//! a column of nothing but nulls as nothing. Counters are written as the
//! difference from the one before; booleans as the lengths of their runs,
//! false first.
//!
//! Only what the one-pass reading gives is written: maps, lists, puts of
//! null, booleans, integers and strings, and deletes; anything else is not
//! in the written form this checks, and the change is left to Automerge.

use automerge::legacy::{ElementId, Key, ObjectId, Op, OpId, OpType};
use automerge::{ActorId, ExpandedChange, ObjType, ScalarValue};

use crate::change_columns::{
    ACTION, INSERT, KEY_ACTOR, KEY_COUNTER, KEY_STRING, OBJ_ACTOR, OBJ_COUNTER, PRED_ACTOR,
    PRED_COUNTER, PRED_GROUP, VALUE_META, VALUE_RAW,
};
use crate::change_limits::CHUNK_CHANGE;
use crate::leb::Reader;
use crate::packing::{sleb_len, write_sleb as sleb, write_uleb as uleb};

/// Whether `bytes` (a change chunk whose checksum was checked) are exactly
/// the bytes Automerge writes for `change`.
pub(crate) fn is_written_form(change: &ExpandedChange, bytes: &[u8]) -> bool {
    let Some((header, columns)) = parts(change) else {
        return false;
    };
    let mut r = Reader::new(bytes.get(8..).unwrap_or_default());
    r.take(1) == Some(&[CHUNK_CHANGE][..])
        && r.uleb() == Some((header.len() + columns.len()) as u64)
        && r.take(header.len() as u64) == Some(&header[..])
        && r.rest() == &columns[..]
}

/// Everything of the change's chunk from its type on (its checksum and
/// hash are of these bytes), or `None` for what this does not write.
#[cfg(test)]
fn body(change: &ExpandedChange) -> Option<Vec<u8>> {
    let (header, columns) = parts(change)?;
    let mut body = vec![CHUNK_CHANGE];
    uleb(&mut body, (header.len() + columns.len()) as u64);
    body.extend(header);
    body.extend(columns);
    Some(body)
}

/// The change's header (from its dependencies to its columns' specs and
/// lengths) and its columns' bytes.
fn parts(change: &ExpandedChange) -> Option<(Vec<u8>, Vec<u8>)> {
    if !change.extra_bytes.is_empty() {
        return None;
    }
    let actors = Actors::of(change);
    let columns = Columns::of(&change.operations, &actors)?;
    let mut header = Vec::with_capacity(128 + 32 * change.deps.len());
    uleb(&mut header, change.deps.len() as u64);
    if change.deps.is_sorted() {
        change.deps.iter().for_each(|d| header.extend(&d.0));
    } else {
        let mut deps = change.deps.clone();
        deps.sort_unstable();
        deps.iter().for_each(|d| header.extend(&d.0));
    }
    prefixed(&mut header, change.actor_id.to_bytes());
    uleb(&mut header, change.seq);
    uleb(&mut header, change.start_op.get());
    sleb(&mut header, change.time);
    prefixed(
        &mut header,
        change.message.as_deref().unwrap_or_default().as_bytes(),
    );
    uleb(&mut header, actors.others.len() as u64);
    for a in &actors.others {
        prefixed(&mut header, a.to_bytes());
    }
    uleb(&mut header, columns.specs.len() as u64);
    for (spec, len) in &columns.specs {
        uleb(&mut header, *spec);
        uleb(&mut header, *len as u64);
    }
    Some((header, columns.data))
}

/// The actors a change's operations name: its author first (index 0), then
/// every other in order of their bytes.
struct Actors<'a> {
    author: &'a ActorId,
    others: Vec<&'a ActorId>,
}

impl<'a> Actors<'a> {
    fn of(change: &'a ExpandedChange) -> Actors<'a> {
        let author = &change.actor_id;
        let mut others: Vec<&ActorId> = Vec::new();
        let mut note = |id: &'a OpId| {
            if id.actor() != author {
                others.push(id.actor());
            }
        };
        for op in &change.operations {
            if let ObjectId::Id(id) = &op.obj {
                note(id);
            }
            if let Key::Seq(ElementId::Id(id)) = &op.key {
                note(id);
            }
            op.pred.iter().for_each(&mut note);
        }
        others.sort_unstable();
        others.dedup();
        Actors { author, others }
    }

    fn index(&self, actor: &ActorId) -> u64 {
        if actor == self.author {
            return 0;
        }
        // Every actor an operation names was noted by `of`.
        self.others
            .binary_search(&actor)
            .map_or(u64::MAX, |i| i as u64 + 1)
    }
}

/// The operation columns: the bytes of each that is not empty, one after
/// another, and its spec and length.
struct Columns {
    specs: Vec<(u64, usize)>,
    data: Vec<u8>,
    /// The values of a literal run being written, before its length.
    literal: Vec<u8>,
}

/// An operation's action and value, for what this writes.
fn action_and_value(op: &Op) -> Option<(u64, &ScalarValue)> {
    let (action, value) = match &op.action {
        OpType::Make(ObjType::Map) => (0, &ScalarValue::Null),
        OpType::Put(v) => (1, v),
        OpType::Make(ObjType::List) => (2, &ScalarValue::Null),
        OpType::Delete => (3, &ScalarValue::Null),
        _ => return None,
    };
    match value {
        ScalarValue::Null | ScalarValue::Boolean(_) | ScalarValue::Int(_) | ScalarValue::Str(_) => {
            Some((action, value))
        }
        _ => None,
    }
}

impl Columns {
    fn of(ops: &[Op], actors: &Actors<'_>) -> Option<Columns> {
        if !ops.iter().all(|op| action_and_value(op).is_some()) {
            return None;
        }
        let mut c = Columns {
            specs: Vec::with_capacity(12),
            data: Vec::with_capacity(ops.len() * 12),
            literal: Vec::new(),
        };
        let id = |o: &OpId| (actors.index(o.actor()), o.counter());
        let obj = |op: &Op| match &op.obj {
            ObjectId::Root => None,
            ObjectId::Id(o) => Some(id(o)),
        };
        c.rle(
            OBJ_ACTOR,
            ops.iter().map(|op| obj(op).map(|(a, _)| a)),
            uleb,
        );
        c.rle(
            OBJ_COUNTER,
            ops.iter().map(|op| obj(op).map(|(_, n)| n)),
            uleb,
        );
        let key_actor = ops.iter().map(|op| match &op.key {
            Key::Seq(ElementId::Id(o)) => Some(id(o).0),
            _ => None,
        });
        c.rle(KEY_ACTOR, key_actor, uleb);
        let key_counter = ops.iter().map(|op| match &op.key {
            Key::Map(_) => None,
            Key::Seq(ElementId::Head) => Some(0),
            Key::Seq(ElementId::Id(o)) => Some(o.counter()),
        });
        c.delta(KEY_COUNTER, key_counter);
        let key_string = ops.iter().map(|op| match &op.key {
            Key::Map(s) => Some(s.as_str()),
            Key::Seq(_) => None,
        });
        c.rle(KEY_STRING, key_string, |out, s| prefixed(out, s.as_bytes()));
        c.bools(INSERT, ops.iter().map(|op| op.insert));
        let values = || ops.iter().filter_map(action_and_value);
        c.rle(ACTION, values().map(|(a, _)| Some(a)), uleb);
        let meta = values().map(|(_, v)| {
            Some(match v {
                ScalarValue::Boolean(false) => 1,
                ScalarValue::Boolean(true) => 2,
                ScalarValue::Int(n) => ((sleb_len(*n) as u64) << 4) | 4,
                ScalarValue::Str(s) => ((s.len() as u64) << 4) | 6,
                _ => 0,
            })
        });
        c.rle(VALUE_META, meta, uleb);
        c.column(VALUE_RAW, |out, _| {
            for (_, v) in values() {
                match v {
                    ScalarValue::Int(n) => sleb(out, *n),
                    ScalarValue::Str(s) => out.extend(s.as_bytes()),
                    _ => {}
                }
            }
        });
        let groups = ops.iter().map(|op| Some(op.pred.len() as u64));
        c.rle(PRED_GROUP, groups, uleb);
        let preds = || ops.iter().flat_map(|op| op.pred.iter());
        c.rle(PRED_ACTOR, preds().map(|o| Some(id(o).0)), uleb);
        c.delta(PRED_COUNTER, preds().map(|o| Some(o.counter())));
        Some(c)
    }

    /// Writes a column with `write` (given the column's bytes and a buffer
    /// to use), kept if it wrote anything.
    fn column(&mut self, spec: u64, write: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>)) {
        let start = self.data.len();
        write(&mut self.data, &mut self.literal);
        let len = self.data.len() - start;
        if len > 0 {
            self.specs.push((spec, len));
        }
    }

    fn rle<T: PartialEq + Copy>(
        &mut self,
        spec: u64,
        values: impl Iterator<Item = Option<T>>,
        write: fn(&mut Vec<u8>, T),
    ) {
        self.column(spec, |out, literal| rle(out, literal, values, write));
    }

    fn delta(&mut self, spec: u64, values: impl Iterator<Item = Option<u64>>) {
        let mut last = 0i64;
        let deltas = values.map(|v| {
            v.map(|v| {
                let v = v as i64;
                let d = v.saturating_sub(last);
                last = v;
                d
            })
        });
        self.rle(spec, deltas, sleb);
    }

    fn bools(&mut self, spec: u64, values: impl Iterator<Item = bool>) {
        self.column(spec, |out, _| {
            let (mut value, mut count) = (false, 0u64);
            for v in values {
                if v == value {
                    count += 1;
                } else {
                    uleb(out, count);
                    (value, count) = (v, 1);
                }
            }
            if count > 0 {
                uleb(out, count);
            }
        });
    }
}

/// Run-length encodes `values` onto `out`: each run of two or more equal
/// values as its length and the value, the single values between such runs
/// as one literal run (its length negated, then each value), each run of
/// nulls as a zero and its length; a column of nothing but nulls as nothing.
/// `literal` holds a literal run's values until its length is known.
fn rle<T: PartialEq + Copy>(
    out: &mut Vec<u8>,
    literal: &mut Vec<u8>,
    values: impl Iterator<Item = Option<T>>,
    write: fn(&mut Vec<u8>, T),
) {
    let start = out.len();
    let mut any = false;
    let mut singles = 0i64;
    let flush = |out: &mut Vec<u8>, literal: &mut Vec<u8>, singles: &mut i64| {
        if *singles > 0 {
            sleb(out, -*singles);
            out.append(literal);
            *singles = 0;
        }
    };
    let mut end_run =
        |out: &mut Vec<u8>, literal: &mut Vec<u8>, run: Option<(Option<T>, u64)>| match run {
            None => {}
            Some((Some(v), 1)) => {
                write(literal, v);
                singles += 1;
            }
            Some((v, n)) => {
                flush(out, literal, &mut singles);
                match v {
                    None => {
                        sleb(out, 0);
                        uleb(out, n);
                    }
                    Some(v) => {
                        sleb(out, n as i64);
                        write(out, v);
                    }
                }
            }
        };
    let mut run: Option<(Option<T>, u64)> = None;
    for v in values {
        any |= v.is_some();
        match &mut run {
            Some((r, n)) if *r == v => *n += 1,
            _ => end_run(out, literal, run.replace((v, 1))),
        }
    }
    end_run(out, literal, run);
    flush(out, literal, &mut singles);
    if !any {
        out.truncate(start);
    }
}

fn prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    uleb(out, bytes.len() as u64);
    out.extend(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change_columns::read;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjId, ROOT, ReadDoc};
    use proptest::prelude::*;

    fn rle_of(values: &[Option<u64>]) -> Vec<u8> {
        let mut out = Vec::new();
        rle(&mut out, &mut Vec::new(), values.iter().copied(), uleb);
        out
    }

    #[test]
    fn runs_literals_and_nulls_are_written_as_the_format_has_them() {
        // Two 1s: a run; 2, 3: one literal; two nulls; three 4s; a lone 5.
        let values = [
            Some(1),
            Some(1),
            Some(2),
            Some(3),
            None,
            None,
            Some(4),
            Some(4),
            Some(4),
            Some(5),
        ];
        assert_eq!(
            rle_of(&values),
            [2, 1, 0x7e, 2, 3, 0, 2, 3, 4, 0x7f, 5],
            "run, literal, nulls, run, literal"
        );
        // A literal's last value that begins a run belongs to the run.
        assert_eq!(rle_of(&[Some(1), Some(2), Some(2)]), [0x7f, 1, 2, 2]);
        // Nothing but nulls is nothing; nulls before a value are a run.
        assert_eq!(rle_of(&[None, None]), [] as [u8; 0]);
        assert_eq!(rle_of(&[None, Some(7)]), [0, 1, 0x7f, 7]);
    }

    #[test]
    fn signed_numbers_are_written_in_their_fewest_bytes() {
        for (n, bytes) in [
            (0i64, &[0u8][..]),
            (-1, &[0x7f]),
            (63, &[0x3f]),
            (64, &[0xc0, 0x00]),
            (-64, &[0x40]),
            (-65, &[0xbf, 0x7f]),
        ] {
            let mut out = Vec::new();
            sleb(&mut out, n);
            assert_eq!(out, bytes, "{n}");
        }
        for n in [i64::MIN, i64::MAX, -7_000_000_000, 1 << 40] {
            let mut out = Vec::new();
            sleb(&mut out, n);
            assert_eq!(crate::leb::Reader::new(&out).sleb(), Some(n));
        }
    }

    /// One edit of a document, as a generated test makes it.
    #[derive(Clone, Debug)]
    enum Edit {
        Put(usize, Value),
        PutInList(usize, Value),
        Insert(usize, Value),
        InsertMap(usize),
        Delete(usize),
        DeleteInList(usize),
        /// The other device's edits so far are merged in.
        Merge,
        /// The device commits its edits as a change.
        Commit,
    }

    #[derive(Clone, Debug)]
    enum Value {
        Null,
        Bool(bool),
        Int(i64),
        Str(String),
    }

    impl From<Value> for ScalarValue {
        fn from(v: Value) -> ScalarValue {
            match v {
                Value::Null => ScalarValue::Null,
                Value::Bool(b) => ScalarValue::Boolean(b),
                Value::Int(n) => ScalarValue::Int(n),
                Value::Str(s) => ScalarValue::Str(s.into()),
            }
        }
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            prop_oneof![Just(0i64), Just(-1), Just(64), any::<i64>()].prop_map(Value::Int),
            prop_oneof![Just(String::new()), Just("群众".to_owned()), "[a-c]{0,3}",]
                .prop_map(Value::Str),
        ]
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            4 => (0..4usize, value()).prop_map(|(k, v)| Edit::Put(k, v)),
            2 => (any::<usize>(), value()).prop_map(|(i, v)| Edit::PutInList(i, v)),
            4 => (any::<usize>(), value()).prop_map(|(i, v)| Edit::Insert(i, v)),
            1 => any::<usize>().prop_map(Edit::InsertMap),
            1 => (0..4usize).prop_map(Edit::Delete),
            1 => any::<usize>().prop_map(Edit::DeleteInList),
            1 => Just(Edit::Merge),
            2 => Just(Edit::Commit),
        ]
    }

    const KEYS: [&str; 4] = ["kind", "notes", "a", "群众意见"];

    /// Makes `edits` on three devices (each edit on the device it names,
    /// merging from the next), and gives every change any of them made.
    fn changes_of(edits: &[(usize, Edit)]) -> Vec<automerge::Change> {
        let mut a = AutoCommit::new().with_actor(ActorId::from([1u8; 16]));
        let list = a.put_object(ROOT, "list", ObjType::List).expect("list");
        a.put(ROOT, "m", "x").expect("put");
        a.commit();
        // Actor ids of other lengths, sorting before and after the first.
        let b = a.fork().with_actor(ActorId::from([9u8; 4]));
        let c = a.fork().with_actor(ActorId::from([0u8; 8]));
        let mut docs = [a, b, c];
        for (on, e) in edits {
            let [doc, other] = docs
                .get_disjoint_mut([on % 3, (on + 1) % 3])
                .expect("two devices");
            apply(doc, other, &list, e.clone());
        }
        let [a, b, c] = &mut docs;
        for d in [&mut *b, &mut *c] {
            d.commit();
            a.merge(d).expect("merge");
        }
        a.get_changes(&[])
    }

    fn apply(doc: &mut AutoCommit, other: &mut AutoCommit, list: &ObjId, e: Edit) {
        let len = doc.length(list);
        let maps: Vec<ObjId> = (0..len)
            .filter_map(|i| match doc.get(list, i).ok().flatten() {
                Some((automerge::Value::Object(ObjType::Map), id)) => Some(id),
                _ => None,
            })
            .collect();
        // Map edits go to the root or to a map in the list, by key.
        let map_of = |k: usize| maps.get(k % (maps.len() + 1)).cloned().unwrap_or(ROOT);
        match e {
            Edit::Put(k, v) => {
                doc.put(map_of(k), KEYS[k], ScalarValue::from(v))
                    .expect("put");
            }
            Edit::PutInList(i, v) if len > 0 => {
                doc.put(list, i % len, ScalarValue::from(v)).expect("put");
            }
            Edit::Insert(i, v) => {
                doc.insert(list, i % (len + 1), ScalarValue::from(v))
                    .expect("insert");
            }
            Edit::InsertMap(i) => {
                let m = doc
                    .insert_object(list, i % (len + 1), ObjType::Map)
                    .expect("map");
                doc.put(&m, "who", "li").expect("put");
            }
            Edit::Delete(k) => {
                let _ = doc.delete(map_of(k), KEYS[k]);
            }
            Edit::DeleteInList(i) if len > 0 => {
                doc.delete(list, i % len).expect("delete");
            }
            Edit::Merge => {
                other.commit();
                doc.merge(other).expect("merge");
            }
            Edit::Commit => {
                doc.commit();
            }
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn what_automerge_writes_is_written_here_byte_for_byte(
            edits in prop::collection::vec((0..3usize, edit()), 1..40),
        ) {
            for change in changes_of(&edits) {
                let bytes = change.raw_bytes();
                let ops = read(bytes);
                prop_assert!(ops.is_some(), "read in one pass: {:?}", change.decode());
                let ops = ops.expect("read");
                let written = body(&ops);
                prop_assert_eq!(
                    written.as_deref(),
                    Some(&bytes[8..]),
                    "{:?}",
                    change.decode()
                );
            }
        }
    }
}
