//! Chinese and English names of record fields, and of the codes stored in
//! them, for any screen that shows a record: read from the kinds' field tables.

use super::field::{FieldSpec, Scalar, Shape, find};
use super::{RecordKind, Withdrawal};
use crate::catalog::CodeList;
use crate::codes::{Coded, Lang};

/// Every field table: each kind's fields and the withdrawal tombstone.
pub fn all_fields() -> impl Iterator<Item = &'static [FieldSpec]> {
    RecordKind::all()
        .iter()
        .map(|k| k.spec().fields)
        .chain(std::iter::once(std::slice::from_ref(&Withdrawal::FIELD)))
}

/// The label of a record field, as the first kind that has a field of that
/// name declares it (kinds label a name alike); the field's own name if
/// none has it.
pub fn field_label(field: &str, lang: Lang) -> &str {
    all_fields()
        .find_map(|fields| find(fields, field))
        .map_or(field, |f| f.label(lang))
}

/// The label of a code stored in `field` (its last name, without indices) of
/// a record of `kind`; `None` if the field holds no code or the code is
/// unknown. In a map keyed by code (a measure's steps) the code is a key; in
/// one keyed by person (appraisal grades), a value.
pub fn code_label(kind: RecordKind, field: &str, code: &str, lang: Lang) -> Option<&'static str> {
    field_codes(kind, field)?.value(code).map(|v| v.label(lang))
}

/// The codes `field` of a record of `kind` stores (a map's keys if it is
/// keyed by code, else its values); `None` if it stores none.
pub fn field_codes(kind: RecordKind, field: &str) -> Option<&'static CodeList> {
    let f = kind.spec().field(field)?;
    let key = match f.ty.shape {
        Shape::Map(key) => Some(key),
        _ => None,
    };
    [Some(f.ty.value), key]
        .into_iter()
        .flatten()
        .find_map(|s| match s {
            Scalar::Code(list) => Some(list),
            _ => None,
        })
}
