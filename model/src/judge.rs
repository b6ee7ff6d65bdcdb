//! The one judge of a change: given a record's document (or nothing, for a
//! plain first change) and a change, what its author saw, what they made,
//! what now stands and who created the record.
//!
//! The phone judges each edit it makes before saving it, the server each
//! change a device sends; both then hold the [`Edit`] to
//! [`rules::check`](crate::records::rules::check). It is worked out once,
//! here, taking the cheapest way that gives the answer:
//!
//! - a plain first change is read straight from its operations, with no
//!   Automerge document built ([`first`]);
//! - a change at the document's head was made on the record as it stands
//!   ([`Standing`]), and what it made is what now stands: read once, at the
//!   head;
//! - a linear chain of one author's changes is applied in one call (the
//!   `more` of [`apply`]), each still judged on its own;
//! - only a change that is not at the head (one that met others the document
//!   holds) reads the record at its dependencies and at itself.

use automerge::{Automerge, AutomergeError, Change, ChangeHash, ExpandedChange};
use serde_json::{Map, Value};

use crate::access::Principal;
use crate::doc_json;
use crate::first_change;
use crate::ids::{DocId, PersonId};
use crate::record_doc::{self, StoredRecord};
use crate::records::ValidationError;
use crate::records::rules;

/// A record as it stands on this copy: what a change at its document's head
/// was made on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// The record (`None`: not made yet).
    pub record: Option<StoredRecord>,
    /// Who created it, as its first change names them.
    pub creator: Option<PersonId>,
}

impl Standing {
    /// The record a document holds now, and who created it.
    pub fn of(doc: &Automerge) -> Result<Standing, ValidationError> {
        let creator = doc
            .get_changes(&[])
            .iter()
            .find(|c| c.deps().is_empty())
            .and_then(author);
        Ok(Standing {
            record: Some(record_doc::read(doc)?),
            creator,
        })
    }

    /// The record once `edit` was taken in.
    pub fn accept(&mut self, edit: Edit) {
        let Edit {
            made,
            merged,
            created_by,
            ..
        } = edit;
        if self.creator.is_none() {
            self.creator = created_by;
        }
        self.record = Some(merged.unwrap_or(made));
    }
}

/// One change to a record, as its author made it and as it now stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The record as the author saw it (at the change's dependencies);
    /// `None` for the change that creates it.
    pub seen: Option<StoredRecord>,
    /// The record as the author left it (with the change), read as it is
    /// written: nothing the record does not keep
    /// ([`record_doc::parse_written`]).
    pub made: StoredRecord,
    /// The record as it stands on this copy, merged with others' edits;
    /// `None` when that is the record as made (nothing met the change), so
    /// that a record is not held twice ([`Edit::merged`]).
    merged: Option<StoredRecord>,
    /// Who created the record.
    pub created_by: Option<PersonId>,
}

impl Edit {
    /// An edit that changes nothing of the record as it stands.
    pub fn unchanged(record: StoredRecord, created_by: Option<PersonId>) -> Edit {
        Edit {
            seen: Some(record.clone()),
            made: record,
            merged: None,
            created_by,
        }
    }

    /// The record as it stands on this copy, merged with others' edits.
    pub fn merged(&self) -> &StoredRecord {
        self.merged.as_ref().unwrap_or(&self.made)
    }

    /// [`Edit::merged`], taken.
    pub fn into_merged(self) -> StoredRecord {
        self.merged.unwrap_or(self.made)
    }

    /// The edit of record `id` by `by`, for the record rules.
    pub fn change<'a>(&'a self, id: DocId, by: &'a Principal) -> rules::Change<'a> {
        rules::Change {
            id,
            seen: self.seen.as_ref(),
            made: &self.made,
            merged: self.merged(),
            by,
            created_by: self.created_by.as_ref(),
        }
    }
}

/// What the judge read of one change.
#[derive(Clone, Debug)]
pub struct Judgement {
    /// The scope the record's root names once the change is made, as written:
    /// a new record's is checked (may its author write it?) before anything
    /// else about the record.
    pub scope_named: Option<String>,
    /// The edit, or the field at which the record fails to read.
    pub edit: Result<Edit, ValidationError>,
}

/// Why a change could not be judged against a document.
#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    /// Automerge refused to apply it.
    #[error("change does not apply: {0}")]
    DoesNotApply(#[source] AutomergeError),
    /// It depends on changes the document does not hold.
    #[error("change {0} depends on changes the server does not have")]
    MissingDependency(ChangeHash),
}

/// The person a change names as its author, if its message names one.
fn author(change: &Change) -> Option<PersonId> {
    record_doc::author_of(change)?.ok()
}

/// A plain first change (see [`first_change`]), judged from its operations
/// with no Automerge document; `None` for a first change outside that plain
/// shape, which [`apply`] judges.
pub fn first(expanded: ExpandedChange) -> Option<Judgement> {
    let created_by = record_doc::author_in(expanded.message.as_deref()).and_then(Result::ok);
    let root = first_change::root_of_expanded(expanded)?;
    Some(judged(root, |made| {
        Ok(Edit {
            seen: None,
            made,
            merged: None,
            created_by,
        })
    }))
}

