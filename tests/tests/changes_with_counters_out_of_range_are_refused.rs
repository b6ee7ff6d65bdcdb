//! Automerge keeps operation counters as `u32` and panics, parsing a change,
//! on one larger (an object counter, or a key or predecessor counter whose
//! deltas add up past it). The server refuses such a change before
//! Automerge reads it, naming it and why, and serves on. The change here is
//! one the `change` fuzz target found (tests/data/fuzz/), made the pushing
//! device's.

use automerge::ChangeHash;
use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, problem, raw};
use sha2::{Digest, Sha256};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_with_a_counter_out_of_range_is_refused() {
    let town = Township::new();
    // The fuzz target's change names the workload's village secretary.
    town.add_village("v00", "v00-sec", &[]);
    let server = TestServer::start(&town).await;
    let secretary = Device::enrol(&town, server.addr, "v00-sec").await;
    let change = raw::with_actor(
        include_bytes!("../data/fuzz/change-counter-out-of-range.chunk"),
        &raw::actor_of(&secretary),
    );

    let answer = raw::push_changes(&secretary, std::slice::from_ref(&change)).await;
    assert_eq!(answer.accepted, 0, "{answer:?}");
    let r = &answer.refused[0];
    assert_eq!(r.code(), pb::RefusalCode::Malformed, "{}", r.reason);
    assert!(r.reason.contains("out of range"), "{}", r.reason);
    let hash = ChangeHash(Sha256::digest(&change[8..]).into());
    assert!(r.reason.contains(&hash.to_string()), "{}", r.reason);
    assert_eq!(town.stored_changes(), 0);
    secretary.still_syncs(problem("村道坑洼")).await;
    server.stop().await;
}
