//! Pulls that never read their answer hold no database connection: with more
//! of them stalled than the server has readers, against a server holding a
//! few MB of changes, token checks go through at once and other devices
//! still sync (push, pull, and a whole village's download) in normal time.
//!
//! The server runs as a process of its own, so a server that freezes fails
//! the test on its time bound rather than holding up the test's runtime.

use std::time::{Duration, Instant};

use massline_tests::{Device, ServerProcess, Township, raw, study};

/// Generous for a loaded 2-core machine; on an idle one each sync takes well
/// under a second.
const SYNC_BOUND: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_readers_leave_every_other_sync_free() {
    let town = Township::new();
    let server = ServerProcess::spawn(&town, "127.0.0.1:0");
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    raw::push_big_problems(&zhang, "dongcun", 60).await;
    let chen = Device::enrol(&town, server.addr, "chen").await;
    let fresh = Device::enrol(&town, server.addr, "zhang").await;
    let mut stallers = Vec::new();
    for person in ["li", "wang", "zhao"] {
        let device = Device::enrol(&town, server.addr, person).await;
        let (channel, token) = raw::channel_of(&device).await;
        stallers.push((raw::pull_everything(channel, &token).await, device));
    }

    // Two stalled pulls from each of three devices: more than the server's readers.
    let (mut stalled, mut channels) = (Vec::new(), Vec::new());
    for (req, device) in &stallers {
        let (stalling, token) = raw::stalling_channel_of(device).await;
        for _ in 0..2 {
            // Its token is checked before it starts: never behind stalled pulls.
            let start = raw::start_pull(stalling.clone(), &token, req.clone());
            let answer = tokio::time::timeout(SYNC_BOUND, start)
                .await
                .expect("a token check froze behind stalled pulls")
                .unwrap();
            stalled.push(answer);
        }
        channels.push(stalling);
    }
    assert!(stalled.len() > massline_server::db::READERS);
    // Let every stalled answer fill what it may send and wait there.
    tokio::time::sleep(Duration::from_millis(500)).await;

    chen.client
        .create(study("chen", 30, "西村的学习"), None)
        .unwrap();
    let started = Instant::now();
    let report = tokio::time::timeout(SYNC_BOUND, chen.client.sync())
        .await
        .expect("a sync of another village froze behind stalled pulls")
        .unwrap();
    assert_eq!(report.pushed, 1);
    eprintln!("other village's sync: {:?}", started.elapsed());

    let started = Instant::now();
    let report = tokio::time::timeout(SYNC_BOUND, fresh.client.sync())
        .await
        .expect("a download of the village froze behind stalled pulls")
        .unwrap();
    assert_eq!(report.pulled, 60);
    eprintln!(
        "download of {} kB: {:?}",
        report.payload_received / 1000,
        started.elapsed()
    );
    drop((stalled, channels));
}
