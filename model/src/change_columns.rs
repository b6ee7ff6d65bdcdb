//! A change's operations read in one pass straight from its columns.
//!
//! Automerge reads a change twice (its parse walks every operation to check
//! it, then `decode` walks them again into an [`ExpandedChange`]), and
//! [`crate::change_limits`] writes the operations back to check that the
//! change is in Automerge's own written form. For changes of what records
//! are made of, [`read`] does the reading in one pass; the caller keeps what
//! it read only when Automerge writes it back to exactly the bytes read.
//!
//! That is enough for what was read to be what Automerge reads: Automerge's
//! writing loses nothing (it reads back whatever it wrote), so two readings
//! Automerge writes to the same bytes are the same reading. The few places
//! where Automerge's reading makes one value of several (an empty message
//! is none, an object or list position numbered 0 is the root or the list's
//! head) are read here as Automerge reads them, or not read at all.
//!
//! Anything else (other kinds of value, counters, text marks, a column this
//! reading does not know, a null where a value belongs) gives `None`, and the
//! change goes to Automerge as before.

use std::num::NonZeroU64;

use automerge::legacy::{ElementId, Key, ObjectId, Op, OpId, OpType};
use automerge::{ActorId, ChangeHash, ExpandedChange, ObjType, ScalarValue};

use crate::change_limits::{CHUNK_CHANGE, MAGIC, MAX_COUNTER, MAX_OPS_PER_CHANGE};
use crate::leb::Reader;

/// The columns of a change's operations, by spec (column id << 4 | type),
/// as Automerge writes them.
pub(crate) const OBJ_ACTOR: u64 = 0x01;
pub(crate) const OBJ_COUNTER: u64 = 0x02;
pub(crate) const KEY_ACTOR: u64 = 0x11;
pub(crate) const KEY_COUNTER: u64 = 0x13;
pub(crate) const KEY_STRING: u64 = 0x15;
pub(crate) const INSERT: u64 = 0x34;
pub(crate) const ACTION: u64 = 0x42;
pub(crate) const VALUE_META: u64 = 0x56;
pub(crate) const VALUE_RAW: u64 = 0x57;
pub(crate) const PRED_GROUP: u64 = 0x70;
pub(crate) const PRED_ACTOR: u64 = 0x71;
pub(crate) const PRED_COUNTER: u64 = 0x73;
const KNOWN: [u64; 12] = [
    OBJ_ACTOR,
    OBJ_COUNTER,
    KEY_ACTOR,
    KEY_COUNTER,
    KEY_STRING,
    INSERT,
    ACTION,
    VALUE_META,
    VALUE_RAW,
    PRED_GROUP,
    PRED_ACTOR,
    PRED_COUNTER,
];

