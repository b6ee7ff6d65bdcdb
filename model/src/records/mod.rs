//! The record kinds, each a typed struct stored as its own Automerge document,
//! validated the same way on the phone and on the server.
//!
//! - One file per kind: its struct, its coded enumerations, its field rules.
//! - [`rules`]: the one check of a new or changed record, run by the phone
//!   before saving and by the server on every change it receives.
//! - [`labels`]: Chinese and English names of fields and of stored codes.

mod attendance;
mod labels;
mod member;
mod note;
mod notice;
mod opinion;
mod org_life_meeting;
mod practical_thing;
mod problem;
mod rectification;
pub mod rules;
mod service_request;
mod study_entry;
mod study_session;
mod validation;
mod visit;
mod withdrawal;

pub use attendance::{Attendance, Roll, roll_counts};
pub use labels::{code_label, field_label, field_position};
pub use member::{Education, Member};
pub use note::{Note, ProgressNote};
pub use notice::{Notice, NoticeCategory, NoticeMedium};
pub use opinion::{FourWinds, Opinion, OpinionArea, OpinionChannel, OpinionStatus, SourceGroup};
pub use org_life_meeting::{AppraisalGrade, MeetingPoint, OrgLifeMeeting, PointKind};
pub use practical_thing::{PracticalThing, Satisfaction, ThingStatus, Warning};
pub use problem::{HowFound, Problem, ProblemArea};
pub use rectification::{Filing, Rectification, RectificationStatus, RectificationTerm};
pub use rules::{Broken, Change, Context, Lookup};
pub use service_request::{ServiceMatter, ServiceRequest, ServiceStatus};
pub use study_entry::{Helper, HelperKind, StudyEntry, StudyMaterial, StudyMode};
pub use study_session::{SessionFormat, StudySession};
pub use validation::ValidationError;
pub use visit::{Demand, DemandLink, HouseholdGroup, Visit};
pub use withdrawal::Withdrawal;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::access::Scope;
use crate::coded_enum;
use crate::ids::{DocId, PersonId, VillageCode};

coded_enum! {
    /// The kinds of record.
    pub enum RecordKind as "record_kind" {
        Member = "member", "党员档案", "Party member";
        StudySession = "study_session", "集中学习", "Study session";
        StudyEntry = "study_entry", "个人学习", "Personal study";
        Opinion = "opinion", "意见建议", "Opinion";
        Problem = "problem", "问题", "Problem";
        Rectification = "rectification", "整改措施", "Rectification measure";
        Visit = "visit", "走访", "Household visit";
        ServiceRequest = "service_request", "代办服务", "Service request";
        PracticalThing = "practical_thing", "为民办实事", "Practical thing";
        OrgLifeMeeting = "org_life_meeting", "专题组织生活会", "Organizational-life meeting";
        Notice = "notice", "党务村务公开", "Public notice";
    }
}

coded_enum! {
    /// Who a kind of record is for: which of a village's scopes it lives in.
    pub enum Audience as "audience" {
        Shared = "shared", "全村共享", "The whole village";
        Cadre = "cadre", "仅限村干部", "Village cadres only";
        Member = "member", "党员本人", "The member";
    }
}

impl RecordKind {
    /// Where records of this kind live. Villagers' personal data (visits,
    /// service requests, named opinions), member files and appraisal grades are
    /// for cadres only; a member's study is in their own log; the rest is shared.
    pub fn audience(self) -> Audience {
        match self {
            RecordKind::Member
            | RecordKind::Opinion
            | RecordKind::Visit
            | RecordKind::ServiceRequest
            | RecordKind::OrgLifeMeeting => Audience::Cadre,
            RecordKind::StudyEntry => Audience::Member,
            RecordKind::StudySession
            | RecordKind::Problem
            | RecordKind::Rectification
            | RecordKind::PracticalThing
            | RecordKind::Notice => Audience::Shared,
        }
    }
}

/// Any record, tagged by its kind (`"kind": "study_entry"` in JSON and in the document).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// 党员档案.
    Member(Member),
    /// 集中学习.
    StudySession(StudySession),
    /// 个人学习.
    StudyEntry(StudyEntry),
    /// 意见建议.
    Opinion(Opinion),
    /// 问题.
    Problem(Problem),
    /// 整改措施.
    Rectification(Rectification),
    /// 走访.
    Visit(Visit),
    /// 代办服务.
    ServiceRequest(ServiceRequest),
    /// 为民办实事.
    PracticalThing(PracticalThing),
    /// 专题组织生活会.
    OrgLifeMeeting(OrgLifeMeeting),
    /// 党务村务公开.
    Notice(Notice),
}

