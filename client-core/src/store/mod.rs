//! The device's SQLite store: records, the outbox, sync cursors, identity.

pub mod cursors;
pub mod db;
pub mod documents;
pub mod identity;
pub mod key;
pub mod outbox;
pub mod references;
pub mod schema;

pub use db::Db;
pub use key::StoreKey;
