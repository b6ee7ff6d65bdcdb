//! The device core for Android: UniFFI bindings of `massline-core`.
//!
//! This crate only converts types and forwards calls; every rule lives in the
//! core, where the CLI uses it too. The Kotlin API over it is in `kotlin/`.
//!
//! # Layout
//!
//! - [`store`]: the exported `Store` object, its methods, and the threading model.
//! - [`records`]: the record kinds as Kotlin sees them, converted to and from the core's.
//! - [`status`]: identity, stored rows, sync status and sync reports.
//! - [`codes`]: codes with Chinese and English labels, and field labels.
//! - [`error`]: the exceptions a Kotlin caller can act on.

// The scaffolding UniFFI generates for the foreign-function interface is
// `unsafe` by nature (raw buffers and pointers that cross into the JVM); it
// is generated, checked by UniFFI's own tests, and none is written by hand here.
#![allow(unsafe_code)]

pub mod codes;
pub mod error;
pub mod records;
pub mod status;
pub mod store;

pub use error::MasslineError;
pub use store::Store;

uniffi::setup_scaffolding!("massline");
