//! 走访 — a cadre's visit to a household, and the demands raised there. A
//! demand can become an opinion or a service request; the link is kept both
//! ways: the demand names the record made of it, and that record names the
//! visit and the demand.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::validation::{ValidationError, check};
use crate::coded_enum;
use crate::ids::{DocId, PersonId};

coded_enum! {
    /// Which group the household belongs to.
    pub enum HouseholdGroup as "household_group" {
        Poor = "poor", "困难户", "Poor household";
        LeftBehind = "left_behind", "留守家庭", "Left-behind family";
        Petitioner = "petitioner", "上访户", "Petitioner";
        NailHousehold = "nail_household", "“钉子户”", "\"Nail household\"";
        WellOff = "well_off", "致富能人", "Well-off household";
        RetiredCadre = "retired_cadre", "离任村干部", "Retired village cadre";
        PartyMember = "party_member", "党员户", "Party member's household";
        Ordinary = "ordinary", "一般农户", "Ordinary household";
    }
}

/// A demand raised on a visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demand {
    /// Its id within the visit, made when it is written down (so demands added
    /// on two phones at once never take each other's place).
    pub id: String,
    /// What the household asked for, in their words.
    pub text: String,
    /// The opinion made of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opinion: Option<DocId>,
    /// The service request made of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_request: Option<DocId>,
}

impl Demand {
    /// A new demand with a fresh id.
    pub fn new(text: impl Into<String>) -> Demand {
        Demand {
            id: crate::ids::hex_encode(&rand::random::<[u8; 4]>()),
            text: text.into(),
            opinion: None,
            service_request: None,
        }
    }
}

/// Where a record came from: a demand of a visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandLink {
    /// The visit.
    pub visit: DocId,
    /// The demand's id within it.
    pub demand: String,
}

/// 走访: one visit to a household.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    /// The cadre who visited.
    pub cadre: PersonId,
    /// The household, by the name of its head.
    pub household: String,
    /// Which group it belongs to.
    pub group: HouseholdGroup,
    /// The day of the visit.
    pub date: NaiveDate,
    /// What was seen and said.
    #[serde(default)]
    pub notes: String,
    /// Demands raised, in the order they were written down.
    #[serde(default)]
    pub demands: Vec<Demand>,
}

impl Visit {
    /// The demand with this id.
    pub fn demand(&self, id: &str) -> Option<&Demand> {
        self.demands.iter().find(|d| d.id == id)
    }

    /// The rules every visit keeps.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::required_text("household", &self.household, 100)?;
        check::date("date", self.date)?;
        check::text("notes", &self.notes, 4000)?;
        let mut ids = std::collections::HashSet::with_capacity(self.demands.len());
        for (i, d) in self.demands.iter().enumerate() {
            let ok =
                (1..=16).contains(&d.id.len()) && d.id.chars().all(|c| c.is_ascii_alphanumeric());
            if !ok {
                return Err(ValidationError::new(
                    format!("demands[{i}].id"),
                    "must be 1 to 16 letters or digits",
                ));
            }
            if !ids.insert(d.id.as_str()) {
                return Err(ValidationError::new(
                    format!("demands[{i}].id"),
                    format!("{} is the id of another demand", d.id),
                ));
            }
            check::required_text(&format!("demands[{i}].text"), &d.text, 1000)?;
        }
        Ok(())
    }
}
