//! One device may run only so many calls at once: over the limit it is
//! refused with `resource_exhausted` and a message saying so, while other
//! devices sync; once one of its calls ends it may call again.

use std::time::{Duration, Instant};

use massline_server::limits::CALLS_PER_DEVICE;
use massline_tests::{Device, TestServer, Township, raw, study};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_over_its_calls_is_refused_and_others_sync() {
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let zhao = Device::enrol(&town, server.addr, "zhao").await;
    let (channel, token) = raw::channel_of(&wang).await;

    // Push calls that stay open, sending nothing.
    let mut open = Vec::new();
    for _ in 0..CALLS_PER_DEVICE {
        open.push(raw::open_push(channel.clone(), &token).await.unwrap());
    }
    let refused = raw::pull(channel.clone(), &token, Default::default())
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );
    assert!(
        refused.message().contains(&format!(
            "already has {CALLS_PER_DEVICE} calls open, the most one device may"
        )),
        "{refused:?}"
    );
    let refused = raw::open_push(channel.clone(), &token).await.unwrap_err();
    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );

    // Another device of the same village syncs meanwhile.
    zhao.client
        .create(study("zhao", 30, "赵的学习"), None)
        .unwrap();
    assert_eq!(zhao.client.sync().await.unwrap().pushed, 1);

    // One call ends: the device may call again.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match raw::pull(channel.clone(), &token, Default::default()).await {
            Ok(_) => break,
            Err(s) if s.code() == tonic::Code::ResourceExhausted => {
                assert!(Instant::now() < deadline, "the ended call kept its slot");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(s) => panic!("{s:?}"),
        }
    }
    drop(open);
}
