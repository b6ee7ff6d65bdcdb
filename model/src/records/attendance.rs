//! Who was at a meeting: one mark per person, kept in a map keyed by person
//! id, so two phones marking attendance at the same time merge per person;
//! and its typed rows, one per person marked.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use massline_model_derive::Fields;
use serde::{Deserialize, Serialize};

use super::field::At;
use super::row::{Cell, Column, IntoCell, Row, RowOf, SqlType, Table, month};
use super::validation::{ValidationError, check};
use crate::ids::PersonId;

/// One person's mark: present, or absent with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[fields(check = Attendance::check)]
pub struct Attendance {
    /// They were there.
    #[field(zh = "出席", en = "Present")]
    pub present: bool,
    /// Why they were absent (required when absent).
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[field(zh = "原因", en = "Reason", text = 200)]
    pub reason: String,
}

impl Attendance {
    /// Marked present.
    pub fn present() -> Self {
        Attendance {
            present: true,
            reason: String::new(),
        }
    }

    /// Marked absent, with the reason.
    pub fn absent(reason: impl Into<String>) -> Self {
        Attendance {
            present: false,
            reason: reason.into(),
        }
    }

    /// An absentee needs the reason.
    fn check(&self, at: &At<'_>) -> Result<(), ValidationError> {
        if self.present {
            return Ok(());
        }
        let at = At::Sub(at, "reason");
        check::required_text(at, &self.reason, 200)
            .map_err(|_| ValidationError::new(at.to_string(), "an absentee needs the reason"))
    }
}

/// Attendance of a meeting, by person.
pub type Roll = BTreeMap<PersonId, Attendance>;

/// How many were present and how many absent.
pub fn roll_counts(roll: &Roll) -> (usize, usize) {
    let present = roll.values().filter(|a| a.present).count();
    (present, roll.len() - present)
}

/// One row per person marked at a study session or an organizational-life
/// meeting (`kind` says which).
pub static ATTENDANCE: Table = Table {
    name: "attendance",
    columns: &[
        Column::DOC_ID,
        Column::KIND,
        Column::VILLAGE,
        Column::DATE,
        Column::MONTH,
        Column::PERSON,
        Column::new("present", SqlType::Integer),
        Column::new("reason", SqlType::Text),
        Column::WITHDRAWN,
    ],
    key: &["doc_id", "person"],
    index: &["village", "month"],
};

/// The rows of a meeting's roll, held on `date`.
pub(crate) fn attendance_rows<'a>(
    of: &RowOf<'a>,
    date: NaiveDate,
    roll: &'a Roll,
    rows: &mut Vec<Row<'a>>,
) {
    for (person, mark) in roll {
        rows.push(Row {
            table: &ATTENDANCE,
            cells: vec![
                of.doc_id(),
                Cell::Str(of.kind.into()),
                of.village(),
                date.into_cell(),
                month(date),
                person.into_cell(),
                mark.present.into_cell(),
                (&mark.reason).into_cell(),
                of.withdrawn(),
            ],
        });
    }
}
