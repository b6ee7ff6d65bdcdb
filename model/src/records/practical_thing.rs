//! 为民办实事 — the practical things a village promises the masses. The seed
//! asks each village for 3 to 5: outside that range is worth a warning, never
//! a refusal.

use std::ops::RangeInclusive;

use chrono::NaiveDate;
use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::kind::KindRules;
use super::validation::ValidationError;
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

/// The 3 to 5 practical things promised to the masses (为民办实事).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "practical_thing",
    zh = "为民办实事",
    en = "Practical thing",
    audience = shared,
    command = "practical",
    table = "practical_things",
    index = "village"
)]
pub struct PracticalThing {
    /// What will be done.
    #[field(zh = "实事内容", en = "What", text = 500, required, line = 3, column)]
    pub what: String,
    /// By when.
    #[field(zh = "计划完成日期", en = "Target date", date = planned, line = 1, column)]
    pub target_date: NaiveDate,
    /// Who is responsible.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "责任人", en = "Responsible", refs, unique)]
    pub responsible: Vec<PersonId>,
    /// Where it stands.
    #[field(zh = "状态", en = "Status", new = "promised", line = 2, column)]
    pub status: ThingStatus,
    /// The day it was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "完成日期", en = "Done on", date, column)]
    pub done_on: Option<NaiveDate>,
    /// How satisfied the masses are, once it is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "群众满意度", en = "Satisfaction", column)]
    pub satisfaction: Option<Satisfaction>,
}

/// A rule the village is asked to keep but may break, with what to say.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
}

impl KindRules for PracticalThing {
    /// Only a thing that is done has the day it was done (and must), and the
    /// masses judge it once it is done.
    fn check(&self) -> Result<(), ValidationError> {
        match (self.status, self.done_on) {
            (ThingStatus::Done, None) => {
                return Err(ValidationError::new(
                    "done_on",
                    "a practical thing that is done needs the day it was done",
                ));
            }
            (ThingStatus::Done, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(ValidationError::new(
                    "done_on",
                    "only a practical thing that is done has a day it was done",
                ));
            }
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
