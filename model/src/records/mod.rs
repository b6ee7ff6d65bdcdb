//! The record kinds, each a typed struct stored as its own Automerge document,
//! validated the same way on the phone and on the server.
//!
//! # A kind is declared once
//!
//! Each kind is a struct in its own file with `#[derive(Kind)]`: its fields
//! with their labels, rules, the people and records they name, and the
//! typed-row columns they give (see `massline-model-derive`), and
//! [`KindRules`], ordinary Rust for what a field cannot say (rules between
//! fields, who may change what, the other tables its rows go to). The list in
//! [`kinds!`] makes [`RecordKind`], [`Record`] and the dispatch of every
//! operation to the kind; everything else (the labels, the catalog of codes,
//! the server's typed rows, the Kotlin types, the command line's options) is
//! read from the declarations. Adding a kind is its file and one line there.
//!
//! - [`field`]: the field tables and how a field's type takes part in them.
//! - [`kind`]: what a kind is ([`Kind`], [`KindRules`]).
//! - [`row`]: typed rows: tables, columns, values.
//! - [`rules`]: the one check of a new or changed record, run by the phone
//!   before saving and by the server on every change it receives.
//! - [`labels`]: Chinese and English names of fields and of stored codes.

mod attendance;
mod campaign_plan;
mod comparison_material;
pub mod field;
pub mod kind;
mod labels;
mod listening_meeting;
mod member;
mod mobile_contact;
mod note;
mod notice;
mod opinion;
mod org_life_meeting;
mod practical_thing;
mod problem;
mod rectification;
mod regulation;
pub mod row;
pub mod rules;
mod service_checklist;
mod service_request;
mod study_entry;
mod study_session;
mod validation;
mod visit;
mod withdrawal;

// Each kind's file is the one place its types are named: all it makes
// public is public here.
pub use attendance::*;
pub use campaign_plan::*;
pub use comparison_material::*;
pub use kind::{Kind, KindOf, KindRules, KindSpec, Withdrawers};
pub use labels::{all_fields, code_label, field_codes, field_label};
pub use listening_meeting::*;
pub use member::*;
pub use mobile_contact::*;
pub use note::*;
pub use notice::*;
pub use opinion::*;
pub use org_life_meeting::*;
pub use practical_thing::*;
pub use problem::*;
pub use rectification::*;
pub use regulation::*;
pub use rules::{Broken, Change, Context, Lookup};
pub use service_checklist::*;
pub use service_request::*;
pub use study_entry::*;
pub use study_session::*;
pub use validation::ValidationError;
pub use visit::*;
pub use withdrawal::*;

use std::borrow::Cow;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::access::{Principal, Scope};
use crate::catalog::{CodeList, CodeValue};
use crate::coded_enum;
use crate::codes::{Coded, Lang};
use crate::ids::{DocId, PersonId, VillageCode};
use crate::record_doc::StoredRecord;
use row::{Cell, Column, IntoCell, Row, RowOf, SqlType, Table, month};

coded_enum! {
    /// Who a kind of record is for: which of a village's scopes it lives
    /// in, or the township's own.
    pub enum Audience as "audience" {
        Shared = "shared", "全村共享", "The whole village";
        Cadre = "cadre", "仅限村干部", "Village cadres only";
        Member = "member", "党员本人", "The member";
        Township = "township", "全乡镇（乡镇发布）", "The whole township (from the township office)";
    }
}

