//! S1 and S2 over an emulated 2G link: 64 kbit/s each way, 600 ms round
//! trip, and (in the runs with cuts) connections dropped at random.
//!
//! The link is `linksim` in this process, listening on the port the phone was
//! enrolled with and forwarding to the server on another; the phone is a
//! child process and the server its own, as in `run`. The phone keeps calling
//! sync until one succeeds with its outbox empty; its time runs from the
//! first attempt to the end of the last, resumes included. Link bytes are
//! counted by the proxy, so they cover every attempt, TLS and HTTP/2 included.
//!
//! Cuts: each connection carries a random number of bytes (both directions
//! together) before it drops, drawn from an exponential distribution with
//! mean `--cut-every-kb`, i.e. the link fails at a constant rate per byte
//! carried. The draws come from a seeded generator (`--seed`, plus the run's
//! number), so a run is repeatable.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use linksim::{LinkConfig, LinkSim};
use serde_json::{Value, json};

use crate::phone::PhoneResult;
use crate::scenarios::{copy_store, median, phone, template_for};
use crate::server::{self, Server};
use crate::workload;

/// Options of `link2g`.
#[derive(Args, Debug)]
pub struct Link2gArgs {
    /// Runs per setting; medians are reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Bandwidth each way, kbit/s.
    #[arg(long, default_value_t = 64)]
    pub kbit: u64,
    /// Round trip added, ms (half each way; a new connection waits one).
    #[arg(long, default_value_t = 600)]
    pub rtt_ms: u64,
    /// Mean kB (1000 bytes, both directions together) a connection carries
    /// before it is cut, in the runs with cuts.
    #[arg(long, default_value_t = 50)]
    pub cut_every_kb: u64,
    /// Which runs: `both` (without cuts, then with), `off` or `on`.
    #[arg(long, default_value = "both")]
    pub cuts: String,
    /// Seed of the cut offsets; run k uses seed + k.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// The one-village workload.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/workload-1-village.json"))]
    pub workload: PathBuf,
    /// zstd level of pushed changes on a fast link (default: the client's).
    #[arg(long)]
    pub level: Option<i32>,
    /// Keep the fast-link level although connecting is slow (to see what
    /// the client's slow-link level buys).
    #[arg(long)]
    pub fixed_level: bool,
    /// Uncompressed KiB of changes per push message (default: the client's).
    #[arg(long)]
    pub push_message_kib: Option<usize>,
    /// Compressed bytes of push messages that may go unanswered (default:
    /// the client's).
    #[arg(long)]
    pub push_in_flight_bytes: Option<usize>,
    /// zstd dictionary of the phone's calls (0: none; default: the client's).
    #[arg(long)]
    pub dictionary: Option<u32>,
    /// Write all runs and medians here as JSON.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// SplitMix64: a small, seeded generator, enough for cut offsets.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

/// Cut offsets for the next `n` connections, exponential with mean `mean` bytes.
fn cut_offsets(seed: u64, mean: u64, n: usize) -> VecDeque<Option<u64>> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| Some((-rng.unit().ln() * mean as f64) as u64))
        .collect()
}

fn scenario(p: &PhoneResult, link: &LinkSim, before: (u64, u64, u64, u64)) -> Value {
    let s = link.stats();
    let now = (
        s.connections.load(Ordering::Relaxed),
        s.cuts.load(Ordering::Relaxed),
        s.upstream_bytes.load(Ordering::Relaxed),
        s.downstream_bytes.load(Ordering::Relaxed),
    );
    json!({
        "millis": p.millis, "attempts": p.attempts, "resumes": p.attempts - 1,
        "connections": now.0 - before.0, "cuts": now.1 - before.1,
        "link_up": now.2 - before.2, "link_down": now.3 - before.3,
        "pushed": p.pushed, "pulled": p.pulled, "refused": p.refused,
        "last_payload_up": p.payload_up, "last_payload_down": p.payload_down,
        "phone_max_rss": p.max_rss, "handshake": p.handshake,
        "errors": p.errors.iter().take(5).collect::<Vec<_>>(),
        "timeline": p.timeline,
    })
}

fn snapshot(link: &LinkSim) -> (u64, u64, u64, u64) {
    let s = link.stats();
    (
        s.connections.load(Ordering::Relaxed),
        s.cuts.load(Ordering::Relaxed),
        s.upstream_bytes.load(Ordering::Relaxed),
        s.downstream_bytes.load(Ordering::Relaxed),
    )
}

fn medians(runs: &[Value]) -> Value {
    let mut out = serde_json::Map::new();
    for s in ["S1", "S2", "S2_resumed"] {
        let mut m = serde_json::Map::new();
        for k in [
            "millis",
            "attempts",
            "resumes",
            "connections",
            "cuts",
            "link_up",
            "link_down",
            "pushed",
        ] {
            let vals: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.pointer(&format!("/{s}/{k}")).and_then(Value::as_f64))
                .collect();
            if !vals.is_empty() {
                m.insert(k.into(), json!(median(vals)));
            }
        }
        out.insert(s.into(), Value::Object(m));
    }
    Value::Object(out)
}

