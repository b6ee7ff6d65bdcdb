//! 集中学习 — a centralized study session of the village's Party members, with
//! who attended and why the absent were absent. Attending counts as study for
//! each attendee (see [`super::StudyCredit`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::attendance::{Roll, validate_roll};
use super::study_entry::StudyMaterial;
use super::validation::{ValidationError, check};
use crate::coded_enum;
use crate::ids::PersonId;

coded_enum! {
    /// How the session was held.
    pub enum SessionFormat as "session_format" {
        Lecture = "lecture", "专题辅导", "Lecture or special counselling";
        Reading = "reading", "领学文件", "Reading documents together";
        Discussion = "discussion", "交流研讨", "Discussion";
        Distance = "distance", "远程教育收看", "Distance education broadcast";
        Other = "other", "其他", "Other";
    }
}

/// 集中学习: one centralized study session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudySession {
    /// The day it was held.
    pub date: NaiveDate,
    /// What was studied.
    pub material: StudyMaterial,
    /// The title or subject.
    pub topic: String,
    /// How it was held.
    pub format: SessionFormat,
    /// Who organized it.
    pub organizer: PersonId,
    /// Where.
    pub place: String,
    /// How long it lasted, in minutes (1 to 480); each attendee is credited this long.
    pub minutes: u32,
    /// The minutes of the meeting: what was said and agreed.
    #[serde(default)]
    pub notes: String,
    /// Who attended, and the absentees with their reasons, by person.
    #[serde(default)]
    pub attendance: Roll,
}

impl StudySession {
    /// Longest session that can be recorded.
    pub const MAX_MINUTES: u32 = 480;

    /// The rules every study session keeps.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::date("date", self.date)?;
        check::required_text("topic", &self.topic, 200)?;
        check::required_text("place", &self.place, 100)?;
        check::minutes("minutes", self.minutes, Self::MAX_MINUTES)?;
        check::text("notes", &self.notes, 8000)?;
        validate_roll("attendance", &self.attendance)
    }
}
