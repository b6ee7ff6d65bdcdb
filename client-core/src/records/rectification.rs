//! 整改措施 — a rectification measure from the village's list, with its progress.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::validation::{ValidationError, check};
use crate::coded_enum;
use crate::ids::PersonId;

coded_enum! {
    /// Short-term problems are fixed now; long-term ones step by step.
    pub enum RectificationTerm as "rectification_term" {
        Short = "short", "立即整改", "Short term: fix now";
        Long = "long", "逐步整改", "Long term: step by step";
    }
}

coded_enum! {
    /// Where the measure stands.
    pub enum RectificationStatus as "rectification_status" {
        Planned = "planned", "已制定", "Planned";
        InProgress = "in_progress", "整改中", "In progress";
        Done = "done", "已完成", "Done";
        Accepted = "accepted", "群众认可", "Accepted by the masses";
    }
}

/// A dated note of progress, with who wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressNote {
    /// The day of the progress.
    pub date: NaiveDate,
    /// What was done.
    pub text: String,
    /// Who wrote the note.
    pub author: PersonId,
}

/// The township office's acknowledgement that the measure was filed with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filing {
    /// The day it was filed.
    pub date: NaiveDate,
    /// The township officer who acknowledged it.
    pub acknowledged_by: PersonId,
}

/// 整改措施: one measure of the rectification list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rectification {
    /// The problem the measure addresses.
    pub problem: String,
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
    /// Where it stands.
    pub status: RectificationStatus,
    /// Dated notes of progress, oldest first.
    #[serde(default)]
    pub progress: Vec<ProgressNote>,
    /// The day the measure was announced to the masses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announced_on: Option<NaiveDate>,
    /// Filing with the township office, once acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filed: Option<Filing>,
}

impl Rectification {
    /// The rules every rectification measure keeps.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::required_text("problem", &self.problem, 2000)?;
        check::required_text("measure", &self.measure, 2000)?;
        check::text("objective", &self.objective, 2000)?;
        if self.responsible.is_empty() {
            return Err(ValidationError::new(
                "responsible",
                "name at least one responsible person",
            ));
        }
        check::planned_date("deadline", self.deadline)?;
        for (i, note) in self.progress.iter().enumerate() {
            check::date(&format!("progress[{i}].date"), note.date)?;
            check::required_text(&format!("progress[{i}].text"), &note.text, 2000)?;
        }
        if let Some(d) = self.announced_on {
            check::date("announced_on", d)?;
        }
        if let Some(f) = &self.filed {
            check::date("filed.date", f.date)?;
        }
        Ok(())
    }
}
