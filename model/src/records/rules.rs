//! The one check of a record, new or changed, run by the phone before it saves
//! and by the server on every change it receives from any phone.
//!
//! A change is judged twice. The record as it will stand (after merging with
//! whatever else reached it) must be valid. What the change's author did — the
//! difference between the record as they saw it and as they left it — must be
//! theirs to do, and the people and records they newly named must exist in the
//! village. Judging the author's own edit, not the merge, means two phones that
//! each made an allowed edit offline are never refused for having met.

use std::collections::BTreeSet;

use super::{RecordKind, Reference, ValidationError, Withdrawal, Withdrawers};
use crate::access::{Principal, Role, Scope};
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
    /// The records of `kind` in the village that name `id` in any field,
    /// withdrawn ones left out. Asked only on the author's copy (see
    /// [`KindRules::check_named_by`](super::KindRules::check_named_by)).
    fn naming(&self, id: &DocId, kind: RecordKind) -> Lookup<Vec<StoredRecord>>;
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
    check_references(c, ctx).map_err(Broken::Invalid)?;
    // What the records naming this one say of it (a problem's measures, the
    // notices announcing it) changes on other phones meanwhile: judged where
    // the author saw them, like a visit's demands.
    if ctx.is_authors_copy() {
        let seen = c.seen.map(|s| &s.record);
        c.made
            .record
            .check_named_by(seen, &c.id, ctx)
            .map_err(Broken::Invalid)?;
    }
    Ok(())
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

/// Who may change what: the rules of every record, then those each field
/// declares (evidence, notes kept by their authors) and the kind's own.
fn check_author(c: &Change<'_>) -> Result<(), ValidationError> {
    let by = c.by;
    let made = &c.made.record;
    let Some(seen) = c.seen else {
        if c.made.withdrawn.is_some() {
            return not_allowed("withdrawn", "a new record cannot be made withdrawn");
        }
        // The township's own scope is the township's to write; in a village
        // it issues problems only.
        if by.role == Role::TownshipOfficer
            && c.made.scope != Scope::Township
            && !made.township_makes()
        {
            return not_allowed(
                "kind",
                "the township office issues problems to a village; the village makes its other records",
            );
        }
        return made.check_edit(None, by);
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
    // The township's own records are the office's, whoever of it made them.
    if by.role == Role::TownshipOfficer
        && c.created_by != Some(&by.person)
        && c.merged.scope != Scope::Township
        && !made.township_changes(&seen.record)
    {
        return not_allowed(
            "record",
            "the township office acknowledges filings and withdraws records; it does not edit a village's records",
        );
    }
    made.check_edit(Some(&seen.record), by)
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
    let kind = seen.record.kind();
    let township_only = kind.withdrawn_by() == Withdrawers::TownshipOnly;
    if township_only && is_village_role(by.role) {
        return not_allowed(
            "withdrawn",
            format!(
                "{} records are evidence: village roles cannot withdraw them",
                kind.label(crate::codes::Lang::En)
            ),
        );
    }
    let author = c.created_by == Some(&by.person);
    let allowed = match by.role {
        Role::Cadre | Role::Secretary => true,
        // The township's own records are the office's, whoever of it made them.
        Role::TownshipOfficer => author || township_only || seen.scope == Scope::Township,
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

/// The people and records a change newly names are in the record's village
/// (a township record's: the township office's people and records). One
/// that does not exist and one of another village are refused alike, so a
/// refusal never tells what exists elsewhere.
fn check_references(c: &Change<'_>, ctx: &dyn Context) -> Result<(), ValidationError> {
    let village = c.merged.scope.village();
    // Written only for a refusal.
    let place = || match village {
        Some(v) => format!("village {v}"),
        None => "the township office".to_string(),
    };
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
                Lookup::Found(v) if v.as_ref() == village => {}
                Lookup::Found(_) | Lookup::Missing => {
                    return Err(ValidationError::new(
                        field,
                        format!("{p} is not a person of {}", place()),
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
                        format!("{} has no record {id}", place()),
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
    // What the kind says of the records it names: a record made of a visit's
    // demand and the visit name each other. A visit's demands are its state
    // now, which other phones change meanwhile (another cadre may take up
    // the same demand offline): such rules are judged where the author saw
    // them (`authors_copy`).
    c.made.record.check_named(&c.id, field, id, r, authors_copy)
}
