//! Codes and their Chinese and English labels, for choice lists and display.

use massline_core::Lang;
use massline_core::catalog;

/// One value of an enumeration: its stable code and its labels (the
/// catalog's own, whose text is static, as owned strings).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CodeValue {
    /// The code stored and sent (`night_visit`).
    pub code: String,
    /// 中文 label (`夜访`).
    pub zh: String,
    /// English label (`Night visit`).
    pub en: String,
}

/// An enumeration (`study_mode`) and its values in display order.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CodeList {
    /// The enumeration's name, as the record fields' docs give it.
    pub name: String,
    /// Its values, in display order.
    pub values: Vec<CodeValue>,
}

/// Every coded enumeration: the choices of every coded record field.
#[uniffi::export]
pub fn code_lists() -> Vec<CodeList> {
    catalog::code_lists()
        .into_iter()
        .map(|l| CodeList {
            name: l.name.into(),
            values: l
                .values
                .iter()
                .map(|v| CodeValue {
                    code: v.code.into(),
                    zh: v.zh.into(),
                    en: v.en.into(),
                })
                .collect(),
        })
        .collect()
}

/// The label of `code` in enumeration `list`; `None` if either is unknown.
#[uniffi::export]
pub fn code_label(list: String, code: String, lang: Lang) -> Option<String> {
    catalog::label(&list, &code, lang).map(Into::into)
}

/// The label of a record field (`minutes` → `时长(分钟)`); the field's own
/// name if it has none.
#[uniffi::export]
pub fn field_label(field: String, lang: Lang) -> String {
    massline_core::records::field_label(&field, lang).into()
}
