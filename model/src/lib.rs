//! What a phone and the township server share, with no I/O: the model both
//! sides of a sync agree on.
//!
//! # Layout
//!
//! - [`ids`], [`codes`], [`access`]: identifiers, stable codes with Chinese and
//!   English labels, roles and scopes and who may use which.
//! - [`catalog`]: every coded enumeration in one list, for choices and labels.
//! - [`records`]: the record kinds, each declared once as a typed struct
//!   (its fields, labels, rules, references and typed row), and the one
//!   check of a change ([`records::rules`]).
//! - [`doc_json`], [`record_doc`]: a record as an Automerge document;
//!   [`first_change`]: a new record read straight from its first change;
//!   [`stored_doc`]: a document as both sides store it (a run of chunks,
//!   compacted now and then); [`judge`]: the one reading of a change (what
//!   its author saw, made and left, and who created the record) that phone
//!   and server hold to the rules.
//! - [`packing`]: how changes travel (packed, one zstd stream per call);
//!   [`dictionary`]: the zstd dictionaries a stream may be compressed with;
//!   [`change_limits`]: what one change from a device may hold, read in
//!   one pass from its columns where it can be (`change_columns`);
//!   [`parallel`]: a message's changes read on the machine's cores;
//!   [`runs`]: rows cut into runs for statements of many rows, the sizes
//!   both sides' stores write and look up in.
//! - [`protocol`]: the sync messages as plain Rust.
//! - [`enrollment_code`]: the code a township officer hands out.
//! - [`report`]: an error and its sources as one line.
//! - [`todo`]: each person's to-do list, from the records a phone holds.
//!
//! - `ffi` (with the `uniffi` feature, for `massline-mobile` only): the
//!   model's types in the Kotlin API.
//!
//! This crate does no I/O: no files, no network, no database.

// The scaffolding UniFFI writes for the model's types in the Kotlin API is
// `unsafe` by nature (buffers that cross into the JVM); it exists only with
// the `uniffi` feature, which only the Android library turns on.
#![cfg_attr(feature = "uniffi", allow(unsafe_code))]

pub mod access;
pub mod bundle;
pub mod catalog;
mod change_columns;
pub mod change_limits;
mod change_written;
pub mod codes;
pub mod dictionary;
pub mod doc_json;
pub mod enrollment_code;
#[cfg(feature = "uniffi")]
mod ffi;
pub mod first_change;
pub mod ids;
pub mod judge;
mod keeps;
mod leb;
pub mod packing;
pub mod parallel;
pub mod protocol;
pub mod record_doc;
pub mod records;
pub mod report;
pub mod runs;
pub mod stored_doc;
pub mod todo;

pub use access::{Principal, Role, Scope};
pub use codes::{Coded, Lang};
pub use ids::{DocId, PersonId, VillageCode};
pub use records::{Record, RecordKind, ValidationError};

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("massline_model");
