//! The state a record's first change creates, read straight from its operations.
//!
//! Most changes a township sees are the first change of a new record: one
//! actor's operations, in order, on an empty document. Their result needs none
//! of the CRDT machinery that makes building an Automerge document cost far
//! more than everything else done with a new record, so it is read here
//! directly from the decoded operations. Any change outside that plain shape
//! (dependencies, several actors, conflicting writes, text, counters, marks)
//! gives `None`, and the caller materializes it with Automerge as usual.
//! Tests check the result against Automerge for the shapes records take.

use std::collections::BTreeMap;

use automerge::legacy::{ElementId, Key, ObjectId, OpId, OpType};
use automerge::{Change, ExpandedChange, ObjType, ScalarValue};
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use crate::doc_json;

/// What a slot holds: a scalar, or an object made by the op with that counter.
#[derive(Clone)]
enum Val {
    Scalar(ScalarValue),
    Obj(u64),
}

/// A value and the counter of the op that wrote it (what a later op's `pred` names).
#[derive(Clone)]
struct Slot {
    by: u64,
    val: Val,
}

enum Node {
    Map(BTreeMap<String, Slot>),
    /// Elements in order: (counter of the inserting op, current value).
    List(Vec<(u64, Slot)>),
}

/// The document root a first change produces, as JSON; `None` if the change
/// is not the plain first change of a document.
pub fn root_of(change: &Change) -> Option<Map<String, Value>> {
    if !change.deps().is_empty() || change.seq() != 1 {
        return None;
    }
    root_of_expanded(change.decode())
}

