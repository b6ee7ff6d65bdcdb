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
    use chrono::{Datelike, NaiveDate};

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

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
    }

    /// The latest day a past event can have: tomorrow (phones' clocks drift).
    pub fn latest_past_day() -> NaiveDate {
        chrono::Local::now().date_naive() + chrono::Days::new(1)
    }

    fn between(
        field: &str,
        value: NaiveDate,
        earliest: NaiveDate,
        latest: NaiveDate,
    ) -> Result<(), ValidationError> {
        if value < earliest || value > latest {
            return Err(ValidationError::new(
                field,
                format!("{value} is not between {earliest} and {latest}"),
            ));
        }
        Ok(())
    }

    /// A day that has happened: no earlier than 2000 and no later than tomorrow.
    pub fn date(field: &str, value: NaiveDate) -> Result<(), ValidationError> {
        between(field, value, ymd(2000, 1, 1), latest_past_day())
    }

    /// A day that has happened, from `earliest` on (for dates of a life, not of the campaign).
    pub fn date_since(
        field: &str,
        value: NaiveDate,
        earliest: NaiveDate,
    ) -> Result<(), ValidationError> {
        between(field, value, earliest, latest_past_day())
    }

    /// A planned date (deadline): from 2000 to 2100.
    pub fn planned_date(field: &str, value: NaiveDate) -> Result<(), ValidationError> {
        between(field, value, ymd(2000, 1, 1), ymd(2100, 12, 31))
    }

    /// A day that cannot come before another one of the same record.
    pub fn not_before(
        field: &str,
        value: NaiveDate,
        other_field: &str,
        other: NaiveDate,
    ) -> Result<(), ValidationError> {
        if value < other {
            return Err(ValidationError::new(
                field,
                format!("{value} is before the {other_field} ({other})"),
            ));
        }
        Ok(())
    }

    /// A whole number within `min..=max`.
    pub fn range(field: &str, value: i64, min: i64, max: i64) -> Result<(), ValidationError> {
        if value < min || value > max {
            return Err(ValidationError::new(
                field,
                format!("must be between {min} and {max} (got {value})"),
            ));
        }
        Ok(())
    }

    /// The current year, for ranges of years.
    pub fn this_year() -> i64 {
        i64::from(chrono::Local::now().date_naive().year())
    }

    /// Minutes of study or of a meeting: 1 to `max`.
    pub fn minutes(field: &str, value: u32, max: u32) -> Result<(), ValidationError> {
        range(field, i64::from(value), 1, i64::from(max))
    }

    /// A list with no item twice (in linear time: a device may send long lists).
    pub fn unique<T: Eq + std::hash::Hash + std::fmt::Display>(
        field: &str,
        items: &[T],
    ) -> Result<(), ValidationError> {
        let mut seen = std::collections::HashSet::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if !seen.insert(item) {
                return Err(ValidationError::new(
                    format!("{field}[{i}]"),
                    format!("{item} is listed twice"),
                ));
            }
        }
        Ok(())
    }
}
