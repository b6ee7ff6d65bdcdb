//! 活动实施方案 — the township's plan of the campaign: its three phases and
//! the days each is planned to start and end; and 环节进展, the day a village
//! entered a phase. [`standing`] says, from both and today, which phase a
//! village is in and whether it is behind the plan.
//!
//! A village's progress is a record per phase entered rather than one record
//! per village: no record of a village exists before its first entry, so two
//! phones offline would each make "the village's progress" as a document of
//! its own. Entries never conflict; one entered twice counts from its
//! earliest day.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use massline_model_derive::Kind;
use serde::{Deserialize, Serialize};

use super::kind::KindRules;
use super::validation::ValidationError;
use crate::coded_enum;
use crate::codes::Coded;

coded_enum! {
    /// The campaign's phases (环节), in order.
    pub enum CampaignPhase as "campaign_phase" {
        Learning = "learning", "学习教育、听取意见", "Learning and listening to opinions";
        Criticism = "criticism", "查摆问题、开展批评", "Finding problems and criticism";
        Rectification = "rectification", "整改落实、建章立制", "Rectification and rules";
    }
}

/// The township's plan of the campaign (活动实施方案): when each phase is
/// planned to start and end. The plan in force is the latest issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "campaign_plan",
    zh = "活动实施方案",
    en = "Campaign plan",
    audience = township,
    command = "plan",
    table = "campaign_plans",
    index = "issued_on"
)]
pub struct CampaignPlan {
    /// The plan's title.
    #[field(zh = "方案名称", en = "Title", text = 200, required, line = 2, column)]
    pub title: String,
    /// The day the township issued it.
    #[field(zh = "印发日期", en = "Issued on", date, new = today, line = 1, column)]
    pub issued_on: NaiveDate,
    /// Planned start of learning and listening to opinions.
    #[field(zh = "学习教育、听取意见开始", en = "Learning: planned start", date = planned, column)]
    pub learning_start: NaiveDate,
    /// Planned end of learning and listening to opinions.
    #[field(zh = "学习教育、听取意见结束", en = "Learning: planned end", date = planned, column)]
    pub learning_end: NaiveDate,
    /// Planned start of finding problems and criticism.
    #[field(zh = "查摆问题、开展批评开始", en = "Criticism: planned start", date = planned, column)]
    pub criticism_start: NaiveDate,
    /// Planned end of finding problems and criticism.
    #[field(zh = "查摆问题、开展批评结束", en = "Criticism: planned end", date = planned, column)]
    pub criticism_end: NaiveDate,
    /// Planned start of rectification and rules.
    #[field(zh = "整改落实、建章立制开始", en = "Rectification: planned start", date = planned, column)]
    pub rectification_start: NaiveDate,
    /// Planned end of rectification and rules.
    #[field(zh = "整改落实、建章立制结束", en = "Rectification: planned end", date = planned, column)]
    pub rectification_end: NaiveDate,
}

impl CampaignPlan {
    /// The planned start and end of `phase`.
    pub fn planned(&self, phase: CampaignPhase) -> (NaiveDate, NaiveDate) {
        match phase {
            CampaignPhase::Learning => (self.learning_start, self.learning_end),
            CampaignPhase::Criticism => (self.criticism_start, self.criticism_end),
            CampaignPhase::Rectification => (self.rectification_start, self.rectification_end),
        }
    }
}

impl KindRules for CampaignPlan {
    /// Each phase ends on or after its start, and starts on or after the
    /// one before it starts.
    fn check(&self) -> Result<(), ValidationError> {
        let mut before: Option<NaiveDate> = None;
        for &phase in CampaignPhase::all() {
            let (start, end) = self.planned(phase);
            if end < start {
                return Err(ValidationError::new(
                    format!("{}_end", phase.code()),
                    "a phase ends on or after the day it starts",
                ));
            }
            if before.is_some_and(|b| start < b) {
                return Err(ValidationError::new(
                    format!("{}_start", phase.code()),
                    "a phase starts on or after the phase before it",
                ));
            }
            before = Some(start);
        }
        Ok(())
    }
}

/// The day a village entered a phase of the campaign (环节进展).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "phase_entry",
    zh = "活动环节进展",
    en = "Campaign phase entered",
    audience = shared,
    command = "phase",
    table = "phase_entries",
    index = "village, phase"
)]
pub struct PhaseEntry {
    /// The phase entered.
    #[field(zh = "活动环节", en = "Phase", line = 2, column)]
    pub phase: CampaignPhase,
    /// The day the village entered it.
    #[field(zh = "进入日期", en = "Entered on", date, new = today, line = 1, column)]
    pub entered_on: NaiveDate,
    /// How it was started (a mobilization meeting, …).
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "说明", en = "Note", text = 1000)]
    pub note: String,
}

impl KindRules for PhaseEntry {}

/// Where a village stands in the campaign on a day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PhaseStanding {
    /// The furthest phase entered (`None`: none yet).
    pub current: Option<CampaignPhase>,
    /// The phases whose planned start has passed and that the village has
    /// not reached (entering a later phase reaches the earlier ones).
    pub behind: Vec<CampaignPhase>,
}

