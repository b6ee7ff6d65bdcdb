//! A call that waits on its device too long, or stays open too long, is cut
//! off with the reason: a device that stops reading its answer (after the
//! send timeout, freeing its call), a pushing device that stops sending
//! (after the receive timeout), and a push that goes on past the longest a
//! call may last, whose acknowledged changes stay stored.

use std::time::{Duration, Instant};

use massline_core::packing::Packer;
use massline_server::limits::Limits;
use massline_tests::{Device, TestServer, Township, raw};
use serde_json::json;

fn entry(serial: u64) -> serde_json::Value {
    json!({"kind": "study_entry", "scope": "v/dongcun/m/wang", "serial": serial,
           "member": "wang", "date": "2024-05-01", "material": "mass_line_reading",
           "topic": "读本", "mode": "self_study", "minutes": 30, "reflection": ""})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_stops_reading_is_cut_off_and_its_call_freed() {
    let town = Township::new();
    let server = TestServer::start_limited(
        &town,
        Limits {
            send_timeout: Duration::from_secs(1),
            calls_per_device: 1,
            ..Limits::default()
        },
    )
    .await;
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    raw::push_big_problems(&zhang, "dongcun", 60).await;
    let li = Device::enrol(&town, server.addr, "li").await;
    let (channel, token) = raw::channel_of(&li).await;
    let req = raw::pull_everything(channel.clone(), &token).await;

    let (stalling, stalling_token) = raw::stalling_channel_of(&li).await;
    let stalled = raw::start_pull(stalling.clone(), &stalling_token, req.clone())
        .await
        .unwrap();
    let busy = raw::pull(channel.clone(), &token, req.clone())
        .await
        .unwrap_err();
    assert_eq!(busy.code(), tonic::Code::ResourceExhausted, "{busy:?}");

    // Cut off after the send timeout, the stalled pull gives its call back.
    let started = Instant::now();
    let answers = loop {
        match raw::pull(channel.clone(), &token, req.clone()).await {
            Ok(a) => break a,
            Err(s) if s.code() == tonic::Code::ResourceExhausted => {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "the stalled pull was never cut off"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(s) => panic!("{s:?}"),
        }
    };
    assert!(answers.last().unwrap().done);
    let entries: u32 = answers.iter().map(|a| a.entries).sum();
    assert_eq!(entries, 60);

    // Reading now, the stalled device finds the reason, not the whole answer.
    let (got, end) = raw::finish_pull(stalled).await;
    let status = end.unwrap_err();
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(
        status
            .message()
            .contains("took nothing more of its answer for 1 s"),
        "{status:?}"
    );
    assert!(!got.iter().any(|a| a.done), "{} messages", got.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_that_sends_nothing_is_cut_off() {
    let town = Township::new();
    let server = TestServer::start_limited(
        &town,
        Limits {
            receive_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
    )
    .await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let (channel, token) = raw::channel_of(&wang).await;
    let (tx, mut answers) = raw::open_push(channel, &token).await.unwrap();
    let started = Instant::now();
    let end = tokio::time::timeout(Duration::from_secs(10), answers.message())
        .await
        .expect("an idle push was never cut off");
    let status = end.unwrap_err();
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(
        status.message().contains("sent nothing for 1 s"),
        "{status:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    drop(tx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_open_past_the_longest_call_is_cut_off_keeping_what_it_stored() {
    let town = Township::new();
    let server = TestServer::start_limited(
        &town,
        Limits {
            call_time: Duration::from_secs(2),
            ..Limits::default()
        },
    )
    .await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let actor = raw::actor_of(&wang);
    let (channel, token) = raw::channel_of(&wang).await;
    let (tx, mut answers) = raw::open_push(channel, &token).await.unwrap();
    let mut packer = Packer::new(3);
    let started = Instant::now();
    let mut stored = 0;
    let status = loop {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the push outlived the longest call"
        );
        let change = raw::first_change(&actor, "wang", entry(stored + 1));
        if tx
            .send(raw::next_message(&mut packer, &[change]))
            .await
            .is_err()
        {
            // The server has ended the call; its status follows.
            break answers.message().await.unwrap_err();
        }
        match answers.message().await {
            Ok(Some(a)) => {
                assert_eq!(a.accepted, 1, "{a:?}");
                stored += 1;
            }
            Ok(None) => panic!("the push ended without a status"),
            Err(status) => break status,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(
        status
            .message()
            .contains("open 2 s, the most a call may: call again"),
        "{status:?}"
    );
    assert!(stored >= 3, "{stored} changes stored before the cut");
    assert_eq!(town.stored_changes(), stored as i64);
}
