//! `train-dictionary`: the zstd dictionary of packed changes
//! (`model/dict/changes-v*.zdict`), trained on a workload's changes as
//! they travel.
//!
//! Each village of the workload is recorded offline on its secretary's
//! phone, as `run` sets it up (phones enrolled with a server started for
//! the purpose); the phone's outbox then holds the village's changes in the
//! order a push sends them. Each change, packed as it is in its call's
//! stream (dependencies sent before as back-references), is one sample.
//! The command prints what the dictionary saves on calls of a few sizes
//! (on the changes it was trained on: `run` measures it on a sync).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use massline_core::packing::Packer;

use crate::scenarios::template_for;
use crate::workload;

/// Options of `train-dictionary`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// The workload whose changes the dictionary is trained on.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/workload-1-village.json"))]
    pub workload: PathBuf,
    /// Where to write the dictionary.
    #[arg(long)]
    pub out: PathBuf,
    /// Most bytes of the dictionary.
    #[arg(long, default_value_t = 16 << 10)]
    pub max_bytes: usize,
}

/// The changes of each phone's outbox, oldest first.
fn outboxes(phones: &[PathBuf]) -> anyhow::Result<Vec<Vec<Vec<u8>>>> {
    phones
        .iter()
        .map(|store| {
            let db = rusqlite::Connection::open(store)?;
            let mut stmt = db.prepare("SELECT bytes FROM outbox ORDER BY id")?;
            let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .collect()
}

/// Each change packed as its call's stream carries it.
fn samples(changes: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut packer = Packer::new(1);
    changes
        .iter()
        .map(|c| {
            let before = packer.pending_bytes();
            packer.push_change(c);
            packer.pending()[before..].to_vec()
        })
        .collect()
}

/// Compressed bytes of one message carrying the packed `samples`, at
/// `level`, with the dictionary `dict` when given.
fn message_bytes(samples: &[Vec<u8>], level: i32, dict: Option<&[u8]>) -> anyhow::Result<usize> {
    let plain = samples.concat();
    let mut z = match dict {
        Some(d) => zstd::bulk::Compressor::with_dictionary(level, d)?,
        None => zstd::bulk::Compressor::new(level)?,
    };
    Ok(z.compress(&plain)?.len())
}

/// Trains the dictionary and writes it.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let villages = workload::load(&args.workload)?;
    eprintln!("recording {} villages on their phones", villages.len());
    let t = template_for(&villages)?;
    let outboxes = outboxes(&t.phones)?;
    let all: Vec<Vec<u8>> = outboxes.iter().flat_map(|o| samples(o)).collect();
    eprintln!(
        "training on {} packed changes, {} bytes",
        all.len(),
        all.iter().map(Vec::len).sum::<usize>()
    );
    let dict = zstd::dict::from_samples(&all, args.max_bytes).context("training")?;
    std::fs::write(&args.out, &dict)?;
    println!("{} bytes written to {}", dict.len(), args.out.display());
    // What it saves on calls of a few sizes (the last changes of the
    // first village, as one message).
    let first = samples(outboxes.first().context("no village")?);
    println!(
        "{:<12} {:>6} {:>10} {:>10}",
        "call", "level", "without", "with"
    );
    for n in [1, 13, 100, first.len()] {
        let part = &first[first.len() - n.min(first.len())..];
        for level in [3, 19] {
            println!(
                "{:<12} {:>6} {:>10} {:>10}",
                format!("{n} changes"),
                level,
                message_bytes(part, level, None)?,
                message_bytes(part, level, Some(&dict))?
            );
        }
    }
    Ok(())
}
