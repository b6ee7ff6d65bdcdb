//! A record's root as JSON, read as the server reads what a device wrote
//! (`record_doc::parse_written`) and as both read a stored record
//! (`parse_root`): either a record or an error naming the field, never a
//! panic. A root `parse_written` takes reads the same through `parse_root`,
//! and the record written into a new document reads back as it was.
#![no_main]

use automerge::ActorId;
use libfuzzer_sys::fuzz_target;
use massline_core::PersonId;
use massline_core::record_doc::{self, Author};
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(root) = serde_json::from_slice::<Map<String, Value>>(data) else {
        return;
    };
    let loose = record_doc::parse_root(root.clone());
    let Ok(written) = record_doc::parse_written(root) else {
        return;
    };
    let loose = loose.expect("a root parse_written takes, parse_root takes");
    assert_eq!(loose, written);
    let _ = written.record.validate();
    let actor = ActorId::from([1u8; 16]);
    let person = PersonId::new("p").expect("an id");
    let by = Author {
        actor: &actor,
        person: &person,
        time: 1_700_000_000,
    };
    let (_, doc, _) = record_doc::create(&by, &written.scope, 1, &written.record)
        .expect("a record read from a root writes");
    let back = record_doc::read(&doc).expect("and reads back");
    assert_eq!((back.scope, back.record), (written.scope, written.record));
});