/// Judges `change` against `doc`, the record's document (an empty one for a
/// new record) standing as `standing`. A change `doc` does not hold yet is
/// applied to it; when it is at the head, with `more()` (the changes of its
/// author's chain after it, each building on the one before) in the same
/// call, which costs little more than applying one. A change `doc` already
/// holds (made on this copy, or applied ahead in a chain) is read where it is.
pub fn apply(
    doc: &mut Automerge,
    standing: &Standing,
    change: Change,
    more: impl FnOnce() -> Vec<Change>,
) -> Result<Judgement, JudgeError> {
    let hash = change.hash();
    let mut deps = change.deps().to_vec();
    deps.sort();
    let created_by = if deps.is_empty() {
        author(&change)
    } else {
        standing.creator.clone()
    };
    // A change the document holds was applied at the head: made on this
    // copy, or applied ahead, with the one it builds on, in a chain.
    let held = doc.get_change_meta_by_hash(&hash).is_some();
    let at_head = held || {
        let mut heads = doc.get_heads();
        heads.sort();
        heads == deps
    };
    if !held {
        let more = if at_head { more() } else { Vec::new() };
        doc.apply_changes(std::iter::once(change).chain(more))
            .map_err(JudgeError::DoesNotApply)?;
        if doc.get_change_meta_by_hash(&hash).is_none() {
            return Err(JudgeError::MissingDependency(hash));
        }
    }
    if at_head {
        let made_root = if doc.get_heads() == [hash] {
            doc_json::read_root(doc)
        } else {
            record_doc::root_at(doc, &[hash])
        };
        return Ok(made_at_head(standing, made_root, created_by));
    }
    Ok(judged(record_doc::root_at(doc, &[hash]), |made| {
        let merged = record_doc::read(doc)?;
        let seen = if deps.is_empty() {
            None
        } else {
            Some(record_doc::parse_root(record_doc::root_at(doc, &deps))?)
        };
        Ok(Edit {
            seen,
            merged: Some(merged),
            made,
            created_by,
        })
    }))
}

/// A change at the head of its record's chain (depending on the change
/// before it and nothing else), by the record's own actor, which left the
/// root `made_root` (read with no Automerge document:
/// [`first_change::Plain`]): judged as [`apply`] judges it.
pub fn next_in_chain(standing: &Standing, made_root: Map<String, Value>) -> Judgement {
    made_at_head(standing, made_root, standing.creator.clone())
}

/// A change made on the record as it stood (`standing`), which left the
/// root `made_root`: nothing met it, so what it made is what stands (until
/// the rest of its chain is judged).
fn made_at_head(
    standing: &Standing,
    made_root: Map<String, Value>,
    created_by: Option<PersonId>,
) -> Judgement {
    judged(made_root, |made| {
        Ok(Edit {
            seen: standing.record.clone(),
            made,
            merged: None,
            created_by,
        })
    })
}