/// Declares the record kinds, in the order they are listed and shown: for
/// each, its struct (declared with `#[derive(Kind)]` in its own file). Makes
/// [`RecordKind`], [`Record`], and the dispatch of every operation on a
/// record to its kind.
macro_rules! kinds {
    ($($(#[$doc:meta])* $kind:ident,)+) => {
        /// The kinds of record.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
        pub enum RecordKind {
            $($(#[$doc])* $kind,)+
        }

        impl RecordKind {
            /// The kind's declaration.
            pub fn spec(self) -> &'static KindSpec {
                match self {
                    $(RecordKind::$kind => &<$kind as Kind>::SPEC,)+
                }
            }

            /// The tables that hold rows of the kind's records: its own first.
            pub fn tables(self) -> Vec<&'static Table> {
                match self {
                    $(RecordKind::$kind => std::iter::once(&<$kind as Kind>::SPEC.table)
                        .chain(<$kind as KindRules>::OTHER_TABLES.iter().copied())
                        .collect(),)+
                }
            }

            /// Who may withdraw a record of the kind.
            pub fn withdrawn_by(self) -> Withdrawers {
                match self {
                    $(RecordKind::$kind => <$kind as KindRules>::WITHDRAWN_BY,)+
                }
            }

            /// Whether a record of the kind may be purged for good
            /// ([`KindRules::PURGEABLE`]).
            pub fn purgeable(self) -> bool {
                match self {
                    $(RecordKind::$kind => <$kind as KindRules>::PURGEABLE,)+
                }
            }

            /// Whether the township office also issues records of the kind
            /// to every village ([`KindRules::TOWNSHIP_ISSUES`]).
            pub fn township_issues(self) -> bool {
                match self {
                    $(RecordKind::$kind => <$kind as KindRules>::TOWNSHIP_ISSUES,)+
                }
            }
        }

        impl Coded for RecordKind {
            const NAME: &'static str = "record_kind";
            const LIST: CodeList = CodeList {
                name: Self::NAME,
                values: &[$(CodeValue {
                    code: <$kind as Kind>::SPEC.code,
                    zh: <$kind as Kind>::SPEC.zh,
                    en: <$kind as Kind>::SPEC.en,
                },)+],
            };
            fn all() -> &'static [Self] {
                &[$(RecordKind::$kind,)+]
            }
            fn code(self) -> &'static str {
                self.spec().code
            }
            fn label(self, lang: Lang) -> &'static str {
                match lang {
                    Lang::Zh => self.spec().zh,
                    Lang::En => self.spec().en,
                }
            }
            fn from_code(code: &str) -> Option<Self> {
                Self::all().iter().copied().find(|k| k.code() == code)
            }
        }

        crate::coded_traits!(RecordKind);

        /// Any record, tagged by its kind (`"kind": "study_entry"` in JSON and
        /// in the document).
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum Record {
            $($(#[$doc])* $kind($kind),)+
        }

        $(impl KindOf for $kind {
            fn of(record: &Record) -> Option<&Self> {
                match record {
                    Record::$kind(r) => Some(r),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        })+

        impl Record {
            /// The record's kind.
            pub fn kind(&self) -> RecordKind {
                match self {
                    $(Record::$kind(_) => RecordKind::$kind,)+
                }
            }

            fn read_fields(
                kind: RecordKind,
                fields: &serde_json::Value,
            ) -> Result<Record, ValidationError> {
                Ok(match kind {
                    $(RecordKind::$kind => Record::$kind(de(fields)?),)+
                })
            }

            /// Every rule of the record on its own: its fields' and its kind's.
            pub fn validate(&self) -> Result<(), ValidationError> {
                match self {
                    $(Record::$kind(r) => Kind::validate(r),)+
                }
            }

            /// The people and records the record names, each with the field naming it.
            pub fn references(&self) -> Vec<(String, Reference)> {
                let mut out = Vec::new();
                match self {
                    $(Record::$kind(r) => Kind::references(r, &mut out),)+
                }
                out
            }

            /// The study the record credits: a study entry to its member, a
            /// study session to each attendee marked present.
            pub fn study_credits(&self) -> Vec<StudyCredit> {
                match self {
                    $(Record::$kind(r) => KindRules::study_credits(r),)+
                }
            }

            /// The record's typed rows, in its kind's tables.
            pub fn rows<'a>(&'a self, of: &RowOf<'a>) -> Vec<Row<'a>> {
                match self {
                    $(Record::$kind(r) => Kind::rows(r, of),)+
                }
            }

            /// The rules of an edit by `by` from `seen` (`None`: new; of the
            /// same kind) to this record: those its fields declare, then its
            /// kind's own.
            pub(crate) fn check_edit(
                &self,
                seen: Option<&Record>,
                by: &Principal,
            ) -> Result<(), ValidationError> {
                match self {
                    $(Record::$kind(made) => {
                        let seen = seen.and_then(<$kind as KindOf>::of);
                        <$kind as Kind>::check_fields_edit(seen, made, by)?;
                        <$kind as KindRules>::check_edit(seen, made, by)
                    })+
                }
            }

            /// The kind's own rules about the records naming this one (`id`),
            /// of an edit from `seen` (`None`: new; of the same kind).
            pub(crate) fn check_named_by(
                &self,
                seen: Option<&Record>,
                id: &DocId,
                ctx: &dyn Context,
            ) -> Result<(), ValidationError> {
                match self {
                    $(Record::$kind(made) => {
                        let seen = seen.and_then(<$kind as KindOf>::of);
                        <$kind as KindRules>::check_named_by(seen, made, id, ctx)
                    })+
                }
            }

            /// Whether the township office may make this record in a village.
            pub(crate) fn township_makes(&self) -> bool {
                match self {
                    $(Record::$kind(r) => KindRules::township_makes(r),)+
                }
            }

            /// Whether the township office may change `seen` into this record
            /// when it did not make it.
            pub(crate) fn township_changes(&self, seen: &Record) -> bool {
                match self {
                    $(Record::$kind(made) => <$kind as KindOf>::of(seen)
                        .is_some_and(|seen| <$kind as KindRules>::township_changes(seen, made)),)+
                }
            }

            /// The kind's own rules of a record this one (`id`) newly names in
            /// `field`.
            pub(crate) fn check_named(
                &self,
                id: &DocId,
                field: &str,
                named_id: &DocId,
                named: &StoredRecord,
                authors_copy: bool,
            ) -> Result<(), ValidationError> {
                match self {
                    $(Record::$kind(r) => r.check_named(id, field, named_id, named, authors_copy),)+
                }
            }
        }
    };
}

kinds! {
    /// 党员档案.
    Member,
    /// 集中学习.
    StudySession,
    /// 个人学习.
    StudyEntry,
    /// 意见建议.
    Opinion,
    /// 问题.
    Problem,
    /// 整改措施.
    Rectification,
    /// 走访.
    Visit,
    /// 代办服务.
    ServiceRequest,
    /// 为民办实事.
    PracticalThing,
    /// 专题组织生活会.
    OrgLifeMeeting,
    /// 党务村务公开.
    Notice,
    /// 建章立制.
    Regulation,
    /// 征求意见会.
    ListeningMeeting,
    /// 对照检查材料.
    ComparisonMaterial,
    /// 流动党员联系记录.
    MobileContact,
    /// 活动实施方案.
    CampaignPlan,
    /// 活动环节进展.
    PhaseEntry,
    /// 一次性告知清单.
    ServiceChecklist,
}

impl RecordKind {
    /// Where records of this kind live.
    pub fn audience(self) -> Audience {
        self.spec().audience
    }
}

/// Every table of typed rows, each once: each kind's own and the others
/// they fill, in the order of the kinds.
pub fn tables() -> Vec<&'static Table> {
    let mut out: Vec<&'static Table> = Vec::new();
    for kind in RecordKind::all() {
        for t in kind.tables() {
            if !out.iter().any(|o| o.name == t.name) {
                out.push(t);
            }
        }
    }
    out
}

/// A record of a kind from its fields, naming the field at fault: read as
/// it is, and only if that fails read again, keeping track of where, to name
/// the field (tracking costs an allocation for every field read).
fn de<'de, T: Deserialize<'de>>(d: &'de serde_json::Value) -> Result<T, ValidationError> {
    T::deserialize(d)
        .or_else(|_| serde_path_to_error::deserialize(d))
        .map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." {
                "record".to_string()
            } else {
                path
            };
            ValidationError::new(field, e.into_inner().to_string())
        })
}

