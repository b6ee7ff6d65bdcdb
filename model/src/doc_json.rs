//! JSON in and out of Automerge documents.
//!
//! Records are serde structs; their JSON form is what the document holds, a
//! JSON object as an Automerge map, arrays as lists, strings as scalar strings.
//! Writing a record touches only what differs from the document, so edits made
//! elsewhere to other fields, or other list items, merge untouched.

use automerge::{
    ObjId, ObjType, ReadDoc, ScalarValue,
    hydrate::Value as HValue,
    transaction::{Transactable, Transaction},
};
use serde_json::{Map, Value};

/// The current state of a document's root as a JSON object.
pub fn read_root(doc: &automerge::Automerge) -> Map<String, Value> {
    match to_json(&doc.hydrate(None)) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A hydrated Automerge value as JSON. Counters and timestamps become numbers,
/// bytes and values of unknown type become null: records use neither.
pub fn to_json(v: &HValue) -> Value {
    match v {
        HValue::Map(m) => Value::Object(
            m.iter()
                .map(|(k, mv)| (k.clone(), to_json(&mv.value)))
                .collect(),
        ),
        HValue::List(l) => Value::Array(l.iter().map(|lv| to_json(&lv.value)).collect()),
        HValue::Text(t) => Value::String(t.to_string()),
        HValue::Scalar(s) => scalar_to_json(s),
    }
}

pub(crate) fn scalar_to_json(s: &ScalarValue) -> Value {
    match s {
        ScalarValue::Str(s) => Value::String(s.to_string()),
        ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Value::from(*i),
        ScalarValue::Uint(u) => Value::from(*u),
        ScalarValue::F64(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        ScalarValue::Counter(c) => Value::from(i64::from(c)),
        ScalarValue::Boolean(b) => Value::Bool(*b),
        ScalarValue::Bytes(_) | ScalarValue::Unknown { .. } | ScalarValue::Null => Value::Null,
    }
}

/// A JSON scalar as an Automerge scalar; `None` for objects and arrays.
fn json_to_scalar(v: &Value) -> Option<ScalarValue> {
    Some(match v {
        Value::Null => ScalarValue::Null,
        Value::Bool(b) => ScalarValue::Boolean(*b),
        Value::String(s) => ScalarValue::Str(s.as_str().into()),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => ScalarValue::Int(i),
            (None, Some(u)) => ScalarValue::Uint(u),
            _ => ScalarValue::F64(n.as_f64().unwrap_or(0.0)),
        },
        Value::Array(_) | Value::Object(_) => return None,
    })
}

/// Where a value goes: a key of a map or an index of a list, and whether the
/// index is a new element.
enum Slot<'a> {
    Key(&'a str),
    Set(usize),
    Insert(usize),
}

/// Writes `v` fresh into `obj` at `slot`.
fn write(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    slot: Slot<'_>,
    v: &Value,
) -> Result<(), automerge::AutomergeError> {
    let made = match (v, json_to_scalar(v)) {
        (_, Some(s)) => {
            match slot {
                Slot::Key(k) => tx.put(obj, k, s)?,
                Slot::Set(i) => tx.put(obj, i, s)?,
                Slot::Insert(i) => tx.insert(obj, i, s)?,
            }
            return Ok(());
        }
        (Value::Object(_), None) => (ObjType::Map, v),
        _ => (ObjType::List, v),
    };
    let child = match slot {
        Slot::Key(k) => tx.put_object(obj, k, made.0)?,
        Slot::Set(i) => tx.put_object(obj, i, made.0)?,
        Slot::Insert(i) => tx.insert_object(obj, i, made.0)?,
    };
    match made.1 {
        Value::Object(m) => reconcile_map(tx, &child, &Map::new(), m),
        Value::Array(a) => reconcile_list(tx, &child, &[], a),
        _ => Ok(()),
    }
}

/// Makes map `obj`, now holding `old`, hold `new`, writing only differences.
pub fn reconcile_map(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<(), automerge::AutomergeError> {
    for key in old.keys() {
        if !new.contains_key(key) {
            tx.delete(obj, key.as_str())?;
        }
    }
    for (key, nv) in new {
        let ov = old.get(key);
        if ov == Some(nv) {
            continue;
        }
        let child = tx.get(obj, key.as_str())?.map(|(_, id)| id);
        match (ov, nv, child) {
            (Some(Value::Object(o)), Value::Object(n), Some(id)) => reconcile_map(tx, &id, o, n)?,
            (Some(Value::Array(o)), Value::Array(n), Some(id)) => reconcile_list(tx, &id, o, n)?,
            _ => write(tx, obj, Slot::Key(key), nv)?,
        }
    }
    Ok(())
}

/// Makes list `obj`, now holding `old`, hold `new`: changed items are edited in
/// place, new items appended, surplus items removed from the end.
pub fn reconcile_list(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    old: &[Value],
    new: &[Value],
) -> Result<(), automerge::AutomergeError> {
    for i in (new.len()..old.len()).rev() {
        tx.delete(obj, i)?;
    }
    for (i, nv) in new.iter().enumerate() {
        match old.get(i) {
            None => write(tx, obj, Slot::Insert(i), nv)?,
            Some(ov) if ov == nv => {}
            Some(ov) => {
                let child = tx.get(obj, i)?.map(|(_, id)| id);
                match (ov, nv, child) {
                    (Value::Object(o), Value::Object(n), Some(id)) => reconcile_map(tx, &id, o, n)?,
                    (Value::Array(o), Value::Array(n), Some(id)) => reconcile_list(tx, &id, o, n)?,
                    _ => write(tx, obj, Slot::Set(i), nv)?,
                }
            }
        }
    }
    Ok(())
}

/// The edit a person made from `base` to `new`, replayed onto `current` (the
/// document as it is now, perhaps changed by others since `base` was read):
/// fields they changed take their value, fields they left keep `current`'s,
/// list items they appended are appended after any appended meanwhile.
pub fn merge3(current: &Value, base: &Value, new: &Value) -> Value {
    if new == base {
        return current.clone();
    }
    match (current, base, new) {
        (Value::Object(c), Value::Object(b), Value::Object(n)) => {
            let mut out = c.clone();
            for (k, bv) in b {
                match n.get(k) {
                    None => {
                        out.remove(k);
                    }
                    Some(nv) if nv != bv => {
                        let merged = c.get(k).map_or_else(|| nv.clone(), |cv| merge3(cv, bv, nv));
                        out.insert(k.clone(), merged);
                    }
                    Some(_) => {}
                }
            }
            for (k, nv) in n {
                if !b.contains_key(k) {
                    out.insert(k.clone(), nv.clone());
                }
            }
            Value::Object(out)
        }
        (Value::Array(c), Value::Array(b), Value::Array(n)) => {
            let mut out = c.clone();
            let common = b.len().min(n.len());
            for i in 0..common {
                if n[i] != b[i]
                    && let Some(ci) = out.get_mut(i)
                {
                    *ci = merge3(&ci.clone(), &b[i], &n[i]);
                }
            }
            for i in (n.len()..b.len()).rev() {
                if out.get(i) == Some(&b[i]) {
                    out.remove(i);
                }
            }
            out.extend(n.iter().skip(b.len()).cloned());
            Value::Array(out)
        }
        _ => new.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{Automerge, ROOT};
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn set(doc: &mut Automerge, v: Value) -> usize {
        let old = read_root(doc);
        let mut tx = doc.transaction();
        reconcile_map(&mut tx, &ROOT, &old, &obj(v)).expect("reconcile");
        let n = tx.pending_ops();
        tx.commit();
        n
    }

    #[test]
    fn a_document_holds_exactly_the_json_written() {
        let mut doc = Automerge::new();
        let v = json!({"a": "x", "n": 5, "neg": -3, "b": true,
            "list": [{"d": "2024-01-01", "t": "note"}], "m": {"k": [1, 2]}});
        set(&mut doc, v.clone());
        assert_eq!(Value::Object(read_root(&doc)), v);
    }

    #[test]
    fn writing_the_same_json_again_makes_no_operations() {
        let mut doc = Automerge::new();
        let v = json!({"a": "x", "list": [{"t": "n"}]});
        set(&mut doc, v.clone());
        assert_eq!(set(&mut doc, v), 0);
    }

    #[test]
    fn only_changed_fields_are_written() {
        let mut doc = Automerge::new();
        set(&mut doc, json!({"a": "x", "b": "y", "list": [{"t": "1"}]}));
        let ops = set(
            &mut doc,
            json!({"a": "x", "b": "z", "list": [{"t": "1"}, {"t": "2"}]}),
        );
        // one put for b, one insert of a map and one put into it
        assert_eq!(ops, 3);
        assert_eq!(
            Value::Object(read_root(&doc)),
            json!({"a": "x", "b": "z", "list": [{"t": "1"}, {"t": "2"}]})
        );
        set(&mut doc, json!({"a": "x"}));
        assert_eq!(Value::Object(read_root(&doc)), json!({"a": "x"}));
    }

    #[test]
    fn an_edit_replayed_on_a_changed_document_keeps_both() {
        let base = json!({"status": "planned", "deadline": "2024-05-01", "notes": [{"t": "1"}]});
        let current = json!({"status": "planned", "deadline": "2024-05-01",
            "notes": [{"t": "1"}, {"t": "other"}]});
        let new = json!({"status": "done", "deadline": "2024-05-01",
            "notes": [{"t": "1"}, {"t": "mine"}]});
        assert_eq!(
            merge3(&current, &base, &new),
            json!({"status": "done", "deadline": "2024-05-01",
                "notes": [{"t": "1"}, {"t": "other"}, {"t": "mine"}]})
        );
        let removed = json!({"status": "planned", "notes": [{"t": "1"}]});
        assert_eq!(
            merge3(&current, &base, &removed),
            json!({"status": "planned", "notes": [{"t": "1"}, {"t": "other"}]})
        );
    }

    #[test]
    fn concurrent_appends_to_a_list_both_survive() {
        let mut base = Automerge::new();
        set(&mut base, json!({"status": "planned", "notes": []}));
        let mut a = base.fork();
        let mut b = base.fork();
        set(&mut a, json!({"status": "done", "notes": []}));
        set(
            &mut b,
            json!({"status": "planned", "notes": [{"t": "from b"}]}),
        );
        a.merge(&mut b).expect("merge");
        assert_eq!(
            Value::Object(read_root(&a)),
            json!({"status": "done", "notes": [{"t": "from b"}]})
        );
    }
}
