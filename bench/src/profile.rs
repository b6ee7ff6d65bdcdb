//! The S1 and S4 paths without the network, step by step, to see where time
//! goes: packing the outbox, the server taking changes in, recording answers,
//! the server answering a fresh pull, and a fresh phone applying it.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use massline_core::Client;
use massline_core::packing::{Dictionary, Unpacker};
use massline_core::protocol::{PullBatch, PullRequest};
use massline_core::store::Db;
use massline_core::sync::engine::{self, PullDecoder, PullSession, SyncOptions};
use massline_core::sync::sizes::Adaptive;
use massline_server::feed::{self, FeedOptions};
use massline_server::{ingest, registry};

use crate::scenarios::template_for;
use crate::server::copy_tree;
use crate::workload;

/// Options of `profile`.
#[derive(Args, Debug)]
pub struct ProfileArgs {
    /// The one-village workload.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/workload-1-village.json"))]
    pub workload: std::path::PathBuf,
    /// zstd level of pushed changes.
    #[arg(long, default_value_t = SyncOptions::default().compression_level)]
    pub level: i32,
    /// Keep the set-up township here and reuse it on later runs (each run
    /// works on a copy), so repeated runs skip recording the village.
    #[arg(long)]
    pub keep: Option<std::path::PathBuf>,
    /// zstd level of pull answers.
    #[arg(long, default_value_t = FeedOptions::default().compression_level)]
    pub feed_level: i32,
    /// zstd dictionary of the push and the pull (0: none).
    #[arg(long, default_value_t = SyncOptions::default().dictionary.number())]
    pub dictionary: u32,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// CPU time of this thread, ms: steadier than wall time on a shared machine.
fn cpu_ms() -> f64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(|t| t.tv_sec() as f64 * 1e3 + t.tv_nsec() as f64 / 1e6)
        .unwrap_or(0.0)
}

/// CPU time of this process (every thread), ms: what the intake's first
/// stage spends on the machine's cores is counted too.
fn process_cpu_ms() -> f64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .map(|t| t.tv_sec() as f64 * 1e3 + t.tv_nsec() as f64 / 1e6)
        .unwrap_or(0.0)
}

