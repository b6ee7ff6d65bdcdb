//! Syncs cut at more than a thousand random byte offsets, each offset
//! different, on the way up and on the way down, lose nothing and store
//! nothing twice: after each cut the next sync finishes the work, the outbox
//! empties, the server and the device each hold every change exactly once,
//! and the device ends with the server's records.
//!
//! The offsets come from a seeded generator; a failure prints the seed, and
//! `MASSLINE_TEST_SEED=<seed>` replays it.

use std::collections::BTreeSet;

use linksim::{LinkConfig, LinkSim};
use massline_core::{DocId, Record};
use massline_server::feed::FeedOptions;
use massline_tests::{Device, TestServer, Township, opinion, seeded_rng, study};
use rand::Rng;
use rand::rngs::StdRng;

/// Cut syncs in each direction (each at an offset not used before in it).
const CUTS: usize = 520;

/// Records and changes on the device's store: (documents, changes).
fn device_counts(device: &Device) -> (i64, i64) {
    device
        .store_db()
        .query_row(
            "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM changes)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

/// Records and changes on the server: (documents, changes).
fn server_counts(town: &Township) -> (i64, i64) {
    town.server_db()
        .query_row(
            "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM changes)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

/// A new offset below `below`, not in `used`.
fn fresh_offset(rng: &mut StdRng, below: u64, used: &mut BTreeSet<u64>) -> u64 {
    loop {
        let offset = rng.random_range(0..below);
        if used.insert(offset) {
            return offset;
        }
    }
}

/// One to `most` changes on `device` of cadre `who`: new opinions and study
/// entries, and edits of records it made before (`mine`). Returns how many
/// changes it made.
fn some_changes(
    device: &Device,
    who: &str,
    most: u32,
    rng: &mut StdRng,
    mine: &mut Vec<DocId>,
    tag: &str,
) -> i64 {
    let n: u32 = rng.random_range(1..=most);
    for i in 0..n {
        match (rng.random_range(0..3), mine.is_empty()) {
            (0, _) => mine.push(
                device
                    .client
                    .create(opinion(&format!("{tag}-{i}：村务公开不及时")), None)
                    .unwrap(),
            ),
            (1, _) | (_, true) => mine.push(
                device
                    .client
                    .create(study(who, 30 + i, &format!("{tag}-{i} 群众路线读本")), None)
                    .unwrap(),
            ),
            _ => {
                let id = mine[rng.random_range(0..mine.len())];
                device
                    .client
                    .edit(&id, |r| {
                        match r {
                            Record::Opinion(o) => {
                                o.answer = Some(format!("{tag}-{i} 已答复"));
                            }
                            Record::StudyEntry(s) => s.minutes = s.minutes % 600 + 1,
                            _ => {}
                        }
                        Ok(())
                    })
                    .unwrap();
            }
        }
    }
    i64::from(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_cut_at_random_offsets_lose_nothing_and_store_nothing_twice() {
    let (seed, mut rng) = seeded_rng("push cuts");
    let town = Township::new();
    let server = TestServer::start(&town).await;
    let link = LinkSim::start(server.addr, LinkConfig::default())
        .await
        .unwrap();
    let li = Device::enrol_through(&town, server.addr, link.addr(), "li").await;
    let mut mine = Vec::new();

    // What an uncut sync of a few changes costs on the link; cuts fall over
    // all of it and a little past it. The probe is a round of the rounds'
    // mean size (they make 1 to 3 changes), whatever the seed.
    for i in 0..2 {
        let topic = format!("probe-{i} 群众路线读本");
        mine.push(li.client.create(study("li", 30 + i, &topic), None).unwrap());
    }
    let mut made = 2;
    let probe = li.client.sync().await.unwrap();
    let round_bytes = probe.link_sent + probe.link_received;

    let mut used = BTreeSet::new();
    let mut cut = 0;
    for round in 0..CUTS {
        made += some_changes(&li, "li", 3, &mut rng, &mut mine, &format!("r{round}"));
        let offset = fresh_offset(&mut rng, round_bytes * 5 / 4, &mut used);
        link.configure(|c| c.cuts.push_back(Some(offset)));
        if li.client.sync().await.is_err() {
            cut += 1;
        }
        let resumed = li.client.sync().await.unwrap();
        assert_eq!(resumed.refused, 0, "seed {seed}, cut at {offset}");
        assert!(
            li.outbox().is_empty(),
            "seed {seed}, cut at {offset}: outbox not empty after resuming"
        );
        assert_eq!(
            server_counts(&town).1,
            made,
            "seed {seed}, cut at {offset}: the server lost or doubled a change"
        );
    }
    assert_eq!(used.len(), CUTS);
    eprintln!("{cut} pushes cut");
    assert!(
        cut >= CUTS * 2 / 3,
        "seed {seed}: only {cut} of {CUTS} syncs were cut"
    );
    assert_eq!(device_counts(&li), server_counts(&town), "seed {seed}");
    assert_eq!(town.server_records(), li.records(), "seed {seed}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_cut_at_random_offsets_lose_nothing_and_take_nothing_twice() {
    let (seed, mut rng) = seeded_rng("pull cuts");
    let town = Township::new();
    // A message per change, so that cuts fall between messages as well as in
    // them, and a cut pull may have taken some of the changes.
    let feed = FeedOptions {
        message_bytes: 1,
        ..FeedOptions::default()
    };
    let server = TestServer::start_with(&town, "127.0.0.1:0", feed).await;
    let link = LinkSim::start(server.addr, LinkConfig::default())
        .await
        .unwrap();
    let zhang = Device::enrol(&town, server.addr, "zhang").await;
    let li = Device::enrol_through(&town, server.addr, link.addr(), "li").await;
    let mut theirs = Vec::new();

    // The probe is a round of the rounds' mean size (they make 1 to 5
    // changes), so that most offsets fall inside a sync whatever the seed.
    for i in 0..3 {
        let topic = format!("probe-{i} 群众路线读本");
        theirs.push(
            zhang
                .client
                .create(study("zhang", 30 + i, &topic), None)
                .unwrap(),
        );
    }
    zhang.client.sync().await.unwrap();
    let probe = li.client.sync().await.unwrap();
    assert_eq!(probe.pulled, 3);
    let round_bytes = probe.link_sent + probe.link_received;

    let mut used = BTreeSet::new();
    let mut cut = 0;
    let mut partial = 0;
    for round in 0..CUTS {
        let before = device_counts(&li).1;
        let n = some_changes(
            &zhang,
            "zhang",
            5,
            &mut rng,
            &mut theirs,
            &format!("r{round}"),
        );
        zhang.client.sync().await.unwrap();
        let offset = fresh_offset(&mut rng, round_bytes * 5 / 4, &mut used);
        link.configure(|c| c.cuts.push_back(Some(offset)));
        let taken_before_cut = if li.client.sync().await.is_err() {
            cut += 1;
            device_counts(&li).1 - before
        } else {
            n
        };
        if taken_before_cut > 0 && taken_before_cut < n {
            partial += 1;
        }
        let resumed = li.client.sync().await.unwrap();
        // What the cut sync took in is not taken again, and the rest comes.
        assert_eq!(
            resumed.pulled as i64,
            n - taken_before_cut,
            "seed {seed}, cut at {offset}"
        );
        assert_eq!(
            device_counts(&li),
            server_counts(&town),
            "seed {seed}, cut at {offset}: the device lost or doubled a change"
        );
        if round % 64 == 0 {
            assert_eq!(li.records(), town.server_records(), "seed {seed}");
        }
    }
    assert_eq!(used.len(), CUTS);
    assert!(
        cut >= CUTS * 2 / 3,
        "seed {seed}: only {cut} of {CUTS} syncs were cut"
    );
    eprintln!("{cut} pulls cut, {partial} after taking part of the changes");
    assert!(
        partial >= CUTS / 40,
        "seed {seed}: only {partial} cut pulls had taken part of the changes"
    );
    assert_eq!(li.records(), town.server_records(), "seed {seed}");
    assert_eq!(li.records(), zhang.records(), "seed {seed}");
    server.stop().await;
}
