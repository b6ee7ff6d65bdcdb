//! The one check of a record, new or changed, run by the phone before it saves
//! and by the server on every change it receives from any phone.
//!
//! A change is judged twice. The record as it will stand (after merging with
//! whatever else reached it) must be valid. What the change's author did — the
//! difference between the record as they saw it and as they left it — must be
//! theirs to do, and the people and records they newly named must exist in the
//! village. Judging the author's own edit, not the merge, means two phones that
//! each made an allowed edit offline are never refused for having met.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::{
    Demand, DemandLink, HowFound, Note, Opinion, Record, RecordKind, RectificationStatus,
    Reference, ValidationError, Visit, Withdrawal,
};
use crate::access::{Principal, Role};
use crate::ids::{DocId, PersonId, VillageCode};
use crate::record_doc::StoredRecord;

/// What a lookup found: the thing, its absence, or that this copy cannot tell
/// (a member's phone does not hold the village's roster).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup<T> {
    /// It exists.
    Found(T),
    /// It does not exist.
    Missing,
    /// This copy cannot tell; the server will.
    Unknown,
}

/// What the rules need to know beyond the record: people and other records.
/// The server answers from its registry and documents, the phone from its store.
pub trait Context {
    /// The village of a person (`None` for a township officer).
    fn person_village(&self, person: &PersonId) -> Lookup<Option<VillageCode>>;
    /// Another record, with its scope and withdrawal.
    fn record(&self, id: &DocId) -> Lookup<StoredRecord>;
    /// Whether this copy shows what the change's author saw when making it
    /// (the author's own phone). What other phones may change meanwhile in a
    /// named record (its withdrawal, a visit's demands) is judged only there:
    /// another copy (the server) may have heard of edits made on other
    /// phones, which the author could not have seen.
    fn is_authors_copy(&self) -> bool;
}

/// Why a record or a change to it is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    /// The record would break a field rule, or names what is not in its village.
    #[error("{0}")]
    Invalid(ValidationError),
    /// The change is not one its author may make.
    #[error("{0}")]
    NotAllowed(ValidationError),
}

impl Broken {
    /// The field at fault and why.
    pub fn error(&self) -> &ValidationError {
        match self {
            Broken::Invalid(e) | Broken::NotAllowed(e) => e,
        }
    }
}

impl From<Broken> for ValidationError {
    fn from(b: Broken) -> Self {
        match b {
            Broken::Invalid(e) | Broken::NotAllowed(e) => e,
        }
    }
}

/// One change to judge.
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    /// The record's id.
    pub id: DocId,
    /// The record as the author saw it before (`None`: they created it).
    pub seen: Option<&'a StoredRecord>,
    /// The record as the author left it.
    pub made: &'a StoredRecord,
    /// The record as it now stands on this copy, merged with others' edits.
    pub merged: &'a StoredRecord,
    /// Who made the change.
    pub by: &'a Principal,
    /// Who created the record, if known.
    pub created_by: Option<&'a PersonId>,
}

/// Judges a change: the merged record valid, the author's edit allowed, the
/// people and records it newly names present in the village.
pub fn check(c: &Change<'_>, ctx: &dyn Context) -> Result<(), Broken> {
    check_record(c.merged).map_err(Broken::Invalid)?;
    check_author(c).map_err(Broken::NotAllowed)?;
    check_references(c, ctx).map_err(Broken::Invalid)
}

/// The rules a stored record keeps on its own: its scope, its fields, its withdrawal.
pub fn check_record(r: &StoredRecord) -> Result<(), ValidationError> {
    r.record.check_scope(&r.scope)?;
    r.record.validate()?;
    r.withdrawn.as_ref().map_or(Ok(()), |w| w.validate())
}

fn not_allowed(field: &str, reason: impl Into<String>) -> Result<(), ValidationError> {
    Err(ValidationError::new(field, reason))
}

