//! Whatever a device pushes, the server's intake holds: real push calls made
//! from the shared workload's records (bench/data/workload-1-village.json,
//! replayed on a real phone of the village's secretary), then mutated (bits
//! flipped in a frame or inside a change, frames cut short, two frames
//! spliced, changes duplicated and reordered, messages swapped, counts
//! declared huge, frames of random bytes, a change's numbers, dependencies
//! or operations forged and the change encoded again), go to a real server over gRPC/TLS.
//! For every input nothing panics, the server answers, every refusal carries
//! a reason naming the record, the change or the message, an ordinary device
//! still syncs afterwards, and the process's peak memory stays under
//! [`MAX_PEAK_RSS_BYTES`].
//!
//! A few seconds by default; `PROPTEST_CASES=2000` runs longer, and
//! `MASSLINE_TEST_SEED` replays a run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use massline_core::packing::Packer;
use massline_proto::pb;
use massline_tests::forge::{self, Changes, Forgery, panics};
use massline_tests::{Device, TestServer, Township, problem, raw};
use proptest::prelude::*;

/// Most the test process (server, devices and test together) may ever hold:
/// several times what it peaks at (about 35 MiB), far below what one message
/// would cost if a count or size it declares were trusted (four billion
/// entries, a frame inflating past its bound).
const MAX_PEAK_RSS_BYTES: u64 = 256 << 20;

/// Cases run unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 48;

/// Changes per message of a real call, as a device batches them.
const CHANGES_PER_MESSAGE: usize = 6;

/// One way to spoil a real call.
#[derive(Clone, Debug)]
enum Mutation {
    /// The call as a device makes it.
    Honest,
    /// One bit of one message's frame flipped.
    FlipFrameBit { message: usize, bit: usize },
    /// One byte inside one change flipped before packing, its chunk's
    /// checksum made right again, so the change reaches Automerge's parser
    /// and the change limits.
    FlipChangeByte { change: usize, at: usize, xor: u8 },
    /// One message's frame cut to a prefix.
    Truncate { message: usize, keep: usize },
    /// The start of one message's frame joined to the end of another's.
    Splice {
        a: usize,
        b: usize,
        at_a: usize,
        at_b: usize,
    },
    /// Changes repeated and the order of all of them shuffled.
    DuplicateAndReorder { copies: Vec<usize>, seed: u64 },
    /// The messages of the call in another order.
    SwapMessages { a: usize, b: usize },
    /// One message declaring a huge number of changes.
    HugeCount { message: usize, count: u32 },
    /// One message's frame replaced by random bytes.
    RandomFrame { message: usize, bytes: Vec<u8> },
    /// One change written otherwise and encoded again as Automerge encodes
    /// it (its hash and checksum right), so that only the server's own
    /// checks of what a change may be stand between it and the record.
    Forge {
        change: usize,
        forgeries: Vec<Forgery>,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = 0usize..64;
    prop_oneof![
        1 => Just(Mutation::Honest),
        3 => (i.clone(), 0usize..1 << 16)
            .prop_map(|(message, bit)| Mutation::FlipFrameBit { message, bit }),
        4 => (0usize..256, 0usize..4096, 1u8..=255)
            .prop_map(|(change, at, xor)| Mutation::FlipChangeByte { change, at, xor }),
        2 => (i.clone(), 0usize..4096).prop_map(|(message, keep)| Mutation::Truncate { message, keep }),
        2 => (i.clone(), i.clone(), 0usize..4096, 0usize..4096)
            .prop_map(|(a, b, at_a, at_b)| Mutation::Splice { a, b, at_a, at_b }),
        2 => (prop::collection::vec(0usize..256, 1..8), any::<u64>())
            .prop_map(|(copies, seed)| Mutation::DuplicateAndReorder { copies, seed }),
        1 => (i.clone(), i.clone()).prop_map(|(a, b)| Mutation::SwapMessages { a, b }),
        2 => (i.clone(), prop_oneof![Just(u32::MAX), 1u32 << 16..u32::MAX])
            .prop_map(|(message, count)| Mutation::HugeCount { message, count }),
        1 => (i, prop::collection::vec(any::<u8>(), 0..512))
            .prop_map(|(message, bytes)| Mutation::RandomFrame { message, bytes }),
        4 => (0usize..256, prop::collection::vec(forge::forgery(), 1..4))
            .prop_map(|(change, forgeries)| Mutation::Forge { change, forgeries }),
    ]
}

/// The messages of one call holding `changes`, packed as a device packs them.
fn call_of(changes: &[Vec<u8>]) -> Vec<pb::PushRequest> {
    let mut packer = Packer::new(3);
    changes
        .chunks(CHANGES_PER_MESSAGE)
        .map(|c| raw::next_message(&mut packer, c))
        .collect()
}

/// `change` with the byte at `at` of its body changed by `xor`, its chunk
/// rewritten around the new body so its checksum holds.
fn flip_in_change(change: &[u8], at: usize, xor: u8) -> Vec<u8> {
    // Magic (4), checksum (4), type (1), then the body's length.
    let mut pos = 9;
    while change[pos] & 0x80 != 0 {
        pos += 1;
    }
    let mut body = change[pos + 1..].to_vec();
    let at = at % body.len();
    body[at] ^= xor;
    raw::chunk(change[8], &body)
}

/// The call `m` makes of the real changes.
fn apply(m: &Mutation, real: &Changes) -> Vec<pb::PushRequest> {
    let changes = &real.bytes[..];
    let honest = call_of(changes);
    let n = honest.len();
    let mut call = honest.clone();
    match m {
        Mutation::Honest => {}
        Mutation::FlipFrameBit { message, bit } => {
            let f = &mut call[message % n].frame;
            let bit = bit % (f.len() * 8);
            f[bit / 8] ^= 1 << (bit % 8);
        }
        Mutation::FlipChangeByte { change, at, xor } => {
            let mut changes = changes.to_vec();
            let c = change % changes.len();
            changes[c] = flip_in_change(&changes[c], *at, *xor);
            call = call_of(&changes);
        }
        Mutation::Truncate { message, keep } => {
            let f = &mut call[message % n].frame;
            f.truncate(keep % f.len());
        }
        Mutation::Splice { a, b, at_a, at_b } => {
            let (fa, fb) = (&honest[a % n].frame, &honest[b % n].frame);
            let mut f = fa[..at_a % fa.len()].to_vec();
            f.extend_from_slice(&fb[at_b % fb.len()..]);
            call[a % n].frame = f;
        }
        Mutation::DuplicateAndReorder { copies, seed } => {
            use rand::seq::SliceRandom;
            let mut changes = changes.to_vec();
            for c in copies {
                changes.push(changes[c % changes.len()].clone());
            }
            let mut rng: rand::rngs::StdRng = rand::SeedableRng::seed_from_u64(*seed);
            changes.shuffle(&mut rng);
            call = call_of(&changes);
        }
        Mutation::SwapMessages { a, b } => call.swap(a % n, b % n),
        Mutation::HugeCount { message, count } => call[message % n].changes = *count,
        Mutation::RandomFrame { message, bytes } => call[message % n].frame = bytes.clone(),
        Mutation::Forge { change, forgeries } => {
            let mut changes = changes.to_vec();
            let c = change % changes.len();
            changes[c] = real.forge(c, forgeries);
            call = call_of(&changes);
        }
    }
    call
}

/// The process's peak resident memory (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in kB");
    kb << 10
}

