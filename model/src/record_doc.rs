//! A record as an Automerge document.
//!
//! The document's root holds `kind`, `scope`, `serial`, the record's fields and,
//! once it is withdrawn, `withdrawn`. `serial` counts the records a device has
//! made, so two records made alike in the same second still differ, and so do
//! their ids (see [`DocId`]). Every change carries its author's person id as
//! its message (`{"by":"wang"}`), which the server checks against the sending
//! device, so any copy can tell who changed what.

use automerge::{
    ActorId, Automerge, Change, ChangeHash, ROOT,
    transaction::{CommitOptions, Transactable},
};
use serde_json::{Map, Value};

use crate::access::Scope;
use crate::doc_json;
use crate::ids::{DocId, PersonId};
use crate::keeps;
use crate::records::{Record, RecordKind, ValidationError, Withdrawal};

/// Why a document could not be written or read as a record.
#[derive(Debug, thiserror::Error)]
pub enum RecordDocError {
    /// The document is not a record, or the record breaks a rule.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Automerge refused an operation.
    #[error("document: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}

/// A record with the scope its document is bound to, and its withdrawal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    /// The scope, fixed at creation.
    pub scope: Scope,
    /// The record's current state.
    pub record: Record,
    /// Set once the record was withdrawn as entered by mistake.
    pub withdrawn: Option<Withdrawal>,
}

/// A change just made to a record's document.
#[derive(Clone, Debug)]
pub struct NewChange {
    /// The change's hash.
    pub hash: automerge::ChangeHash,
    /// The change as bytes, as it is stored and sent.
    pub bytes: Vec<u8>,
}

impl NewChange {
    fn from_change(c: &Change) -> Self {
        NewChange {
            hash: c.hash(),
            bytes: c.raw_bytes().to_vec(),
        }
    }
}

/// Who makes a change, and when.
#[derive(Clone, Copy, Debug)]
pub struct Author<'a> {
    /// The device's actor.
    pub actor: &'a ActorId,
    /// The person using the device.
    pub person: &'a PersonId,
    /// Unix seconds.
    pub time: i64,
}

impl Author<'_> {
    fn commit(&self) -> CommitOptions {
        CommitOptions::default()
            .with_time(self.time)
            .with_message(message_of(self.person))
    }
}

/// The message of every change `person` makes: `{"by":"<person>"}`, and
/// nothing else, so a change carries no bytes the record does not keep.
pub fn message_of(person: &PersonId) -> String {
    serde_json::json!({ "by": person }).to_string()
}

/// The person a change names as its author, if its message names one.
pub fn author_of(change: &Change) -> Option<Result<PersonId, String>> {
    author_in(change.message())
}