impl PhaseStanding {
    /// The village is behind the plan.
    pub fn is_behind(&self) -> bool {
        !self.behind.is_empty()
    }
}

/// The plan in force among `plans` (not withdrawn): the latest issued, the
/// greatest id among those issued the same day, so every device picks the
/// same.
pub fn plan_in_force<'a, I: Ord>(
    plans: impl IntoIterator<Item = (I, &'a CampaignPlan)>,
) -> Option<(I, &'a CampaignPlan)> {
    plans
        .into_iter()
        .max_by(|a, b| a.1.issued_on.cmp(&b.1.issued_on).then(a.0.cmp(&b.0)))
}

/// The first day each phase was entered, from a village's entries (not
/// withdrawn).
pub fn first_entries<'a>(
    entries: impl IntoIterator<Item = &'a PhaseEntry>,
) -> BTreeMap<CampaignPhase, NaiveDate> {
    let mut out = BTreeMap::new();
    for e in entries {
        out.entry(e.phase)
            .and_modify(|d: &mut NaiveDate| *d = (*d).min(e.entered_on))
            .or_insert(e.entered_on);
    }
    out
}

/// Where a village stands on `today`: the furthest phase it entered, and
/// each phase whose planned start is before `today` that it has not reached
/// (the start day itself is the day to enter it). Without a plan nothing is
/// behind.
pub fn standing(
    plan: Option<&CampaignPlan>,
    entered: &BTreeMap<CampaignPhase, NaiveDate>,
    today: NaiveDate,
) -> PhaseStanding {
    let current = entered.keys().max().copied();
    let behind = match plan {
        None => Vec::new(),
        Some(plan) => CampaignPhase::all()
            .iter()
            .copied()
            .filter(|&p| current.is_none_or(|c| p > c) && plan.planned(p).0 < today)
            .collect(),
    };
    PhaseStanding { current, behind }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).expect("day")
    }

    fn plan() -> CampaignPlan {
        CampaignPlan {
            title: "实施方案".into(),
            issued_on: day(1, 5),
            learning_start: day(2, 1),
            learning_end: day(3, 31),
            criticism_start: day(4, 1),
            criticism_end: day(5, 31),
            rectification_start: day(6, 1),
            rectification_end: day(9, 30),
        }
    }

    fn entry(phase: CampaignPhase, on: NaiveDate) -> PhaseEntry {
        PhaseEntry {
            phase,
            entered_on: on,
            note: String::new(),
        }
    }

    #[test]
    fn a_village_is_behind_once_a_planned_start_passes_unentered() {
        let p = plan();
        let none = BTreeMap::new();
        let s = standing(Some(&p), &none, day(2, 1));
        assert_eq!(
            (s.current, s.is_behind()),
            (None, false),
            "the start day itself"
        );
        let s = standing(Some(&p), &none, day(2, 2));
        assert_eq!(s.behind, vec![CampaignPhase::Learning]);
        let s = standing(Some(&p), &none, day(4, 2));
        assert_eq!(
            s.behind,
            vec![CampaignPhase::Learning, CampaignPhase::Criticism]
        );

        let entries = [
            entry(CampaignPhase::Learning, day(2, 3)),
            entry(CampaignPhase::Learning, day(2, 1)),
        ];
        let entered = first_entries(&entries);
        assert_eq!(
            entered[&CampaignPhase::Learning],
            day(2, 1),
            "the earliest counts"
        );
        let s = standing(Some(&p), &entered, day(3, 1));
        assert_eq!(s.current, Some(CampaignPhase::Learning));
        assert!(!s.is_behind());
        let s = standing(Some(&p), &entered, day(4, 2));
        assert_eq!(s.behind, vec![CampaignPhase::Criticism]);
    }

    #[test]
    fn a_later_phase_entered_reaches_the_earlier_ones() {
        let entered = first_entries(&[entry(CampaignPhase::Rectification, day(6, 1))]);
        let s = standing(Some(&plan()), &entered, day(7, 1));
        assert_eq!(s.current, Some(CampaignPhase::Rectification));
        assert!(!s.is_behind());
    }

    #[test]
    fn without_a_plan_nothing_is_behind() {
        let s = standing(None, &BTreeMap::new(), day(12, 1));
        assert_eq!((s.current, s.is_behind()), (None, false));
    }

    #[test]
    fn the_latest_plan_issued_is_in_force() {
        let old = plan();
        let mut new = plan();
        new.issued_on = day(1, 20);
        new.title = "修订方案".into();
        let chosen = plan_in_force([(2, &old), (1, &new)]);
        assert_eq!(chosen.map(|(_, p)| p.title.as_str()), Some("修订方案"));
        assert!(plan_in_force::<u8>([]).is_none());
    }

    #[test]
    fn phases_run_in_order_and_end_after_they_start() {
        assert!(plan().check().is_ok());
        let mut p = plan();
        p.criticism_end = day(3, 1);
        assert_eq!(p.check().map_err(|e| e.field), Err("criticism_end".into()));
        let mut p = plan();
        p.rectification_start = day(3, 1);
        p.rectification_end = day(9, 1);
        assert_eq!(
            p.check().map_err(|e| e.field),
            Err("rectification_start".into())
        );
    }
}
