//! One phone connection in its own process: optionally apply the incremental
//! batch offline, then sync once, and print what it cost as JSON.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use massline_core::packing::Dictionary;
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
    /// The zstd dictionary to push with and ask for (0: none; default:
    /// the client's newest).
    #[arg(long)]
    pub dictionary: Option<u32>,
    /// Apply only the first this many items of the incremental batch.
    #[arg(long)]
    pub items: Option<usize>,
    /// Keep calling sync after a failed one (a cut link) until one succeeds
    /// with the outbox empty; the time then runs from the first attempt.
    #[arg(long)]
    pub until_synced: bool,
    /// Give up after this many attempts (with --until-synced).
    #[arg(long, default_value_t = 100)]
    pub max_attempts: u64,
    /// An attempt that takes longer than this many seconds counts as failed.
    #[arg(long, default_value_t = 300)]
    pub attempt_timeout_s: u64,
    /// Keep the fast-link zstd level even when connecting is slow.
    #[arg(long)]
    pub fixed_level: bool,
    /// Uncompressed KiB of changes per push message (default: the client's).
    #[arg(long)]
    pub push_message_kib: Option<usize>,
    /// Compressed bytes of push messages that may go unanswered, on any
    /// link (default: the client's).
    #[arg(long)]
    pub push_in_flight_bytes: Option<usize>,
    /// Sync once, untimed, before the timed sync, as a phone whose app kept
    /// running would have: the timed one then resumes the TLS session.
    #[arg(long)]
    pub warm: bool,
    /// The server's process, on this machine: the CPU time it spends while
    /// this phone syncs is reported beside the phone's own.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

/// What one phone connection did and cost.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PhoneResult {
    /// Sync wall time from starting to connect until everything is durable,
    /// in milliseconds (fractional: the peer's are too).
    pub millis: f64,
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
    /// CPU time (user and system, all threads) the phone process spent in
    /// the sync, milliseconds.
    #[serde(default)]
    pub cpu_ms: f64,
    /// CPU time the server (`--server-pid`) spent meanwhile, milliseconds.
    #[serde(default)]
    pub server_cpu_ms: f64,
    /// How the last attempt's TLS handshake went (`full`, `resumed`,
    /// `early-data`).
    #[serde(default)]
    pub handshake: String,
    /// Sync calls made (more than one when a cut link made some fail).
    #[serde(default)]
    pub attempts: u64,
    /// Why the failed attempts failed.
    #[serde(default)]
    pub errors: Vec<String>,
    /// Each attempt (with --until-synced): when it began and how long it
    /// took (ms since the first began), and the changes it got stored.
    #[serde(default)]
    pub timeline: Vec<Attempt>,
}

/// One sync attempt of a phone that keeps trying.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Attempt {
    /// When it began, ms after the first attempt began.
    pub at_ms: u64,
    /// How long it took, ms.
    pub ms: u64,
    /// Changes that left the outbox during it.
    pub pushed: u64,
}

/// Where the map from workload item ids to record ids is kept for a store.
pub fn ids_path(store: &std::path::Path) -> PathBuf {
    store.with_extension("ids.json")
}