/// The change's operations and header, read from `bytes` (a whole change
/// chunk), or `None` where this reading leaves the change to Automerge.
/// The hash is left unset.
pub fn read(bytes: &[u8]) -> Option<ExpandedChange> {
    if bytes.get(..4)? != MAGIC || *bytes.get(8)? != CHUNK_CHANGE {
        return None;
    }
    let mut r = Reader::new(bytes.get(9..)?);
    let len = r.uleb()?;
    if r.rest().len() as u64 != len {
        return None;
    }
    let n_deps = r.uleb()?;
    let deps = r
        .take(n_deps.checked_mul(32)?)?
        .chunks_exact(32)
        .map(|h| ChangeHash::try_from(h).ok())
        .collect::<Option<Vec<_>>>()?;
    let actor_len = r.uleb()?;
    let actor_id = ActorId::from(r.take(actor_len)?);
    let seq = r.uleb()?;
    let start_op = NonZeroU64::new(r.uleb()?)?;
    let time = r.sleb()?;
    let message_len = r.uleb()?;
    let message = std::str::from_utf8(r.take(message_len)?).ok()?;
    let message = (!message.is_empty()).then(|| message.to_owned());
    let n_others = r.uleb()?;
    // Each actor takes at least one byte: the count is bounded by the bytes.
    if n_others > r.rest().len() as u64 {
        return None;
    }
    let mut actors = vec![actor_id.clone()];
    for _ in 0..n_others {
        let n = r.uleb()?;
        actors.push(ActorId::from(r.take(n)?));
    }
    let n_columns = r.uleb()?;
    if n_columns > KNOWN.len() as u64 {
        return None;
    }
    let mut specs = Vec::new();
    for _ in 0..n_columns {
        specs.push((r.uleb()?, r.uleb()?));
    }
    let mut columns: [&[u8]; 12] = [&[]; 12];
    for (spec, len) in specs {
        let i = KNOWN.iter().position(|k| *k == spec)?;
        columns[i] = r.take(len)?;
    }
    if !r.done() {
        return None;
    }
    let [
        obj_actor,
        obj_counter,
        key_actor,
        key_counter,
        key_string,
        insert,
        action,
        value_meta,
        value_raw,
        pred_group,
        pred_actor,
        pred_counter,
    ] = columns;
    let mut ops = Ops {
        actors: &actors,
        obj_actor: Rle::new(obj_actor, Reader::uleb),
        obj_counter: Rle::new(obj_counter, Reader::uleb),
        key_actor: Rle::new(key_actor, Reader::uleb),
        key_counter: Delta::new(key_counter),
        key_string: Rle::new(key_string, string),
        insert: Bools::new(insert),
        action: Rle::new(action, Reader::uleb),
        value_meta: Rle::new(value_meta, Reader::uleb),
        value_raw: Reader::new(value_raw),
        pred_group: Rle::new(pred_group, Reader::uleb),
        pred_actor: Rle::new(pred_actor, Reader::uleb),
        pred_counter: Delta::new(pred_counter),
    };
    let mut operations = Vec::new();
    while !ops.action.done() {
        if operations.len() as u64 >= MAX_OPS_PER_CHANGE {
            return None;
        }
        operations.push(ops.next()?);
    }
    if !ops.value_raw.done() {
        return None;
    }
    Some(ExpandedChange {
        operations,
        actor_id,
        hash: None,
        seq,
        start_op,
        time,
        message,
        deps,
        extra_bytes: Vec::new(),
        author: None,
    })
}

fn string<'a>(r: &mut Reader<'a>) -> Option<&'a str> {
    let len = r.uleb()?;
    std::str::from_utf8(r.take(len)?).ok()
}

/// The decoders of the operation columns, read a row at a time.
struct Ops<'a> {
    actors: &'a [ActorId],
    obj_actor: Rle<'a, u64>,
    obj_counter: Rle<'a, u64>,
    key_actor: Rle<'a, u64>,
    key_counter: Delta<'a>,
    key_string: Rle<'a, &'a str>,
    insert: Bools<'a>,
    action: Rle<'a, u64>,
    value_meta: Rle<'a, u64>,
    value_raw: Reader<'a>,
    pred_group: Rle<'a, u64>,
    pred_actor: Rle<'a, u64>,
    pred_counter: Delta<'a>,
}

