//! A change must hold at least one operation. A device never makes one of
//! nothing (Automerge commits none), and a document holding one whose
//! operation counter starts past the record's saves but no longer loads.
//! The server refuses such a change, first change or edit, naming it and
//! why, and stores nothing of it. The first change here is one the `change`
//! fuzz target found (tests/data/fuzz/), made the pushing device's.

use std::num::NonZeroU64;

use automerge::{Change, ExpandedChange};
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, problem, raw};
use serde_json::json;

/// A change of nothing by `device` after `base`, its counter starting one
/// past where it should.
fn empty_edit_of(device: &Device, base: &Change) -> Vec<u8> {
    Change::from(ExpandedChange {
        operations: Vec::new(),
        actor_id: raw::actor_of(device),
        hash: None,
        seq: 2,
        start_op: NonZeroU64::new(base.max_op() + 2).unwrap(),
        time: 1_700_000_000,
        message: Some(json!({"by": "v00-sec"}).to_string()),
        deps: vec![base.hash()],
        extra_bytes: Vec::new(),
        author: None,
    })
    .raw_bytes()
    .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_nothing_is_refused() {
    let town = Township::new();
    // The fuzz target's change names the workload's village secretary.
    town.add_village("v00", "v00-sec", &[]);
    let server = TestServer::start(&town).await;
    let secretary = Device::enrol(&town, server.addr, "v00-sec").await;
    let id = secretary.still_syncs(problem("村道坑洼")).await;
    let base = raw::doc_of(&secretary, &id).get_changes(&[])[0].clone();
    let stored = town.stored_changes();

    for change in [
        raw::with_actor(
            include_bytes!("../data/fuzz/change-of-nothing.chunk"),
            &raw::actor_of(&secretary),
        ),
        empty_edit_of(&secretary, &base),
    ] {
        let answer = raw::push_changes(&secretary, std::slice::from_ref(&change)).await;
        assert_eq!(answer.accepted, 0, "{answer:?}");
        let r = &answer.refused[0];
        assert_eq!(r.code(), pb::RefusalCode::Malformed, "{}", r.reason);
        assert!(r.reason.contains("it holds no operations"), "{}", r.reason);
        let hash = Change::try_from(&change[..]).unwrap().hash();
        assert!(r.reason.contains(&hash.to_string()), "{}", r.reason);
        assert_eq!(town.stored_changes(), stored);
    }
    secretary.still_syncs(problem("路灯不亮")).await;
    server.stop().await;
}
