//! 为民办实事 — the practical things a village promises the masses. The seed
//! asks each village for 3 to 5: outside that range is worth a warning, never
//! a refusal.

use std::ops::RangeInclusive;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::validation::{ValidationError, check};
use crate::coded_enum;
use crate::ids::PersonId;

coded_enum! {
    /// Where the practical thing stands.
    pub enum ThingStatus as "thing_status" {
        Promised = "promised", "已承诺", "Promised";
        InProgress = "in_progress", "推进中", "In progress";
        Done = "done", "已办结", "Done";
    }
}

coded_enum! {
    /// How satisfied the masses are with it.
    pub enum Satisfaction as "satisfaction" {
        Satisfied = "satisfied", "满意", "Satisfied";
        Basically = "basically", "基本满意", "Basically satisfied";
        Dissatisfied = "dissatisfied", "不满意", "Dissatisfied";
    }
}

/// 为民办实事: one practical thing promised to the masses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticalThing {
    /// What will be done.
    pub what: String,
    /// By when.
    pub target_date: NaiveDate,
    /// Who is responsible.
    #[serde(default)]
    pub responsible: Vec<PersonId>,
    /// Where it stands.
    pub status: ThingStatus,
    /// The day it was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_on: Option<NaiveDate>,
    /// How satisfied the masses are, once it is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<Satisfaction>,
}

/// A rule the village is asked to keep but may break, with what to say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// What it is about, e.g. `practical_thing`.
    pub about: String,
    /// What is wrong, in plain words.
    pub text: String,
}

impl PracticalThing {
    /// How many practical things the seed asks of each village.
    pub const PER_VILLAGE: RangeInclusive<usize> = 3..=5;

    /// A warning when a village has promised `count` practical things (not
    /// counting withdrawn ones) outside [`Self::PER_VILLAGE`].
    pub fn count_warning(village: &str, count: usize) -> Option<Warning> {
        if Self::PER_VILLAGE.contains(&count) {
            return None;
        }
        Some(Warning {
            about: "practical_thing".into(),
            text: format!(
                "village {village} has {count} practical things; the campaign asks for {} to {}",
                Self::PER_VILLAGE.start(),
                Self::PER_VILLAGE.end()
            ),
        })
    }

    /// The rules every practical thing keeps.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::required_text("what", &self.what, 500)?;
        check::planned_date("target_date", self.target_date)?;
        check::unique("responsible", &self.responsible)?;
        match (self.status, self.done_on) {
            (ThingStatus::Done, None) => {
                return Err(ValidationError::new(
                    "done_on",
                    "a practical thing that is done needs the day it was done",
                ));
            }
            (ThingStatus::Done, Some(d)) => check::date("done_on", d)?,
            (_, Some(_)) => {
                return Err(ValidationError::new(
                    "done_on",
                    "only a practical thing that is done has a day it was done",
                ));
            }
            (_, None) => {}
        }
        if self.satisfaction.is_some() && self.status != ThingStatus::Done {
            return Err(ValidationError::new(
                "satisfaction",
                "the masses judge a practical thing once it is done",
            ));
        }
        Ok(())
    }
}
