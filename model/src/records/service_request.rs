//! 代办 / 一次性告知 — a villager's application that a cadre handles for them:
//! what is needed is told once, in full (the one-time checklist), the agent
//! cadre carries it through, and the result is published.

use chrono::NaiveDate;
use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::kind::KindRules;
use super::validation::{ValidationError, check};
use super::visit::{DemandLink, made_of_demand};
use super::{Record, RecordKind};
use crate::coded_enum;
use crate::ids::{DocId, PersonId};
use crate::record_doc::StoredRecord;

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

/// Services handled for villagers (代办, 一次性告知). Cadres only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "service_request",
    zh = "代办服务",
    en = "Service request",
    audience = cadre,
    command = "service",
    table = "service_requests",
    index = "village, status"
)]
pub struct ServiceRequest {
    /// What is applied for.
    #[field(zh = "代办事项", en = "Matter", line = 2, column)]
    pub matter: ServiceMatter,
    /// The villager who applies.
    #[field(
        zh = "申请人",
        en = "Applicant",
        text = 100,
        required,
        line = 4,
        column
    )]
    pub applicant: String,
    /// The day they applied.
    #[field(zh = "申请日期", en = "Applied on", date, new = today, line = 1, column)]
    pub applied_on: NaiveDate,
    /// What they need, in their words.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "具体诉求", en = "Details", text = 2000)]
    pub details: String,
    /// The one-time checklist: everything needed, told at once.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "一次性告知清单",
        en = "One-time checklist",
        text = 200,
        required,
        max_items = Self::MAX_CHECKLIST,
        cli = "need",
        count
    )]
    pub checklist: Vec<String>,
    /// The cadre who handles it (代办员).
    #[field(zh = "代办员", en = "Agent", refs, new = me, column)]
    pub agent: PersonId,
    /// Where it stands.
    #[field(zh = "状态", en = "Status", new = "accepted", line = 3, column)]
    pub status: ServiceStatus,
    /// What came of it.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "办理结果", en = "Result", text = 2000)]
    pub result: String,
    /// The day it was closed (done or declined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "办结日期", en = "Closed on", date, column)]
    pub closed_on: Option<NaiveDate>,
    /// The day the result was published to the masses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "结果公开日期", en = "Result published on", date, column)]
    pub published_on: Option<NaiveDate>,
    /// The visit demand it was made of, if it came from a visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "来源走访",
        en = "From visit",
        evidence,
        columns(from_visit: blob? = self.visit.as_ref().map(|l| &l.visit))
    )]
    pub visit: Option<DemandLink>,
}

impl ServiceRequest {
    /// The most items of a one-time checklist.
    pub const MAX_CHECKLIST: usize = 50;
}

impl KindRules for ServiceRequest {
    /// A villager's personal data (a service request names the villager it serves): erased on request.
    const PURGEABLE: bool = true;

    /// A closed application has the day it closed (not before it was applied
    /// for) and its result; only a closed one's result is published, not
    /// before it closed.
    fn check(&self) -> Result<(), ValidationError> {
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
                check::not_before("closed_on", d, "applied_on", self.applied_on)?;
                if self.result.trim().is_empty() {
                    return Err(ValidationError::new(
                        "result",
                        "a closed application needs its result",
                    ));
                }
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
            check::not_before("published_on", p, "closed_on", closed)?;
        }
        Ok(())
    }

    fn check_named(
        &self,
        id: &DocId,
        _field: &str,
        _named_id: &DocId,
        named: &StoredRecord,
        authors_copy: bool,
    ) -> Result<(), ValidationError> {
        match &named.record {
            Record::Visit(v) if authors_copy => made_of_demand(
                id,
                RecordKind::ServiceRequest,
                self.visit.as_ref(),
                v,
                |d| d.service_request,
            ),
            _ => Ok(()),
        }
    }
}
