//! 集中学习 — a centralized study session of the village's Party members, with
//! who attended and why the absent were absent. Attending counts as study for
//! each attendee (see [`super::StudyCredit`]).

use chrono::NaiveDate;
use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::attendance::{ATTENDANCE, Roll, attendance_rows, roll_counts};
use super::kind::KindRules;
use super::row::{Row, RowOf, Table};
use super::study_entry::{StudyMaterial, StudyMode};
use super::{STUDY_CREDITS, StudyCredit, credit_rows};
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

/// Centralized study sessions (集中学习) and who attended; attending counts as study.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "study_session",
    zh = "集中学习",
    en = "Study session",
    audience = shared,
    command = "session",
    table = "study_sessions",
    index = "village, month"
)]
pub struct StudySession {
    /// The day it was held.
    #[field(zh = "日期", en = "Date", date, new = today, line = 1, column, month)]
    pub date: NaiveDate,
    /// What was studied.
    #[field(zh = "学习内容", en = "Material", column)]
    pub material: StudyMaterial,
    /// The title or subject.
    #[field(zh = "主题", en = "Topic", text = 200, required, line = 5, column)]
    pub topic: String,
    /// How it was held.
    #[field(zh = "学习形式", en = "Format", line = 2, column)]
    pub format: SessionFormat,
    /// Who organized it.
    #[field(zh = "组织者", en = "Organizer", refs, new = me, column)]
    pub organizer: PersonId,
    /// Where.
    #[field(zh = "地点", en = "Place", text = 100, required)]
    pub place: String,
    /// How long it lasted, in minutes; each attendee is credited this long.
    #[field(zh = "时长(分钟)", en = "Minutes", min = 1, max = Self::MAX_MINUTES, line = 3, column)]
    pub minutes: u32,
    /// The minutes of the meeting: what was said and agreed.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "情况记录", en = "Notes", text = 8000)]
    pub notes: String,
    /// Who attended, and the absentees with their reasons, by person.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "出席情况",
        en = "Attendance",
        refs,
        line = 4,
        columns(
            present: int = roll_counts(&self.attendance).0,
            absent: int = roll_counts(&self.attendance).1,
        )
    )]
    pub attendance: Roll,
}

impl StudySession {
    /// Longest session that can be recorded.
    pub const MAX_MINUTES: u32 = 480;
}

impl KindRules for StudySession {
    /// Each attendee marked present studied for the session's length.
    fn study_credits(&self) -> Vec<StudyCredit> {
        self.attendance
            .iter()
            .filter(|(_, a)| a.present)
            .map(|(p, _)| StudyCredit {
                person: p.clone(),
                date: self.date,
                minutes: self.minutes,
                material: self.material,
                mode: StudyMode::Centralized,
            })
            .collect()
    }

    const OTHER_TABLES: &'static [&'static Table] = &[&ATTENDANCE, &STUDY_CREDITS];

    fn other_rows<'a>(&'a self, of: &RowOf<'a>, rows: &mut Vec<Row<'a>>) {
        attendance_rows(of, self.date, &self.attendance, rows);
        credit_rows(of, self.study_credits(), rows);
    }
}
