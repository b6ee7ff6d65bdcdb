//! 问题 — a problem on the village's list, how it was found, which of the
//! "four winds" it shows, where it stands, and the control-inspection table
//! (对照检查) drawn up for it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::kind::{KindOf, KindRules};
use super::row::{Column, IntoCell, Row, RowOf, Table};
use super::rules::{Context, Lookup};
use super::validation::ValidationError;
use super::{FourWinds, Notice, RecordKind, Rectification, RectificationStatus};
use crate::access::Principal;
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

coded_enum! {
    /// Where the problem stands, in the order it moves.
    pub enum ProblemStatus as "problem_status" {
        Open = "open", "待整改", "Open";
        BeingRectified = "being_rectified", "整改中", "Being rectified";
        Solved = "solved", "已解决", "Solved";
        Accepted = "accepted", "群众认可", "Accepted by the masses";
    }
}

/// The day each step of a problem was reached.
pub type ProblemSteps = BTreeMap<ProblemStatus, NaiveDate>;

// In Kotlin, a map of the steps.
#[cfg(feature = "uniffi")]
uniffi::custom_type!(ProblemSteps, std::collections::HashMap<ProblemStatus, NaiveDate>, {
    remote,
    lower: |m| m.into_iter().collect(),
    try_lift: |m| Ok(m.into_iter().collect()),
});

/// The village's problem list (问题) and its control-inspection table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "problem",
    zh = "问题",
    en = "Problem",
    audience = shared,
    command = "problem",
    table = "problems",
    index = "village"
)]
pub struct Problem {
    /// The problem in a line.
    #[field(zh = "标题", en = "Title", text = 200, required, line = 4, column)]
    pub title: String,
    /// How it was found.
    #[field(zh = "查找方式", en = "How found", line = 1, column)]
    pub how_found: HowFound,
    /// Which part of the work it is in.
    #[field(zh = "方面", en = "Area", line = 2, column)]
    pub area: ProblemArea,
    /// Which of the "four winds" it shows, once that is judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "“四风”问题", en = "\"Four winds\"", column)]
    pub four_winds: Option<FourWinds>,
    /// The day it was found (put on the list); records made before this
    /// field existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "查摆日期", en = "Found on", date, new = today, column)]
    pub found_on: Option<NaiveDate>,
    /// The day each step was reached; the furthest is where the problem
    /// stands, and one with none reached is open.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "问题状态",
        en = "Status",
        date,
        cli = "status",
        line = 3,
        columns(
            status: text = self.status(),
            solved_on: text? = self.steps.get(&ProblemStatus::Solved),
            accepted_on: text? = self.steps.get(&ProblemStatus::Accepted),
        )
    )]
    pub steps: ProblemSteps,
    /// Control inspection: the background.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "背景", en = "Background", text = 4000)]
    pub background: String,
    /// Control inspection: its causes.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "原因", en = "Causes", text = 4000)]
    pub causes: String,
    /// Control inspection: how it shows.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "表现", en = "Manifestations", text = 4000)]
    pub manifestations: String,
    /// Control inspection: the direction to take.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "努力方向", en = "Direction", text = 4000)]
    pub direction: String,
    /// Control inspection: effective solutions.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "解决措施", en = "Solutions", text = 4000)]
    pub solutions: String,
    /// Opinions of the masses that raised it.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "相关意见", en = "Linked opinions", refs = Opinion, unique, cli = "opinion", count)]
    pub opinions: Vec<DocId>,
}

/// The opinions each problem names, one row per link.
pub static PROBLEM_OPINIONS: Table = Table {
    name: "problem_opinions",
    columns: &[
        Column::DOC_ID,
        Column::new("opinion", super::row::SqlType::Blob),
    ],
    key: &["doc_id", "opinion"],
    index: &[],
};

impl Problem {
    /// Where the problem stands: the furthest step reached, or open.
    pub fn status(&self) -> ProblemStatus {
        self.steps
            .keys()
            .next_back()
            .copied()
            .unwrap_or(ProblemStatus::Open)
    }
}

