//! A phone's resumed connection sends its first calls with the ClientHello
//! (TLS 1.3 early data) and the server answers in its first flight: an idle
//! sync is the TCP round trip and one more, not two more. Pushes ride along
//! and are stored once; early data a restarted server cannot read is sent
//! again after the handshake, nothing lost.

use std::time::Duration;

use linksim::{LinkConfig, LinkSim};
use massline_core::sync::link::Handshake;
use massline_tests::{Device, TestServer, Township, study};

/// Round trip of the emulated link; a new connection waits one.
const RTT: Duration = Duration::from_millis(800);

/// A link of round trip `rtt`, whose new connections wait one.
fn link_of(rtt: Duration) -> LinkConfig {
    LinkConfig {
        one_way_delay: rtt / 2,
        connect_delay: rtt,
        ..LinkConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_sync_over_a_resumed_session_takes_two_round_trips() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let link = LinkSim::start(server.addr, link_of(RTT)).await.unwrap();
    let wang = Device::enrol_through(&town, server.addr, link.addr(), "wang").await;

    // Enrolling left a ticket: the first sync resumes and its push goes
    // out as early data.
    wang.client.create(study("wang", 30, "党章"), None).unwrap();
    let first = wang.client.sync().await.unwrap();
    assert_eq!(first.handshake, Handshake::EarlyData, "{first:?}");
    assert_eq!((first.pushed, first.refused), (1, 0));
    assert!(wang.outbox().is_empty());
    assert_eq!(town.stored_changes(), 1);

    // The server's next ticket comes a round trip after its answers; the
    // connection stays open for it after the sync returns. A phone's syncs
    // are minutes apart.
    tokio::time::sleep(3 * RTT).await;
    let idle = wang.client.sync().await.unwrap();
    assert_eq!(idle.handshake, Handshake::EarlyData, "{idle:?}");
    assert_eq!((idle.calls, idle.pushed, idle.pulled), (1, 0, 0));
    // On a 2G link every byte is an eighth of a millisecond. The
    // ClientHello offers only what the device uses, and the call's HTTP/2
    // frames travel gathered in few TLS records: some 740 bytes up in all,
    // where a ClientHello of rustls' defaults and a record for each frame
    // made 840.
    assert!(
        idle.link_sent < 780,
        "an idle resumed sync sent {} bytes",
        idle.link_sent
    );
    // TCP, then the ClientHello with the pull and the server's flight with
    // its answer: two round trips. Waiting for the handshake would be three.
    let millis = idle.took.as_millis();
    assert!(millis >= 2 * RTT.as_millis(), "{idle:?}");
    assert!(
        millis < 5 * RTT.as_millis() / 2,
        "an idle resumed sync took {millis} ms: more than two round trips of {} ms",
        RTT.as_millis()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_data_a_restarted_server_cannot_read_is_sent_again() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let addr = server.addr;
    let li = Device::enrol(&town, addr, "li").await;
    li.client.create(study("li", 20, "第一次"), None).unwrap();
    assert_eq!(
        li.client.sync().await.unwrap().handshake,
        Handshake::EarlyData
    );

    // A restarted server holds no ticket: it refuses the session and its
    // early data, and the phone sends the calls again after a full handshake.
    server.stop().await;
    let server = TestServer::start_at(&town, &addr.to_string()).await;
    li.client.create(study("li", 25, "第二次"), None).unwrap();
    let after = li.client.sync().await.unwrap();
    assert_eq!(after.handshake, Handshake::Full, "{after:?}");
    assert_eq!((after.pushed, after.refused), (1, 0));
    assert!(li.outbox().is_empty());
    assert_eq!(town.stored_changes(), 2);

    let again = li.client.sync().await.unwrap();
    assert_eq!(again.handshake, Handshake::EarlyData, "{again:?}");
    assert_eq!(town.stored_changes(), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_is_taken_as_slow_by_its_round_trip_with_or_without_early_data() {
    // A 200 ms round trip is slow: connecting (TCP, then TLS) takes two of
    // them, 400 ms, over the 250 ms threshold. A connection whose calls go
    // as early data is handed over before it can tell, and takes the link
    // as the last handshake with that server (here the enrollment's) found it.
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let rtt = Duration::from_millis(200);
    let link = LinkSim::start(server.addr, link_of(rtt)).await.unwrap();
    let li = Device::enrol_through(&town, server.addr, link.addr(), "li").await;
    let over_link = li.client.sync().await.unwrap();
    assert_eq!(
        (over_link.handshake, over_link.slow_link),
        (Handshake::EarlyData, true),
        "{over_link:?}"
    );

    let zhao = Device::enrol(&town, server.addr, "zhao").await;
    let direct = zhao.client.sync().await.unwrap();
    assert!(!direct.slow_link, "{direct:?}");
    server.stop().await;
}
