//! The field client (`massline`) killed with SIGKILL at random moments of a
//! sync loses nothing recorded on the device: after each kill its store
//! passes `PRAGMA integrity_check`, every record made on it is still listed,
//! as it was, and every change the server did not acknowledge is still
//! waiting to be sent; a later sync completes, and the server then holds
//! every change exactly once and the same records as the device.
//!
//! The kill moments come from a seeded generator; a failure prints the seed,
//! and `MASSLINE_TEST_SEED=<seed>` replays it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use massline_server::feed::FeedOptions;
use massline_tests::{Device, TestServer, Township, cli_binary, massline, seeded_rng, study};
use rand::Rng;
use serde_json::Value;

/// Kills of a client still running its sync.
const KILLS: usize = 40;

/// Every record on the store, withdrawn ones too, as the client lists them
/// (id → record JSON).
fn listed(store: &Path) -> BTreeMap<String, Value> {
    let rows: Vec<Value> = serde_json::from_str(&massline(store, &["list", "--all", "--json"]))
        .expect("list --json prints JSON");
    rows.into_iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["record"].clone()))
        .collect()
}

/// `PRAGMA integrity_check` of the store, and the hashes in its outbox the
/// server has not answered (those it answered leave when a call ends).
fn check_store(store: &Path) -> (String, BTreeSet<String>) {
    let db = rusqlite::Connection::open(store).unwrap();
    let integrity = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let mut stmt = db
        .prepare(&format!(
            "SELECT lower(hex(hash)) FROM outbox WHERE {}",
            massline_core::store::outbox::WAITING
        ))
        .unwrap();
    let outbox = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (integrity, outbox)
}

/// Records one to three things through the client: new problems, opinions
/// and study, and edits of problems made before (`problems`). Returns how
/// many changes that made.
fn record_some(store: &Path, rng: &mut impl Rng, round: usize, problems: &mut Vec<String>) -> i64 {
    let n = rng.random_range(1..=3);
    for i in 0..n {
        let tag = format!("第{round}轮第{i}条");
        match rng.random_range(0..4) {
            0 if !problems.is_empty() => {
                let id = &problems[rng.random_range(0..problems.len())];
                let background = format!("{tag} 补充");
                massline(
                    store,
                    &["problem", "update", id, "--background", &background],
                );
            }
            0 | 1 => {
                let title = format!("{tag} 村务公开不及时");
                let id = massline(
                    store,
                    &[
                        "problem",
                        "add",
                        "--title",
                        &title,
                        "--how-found",
                        "self_search",
                        "--area",
                        "mass_service",
                    ],
                );
                problems.push(id.trim().to_string());
            }
            2 => {
                let text = format!("{tag} 村道坑洼，雨天难行");
                massline(
                    store,
                    &[
                        "opinion",
                        "add",
                        "--channel",
                        "household_visit",
                        "--source",
                        "poor",
                        "--area",
                        "village_affairs",
                        "--text",
                        &text,
                    ],
                );
            }
            _ => {
                massline(
                    store,
                    &[
                        "study",
                        "add",
                        "--material",
                        "mass_line_reading",
                        "--topic",
                        &tag,
                        "--mode",
                        "self_study",
                        "--minutes",
                        "40",
                        "--reflection",
                        "联系群众",
                    ],
                );
            }
        }
    }
    n
}