fn is_village_role(role: Role) -> bool {
    role != Role::TownshipOfficer
}

/// Who may change what.
fn check_author(c: &Change<'_>) -> Result<(), ValidationError> {
    let by = c.by;
    let made = &c.made.record;
    let Some(seen) = c.seen else {
        if c.made.withdrawn.is_some() {
            return not_allowed("withdrawn", "a new record cannot be made withdrawn");
        }
        if by.role == Role::TownshipOfficer {
            match made {
                Record::Problem(p) if p.how_found == HowFound::SuperiorIssued => {}
                _ => {
                    return not_allowed(
                        "kind",
                        "the township office issues problems to a village; the village makes its other records",
                    );
                }
            }
        }
        return check_fields(None, made, by);
    };
    if seen.record.kind() != made.kind() {
        return not_allowed(
            "kind",
            format!(
                "a {} record cannot become a {}",
                seen.record.kind(),
                made.kind()
            ),
        );
    }
    if seen.scope != c.made.scope {
        return not_allowed("scope", "a record stays in the scope it was made in");
    }
    if seen.withdrawn.is_some() {
        if seen != c.made {
            return not_allowed("withdrawn", "a withdrawn record no longer changes");
        }
        return Ok(());
    }
    if let Some(w) = &c.made.withdrawn {
        return check_withdrawal(c, seen, w);
    }
    if by.role == Role::TownshipOfficer {
        let own = c.created_by == Some(&by.person);
        let only_filing = match (&seen.record, made) {
            (Record::Rectification(a), Record::Rectification(b)) => {
                let mut b = b.clone();
                b.filed = a.filed.clone();
                *a == b
            }
            _ => false,
        };
        if !own && !only_filing {
            return not_allowed(
                "record",
                "the township office acknowledges filings and withdraws records; it does not edit a village's records",
            );
        }
    }
    check_fields(Some(&seen.record), made, by)
}

fn check_withdrawal(
    c: &Change<'_>,
    seen: &StoredRecord,
    w: &Withdrawal,
) -> Result<(), ValidationError> {
    let by = c.by;
    if w.by != by.person {
        return not_allowed(
            "withdrawn.by",
            format!("{} cannot withdraw in {}'s name", by.person, w.by),
        );
    }
    if seen.record != c.made.record {
        return not_allowed(
            "withdrawn",
            "withdrawing a record changes nothing else in it",
        );
    }
    if seen.record.kind() == RecordKind::Opinion && is_village_role(by.role) {
        return not_allowed(
            "withdrawn",
            "an opinion of the masses is evidence: village roles cannot withdraw it",
        );
    }
    let author = c.created_by == Some(&by.person);
    let allowed = match by.role {
        Role::Cadre | Role::Secretary => true,
        Role::TownshipOfficer => author || seen.record.kind() == RecordKind::Opinion,
        Role::Member => author,
    };
    if !allowed {
        return not_allowed(
            "withdrawn",
            "a record is withdrawn by its author or by a village cadre",
        );
    }
    Ok(())
}

/// The value of one field of a record, as JSON (`None` when absent).
fn field(r: &Record, name: &str) -> Option<Value> {
    r.fields().remove(name)
}

