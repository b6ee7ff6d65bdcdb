//! The township office acting from the dashboard: each act is a change
//! authored by the officer with the actor of their own dashboard device
//! ([`registry::dashboard_device`]), made with the model's editing code
//! (`record_doc::update`, as a phone's edit is) on the record's stored
//! document, and taken in by [`ingest::ingest`] as a push from that device:
//! the same checks as any phone's change, and it reaches the village's
//! phones on their next sync. Nothing here writes documents or rows itself.

use chrono::NaiveDate;
use massline_model::packing::Entry;
use massline_model::record_doc::{self, Author};
use massline_model::records::{Filing, FilingState, Record, ValidationError};
use massline_model::{DocId, PersonId};

use crate::db::Db;
use crate::error::Error;
use crate::{documents, ingest, registry};

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

/// `person` edits record `id` from the dashboard: `f` gets the record as the
/// server has it and changes it (or refuses, naming the field); the change
/// is pushed through the intake from `person`'s dashboard device. Returns
/// the change's hash.
pub fn edit(
    db: &Db,
    person: &PersonId,
    id: &DocId,
    f: impl FnOnce(&mut Record) -> Result<(), ValidationError>,
) -> Result<automerge::ChangeHash, ActError> {
    let revoked = |e: Error| match e {
        Error::Revoked(_) => ActError::Revoked(person.clone()),
        e => ActError::Server(e),
    };
    let device = db
        .write(|tx| {
            if registry::revoked(tx, person)? {
                return Ok(None);
            }
            registry::dashboard_device(tx, person).map(Some)
        })
        .map_err(revoked)?
        .ok_or_else(|| ActError::Revoked(person.clone()))?;
    let current = db
        .read(|tx| documents::current(tx, id))?
        .ok_or(ActError::NotFound(*id))?;
    let mut doc = documents::load(id, &current.state)?;
    let base = record_doc::read(&doc)
        .map_err(|e| Error::damaged(*id, e))?
        .record;
    let mut new = base.clone();
    f(&mut new).map_err(|v| ActError::Refused(format!("record {id}: {v}")))?;
    let actor = automerge::ActorId::from(device.actor.as_slice());
    let now = chrono::Utc::now().timestamp();
    let author = Author {
        actor: &actor,
        person,
        time: now,
    };
    let (_, change) = record_doc::update(&mut doc, &author, &base, &new)
        .map_err(|e| ActError::Refused(format!("record {id}: {e}")))?;
    let Some(change) = change else {
        return Err(ActError::Refused(format!("record {id}: nothing to change")));
    };
    let entry = Entry::Change {
        hash: change.hash,
        bytes: change.bytes,
    };
    let ack = ingest::ingest(db, &device, vec![entry], now).map_err(revoked)?;
    match ack.refused.into_iter().next() {
        Some(r) => Err(ActError::Refused(r.reason)),
        None => Ok(change.hash),
    }
}

/// `officer` acknowledges, on `date`, the filing of measure `id`, which must
/// be a rectification measure submitted and not yet acknowledged.
pub fn acknowledge_filing(
    db: &Db,
    officer: &PersonId,
    id: &DocId,
    date: NaiveDate,
) -> Result<automerge::ChangeHash, ActError> {
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