/// [`root_of`] for a change already decoded.
pub fn root_of_expanded(expanded: ExpandedChange) -> Option<Map<String, Value>> {
    if !expanded.deps.is_empty() || expanded.seq != 1 {
        return None;
    }
    let actor = expanded.actor_id;
    let counter = |id: &OpId| (id.1 == actor).then_some(id.0);
    let mut nodes: FxHashMap<u64, Node> = FxHashMap::default();
    const ROOT: u64 = 0;
    nodes.insert(ROOT, Node::Map(BTreeMap::new()));
    let start = expanded.start_op.get();
    for (i, op) in expanded.operations.into_iter().enumerate() {
        let id = start.checked_add(i as u64)?;
        let target = match &op.obj {
            ObjectId::Root => ROOT,
            ObjectId::Id(o) => counter(o)?,
        };
        // At most one value is replaced: a first change has no conflicts.
        let pred = match op.pred.len() {
            0 => None,
            1 => Some(op.pred.iter().next().and_then(counter)?),
            _ => return None,
        };
        let made = match &op.action {
            OpType::Make(ObjType::List) => Some(Node::List(Vec::new())),
            OpType::Make(ObjType::Map | ObjType::Table) => Some(Node::Map(BTreeMap::new())),
            _ => None,
        };
        let new_val = match op.action {
            OpType::Put(v) => Some(Val::Scalar(v)),
            OpType::Make(ObjType::Map | ObjType::Table) => Some(Val::Obj(id)),
            OpType::Make(ObjType::List) => Some(Val::Obj(id)),
            OpType::Delete => None,
            _ => return None,
        };
        match (nodes.get_mut(&target)?, op.key, op.insert) {
            (Node::Map(m), Key::Map(k), false) => {
                if pred != m.get(k.as_str()).map(|s| s.by) {
                    return None;
                }
                match new_val {
                    Some(val) => {
                        m.insert(k.to_string(), Slot { by: id, val });
                    }
                    None => {
                        m.remove(k.as_str())?;
                    }
                }
            }
            (Node::List(l), Key::Seq(elem), true) => {
                let v = new_val?;
                if pred.is_some() {
                    return None;
                }
                let pos = match elem {
                    ElementId::Head => 0,
                    // Items are mostly appended: look from the end.
                    ElementId::Id(e) => {
                        let e = counter(&e)?;
                        l.iter().rposition(|(el, _)| *el == e)? + 1
                    }
                };
                // The newest insert after an element goes right after it.
                l.insert(pos, (id, Slot { by: id, val: v }));
            }
            (Node::List(l), Key::Seq(ElementId::Id(e)), false) => {
                let e = counter(&e)?;
                let pos = l.iter().rposition(|(el, _)| *el == e)?;
                if pred != Some(l[pos].1.by) {
                    return None;
                }
                match new_val {
                    Some(val) => l[pos].1 = Slot { by: id, val },
                    None => {
                        l.remove(pos);
                    }
                }
            }
            _ => return None,
        }
        if let Some(node) = made {
            nodes.insert(id, node);
        }
    }
    match to_json(&nodes, ROOT, 0)? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn to_json(nodes: &FxHashMap<u64, Node>, id: u64, depth: usize) -> Option<Value> {
    if depth > 64 {
        return None;
    }
    let val = |s: &Slot| match &s.val {
        Val::Scalar(v) => Some(doc_json::scalar_to_json(v)),
        Val::Obj(o) => to_json(nodes, *o, depth + 1),
    };
    Some(match nodes.get(&id)? {
        Node::Map(m) => Value::Object(
            m.iter()
                .map(|(k, s)| Some((k.clone(), val(s)?)))
                .collect::<Option<_>>()?,
        ),
        Node::List(l) => Value::Array(l.iter().map(|(_, s)| val(s)).collect::<Option<_>>()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{Automerge, ROOT as AM_ROOT};
    use proptest::prelude::*;
    use serde_json::json;

    fn first(doc: &Automerge) -> Change {
        doc.get_last_local_change().expect("a change")
    }

    fn from_json(v: &Value) -> Automerge {
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        if let Value::Object(m) = v {
            doc_json::reconcile_map(&mut tx, &AM_ROOT, &Map::new(), m).expect("write");
        }
        tx.commit();
        doc
    }

    #[test]
    fn a_record_shaped_first_change_reads_as_automerge_reads_it() {
        let v = json!({"kind": "rectification", "scope": "v/a/shared", "serial": 7,
            "responsible": ["li", "zhang"], "progress": [{"date": "2024-01-01", "text": "t"}],
            "filed": {"date": "2024-02-01", "by": "liu"}, "ok": true, "n": -3});
        let doc = from_json(&v);
        assert_eq!(root_of(&first(&doc)).map(Value::Object), Some(v.clone()));
        assert_eq!(Value::Object(doc_json::read_root(&doc)), v);
    }

    #[test]
    fn overwrites_deletes_and_inserts_in_one_change_match_automerge() {
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        tx.put(AM_ROOT, "a", 1).expect("put");
        tx.put(AM_ROOT, "a", 2).expect("put");
        tx.put(AM_ROOT, "gone", "x").expect("put");
        tx.delete(AM_ROOT, "gone").expect("delete");
        let l = tx.put_object(AM_ROOT, "l", ObjType::List).expect("list");
        tx.insert(&l, 0, "c").expect("insert");
        tx.insert(&l, 0, "a").expect("insert");
        tx.insert(&l, 1, "b").expect("insert");
        tx.put(&l, 2, "C").expect("put");
        tx.delete(&l, 0).expect("delete");
        let m = tx.put_object(AM_ROOT, "m", ObjType::Map).expect("map");
        tx.put(&m, "k", "v").expect("put");
        tx.put_object(AM_ROOT, "m", ObjType::Map)
            .expect("replace map");
        tx.commit();
        assert_eq!(root_of(&first(&doc)), Some(doc_json::read_root(&doc)));
    }

    #[test]
    fn changes_outside_the_plain_shape_are_left_to_automerge() {
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        tx.put_object(AM_ROOT, "t", ObjType::Text).expect("text");
        tx.commit();
        assert!(root_of(&first(&doc)).is_none(), "text");

        let mut doc = from_json(&json!({"a": 1}));
        let mut tx = doc.transaction();
        tx.put(AM_ROOT, "a", 2).expect("put");
        tx.commit();
        assert!(root_of(&first(&doc)).is_none(), "a second change");

        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        tx.put(AM_ROOT, "c", ScalarValue::counter(1))
            .expect("counter");
        tx.increment(AM_ROOT, "c", 2).expect("increment");
        tx.commit();
        assert!(root_of(&first(&doc)).is_none(), "counter");
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z\u{4e00}-\u{4e20}]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,6}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_document_reads_the_same_both_ways(
            root in prop::collection::btree_map("[a-z_]{1,6}", json_value(), 1..8)
        ) {
            let v = Value::Object(root.into_iter().collect());
            let doc = from_json(&v);
            prop_assert_eq!(root_of(&first(&doc)).map(Value::Object), Some(v));
        }
    }
}
