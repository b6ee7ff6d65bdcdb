//! The record kinds as Kotlin sees them, and their conversion to and from the
//! core's records.
//!
//! Each struct mirrors a record kind of `massline_core::records` field for
//! field, with the same serde form: codes and ids are strings, dates are
//! `NaiveDate` (a `java.time.LocalDate` in Kotlin). Conversion goes through
//! that shared serde form, so the core's own parsing and validation name the
//! field at fault, and `deny_unknown_fields` makes a mirror that misses a field
//! fail the round-trip tests instead of dropping data.
//!
//! Maps keyed by person id or by code (attendance, steps, appraisal) are
//! `HashMap`s here; the core keeps them ordered.
//!
//! Adding a kind: a struct here (and one for each nested struct it has), a
//! variant of [`Record`], and a sample in the tests.

use std::collections::HashMap;

use chrono::NaiveDate;
use massline_core::RecordKind;
use massline_core::records::Record as CoreRecord;
use serde::{Deserialize, Serialize};

use crate::error::MasslineError;

uniffi::custom_type!(NaiveDate, String, {
    remote,
    lower: |d| d.format("%Y-%m-%d").to_string(),
    try_lift: |s| s.parse::<NaiveDate>().map_err(|e| {
        MasslineError::InvalidRecord { field: "date".into(), reason: format!("`{s}`: {e}") }.into()
    }),
});

/// 个人学习: one sitting of a member's personal study.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct StudyEntry {
    /// The member who studied (person id).
    pub member: String,
    /// The day of study.
    pub date: NaiveDate,
    /// What was studied: a `study_material` code.
    pub material: String,
    /// The title or subject, in the member's words.
    pub topic: String,
    /// How the member studied: a `study_mode` code.
    pub mode: String,
    /// Who helped, for pairing help, night visits and counselling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub helper: Option<Helper>,
    /// Minutes spent, 1 to 720.
    pub minutes: u32,
    /// What the member took from it.
    #[serde(default)]
    #[uniffi(default = "")]
    pub reflection: String,
    /// Comments on the entry (a cadre's, or the member's reply), oldest first.
    #[serde(default)]
    #[uniffi(default = [])]
    pub comments: Vec<Note>,
}

/// Someone who helped a member study.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct Helper {
    /// Which kind of helper: a `helper_kind` code.
    pub kind: String,
    /// Their name, or the person id of an enrolled helper.
    pub name: String,
}

/// 意见建议: one opinion of the masses, as heard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct Opinion {
    /// The day it was heard.
    pub date: NaiveDate,
    /// Where it was heard: an `opinion_channel` code.
    pub channel: String,
    /// Whom it came from: a `source_group` code.
    pub source: String,
    /// What it is about: an `opinion_area` code.
    pub area: String,
    /// Which "four winds" it names: a `four_winds` code.
    pub four_winds: String,
    /// The opinion in the words heard.
    pub text: String,
    /// The person asked not to be named.
    #[serde(default)]
    #[uniffi(default = false)]
    pub anonymous: bool,
    /// Who raised it, unless anonymous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub raised_by: Option<String>,
    /// Where it stands: an `opinion_status` code.
    pub status: String,
    /// The answer given to the masses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub answer: Option<String>,
    /// The visit demand it was made of, if it came from a visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub visit: Option<DemandLink>,
}

/// 整改措施: one measure of the rectification list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct Rectification {
    /// The problem it addresses (the id of a problem record).
    pub problem: String,
    /// What will be done.
    pub measure: String,
    /// What counts as fixed.
    #[serde(default)]
    pub objective: String,
    /// Who is responsible (person ids).
    pub responsible: Vec<String>,
    /// By when.
    pub deadline: NaiveDate,
    /// Short or long term: a `rectification_term` code.
    pub term: String,
    /// The day each step was reached, by `rectification_status` code; the
    /// furthest is where the measure stands. Steps are added, never removed.
    pub steps: HashMap<String, NaiveDate>,
    /// Dated notes of progress, oldest first.
    #[serde(default)]
    #[uniffi(default = [])]
    pub progress: Vec<Note>,
    /// The day the measure was announced to the masses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub announced_on: Option<NaiveDate>,
    /// Filing with the township office, once acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub filed: Option<Filing>,
}

/// A dated note with who wrote it: progress on a measure, a comment on a study entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct Note {
    /// The day the note is about.
    pub date: NaiveDate,
    /// What happened, or what the author says.
    pub text: String,
    /// Who wrote the note (person id).
    pub author: String,
}

