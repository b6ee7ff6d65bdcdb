//! The server keeps every change it acknowledged, whether it is stopped and
//! restarted between syncs or killed with SIGKILL in the middle of one: a
//! hundred kills at random moments of syncs pushing and pulling at once leave
//! its database intact, every acknowledged change stored after the restart,
//! and, once the devices sync again, everything stored exactly once and the
//! same on every device. A failure prints the seed of the kill moments;
//! `MASSLINE_TEST_SEED=<seed>` replays it.

use std::time::{Duration, Instant};

use massline_tests::{Device, ServerProcess, Township, opinion, seeded_rng, study};
use rand::Rng;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_a_restart_between_syncs() {
    let town = Township::new();
    let server = ServerProcess::spawn(&town, "127.0.0.1:0");
    let addr = server.addr;
    let zhang = Device::enrol(&town, addr, "zhang").await;
    for i in 0..50 {
        zhang
            .client
            .create(study("wang", 30, &format!("学习 {i}")), None)
            .unwrap();
    }
    zhang.client.create(opinion("修路"), None).unwrap();
    zhang.client.sync().await.unwrap();
    server.terminate();

    let server = ServerProcess::spawn(&town, &addr.to_string());
    let li = Device::enrol(&town, addr, "li").await;
    assert_eq!(li.client.sync().await.unwrap().pulled, 51);
    assert_eq!(li.records(), zhang.records());
    assert_eq!(zhang.client.sync().await.unwrap().pulled, 0);
    server.terminate();
    assert_eq!(town.integrity(), "ok");
}

/// Kills of the server at a random moment of two syncs (one each of two
/// devices, both pushing and pulling), and syncs they must at least cut short.
const KILLS: u64 = 100;
const KILLED_SYNCS: u64 = 100;

/// `n` study entries on `device`, tagged with `round`.
fn study_round(device: &Device, round: u64, n: i64) -> i64 {
    for i in 0..n {
        device
            .client
            .create(
                study(
                    "wang",
                    30,
                    &format!("第{round}轮 {i} 十八届三中全会精神学习"),
                ),
                None,
            )
            .unwrap();
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_syncs_keeps_what_it_acknowledged() {
    let (seed, mut rng) = seeded_rng("server kills");
    let town = Township::new();
    let mut server = ServerProcess::spawn(&town, "127.0.0.1:0");
    let addr = server.addr;
    // Both record and sync at once: each pushes its own and pulls the other's.
    let zhang = Device::enrol(&town, addr, "zhang").await;
    let li = Device::enrol(&town, addr, "li").await;

    // How long a round's syncs take, to kill within that time.
    let mut made = study_round(&zhang, 0, 30) + study_round(&li, 0, 30);
    let started = Instant::now();
    let (a, b) = tokio::join!(zhang.client.sync(), li.client.sync());
    a.unwrap();
    b.unwrap();
    let span = started.elapsed().as_micros() as u64 * 3 / 4;

    let (mut cut_short, mut stored_unacknowledged) = (0, 0);
    let mut round = 0;
    while round < KILLS || cut_short < KILLED_SYNCS {
        round += 1;
        assert!(
            round <= 3 * KILLED_SYNCS,
            "seed {seed}: too few kills fell in a sync"
        );
        made += study_round(&zhang, round, rng.random_range(5..=30));
        made += study_round(&li, round, rng.random_range(5..=30));
        let before = [zhang.outbox(), li.outbox()].concat();
        let sync = |path: &std::path::Path| {
            let c = massline_core::Client::open(path).unwrap();
            async move { c.sync().await.is_ok() }
        };
        let zhang_syncing = tokio::spawn(sync(&zhang.path));
        let li_syncing = tokio::spawn(sync(&li.path));
        let moment = Duration::from_micros(rng.random_range(0..span));
        tokio::time::sleep(moment).await;
        server.kill();
        for done in [zhang_syncing.await.unwrap(), li_syncing.await.unwrap()] {
            cut_short += u64::from(!done);
        }
        let at = format!("seed {seed}, round {round}, killed after {moment:?}");
        assert_eq!(town.integrity(), "ok", "{at}");

        server = ServerProcess::spawn(&town, &addr.to_string());
        let after = [zhang.outbox(), li.outbox()].concat();
        for hash in before.iter().filter(|h| !after.contains(h)) {
            assert!(
                town.has_change(hash),
                "{at}: acknowledged change {hash} lost"
            );
        }
        if after.iter().any(|h| town.has_change(h)) {
            stored_unacknowledged += 1;
        }
        // The next syncs finish the work, and store nothing twice.
        assert_eq!(zhang.client.sync().await.unwrap().refused, 0, "{at}");
        assert_eq!(li.client.sync().await.unwrap().refused, 0, "{at}");
        assert!(zhang.outbox().is_empty() && li.outbox().is_empty(), "{at}");
        assert_eq!(town.stored_changes(), made, "{at}: lost or doubled");
    }
    eprintln!(
        "{round} kills cut {cut_short} syncs short; {stored_unacknowledged} fell between storing and acknowledging"
    );
    zhang.client.sync().await.unwrap();
    assert_eq!(town.server_records(), zhang.records(), "seed {seed}");
    assert_eq!(li.records(), zhang.records(), "seed {seed}");
    server.terminate();
    assert_eq!(town.integrity(), "ok", "seed {seed}");
}
