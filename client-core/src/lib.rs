//! The phone's copy of massline: Automerge documents in SQLite, the sync
//! engine and its transport, and the facade apps use. The copy on the device
//! is the primary copy; the township server gathers and checks, it does not
//! own.
//!
//! # Layout
//!
//! - The model shared with the server (ids, codes, access, records, the
//!   document form, packing), re-exported from `massline_model` so an app
//!   needs one crate.
//! - [`store`]: the SQLite database (documents, outbox, cursors, identity),
//!   encrypted with the `sqlcipher` feature and a [`StoreKey`].
//! - [`sync`]: the sync engine and the gRPC transport.
//! - [`client`]: the public face used by the CLI and the mobile bindings.
//!
//! This crate knows no server and no user interface.

pub mod client;
pub mod error;
pub mod store;
pub mod sync;

pub use massline_model::{
    access, bundle, catalog, change_limits, codes, dictionary, doc_json, enrollment_code,
    first_change, ids, judge, packing, protocol, record_doc, records, report, stored_doc, todo,
};

pub use access::{Principal, Role, Scope};
pub use client::{Client, Link, LinkState, Status, VillageStanding};
pub use codes::{Coded, Lang};
pub use error::Error;
pub use ids::{DocId, PersonId, VillageCode};
pub use records::{Record, RecordKind, ValidationError};
pub use store::StoreKey;
pub use sync::progress::SyncProgress;
pub use sync::transport::SyncReport;