impl Problem {
    /// The opinions this problem names that it did not as `seen`: taking
    /// them up into it marks them taken up.
    pub fn takes_up(&self, seen: Option<&Problem>) -> Vec<DocId> {
        self.opinions
            .iter()
            .filter(|o| !seen.is_some_and(|s| s.opinions.contains(o)))
            .copied()
            .collect()
    }
}

impl KindRules for Problem {
    /// The township office issues problems to a village.
    fn township_makes(&self) -> bool {
        self.how_found == HowFound::SuperiorIssued
    }

    /// The masses accept a problem as solved only once it is.
    fn check(&self) -> Result<(), ValidationError> {
        if self.steps.contains_key(&ProblemStatus::Accepted)
            && !self.steps.contains_key(&ProblemStatus::Solved)
        {
            return Err(ValidationError::new(
                "steps.accepted",
                "the masses accept a problem as solved only once it is solved",
            ));
        }
        Ok(())
    }

    /// A step reached is never taken back.
    fn check_edit(
        seen: Option<&Self>,
        made: &Self,
        _by: &Principal,
    ) -> Result<(), ValidationError> {
        let Some(seen) = seen else { return Ok(()) };
        match seen.steps.keys().find(|s| !made.steps.contains_key(s)) {
            Some(step) => Err(ValidationError::new(
                format!("steps.{step}"),
                format!(
                    "a problem moves {} → {} → {} → {}; a step reached is not taken back",
                    ProblemStatus::Open,
                    ProblemStatus::BeingRectified,
                    ProblemStatus::Solved,
                    ProblemStatus::Accepted
                ),
            )),
            None => Ok(()),
        }
    }

    /// Solved only when its measures (one at least) are all done; accepted
    /// by the masses only once announced to them, by a notice that names it
    /// or by announcing each of its measures. Judged when the author's edit
    /// reaches the step, against the records their phone holds.
    fn check_named_by(
        seen: Option<&Self>,
        made: &Self,
        id: &DocId,
        ctx: &dyn Context,
    ) -> Result<(), ValidationError> {
        let reaches = |step| {
            made.steps.contains_key(&step) && !seen.is_some_and(|s| s.steps.contains_key(&step))
        };
        let (solves, accepts) = (
            reaches(ProblemStatus::Solved),
            reaches(ProblemStatus::Accepted),
        );
        if !solves && !accepts {
            return Ok(());
        }
        let Lookup::Found(measures) = ctx.naming(id, RecordKind::Rectification) else {
            return Ok(());
        };
        let measures: Vec<&Rectification> = measures
            .iter()
            .filter(|m| m.withdrawn.is_none())
            .filter_map(|m| Rectification::of(&m.record))
            .collect();
        if solves {
            let undone = measures
                .iter()
                .filter(|m| m.status() < RectificationStatus::Done)
                .count();
            if measures.is_empty() || undone > 0 {
                return Err(ValidationError::new(
                    "steps.solved",
                    format!(
                        "a problem is solved only when its rectification measures are all done: \
                         {undone} of its {} are not",
                        measures.len()
                    ),
                ));
            }
        }
        if accepts {
            let by_measures =
                !measures.is_empty() && measures.iter().all(|m| m.announced_on.is_some());
            let by_notice = matches!(
                ctx.naming(id, RecordKind::Notice),
                Lookup::Found(n) if n.iter().any(|n| n.withdrawn.is_none() && Notice::of(&n.record).is_some())
            );
            if !by_measures && !by_notice {
                return Err(ValidationError::new(
                    "steps.accepted",
                    "a problem is accepted by the masses only once announced to them: \
                     by a notice that names it, or by announcing each of its measures",
                ));
            }
        }
        Ok(())
    }

    const OTHER_TABLES: &'static [&'static Table] = &[&PROBLEM_OPINIONS];

    fn other_rows<'a>(&'a self, of: &RowOf<'a>, rows: &mut Vec<Row<'a>>) {
        for o in &self.opinions {
            rows.push(Row {
                table: &PROBLEM_OPINIONS,
                cells: vec![of.doc_id(), o.into_cell()],
            });
        }
    }
}