/// Something a record names that must exist in the record's village.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reference {
    /// A person of the village.
    Person(PersonId),
    /// Another record of the village, of this kind (any kind if `None`).
    Record(DocId, Option<RecordKind>),
}

/// Study a record credits to one person: their own entry, or their attendance
/// at a study session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StudyCredit {
    /// Who studied.
    pub person: PersonId,
    /// The day.
    pub date: NaiveDate,
    /// How long, in minutes.
    pub minutes: u32,
    /// What was studied.
    pub material: StudyMaterial,
    /// How (centralized, for a session).
    pub mode: StudyMode,
}

/// The study each record credits to each person: a member's own entry, and
/// each attendee present at a study session (`kind` says which).
pub static STUDY_CREDITS: Table = Table {
    name: "study_credits",
    columns: &[
        Column::DOC_ID,
        Column::VILLAGE,
        Column::PERSON,
        Column::DATE,
        Column::MONTH,
        Column::new("minutes", SqlType::Integer),
        Column::new("material", SqlType::Text),
        Column::new("mode", SqlType::Text),
        Column::KIND,
        Column::WITHDRAWN,
    ],
    key: &["doc_id", "person"],
    index: &["village", "month", "person"],
};

/// The rows of the study a record credits.
pub(crate) fn credit_rows<'a>(of: &RowOf<'a>, credits: Vec<StudyCredit>, rows: &mut Vec<Row<'a>>) {
    for c in credits {
        rows.push(Row {
            table: &STUDY_CREDITS,
            cells: vec![
                of.doc_id(),
                of.village(),
                Cell::Str(Cow::Owned(c.person.to_string())),
                c.date.into_cell(),
                month(c.date),
                c.minutes.into_cell(),
                c.material.into_cell(),
                c.mode.into_cell(),
                Cell::Str(Cow::Borrowed(of.kind)),
                of.withdrawn(),
            ],
        });
    }
}

