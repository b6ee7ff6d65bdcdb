//! 个人学习 — one member's personal study, logged by the member (or a cadre for them).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::note::Note;
use super::validation::{ValidationError, check};
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Helper {
    /// Which kind of helper.
    pub kind: HelperKind,
    /// Their name, or the person id of an enrolled helper.
    pub name: String,
}

/// 个人学习: one sitting of a member's personal study.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyEntry {
    /// The member who studied.
    pub member: PersonId,
    /// The day of study.
    pub date: NaiveDate,
    /// What was studied.
    pub material: StudyMaterial,
    /// The title or subject, in the member's words.
    pub topic: String,
    /// How the member studied.
    pub mode: StudyMode,
    /// Who helped, for pairing help, night visits and counselling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helper: Option<Helper>,
    /// Minutes spent, 1 to 720.
    pub minutes: u32,
    /// What the member took from it.
    #[serde(default)]
    pub reflection: String,
    /// Comments on the entry (a cadre's, or the member's reply), oldest first.
    #[serde(default)]
    pub comments: Vec<Note>,
}

impl StudyEntry {
    /// Longest study sitting that can be logged.
    pub const MAX_MINUTES: u32 = 720;

    /// The rules every study entry keeps.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::date("date", self.date)?;
        check::required_text("topic", &self.topic, 200)?;
        check::minutes("minutes", self.minutes, Self::MAX_MINUTES)?;
        match &self.helper {
            None if self.mode.needs_helper() => {
                return Err(ValidationError::new(
                    "helper",
                    format!("study by {} needs the helper", self.mode.code()),
                ));
            }
            Some(h) => check::required_text("helper.name", &h.name, 100)?,
            None => {}
        }
        check::text("reflection", &self.reflection, 4000)?;
        Note::validate_all("comments", &self.comments)
    }
}
