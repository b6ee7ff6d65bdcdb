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
//! Adding a kind: a struct here (and one for each nested struct it has), a
//! variant of [`Record`], and a sample in the tests.

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
}

/// 整改措施: one measure of the rectification list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct Rectification {
    /// The problem the measure addresses.
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
    /// Where it stands: a `rectification_status` code.
    pub status: String,
    /// Dated notes of progress, oldest first.
    #[serde(default)]
    #[uniffi(default = [])]
    pub progress: Vec<ProgressNote>,
    /// The day the measure was announced to the masses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub announced_on: Option<NaiveDate>,
    /// Filing with the township office, once acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[uniffi(default = None)]
    pub filed: Option<Filing>,
}

/// A dated note of progress, with who wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[serde(deny_unknown_fields)]
pub struct ProgressNote {
    /// The day of the progress.
    pub date: NaiveDate,
    /// What was done.
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

/// Any record, by its kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// 个人学习.
    StudyEntry(StudyEntry),
    /// 意见建议.
    Opinion(Opinion),
    /// 整改措施.
    Rectification(Rectification),
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
            message: e.to_string(),
        })?;
        serde_json::from_value(value).map_err(|e| MasslineError::Storage {
            message: format!("a {} record does not convert: {e}", r.kind()),
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
        vec![
            full(
                RecordKind::StudyEntry,
                json!({"member": "wang", "date": "2024-05-01", "material": "party_congress",
                       "topic": "三中全会精神", "mode": "pairing",
                       "helper": {"kind": "graduate_official", "name": "小李"},
                       "minutes": 45, "reflection": "体会"}),
            ),
            full(
                RecordKind::Opinion,
                json!({"date": "2024-05-02", "channel": "household_visit", "source": "poor",
                       "area": "village_affairs", "four_winds": "formalism", "text": "低保不公开",
                       "anonymous": false, "raised_by": "老王", "status": "answered",
                       "answer": "已公开"}),
            ),
            full(
                RecordKind::Rectification,
                json!({"problem": "村务公开不及时", "measure": "每月公开", "objective": "按月",
                       "responsible": ["li", "zhang"], "deadline": "2024-12-31",
                       "term": "short", "status": "in_progress",
                       "progress": [{"date": "2024-06-01", "text": "已公开一次", "author": "li"}],
                       "announced_on": "2024-05-20",
                       "filed": {"date": "2024-05-21", "acknowledged_by": "liu"}}),
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
        let Ok(Record::StudyEntry(mut entry)) = Record::try_from(samples().remove(0)) else {
            panic!("the first sample is a study entry");
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
        let Ok(Record::Rectification(mut r)) = Record::try_from(samples().remove(2)) else {
            panic!("the third sample is a rectification");
        };
        r.responsible[1] = "a/b".into();
        match CoreRecord::try_from(Record::Rectification(r)) {
            Err(MasslineError::InvalidRecord { field, .. }) => assert_eq!(field, "responsible[1]"),
            other => panic!("expected an invalid record, got {other:?}"),
        }
    }
}