/// The person a change's message names as its author, if it names one.
pub fn author_in(message: Option<&str>) -> Option<Result<PersonId, String>> {
    let message = message?;
    // Nearly every message is exactly what `message_of` writes, read as
    // written; any other goes through JSON.
    let plain = message
        .strip_prefix(r#"{"by":""#)
        .and_then(|m| m.strip_suffix(r#""}"#))
        .filter(|p| !p.chars().any(|c| c == '"' || c == '\\' || c.is_control()));
    let by = match plain {
        Some(p) => Some(p.to_owned()),
        None => serde_json::from_str::<Value>(message)
            .ok()
            .and_then(|v| v.get("by").and_then(Value::as_str).map(str::to_string)),
    };
    Some(match by {
        Some(p) => PersonId::new(p),
        None => Err(format!("change message `{message}` names no author")),
    })
}

fn root_json(
    scope: &Scope,
    serial: u64,
    record: &Record,
    withdrawn: Option<&Withdrawal>,
) -> Map<String, Value> {
    let mut m = match serde_json::to_value(record) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    m.insert("scope".into(), Value::String(scope.to_string()));
    m.insert("serial".into(), Value::from(serial));
    if let Some(w) = withdrawn.and_then(|w| serde_json::to_value(w).ok()) {
        m.insert("withdrawn".into(), w);
    }
    m
}

/// Makes the document of a new record: one change by `by`.
pub fn create(
    by: &Author<'_>,
    scope: &Scope,
    serial: u64,
    record: &Record,
) -> Result<(DocId, Automerge, NewChange), RecordDocError> {
    let mut doc = Automerge::new().with_actor(by.actor.clone());
    let mut tx = doc.transaction();
    doc_json::reconcile_map(
        &mut tx,
        &ROOT,
        &Map::new(),
        &root_json(scope, serial, record, None),
    )?;
    tx.commit_with(by.commit());
    let change = last_change(&doc)?;
    Ok((DocId::of_first_change(&change.hash), doc, change))
}

/// Makes the document's root hold `desired` (a record's root as JSON), as one
/// change by `by`; `None` when nothing differs. Returns the record it then holds.
fn write_root(
    doc: &mut Automerge,
    by: &Author<'_>,
    old: &Map<String, Value>,
    desired: Map<String, Value>,
) -> Result<(StoredRecord, Option<NewChange>), RecordDocError> {
    let stored = parse_root(desired.clone())?;
    doc.set_actor(by.actor.clone());
    let mut tx = doc.transaction();
    doc_json::reconcile_map(&mut tx, &ROOT, old, &desired)?;
    if tx.pending_ops() == 0 {
        tx.rollback();
        return Ok((stored, None));
    }
    tx.commit_with(by.commit());
    Ok((stored, Some(last_change(doc)?)))
}

/// Replays the edit from `base` (the record as the person read it) to `new` onto
/// the document as it is now, as a change by `by` (see [`doc_json::merge3`]).
/// Returns the record as it then stands, and the change, or `None` when the
/// edit changes nothing. The merged record must be valid.
pub fn update(
    doc: &mut Automerge,
    by: &Author<'_>,
    base: &Record,
    new: &Record,
) -> Result<(StoredRecord, Option<NewChange>), RecordDocError> {
    let old = doc_json::read_root(doc);
    let current = parse_root(old.clone())?;
    let serial = old.get("serial").and_then(Value::as_u64).unwrap_or(0);
    let desired = doc_json::merge3(
        &Value::Object(old.clone()),
        &Value::Object(root_json(&current.scope, serial, base, None)),
        &Value::Object(root_json(&current.scope, serial, new, None)),
    );
    let Value::Object(desired) = desired else {
        return Err(ValidationError::new("record", "not an object").into());
    };
    let (merged, change) = write_root(doc, by, &old, desired)?;
    merged.record.validate()?;
    Ok((merged, change))
}

/// Withdraws the record: sets its tombstone, as a change by `by`.
pub fn withdraw(
    doc: &mut Automerge,
    by: &Author<'_>,
    withdrawal: &Withdrawal,
) -> Result<(StoredRecord, Option<NewChange>), RecordDocError> {
    let old = doc_json::read_root(doc);
    let mut desired = old.clone();
    let w = serde_json::to_value(withdrawal)
        .map_err(|e| ValidationError::new("withdrawn", e.to_string()))?;
    desired.insert("withdrawn".into(), w);
    write_root(doc, by, &old, desired)
}

fn last_change(doc: &Automerge) -> Result<NewChange, RecordDocError> {
    doc.get_last_local_change()
        .map(|c| NewChange::from_change(&c))
        .ok_or_else(|| ValidationError::new("record", "no change was made").into())
}

/// The record a document holds now.
pub fn read(doc: &Automerge) -> Result<StoredRecord, ValidationError> {
    parse_root(doc_json::read_root(doc))
}

/// The document's root as JSON when `heads` were its latest changes.
pub fn root_at(doc: &Automerge, heads: &[ChangeHash]) -> Map<String, Value> {
    match doc_json::to_json(&doc.hydrate(Some(heads))) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A record's root taken apart: its scope, withdrawal (as written) and kind,
/// and the record's fields.
struct Parts {
    scope: Scope,
    withdrawn: Option<Value>,
    kind: RecordKind,
    fields: Value,
}

fn parts(mut root: Map<String, Value>) -> Result<Parts, ValidationError> {
    let scope = match root.remove("scope") {
        Some(Value::String(s)) => Scope::parse(&s).map_err(|e| ValidationError::new("scope", e))?,
        _ => {
            return Err(ValidationError::new(
                "scope",
                "missing: not a massline record",
            ));
        }
    };
    root.remove("serial");
    let withdrawn = root.remove("withdrawn");
    let kind = match root.remove("kind") {
        Some(Value::String(k)) => k
            .parse::<RecordKind>()
            .map_err(|e| ValidationError::new("kind", e))?,
        _ => {
            return Err(ValidationError::new(
                "kind",
                "missing: not a massline record",
            ));
        }
    };
    Ok(Parts {
        scope,
        withdrawn,
        kind,
        fields: Value::Object(root),
    })
}

fn withdrawal(w: &Value) -> Result<Withdrawal, ValidationError> {
    serde_path_to_error::deserialize::<_, Withdrawal>(w).map_err(|e| {
        ValidationError::new(
            format!("withdrawn.{}", e.path()),
            e.into_inner().to_string(),
        )
    })
}

/// A record from its document's root as JSON; errors name the field at fault.
pub fn parse_root(root: Map<String, Value>) -> Result<StoredRecord, ValidationError> {
    let p = parts(root)?;
    let withdrawn = p.withdrawn.as_ref().map(withdrawal).transpose()?;
    let record = Record::from_fields(p.kind, p.fields)?;
    Ok(StoredRecord {
        scope: p.scope,
        record,
        withdrawn,
    })
}

/// A record from a root a device wrote, as [`parse_root`] reads it; the root
/// must also hold nothing the record does not keep: no key that is not a
/// field (at any depth), no value in another form than the record writes it
/// (a `null` for a field left out, a number as text, a serial that is not a
/// whole number). Keys the root leaves out are fine: they read as the
/// field's default, as in records written before the field existed.
pub fn parse_written(root: Map<String, Value>) -> Result<StoredRecord, ValidationError> {
    if root.get("serial").is_some_and(|v| v.as_u64().is_none()) {
        return Err(ValidationError::new("serial", "must be a whole number"));
    }
    let p = parts(root)?;
    let withdrawn = match &p.withdrawn {
        None => None,
        Some(w) => {
            let read = withdrawal(w)?;
            let canonical = serde_json::to_value(&read)
                .map_err(|e| ValidationError::new("withdrawn", e.to_string()))?;
            kept("withdrawn", w, &canonical)?;
            Some(read)
        }
    };
    let record = Record::from_fields_ref(p.kind, &p.fields)?;
    // Checked as the record serializes; only a record that does not keep
    // all that was written (or one the quick check cannot follow) is
    // written out as JSON, to name the field at fault.
    if !keeps::all_of(&record, &p.fields) {
        kept("", &p.fields, &Value::Object(record.fields()))?;
    }
    Ok(StoredRecord {
        scope: p.scope,
        record,
        withdrawn,
    })
}

/// Whether `written` holds only what `canonical` (the record's own form of
/// the same value) keeps; the error names the first path that it does not.
fn kept(path: &str, written: &Value, canonical: &Value) -> Result<(), ValidationError> {
    let Some(Unkept { mut steps, extra }) = unkept(written, canonical) else {
        return Ok(());
    };
    // The path is named only when it fails: a record has many fields.
    let mut at = path.to_owned();
    while let Some(step) = steps.pop() {
        match step {
            Step::Key(k) if at.is_empty() => at.push_str(k),
            Step::Key(k) => {
                at.push('.');
                at.push_str(k);
            }
            Step::Item(i) => at.push_str(&format!("[{i}]")),
        }
    }
    if extra {
        return Err(ValidationError::new(
            at,
            "is not a field of the record: a record holds only its fields",
        ));
    }
    Err(ValidationError::new(
        if at.is_empty() { "record".into() } else { at },
        "is not written in the form the record keeps",
    ))
}

/// Where `written` first holds what `canonical` does not keep: the steps
/// to it, innermost first, and whether it is a key `canonical` lacks.
struct Unkept<'a> {
    steps: Vec<Step<'a>>,
    extra: bool,
}

enum Step<'a> {
    Key(&'a str),
    Item(usize),
}

fn unkept<'a>(written: &'a Value, canonical: &Value) -> Option<Unkept<'a>> {
    let within = |step, found: Option<Unkept<'a>>| {
        found.map(|mut u| {
            u.steps.push(step);
            u
        })
    };
    match (written, canonical) {
        (Value::Object(w), Value::Object(c)) => w.iter().find_map(|(k, v)| match c.get(k) {
            Some(cv) => within(Step::Key(k), unkept(v, cv)),
            None => Some(Unkept {
                steps: vec![Step::Key(k)],
                extra: true,
            }),
        }),
        (Value::Array(w), Value::Array(c)) if w.len() == c.len() => w
            .iter()
            .zip(c)
            .enumerate()
            .find_map(|(i, (v, cv))| within(Step::Item(i), unkept(v, cv))),
        (w, c) if w == c => None,
        _ => Some(Unkept {
            steps: Vec::new(),
            extra: false,
        }),
    }
}

