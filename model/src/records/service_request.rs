//! 代办 / 一次性告知 — a villager's application that a cadre handles for them:
//! what is needed is told once, in full (the one-time checklist), the agent
//! cadre carries it through, and the result is published.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::validation::{ValidationError, check};
use super::visit::DemandLink;
use crate::coded_enum;
use crate::ids::PersonId;

coded_enum! {
    /// What the villager applies for (the seed's list).
    pub enum ServiceMatter as "service_matter" {
        Banquet = "banquet", "办酒席登记", "Banquet registration";
        Homestead = "homestead", "宅基地", "Homestead";
        MedicalAssistance = "medical_assistance", "医疗救助", "Medical assistance";
        EndowmentInsurance = "endowment_insurance", "养老保险", "Endowment insurance";
        FamilyPlanning = "family_planning", "计生服务证明", "Family-planning certificates";
        FuneralRelief = "funeral_relief", "殡葬和民政救助", "Funeral and civil relief";
        SubsistenceAllowance = "subsistence_allowance", "低保", "Subsistence allowance";
        Other = "other", "其他", "Other";
    }
}

coded_enum! {
    /// Where the application stands.
    pub enum ServiceStatus as "service_status" {
        Accepted = "accepted", "已受理", "Accepted";
        InProgress = "in_progress", "代办中", "Being handled";
        Done = "done", "已办结", "Done";
        Declined = "declined", "不予办理", "Declined";
    }
}

impl ServiceStatus {
    /// Done or declined: the application is closed.
    pub fn is_closed(self) -> bool {
        matches!(self, ServiceStatus::Done | ServiceStatus::Declined)
    }
}

/// 代办: one application handled by a cadre for a villager.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequest {
    /// What is applied for.
    pub matter: ServiceMatter,
    /// The villager who applies.
    pub applicant: String,
    /// The day they applied.
    pub applied_on: NaiveDate,
    /// What they need, in their words.
    #[serde(default)]
    pub details: String,
    /// The one-time checklist: everything needed, told at once.
    #[serde(default)]
    pub checklist: Vec<String>,
    /// The cadre who handles it (代办员).
    pub agent: PersonId,
    /// Where it stands.
    pub status: ServiceStatus,
    /// What came of it.
    #[serde(default)]
    pub result: String,
    /// The day it was closed (done or declined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<NaiveDate>,
    /// The day the result was published to the masses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_on: Option<NaiveDate>,
    /// The visit demand it was made of, if it came from a visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<DemandLink>,
}

impl ServiceRequest {
    /// The rules every service request keeps.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::required_text("applicant", &self.applicant, 100)?;
        check::date("applied_on", self.applied_on)?;
        check::text("details", &self.details, 2000)?;
        if self.checklist.len() > 50 {
            return Err(ValidationError::new(
                "checklist",
                "at most 50 items are allowed",
            ));
        }
        for (i, item) in self.checklist.iter().enumerate() {
            check::required_text(&format!("checklist[{i}]"), item, 200)?;
        }
        check::text("result", &self.result, 2000)?;
        match (self.status.is_closed(), self.closed_on) {
            (true, None) => {
                return Err(ValidationError::new(
                    "closed_on",
                    "a closed application needs the day it was closed",
                ));
            }
            (false, Some(_)) => {
                return Err(ValidationError::new(
                    "closed_on",
                    "an application still open has no closing day",
                ));
            }
            (true, Some(d)) => {
                check::date("closed_on", d)?;
                check::not_before("closed_on", d, "applied_on", self.applied_on)?;
                check::required_text("result", &self.result, 2000).map_err(|_| {
                    ValidationError::new("result", "a closed application needs its result")
                })?;
            }
            (false, None) => {}
        }
        if let Some(p) = self.published_on {
            let Some(closed) = self.closed_on else {
                return Err(ValidationError::new(
                    "published_on",
                    "only the result of a closed application is published",
                ));
            };
            check::date("published_on", p)?;
            check::not_before("published_on", p, "closed_on", closed)?;
        }
        Ok(())
    }
}
