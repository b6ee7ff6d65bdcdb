//! The model's own types in the Kotlin API (with the `uniffi` feature, which
//! only `massline-mobile` turns on): the record kinds and the structs inside
//! them are UniFFI records, coded enumerations Kotlin enums, and these are
//! custom types: ids are strings (checked when they come back, as the
//! model's own parsing checks them), dates `java.time.LocalDate` (see
//! `uniffi.toml`), and the maps of a record (attendance, steps, appraisal)
//! Kotlin maps. Their serde and stored forms are untouched.

use std::collections::HashMap;

use chrono::NaiveDate;
use uniffi::deps::anyhow::anyhow;

use crate::ids::{DocId, PersonId, VillageCode};
use crate::records::{Appraisal, AppraisalGrade, Attendance, RectificationStatus, Roll, Steps};

uniffi::custom_type!(PersonId, String, {
    lower: |id| id.into(),
    try_lift: |s| PersonId::new(s).map_err(|e| anyhow!(e)),
});

uniffi::custom_type!(VillageCode, String, {
    lower: |code| code.into(),
    try_lift: |s| VillageCode::new(s).map_err(|e| anyhow!(e)),
});

uniffi::custom_type!(DocId, String, {
    lower: |id| id.to_hex(),
    try_lift: |s| DocId::parse_hex(&s).ok_or_else(|| anyhow!("`{s}` is not a 32-character record id")),
});

uniffi::custom_type!(NaiveDate, String, {
    remote,
    lower: |d| d.to_string(),
    try_lift: |s| s.parse::<NaiveDate>().map_err(|e| anyhow!("`{s}` is not a day: {e}")),
});

uniffi::custom_type!(Roll, HashMap<PersonId, Attendance>, {
    remote,
    lower: |m| m.into_iter().collect(),
    try_lift: |m| Ok(m.into_iter().collect()),
});

uniffi::custom_type!(Steps, HashMap<RectificationStatus, NaiveDate>, {
    remote,
    lower: |m| m.into_iter().collect(),
    try_lift: |m| Ok(m.into_iter().collect()),
});

uniffi::custom_type!(Appraisal, HashMap<PersonId, AppraisalGrade>, {
    remote,
    lower: |m| m.into_iter().collect(),
    try_lift: |m| Ok(m.into_iter().collect()),
});