/// Field rules of each kind about who may change what; `seen` is `None` for a new record.
fn check_fields(
    seen: Option<&Record>,
    made: &Record,
    by: &Principal,
) -> Result<(), ValidationError> {
    match (seen, made) {
        (Some(s @ Record::Opinion(_)), Record::Opinion(_)) => {
            for f in Opinion::EVIDENCE {
                if field(s, f) != field(made, f) {
                    return not_allowed(
                        f,
                        "an opinion is kept as it was heard: its date, channel, source, text, speaker and visit never change once filed",
                    );
                }
            }
            Ok(())
        }
        (s, Record::Rectification(a)) => {
            let b = match s {
                Some(Record::Rectification(b)) => Some(b),
                _ => None,
            };
            if b.and_then(|b| b.filed.as_ref()) != a.filed.as_ref() {
                if by.role != Role::TownshipOfficer {
                    return not_allowed("filed", "only the township office acknowledges a filing");
                }
                if let Some(f) = &a.filed
                    && f.acknowledged_by != by.person
                {
                    return not_allowed(
                        "filed.acknowledged_by",
                        "a filing is acknowledged by the officer who records it",
                    );
                }
            }
            if let Some(b) = b {
                for step in b.steps.keys() {
                    if !a.steps.contains_key(step) {
                        return not_allowed(
                            &format!("steps.{step}"),
                            format!(
                                "a measure moves {} → {} → {} → {}; a step reached is not taken back",
                                RectificationStatus::Planned,
                                RectificationStatus::InProgress,
                                RectificationStatus::Done,
                                RectificationStatus::Accepted
                            ),
                        );
                    }
                }
            }
            check_notes(
                "progress",
                b.map(|b| b.progress.as_slice()),
                &a.progress,
                by,
            )
        }
        (s, Record::StudyEntry(a)) => {
            let b = match s {
                Some(Record::StudyEntry(b)) => Some(b.comments.as_slice()),
                _ => None,
            };
            check_notes("comments", b, &a.comments, by)
        }
        (Some(Record::Visit(b)), Record::Visit(a)) => {
            let by_id: HashMap<&str, &Demand> =
                a.demands.iter().map(|d| (d.id.as_str(), d)).collect();
            for (i, d) in b.demands.iter().enumerate() {
                if d.opinion.is_none() && d.service_request.is_none() {
                    continue;
                }
                let now = by_id.get(d.id.as_str()).copied();
                let kept = now.is_some_and(|n| {
                    n.text == d.text
                        && (d.opinion.is_none() || n.opinion == d.opinion)
                        && (d.service_request.is_none() || n.service_request == d.service_request)
                });
                if !kept {
                    return not_allowed(
                        &format!("demands[{i}]"),
                        "a demand that became an opinion or a service request keeps its text and its link",
                    );
                }
            }
            Ok(())
        }
        (Some(Record::ServiceRequest(b)), Record::ServiceRequest(a)) if b.visit != a.visit => {
            not_allowed(
                "visit",
                "the visit a service request was made of never changes",
            )
        }
        _ => Ok(()),
    }
}

/// Notes (progress notes, comments) keep their authors: a person adds notes in
/// their own name and changes or removes only their own.
fn check_notes(
    field: &str,
    seen: Option<&[Note]>,
    made: &[Note],
    by: &Principal,
) -> Result<(), ValidationError> {
    let seen = seen.unwrap_or_default();
    // How many of each note seen are not yet matched by one made (counted,
    // not searched: a device may send long lists).
    let mut unmatched: HashMap<&Note, usize> = HashMap::with_capacity(seen.len());
    for n in seen {
        *unmatched.entry(n).or_default() += 1;
    }
    for (i, n) in made.iter().enumerate() {
        match unmatched.get_mut(n) {
            Some(left) if *left > 0 => *left -= 1,
            _ if n.author != by.person => {
                return not_allowed(
                    &format!("{field}[{i}].author"),
                    format!("{} cannot write a note in {}'s name", by.person, n.author),
                );
            }
            _ => {}
        }
    }
    if let Some(gone) = seen
        .iter()
        .find(|n| n.author != by.person && unmatched.get(n).is_some_and(|left| *left > 0))
    {
        return not_allowed(
            field,
            format!(
                "{}'s note of {} is theirs to change",
                gone.author, gone.date
            ),
        );
    }
    Ok(())
}

