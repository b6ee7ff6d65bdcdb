//! An edit of a record, as the server takes it in: the record's first change
//! (first piece, a chunk as `massline_fuzz_seeds::chunk_of` reads it) is
//! taken as a new record is; the edit (second piece: a change body without
//! its dependencies, made to depend on the first change) must keep within
//! the limits and name only objects, list items and values the record has
//! (`OpIndex`); one Automerge applies leaves a document that saves and loads
//! again, and loads from its changes as stored, with every version of its
//! root readable.
#![no_main]

use automerge::Automerge;
use libfuzzer_sys::fuzz_target;
use massline_core::change_limits::{self, OpIndex};
use massline_core::{doc_json, first_change, record_doc};
use massline_fuzz_seeds::{chunk, chunk_of, pieces, with_dependencies};

fuzz_target!(|data: &[u8]| {
    let [first, edit, ..] = pieces(data)[..] else {
        return;
    };
    let first = chunk_of(first);
    let Ok(created) = change_limits::parse(&first) else {
        return;
    };
    if !created.change.deps().is_empty()
        || (first_change::root_of_expanded(created.expanded.clone()).is_none()
            && OpIndex::default().check(&created.expanded).is_err())
    {
        return;
    }
    let base = created.change.hash();
    let edit = chunk(1, &with_dependencies(&[base.0], edit));
    let Ok(edited) = change_limits::parse(&edit) else {
        return;
    };
    let mut index = OpIndex::default();
    index.add(&created.expanded);
    if index.check(&edited.expanded).is_err() {
        return;
    }
    let mut doc = Automerge::new();
    doc.load_incremental(&first)
        .expect("the first change loads");
    // Automerge may still refuse it (a sequence number its actor used
    // already, say): the server refuses such a change with Automerge's reason.
    if doc.apply_changes([edited.change.clone()]).is_err() {
        return;
    }
    let hash = edited.change.hash();
    assert!(doc.get_change_meta_by_hash(&hash).is_some(), "applied");
    let root = doc_json::read_root(&doc);
    let again = Automerge::load(&doc.save()).expect("its document loads again");
    assert_eq!(doc_json::read_root(&again), root);
    let mut chunks = first.clone();
    chunks.extend_from_slice(&edit);
    let mut incremental = Automerge::new();
    incremental
        .load_incremental(&chunks)
        .expect("its changes load as stored");
    assert_eq!(doc_json::read_root(&incremental), root);
    let _ = record_doc::parse_written(record_doc::root_at(&doc, &[hash]));
    let _ = record_doc::read_at(&doc, &[base]);
    let _ = record_doc::history(&doc);
});
