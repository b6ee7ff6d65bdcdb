//! What the phone knows of people and records, for the record rules: its own
//! store, and the village roster it learns from the scopes it may read.

use rusqlite::Transaction;

use super::{cursors, documents};
use crate::access::{Role, Scope};
use crate::error::Error;
use crate::ids::{DocId, PersonId, VillageCode};
use crate::record_doc::StoredRecord;
use crate::records::{Context, Lookup, Record, RecordKind, Reference};
use crate::store::identity::Identity;

/// The phone's answers to the rules' questions, from one transaction.
///
/// A cadre's phone may read every member's log of its village, so its scope
/// list is the village roster as of the last sync; a member's phone knows only
/// its own person and leaves the rest to the server.
#[derive(Debug)]
pub struct StoreContext<'a> {
    /// People of the villages this phone may read: (person, village).
    roster: Vec<(PersonId, VillageCode)>,
    tx: &'a Transaction<'a>,
    me: &'a Identity,
}

impl<'a> StoreContext<'a> {
    /// Reads the roster from the scopes the phone knows.
    pub fn new(tx: &'a Transaction<'a>, me: &'a Identity) -> Result<Self, Error> {
        let roster = cursors::known(tx)?
            .into_iter()
            .filter_map(|(s, _)| match s {
                Scope::MemberStudy { village, member } => Some((member, village)),
                _ => None,
            })
            .collect();
        Ok(StoreContext { roster, tx, me })
    }

    fn knows_roster(&self) -> bool {
        self.me.principal.role != Role::Member
    }
}

impl Context for StoreContext<'_> {
    fn person_village(&self, person: &PersonId) -> Lookup<Option<VillageCode>> {
        if *person == self.me.principal.person {
            return Lookup::Found(self.me.principal.village.clone());
        }
        match self.roster.iter().find(|(p, _)| p == person) {
            Some((_, v)) => Lookup::Found(Some(v.clone())),
            None if self.knows_roster() => Lookup::Missing,
            None => Lookup::Unknown,
        }
    }

    fn record(&self, id: &DocId) -> Lookup<StoredRecord> {
        let row = match documents::get(self.tx, id) {
            Ok(Some(row)) => row,
            Ok(None) if self.knows_roster() => return Lookup::Missing,
            _ => return Lookup::Unknown,
        };
        match (row.scope, row.record) {
            (Some(scope), Some(record)) => Lookup::Found(StoredRecord {
                scope,
                record,
                withdrawn: row.withdrawn,
            }),
            _ => Lookup::Unknown,
        }
    }

    fn naming(&self, id: &DocId, kind: RecordKind) -> Lookup<Vec<StoredRecord>> {
        let Ok(rows) = documents::list(self.tx, Some(kind), false) else {
            return Lookup::Unknown;
        };
        let names = |r: &Record| {
            r.references()
                .iter()
                .any(|(_, x)| matches!(x, Reference::Record(n, _) if n == id))
        };
        Lookup::Found(
            rows.into_iter()
                .filter_map(|row| match (row.scope, row.record) {
                    (Some(scope), Some(record)) if names(&record) => Some(StoredRecord {
                        scope,
                        record,
                        withdrawn: row.withdrawn,
                    }),
                    _ => None,
                })
                .collect(),
        )
    }

    fn is_authors_copy(&self) -> bool {
        true
    }
}
