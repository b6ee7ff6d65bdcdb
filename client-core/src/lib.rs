//! The phone's copy of massline: record types, Automerge documents in SQLite,
//! and the sync engine. The copy on the device is the primary copy; the
//! township server gathers and checks, it does not own.
//!
//! # Layout
//!
//! - [`ids`], [`codes`], [`access`]: identifiers, stable codes with Chinese and
//!   English labels, roles and scopes and who may use which.
//! - [`catalog`]: every coded enumeration in one list, for choices and labels.
//! - [`records`]: the record kinds as typed structs, and their validation.
//! - [`doc_json`], [`record_doc`]: a record as an Automerge document;
//!   [`first_change`]: a new record read straight from its first change.
//! - [`store`]: the SQLite database (documents, outbox, cursors, identity),
//!   encrypted with the `sqlcipher` feature and a [`StoreKey`].
//! - [`private_files`]: files only their owner reads (the store, and the
//!   server's data directory).
//! - [`packing`]: how changes travel (packed, one zstd stream per call);
//!   [`change_limits`]: what one change from a device may hold.
//! - [`sync`]: the sync engine, its messages, and the gRPC transport.
//! - [`enrollment_code`]: the code a township officer hands out.
//! - [`client`]: the public face used by the CLI and the mobile bindings.
//!
//! This crate knows no server and no user interface.

pub mod access;
pub mod catalog;
pub mod change_limits;
pub mod client;
pub mod codes;
pub mod doc_json;
pub mod enrollment_code;
pub mod error;
pub mod first_change;
pub mod ids;
pub mod packing;
pub mod private_files;
pub mod record_doc;
pub mod records;
pub mod store;
pub mod sync;

pub use access::{Principal, Role, Scope};
pub use client::{Client, Link, LinkState, Status};
pub use codes::{Coded, Lang};
pub use error::Error;
pub use ids::{DocId, PersonId, VillageCode};
pub use records::{Record, RecordKind, ValidationError};
pub use store::StoreKey;
pub use sync::transport::SyncReport;
