//! The server's answers to the record rules' questions: people from the
//! registry, records from the stored documents and from the message being
//! taken in.

use massline_model::record_doc::StoredRecord;
use massline_model::records::{Context, Lookup, RecordKind};
use massline_model::{DocId, PersonId, VillageCode};
use std::cell::RefCell;

use rusqlite::Transaction;
use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::{documents, registry};

/// The people looked up in one push message, and their villages.
pub type People = RefCell<FxHashMap<PersonId, Option<VillageCode>>>;

/// The registry and the documents, seen from one write transaction, plus the
/// records changed earlier in the same push message and not yet written.
///
/// A lookup that fails is not an answer: the rules get "missing" (so nothing
/// is waved through) and [`ServerContext::failure`] gives the error, which
/// aborts the message rather than refuse the change.
pub struct ServerContext<'a> {
    tx: &'a Transaction<'a>,
    pending: &'a dyn Fn(&DocId) -> Option<StoredRecord>,
    people: &'a People,
    failed: RefCell<Option<Error>>,
}

impl<'a> ServerContext<'a> {
    /// Answers from `tx`; `pending` gives a record as changed earlier in the
    /// message, if it was; `people` keeps the people looked up in it.
    pub fn new(
        tx: &'a Transaction<'a>,
        pending: &'a dyn Fn(&DocId) -> Option<StoredRecord>,
        people: &'a People,
    ) -> Self {
        ServerContext {
            tx,
            pending,
            people,
            failed: RefCell::new(None),
        }
    }

    /// The first lookup that failed, if one did.
    pub fn failure(&self) -> Result<(), Error> {
        self.failed.borrow_mut().take().map_or(Ok(()), Err)
    }

    fn failed<T>(&self, e: Error) -> Lookup<T> {
        self.failed.borrow_mut().get_or_insert(e);
        Lookup::Missing
    }
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
        match registry::person(self.tx, person) {
            Ok(Some(p)) => {
                self.people
                    .borrow_mut()
                    .insert(person.clone(), p.village.clone());
                Lookup::Found(p.village)
            }
            Ok(None) => Lookup::Missing,
            Err(e) => self.failed(e),
        }
    }

    fn record(&self, id: &DocId) -> Lookup<StoredRecord> {
        if let Some(r) = (self.pending)(id) {
            return Lookup::Found(r);
        }
        match documents::lookup(self.tx, id) {
            Ok(Some(r)) => Lookup::Found(r),
            Ok(None) => Lookup::Missing,
            Err(e) => self.failed(e),
        }
    }

    /// Never asked of the server: what names a record changes on other
    /// phones meanwhile, and nothing shows what the author had seen of it.
    fn naming(&self, _id: &DocId, _kind: RecordKind) -> Lookup<Vec<StoredRecord>> {
        Lookup::Unknown
    }

    fn is_authors_copy(&self) -> bool {
        false
    }
}
