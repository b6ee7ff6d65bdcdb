//! A dated note with its author: progress on a rectification measure, a
//! cadre's comment on a study entry. Notes keep their authors: each person
//! adds notes in their own name and changes or removes only their own.

use std::collections::HashMap;

use chrono::NaiveDate;
use massline_model_derive::Fields;
use serde::{Deserialize, Serialize};

use super::field::At;
use super::validation::ValidationError;
use crate::access::Principal;
use crate::ids::PersonId;

/// A dated note, with who wrote it. Notes are kept in a list that two phones
/// can append to at the same time; each keeps its author.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
#[fields(list_edit = Note::check_authors)]
pub struct Note {
    /// The day the note is about.
    #[field(zh = "日期", en = "Date", date, new = today)]
    pub date: NaiveDate,
    /// What happened, or what the author says.
    #[field(zh = "内容", en = "Text", text = 2000, required)]
    pub text: String,
    /// Who wrote the note.
    #[field(zh = "记录人", en = "Author", new = me)]
    pub author: PersonId,
}

/// A note of progress on a rectification measure.
pub type ProgressNote = Note;

impl Note {
    /// A list of notes left as `made` by `by`, who saw it as `seen`: each note
    /// they added is in their own name, and each note they changed or removed
    /// was theirs.
    fn check_authors(
        seen: Option<&[Note]>,
        made: &[Note],
        at: &At<'_>,
        by: &Principal,
    ) -> Result<(), ValidationError> {
        let seen = seen.unwrap_or_default();
        // How many of each note seen are not yet matched by one made (counted,
        // not searched: a device may send long lists).
        let mut unmatched: HashMap<&Note, usize> = HashMap::with_capacity(seen.len());
        for n in seen {
            *unmatched.entry(n).or_default() += 1;
        }
        for (i, n) in made.iter().enumerate() {
            match unmatched.get_mut(n) {
                Some(left) if *left > 0 => *left -= 1,
                _ if n.author != by.person => {
                    return Err(ValidationError::new(
                        format!("{}.author", At::Index(at, i)),
                        format!("{} cannot write a note in {}'s name", by.person, n.author),
                    ));
                }
                _ => {}
            }
        }
        if let Some(gone) = seen
            .iter()
            .find(|n| n.author != by.person && unmatched.get(n).is_some_and(|left| *left > 0))
        {
            return Err(ValidationError::new(
                at.to_string(),
                format!(
                    "{}'s note of {} is theirs to change",
                    gone.author, gone.date
                ),
            ));
        }
        Ok(())
    }
}
