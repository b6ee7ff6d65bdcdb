//! 一次性告知清单 — the township's one-time checklist of a service matter:
//! everything a villager must bring for it, told at once. A service request
//! for that matter made with no checklist of its own starts from the latest
//! issued one (see `massline_core`'s `create`).

use chrono::NaiveDate;
use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::kind::KindRules;
use super::service_request::{ServiceMatter, ServiceRequest};

/// The township's one-time checklist of a service matter (一次性告知清单).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "service_checklist",
    zh = "一次性告知清单",
    en = "Service checklist",
    audience = township,
    command = "checklist",
    table = "service_checklists",
    index = "issued_on"
)]
pub struct ServiceChecklist {
    /// The matter it is for.
    #[field(zh = "代办事项", en = "Matter", line = 2, column)]
    pub matter: ServiceMatter,
    /// The day the township issued it; the latest issued is in force.
    #[field(zh = "印发日期", en = "Issued on", date, new = today, line = 1, column)]
    pub issued_on: NaiveDate,
    /// What the villager must bring, an item each.
    #[field(
        zh = "所需材料",
        en = "Items needed",
        text = 200,
        required,
        max_items = ServiceRequest::MAX_CHECKLIST,
        cli = "need",
        count
    )]
    pub items: Vec<String>,
}

impl KindRules for ServiceChecklist {}

/// The checklist in force for `matter` among `checklists`: the latest issued
/// (of two issued the same day, the one sorting last, so every phone picks
/// the same).
pub fn checklist_in_force<'a>(
    matter: ServiceMatter,
    checklists: impl IntoIterator<Item = &'a ServiceChecklist>,
) -> Option<&'a ServiceChecklist> {
    checklists
        .into_iter()
        .filter(|c| c.matter == matter)
        .max_by(|a, b| a.issued_on.cmp(&b.issued_on).then(a.items.cmp(&b.items)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued(matter: ServiceMatter, day: u32, items: &[&str]) -> ServiceChecklist {
        ServiceChecklist {
            matter,
            issued_on: NaiveDate::from_ymd_opt(2024, 6, day).expect("day"),
            items: items.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_latest_checklist_of_the_matter_is_in_force() {
        let lists = [
            issued(ServiceMatter::SubsistenceAllowance, 1, &["户口本"]),
            issued(
                ServiceMatter::SubsistenceAllowance,
                9,
                &["户口本", "收入证明"],
            ),
            issued(ServiceMatter::Banquet, 20, &["申请表"]),
        ];
        let found = checklist_in_force(ServiceMatter::SubsistenceAllowance, &lists);
        assert_eq!(found.map(|c| c.items.len()), Some(2));
        assert!(checklist_in_force(ServiceMatter::Other, &lists).is_none());
    }
}
