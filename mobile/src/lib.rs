//! The device core for Android: UniFFI bindings of `massline-core`.
//!
//! This crate only converts types and forwards calls; every rule lives in the
//! core, where the CLI uses it too. The Kotlin API over it is in `kotlin/`.
//!
//! # Layout
//!
//! - [`store`]: the exported `Store` object, its methods, and the threading model.
//! - The record kinds, the structs inside them, ids, dates and codes are the
//!   model's own types, which derive their Kotlin form (`massline-model`'s
//!   `uniffi` feature, package `org.massline.model`): nothing here mirrors them.
//! - [`status`]: identity, stored rows, sync status and reports, history.
//! - [`codes`]: codes with Chinese and English labels, and field labels.
//! - [`error`]: the exceptions a Kotlin caller can act on.

// The scaffolding UniFFI generates for the foreign-function interface is
// `unsafe` by nature (raw buffers and pointers that cross into the JVM); it
// is generated, checked by UniFFI's own tests, and none is written by hand here.
#![allow(unsafe_code)]

pub mod codes;
pub mod error;
pub mod status;
pub mod store;

pub use error::MasslineError;
pub use store::Store;

uniffi::setup_scaffolding!("massline");

#[cfg(test)]
mod tests {
    use massline_core::codes::Coded;
    use massline_core::records::{Record, RecordKind};
    use uniffi::{Lift, Lower};

    /// One record of every kind, as pinned by the model's fixtures.
    fn samples() -> Vec<Record> {
        include_str!("../../model/src/records/fixtures/records.jsonl")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn every_kind_crosses_to_kotlin_and_back_unchanged() {
        let records = samples();
        assert_eq!(
            records.len(),
            RecordKind::all().len(),
            "one sample of every kind"
        );
        for r in records {
            let lowered = <Record as Lower<crate::UniFfiTag>>::lower(r.clone());
            let back = <Record as Lift<crate::UniFfiTag>>::try_lift(lowered).unwrap();
            assert_eq!(back, r);
        }
    }
}
