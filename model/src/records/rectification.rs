//! 整改措施 — a rectification measure from the village's list, with its progress.
//!
//! A measure moves planned → in progress → done → accepted by the masses. Each
//! step is kept with the day it was reached, in a map keyed by step: two
//! phones that move it on at the same time merge to the furthest step, and no
//! step once reached is taken back.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use massline_model_derive::{Fields, Kind};
use serde::{Deserialize, Serialize};

use super::kind::KindRules;
use super::note::Note;
use super::validation::ValidationError;
use crate::access::{Principal, Role};
use crate::coded_enum;
use crate::ids::{DocId, PersonId};

coded_enum! {
    /// Short-term problems are fixed now; long-term ones step by step.
    pub enum RectificationTerm as "rectification_term" {
        Short = "short", "立即整改", "Short term: fix now";
        Long = "long", "逐步整改", "Long term: step by step";
    }
}

coded_enum! {
    /// Where the measure stands, in the order it moves.
    pub enum RectificationStatus as "rectification_status" {
        Planned = "planned", "已制定", "Planned";
        InProgress = "in_progress", "整改中", "In progress";
        Done = "done", "已完成", "Done";
        Accepted = "accepted", "群众认可", "Accepted by the masses";
    }
}

/// The day each step of a measure was reached.
pub type Steps = BTreeMap<RectificationStatus, NaiveDate>;

/// The township office's acknowledgement that the measure was filed with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
pub struct Filing {
    /// The day it was filed.
    #[field(zh = "日期", en = "Date", date, cli = "filed-on")]
    pub date: NaiveDate,
    /// The township officer who acknowledged it.
    #[field(zh = "备案确认人", en = "Acknowledged by", new = me)]
    pub acknowledged_by: PersonId,
}

/// The secretary's submission of a measure to the township for filing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// The day it was submitted.
    #[field(zh = "日期", en = "Date", date, cli = "submitted-on")]
    pub date: NaiveDate,
    /// The village Party secretary who submitted it.
    #[field(zh = "报送人", en = "Submitted by", new = me)]
    pub by: PersonId,
}

coded_enum! {
    /// Where a measure stands with the township's filing.
    pub enum FilingState as "filing_state" {
        NotSubmitted = "not_submitted", "未报备", "Not submitted";
        Submitted = "submitted", "已报送待确认", "Submitted, not acknowledged";
        Filed = "filed", "已备案", "Filed";
    }
}

/// Rectification measures (整改措施), their steps, progress notes and filing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Kind)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[kind(
    code = "rectification",
    zh = "整改措施",
    en = "Rectification measure",
    audience = shared,
    command = "rectification",
    table = "rectifications",
    index = "village, status"
)]
pub struct Rectification {
    /// The problem (a record of the village's problem list) the measure addresses.
    #[field(zh = "问题", en = "Problem", refs = Problem, column)]
    pub problem: DocId,
    /// What will be done.
    #[field(
        zh = "整改措施",
        en = "Measure",
        text = 2000,
        required,
        line = 3,
        column
    )]
    pub measure: String,
    /// What counts as fixed.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "整改目标", en = "Objective", text = 2000)]
    pub objective: String,
    /// Who is responsible.
    #[field(
        zh = "责任人",
        en = "Responsible",
        refs,
        unique,
        min_items = 1,
        count,
        columns(responsible_ids: text = super::row::person_list(&self.responsible))
    )]
    pub responsible: Vec<PersonId>,
    /// By when.
    #[field(zh = "整改时限", en = "Deadline", date = planned, line = 1, column)]
    pub deadline: NaiveDate,
    /// Short or long term.
    #[field(zh = "整改类型", en = "Term", column)]
    pub term: RectificationTerm,
    /// The day each step was reached; the furthest is where the measure stands.
    #[field(
        zh = "整改进度",
        en = "Steps reached",
        date,
        cli = "status",
        new = "planned",
        line = 2,
        columns(
            status: text = self.status(),
            planned_on: text? = self.reached(RectificationStatus::Planned),
            started_on: text? = self.reached(RectificationStatus::InProgress),
            done_on: text? = self.reached(RectificationStatus::Done),
            accepted_on: text? = self.reached(RectificationStatus::Accepted),
        )
    )]
    pub steps: Steps,
    /// Dated notes of progress, oldest first.
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "进展情况", en = "Progress", cli = "note", count = "notes")]
    pub progress: Vec<Note>,
    /// The day the measure was announced to the masses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "向群众公布日期", en = "Announced to the masses", date, column)]
    pub announced_on: Option<NaiveDate>,
    /// The secretary's submission for filing with the township office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "报送备案",
        en = "Submitted for filing",
        columns(
            submitted_on: text? = self.submitted.as_ref().map(|s| s.date),
            submitted_by: text? = self.submitted.as_ref().map(|s| &s.by),
            filing: text = self.filing_state(),
        )
    )]
    pub submitted: Option<Submission>,
    /// Filing with the township office, once acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(
        zh = "报乡镇备案",
        en = "Filed with the township",
        columns(
            filed_on: text? = self.filed.as_ref().map(|f| f.date),
            filed_by: text? = self.filed.as_ref().map(|f| &f.acknowledged_by),
        )
    )]
    pub filed: Option<Filing>,
}

