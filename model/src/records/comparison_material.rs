//! 对照检查材料 — the personal comparison-inspection material of the village
//! Party secretary and of each village committee member: the "four winds"
//! found in themselves, their causes, and the measures they take. Only its
//! author writes it; the village's cadres and the township read it, ordinary
//! members do not (it is kept with the cadre-only records).

use chrono::NaiveDate;
use massline_model_derive::{Fields, Kind};
use serde::{Deserialize, Serialize};

use super::FourWinds;
use super::kind::KindRules;
use super::validation::ValidationError;
use crate::access::Principal;
use crate::ids::PersonId;

/// One of the "four winds" its author found in themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
pub struct WindPoint {
    /// Which of the "four winds".
    #[field(zh = "“四风”问题", en = "\"Four winds\"")]
    pub wind: FourWinds,
    /// How it shows in their work.
    #[field(zh = "具体表现", en = "How it shows", text = 2000, required)]
    pub text: String,
}

/// A cadre's personal comparison-inspection material (对照检查材料). Cadres only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "comparison_material",
    zh = "对照检查材料",
    en = "Comparison-inspection material",
    audience = cadre,
    command = "comparison",
    table = "comparison_materials",
    index = "village, author"
)]
pub struct ComparisonMaterial {
    /// Whose material it is: the secretary or a village committee member,
    /// who alone writes it.
    #[field(zh = "本人", en = "Author", refs, new = me, evidence, line = 2, column)]
    pub author: PersonId,
    /// The day it was written.
    #[field(zh = "日期", en = "Date", date, new = today, line = 1, column, month)]
    pub date: NaiveDate,
    /// The "four winds" found in themselves, one point each.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "查摆“四风”问题",
        en = "\"Four winds\" found",
        cli = "point",
        max_items = Self::MAX_POINTS,
        count,
        line = 3
    )]
    pub points: Vec<WindPoint>,
    /// Why: the causes they find.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "原因剖析", en = "Causes", text = 4000)]
    pub causes: String,
    /// What they will do about it.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "整改措施", en = "Measures", text = 4000)]
    pub measures: String,
}

impl ComparisonMaterial {
    /// Most "four winds" points one material holds.
    pub const MAX_POINTS: usize = 50;
}

impl KindRules for ComparisonMaterial {
    /// Only its author writes it, in their own name.
    fn check_edit(seen: Option<&Self>, made: &Self, by: &Principal) -> Result<(), ValidationError> {
        let author = seen.map_or(&made.author, |s| &s.author);
        if *author != by.person {
            return Err(ValidationError::new(
                "author",
                format!("a comparison-inspection material is written only by its author, {author}"),
            ));
        }
        Ok(())
    }
}
