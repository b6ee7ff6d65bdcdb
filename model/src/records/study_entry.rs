//! 个人学习 — one member's personal study, logged by the member (or a cadre for them).

use chrono::NaiveDate;
use massline_model_derive::{Fields, Kind};
use serde::{Deserialize, Serialize};

use super::kind::KindRules;
use super::note::Note;
use super::row::{Row, RowOf, Table};
use super::validation::ValidationError;
use super::{STUDY_CREDITS, StudyCredit, credit_rows};
use crate::coded_enum;
use crate::ids::PersonId;

coded_enum! {
    /// What was studied (the seed's list of study contents).
    pub enum StudyMaterial as "study_material" {
        PartyCongress = "party_congress", "党的十八大和十八届三中全会精神", "18th Party Congress and Third Plenum spirit";
        HigherMeetings = "higher_meetings", "省市县有关会议精神", "Provincial, city and county meetings";
        AgriculturePolicy = "agriculture_policy", "强农惠农政策", "Policies strengthening agriculture and benefiting farmers";
        MassLineReading = "mass_line_reading", "党的群众路线学习读本", "Mass line reading materials";
        Other = "other", "其他", "Other";
    }
}

coded_enum! {
    /// How the member studied.
    pub enum StudyMode as "study_mode" {
        SelfStudy = "self_study", "自学", "Self-study";
        Centralized = "centralized", "集中学习", "Centralized study";
        Pairing = "pairing", "结对帮学", "Pairing help";
        NightVisit = "night_visit", "夜访", "Night visit";
        Counselling = "counselling", "专题辅导", "Special counselling";
        DistanceEducation = "distance_education", "远程教育", "Distance education";
    }
}

coded_enum! {
    /// Who helped a member who studies with help.
    pub enum HelperKind as "helper_kind" {
        GraduateOfficial = "graduate_official", "大学生村官", "College-graduate village official";
        WellOffCadre = "well_off_cadre", "同步小康驻村干部", "\"Synchronized well-off\" cadre";
        BackboneMember = "backbone_member", "党员骨干", "Backbone Party member";
    }
}

impl StudyMode {
    /// Pairing help, night visits and counselling happen with a helper.
    pub fn needs_helper(self) -> bool {
        matches!(
            self,
            StudyMode::Pairing | StudyMode::NightVisit | StudyMode::Counselling
        )
    }
}

/// Someone who helped a member study.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
pub struct Helper {
    /// Which kind of helper.
    #[field(zh = "类别", en = "Kind", cli = "helper-kind")]
    pub kind: HelperKind,
    /// Their name, or the person id of an enrolled helper.
    #[field(zh = "姓名", en = "Name", text = 100, required, cli = "helper")]
    pub name: String,
}

/// Personal study (个人学习), in each member's own log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "study_entry",
    zh = "个人学习",
    en = "Personal study",
    audience = member,
    command = "study",
    table = "study_entries",
    index = "village, month"
)]
pub struct StudyEntry {
    /// The member who studied.
    #[field(zh = "党员", en = "Member", refs, new = me, line = 2, column)]
    pub member: PersonId,
    /// The day of study.
    #[field(zh = "日期", en = "Date", date, new = today, line = 1, column, month)]
    pub date: NaiveDate,
    /// What was studied.
    #[field(zh = "学习内容", en = "Material", column)]
    pub material: StudyMaterial,
    /// The title or subject, in the member's words.
    #[field(zh = "主题", en = "Topic", text = 200, required, line = 5)]
    pub topic: String,
    /// How the member studied.
    #[field(zh = "学习方式", en = "Mode", line = 3, column)]
    pub mode: StudyMode,
    /// Who helped, for pairing help, night visits and counselling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "帮学人",
        en = "Helper",
        columns(helper_kind: text? = self.helper.as_ref().map(|h| h.kind))
    )]
    pub helper: Option<Helper>,
    /// Minutes spent.
    #[field(zh = "时长(分钟)", en = "Minutes", min = 1, max = Self::MAX_MINUTES, line = 4, column)]
    pub minutes: u32,
    /// What the member took from it.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "学习体会", en = "Reflection", text = 4000)]
    pub reflection: String,
    /// Comments on the entry (a cadre's, or the member's reply), oldest first.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "点评", en = "Comments", cli = "comment", count)]
    pub comments: Vec<Note>,
}

impl StudyEntry {
    /// Longest study sitting that can be logged.
    pub const MAX_MINUTES: u32 = 720;
}

impl KindRules for StudyEntry {
    /// Pairing help, night visits and counselling name the helper.
    fn check(&self) -> Result<(), ValidationError> {
        if self.helper.is_none() && self.mode.needs_helper() {
            return Err(ValidationError::new(
                "helper",
                format!("study by {} needs the helper", self.mode.code()),
            ));
        }
        Ok(())
    }

    /// The entry's own study, to its member.
    fn study_credits(&self) -> Vec<StudyCredit> {
        vec![StudyCredit {
            person: self.member.clone(),
            date: self.date,
            minutes: self.minutes,
            material: self.material,
            mode: self.mode,
        }]
    }

    const OTHER_TABLES: &'static [&'static Table] = &[&STUDY_CREDITS];

    fn other_rows<'a>(&'a self, of: &RowOf<'a>, rows: &mut Vec<Row<'a>>) {
        credit_rows(of, self.study_credits(), rows);
    }
}