/// The township office's acknowledgement that a measure was filed with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct Filing {
    /// The day it was filed.
    pub date: NaiveDate,
    /// The township officer who acknowledged it (person id).
    pub acknowledged_by: String,
}

/// 党员档案: one Party member's file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Their person id, if they are enrolled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub person: Option<String>,
    /// Their name.
    pub name: String,
    /// The year they were born.
    pub birth_year: u16,
    /// The day they joined the Party.
    pub joined_on: NaiveDate,
    /// Highest schooling: an `education` code.
    pub education: String,
    /// A phone number.
    #[serde(default)]
    #[uniffi(default = "")]
    pub phone: String,
    /// A mobile member (流动党员), away from the village.
    #[serde(default)]
    #[uniffi(default = false)]
    pub mobile: bool,
    /// Where a mobile member is now.
    #[serde(default)]
    #[uniffi(default = "")]
    pub whereabouts: String,
}

/// One person's mark at a meeting: present, or absent with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct Attendance {
    /// They were there.
    pub present: bool,
    /// Why they were absent.
    #[serde(default)]
    #[uniffi(default = "")]
    pub reason: String,
}

/// 集中学习: one centralized study session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct StudySession {
    /// The day it was held.
    pub date: NaiveDate,
    /// What was studied: a `study_material` code.
    pub material: String,
    /// The title or subject.
    pub topic: String,
    /// How it was held: a `session_format` code.
    pub format: String,
    /// Who organized it (person id).
    pub organizer: String,
    /// Where.
    pub place: String,
    /// How long, in minutes; each attendee is credited this long.
    pub minutes: u32,
    /// The minutes of the meeting.
    #[serde(default)]
    #[uniffi(default = "")]
    pub notes: String,
    /// Attendance by person id.
    #[serde(default)]
    pub attendance: HashMap<String, Attendance>,
}

/// 问题: one problem of the village's list, with its control-inspection table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    /// The problem in a line.
    pub title: String,
    /// How it was found: a `how_found` code.
    pub how_found: String,
    /// Which part of the work: a `problem_area` code.
    pub area: String,
    /// Control inspection: the background.
    #[serde(default)]
    #[uniffi(default = "")]
    pub background: String,
    /// Control inspection: its causes.
    #[serde(default)]
    #[uniffi(default = "")]
    pub causes: String,
    /// Control inspection: how it shows.
    #[serde(default)]
    #[uniffi(default = "")]
    pub manifestations: String,
    /// Control inspection: the direction to take.
    #[serde(default)]
    #[uniffi(default = "")]
    pub direction: String,
    /// Control inspection: effective solutions.
    #[serde(default)]
    #[uniffi(default = "")]
    pub solutions: String,
    /// Ids of the opinions that raised it.
    #[serde(default)]
    #[uniffi(default = [])]
    pub opinions: Vec<String>,
}

/// A demand raised on a visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct Demand {
    /// Its id within the visit.
    pub id: String,
    /// What the household asked for.
    pub text: String,
    /// The id of the opinion made of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub opinion: Option<String>,
    /// The id of the service request made of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub service_request: Option<String>,
}

/// Where a record came from: a demand of a visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct DemandLink {
    /// The visit's id.
    pub visit: String,
    /// The demand's id within it.
    pub demand: String,
}

/// 走访: one visit to a household.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    /// The cadre who visited (person id).
    pub cadre: String,
    /// The household, by the name of its head.
    pub household: String,
    /// Which group: a `household_group` code.
    pub group: String,
    /// The day of the visit.
    pub date: NaiveDate,
    /// What was seen and said.
    #[serde(default)]
    #[uniffi(default = "")]
    pub notes: String,
    /// Demands raised, in order.
    #[serde(default)]
    #[uniffi(default = [])]
    pub demands: Vec<Demand>,
}

/// 代办: an application a cadre handles for a villager.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequest {
    /// What is applied for: a `service_matter` code.
    pub matter: String,
    /// The villager who applies.
    pub applicant: String,
    /// The day they applied.
    pub applied_on: NaiveDate,
    /// What they need.
    #[serde(default)]
    #[uniffi(default = "")]
    pub details: String,
    /// The one-time checklist: everything needed, told at once.
    #[serde(default)]
    #[uniffi(default = [])]
    pub checklist: Vec<String>,
    /// The cadre who handles it (person id).
    pub agent: String,
    /// Where it stands: a `service_status` code.
    pub status: String,
    /// What came of it.
    #[serde(default)]
    #[uniffi(default = "")]
    pub result: String,
    /// The day it was closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub closed_on: Option<NaiveDate>,
    /// The day the result was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub published_on: Option<NaiveDate>,
    /// The visit demand it was made of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub visit: Option<DemandLink>,
}