impl Ops<'_> {
    /// Operation `actor`'s counter `counter`; Automerge reads a counter of 0
    /// as the root object or a list's head, whatever the actor, so such an
    /// id is left to it.
    fn id(&self, actor: u64, counter: u64) -> Option<OpId> {
        if counter == 0 || counter > MAX_COUNTER {
            return None;
        }
        let actor = self.actors.get(usize::try_from(actor).ok()?)?;
        Some(OpId(counter, actor.clone()))
    }

    fn next(&mut self) -> Option<Op> {
        let obj = match (self.obj_actor.next()?, self.obj_counter.next()?) {
            (None, None) => ObjectId::Root,
            (Some(a), Some(c)) => ObjectId::Id(self.id(a, c)?),
            _ => return None,
        };
        let key = match (
            self.key_actor.next()?,
            self.key_counter.next()?,
            self.key_string.next()?,
        ) {
            (None, None, Some(s)) => Key::Map(s.into()),
            (None, Some(0), None) => Key::Seq(ElementId::Head),
            (Some(a), Some(c), None) => Key::Seq(ElementId::Id(self.id(a, c)?)),
            _ => return None,
        };
        let insert = self.insert.next()?;
        let value = self.value()?;
        let action = match (self.action.next()??, value) {
            (0, ScalarValue::Null) => OpType::Make(ObjType::Map),
            (1, v) => OpType::Put(v),
            (2, ScalarValue::Null) => OpType::Make(ObjType::List),
            (3, ScalarValue::Null) => OpType::Delete,
            _ => return None,
        };
        let n = self.pred_group.next()?.unwrap_or(0);
        if n > MAX_OPS_PER_CHANGE {
            return None;
        }
        let mut pred = Vec::new();
        for _ in 0..n {
            let (actor, counter) = (self.pred_actor.next()??, self.pred_counter.next()??);
            pred.push(self.id(actor, counter)?);
        }
        Some(Op {
            action,
            obj,
            key,
            pred: pred.into(),
            insert,
        })
    }

    /// The next value: null, a boolean, a signed integer or a string.
    fn value(&mut self) -> Option<ScalarValue> {
        let meta = self.value_meta.next()??;
        let (kind, len) = (meta & 0xf, meta >> 4);
        let raw = self.value_raw.take(len)?;
        match (kind, raw) {
            (0, []) => Some(ScalarValue::Null),
            (1, []) => Some(ScalarValue::Boolean(false)),
            (2, []) => Some(ScalarValue::Boolean(true)),
            (4, raw) => {
                let mut r = Reader::new(raw);
                let n = r.sleb()?;
                r.done().then_some(ScalarValue::Int(n))
            }
            (6, raw) => Some(ScalarValue::Str(std::str::from_utf8(raw).ok()?.into())),
            _ => None,
        }
    }
}

/// A run-length encoded column: runs of one value (a positive count), of
/// nulls (a zero, then the count), or of values each written out (a
/// negative count). A column that ends reads as nulls, as Automerge reads a
/// column a change leaves out.
struct Rle<'a, T> {
    r: Reader<'a>,
    read: fn(&mut Reader<'a>) -> Option<T>,
    left: u64,
    /// The run's value (`None` in a run of nulls), or `Err` in a run of
    /// values written out.
    run: Result<Option<T>, ()>,
}

impl<'a, T: Copy> Rle<'a, T> {
    fn new(bytes: &'a [u8], read: fn(&mut Reader<'a>) -> Option<T>) -> Self {
        Rle {
            r: Reader::new(bytes),
            read,
            left: 0,
            run: Ok(None),
        }
    }

    fn done(&self) -> bool {
        self.left == 0 && self.r.done()
    }

    /// The next row's value (`Some(None)`: a null), or `None` if the column
    /// is malformed.
    fn next(&mut self) -> Option<Option<T>> {
        if self.left == 0 {
            if self.r.done() {
                return Some(None);
            }
            let count = self.r.sleb()?;
            self.left = count.unsigned_abs();
            self.run = match count {
                1.. => Ok(Some((self.read)(&mut self.r)?)),
                ..0 => Err(()),
                0 => {
                    self.left = self.r.uleb()?;
                    Ok(None)
                }
            };
            if self.left == 0 {
                return None;
            }
        }
        self.left -= 1;
        match self.run {
            Ok(v) => Some(v),
            Err(()) => Some(Some((self.read)(&mut self.r)?)),
        }
    }
}

/// A column of counters written as run-length encoded differences.
struct Delta<'a> {
    rle: Rle<'a, i64>,
    value: i64,
}