/// One change in a record's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryItem {
    /// The change's hash.
    pub hash: ChangeHash,
    /// The device's actor that wrote it.
    pub actor: ActorId,
    /// The person it names as its author (checked by the server on receipt).
    pub by: Option<PersonId>,
    /// When it was made (unix seconds, by the author's clock).
    pub time: i64,
    /// The fields it changed, as its author saw the record; empty for the
    /// change that created the record.
    pub fields: Vec<String>,
}

/// Every change of a record, oldest first, with who made it and what it changed.
pub fn history(doc: &Automerge) -> Vec<HistoryItem> {
    doc.get_changes(&[])
        .iter()
        .map(|c| {
            let fields = if c.deps().is_empty() {
                Vec::new()
            } else {
                let before = root_at(doc, c.deps());
                let after = root_at(doc, &[c.hash()]);
                let mut keys: Vec<String> = before
                    .keys()
                    .chain(after.keys())
                    .filter(|k| before.get(*k) != after.get(*k))
                    .cloned()
                    .collect();
                keys.sort();
                keys.dedup();
                keys
            };
            HistoryItem {
                hash: c.hash(),
                actor: c.actor_id().clone(),
                by: author_of(c).and_then(Result::ok),
                time: c.timestamp(),
                fields,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::VillageCode;
    use crate::records::{StudyEntry, StudyMaterial, StudyMode};
    use chrono::NaiveDate;

    fn entry(minutes: u32) -> Record {
        Record::StudyEntry(StudyEntry {
            member: PersonId::new("p1").expect("id"),
            date: NaiveDate::from_ymd_opt(2024, 3, 1).expect("date"),
            material: StudyMaterial::MassLineReading,
            topic: "群众路线读本".into(),
            mode: StudyMode::SelfStudy,
            helper: None,
            minutes,
            reflection: String::new(),
            comments: Vec::new(),
        })
    }

    fn scope() -> Scope {
        Scope::MemberStudy {
            village: VillageCode::new("dongcun").expect("code"),
            member: PersonId::new("p1").expect("id"),
        }
    }

    fn stored(minutes: u32) -> StoredRecord {
        StoredRecord {
            scope: scope(),
            record: entry(minutes),
            withdrawn: None,
        }
    }

    fn p1() -> PersonId {
        PersonId::new("p1").expect("id")
    }

    fn author<'a>(actor: &'a ActorId, person: &'a PersonId, time: i64) -> Author<'a> {
        Author {
            actor,
            person,
            time,
        }
    }

    #[test]
    fn a_created_record_reads_back_with_its_scope() {
        let (actor, p) = (ActorId::from([1u8; 16]), p1());
        let (id, doc, change) =
            create(&author(&actor, &p, 1_700_000_000), &scope(), 1, &entry(30)).expect("create");
        assert_eq!(id, DocId::of_first_change(&change.hash));
        assert_eq!(read(&doc).expect("read"), stored(30));
        assert_eq!(history(&doc)[0].by, Some(p));
    }

    #[test]
    fn the_same_record_made_twice_gets_two_ids_through_the_serial() {
        let (actor, p) = (ActorId::from([1u8; 16]), p1());
        let (a, ..) = create(&author(&actor, &p, 5), &scope(), 1, &entry(30)).expect("create");
        let (b, ..) = create(&author(&actor, &p, 5), &scope(), 2, &entry(30)).expect("create");
        assert_ne!(a, b);
    }

    #[test]
    fn an_update_writes_only_when_something_changed() {
        let (actor, p) = (ActorId::from([1u8; 16]), p1());
        let by = author(&actor, &p, 6);
        let (_, mut doc, _) = create(&by, &scope(), 1, &entry(30)).expect("create");
        assert!(
            update(&mut doc, &by, &entry(30), &entry(30))
                .expect("update")
                .1
                .is_none()
        );
        let (_, c) = update(&mut doc, &by, &entry(30), &entry(45)).expect("update");
        assert!(c.is_some());
        assert_eq!(read(&doc).expect("read").record, entry(45));
    }

    #[test]
    fn a_withdrawn_record_keeps_its_fields_and_says_who_and_why() {
        let (actor, p) = (ActorId::from([1u8; 16]), p1());
        let by = author(&actor, &p, 6);
        let (_, mut doc, _) = create(&by, &scope(), 1, &entry(30)).expect("create");
        let w = Withdrawal {
            by: p.clone(),
            on: NaiveDate::from_ymd_opt(2024, 3, 2).expect("date"),
            reason: "记错了".into(),
        };
        let (after, change) = withdraw(&mut doc, &by, &w).expect("withdraw");
        assert!(change.is_some());
        assert_eq!(after.record, entry(30));
        assert_eq!(read(&doc).expect("read").withdrawn, Some(w.clone()));
        // An edit made afterwards leaves the tombstone in place.
        let (after, _) = update(&mut doc, &by, &entry(30), &entry(40)).expect("update");
        assert_eq!(after.withdrawn, Some(w));
    }

    #[test]
    fn the_history_names_each_changes_author_and_fields() {
        let (actor, p) = (ActorId::from([1u8; 16]), p1());
        let (_, mut doc, _) =
            create(&author(&actor, &p, 5), &scope(), 1, &entry(30)).expect("create");
        update(&mut doc, &author(&actor, &p, 9), &entry(30), &entry(45)).expect("update");
        let h = history(&doc);
        assert_eq!(h.len(), 2);
        assert_eq!((h[0].by.as_ref(), h[0].time), (Some(&p), 5));
        assert!(h[0].fields.is_empty());
        assert_eq!(h[1].fields, ["minutes"]);
        assert_eq!(h[1].time, 9);
        let before = parse_root(root_at(&doc, &[h[0].hash])).expect("read");
        assert_eq!(before.record, entry(30));
    }

    #[test]
    fn a_change_message_names_its_author_as_json_reads_it() {
        let json = |m: &str| {
            serde_json::from_str::<Value>(m)
                .ok()
                .and_then(|v| v.get("by").and_then(Value::as_str).map(str::to_string))
                .map(PersonId::new)
        };
        for m in [
            r#"{"by":"li"}"#,
            r#"{"by":"l\u0069"}"#,
            r#"{"by":"li","x":1}"#,
            r#"{"by":"li"} "#,
            r#"{"by":"li\"}"#,
            r#"{"by":"l"i"}"#,
            "{\"by\":\"l\ni\"}",
            r#"{"by":""}"#,
            r#"{"by":"李"}"#,
            r#"{"x":"li"}"#,
        ] {
            let read = author_in(Some(m)).and_then(Result::ok);
            assert_eq!(read, json(m).and_then(Result::ok), "{m}");
        }
        assert_eq!(
            author_in(Some(&message_of(&PersonId::new("wang").expect("id")))),
            Some(PersonId::new("wang"))
        );
    }

    #[test]
    fn a_bad_field_is_named() {
        let mut root = root_json(&scope(), 1, &entry(30), None);
        root.insert("minutes".into(), Value::from(-5));
        let err = parse_root(root).expect_err("negative minutes");
        assert_eq!(err.field, "minutes");
    }

    #[test]
    fn a_written_root_holds_only_what_the_record_keeps() {
        let root = root_json(&scope(), 1, &entry(30), None);
        assert_eq!(parse_written(root.clone()).expect("canonical"), stored(30));
        let mut short = root.clone();
        short.remove("comments");
        assert!(
            parse_written(short).is_ok(),
            "a field left out reads as its default"
        );
        for (key, value, field) in [
            ("helper", Value::Null, "helper"),
            ("serial", Value::from("一"), "serial"),
            (
                "comments",
                serde_json::json!([{"date": "2024-03-02", "text": "好",
                "author": "p1", "colour": "红"}]),
                "comments[0].colour",
            ),
            ("date", Value::from("2024-3-1"), "date"),
        ] {
            let mut r = root.clone();
            r.insert(key.into(), value);
            let err = parse_written(r).expect_err(key);
            assert_eq!(err.field, field, "{err}");
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-3i64..3).prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-2.0f64..2.0).prop_map(Value::from),
            "[ab一]{0,2}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[abc]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// The check made as a record serializes answers as walking its
        /// JSON does: for a value against itself, against another, and
        /// against itself with a key or an item more or less.
        #[test]
        fn the_quick_check_of_what_a_record_keeps_agrees_with_its_json(
            canonical in json_value(),
            other in json_value(),
        ) {
            let mut cases = vec![canonical.clone(), other.clone()];
            if let Value::Object(m) = &canonical {
                let mut more = m.clone();
                more.insert("z".into(), other.clone());
                cases.push(Value::Object(more));
                for k in m.keys() {
                    let mut less = m.clone();
                    less.remove(k);
                    cases.push(Value::Object(less));
                    let mut changed = m.clone();
                    changed.insert(k.clone(), other.clone());
                    cases.push(Value::Object(changed));
                }
            }
            if let Value::Array(a) = &canonical {
                let mut longer = a.clone();
                longer.push(other.clone());
                cases.push(Value::Array(longer));
            }
            for written in &cases {
                proptest::prop_assert_eq!(
                    keeps::all_of(&canonical, written),
                    unkept(written, &canonical).is_none(),
                    "{} against {}", written, canonical
                );
            }
        }
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let mut root = root_json(&scope(), 1, &entry(30), None);
        root.insert("grade".into(), Value::from("A"));
        let err = parse_root(root).expect_err("unknown field");
        assert!(err.reason.contains("grade"), "{err}");
    }
}
