//! Every coded enumeration in one list, for screens and tools that offer the
//! choices of a field or show a stored code in words.

use crate::access::Role;
use crate::codes::{Coded, Lang};
use crate::records::{
    AppraisalGrade, Audience, Education, FourWinds, HelperKind, HouseholdGroup, HowFound,
    NoticeCategory, NoticeMedium, OpinionArea, OpinionChannel, OpinionStatus, PointKind,
    ProblemArea, RecordKind, RectificationStatus, RectificationTerm, Satisfaction, ServiceMatter,
    ServiceStatus, SessionFormat, SourceGroup, StudyMaterial, StudyMode, ThingStatus,
};

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeList {
    /// The enumeration's name.
    pub name: &'static str,
    /// Its values, in display order.
    pub values: Vec<CodeValue>,
}

fn list<T: Coded>() -> CodeList {
    CodeList {
        name: T::NAME,
        values: T::all()
            .iter()
            .map(|v| CodeValue {
                code: v.code(),
                zh: v.label(Lang::Zh),
                en: v.label(Lang::En),
            })
            .collect(),
    }
}

/// Every coded enumeration of massline.
pub fn code_lists() -> Vec<CodeList> {
    vec![
        list::<RecordKind>(),
        list::<Audience>(),
        list::<Role>(),
        list::<Education>(),
        list::<StudyMaterial>(),
        list::<SessionFormat>(),
        list::<StudyMode>(),
        list::<HelperKind>(),
        list::<OpinionChannel>(),
        list::<SourceGroup>(),
        list::<OpinionArea>(),
        list::<FourWinds>(),
        list::<OpinionStatus>(),
        list::<HowFound>(),
        list::<ProblemArea>(),
        list::<RectificationTerm>(),
        list::<RectificationStatus>(),
        list::<HouseholdGroup>(),
        list::<ServiceMatter>(),
        list::<ServiceStatus>(),
        list::<ThingStatus>(),
        list::<Satisfaction>(),
        list::<PointKind>(),
        list::<AppraisalGrade>(),
        list::<NoticeCategory>(),
        list::<NoticeMedium>(),
    ]
}

/// The label of `code` in enumeration `name`, if both exist.
pub fn label(name: &str, code: &str, lang: Lang) -> Option<&'static str> {
    code_lists()
        .into_iter()
        .find(|l| l.name == name)?
        .values
        .into_iter()
        .find(|v| v.code == code)
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
