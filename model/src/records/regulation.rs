//! 建章立制 — a rule or regulation the village adopts in the campaign's last
//! phase, and the day the masses were told of it.

use chrono::NaiveDate;
use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::kind::KindRules;
use super::validation::ValidationError;
use crate::coded_enum;

coded_enum! {
    /// What the rule governs.
    pub enum RegulationCategory as "regulation_category" {
        PartyAffairs = "party_affairs", "党务管理", "Party affairs";
        VillageAffairs = "village_affairs", "村务管理", "Village affairs";
        MassService = "mass_service", "服务群众", "Service to the masses";
        Finance = "finance", "财务管理", "Finances";
    }
}

/// A rule or regulation the village adopts (建章立制).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "regulation",
    zh = "建章立制",
    en = "Rule or regulation",
    audience = shared,
    command = "regulation",
    table = "regulations",
    index = "village, month"
)]
pub struct Regulation {
    /// The rule's title.
    #[field(zh = "制度名称", en = "Title", text = 200, required, line = 3, column)]
    pub title: String,
    /// What it governs.
    #[field(zh = "类别", en = "Category", line = 2, column)]
    pub category: RegulationCategory,
    /// The day the village adopted it.
    #[field(zh = "通过日期", en = "Adopted on", date, new = today, line = 1, column, month)]
    pub adopted_on: NaiveDate,
    /// The rule as adopted.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "制度内容", en = "Text", text = 8000)]
    pub text: String,
    /// The day it was announced to the masses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "向群众公布日期", en = "Announced to the masses", date, column)]
    pub announced_on: Option<NaiveDate>,
}

impl KindRules for Regulation {
    /// A rule is announced once adopted, not before.
    fn check(&self) -> Result<(), ValidationError> {
        match self.announced_on {
            Some(day) if day < self.adopted_on => Err(ValidationError::new(
                "announced_on",
                "a rule is announced to the masses on or after the day it was adopted",
            )),
            _ => Ok(()),
        }
    }
}
