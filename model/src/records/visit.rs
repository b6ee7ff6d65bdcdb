//! 走访 — a cadre's visit to a household, and the demands raised there. A
//! demand can become an opinion or a service request; the link is kept both
//! ways: the demand names the record made of it, and that record names the
//! visit and the demand.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use massline_model_derive::{Fields, Kind};
use serde::{Deserialize, Serialize};

use super::field::At;
use super::kind::KindRules;
use super::validation::ValidationError;
use super::{Record, RecordKind};
use crate::access::Principal;
use crate::coded_enum;
use crate::ids::{DocId, PersonId};
use crate::record_doc::StoredRecord;

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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[fields(check = Demand::check_id)]
pub struct Demand {
    /// Its id within the visit, made when it is written down (so demands added
    /// on two phones at once never take each other's place).
    #[field(zh = "编号", en = "Id", new = fresh)]
    pub id: String,
    /// What the household asked for, in their words.
    #[field(zh = "内容", en = "Text", text = 1000, required)]
    pub text: String,
    /// The opinion made of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "转为意见", en = "Became opinion", refs = Opinion)]
    pub opinion: Option<DocId>,
    /// The service request made of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "转为代办", en = "Became service request", refs = ServiceRequest)]
    pub service_request: Option<DocId>,
}

impl Demand {
    /// The longest id of a demand.
    pub const MAX_ID: usize = 16;

    /// A new demand with a fresh id.
    pub fn new(text: impl Into<String>) -> Demand {
        Demand {
            id: crate::ids::hex_encode(&rand::random::<[u8; 4]>()),
            text: text.into(),
            opinion: None,
            service_request: None,
        }
    }

    /// An id of 1 to 16 letters or digits.
    fn check_id(&self, at: &At<'_>) -> Result<(), ValidationError> {
        let ok = (1..=Self::MAX_ID).contains(&self.id.len())
            && self.id.chars().all(|c| c.is_ascii_alphanumeric());
        if ok {
            return Ok(());
        }
        Err(ValidationError::new(
            At::Sub(at, "id").to_string(),
            "must be 1 to 16 letters or digits",
        ))
    }
}

/// Where a record came from: a demand of a visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
pub struct DemandLink {
    /// The visit.
    #[field(zh = "走访", en = "Visit", refs = Visit)]
    pub visit: DocId,
    /// The demand's id within it.
    #[field(zh = "诉求编号", en = "Demand")]
    pub demand: String,
}

/// Household visits (走访) and the demands raised. Cadres only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "visit",
    zh = "走访",
    en = "Household visit",
    audience = cadre,
    command = "visit",
    table = "visits",
    index = "village, month"
)]
pub struct Visit {
    /// The cadre who visited.
    #[field(zh = "走访干部", en = "Cadre", refs, new = me, line = 2, column)]
    pub cadre: PersonId,
    /// The household, by the name of its head.
    #[field(zh = "户主", en = "Household", text = 100, required, line = 4)]
    pub household: String,
    /// Which group it belongs to.
    #[field(
        zh = "农户类别",
        en = "Household group",
        line = 3,
        column = "household_group"
    )]
    pub group: HouseholdGroup,
    /// The day of the visit.
    #[field(zh = "日期", en = "Date", date, new = today, line = 1, column, month)]
    pub date: NaiveDate,
    /// What was seen and said.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "情况记录", en = "Notes", text = 4000)]
    pub notes: String,
    /// Demands raised, in the order they were written down.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "群众诉求",
        en = "Demands",
        cli = "demand",
        count,
        columns(
            to_opinion: int = self.demands.iter().filter(|d| d.opinion.is_some()).count(),
            to_service: int = self.demands.iter().filter(|d| d.service_request.is_some()).count(),
        )
    )]
    pub demands: Vec<Demand>,
}

impl Visit {
    /// The demand with this id.
    pub fn demand(&self, id: &str) -> Option<&Demand> {
        self.demands.iter().find(|d| d.id == id)
    }
}

impl KindRules for Visit {
    /// A villager's personal data (a visit names a household and what it asked): erased on request.
    const PURGEABLE: bool = true;

    /// No two demands share an id.
    fn check(&self) -> Result<(), ValidationError> {
        let mut ids = HashSet::with_capacity(self.demands.len());
        for (i, d) in self.demands.iter().enumerate() {
            if !ids.insert(d.id.as_str()) {
                return Err(ValidationError::new(
                    format!("demands[{i}].id"),
                    format!("{} is the id of another demand", d.id),
                ));
            }
        }
        Ok(())
    }

    /// A demand that became another record keeps its text and its link.
    fn check_edit(
        seen: Option<&Self>,
        made: &Self,
        _by: &Principal,
    ) -> Result<(), ValidationError> {
        let Some(seen) = seen else { return Ok(()) };
        let by_id: HashMap<&str, &Demand> =
            made.demands.iter().map(|d| (d.id.as_str(), d)).collect();
        for (i, d) in seen.demands.iter().enumerate() {
            if d.opinion.is_none() && d.service_request.is_none() {
                continue;
            }
            let kept = by_id.get(d.id.as_str()).is_some_and(|n| {
                n.text == d.text
                    && (d.opinion.is_none() || n.opinion == d.opinion)
                    && (d.service_request.is_none() || n.service_request == d.service_request)
            });
            if !kept {
                return Err(ValidationError::new(
                    format!("demands[{i}]"),
                    "a demand that became an opinion or a service request keeps its text and its link",
                ));
            }
        }
        Ok(())
    }

    /// A record a demand names was made of that demand: it names the visit
    /// and the demand back.
    fn check_named(
        &self,
        id: &DocId,
        field: &str,
        named_id: &DocId,
        named: &StoredRecord,
        _authors_copy: bool,
    ) -> Result<(), ValidationError> {
        let Some(d) = self
            .demands
            .iter()
            .find(|d| d.opinion == Some(*named_id) || d.service_request == Some(*named_id))
        else {
            return Ok(());
        };
        let link = match &named.record {
            Record::Opinion(o) => o.visit.as_ref(),
            Record::ServiceRequest(s) => s.visit.as_ref(),
            _ => None,
        };
        let back = DemandLink {
            visit: *id,
            demand: d.id.clone(),
        };
        if link == Some(&back) {
            Ok(())
        } else {
            Err(ValidationError::new(
                field,
                format!("record {named_id} was not made of demand {}", d.id),
            ))
        }
    }
}

/// A record (`id`, of `kind`) made of a visit's demand: the demand exists and
/// did not already become another record of the same kind (`made_into`).
pub(crate) fn made_of_demand(
    id: &DocId,
    kind: RecordKind,
    link: Option<&DemandLink>,
    visit: &Visit,
    made_into: impl Fn(&Demand) -> Option<DocId>,
) -> Result<(), ValidationError> {
    let Some(link) = link else { return Ok(()) };
    let Some(d) = visit.demand(&link.demand) else {
        return Err(ValidationError::new(
            "visit.demand",
            format!("the visit has no demand {}", link.demand),
        ));
    };
    if made_into(d).is_some_and(|t| t != *id) {
        return Err(ValidationError::new(
            "visit.demand",
            format!("demand {} already became another {kind}", link.demand),
        ));
    }
    Ok(())
}
