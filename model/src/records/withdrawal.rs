//! Withdrawal of a record entered by mistake: a tombstone kept in the record's
//! document beside its fields, so it syncs like any edit and the record stays
//! in the history.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::validation::{ValidationError, check};
use crate::ids::PersonId;

/// Who withdrew a record, when, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// The person who withdrew it.
    pub by: PersonId,
    /// The day it was withdrawn.
    pub on: NaiveDate,
    /// Why, in plain words.
    pub reason: String,
}

impl Withdrawal {
    /// The rules of every withdrawal.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::date("withdrawn.on", self.on)?;
        check::required_text("withdrawn.reason", &self.reason, 500)
    }
}