impl Rectification {
    /// Where the measure stands: the furthest step reached.
    pub fn status(&self) -> RectificationStatus {
        self.steps
            .keys()
            .next_back()
            .copied()
            .unwrap_or(RectificationStatus::Planned)
    }

    /// The day a step was reached, if it was.
    pub fn reached(&self, step: RectificationStatus) -> Option<NaiveDate> {
        self.steps.get(&step).copied()
    }

    /// Moves the measure on to `step` on `day`; a step already reached keeps its day.
    pub fn advance(&mut self, step: RectificationStatus, day: NaiveDate) {
        self.steps.entry(step).or_insert(day);
    }

    /// Where the measure stands with the township's filing.
    pub fn filing_state(&self) -> FilingState {
        match (&self.submitted, &self.filed) {
            (_, Some(_)) => FilingState::Filed,
            (Some(_), None) => FilingState::Submitted,
            (None, None) => FilingState::NotSubmitted,
        }
    }

    /// Not done by its deadline, as of `today`.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.status() < RectificationStatus::Done && self.deadline < today
    }
}

impl KindRules for Rectification {
    /// A measure has the day it was planned, is accepted by the masses only
    /// once announced to them, submitted for filing only once done and
    /// announced, and filed only once submitted.
    fn check(&self) -> Result<(), ValidationError> {
        if !self.steps.contains_key(&RectificationStatus::Planned) {
            return Err(ValidationError::new(
                "steps.planned",
                "a measure needs the day it was planned",
            ));
        }
        if self.status() == RectificationStatus::Accepted && self.announced_on.is_none() {
            return Err(ValidationError::new(
                "announced_on",
                "a measure is accepted by the masses only after it was announced to them",
            ));
        }
        if self.filed.is_some() && self.submitted.is_none() {
            return Err(ValidationError::new(
                "filed",
                "a measure is filed with the township once its secretary has submitted it",
            ));
        }
        if self.submitted.is_some()
            && (self.status() < RectificationStatus::Done || self.announced_on.is_none())
        {
            return Err(ValidationError::new(
                "submitted",
                "a measure is submitted for filing once it is done and announced to the masses",
            ));
        }
        Ok(())
    }

    /// Only the township office acknowledges a filing, in its officer's own
    /// name; only the secretary submits one, in their own name, once; a step
    /// reached is never taken back.
    fn check_edit(seen: Option<&Self>, made: &Self, by: &Principal) -> Result<(), ValidationError> {
        if seen.and_then(|s| s.filed.as_ref()) != made.filed.as_ref() {
            if by.role != Role::TownshipOfficer {
                return Err(ValidationError::new(
                    "filed",
                    "only the township office acknowledges a filing",
                ));
            }
            if let Some(f) = &made.filed
                && f.acknowledged_by != by.person
            {
                return Err(ValidationError::new(
                    "filed.acknowledged_by",
                    "a filing is acknowledged by the officer who records it",
                ));
            }
        }
        let seen_submitted = seen.and_then(|s| s.submitted.as_ref());
        if seen_submitted != made.submitted.as_ref() {
            if seen_submitted.is_some() {
                return Err(ValidationError::new(
                    "submitted",
                    "a submission for filing stays as it was made",
                ));
            }
            if by.role != Role::Secretary {
                return Err(ValidationError::new(
                    "submitted",
                    "only the village Party secretary submits a measure for filing",
                ));
            }
            if let Some(s) = &made.submitted
                && s.by != by.person
            {
                return Err(ValidationError::new(
                    "submitted.by",
                    "the secretary submits a measure for filing in their own name",
                ));
            }
        }
        let Some(seen) = seen else { return Ok(()) };
        if let Some(step) = seen.steps.keys().find(|s| !made.steps.contains_key(s)) {
            return Err(ValidationError::new(
                format!("steps.{step}"),
                format!(
                    "a measure moves {} → {} → {} → {}; a step reached is not taken back",
                    RectificationStatus::Planned,
                    RectificationStatus::InProgress,
                    RectificationStatus::Done,
                    RectificationStatus::Accepted
                ),
            ));
        }
        Ok(())
    }

    /// The township office acknowledges filings in a village's measures.
    fn township_changes(seen: &Self, made: &Self) -> bool {
        let mut only_filed = made.clone();
        only_filed.filed.clone_from(&seen.filed);
        *seen == only_filed
    }
}
