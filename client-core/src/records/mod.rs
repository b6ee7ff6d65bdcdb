//! The record kinds, each a typed struct stored as its own Automerge document,
//! validated the same way on the phone and on the server.

mod labels;
mod opinion;
mod rectification;
mod study_entry;
mod validation;

pub use labels::field_label;
pub use opinion::{FourWinds, Opinion, OpinionArea, OpinionChannel, OpinionStatus, SourceGroup};
pub use rectification::{
    Filing, ProgressNote, Rectification, RectificationStatus, RectificationTerm,
};
pub use study_entry::{Helper, HelperKind, StudyEntry, StudyMaterial, StudyMode};
pub use validation::ValidationError;

use serde::{Deserialize, Serialize};

use crate::access::{Principal, Role, Scope};
use crate::coded_enum;
use crate::ids::VillageCode;

coded_enum! {
    /// The kinds of record.
    pub enum RecordKind as "record_kind" {
        StudyEntry = "study_entry", "个人学习", "Personal study";
        Opinion = "opinion", "意见建议", "Opinion";
        Rectification = "rectification", "整改措施", "Rectification measure";
    }
}

/// Any record, tagged by its kind (`"kind": "study_entry"` in JSON and in the document).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// 个人学习.
    StudyEntry(StudyEntry),
    /// 意见建议.
    Opinion(Opinion),
    /// 整改措施.
    Rectification(Rectification),
}

impl Record {
    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::StudyEntry(_) => RecordKind::StudyEntry,
            Record::Opinion(_) => RecordKind::Opinion,
            Record::Rectification(_) => RecordKind::Rectification,
        }
    }

    /// A record of `kind` from its fields as JSON; an error names the field at fault.
    pub fn from_fields(
        kind: RecordKind,
        fields: serde_json::Value,
    ) -> Result<Record, ValidationError> {
        fn de<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, ValidationError> {
            serde_path_to_error::deserialize(v).map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." {
                    "record".to_string()
                } else {
                    path
                };
                ValidationError::new(field, e.into_inner().to_string())
            })
        }
        Ok(match kind {
            RecordKind::StudyEntry => Record::StudyEntry(de(fields)?),
            RecordKind::Opinion => Record::Opinion(de(fields)?),
            RecordKind::Rectification => Record::Rectification(de(fields)?),
        })
    }

    /// The field rules of the record's kind.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Record::StudyEntry(r) => r.validate(),
            Record::Opinion(r) => r.validate(),
            Record::Rectification(r) => r.validate(),
        }
    }

    /// The scope a new record of this kind lives in, in a village.
    pub fn home_scope(&self, village: &VillageCode) -> Scope {
        match self {
            Record::StudyEntry(e) => Scope::MemberStudy {
                village: village.clone(),
                member: e.member.clone(),
            },
            Record::Opinion(_) => Scope::VillageCadre(village.clone()),
            Record::Rectification(_) => Scope::VillageShared(village.clone()),
        }
    }

    /// The record belongs in `scope`: its kind's scope, and for a study entry the
    /// log of the member it names.
    pub fn check_scope(&self, scope: &Scope) -> Result<(), ValidationError> {
        if self.home_scope(scope.village()) == *scope {
            Ok(())
        } else {
            Err(ValidationError::new(
                match self {
                    Record::StudyEntry(_) => "member",
                    _ => "kind",
                },
                format!("a {} record does not belong in scope {scope}", self.kind()),
            ))
        }
    }

    /// Rules about who may set what, on a new record (`before` is `None`) or on
    /// a change to one.
    pub fn check_update(
        before: Option<&Record>,
        after: &Record,
        by: &Principal,
    ) -> Result<(), ValidationError> {
        match (before, after) {
            (Some(b), a) if b.kind() != a.kind() => Err(ValidationError::new(
                "kind",
                format!("a {} record cannot become a {}", b.kind(), a.kind()),
            )),
            (Some(Record::Opinion(b)), Record::Opinion(a)) => {
                for (field, same) in [
                    ("text", a.text == b.text),
                    ("channel", a.channel == b.channel),
                    ("source", a.source == b.source),
                    ("date", a.date == b.date),
                ] {
                    if !same {
                        return Err(ValidationError::new(
                            field,
                            "an opinion is kept as it was heard; its text, channel, source and date cannot change",
                        ));
                    }
                }
                Ok(())
            }
            (b, Record::Rectification(a)) => {
                let before_filed = match b {
                    Some(Record::Rectification(b)) => b.filed.as_ref(),
                    _ => None,
                };
                if before_filed != a.filed.as_ref() && by.role != Role::TownshipOfficer {
                    return Err(ValidationError::new(
                        "filed",
                        "only the township office acknowledges a filing",
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