/// Runs the phone.
pub fn run(args: PhoneArgs) -> anyhow::Result<()> {
    let mut client = crate::store::open(&args.store)?;
    let mut opts = SyncOptions::default();
    if let Some(level) = args.level {
        opts.compression_level = level;
    }
    if let Some(n) = args.dictionary {
        opts.dictionary = Dictionary::from_number(n)?;
    }
    if args.fixed_level {
        opts.slow_link_connect = std::time::Duration::MAX;
    }
    if let Some(kib) = args.push_message_kib {
        opts.push_message_bytes = kib << 10;
        opts.slow_link_push_message_bytes = kib << 10;
    }
    if let Some(bytes) = args.push_in_flight_bytes {
        opts.push_in_flight_bytes = bytes;
        opts.slow_link_push_in_flight_bytes = bytes;
    }
    client.set_sync_options(opts);
    if let Some(path) = &args.incremental {
        let village = workload::load(path)?
            .into_iter()
            .find(|v| v.id == args.village)
            .context("no such village in the workload")?;
        let mut ids: HashMap<String, DocId> =
            serde_json::from_slice(&std::fs::read(ids_path(&args.store))?)?;
        let me = client.identity()?.context("not enrolled")?.principal.person;
        let n = args
            .items
            .unwrap_or(usize::MAX)
            .min(village.incremental.len());
        workload::replay(&client, &me, &village.incremental[..n], &mut ids)?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if args.until_synced {
        return until_synced(&client, &rt, &args);
    }
    let server = || args.server_pid.map_or(0.0, crate::server::cpu_ms_of);
    let before = (cpu_ms()?, server());
    let r = rt.block_on(client.sync())?;
    // The runtime ends once the store work the sync left going beside it
    // (its answered changes leaving the outbox) is done: that CPU is the
    // sync's too.
    drop(rt);
    let (cpu_ms, server_cpu_ms) = (cpu_ms()? - before.0, server() - before.1);
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)?;
    let out = PhoneResult {
        millis: r.took.as_secs_f64() * 1e3,
        pushed: r.pushed,
        pulled: r.pulled,
        refused: r.refused,
        calls: r.calls,
        payload_up: r.payload_sent,
        payload_down: r.payload_received,
        link_up: r.link_sent,
        link_down: r.link_received,
        handshake: r.handshake.name().into(),
        max_rss: usage.max_rss() as u64 * 1024,
        cpu_ms,
        server_cpu_ms,
        attempts: 1,
        ..PhoneResult::default()
    };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

/// CPU time (user and system) of this process so far, milliseconds.
fn cpu_ms() -> anyhow::Result<f64> {
    use nix::sys::resource::{UsageWho, getrusage};
    let u = getrusage(UsageWho::RUSAGE_SELF)?;
    let ms = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 * 1e3 + t.tv_usec() as f64 / 1e3;
    Ok(ms(u.user_time()) + ms(u.system_time()))
}

/// Syncs until a sync succeeds with nothing left to push, as a phone on a bad
/// link does: each failed attempt (a cut) is followed at once by the next.
/// Payload counts are of the successful attempt; the link's own counts (in
/// the caller's proxy) cover them all.
fn until_synced(
    client: &Client,
    rt: &tokio::runtime::Runtime,
    args: &PhoneArgs,
) -> anyhow::Result<()> {
    if args.warm {
        for _ in 0..args.max_attempts {
            if rt.block_on(client.sync()).is_ok() {
                break;
            }
        }
        // A phone's syncs are minutes apart: by the next one, the last
        // connection has taken in the server's next ticket (a round trip
        // after its answers when the calls went as early data).
        std::thread::sleep(std::time::Duration::from_secs(3));
    }
    let unsent_before = client.status()?.unsent;
    let start = std::time::Instant::now();
    let mut out = PhoneResult::default();
    loop {
        out.attempts += 1;
        let (began, unsent) = (start.elapsed(), client.status()?.unsent);
        let attempt = rt.block_on(async {
            tokio::time::timeout(
                std::time::Duration::from_secs(args.attempt_timeout_s),
                client.sync(),
            )
            .await
        });
        out.timeline.push(Attempt {
            at_ms: began.as_millis() as u64,
            ms: (start.elapsed() - began).as_millis() as u64,
            pushed: unsent.saturating_sub(client.status()?.unsent),
        });
        match attempt {
            Ok(Ok(r)) if client.status()?.unsent == 0 => {
                out.pulled += r.pulled;
                out.refused = r.refused;
                out.calls += r.calls;
                out.payload_up = r.payload_sent;
                out.payload_down = r.payload_received;
                out.link_up = r.link_sent;
                out.link_down = r.link_received;
                out.handshake = r.handshake.name().into();
                break;
            }
            Ok(Ok(r)) => {
                out.pulled += r.pulled;
                out.errors.push("synced with changes left to push".into());
            }
            Ok(Err(e)) => out.errors.push(e.to_string()),
            Err(_) => out.errors.push("attempt timed out".into()),
        }
        if out.attempts >= args.max_attempts {
            anyhow::bail!(
                "not in sync after {} attempts: {:?}",
                out.attempts,
                out.errors
            );
        }
    }
    out.millis = start.elapsed().as_secs_f64() * 1e3;
    out.pushed = unsent_before.saturating_sub(client.status()?.unsent);
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)?;
    out.max_rss = usage.max_rss() as u64 * 1024;
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
