//! A change from a device, as the server takes it in before it knows the
//! record: the change limits (`check_chunk`, then Automerge's parser, then
//! the operations), then, for a change without dependencies, the record read
//! straight from it (`first_change`) or else the check that it names only
//! what it makes (`OpIndex`). A change that passes applies in Automerge, the
//! document reads as `first_change` read it, saves and loads again, and its
//! root reads as a record or an error. The input is a chunk as
//! `massline_fuzz_seeds::chunk_of` reads it.
#![no_main]

use automerge::Automerge;
use libfuzzer_sys::fuzz_target;
use massline_core::change_limits::{self, OpIndex};
use massline_core::{doc_json, first_change, record_doc};

fuzz_target!(|data: &[u8]| {
    let bytes = massline_fuzz_seeds::chunk_of(data);
    let Ok(checked) = change_limits::parse(&bytes) else {
        return;
    };
    if !checked.change.deps().is_empty() {
        return;
    }
    let read = first_change::root_of_expanded(checked.expanded.clone());
    if read.is_none() && OpIndex::default().check(&checked.expanded).is_err() {
        return;
    }
    let hash = checked.change.hash();
    let mut doc = Automerge::new();
    doc.load_incremental(&bytes)
        .expect("a change within the limits loads");
    assert!(doc.get_change_meta_by_hash(&hash).is_some(), "applied");
    let root = doc_json::read_root(&doc);
    if let Some(read) = read {
        assert_eq!(
            read, root,
            "first_change reads the record as Automerge does"
        );
    }
    let again = Automerge::load(&doc.save()).expect("its document loads again");
    assert_eq!(doc_json::read_root(&again), root);
    let _ = record_doc::parse_root(root.clone());
    if let Ok(stored) = record_doc::parse_written(root) {
        let _ = stored.record.validate();
    }
});