/// 为民办实事: one practical thing promised to the masses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct PracticalThing {
    /// What will be done.
    pub what: String,
    /// By when.
    pub target_date: NaiveDate,
    /// Who is responsible (person ids).
    #[serde(default)]
    #[uniffi(default = [])]
    pub responsible: Vec<String>,
    /// Where it stands: a `thing_status` code.
    pub status: String,
    /// The day it was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub done_on: Option<NaiveDate>,
    /// How satisfied the masses are: a `satisfaction` code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub satisfaction: Option<String>,
}

/// A point made at an organizational-life meeting about one member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct MeetingPoint {
    /// The member it concerns (person id).
    pub member: String,
    /// What it is: a `point_kind` code.
    pub kind: String,
    /// What was said.
    pub text: String,
}

/// 专题组织生活会: one organizational-life meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct OrgLifeMeeting {
    /// The day it was held.
    pub date: NaiveDate,
    /// Its theme.
    pub topic: String,
    /// Attendance by person id.
    #[serde(default)]
    pub attendance: HashMap<String, Attendance>,
    /// Criticism, self-criticism and improvement measures.
    #[serde(default)]
    #[uniffi(default = [])]
    pub points: Vec<MeetingPoint>,
    /// Democratic appraisal: an `appraisal_grade` code by person id.
    #[serde(default)]
    pub appraisal: HashMap<String, String>,
}

/// 党务村务公开: one public notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// The day it was made public.
    pub date: NaiveDate,
    /// What kind of matter: a `notice_category` code.
    pub category: String,
    /// How: a `notice_medium` code.
    pub medium: String,
    /// Its title.
    pub title: String,
    /// What was made public.
    #[serde(default)]
    #[uniffi(default = "")]
    pub content: String,
    /// Ids of the records it makes public.
    #[serde(default)]
    #[uniffi(default = [])]
    pub about: Vec<String>,
}

/// Any record, by its kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
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

impl TryFrom<Record> for CoreRecord {
    type Error = MasslineError;

    /// Through the shared serde form, so the core names the field at fault.
    fn try_from(r: Record) -> Result<CoreRecord, MasslineError> {
        let bad = |reason: String| MasslineError::InvalidRecord {
            field: "record".into(),
            reason,
        };
        let mut fields = serde_json::to_value(&r).map_err(|e| bad(e.to_string()))?;
        let kind = fields
            .as_object_mut()
            .and_then(|o| o.remove("kind"))
            .and_then(|k| {
                k.as_str()
                    .and_then(<RecordKind as massline_core::Coded>::from_code)
            })
            .ok_or_else(|| bad("the record has no known kind".into()))?;
        Ok(CoreRecord::from_fields(kind, fields)?)
    }
}

impl TryFrom<CoreRecord> for Record {
    type Error = MasslineError;

