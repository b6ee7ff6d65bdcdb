//! A link that drops every connection after a few kilobytes still carries a
//! village's records both ways: each connection cut after a uniformly random
//! 1 to 4 kB (both directions together, handshakes included), a cadre's
//! device uploads 500 records and the secretary's device downloads them.
//! Messages shrink after each cut (down to one change) and grow back after
//! answered ones, and the sizes carry from one sync to the next, so every
//! few connections move something: nothing is lost, nothing is stored or
//! taken twice, within a bounded number of attempts. With messages of a fixed
//! size the first message never gets through and no attempt ends.
//!
//! The cut offsets come from a seeded generator; a failure prints the seed,
//! and `MASSLINE_TEST_SEED=<seed>` replays it.

use linksim::{LinkConfig, LinkSim};
use massline_tests::{Device, TestServer, Township, opinion, seeded_rng};
use rand::Rng;

/// Records the cadre makes offline before the link comes back.
const RECORDS: usize = 500;

/// Bytes a connection carries before it is cut: from 1 kB up to 4 kB.
const CUT_BYTES: std::ops::RangeInclusive<u64> = 1 << 10..=4 << 10;

/// Sync attempts each device may take: far more than the few hundred the
/// adapting sizes need, far fewer than "never".
const MOST_ATTEMPTS: usize = 4000;

/// Syncs `device` until one succeeds; returns the attempts it took.
async fn sync_through_cuts(device: &Device, seed: u64, who: &str) -> usize {
    for attempt in 1..=MOST_ATTEMPTS {
        let r = device.client.sync().await;
        if let Ok(report) = r {
            assert_eq!(report.refused, 0, "seed {seed}: {who}'s changes refused");
            return attempt;
        }
    }
    panic!("seed {seed}: {who} made no whole sync in {MOST_ATTEMPTS} attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_get_through_links_cut_every_few_kilobytes() {
    let (seed, mut rng) = seeded_rng("links cut every few kilobytes");
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let link = LinkSim::start(server.addr, LinkConfig::default())
        .await
        .unwrap();
    let li = Device::enrol_through(&town, server.addr, link.addr(), "li").await;
    let zhang = Device::enrol_through(&town, server.addr, link.addr(), "zhang").await;
    // Each with a household's own words (random here), so the records do
    // not compress to nothing and the download needs many connections too.
    for i in 0..RECORDS {
        let words: String = (0..48)
            .map(|_| char::from_digit(rng.random_range(0..36), 36).unwrap())
            .collect();
        li.client
            .create(opinion(&format!("第{i}条：村务公开不及时 {words}")), None)
            .unwrap();
    }
    let cuts: Vec<u64> = (0..2 * MOST_ATTEMPTS)
        .map(|_| rng.random_range(CUT_BYTES))
        .collect();
    link.configure(|c| c.cuts.extend(cuts.into_iter().map(Some)));

    let up = sync_through_cuts(&li, seed, "li").await;
    assert!(li.outbox().is_empty(), "seed {seed}: li's outbox not empty");
    let down = sync_through_cuts(&zhang, seed, "zhang").await;
    let cut = link.stats().cuts.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!("{RECORDS} records up in {up} attempts, down in {down}; {cut} connections cut");
    assert!(cut > 10, "seed {seed}: the link was hardly cut ({cut})");

    // Every record once on the server, and on the secretary's device.
    let stored: i64 = town
        .server_db()
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        stored, RECORDS as i64,
        "seed {seed}: lost or doubled on the server"
    );
    assert_eq!(town.server_records().len(), RECORDS, "seed {seed}");
    assert_eq!(zhang.records(), town.server_records(), "seed {seed}");
    assert_eq!(li.records(), town.server_records(), "seed {seed}");
    server.stop().await;
}
