//! 专题组织生活会 — the special organizational-life meeting of all members:
//! criticism and self-criticism, improvement measures, and the democratic
//! appraisal of members.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::attendance::{Roll, validate_roll};
use super::validation::{ValidationError, check};
use crate::coded_enum;
use crate::ids::PersonId;

coded_enum! {
    /// What a point made at the meeting is.
    pub enum PointKind as "point_kind" {
        SelfCriticism = "self_criticism", "自我批评", "Self-criticism";
        Criticism = "criticism", "相互批评", "Criticism";
        Improvement = "improvement", "改进措施", "Improvement measure";
    }
}

coded_enum! {
    /// A member's grade in the democratic appraisal.
    pub enum AppraisalGrade as "appraisal_grade" {
        Excellent = "excellent", "优秀", "Excellent";
        Qualified = "qualified", "合格", "Qualified";
        BasicallyQualified = "basically_qualified", "基本合格", "Basically qualified";
        Unqualified = "unqualified", "不合格", "Unqualified";
    }
}

/// A point made at the meeting about one member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingPoint {
    /// The member it concerns.
    pub member: PersonId,
    /// Criticism, self-criticism or an improvement measure.
    pub kind: PointKind,
    /// What was said.
    pub text: String,
}

/// 专题组织生活会: one meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgLifeMeeting {
    /// The day it was held.
    pub date: NaiveDate,
    /// Its theme.
    pub topic: String,
    /// Who attended, and the absentees with their reasons, by person.
    #[serde(default)]
    pub attendance: Roll,
    /// Criticism, self-criticism and improvement measures, in the order made.
    #[serde(default)]
    pub points: Vec<MeetingPoint>,
    /// Democratic appraisal: each member's grade.
    #[serde(default)]
    pub appraisal: BTreeMap<PersonId, AppraisalGrade>,
}

impl OrgLifeMeeting {
    /// The rules every meeting keeps.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::date("date", self.date)?;
        check::required_text("topic", &self.topic, 200)?;
        validate_roll("attendance", &self.attendance)?;
        for (i, p) in self.points.iter().enumerate() {
            check::required_text(&format!("points[{i}].text"), &p.text, 2000)?;
        }
        Ok(())
    }
}
