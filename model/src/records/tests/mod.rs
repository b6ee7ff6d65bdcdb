//! Every field rule, every rule of who may change what, and every reference
//! check, each with one refused example; how each kind's document merges
//! edits made on two phones at once; and what the declarations promise (the
//! stored form, labels, typed rows). One file per concern; the helpers and
//! the township the rules are judged in are here.

use std::collections::HashMap;

use automerge::ActorId;
use chrono::NaiveDate;

use super::rules::{self, Broken, Change, Context, Lookup};
use super::*;
use crate::access::{Principal, Role, Scope};
use crate::codes::Coded;
use crate::ids::{DocId, PersonId, VillageCode};
use crate::record_doc::{self, Author, StoredRecord};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn p(s: &str) -> PersonId {
    PersonId::new(s).expect("person")
}

fn village(s: &str) -> VillageCode {
    VillageCode::new(s).expect("village")
}

fn doc_id(n: u8) -> DocId {
    DocId::from_slice(&[n; 16]).expect("id")
}

const OPINION: u8 = 1;
const PROBLEM: u8 = 2;
const VISIT: u8 = 3;
const XICUN_PROBLEM: u8 = 4;
const WITHDRAWN_PROBLEM: u8 = 5;
const SERVICE: u8 = 6;
const MEETING: u8 = 7;
/// A mobile member's file.
const MOBILE_MEMBER: u8 = 8;
const NEW: u8 = 9;

/// The record of `kind` pinned in the fixtures (`fixtures/records.jsonl`):
/// the sample every test starts from.
fn sample(kind: RecordKind) -> Record {
    include_str!("../fixtures/records.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<Record>(l).expect("fixture"))
        .find(|r| r.kind() == kind)
        .expect("a fixture of every kind")
}

fn stored_in(v: &str, record: Record) -> StoredRecord {
    StoredRecord {
        scope: record.home_scope(&village(v)),
        record,
        withdrawn: None,
    }
}

fn stored(record: Record) -> StoredRecord {
    stored_in("dongcun", record)
}

/// A township of two villages, as the rules see it.
struct Town {
    people: HashMap<PersonId, Option<VillageCode>>,
    records: HashMap<DocId, StoredRecord>,
    unknown_people: bool,
    /// The server's copy rather than the author's phone.
    server: bool,
}

impl Town {
    fn new() -> Town {
        let mut people = HashMap::new();
        for (who, v) in [
            ("zhang", Some("dongcun")),
            ("li", Some("dongcun")),
            ("wang", Some("dongcun")),
            ("zhao", Some("dongcun")),
            ("chen", Some("xicun")),
            ("liu", None),
        ] {
            people.insert(p(who), v.map(village));
        }
        let mut withdrawn = stored(sample(RecordKind::Problem));
        withdrawn.withdrawn = Some(Withdrawal {
            by: p("li"),
            on: day(2024, 5, 6),
            reason: "重复录入".into(),
        });
        let mut mobile = sample(RecordKind::Member);
        if let Record::Member(m) = &mut mobile {
            m.mobile = true;
            m.whereabouts = "广东东莞".into();
        }
        let records = HashMap::from([
            (doc_id(MOBILE_MEMBER), stored(mobile)),
            (doc_id(OPINION), stored(sample(RecordKind::Opinion))),
            (doc_id(PROBLEM), stored(sample(RecordKind::Problem))),
            (doc_id(VISIT), stored(sample(RecordKind::Visit))),
            (doc_id(SERVICE), stored(sample(RecordKind::ServiceRequest))),
            (
                doc_id(MEETING),
                stored(sample(RecordKind::ListeningMeeting)),
            ),
            (
                doc_id(XICUN_PROBLEM),
                stored_in("xicun", sample(RecordKind::Problem)),
            ),
            (doc_id(WITHDRAWN_PROBLEM), withdrawn),
        ]);
        Town {
            people,
            records,
            unknown_people: false,
            server: false,
        }
    }
}

impl Context for Town {
    fn person_village(&self, person: &PersonId) -> Lookup<Option<VillageCode>> {
        match self.people.get(person) {
            Some(v) => Lookup::Found(v.clone()),
            None if self.unknown_people => Lookup::Unknown,
            None => Lookup::Missing,
        }
    }
    fn record(&self, id: &DocId) -> Lookup<StoredRecord> {
        self.records
            .get(id)
            .cloned()
            .map_or(Lookup::Missing, Lookup::Found)
    }
    fn naming(&self, id: &DocId, kind: RecordKind) -> Lookup<Vec<StoredRecord>> {
        let names = |r: &StoredRecord| {
            r.record
                .references()
                .iter()
                .any(|(_, x)| matches!(x, Reference::Record(n, _) if n == id))
        };
        Lookup::Found(
            self.records
                .values()
                .filter(|r| r.record.kind() == kind && r.withdrawn.is_none() && names(r))
                .cloned()
                .collect(),
        )
    }
    fn is_authors_copy(&self) -> bool {
        !self.server
    }
}

fn who(person: &str, role: Role) -> Principal {
    Principal {
        person: p(person),
        role,
        village: (role != Role::TownshipOfficer).then(|| village("dongcun")),
    }
}

fn cadre() -> Principal {
    who("li", Role::Cadre)
}

fn create(by: &Principal, record: Record) -> Result<(), Broken> {
    create_in(&Town::new(), by, record)
}

fn create_in(town: &Town, by: &Principal, record: Record) -> Result<(), Broken> {
    let s = stored(record);
    rules::check(
        &Change {
            id: doc_id(NEW),
            seen: None,
            made: &s,
            merged: &s,
            by,
            created_by: Some(&by.person),
        },
        town,
    )
}

fn change(
    by: &Principal,
    created_by: &str,
    before: &StoredRecord,
    after: &StoredRecord,
) -> Result<(), Broken> {
    change_of(doc_id(NEW), by, created_by, before, after)
}

fn change_of(
    id: DocId,
    by: &Principal,
    created_by: &str,
    before: &StoredRecord,
    after: &StoredRecord,
) -> Result<(), Broken> {
    let creator = p(created_by);
    rules::check(
        &Change {
            id,
            seen: Some(before),
            made: after,
            merged: after,
            by,
            created_by: Some(&creator),
        },
        &Town::new(),
    )
}

/// Asserts that the record is refused on its own with the given field at fault.
#[track_caller]
fn invalid(record: Record, field: &str) {
    match record.validate() {
        Err(e) => assert_eq!(e.field, field, "{e}"),
        Ok(()) => panic!("{record:?} should be refused on `{field}`"),
    }
}

#[track_caller]
fn broken(result: Result<(), Broken>, not_allowed: bool, field: &str) {
    match result {
        Err(Broken::NotAllowed(e)) if not_allowed => assert_eq!(e.field, field, "{e}"),
        Err(Broken::Invalid(e)) if !not_allowed => assert_eq!(e.field, field, "{e}"),
        other => panic!("expected refusal of `{field}`, got {other:?}"),
    }
}

macro_rules! with {
    ($kind:ident, |$r:ident| $body:expr) => {{
        let Record::$kind(mut $r) = sample(RecordKind::$kind) else {
            unreachable!()
        };
        $body;
        Record::$kind($r)
    }};
}

// After `with!`, which they use.
mod campaign;
mod declarations;
mod field_rules;
mod merging;
mod references;
mod who_may_change_what;
