//! 党员档案 — a Party member's file: the age structure and mobility the seed
//! says weaken village branches.

use chrono::{Datelike, NaiveDate};
use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::Helper;
use super::kind::KindRules;
use super::validation::{ValidationError, check};
use crate::coded_enum;
use crate::ids::PersonId;

coded_enum! {
    /// Highest schooling finished.
    pub enum Education as "education" {
        Primary = "primary", "小学及以下", "Primary school or less";
        JuniorMiddle = "junior_middle", "初中", "Junior middle school";
        SeniorMiddle = "senior_middle", "高中、中专", "Senior middle or technical school";
        College = "college", "大专", "Junior college";
        University = "university", "本科及以上", "University or above";
    }
}

/// Party members' files (党员档案): age, education, mobile members. Cadres only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "member",
    zh = "党员档案",
    en = "Party member",
    audience = cadre,
    command = "member",
    table = "members",
    index = "village"
)]
pub struct Member {
    /// Their person id, if they are enrolled with the township.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "人员编号", en = "Person id", refs, column)]
    pub person: Option<PersonId>,
    /// Their name.
    #[field(zh = "姓名", en = "Name", text = 50, required, line = 1, column)]
    pub name: String,
    /// The year they were born (1900 on, and 18 years before this one at most).
    #[field(zh = "出生年份", en = "Year of birth", line = 2, column)]
    pub birth_year: u16,
    /// The day they joined the Party.
    #[field(zh = "入党日期", en = "Joined the Party", column)]
    pub joined_on: NaiveDate,
    /// Highest schooling finished.
    #[field(zh = "文化程度", en = "Education", line = 3, column)]
    pub education: Education,
    /// A phone number to reach them (5 to 20 digits; spaces, + and - allowed).
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "联系电话", en = "Phone")]
    pub phone: String,
    /// A mobile member (流动党员): working or living away from the village.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "流动党员", en = "Mobile member", line = 4, column)]
    pub mobile: bool,
    /// Where a mobile member is now.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "现在何处", en = "Whereabouts", text = 200, line = 5, column)]
    pub whereabouts: String,
    /// The village cadre responsible for contacting them to study (the
    /// seed: members of the village Party organization are "mainly
    /// responsible for contacting party members to study").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "联系干部",
        en = "Contact cadre",
        refs,
        cli = "contact-cadre",
        column
    )]
    pub contact_cadre: Option<PersonId>,
    /// Who helps them study in pairs, for the old, the weak and those with
    /// little schooling: a college-graduate official, a "synchronized
    /// well-off" cadre or a backbone member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "结对帮学",
        en = "Pairing helper",
        columns(pairing_helper_kind: text? = self.pairing.as_ref().map(|h| h.kind))
    )]
    pub pairing: Option<Helper>,
}

impl Member {
    /// Youngest age at which one joins the Party.
    pub const JOINING_AGE: i64 = 18;
}

impl KindRules for Member {
    /// Born 1900 on and 18 or older, joined after the Party's founding and
    /// at 18 or older, a phone number that reads as one, and a mobile
    /// member's whereabouts.
    fn check(&self) -> Result<(), ValidationError> {
        check::range(
            "birth_year",
            i64::from(self.birth_year),
            1900,
            check::this_year() - Self::JOINING_AGE,
        )?;
        let founding = NaiveDate::from_ymd_opt(1921, 7, 1).unwrap_or(NaiveDate::MIN);
        check::date_since("joined_on", self.joined_on, founding)?;
        if i64::from(self.joined_on.year()) < i64::from(self.birth_year) + Self::JOINING_AGE {
            return Err(ValidationError::new(
                "joined_on",
                format!(
                    "{} is before the member turned {} (born {})",
                    self.joined_on,
                    Self::JOINING_AGE,
                    self.birth_year
                ),
            ));
        }
        let phone_ok = self.phone.is_empty()
            || ((5..=20).contains(&self.phone.chars().count())
                && self
                    .phone
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ')));
        if !phone_ok {
            return Err(ValidationError::new(
                "phone",
                "must be 5 to 20 digits (spaces, + and - allowed)",
            ));
        }
        if self.person.is_some() && self.contact_cadre == self.person {
            return Err(ValidationError::new(
                "contact_cadre",
                "a member's contact cadre is someone else",
            ));
        }
        if self.mobile && self.whereabouts.trim().is_empty() {
            return Err(ValidationError::new(
                "whereabouts",
                "a mobile member's whereabouts are needed",
            ));
        }
        Ok(())
    }
}
