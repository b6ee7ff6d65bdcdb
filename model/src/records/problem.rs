//! 问题 — a problem on the village's list, how it was found, and the
//! control-inspection table (对照检查) drawn up for it.

use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::kind::KindRules;
use super::row::{Column, IntoCell, Row, RowOf, Table};
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
    #[field(zh = "标题", en = "Title", text = 200, required, line = 3, column)]
    pub title: String,
    /// How it was found.
    #[field(zh = "查找方式", en = "How found", line = 1, column)]
    pub how_found: HowFound,
    /// Which part of the work it is in.
    #[field(zh = "方面", en = "Area", line = 2, column)]
    pub area: ProblemArea,
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

impl KindRules for Problem {
    /// The township office issues problems to a village.
    fn township_makes(&self) -> bool {
        self.how_found == HowFound::SuperiorIssued
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
