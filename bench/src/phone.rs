//! One phone connection in its own process: optionally apply the incremental
//! batch offline, then sync once, and print what it cost as JSON.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use massline_core::sync::engine::SyncOptions;
use massline_core::{Client, DocId};
use serde::{Deserialize, Serialize};

use crate::workload;

/// A phone's run.
#[derive(Args, Debug)]
pub struct PhoneArgs {
    /// The phone's store.
    #[arg(long)]
    pub store: PathBuf,
    /// Apply the incremental batch of this workload file before syncing (S3).
    #[arg(long)]
    pub incremental: Option<PathBuf>,
    /// The village whose incremental batch to apply.
    #[arg(long, default_value = "v00")]
    pub village: String,
    /// zstd level for pushed changes.
    #[arg(long)]
    pub level: Option<i32>,
}

/// What one phone connection did and cost.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PhoneResult {
    /// Sync wall time from starting to connect until everything is durable.
    pub millis: u64,
    /// Changes stored by the server.
    pub pushed: u64,
    /// Changes taken in from the server.
    pub pulled: u64,
    /// Changes refused.
    pub refused: u64,
    /// gRPC calls.
    pub calls: u64,
    /// gRPC payload bytes up (messages after compression, with framing).
    pub payload_up: u64,
    /// gRPC payload bytes down.
    pub payload_down: u64,
    /// TCP bytes up (TLS and HTTP/2 included).
    pub link_up: u64,
    /// TCP bytes down.
    pub link_down: u64,
    /// Peak RSS of the phone process, bytes.
    pub max_rss: u64,
}

/// Where the map from workload item ids to record ids is kept for a store.
pub fn ids_path(store: &std::path::Path) -> PathBuf {
    store.with_extension("ids.json")
}

/// Runs the phone.
pub fn run(args: PhoneArgs) -> anyhow::Result<()> {
    let mut client = Client::open(&args.store)?;
    if let Some(level) = args.level {
        client.set_sync_options(SyncOptions {
            compression_level: level,
            ..SyncOptions::default()
        });
    }
    if let Some(path) = &args.incremental {
        let village = workload::load(path)?
            .into_iter()
            .find(|v| v.id == args.village)
            .context("no such village in the workload")?;
        let mut ids: HashMap<String, DocId> =
            serde_json::from_slice(&std::fs::read(ids_path(&args.store))?)?;
        let me = client.identity()?.context("not enrolled")?.principal.person;
        workload::replay(&client, &me, &village.incremental, &mut ids)?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let r = rt.block_on(client.sync())?;
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)?;
    let out = PhoneResult {
        millis: r.millis,
        pushed: r.pushed,
        pulled: r.pulled,
        refused: r.refused,
        calls: r.calls,
        payload_up: r.payload_sent,
        payload_down: r.payload_received,
        link_up: r.link_sent,
        link_down: r.link_received,
        max_rss: usage.max_rss() as u64 * 1024,
    };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
