//! Who was at a meeting: one mark per person, kept in a map keyed by person
//! id, so two phones marking attendance at the same time merge per person.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::validation::{ValidationError, check};
use crate::ids::PersonId;

/// One person's mark: present, or absent with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attendance {
    /// They were there.
    pub present: bool,
    /// Why they were absent (required when absent).
    #[serde(default)]
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
}

/// Attendance of a meeting, by person.
pub type Roll = BTreeMap<PersonId, Attendance>;

/// The rules of a roll kept in `field`.
pub(crate) fn validate_roll(field: &str, roll: &Roll) -> Result<(), ValidationError> {
    for (person, mark) in roll {
        let at = format!("{field}.{person}.reason");
        if mark.present {
            check::text(&at, &mark.reason, 200)?;
        } else {
            check::required_text(&at, &mark.reason, 200)
                .map_err(|_| ValidationError::new(at, "an absentee needs the reason"))?;
        }
    }
    Ok(())
}

/// How many were present and how many absent.
pub fn roll_counts(roll: &Roll) -> (usize, usize) {
    let present = roll.values().filter(|a| a.present).count();
    (present, roll.len() - present)
}
