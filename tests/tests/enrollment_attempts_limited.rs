//! Failed enrollment attempts are limited per address: over the limit an
//! attempt (even with a good code) is refused with `resource_exhausted` and
//! a clear message and changes nothing, while other addresses enrol, and
//! successful enrollments, even many at once, never count against an
//! address.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use massline_core::enrollment_code::EnrollmentCode;
use massline_server::service::enrollment::ENROLL_FAILURE_BURST;
use massline_tests::{Device, TestServer, Township, raw};

fn parse(code: &str) -> EnrollmentCode {
    code.parse().unwrap()
}

fn unused_codes(town: &Township) -> i64 {
    town.server_db()
        .query_row(
            "SELECT count(*) FROM enrollment_codes WHERE used_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

fn devices(town: &Township) -> i64 {
    town.server_db()
        .query_row("SELECT count(*) FROM devices", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn an_address_over_its_failed_attempts_is_refused_without_touching_anything() {
    let town = Township::new();
    // The production burst, and no attempt coming back during the test.
    let server = TestServer::start_configured(&town, "127.0.0.1:0", |c| {
        c.enroll_failures.every = Duration::from_secs(3_600);
    })
    .await;
    let good = parse(&town.code("wang", server.addr));
    let guesser = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let (channel, _) = raw::channel_from(guesser, server.addr, good.pin);

    for i in 0..ENROLL_FAILURE_BURST {
        let err = raw::enroll(channel.clone(), &format!("AAAA-BBBB-CCCC-{i:04}"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unauthenticated, "{err:?}");
    }
    let (codes, devices_before) = (unused_codes(&town), devices(&town));

    // Over the limit, even the good code is refused, and stays unused.
    let err = raw::enroll(channel.clone(), &good.secret)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::ResourceExhausted, "{err:?}");
    assert!(
        err.message()
            .contains("too many failed enrollment attempts")
            && err.message().contains("try again in"),
        "{}",
        err.message()
    );
    let t = Instant::now();
    for _ in 0..200 {
        let err = raw::enroll(channel.clone(), "AAAA-BBBB-CCCC-DDDD")
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::ResourceExhausted);
    }
    eprintln!("200 attempts over the limit answered in {:?}", t.elapsed());
    assert_eq!(unused_codes(&town), codes);
    assert_eq!(devices(&town), devices_before);

    // Another address enrols with that very code.
    Device::enrol(&town, server.addr, "zhao").await;
    let (other, _) = raw::channel_from(
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)),
        server.addr,
        good.pin,
    );
    raw::enroll(other, &good.secret).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn successful_enrollments_at_once_from_one_address_do_not_count_against_it() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let office = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 4));
    let codes: Vec<EnrollmentCode> = (0..3 * ENROLL_FAILURE_BURST)
        .map(|_| parse(&town.code("wang", server.addr)))
        .collect();
    // Each on a connection of its own, as phones do.
    let all = futures::future::join_all(codes.iter().map(|code| {
        let (channel, _) = raw::channel_from(office, server.addr, code.pin);
        raw::enroll(channel, &code.secret)
    }));
    for answer in tokio::time::timeout(Duration::from_secs(20), all)
        .await
        .unwrap()
    {
        answer.unwrap();
    }
    // And as many more one after the other.
    for _ in 0..3 * ENROLL_FAILURE_BURST {
        let code = parse(&town.code("zhao", server.addr));
        let (channel, _) = raw::channel_from(office, server.addr, code.pin);
        raw::enroll(channel, &code.secret).await.unwrap();
    }
    server.stop().await;
}