/// Runs S1 and S2 over the link, without and with cuts.
pub fn run(args: Link2gArgs) -> anyhow::Result<()> {
    let modes: &[bool] = match args.cuts.as_str() {
        "both" => &[false, true],
        "off" => &[false],
        "on" => &[true],
        c => anyhow::bail!("--cuts is both, off or on, not {c}"),
    };
    let village = workload::load(&args.workload)?
        .into_iter()
        .next()
        .context("the workload has no village")?;
    eprintln!(
        "link: {} kbit/s each way, {} ms round trip; cuts every {} kB on average, seed {}",
        args.kbit, args.rtt_ms, args.cut_every_kb, args.seed
    );
    eprintln!("setting up: enrolling the phone, recording the village offline");
    let t = template_for(std::slice::from_ref(&village))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let mut extra: Vec<String> = vec!["--until-synced".into()];
    if args.fixed_level {
        extra.push("--fixed-level".into());
    }
    if let Some(kib) = args.push_message_kib {
        extra.extend(["--push-message-kib".into(), kib.to_string()]);
    }
    if let Some(b) = args.push_in_flight_bytes {
        extra.extend(["--push-in-flight-bytes".into(), b.to_string()]);
    }
    if let Some(d) = args.dictionary {
        extra.extend(["--dictionary".into(), d.to_string()]);
    }
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let mut result = serde_json::Map::new();
    for &cuts in modes {
        let name = if cuts { "cuts" } else { "no_cuts" };
        let mut runs = Vec::new();
        for run in 0..args.runs {
            let dir = tempfile::tempdir()?;
            let data = dir.path().join("server");
            server::copy_tree(&t.data, &data)?;
            let a = dir.path().join("a.db");
            copy_store(&t.phones[0], &a)?;
            let srv = Server::start(&data, "127.0.0.1:0")?;
            let target: SocketAddr = srv.addr.parse()?;
            let mut config = LinkConfig::slow(args.kbit, Duration::from_millis(args.rtt_ms));
            let seed = args.seed + run as u64;
            if cuts {
                config.cuts = cut_offsets(seed, args.cut_every_kb * 1000, 10_000);
            }
            let link = rt.block_on(async {
                let listener = tokio::net::TcpListener::bind(&t.port).await?;
                LinkSim::serve(listener, target, config)
            })?;
            srv.take_window_peak();
            let before = snapshot(&link);
            let s1 = phone(&a, &extra, args.level)?;
            let s1 = scenario(&s1, &link, before);
            let s1_peak = srv.take_window_peak();
            let before = snapshot(&link);
            let s2 = phone(&a, &extra, args.level)?;
            let s2 = scenario(&s2, &link, before);
            let s2_peak = srv.take_window_peak();
            // S2 again in a phone that synced just before: TLS resumed.
            let mut warm = extra.clone();
            warm.push("--warm");
            let w = phone(&a, &warm, args.level)?;
            let s2_resumed = json!({
                "millis": w.millis, "attempts": w.attempts, "resumes": w.attempts - 1,
                "link_up": w.link_up, "link_down": w.link_down,
                "handshake": w.handshake,
                "errors": w.errors.iter().take(5).collect::<Vec<_>>(),
            });
            drop(link);
            srv.stop()?;
            eprintln!(
                "  {name} run {run} (seed {seed}): S1 {} ms, {} attempts, {} cuts, link {}↑/{}↓ B; S2 {} ms, {} attempts, {} cuts",
                s1["millis"],
                s1["attempts"],
                s1["cuts"],
                s1["link_up"],
                s1["link_down"],
                s2["millis"],
                s2["attempts"],
                s2["cuts"]
            );
            runs.push(json!({
                "run": run, "seed": if cuts { Some(seed) } else { None },
                "S1": s1, "S2": s2, "S2_resumed": s2_resumed,
                "server_peak_rss": { "S1": s1_peak, "S2": s2_peak },
            }));
        }
        let m = medians(&runs);
        result.insert(name.into(), json!({ "runs": runs, "median": m }));
    }
    print_table(&result, &args);
    if let Some(out) = &args.out {
        let all = json!({
            "meta": {
                "tool": "massline-bench link2g",
                "date": chrono::Utc::now().to_rfc3339(),
                "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
                "workload": args.workload, "runs": args.runs,
                "link": {
                    "kbit_per_s": args.kbit, "rtt_ms": args.rtt_ms,
                    "connect_delay_ms": args.rtt_ms,
                    "cut_model": "each connection cut after an exponentially distributed number of bytes (both directions)",
                    "cut_every_kb": args.cut_every_kb, "seed": args.seed,
                },
                "level": args.level, "fixed_level": args.fixed_level,
                "push_message_kib": args.push_message_kib,
                "push_in_flight_bytes": args.push_in_flight_bytes,
                "dictionary": args.dictionary,
            },
            "results": result,
        });
        std::fs::write(out, serde_json::to_vec_pretty(&all)?)?;
    }
    Ok(())
}

fn print_table(result: &serde_json::Map<String, Value>, args: &Link2gArgs) {
    println!(
        "2G link: {} kbit/s, {} ms RTT; median of {} runs",
        args.kbit, args.rtt_ms, args.runs
    );
    println!(
        "{:<22} {:>9} {:>9} {:>6} {:>8} {:>9} {:>9} {:>8}",
        "", "ms", "attempts", "cuts", "resumes", "link ↑", "link ↓", "target"
    );
    for (mode, label) in [("no_cuts", "no cuts"), ("cuts", "cuts")] {
        let Some(r) = result.get(mode) else { continue };
        for (s, target) in [("S1", 20_000.0), ("S2", 2_000.0), ("S2_resumed", 1_300.0)] {
            let g = |k: &str| {
                r.pointer(&format!("/median/{s}/{k}"))
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
            };
            let ms = g("millis");
            println!(
                "{:<22} {:>9.0} {:>9} {:>6} {:>8} {:>9} {:>9} {:>8}",
                format!("{} {label}", s.replace("_resumed", " resumed")),
                ms,
                g("attempts"),
                g("cuts"),
                g("resumes"),
                g("link_up") as u64,
                g("link_down") as u64,
                format!(
                    "{} {} s",
                    if ms <= target { "≤" } else { ">" },
                    target / 1000.0
                ),
            );
        }
    }
}
