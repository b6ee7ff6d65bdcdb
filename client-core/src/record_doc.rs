//! A record as an Automerge document.
//!
//! The document's root holds `kind`, `scope`, `serial` and the record's fields.
//! `serial` counts the records a device has made, so two records made alike in
//! the same second still differ, and so do their ids (see [`DocId`]).

use automerge::{
    ActorId, Automerge, Change, ROOT,
    transaction::{CommitOptions, Transactable},
};
use serde_json::{Map, Value};

use crate::access::Scope;
use crate::doc_json;
use crate::ids::DocId;
use crate::records::{Record, RecordKind, ValidationError};

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

/// A record with the scope its document is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    /// The scope, fixed at creation.
    pub scope: Scope,
    /// The record's current state.
    pub record: Record,
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

fn root_json(scope: &Scope, serial: u64, record: &Record) -> Map<String, Value> {
    let mut m = match serde_json::to_value(record) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    m.insert("scope".into(), Value::String(scope.to_string()));
    m.insert("serial".into(), Value::from(serial));
    m
}

/// Makes the document of a new record: one change by `actor` at `time` (unix seconds).
pub fn create(
    actor: &ActorId,
    scope: &Scope,
    serial: u64,
    record: &Record,
    time: i64,
) -> Result<(DocId, Automerge, NewChange), RecordDocError> {
    let mut doc = Automerge::new().with_actor(actor.clone());
    let mut tx = doc.transaction();
    doc_json::reconcile_map(
        &mut tx,
        &ROOT,
        &Map::new(),
        &root_json(scope, serial, record),
    )?;
    tx.commit_with(CommitOptions::default().with_time(time));
    let change = last_change(&doc)?;
    Ok((DocId::of_first_change(&change.hash), doc, change))
}

/// Replays the edit from `base` (the record as the person read it) to `new` onto
/// the document as it is now, as a change by `actor` (see [`doc_json::merge3`]).
/// Returns the record as it then stands, and the change, or `None` when the
/// edit changes nothing. The merged record must be valid.
pub fn update(
    doc: &mut Automerge,
    actor: &ActorId,
    base: &Record,
    new: &Record,
    time: i64,
) -> Result<(Record, Option<NewChange>), RecordDocError> {
    let old = doc_json::read_root(doc);
    let current = parse_root(old.clone())?;
    let serial = old.get("serial").and_then(Value::as_u64).unwrap_or(0);
    let desired = doc_json::merge3(
        &Value::Object(old.clone()),
        &Value::Object(root_json(&current.scope, serial, base)),
        &Value::Object(root_json(&current.scope, serial, new)),
    );
    let Value::Object(desired) = desired else {
        return Err(ValidationError::new("record", "not an object").into());
    };
    let merged = parse_root(desired.clone())?;
    merged.record.validate()?;
    doc.set_actor(actor.clone());
    let mut tx = doc.transaction();
    doc_json::reconcile_map(&mut tx, &ROOT, &old, &desired)?;
    if tx.pending_ops() == 0 {
        tx.rollback();
        return Ok((merged.record, None));
    }
    tx.commit_with(CommitOptions::default().with_time(time));
    Ok((merged.record, Some(last_change(doc)?)))
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

/// A record from its document's root as JSON; errors name the field at fault.
pub fn parse_root(mut root: Map<String, Value>) -> Result<StoredRecord, ValidationError> {
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
    let record = Record::from_fields(kind, Value::Object(root))?;
    Ok(StoredRecord { scope, record })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{PersonId, VillageCode};
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
        })
    }

    fn scope() -> Scope {
        Scope::MemberStudy {
            village: VillageCode::new("dongcun").expect("code"),
            member: PersonId::new("p1").expect("id"),
        }
    }

    #[test]
    fn a_created_record_reads_back_with_its_scope() {
        let actor = ActorId::from([1u8; 16]);
        let (id, doc, change) =
            create(&actor, &scope(), 1, &entry(30), 1_700_000_000).expect("create");
        assert_eq!(id, DocId::of_first_change(&change.hash));
        let back = read(&doc).expect("read");
        assert_eq!(
            back,
            StoredRecord {
                scope: scope(),
                record: entry(30)
            }
        );
    }

    #[test]
    fn the_same_record_made_twice_gets_two_ids_through_the_serial() {
        let actor = ActorId::from([1u8; 16]);
        let (a, ..) = create(&actor, &scope(), 1, &entry(30), 5).expect("create");
        let (b, ..) = create(&actor, &scope(), 2, &entry(30), 5).expect("create");
        assert_ne!(a, b);
    }

    #[test]
    fn an_update_writes_only_when_something_changed() {
        let actor = ActorId::from([1u8; 16]);
        let (_, mut doc, _) = create(&actor, &scope(), 1, &entry(30), 5).expect("create");
        assert!(
            update(&mut doc, &actor, &entry(30), &entry(30), 6)
                .expect("update")
                .1
                .is_none()
        );
        let (_, c) = update(&mut doc, &actor, &entry(30), &entry(45), 6).expect("update");
        assert!(c.is_some());
        assert_eq!(read(&doc).expect("read").record, entry(45));
    }

    #[test]
    fn a_bad_field_is_named() {
        let mut root = root_json(&scope(), 1, &entry(30));
        root.insert("minutes".into(), Value::from(-5));
        let err = parse_root(root).expect_err("negative minutes");
        assert_eq!(err.field, "minutes");
    }
}
