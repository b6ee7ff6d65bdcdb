//! A device that pushes more bytes than its hourly or daily quota is refused
//! with the quota named, how much it sent and when the quota resets, and
//! stays refused; other devices still sync.

use massline_proto::pb;
use massline_server::limits::Limits;
use massline_tests::{Device, TestServer, Township, raw, study};
use rand::{Rng, SeedableRng};
use serde_json::json;

/// A study entry whose reflection is 4,000 random characters (about 12 kB,
/// compressing poorly).
fn entry(rng: &mut rand::rngs::StdRng, serial: u64) -> serde_json::Value {
    let reflection: String = (0..4000)
        .map(|_| char::from_u32(0x4E00 + rng.random_range(0..4000)).unwrap())
        .collect();
    json!({"kind": "study_entry", "scope": "v/dongcun/m/wang", "serial": serial,
           "member": "wang", "date": "2024-05-01", "material": "mass_line_reading",
           "topic": "读本", "mode": "self_study", "minutes": 30, "reflection": reflection})
}

/// Pushes one entry per call from `device` until a call is refused; returns
/// the entries stored, the refusal, and the message refused.
async fn push_until_refused(device: &Device) -> (u64, tonic::Status, pb::PushRequest) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let actor = raw::actor_of(device);
    let (channel, token) = raw::channel_of(device).await;
    for serial in 1..=40 {
        let message = raw::message(&[raw::first_change(&actor, "wang", entry(&mut rng, serial))]);
        match raw::push(channel.clone(), &token, vec![message.clone()]).await {
            Ok(answers) => assert_eq!(answers[0].accepted, 1, "{answers:?}"),
            Err(status) => return (serial - 1, status, message),
        }
    }
    panic!("40 entries of several kB each went through a quota of 40 KiB");
}

async fn over_quota(limits: Limits, words: &[&str]) {
    let town = Township::new();
    let server = TestServer::start_limited(&town, limits).await;
    let wang = Device::enrol(&town, server.addr, "wang").await;
    let zhao = Device::enrol(&town, server.addr, "zhao").await;

    let (stored, status, refused) = push_until_refused(&wang).await;
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    for w in words {
        assert!(status.message().contains(w), "{w:?} not in {status:?}");
    }
    assert!((3..=6).contains(&stored), "{stored} entries of ~7 kB each");
    assert_eq!(town.stored_changes(), stored as i64);

    // Still refused on a new call.
    let (channel, token) = raw::channel_of(&wang).await;
    let again = raw::push(channel, &token, vec![refused]).await.unwrap_err();
    assert_eq!(again.code(), tonic::Code::ResourceExhausted, "{again:?}");

    // Another device is not held to wang's quota.
    zhao.client
        .create(study("zhao", 30, "赵的学习"), None)
        .unwrap();
    let report = zhao.client.sync().await.unwrap();
    assert_eq!(report.pushed, 1);
    assert_eq!(report.refused, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_over_its_hourly_quota_is_refused_and_others_sync() {
    over_quota(
        Limits {
            bytes_per_hour: 40 << 10,
            ..Limits::default()
        },
        &[
            "over its hourly push quota",
            "of 40960 bytes sent this hour",
            "the quota resets at",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_over_its_daily_quota_is_refused_and_others_sync() {
    over_quota(
        Limits {
            bytes_per_day: 40 << 10,
            ..Limits::default()
        },
        &[
            "over its daily push quota",
            "of 40960 bytes sent this day",
            "00:00 UTC",
        ],
    )
    .await;
}
