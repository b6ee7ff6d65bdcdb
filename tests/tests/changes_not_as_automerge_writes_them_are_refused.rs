//! A change must be written as Automerge writes its operations. Automerge
//! parses a change whose columns are encoded otherwise (a column declaring
//! more rows than the change has operations, a run that could be longer),
//! but a document holding it saves the change re-encoded, under another
//! hash, and no longer loads. The server refuses such a change, naming it and
//! why, stores nothing of it, and serves on. The change here is one the
//! `change` fuzz target found (tests/data/fuzz/), made the pushing device's.

use massline_proto::pb;
use massline_tests::{Device, TestServer, Township, problem, raw};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_not_written_as_automerge_writes_it_is_refused() {
    let town = Township::new();
    // The change's record and author are those of the workload's village.
    town.add_village("v00", "v00-sec", &[]);
    let server = TestServer::start(&town).await;
    let secretary = Device::enrol(&town, server.addr, "v00-sec").await;
    let change = raw::with_actor(
        include_bytes!("../data/fuzz/change-not-as-automerge-writes.chunk"),
        &raw::actor_of(&secretary),
    );

    let answer = raw::push_changes(&secretary, std::slice::from_ref(&change)).await;
    assert_eq!(answer.accepted, 0, "{answer:?}");
    let r = &answer.refused[0];
    assert_eq!(r.code(), pb::RefusalCode::Malformed, "{}", r.reason);
    assert!(
        r.reason
            .contains("not written as Automerge writes its operations"),
        "{}",
        r.reason
    );
    let hash = automerge::Change::try_from(&change[..]).unwrap().hash();
    assert!(r.reason.contains(&hash.to_string()), "{}", r.reason);
    assert_eq!(town.stored_changes(), 0);
    secretary.still_syncs(problem("村道坑洼")).await;
    server.stop().await;
}