impl Record {
    /// A record of `kind` from its fields as JSON; an error names the field at fault.
    pub fn from_fields(
        kind: RecordKind,
        fields: serde_json::Value,
    ) -> Result<Record, ValidationError> {
        Self::read_fields(kind, &fields)
    }

    /// [`Record::from_fields`] reading the fields where they are, copying nothing.
    pub fn from_fields_ref(
        kind: RecordKind,
        fields: &serde_json::Value,
    ) -> Result<Record, ValidationError> {
        Self::read_fields(kind, fields)
    }

    /// The record's fields as JSON, without its kind.
    pub fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut m)) => {
                m.remove("kind");
                m
            }
            _ => serde_json::Map::new(),
        }
    }

    /// The scope a new record of this kind lives in, in a village: a
    /// member's record in their own log (a study entry's member); a
    /// township record in the township's scope, whatever the village.
    pub fn home_scope(&self, village: &VillageCode) -> Scope {
        let village = village.clone();
        match (self.kind().audience(), self) {
            (Audience::Township, _) => Scope::Township,
            (Audience::Member, Record::StudyEntry(e)) => Scope::MemberStudy {
                village,
                member: e.member.clone(),
            },
            (Audience::Cadre, _) => Scope::VillageCadre(village),
            _ => Scope::VillageShared(village),
        }
    }

    /// The record belongs in `scope`: its kind's scope, and for a member's
    /// record the log of the member it names.
    pub fn check_scope(&self, scope: &Scope) -> Result<(), ValidationError> {
        let fits = match scope.village() {
            Some(village) => self.home_scope(village) == *scope,
            None => self.kind().audience() == Audience::Township || self.kind().township_issues(),
        };
        if fits {
            Ok(())
        } else {
            Err(ValidationError::new(
                match self.kind().audience() {
                    Audience::Member => "member",
                    _ => "kind",
                },
                format!("a {} record does not belong in scope {scope}", self.kind()),
            ))
        }
    }
}

#[cfg(test)]
mod tests;