    fn try_from(r: CoreRecord) -> Result<Record, MasslineError> {
        let value = serde_json::to_value(&r).map_err(|e| MasslineError::Storage {
            reason: e.to_string(),
        })?;
        serde_json::from_value(value).map_err(|e| MasslineError::Storage {
            reason: format!("a {} record does not convert: {e}", r.kind()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use massline_core::Coded;
    use serde_json::json;

    /// One record of every kind, with every optional field set, so a mirror
    /// that misses a field fails.
    fn samples() -> Vec<CoreRecord> {
        let full = |kind, v| CoreRecord::from_fields(kind, v).unwrap();
        let id = "00112233445566778899aabbccddeeff";
        let visit = json!({"visit": id, "demand": "d1"});
        vec![
            full(
                RecordKind::Member,
                json!({"person": "wang", "name": "王党员", "birth_year": 1960,
                       "joined_on": "1985-07-01", "education": "junior_middle",
                       "phone": "13800000000", "mobile": true, "whereabouts": "广东东莞"}),
            ),
            full(
                RecordKind::StudySession,
                json!({"date": "2024-05-10", "material": "party_congress", "topic": "三中全会",
                       "format": "lecture", "organizer": "zhang", "place": "村部",
                       "minutes": 90, "notes": "领学",
                       "attendance": {"wang": {"present": true, "reason": ""},
                                      "zhao": {"present": false, "reason": "外出"}}}),
            ),
            full(
                RecordKind::StudyEntry,
                json!({"member": "wang", "date": "2024-05-01", "material": "party_congress",
                       "topic": "三中全会精神", "mode": "pairing",
                       "helper": {"kind": "graduate_official", "name": "小李"},
                       "minutes": 45, "reflection": "体会",
                       "comments": [{"date": "2024-05-02", "text": "很好", "author": "li"}]}),
            ),
            full(
                RecordKind::Opinion,
                json!({"date": "2024-05-02", "channel": "household_visit", "source": "poor",
                       "area": "village_affairs", "four_winds": "formalism", "text": "低保不公开",
                       "anonymous": false, "raised_by": "老王", "status": "answered",
                       "answer": "已公开", "visit": visit}),
            ),
            full(
                RecordKind::Problem,
                json!({"title": "村务公开不及时", "how_found": "raised_by_masses",
                       "area": "mass_service", "background": "b", "causes": "c",
                       "manifestations": "m", "direction": "d", "solutions": "s",
                       "opinions": [id]}),
            ),
            full(
                RecordKind::Rectification,
                json!({"problem": id, "measure": "每月公开", "objective": "按月",
                       "responsible": ["li", "zhang"], "deadline": "2024-12-31",
                       "term": "short",
                       "steps": {"planned": "2024-05-01", "in_progress": "2024-05-10"},
                       "progress": [{"date": "2024-06-01", "text": "已公开一次", "author": "li"}],
                       "announced_on": "2024-05-20",
                       "filed": {"date": "2024-05-21", "acknowledged_by": "liu"}}),
            ),
            full(
                RecordKind::Visit,
                json!({"cadre": "li", "household": "李大爷", "group": "poor",
                       "date": "2024-05-03", "notes": "n",
                       "demands": [{"id": "d1", "text": "修路", "opinion": id,
                                    "service_request": id}]}),
            ),
            full(
                RecordKind::ServiceRequest,
                json!({"matter": "subsistence_allowance", "applicant": "赵大娘",
                       "applied_on": "2024-05-03", "details": "d", "checklist": ["户口本"],
                       "agent": "li", "status": "done", "result": "已批准",
                       "closed_on": "2024-05-09", "published_on": "2024-05-10",
                       "visit": visit}),
            ),
            full(
                RecordKind::PracticalThing,
                json!({"what": "硬化村道", "target_date": "2024-10-01", "responsible": ["zhang"],
                       "status": "done", "done_on": "2024-09-30", "satisfaction": "satisfied"}),
            ),
            full(
                RecordKind::OrgLifeMeeting,
                json!({"date": "2024-06-01", "topic": "查摆“四风”",
                       "attendance": {"wang": {"present": true, "reason": ""}},
                       "points": [{"member": "wang", "kind": "self_criticism", "text": "t"}],
                       "appraisal": {"wang": "qualified"}}),
            ),
            full(
                RecordKind::Notice,
                json!({"date": "2024-06-02", "category": "finance", "medium": "board",
                       "title": "收支", "content": "c", "about": [id]}),
            ),
        ]
    }

    #[test]
    fn every_kind_round_trips_through_its_mirror_unchanged() {
        let kinds: Vec<RecordKind> = samples().iter().map(CoreRecord::kind).collect();
        assert_eq!(
            kinds,
            RecordKind::all(),
            "a sample for every kind, in order"
        );
        for core in samples() {
            let mirror = Record::try_from(core.clone()).unwrap();
            assert_eq!(CoreRecord::try_from(mirror).unwrap(), core);
        }
    }

    #[test]
    fn a_bad_code_names_its_field() {
        let Ok(Record::StudyEntry(mut entry)) = Record::try_from(samples().remove(2)) else {
            panic!("the third sample is a study entry");
        };
        entry.mode = "sleeping".into();
        match CoreRecord::try_from(Record::StudyEntry(entry)) {
            Err(MasslineError::InvalidRecord { field, reason }) => {
                assert_eq!(field, "mode");
                assert!(reason.contains("self_study"), "{reason}");
            }
            other => panic!("expected an invalid record, got {other:?}"),
        }
    }

    #[test]
    fn a_bad_nested_id_names_its_path() {
        let Ok(Record::Rectification(mut r)) = Record::try_from(samples().remove(5)) else {
            panic!("the sixth sample is a rectification");
        };
        r.responsible[1] = "a/b".into();
        match CoreRecord::try_from(Record::Rectification(r)) {
            Err(MasslineError::InvalidRecord { field, .. }) => assert_eq!(field, "responsible[1]"),
            other => panic!("expected an invalid record, got {other:?}"),
        }
    }
}