/// Runs the steps and prints their times.
pub fn run(args: ProfileArgs) -> anyhow::Result<()> {
    let village = workload::load(&args.workload)?
        .into_iter()
        .next()
        .context("no village")?;
    let work = tempfile::tempdir()?;
    let (data, phone, second_store) = match &args.keep {
        Some(dir) => {
            let t = dir.join("template");
            if !t.exists() {
                let made = template_for(std::slice::from_ref(&village))?;
                copy_tree(&made.data, &t.join("server"))?;
                copy_tree(&made.phones[0], &t.join("phone.db"))?;
                copy_tree(&made.second, &t.join("second.db"))?;
            }
            copy_tree(&t, work.path())?;
            (
                work.path().join("server"),
                work.path().join("phone.db"),
                work.path().join("second.db"),
            )
        }
        None => {
            let made = template_for(std::slice::from_ref(&village))?;
            copy_tree(&made.data, &work.path().join("server"))?;
            copy_tree(&made.phones[0], &work.path().join("phone.db"))?;
            copy_tree(&made.second, &work.path().join("second.db"))?;
            (
                work.path().join("server"),
                work.path().join("phone.db"),
                work.path().join("second.db"),
            )
        }
    };
    let phone_db = Arc::new(Db::open(&phone, None)?);
    let me = Client::open(&phone)?.identity()?.context("not enrolled")?;
    let server_db = massline_server::db::Db::open(&data)?;
    let device = server_db
        .read(|tx| registry::authenticate(tx, &me.device_token))?
        .context("device unknown")?;

    let opts = SyncOptions {
        compression_level: args.level,
        dictionary: Dictionary::from_number(args.dictionary)?,
        ..SyncOptions::default()
    };
    let start = Instant::now();
    let (frames, mut acks) = engine::start_push(
        &phone_db,
        &opts,
        Arc::new(Adaptive::new(None, opts.push_message_bytes)),
    )?
    .context("nothing to push")?;
    let read_ms = ms(start);
    let start = Instant::now();
    let frames: Vec<_> = frames.collect();
    let pack_ms = ms(start);
    let bytes: usize = frames.iter().map(|f| f.frame.len()).sum();
    println!(
        "phone: read outbox {read_ms:.1} ms, pack+compress {pack_ms:.1} ms → {bytes} B in {} messages",
        frames.len()
    );

    let mut unpacker = Unpacker::with_dictionary(opts.dictionary);
    let (mut unpack_ms, mut prepare_ms, mut ingest_ms, mut record_ms) = (0.0, 0.0, 0.0, 0.0);
    let (mut prepare_cpu_ms, mut ingest_cpu_ms) = (0.0, 0.0);
    let cpu = cpu_ms();
    for f in frames {
        let s = Instant::now();
        let entries = unpacker.unpack(&f.frame, f.changes)?;
        unpack_ms += ms(s);
        let (s, c) = (Instant::now(), process_cpu_ms());
        let prepared = ingest::prepare(entries);
        prepare_ms += ms(s);
        prepare_cpu_ms += process_cpu_ms() - c;
        let (s, c) = (Instant::now(), process_cpu_ms());
        let ack = ingest::ingest_prepared(&server_db, &device, prepared, 1_700_000_000)?;
        ingest_ms += ms(s);
        ingest_cpu_ms += process_cpu_ms() - c;
        anyhow::ensure!(ack.refused.is_empty(), "refused: {:?}", ack.refused.first());
        let s = Instant::now();
        acks.record(&phone_db, ack)?;
        record_ms += ms(s);
    }
    println!(
        "server: unpack {unpack_ms:.1} ms, prepare {prepare_ms:.1} ms (cpu of all threads \
         {prepare_cpu_ms:.1} ms), check+store {ingest_ms:.1} ms (cpu {ingest_cpu_ms:.1} ms); \
         phone: record answers {record_ms:.1} ms (cpu of this thread {:.1} ms in all)",
        cpu_ms() - cpu
    );

    let second = Client::open(&second_store)?
        .identity()?
        .context("not enrolled")?;
    let reader = server_db
        .read(|tx| registry::authenticate(tx, &second.device_token))?
        .context("device unknown")?;
    let b_db = Db::open(&second_store, None)?;
    let req = PullRequest {
        dictionary: args.dictionary,
        ..engine::pull_request(&b_db)?
    };
    let fo = FeedOptions {
        compression_level: args.feed_level,
        ..FeedOptions::default()
    };
    let start = Instant::now();
    let mut batches: Vec<PullBatch> = Vec::new();
    feed::answer(&server_db, &reader, &req, &fo, |b| {
        batches.push(b);
        true
    })?;
    let feed_ms = ms(start);
    let down: usize = batches.iter().map(|b| b.frame.len()).sum();
    println!(
        "server: answer fresh pull {feed_ms:.1} ms → {down} B in {} messages",
        batches.len()
    );
    let start = Instant::now();
    let cpu = cpu_ms();
    let (mut decoder, mut session) = (PullDecoder::default(), PullSession::new());
    let (mut decoding, mut committing) = (0.0, 0.0);
    for b in batches {
        let step = Instant::now();
        let decoded = decoder.decode(b)?;
        decoding += ms(step);
        let step = Instant::now();
        session.commit(&b_db, decoded, 1_700_000_000)?;
        committing += ms(step);
    }
    println!(
        "phone: apply pull {:.1} ms (decode {decoding:.1} ms, commit {committing:.1} ms), \
         cpu of this thread {:.1} ms ({} changes)",
        ms(start),
        cpu_ms() - cpu,
        session.received
    );
    Ok(())
}
