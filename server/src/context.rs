//! The server's answers to the record rules' questions: people from the
//! registry, records from the stored documents and from the message being
//! taken in.

use massline_model::record_doc::StoredRecord;
use massline_model::records::{Context, Lookup};
use massline_model::{DocId, PersonId, VillageCode};
use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::Transaction;

use crate::{documents, registry};

/// The registry and the documents, seen from one write transaction, plus the
/// records changed earlier in the same push message and not yet written.
pub struct ServerContext<'a> {
    /// The transaction the message is taken in.
    pub tx: &'a Transaction<'a>,
    /// A record as changed earlier in the message, if it was.
    pub pending: &'a dyn Fn(&DocId) -> Option<StoredRecord>,
    /// People already looked up in this message, and their village.
    pub people: &'a RefCell<HashMap<PersonId, Option<VillageCode>>>,
}

impl std::fmt::Debug for ServerContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerContext")
    }
}

impl Context for ServerContext<'_> {
    fn person_village(&self, person: &PersonId) -> Lookup<Option<VillageCode>> {
        if let Some(v) = self.people.borrow().get(person) {
            return Lookup::Found(v.clone());
        }
        // A storage failure refuses the change rather than wave it through.
        match registry::person(self.tx, person) {
            Ok(Some(p)) => {
                self.people
                    .borrow_mut()
                    .insert(person.clone(), p.village.clone());
                Lookup::Found(p.village)
            }
            _ => Lookup::Missing,
        }
    }

    fn record(&self, id: &DocId) -> Lookup<StoredRecord> {
        if let Some(r) = (self.pending)(id) {
            return Lookup::Found(r);
        }
        match documents::lookup(self.tx, id) {
            Ok(Some(r)) => Lookup::Found(r),
            _ => Lookup::Missing,
        }
    }

    fn is_authors_copy(&self) -> bool {
        false
    }
}
