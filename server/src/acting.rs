//! The township office acting from the dashboard: each act is a change
//! authored by the officer with the actor of their own dashboard device
//! ([`registry::dashboard_device`]), made with the model's editing code
//! (`record_doc::update`, as a phone's edit is) on the record's stored
//! document, and taken in by [`ingest::ingest`] as a push from that device:
//! the same checks as any phone's change, and it reaches the village's
//! phones on their next sync. Nothing here writes documents or rows itself.

use automerge::ActorId;
use chrono::NaiveDate;
use massline_model::packing::Entry;
use massline_model::record_doc::{self, Author, NewChange};
use massline_model::records::{Filing, FilingState, HowFound, Record, RecordKind, ValidationError};
use massline_model::{DocId, PersonId, VillageCode};

use crate::db::Db;
use crate::error::Error;
use crate::registry::{self, Device};
use crate::{documents, ingest};

/// Why an act from the dashboard was not done; nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    /// The server has no such record.
    #[error("record {0} not found")]
    NotFound(DocId),
    /// The change was refused, by the act's own check or by the intake; the
    /// reason names the record and the field.
    #[error("{0}")]
    Refused(String),
    /// The officer, or their dashboard device, was revoked.
    #[error("{0} may no longer act: revoked")]
    Revoked(PersonId),
    /// The server failed.
    #[error(transparent)]
    Server(#[from] Error),
}

/// The device `person` acts through, unless they or it were revoked; with
/// the next serial of the records it makes, when `serial` asks for one.
fn device_of(db: &Db, person: &PersonId, serial: bool) -> Result<(Device, u64), ActError> {
    db.write(|tx| {
        if registry::revoked(tx, person)? {
            return Ok(None);
        }
        let device = registry::dashboard_device(tx, person)?;
        let mut n = 0;
        if serial {
            // Counted per device, as a phone counts its own (`record_doc`).
            let key = format!("dashboard_serial.{}", device.id);
            n = registry::setting(tx, &key)?
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
                + 1;
            registry::set_setting(tx, &key, &n.to_string())?;
        }
        Ok(Some((device, n)))
    })
    .map_err(|e| revoked(person, e))?
    .ok_or_else(|| ActError::Revoked(person.clone()))
}

fn revoked(person: &PersonId, e: Error) -> ActError {
    match e {
        Error::Revoked(_) => ActError::Revoked(person.clone()),
        e => ActError::Server(e),
    }
}

/// Hands `change` to the intake as a push from `device`.
fn push(db: &Db, device: &Device, change: NewChange, now: i64) -> Result<(), ActError> {
    let entry = Entry::Change {
        hash: change.hash,
        bytes: change.bytes,
    };
    let person = &device.principal.person;
    let ack = ingest::ingest(db, device, vec![entry], now).map_err(|e| revoked(person, e))?;
    match ack.refused.into_iter().next() {
        Some(r) => Err(ActError::Refused(r.reason)),
        None => Ok(()),
    }
}

fn author<'a>(actor: &'a ActorId, person: &'a PersonId, time: i64) -> Author<'a> {
    Author {
        actor,
        person,
        time,
    }
}

/// `person` edits record `id` from the dashboard: `f` gets the record as the
/// server has it and changes it (or refuses, naming the field); the change
/// is pushed through the intake from `person`'s dashboard device.
pub fn edit(
    db: &Db,
    person: &PersonId,
    id: &DocId,
    f: impl FnOnce(&mut Record) -> Result<(), ValidationError>,
) -> Result<(), ActError> {
    let (device, _) = device_of(db, person, false)?;
    let current = db
        .read(|tx| documents::current(tx, id))?
        .ok_or(ActError::NotFound(*id))?;
    let mut doc = documents::load(id, &current.state)?;
    let base = record_doc::read(&doc)
        .map_err(|e| Error::damaged(*id, e))?
        .record;
    let mut new = base.clone();
    f(&mut new).map_err(|v| ActError::Refused(format!("record {id}: {v}")))?;
    let actor = ActorId::from(device.actor.as_slice());
    let now = chrono::Utc::now().timestamp();
    let (_, change) = record_doc::update(&mut doc, &author(&actor, person, now), &base, &new)
        .map_err(|e| ActError::Refused(format!("record {id}: {e}")))?;
    let Some(change) = change else {
        return Err(ActError::Refused(format!("record {id}: nothing to change")));
    };
    push(db, &device, change, now)
}

/// `person` makes `record` in `village` (its home scope there) from the
/// dashboard, through the intake from their dashboard device; returns its id.
pub fn create(
    db: &Db,
    person: &PersonId,
    village: &VillageCode,
    record: &Record,
) -> Result<DocId, ActError> {
    let (device, serial) = device_of(db, person, true)?;
    let actor = ActorId::from(device.actor.as_slice());
    let now = chrono::Utc::now().timestamp();
    let scope = record.home_scope(village);
    let (id, _, change) = record_doc::create(&author(&actor, person, now), &scope, serial, record)
        .map_err(|e| ActError::Refused(format!("new {}: {e}", record.kind())))?;
    push(db, &device, change, now)?;
    Ok(id)
}

/// `officer` acknowledges, on `date`, the filing of measure `id`, which must
/// be a rectification measure submitted and not yet acknowledged.
pub fn acknowledge_filing(
    db: &Db,
    officer: &PersonId,
    id: &DocId,
    date: NaiveDate,
) -> Result<(), ActError> {
    edit(db, officer, id, |record| {
        let Record::Rectification(m) = record else {
            return Err(ValidationError::new(
                "kind",
                "only a rectification measure is filed",
            ));
        };
        if m.filing_state() != FilingState::Submitted {
            return Err(ValidationError::new(
                "submitted",
                format!(
                    "only a measure submitted and not yet acknowledged is acknowledged; it is {}",
                    m.filing_state()
                ),
            ));
        }
        m.filed = Some(Filing {
            date,
            acknowledged_by: officer.clone(),
        });
        Ok(())
    })
}

/// `officer` issues a problem to `village` (上级点, "issued by superiors"),
/// found `date`, with the fields the form gave (title, area, background).
pub fn issue_problem(
    db: &Db,
    officer: &PersonId,
    village: &VillageCode,
    date: NaiveDate,
    mut fields: serde_json::Map<String, serde_json::Value>,
) -> Result<DocId, ActError> {
    fields.insert("how_found".into(), HowFound::SuperiorIssued.code().into());
    fields.insert("found_on".into(), date.to_string().into());
    let record = Record::from_fields(RecordKind::Problem, serde_json::Value::Object(fields))
        .map_err(|v| ActError::Refused(format!("new {}: {v}", RecordKind::Problem)))?;
    create(db, officer, village, &record)
}
