//! 问题 — a problem on the village's list, how it was found, and the
//! control-inspection table (对照检查) drawn up for it.

use serde::{Deserialize, Serialize};

use super::validation::{ValidationError, check};
use crate::coded_enum;
use crate::ids::DocId;

coded_enum! {
    /// How the problem was found (the seed's five methods).
    pub enum HowFound as "how_found" {
        RaisedByMasses = "raised_by_masses", "群众提", "Raised by the masses";
        SelfSearch = "self_search", "自己找", "Self-search";
        SuperiorIssued = "superior_issued", "上级点", "Issued by superiors";
        MutualHelp = "mutual_help", "互相帮", "Mutual help";
        CollectiveDiscussion = "collective_discussion", "集体议", "Collective discussion";
    }
}

coded_enum! {
    /// Which part of the village's work the problem is in.
    pub enum ProblemArea as "problem_area" {
        DevelopmentService = "development_service", "服务发展", "Service for development";
        Livelihood = "livelihood", "民生服务", "People's livelihood";
        MassService = "mass_service", "服务群众", "Service for the masses";
        MemberService = "member_service", "服务党员", "Service for members";
        IncomeBottleneck = "income_bottleneck", "农民增收瓶颈", "Bottlenecks in farmers' income";
    }
}

/// 问题: one problem of the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    /// The problem in a line.
    pub title: String,
    /// How it was found.
    pub how_found: HowFound,
    /// Which part of the work it is in.
    pub area: ProblemArea,
    /// Control inspection: the background.
    #[serde(default)]
    pub background: String,
    /// Control inspection: its causes.
    #[serde(default)]
    pub causes: String,
    /// Control inspection: how it shows.
    #[serde(default)]
    pub manifestations: String,
    /// Control inspection: the direction to take.
    #[serde(default)]
    pub direction: String,
    /// Control inspection: effective solutions.
    #[serde(default)]
    pub solutions: String,
    /// Opinions of the masses that raised it.
    #[serde(default)]
    pub opinions: Vec<DocId>,
}

impl Problem {
    /// The rules every problem keeps.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::required_text("title", &self.title, 200)?;
        for (field, text) in [
            ("background", &self.background),
            ("causes", &self.causes),
            ("manifestations", &self.manifestations),
            ("direction", &self.direction),
            ("solutions", &self.solutions),
        ] {
            check::text(field, text, 4000)?;
        }
        check::unique("opinions", &self.opinions)
    }
}
