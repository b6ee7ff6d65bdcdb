//! The error a refused record gives: which field, and why; and the checks
//! the field rules are made of.

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

/// Checks shared by the field rules and the kinds' own rules. Each takes the
/// field's path as anything that writes it out, written only for an error.
pub(crate) mod check {
    use std::fmt::Display;

    use super::ValidationError;
    use chrono::{Datelike, NaiveDate};

    /// Text that must be present, up to `max` characters.
    pub fn required_text(
        field: impl Display,
        value: &str,
        max: usize,
    ) -> Result<(), ValidationError> {
        if value.trim().is_empty() {
            return Err(ValidationError::new(field.to_string(), "must not be empty"));
        }
        text(field, value, max)
    }

    /// Text of at most `max` characters (counted as characters, not bytes).
    pub fn text(field: impl Display, value: &str, max: usize) -> Result<(), ValidationError> {
        // Most text is far shorter than its limit in bytes already.
        if value.len() <= max {
            return Ok(());
        }
        let n = value.chars().count();
        if n > max {
            return Err(ValidationError::new(
                field.to_string(),
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
        today() + chrono::Days::new(1)
    }

    /// Today by the local clock, worked out again when the minute changes:
    /// `Local::now` reads the time zone's rules each time it is asked, and a
    /// message's records ask for every date they hold. (Time zones move
    /// midnight by whole minutes, so the day changes with the minute.)
    fn today() -> NaiveDate {
        use std::sync::atomic::{AtomicU64, Ordering};
        // The minute since 1970 in the high half, the day in the low half
        // (days since 1 January of year 1); 0 before the first ask.
        static TODAY: AtomicU64 = AtomicU64::new(0);
        let minute = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 60);
        let kept = TODAY.load(Ordering::Relaxed);
        if kept != 0 && kept >> 32 == minute {
            let day = i32::try_from(kept & 0xffff_ffff).unwrap_or(0);
            if let Some(today) = NaiveDate::from_num_days_from_ce_opt(day) {
                return today;
            }
        }
        let today = chrono::Local::now().date_naive();
        if let Ok(day) = u32::try_from(today.num_days_from_ce()) {
            TODAY.store((minute << 32) | u64::from(day), Ordering::Relaxed);
        }
        today
    }

    fn between(
        field: impl Display,
        value: NaiveDate,
        earliest: NaiveDate,
        latest: NaiveDate,
    ) -> Result<(), ValidationError> {
        if value < earliest || value > latest {
            return Err(ValidationError::new(
                field.to_string(),
                format!("{value} is not between {earliest} and {latest}"),
            ));
        }
        Ok(())
    }

    /// A day that has happened: no earlier than 2000 and no later than tomorrow.
    pub fn date(field: impl Display, value: NaiveDate) -> Result<(), ValidationError> {
        between(field, value, ymd(2000, 1, 1), latest_past_day())
    }

    /// A day that has happened, from `earliest` on (for dates of a life, not of the campaign).
    pub fn date_since(
        field: impl Display,
        value: NaiveDate,
        earliest: NaiveDate,
    ) -> Result<(), ValidationError> {
        between(field, value, earliest, latest_past_day())
    }

    /// A planned date (deadline): from 2000 to 2100.
    pub fn planned_date(field: impl Display, value: NaiveDate) -> Result<(), ValidationError> {
        between(field, value, ymd(2000, 1, 1), ymd(2100, 12, 31))
    }

    /// A day that cannot come before another one of the same record.
    pub fn not_before(
        field: impl Display,
        value: NaiveDate,
        other_field: &str,
        other: NaiveDate,
    ) -> Result<(), ValidationError> {
        if value < other {
            return Err(ValidationError::new(
                field.to_string(),
                format!("{value} is before the {other_field} ({other})"),
            ));
        }
        Ok(())
    }

    /// A whole number within `min..=max`.
    pub fn range(
        field: impl Display,
        value: i64,
        min: i64,
        max: i64,
    ) -> Result<(), ValidationError> {
        if value >= min && value <= max {
            return Ok(());
        }
        let reason = match (min, max) {
            (i64::MIN, max) => format!("must be at most {max} (got {value})"),
            (min, i64::MAX) => format!("must be at least {min} (got {value})"),
            (min, max) => format!("must be between {min} and {max} (got {value})"),
        };
        Err(ValidationError::new(field.to_string(), reason))
    }

    /// The current year, for ranges of years.
    pub fn this_year() -> i64 {
        i64::from(today().year())
    }

    /// A list of `len` items, from `min` to `max` of them.
    pub fn items(
        field: impl Display,
        len: usize,
        min: usize,
        max: Option<usize>,
    ) -> Result<(), ValidationError> {
        if len < min {
            let reason = match min {
                1 => "name at least one".to_string(),
                n => format!("name at least {n}"),
            };
            return Err(ValidationError::new(field.to_string(), reason));
        }
        match max {
            Some(max) if len > max => Err(ValidationError::new(
                field.to_string(),
                format!("at most {max} items are allowed"),
            )),
            _ => Ok(()),
        }
    }

    /// A list with no item twice (in linear time: a device may send long lists).
    pub fn unique<T: Eq + std::hash::Hash + Display>(
        field: impl Display,
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

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn a_past_day_runs_to_tomorrow_by_the_local_clock_asked_again_and_again() {
        for _ in 0..3 {
            let before = chrono::Local::now().date_naive();
            let latest = check::latest_past_day();
            let after = chrono::Local::now().date_naive();
            assert!(
                latest == before + chrono::Days::new(1) || latest == after + chrono::Days::new(1),
                "latest past day {latest}, today {before}..{after}"
            );
            assert!(check::date("day", latest).is_ok());
            assert!(check::date("day", latest + chrono::Days::new(1)).is_err());
        }
    }
}