impl<'a> Delta<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Delta {
            rle: Rle::new(bytes, Reader::sleb),
            value: 0,
        }
    }

    fn next(&mut self) -> Option<Option<u64>> {
        match self.rle.next()? {
            None => Some(None),
            Some(d) => {
                self.value = self.value.checked_add(d)?;
                Some(Some(u64::try_from(self.value).ok()?))
            }
        }
    }
}

/// A column of booleans: run lengths of false and true in turn, false
/// first. A column that ends reads as false.
struct Bools<'a> {
    r: Reader<'a>,
    value: bool,
    left: u64,
    started: bool,
}

impl<'a> Bools<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Bools {
            r: Reader::new(bytes),
            value: false,
            left: 0,
            started: false,
        }
    }

    fn next(&mut self) -> Option<bool> {
        while self.left == 0 {
            if self.r.done() {
                return Some(false);
            }
            self.left = self.r.uleb()?;
            if self.started {
                self.value = !self.value;
            }
            self.started = true;
        }
        self.left -= 1;
        Some(self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change_limits::tests::{every_kind, first_change_of};
    use crate::change_limits::{Checked, by_automerge, check_chunk_hashed, in_one_pass};
    use automerge::legacy::SortedVec;
    use automerge::transaction::Transactable;
    use automerge::{Automerge, Change, ROOT, ReadDoc};
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    /// A record made on one phone, edited there and on another phone that
    /// saw it, and edited again after the two met: every kind of operation
    /// a record's changes hold, and operations naming other actors.
    fn two_devices_changes() -> Vec<Change> {
        let mut a = Automerge::new().with_actor(ActorId::from([1u8; 16]));
        let mut tx = a.transaction();
        tx.put(ROOT, "kind", "visit").expect("put");
        tx.put(ROOT, "serial", -7_000_000_000_i64).expect("put");
        tx.put(ROOT, "done", false).expect("put");
        tx.put(ROOT, "gone", ScalarValue::Null).expect("put");
        tx.put(
            ROOT,
            "notes",
            "群众反映的问题和意见，longer than a short string",
        )
        .expect("put");
        let people = tx.put_object(ROOT, "people", ObjType::List).expect("list");
        for (i, who) in ["li", "zhang", "wang"].into_iter().enumerate() {
            let p = tx.insert_object(&people, i, ObjType::Map).expect("map");
            tx.put(&p, "who", who).expect("put");
            tx.put(&p, "age", 40 + i as i64).expect("put");
        }
        tx.commit();
        let mut b = a.fork().with_actor(ActorId::from([2u8; 16]));
        let mut tx = a.transaction();
        tx.put(ROOT, "done", true).expect("put");
        tx.delete(ROOT, "gone").expect("delete");
        tx.insert(&people, 0, "first").expect("insert");
        tx.delete(&people, 2).expect("delete");
        tx.commit();
        let mut tx = b.transaction();
        tx.put(ROOT, "notes", "改").expect("put");
        tx.put(&people, 1, "replaced").expect("put");
        let p = tx.get(&people, 2).expect("get").expect("item").1;
        tx.put(&p, "age", i64::MAX).expect("put");
        tx.commit();
        a.merge(&mut b).expect("merge");
        let mut tx = a.transaction();
        tx.put(ROOT, "notes", "合并以后").expect("put");
        tx.insert(&people, 2, "after another's").expect("insert");
        tx.put(&p, "age", i64::MIN).expect("put");
        tx.commit();
        a.get_changes(&[])
    }

    fn same(
        a: &Result<Checked, crate::change_limits::ChangeLimitError>,
        b: &Result<Checked, crate::change_limits::ChangeLimitError>,
    ) -> bool {
        match (a, b) {
            (Ok(x), Ok(y)) => {
                x.hash == y.hash
                    && x.expanded == y.expanded
                    && x.expanded.hash == y.expanded.hash
                    && x.shape == y.shape
            }
            (Err(x), Err(y)) => x.to_string() == y.to_string(),
            _ => false,
        }
    }

    #[test]
    fn the_changes_phones_make_read_in_one_pass_as_automerge_reads_them() {
        let changes = two_devices_changes();
        assert_eq!(changes.len(), 4);
        let bytes = changes
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .chain(every_kind().iter().map(first_change_of).collect::<Vec<_>>());
        for (i, b) in bytes.enumerate() {
            let automerge = Change::try_from(&b[..]).expect("a change");
            let read = read(&b).unwrap_or_else(|| panic!("change {i} is left to Automerge"));
            assert_eq!(read, automerge.decode(), "change {i}");
            let hash = automerge.hash();
            let fast = in_one_pass(&b, hash).unwrap_or_else(|| panic!("change {i} is not kept"));
            assert!(same(&fast, &by_automerge(&b)), "change {i}");
        }
    }

    /// A change of one list and one item in it, which Automerge writes as
    /// given; `item` is where the item goes, `obj` what its value is
    /// written into.
    fn list_change(item: ElementId, obj: ObjectId) -> Vec<u8> {
        let actor = ActorId::from([7u8; 16]);
        let op = |action, obj, key, insert| Op {
            action,
            obj,
            key,
            pred: SortedVec::new(),
            insert,
        };
        let list = ObjectId::Id(OpId(1, actor.clone()));
        let change = ExpandedChange {
            operations: vec![
                op(
                    OpType::Make(ObjType::List),
                    ObjectId::Root,
                    Key::Map("l".into()),
                    false,
                ),
                op(OpType::Make(ObjType::Map), list, Key::Seq(item), true),
                op(OpType::Put("v".into()), obj, Key::Map("k".into()), false),
            ],
            actor_id: actor,
            hash: None,
            seq: 1,
            start_op: NonZeroU64::MIN,
            time: 0,
            message: None,
            deps: Vec::new(),
            extra_bytes: Vec::new(),
            author: None,
        };
        Change::from(change).raw_bytes().to_vec()
    }

    #[test]
    fn ids_numbered_zero_are_left_to_automerge() {
        let actor = ActorId::from([7u8; 16]);
        let item = ObjectId::Id(OpId(2, actor.clone()));
        let plain = list_change(ElementId::Head, item.clone());
        assert!(read(&plain).is_some());
        // Automerge reads a list position numbered 0 as the head, and an
        // object numbered 0 as the root, whatever the actor: such bytes are
        // not as it writes them.
        for bytes in [
            list_change(ElementId::Id(OpId(0, actor.clone())), item),
            list_change(ElementId::Head, ObjectId::Id(OpId(0, actor))),
        ] {
            assert!(read(&bytes).is_none());
            let Err(refused) = by_automerge(&bytes) else {
                panic!("taken")
            };
            let refused = refused.to_string();
            assert!(
                refused.contains("not written as Automerge writes"),
                "{refused}"
            );
        }
    }

    /// `bytes` with `edits` made to it (positions past the chunk type,
    /// taken modulo its length), and its checksum set again.
    fn edited(bytes: &[u8], edits: &[(usize, u8)]) -> Vec<u8> {
        let mut b = bytes.to_vec();
        for (at, v) in edits {
            let at = 9 + at % (b.len() - 9);
            b[at] = *v;
        }
        let hash = Sha256::digest(&b[8..]);
        b[4..8].copy_from_slice(&hash[..4]);
        b
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn any_bytes_kept_in_one_pass_are_read_as_automerge_reads_them(
            which in 0usize..4,
            edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        ) {
            let changes = two_devices_changes();
            let bytes = edited(changes[which].raw_bytes(), &edits);
            if let Ok((_, hash)) = check_chunk_hashed(&bytes) && let Some(fast) = in_one_pass(&bytes, hash) {
                prop_assert!(same(&fast, &by_automerge(&bytes)));
            }
        }
    }
}
