//! A connection that carries no call for the idle timeout is closed, while
//! a call that is merely quiet for longer keeps its connection; a connection
//! past its maximum age takes no new call, lets a call under way finish
//! within the grace, and is cut at the end of the grace.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use massline_tests::{Device, TestServer, Township, raw};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));

/// Waits (up to `limit`) until the channel's connections were closed `n`
/// times by the server.
async fn wait_closed(events: &raw::LinkEvents, n: usize, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while events.closed.load(Ordering::SeqCst) < n {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_a_quiet_call_is_not() {
    let idle = Duration::from_millis(500);
    let town = Township::new();
    let server = TestServer::start_configured(&town, "127.0.0.1:0", |c| {
        c.connections.idle_timeout = idle;
    })
    .await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let id = wang.client.identity().unwrap().unwrap();
    let pin = Some(id.server.cert_sha256);

    // A call, then nothing: closed about `idle` after the call ended.
    let (channel, events) = raw::channel_from(LOCAL, server.addr, pin);
    let t = Instant::now();
    raw::quiet_push(channel.clone(), &id.device_token, Duration::ZERO)
        .await
        .unwrap();
    assert!(
        wait_closed(&events, 1, idle * 6).await,
        "an idle connection stayed open"
    );
    let took = t.elapsed();
    eprintln!("idle connection closed after {took:?}");
    assert!(
        took >= idle - Duration::from_millis(50),
        "closed after {took:?}"
    );

    // A call quiet for three times the idle timeout is not cut.
    let (channel, events) = raw::channel_from(LOCAL, server.addr, pin);
    raw::quiet_push(channel, &id.device_token, idle * 3)
        .await
        .unwrap();
    assert_eq!(events.connects.load(Ordering::SeqCst), 1);
    assert_eq!(
        events.closed.load(Ordering::SeqCst),
        0,
        "a quiet call's connection was closed"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_old_connection_finishes_its_call_within_the_grace_then_is_cut() {
    let (age, grace) = (Duration::from_millis(600), Duration::from_millis(900));
    let town = Township::new();
    let server = TestServer::start_configured(&town, "127.0.0.1:0", |c| {
        c.connections.max_age = age;
        c.connections.age_grace = grace;
    })
    .await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let id = wang.client.identity().unwrap().unwrap();
    let pin = Some(id.server.cert_sha256);

    // A call under way when the connection comes of age finishes in the
    // grace; the next call goes over a new connection.
    let (channel, events) = raw::channel_from(LOCAL, server.addr, pin);
    raw::quiet_push(channel.clone(), &id.device_token, age + grace / 3)
        .await
        .unwrap();
    raw::quiet_push(channel, &id.device_token, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        events.connects.load(Ordering::SeqCst),
        2,
        "a connection past its age took a new call"
    );

    // A call still under way at the end of the grace is cut with its
    // connection.
    let (channel, events) = raw::channel_from(LOCAL, server.addr, pin);
    let t = Instant::now();
    let cut = raw::quiet_push(channel, &id.device_token, (age + grace) * 3).await;
    let took = t.elapsed();
    eprintln!("call cut after {took:?}: {cut:?}");
    assert!(
        cut.is_err(),
        "a call outlived its connection's age and grace"
    );
    assert!(
        took >= age + grace - Duration::from_millis(50),
        "cut after {took:?}"
    );
    assert!(took < (age + grace) * 2, "cut only after {took:?}");
    assert!(wait_closed(&events, 1, Duration::from_secs(2)).await);
    server.stop().await;
}