/// The people and records a change newly names are in the record's village.
/// One that does not exist and one of another village are refused alike, so
/// a refusal never tells what exists elsewhere.
fn check_references(c: &Change<'_>, ctx: &dyn Context) -> Result<(), ValidationError> {
    let village = c.merged.scope.village();
    let known: BTreeSet<Reference> = c
        .seen
        .map(|s| s.record.references().into_iter().map(|(_, r)| r).collect())
        .unwrap_or_default();
    for (field, reference) in c.made.record.references() {
        if known.contains(&reference) {
            continue;
        }
        match reference {
            Reference::Person(p) => match ctx.person_village(&p) {
                Lookup::Found(Some(v)) if v == *village => {}
                Lookup::Found(_) | Lookup::Missing => {
                    return Err(ValidationError::new(
                        field,
                        format!("{p} is not a person of village {village}"),
                    ));
                }
                Lookup::Unknown => {}
            },
            Reference::Record(id, kind) => match ctx.record(&id) {
                Lookup::Found(r) if r.scope.village() == village => {
                    check_named_record(c, &field, &id, kind, &r, ctx.is_authors_copy())?;
                }
                Lookup::Found(_) | Lookup::Missing => {
                    return Err(ValidationError::new(
                        field,
                        format!("village {village} has no record {id}"),
                    ));
                }
                Lookup::Unknown => {}
            },
        }
    }
    Ok(())
}

fn check_named_record(
    c: &Change<'_>,
    field: &str,
    id: &DocId,
    kind: Option<RecordKind>,
    r: &StoredRecord,
    authors_copy: bool,
) -> Result<(), ValidationError> {
    let bad = |reason: String| Err(ValidationError::new(field, reason));
    if let Some(k) = kind
        && r.record.kind() != k
    {
        return bad(format!("record {id} is a {}, not a {k}", r.record.kind()));
    }
    // Naming a withdrawn record is refused where the author saw it withdrawn;
    // a withdrawal that met the change later does not make it wrong.
    if r.withdrawn.is_some() && authors_copy {
        return bad(format!("record {id} was withdrawn"));
    }
    match (&c.made.record, &r.record) {
        // The visit's demands are its state now, which other phones change
        // meanwhile (another cadre may take up the same demand offline): they
        // are judged where the author saw them.
        (Record::Opinion(o), Record::Visit(v)) if authors_copy => {
            made_of_demand(c, o.visit.as_ref(), v, |d| d.opinion)
        }
        (Record::ServiceRequest(s), Record::Visit(v)) if authors_copy => {
            made_of_demand(c, s.visit.as_ref(), v, |d| d.service_request)
        }
        (Record::Visit(v), named) => {
            let Some(d) = v
                .demands
                .iter()
                .find(|d| d.opinion == Some(*id) || d.service_request == Some(*id))
            else {
                return Ok(());
            };
            let link = match named {
                Record::Opinion(o) => o.visit.as_ref(),
                Record::ServiceRequest(s) => s.visit.as_ref(),
                _ => None,
            };
            let back = DemandLink {
                visit: c.id,
                demand: d.id.clone(),
            };
            if link == Some(&back) {
                Ok(())
            } else {
                bad(format!("record {id} was not made of demand {}", d.id))
            }
        }
        _ => Ok(()),
    }
}

/// A record made of a visit's demand: the demand exists and did not already
/// become another record of the same kind.
fn made_of_demand(
    c: &Change<'_>,
    link: Option<&DemandLink>,
    visit: &Visit,
    made_into: impl Fn(&Demand) -> Option<DocId>,
) -> Result<(), ValidationError> {
    let Some(link) = link else { return Ok(()) };
    let Some(d) = visit.demand(&link.demand) else {
        return Err(ValidationError::new(
            "visit.demand",
            format!("the visit has no demand {}", link.demand),
        ));
    };
    if made_into(d).is_some_and(|t| t != c.id) {
        return Err(ValidationError::new(
            "visit.demand",
            format!(
                "demand {} already became another {}",
                link.demand,
                c.made.record.kind()
            ),
        ));
    }
    Ok(())
}