/// Every refusal of an answered call carries a reason naming the record or
/// the change; a call refused as a whole, one naming what was wrong. An
/// honest call is accepted whole, unless an earlier mutated call got
/// changes stored (`mutants_stored`: a flipped byte in a change's time or
/// message leaves a valid change, which then holds the honest one's place
/// in its actor's sequence): then it is only answered.
fn check_answer(
    m: &Mutation,
    result: &Result<Vec<pb::PushResponse>, tonic::Status>,
    mutants_stored: bool,
) -> Outcome {
    match result {
        Ok(answers) => {
            for r in answers.iter().flat_map(|a| &a.refused) {
                assert!(
                    r.reason.contains("record ") || r.reason.contains("change "),
                    "{m:?}: refusal {r:?} names no record or change"
                );
            }
        }
        Err(status) => assert!(
            !status.message().trim().is_empty(),
            "{m:?}: call refused without a reason: {status:?}"
        ),
    }
    if matches!(m, Mutation::Honest) {
        let answers = result.as_ref().expect("an honest call is answered");
        if !mutants_stored {
            assert!(answers.iter().all(|a| a.refused.is_empty()), "{answers:?}");
        }
    }
    match result {
        Err(_) => Outcome::CallRefused,
        Ok(a) if a.iter().any(|a| !a.refused.is_empty()) => Outcome::ChangesRefused,
        Ok(_) => Outcome::Accepted,
    }
}

/// How the server answered a call, tallied to show where the inputs went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Outcome {
    /// Every change of every message accepted.
    Accepted,
    /// Some changes refused one by one.
    ChangesRefused,
    /// The call refused as a whole.
    CallRefused,
}

#[test]
fn mutated_pushes_leave_the_server_serving() {
    panics::count();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let town = Township::new();
    let server = rt.block_on(TestServer::start(&town));
    let replayed = rt.block_on(forge::replayed_village(&town, &server));
    let (phone, changes) = (replayed.phone, Changes::new(replayed.changes));
    assert!(changes.bytes.len() > 20, "{} changes", changes.bytes.len());
    let li = rt.block_on(Device::enrol(&town, server.addr, "li"));
    let (channel, token) = rt.block_on(raw::channel_of(&phone));

    let mut runner = forge::runner("mutated_pushes_leave_the_server_serving", DEFAULT_CASES);
    let serial = AtomicUsize::new(0);
    let mutants_stored = std::sync::atomic::AtomicBool::new(false);
    let outcomes = std::sync::Mutex::new(HashMap::<Outcome, usize>::new());
    let result = runner.run(&mutation(), |m| {
        // A panic of the case before (a failed assertion, while shrinking)
        // is not this one's.
        panics::take();
        let call = apply(&m, &changes);
        let answer = rt.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(20),
                raw::push(channel.clone(), &token, call),
            )
            .await
            .expect("the server answers a push within 20 s")
        });
        assert_eq!(panics::take(), 0, "{m:?}: a panic");
        let outcome = check_answer(&m, &answer, mutants_stored.load(Ordering::SeqCst));
        if !matches!(m, Mutation::Honest) && outcome != Outcome::CallRefused {
            mutants_stored.store(true, Ordering::SeqCst);
        }
        *outcomes.lock().unwrap().entry(outcome).or_default() += 1;
        let n = serial.fetch_add(1, Ordering::Relaxed);
        rt.block_on(li.still_syncs(problem(&format!("村道坑洼 {n}"))));
        let peak = peak_rss();
        assert!(
            peak < MAX_PEAK_RSS_BYTES,
            "{m:?}: peak memory {} MiB",
            peak >> 20
        );
        Ok(())
    });
    eprintln!(
        "{} changes from the workload; calls answered: {:?}; peak memory {} MiB",
        changes.bytes.len(),
        outcomes.lock().unwrap(),
        peak_rss() >> 20
    );
    result.unwrap();
    rt.block_on(server.stop());
}
