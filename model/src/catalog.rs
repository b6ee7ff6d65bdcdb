//! Every coded enumeration in one list, for screens and tools that offer the
//! choices of a field or show a stored code in words: the kinds, audiences
//! and roles, then every enumeration a field of a record holds, in the order
//! the kinds declare them.

use crate::access::Role;
use crate::codes::{Coded, Lang};
use crate::records::field::{FieldSpec, Scalar, Shape};
use crate::records::{Audience, FilingState, RecordKind};
use crate::todo::TodoReason;

/// One value of an enumeration: its stable code and its labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeValue {
    /// The code stored and sent.
    pub code: &'static str,
    /// 中文 label.
    pub zh: &'static str,
    /// English label.
    pub en: &'static str,
}

impl CodeValue {
    /// The label in a language.
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }
}

/// An enumeration by name (e.g. `study_mode`) with its values in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeList {
    /// The enumeration's name.
    pub name: &'static str,
    /// Its values, in display order.
    pub values: &'static [CodeValue],
}

impl CodeList {
    /// The value with this code.
    pub fn value(&self, code: &str) -> Option<&'static CodeValue> {
        self.values.iter().find(|v| v.code == code)
    }
}

/// Adds the enumerations `fields` hold (in structs inside them too) to `out`,
/// each once.
fn collect(fields: &'static [FieldSpec], out: &mut Vec<CodeList>) {
    for f in fields {
        let key = match f.ty.shape {
            Shape::Map(key) => Some(key),
            _ => None,
        };
        for scalar in key.into_iter().chain([f.ty.value]) {
            match scalar {
                Scalar::Code(list) if !out.iter().any(|l| l.name == list.name) => out.push(*list),
                Scalar::Struct(s) => collect(s.fields, out),
                _ => {}
            }
        }
    }
}

/// Every coded enumeration of massline.
pub fn code_lists() -> Vec<CodeList> {
    let mut out = vec![RecordKind::LIST, Audience::LIST, Role::LIST];
    for kind in RecordKind::all() {
        collect(kind.spec().fields, &mut out);
    }
    // Codes no field holds: a measure's filing state (a typed-row column)
    // and why a to-do item is listed.
    out.push(FilingState::LIST);
    out.push(TodoReason::LIST);
    out
}

/// The label of `code` in enumeration `name`, if both exist.
pub fn label(name: &str, code: &str, lang: Lang) -> Option<&'static str> {
    code_lists()
        .into_iter()
        .find(|l| l.name == name)?
        .value(code)
        .map(|v| v.label(lang))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_codes_are_unique_and_every_list_has_values() {
        let lists = code_lists();
        let names: HashSet<_> = lists.iter().map(|l| l.name).collect();
        assert_eq!(names.len(), lists.len());
        for l in &lists {
            assert!(!l.values.is_empty(), "{}", l.name);
            let codes: HashSet<_> = l.values.iter().map(|v| v.code).collect();
            assert_eq!(codes.len(), l.values.len(), "{}", l.name);
        }
    }

    #[test]
    fn a_code_reads_as_its_label_in_either_language() {
        assert_eq!(label("study_mode", "night_visit", Lang::Zh), Some("夜访"));
        assert_eq!(
            label("study_mode", "night_visit", Lang::En),
            Some("Night visit")
        );
        assert_eq!(label("study_mode", "sleeping", Lang::Zh), None);
        assert_eq!(label("no_such_list", "night_visit", Lang::Zh), None);
    }
}