/// The judgement of a change whose author left the root `made_root`: its
/// scope as named, what it made (read as written), then the rest of the edit.
fn judged(
    made_root: Map<String, Value>,
    rest: impl FnOnce(StoredRecord) -> Result<Edit, ValidationError>,
) -> Judgement {
    let scope_named = made_root
        .get("scope")
        .and_then(Value::as_str)
        .map(str::to_string);
    Judgement {
        scope_named,
        edit: record_doc::parse_written(made_root).and_then(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Role, Scope};
    use crate::ids::VillageCode;
    use crate::record_doc::Author;
    use crate::records::{Record, StudyEntry, StudyMaterial, StudyMode};
    use automerge::ActorId;
    use chrono::NaiveDate;

    fn entry(minutes: u32, reflection: &str) -> Record {
        Record::StudyEntry(StudyEntry {
            member: PersonId::new("p1").expect("id"),
            date: NaiveDate::from_ymd_opt(2024, 3, 1).expect("date"),
            material: StudyMaterial::MassLineReading,
            topic: "群众路线读本".into(),
            mode: StudyMode::SelfStudy,
            helper: None,
            minutes,
            reflection: reflection.into(),
            comments: Vec::new(),
        })
    }

    fn scope() -> Scope {
        Scope::MemberStudy {
            village: VillageCode::new("dongcun").expect("code"),
            member: PersonId::new("p1").expect("id"),
        }
    }

    fn p1() -> PersonId {
        PersonId::new("p1").expect("id")
    }

    fn by<'a>(actor: &'a ActorId, person: &'a PersonId) -> Author<'a> {
        Author {
            actor,
            person,
            time: 1_700_000_000,
        }
    }

    fn last(doc: &Automerge) -> Change {
        doc.get_last_local_change().expect("a change")
    }

    #[test]
    fn a_first_change_reads_alike_from_its_operations_and_through_automerge() {
        let (a, p) = (ActorId::from([1u8; 16]), p1());
        let (_, doc, _) =
            record_doc::create(&by(&a, &p), &scope(), 1, &entry(30, "")).expect("create");
        let change = last(&doc);
        let plain = first(change.decode()).expect("plain");
        let mut fresh = Automerge::new();
        let through =
            apply(&mut fresh, &Standing::default(), change.clone(), Vec::new).expect("applies");
        let mut held = doc.clone();
        let made_here = apply(&mut held, &Standing::default(), change, Vec::new).expect("held");
        for j in [&plain, &through, &made_here] {
            assert_eq!(j.scope_named.as_deref(), Some("v/dongcun/m/p1"));
            let e = j.edit.as_ref().expect("reads");
            assert_eq!((e.seen.as_ref(), &e.made.record), (None, &entry(30, "")));
            assert_eq!(e.merged(), &e.made);
            assert_eq!(e.created_by, Some(p1()));
        }
    }

    #[test]
    fn a_chain_is_applied_in_one_call_and_each_change_judged_on_its_own() {
        let a = ActorId::from([1u8; 16]);
        let p = p1();
        let author = by(&a, &p);
        let (_, mut phone, _) =
            record_doc::create(&author, &scope(), 1, &entry(30, "")).expect("create");
        let created = last(&phone);
        let mut chain = Vec::new();
        for m in [40, 50, 60] {
            let now = record_doc::read(&phone).expect("read").record;
            record_doc::update(&mut phone, &author, &now, &entry(m, "")).expect("update");
            chain.push(last(&phone));
        }
        let mut server = Automerge::new();
        let mut standing = Standing::default();
        let j = apply(&mut server, &standing, created, Vec::new).expect("first");
        standing.accept(j.edit.expect("reads"));
        let mut rest = chain.clone().into_iter();
        let head = rest.next().expect("a change");
        let j = apply(&mut server, &standing, head, || rest.collect()).expect("chain");
        assert_eq!(server.get_heads(), [chain[2].hash()], "all applied at once");
        let e = j.edit.expect("reads");
        assert_eq!(e.seen.as_ref().expect("seen").record, entry(30, ""));
        assert_eq!(
            (&e.made.record, &e.merged().record),
            (&entry(40, ""), &entry(40, ""))
        );
        assert_eq!(e.created_by, Some(p1()));
        standing.accept(e);
        let j = apply(&mut server, &standing, chain[1].clone(), Vec::new).expect("ahead");
        let e = j.edit.expect("reads");
        assert_eq!(e.seen.expect("seen").record, entry(40, ""));
        assert_eq!(e.made.record, entry(50, ""));
    }

    #[test]
    fn a_change_that_met_others_is_judged_from_what_its_author_saw() {
        let (a, b, p) = (ActorId::from([1u8; 16]), ActorId::from([2u8; 16]), p1());
        let (_, mut one, _) =
            record_doc::create(&by(&a, &p), &scope(), 1, &entry(30, "")).expect("create");
        let mut two = one.fork().with_actor(b.clone());
        record_doc::update(&mut one, &by(&a, &p), &entry(30, ""), &entry(45, "")).expect("update");
        record_doc::update(&mut two, &by(&b, &p), &entry(30, ""), &entry(30, "好"))
            .expect("update");
        let theirs = last(&two);
        let standing = Standing::of(&one).expect("reads");
        let j = apply(&mut one, &standing, theirs, || panic!("not at the head")).expect("applies");
        let e = j.edit.expect("reads");
        assert_eq!(e.seen.as_ref().expect("seen").record, entry(30, ""));
        assert_eq!(e.made.record, entry(30, "好"));
        assert_eq!(e.merged().record, entry(45, "好"));
    }

    #[test]
    fn a_change_without_its_dependencies_is_refused_as_such() {
        let a = ActorId::from([1u8; 16]);
        let p = p1();
        let author = by(&a, &p);
        let (_, mut phone, _) =
            record_doc::create(&author, &scope(), 1, &entry(30, "")).expect("create");
        record_doc::update(&mut phone, &author, &entry(30, ""), &entry(40, "")).expect("update");
        let mut empty = Automerge::new();
        let e =
            apply(&mut empty, &Standing::default(), last(&phone), Vec::new).expect_err("missing");
        assert!(matches!(e, JudgeError::MissingDependency(h) if h == last(&phone).hash()));
    }

    #[test]
    fn an_edit_names_its_record_and_author_for_the_rules() {
        let who = Principal {
            person: p1(),
            role: Role::Member,
            village: Some(VillageCode::new("dongcun").expect("code")),
        };
        let record = StoredRecord {
            scope: scope(),
            record: entry(30, ""),
            withdrawn: None,
        };
        let e = Edit::unchanged(record, Some(p1()));
        let id = DocId::from_slice(&[7; 16]).expect("id");
        let c = e.change(id, &who);
        assert_eq!((c.id, c.by, c.created_by), (id, &who, Some(&p1())));
        assert_eq!(c.seen, Some(c.made));
    }
}
