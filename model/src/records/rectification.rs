//! 整改措施 — a rectification measure from the village's list, with its progress.
//!
//! A measure moves planned → in progress → done → accepted by the masses. Each
//! step is kept with the day it was reached, in a map keyed by step: two
//! phones that move it on at the same time merge to the furthest step, and no
//! step once reached is taken back.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::note::Note;
use super::validation::{ValidationError, check};
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

/// The township office's acknowledgement that the measure was filed with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filing {
    /// The day it was filed.
    pub date: NaiveDate,
    /// The township officer who acknowledged it.
    pub acknowledged_by: PersonId,
}

/// 整改措施: one measure of the rectification list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rectification {
    /// The problem (a record of the village's problem list) the measure addresses.
    pub problem: DocId,
    /// What will be done.
    pub measure: String,
    /// What counts as fixed.
    #[serde(default)]
    pub objective: String,
    /// Who is responsible.
    pub responsible: Vec<PersonId>,
    /// By when.
    pub deadline: NaiveDate,
    /// Short or long term.
    pub term: RectificationTerm,
    /// The day each step was reached; the furthest is where the measure stands.
    pub steps: BTreeMap<RectificationStatus, NaiveDate>,
    /// Dated notes of progress, oldest first.
    #[serde(default)]
    pub progress: Vec<Note>,
    /// The day the measure was announced to the masses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announced_on: Option<NaiveDate>,
    /// Filing with the township office, once acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

    /// Not done by its deadline, as of `today`.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.status() < RectificationStatus::Done && self.deadline < today
    }

    /// The rules every rectification measure keeps.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::required_text("measure", &self.measure, 2000)?;
        check::text("objective", &self.objective, 2000)?;
        if self.responsible.is_empty() {
            return Err(ValidationError::new(
                "responsible",
                "name at least one responsible person",
            ));
        }
        check::unique("responsible", &self.responsible)?;
        check::planned_date("deadline", self.deadline)?;
        if !self.steps.contains_key(&RectificationStatus::Planned) {
            return Err(ValidationError::new(
                "steps.planned",
                "a measure needs the day it was planned",
            ));
        }
        for (step, day) in &self.steps {
            check::date(&format!("steps.{step}"), *day)?;
        }
        Note::validate_all("progress", &self.progress)?;
        if let Some(d) = self.announced_on {
            check::date("announced_on", d)?;
        }
        if self.status() == RectificationStatus::Accepted && self.announced_on.is_none() {
            return Err(ValidationError::new(
                "announced_on",
                "a measure is accepted by the masses only after it was announced to them",
            ));
        }
        if let Some(f) = &self.filed {
            check::date("filed.date", f.date)?;
        }
        Ok(())
    }
}
