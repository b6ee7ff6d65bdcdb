//! 党员档案 — a Party member's file: the age structure and mobility the seed
//! says weaken village branches.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

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

/// 党员档案: one Party member of the village.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Their person id, if they are enrolled with the township.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonId>,
    /// Their name.
    pub name: String,
    /// The year they were born.
    pub birth_year: u16,
    /// The day they joined the Party.
    pub joined_on: NaiveDate,
    /// Highest schooling finished.
    pub education: Education,
    /// A phone number to reach them.
    #[serde(default)]
    pub phone: String,
    /// A mobile member (流动党员): working or living away from the village.
    #[serde(default)]
    pub mobile: bool,
    /// Where a mobile member is now.
    #[serde(default)]
    pub whereabouts: String,
}

impl Member {
    /// Youngest age at which one joins the Party.
    pub const JOINING_AGE: i64 = 18;

    /// The rules every member file keeps.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::required_text("name", &self.name, 50)?;
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
        if self.mobile {
            check::required_text("whereabouts", &self.whereabouts, 200).map_err(|_| {
                ValidationError::new("whereabouts", "a mobile member's whereabouts are needed")
            })
        } else {
            check::text("whereabouts", &self.whereabouts, 200)
        }
    }
}
