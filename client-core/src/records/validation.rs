//! The error a refused record gives: which field, and why.

use std::fmt;

/// A record that breaks a rule, with the field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// The field, as a path (`minutes`, `progress[2].date`), or `record` for the whole.
    pub field: String,
    /// Why, in plain words.
    pub reason: String,
}

impl ValidationError {
    /// A rule broken by one field.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ValidationError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.reason)
    }
}

/// Checks shared by the record kinds.
pub(crate) mod check {
    use super::ValidationError;
    use chrono::NaiveDate;

    /// Text that must be present, up to `max` characters.
    pub fn required_text(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
        if value.trim().is_empty() {
            return Err(ValidationError::new(field, "must not be empty"));
        }
        text(field, value, max)
    }

    /// Text of at most `max` characters (counted as characters, not bytes).
    pub fn text(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
        let n = value.chars().count();
        if n > max {
            return Err(ValidationError::new(
                field,
                format!("is {n} characters long; at most {max} are allowed"),
            ));
        }
        Ok(())
    }

    /// A date no earlier than 2000 and no later than tomorrow (phones' clocks drift).
    pub fn date(field: &str, value: NaiveDate) -> Result<(), ValidationError> {
        let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
        let latest = chrono::Local::now().date_naive() + chrono::Days::new(1);
        if value < earliest || value > latest {
            return Err(ValidationError::new(
                field,
                format!("{value} is not between {earliest} and {latest}"),
            ));
        }
        Ok(())
    }

    /// A planned date (deadline): from 2000 to 2100.
    pub fn planned_date(field: &str, value: NaiveDate) -> Result<(), ValidationError> {
        let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
        let latest = NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX);
        if value < earliest || value > latest {
            return Err(ValidationError::new(
                field,
                format!("{value} is not between {earliest} and {latest}"),
            ));
        }
        Ok(())
    }
}
