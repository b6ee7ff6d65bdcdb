//! Withdrawal of a record entered by mistake: a tombstone kept in the record's
//! document beside its fields, so it syncs like any edit and the record stays
//! in the history.

use chrono::NaiveDate;
use massline_model_derive::Fields;
use serde::{Deserialize, Serialize};

use super::field::{At, FieldSpec, FieldValue, Rules, Scalar, Shape, ValueType};
use super::validation::ValidationError;
use crate::ids::PersonId;

/// Who withdrew a record, when, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// The person who withdrew it.
    #[field(zh = "操作人", en = "By")]
    pub by: PersonId,
    /// The day it was withdrawn.
    #[field(zh = "日期", en = "On", date)]
    pub on: NaiveDate,
    /// Why, in plain words.
    #[field(zh = "原因", en = "Reason", text = 500, required)]
    pub reason: String,
}

impl Withdrawal {
    /// The tombstone's key in a record's document, as a field for labels.
    pub const FIELD: FieldSpec = FieldSpec {
        name: "withdrawn",
        zh: "已撤回",
        en: "Withdrawn",
        doc: "Who withdrew the record, when, and why.",
        ty: ValueType {
            shape: Shape::Optional,
            value: Scalar::Struct(&Withdrawal::SPEC),
        },
        optional: true,
        rules: Rules::NONE,
        evidence: false,
        refs: None,
        cli: None,
        new: None,
        line: None,
    };

    /// The rules of every withdrawal.
    pub fn validate(&self) -> Result<(), ValidationError> {
        FieldValue::validate(self, &At::Field("withdrawn"), &Rules::NONE)
    }
}