#[test]
fn a_client_killed_mid_sync_loses_nothing_recorded_on_the_device() {
    let (seed, mut rng) = seeded_rng("client kills");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let town = Township::new();
    // Small pull messages: a pull is many transactions on the device.
    let feed = FeedOptions {
        message_bytes: 2 << 10,
        ..FeedOptions::default()
    };
    let server = rt.block_on(TestServer::start_with(&town, "127.0.0.1:0", feed));
    // zhang's records give the client something to pull while it pushes.
    let zhang = rt.block_on(Device::enrol(&town, server.addr, "zhang"));
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("li.db");
    massline(
        &store,
        &[
            "enroll",
            &town.code("li", server.addr),
            "--name",
            "李委员的电脑",
        ],
    );

    let mut made = 0;
    let mut mine = Vec::new();
    let zhang_made = |n: usize, round: usize| -> i64 {
        for i in 0..n {
            zhang
                .client
                .create(
                    study("zhang", 30, &format!("第{round}轮 {i} 书记自学")),
                    None,
                )
                .unwrap();
        }
        rt.block_on(zhang.client.sync()).unwrap();
        n as i64
    };

    // Besides what is recorded through the client, the device holds a good
    // batch of study recorded with the core itself, so that a sync is long
    // enough to be killed in the middle of its work.
    let bulk = |made: &mut i64, round: usize| {
        let client = massline_core::Client::open(&store).unwrap();
        for i in 0..30 {
            client
                .create(study("li", 20, &format!("第{round}轮 批量 {i}")), None)
                .unwrap();
            *made += 1;
        }
    };
    made += record_some(&store, &mut rng, 0, &mut mine);
    bulk(&mut made, 0);
    made += zhang_made(30, 0);
    // How long an unkilled sync takes, from starting the process to its exit.
    let started = Instant::now();
    massline(&store, &["sync"]);
    let mut span = started.elapsed().as_micros() as u64 * 3 / 4;
    // Kills fall after the client has started, at any moment of its sync.
    let started = Instant::now();
    massline(&store, &["status"]);
    let startup = started.elapsed().as_micros() as u64;

    let (mut round, mut running, mut part_done) = (0, 0, 0);
    while running < KILLS {
        round += 1;
        assert!(
            round <= 4 * KILLS,
            "seed {seed}: too few kills fell in a sync"
        );
        made += record_some(&store, &mut rng, round, &mut mine);
        bulk(&mut made, round);
        let theirs = zhang_made(rng.random_range(0..30), round);
        made += theirs;
        let before = listed(&store);
        let (_, outbox_before) = check_store(&store);

        let mut child = Command::new(cli_binary())
            .arg("--store")
            .arg(&store)
            .arg("sync")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let moment = Duration::from_micros(rng.random_range(startup.min(span / 2)..span));
        std::thread::sleep(moment);
        // The window follows how long syncs take now, so that most kills
        // find the client still at work.
        if child.try_wait().unwrap().is_none() {
            running += 1;
            span = span * 21 / 20;
        } else {
            span = (span * 9 / 10).max(startup * 2);
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let at = format!("seed {seed}, round {round}, killed after {moment:?}");
        let (integrity, outbox_after) = check_store(&store);
        assert_eq!(integrity, "ok", "{at}");
        let after = listed(&store);
        for (id, record) in &before {
            assert_eq!(
                after.get(id),
                Some(record),
                "{at}: record {id} lost or changed"
            );
        }
        for hash in outbox_before.difference(&outbox_after) {
            assert!(
                town.has_change(hash),
                "{at}: change {hash} left the outbox but the server does not have it"
            );
        }
        let pulled = after.len() - before.len();
        let sent = outbox_before.len() - outbox_after.len();
        if (pulled > 0 || sent > 0) && (pulled < theirs as usize || !outbox_after.is_empty()) {
            part_done += 1;
        }
        if round % 10 == 0 {
            massline(&store, &["sync"]);
            assert!(
                check_store(&store).1.is_empty(),
                "{at}: unsent after a sync"
            );
            assert_eq!(town.stored_changes(), made, "{at}: lost or doubled");
        }
    }
    eprintln!("{round} kills, {running} of a running client, {part_done} with the sync part done");

    massline(&store, &["sync"]);
    let (integrity, outbox) = check_store(&store);
    assert_eq!(integrity, "ok");
    assert!(outbox.is_empty(), "seed {seed}: unsent after the last sync");
    assert_eq!(town.stored_changes(), made, "seed {seed}: lost or doubled");
    let on_server: BTreeMap<String, Value> = town.server_records().into_iter().collect();
    assert_eq!(listed(&store), on_server, "seed {seed}");
    rt.block_on(server.stop());
}
