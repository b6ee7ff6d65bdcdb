//! 专题组织生活会 — the special organizational-life meeting of all members:
//! criticism and self-criticism, improvement measures, and the democratic
//! appraisal of members.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use massline_model_derive::{Fields, Kind};
use serde::{Deserialize, Serialize};

use super::attendance::{ATTENDANCE, Roll, attendance_rows, roll_counts};
use super::kind::KindRules;
use super::row::{Column, IntoCell, Row, RowOf, SqlType, Table};
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

/// Democratic appraisal: each member's grade.
pub type Appraisal = BTreeMap<PersonId, AppraisalGrade>;

/// A point made at the meeting about one member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
pub struct MeetingPoint {
    /// The member it concerns.
    #[field(zh = "党员", en = "Member", refs)]
    pub member: PersonId,
    /// Criticism, self-criticism or an improvement measure.
    #[field(zh = "类别", en = "Kind")]
    pub kind: PointKind,
    /// What was said.
    #[field(zh = "内容", en = "Text", text = 2000, required)]
    pub text: String,
}

/// Special organizational-life meetings (专题组织生活会) and appraisal. Cadres only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "org_life_meeting",
    zh = "专题组织生活会",
    en = "Organizational-life meeting",
    audience = cadre,
    command = "meeting",
    table = "org_life_meetings",
    index = "village"
)]
pub struct OrgLifeMeeting {
    /// The day it was held.
    #[field(zh = "日期", en = "Date", date, new = today, line = 1, column, month)]
    pub date: NaiveDate,
    /// Its theme.
    #[field(zh = "主题", en = "Topic", text = 200, required, line = 2, column)]
    pub topic: String,
    /// Who attended, and the absentees with their reasons, by person.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "出席情况",
        en = "Attendance",
        refs,
        columns(
            present: int = roll_counts(&self.attendance).0,
            absent: int = roll_counts(&self.attendance).1,
        )
    )]
    pub attendance: Roll,
    /// Criticism, self-criticism and improvement measures, in the order made.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "批评与自我批评",
        en = "Criticism and self-criticism",
        cli = "point",
        count
    )]
    pub points: Vec<MeetingPoint>,
    /// Democratic appraisal: each member's grade.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "民主评议", en = "Democratic appraisal", refs, cli = "grade")]
    pub appraisal: Appraisal,
}

/// Each member's grade in a meeting's democratic appraisal.
pub static APPRAISALS: Table = Table {
    name: "appraisals",
    columns: &[
        Column::DOC_ID,
        Column::VILLAGE,
        Column::PERSON,
        Column::new("grade", SqlType::Text),
        Column::WITHDRAWN,
    ],
    key: &["doc_id", "person"],
    index: &[],
};

impl KindRules for OrgLifeMeeting {
    const OTHER_TABLES: &'static [&'static Table] = &[&ATTENDANCE, &APPRAISALS];

    fn other_rows<'a>(&'a self, of: &RowOf<'a>, rows: &mut Vec<Row<'a>>) {
        attendance_rows(of, self.date, &self.attendance, rows);
        for (person, grade) in &self.appraisal {
            rows.push(Row {
                table: &APPRAISALS,
                cells: vec![
                    of.doc_id(),
                    of.village(),
                    person.into_cell(),
                    grade.into_cell(),
                    of.withdrawn(),
                ],
            });
        }
    }
}
