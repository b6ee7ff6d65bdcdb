//! A dated note with its author: progress on a rectification measure, a
//! cadre's comment on a study entry.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::validation::{ValidationError, check};
use crate::ids::PersonId;

/// A dated note, with who wrote it. Notes are kept in a list that two phones
/// can append to at the same time; each keeps its author.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    /// The day the note is about.
    pub date: NaiveDate,
    /// What happened, or what the author says.
    pub text: String,
    /// Who wrote the note.
    pub author: PersonId,
}

/// A note of progress on a rectification measure.
pub type ProgressNote = Note;

impl Note {
    /// The rules of every note in the list `field`.
    pub(crate) fn validate_all(field: &str, notes: &[Note]) -> Result<(), ValidationError> {
        for (i, note) in notes.iter().enumerate() {
            check::date(&format!("{field}[{i}].date"), note.date)?;
            check::required_text(&format!("{field}[{i}].text"), &note.text, 2000)?;
        }
        Ok(())
    }
}