/// Something a record names that must exist in the record's village.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reference {
    /// A person of the village.
    Person(PersonId),
    /// Another record of the village, of this kind (any kind if `None`).
    Record(DocId, Option<RecordKind>),
}

/// Study a record credits to one person: their own entry, or their attendance
/// at a study session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StudyCredit {
    /// Who studied.
    pub person: PersonId,
    /// The day.
    pub date: NaiveDate,
    /// How long, in minutes.
    pub minutes: u32,
    /// What was studied.
    pub material: StudyMaterial,
    /// How (centralized, for a session).
    pub mode: StudyMode,
}

impl Record {
    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Member(_) => RecordKind::Member,
            Record::StudySession(_) => RecordKind::StudySession,
            Record::StudyEntry(_) => RecordKind::StudyEntry,
            Record::Opinion(_) => RecordKind::Opinion,
            Record::Problem(_) => RecordKind::Problem,
            Record::Rectification(_) => RecordKind::Rectification,
            Record::Visit(_) => RecordKind::Visit,
            Record::ServiceRequest(_) => RecordKind::ServiceRequest,
            Record::PracticalThing(_) => RecordKind::PracticalThing,
            Record::OrgLifeMeeting(_) => RecordKind::OrgLifeMeeting,
            Record::Notice(_) => RecordKind::Notice,
        }
    }

    /// A record of `kind` from its fields as JSON; an error names the field at fault.
    pub fn from_fields(
        kind: RecordKind,
        fields: serde_json::Value,
    ) -> Result<Record, ValidationError> {
        Self::read_fields(kind, fields)
    }

    /// [`Record::from_fields`] reading the fields where they are, copying nothing.
    pub fn from_fields_ref(
        kind: RecordKind,
        fields: &serde_json::Value,
    ) -> Result<Record, ValidationError> {
        Self::read_fields(kind, fields)
    }

    fn read_fields<'de, D: serde::Deserializer<'de>>(
        kind: RecordKind,
        fields: D,
    ) -> Result<Record, ValidationError> {
        fn de<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<T, ValidationError> {
            serde_path_to_error::deserialize(d).map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." {
                    "record".to_string()
                } else {
                    path
                };
                ValidationError::new(field, e.into_inner().to_string())
            })
        }
        Ok(match kind {
            RecordKind::Member => Record::Member(de(fields)?),
            RecordKind::StudySession => Record::StudySession(de(fields)?),
            RecordKind::StudyEntry => Record::StudyEntry(de(fields)?),
            RecordKind::Opinion => Record::Opinion(de(fields)?),
            RecordKind::Problem => Record::Problem(de(fields)?),
            RecordKind::Rectification => Record::Rectification(de(fields)?),
            RecordKind::Visit => Record::Visit(de(fields)?),
            RecordKind::ServiceRequest => Record::ServiceRequest(de(fields)?),
            RecordKind::PracticalThing => Record::PracticalThing(de(fields)?),
            RecordKind::OrgLifeMeeting => Record::OrgLifeMeeting(de(fields)?),
            RecordKind::Notice => Record::Notice(de(fields)?),
        })
    }

    /// The record's fields as JSON, without its kind.
    pub fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut m)) => {
                m.remove("kind");
                m
            }
            _ => serde_json::Map::new(),
        }
    }

    /// The field rules of the record's kind.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Record::Member(r) => r.validate(),
            Record::StudySession(r) => r.validate(),
            Record::StudyEntry(r) => r.validate(),
            Record::Opinion(r) => r.validate(),
            Record::Problem(r) => r.validate(),
            Record::Rectification(r) => r.validate(),
            Record::Visit(r) => r.validate(),
            Record::ServiceRequest(r) => r.validate(),
            Record::PracticalThing(r) => r.validate(),
            Record::OrgLifeMeeting(r) => r.validate(),
            Record::Notice(r) => r.validate(),
        }
    }

    /// The scope a new record of this kind lives in, in a village.
    pub fn home_scope(&self, village: &VillageCode) -> Scope {
        let village = village.clone();
        match (self.kind().audience(), self) {
            (Audience::Member, Record::StudyEntry(e)) => Scope::MemberStudy {
                village,
                member: e.member.clone(),
            },
            (Audience::Cadre, _) => Scope::VillageCadre(village),
            _ => Scope::VillageShared(village),
        }
    }

    /// The record belongs in `scope`: its kind's scope, and for a study entry the
    /// log of the member it names.
    pub fn check_scope(&self, scope: &Scope) -> Result<(), ValidationError> {
        if self.home_scope(scope.village()) == *scope {
            Ok(())
        } else {
            Err(ValidationError::new(
                match self {
                    Record::StudyEntry(_) => "member",
                    _ => "kind",
                },
                format!("a {} record does not belong in scope {scope}", self.kind()),
            ))
        }
    }

    /// The people and records the record names, each with the field naming it.
    pub fn references(&self) -> Vec<(String, Reference)> {
        let person = |f: &str, p: &PersonId| (f.to_string(), Reference::Person(p.clone()));
        let record = |f: String, id: &DocId, k: Option<RecordKind>| (f, Reference::Record(*id, k));
        let people = |f: &str, ps: &[PersonId]| -> Vec<(String, Reference)> {
            ps.iter()
                .enumerate()
                .map(|(i, p)| (format!("{f}[{i}]"), Reference::Person(p.clone())))
                .collect()
        };
        let mut out = Vec::new();
        match self {
            Record::Member(m) => out.extend(m.person.iter().map(|p| person("person", p))),
            Record::StudySession(s) => {
                out.push(person("organizer", &s.organizer));
                out.extend(
                    s.attendance
                        .keys()
                        .map(|p| person(&format!("attendance.{p}"), p)),
                );
            }
            Record::StudyEntry(e) => out.push(person("member", &e.member)),
            Record::Opinion(o) => out.extend(
                o.visit
                    .iter()
                    .map(|l| record("visit.visit".into(), &l.visit, Some(RecordKind::Visit))),
            ),
            Record::Problem(p) => out.extend(
                p.opinions
                    .iter()
                    .enumerate()
                    .map(|(i, id)| record(format!("opinions[{i}]"), id, Some(RecordKind::Opinion))),
            ),
            Record::Rectification(r) => {
                out.push(record(
                    "problem".into(),
                    &r.problem,
                    Some(RecordKind::Problem),
                ));
                out.extend(people("responsible", &r.responsible));
            }
            Record::Visit(v) => {
                out.push(person("cadre", &v.cadre));
                for (i, d) in v.demands.iter().enumerate() {
                    if let Some(o) = &d.opinion {
                        out.push(record(
                            format!("demands[{i}].opinion"),
                            o,
                            Some(RecordKind::Opinion),
                        ));
                    }
                    if let Some(s) = &d.service_request {
                        out.push(record(
                            format!("demands[{i}].service_request"),
                            s,
                            Some(RecordKind::ServiceRequest),
                        ));
                    }
                }
            }
            Record::ServiceRequest(s) => {
                out.push(person("agent", &s.agent));
                out.extend(
                    s.visit
                        .iter()
                        .map(|l| record("visit.visit".into(), &l.visit, Some(RecordKind::Visit))),
                );
            }
            Record::PracticalThing(t) => out.extend(people("responsible", &t.responsible)),
            Record::OrgLifeMeeting(m) => {
                out.extend(
                    m.attendance
                        .keys()
                        .map(|p| person(&format!("attendance.{p}"), p)),
                );
                out.extend(
                    m.points
                        .iter()
                        .enumerate()
                        .map(|(i, p)| person(&format!("points[{i}].member"), &p.member)),
                );
                out.extend(
                    m.appraisal
                        .keys()
                        .map(|p| person(&format!("appraisal.{p}"), p)),
                );
            }
            Record::Notice(n) => out.extend(
                n.about
                    .iter()
                    .enumerate()
                    .map(|(i, id)| record(format!("about[{i}]"), id, None)),
            ),
        }
        out
    }

    /// The study the record credits: a study entry to its member, a study
    /// session to each attendee marked present.
    pub fn study_credits(&self) -> Vec<StudyCredit> {
        match self {
            Record::StudyEntry(e) => vec![StudyCredit {
                person: e.member.clone(),
                date: e.date,
                minutes: e.minutes,
                material: e.material,
                mode: e.mode,
            }],
            Record::StudySession(s) => s
                .attendance
                .iter()
                .filter(|(_, a)| a.present)
                .map(|(p, _)| StudyCredit {
                    person: p.clone(),
                    date: s.date,
                    minutes: s.minutes,
                    material: s.material,
                    mode: StudyMode::Centralized,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
