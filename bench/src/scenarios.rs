//! The scenarios, run against a fresh server per run, with medians.
//!
//! - S1: the phone holding the whole village uploads to an empty server.
//! - S2: the same phone reconnects with nothing new.
//! - S3: 13 new changes in 11 records (the incremental batch), then sync.
//! - S4: a fresh second phone downloads the village.
//! - S5: 30 villages from 30 phones in turn into one server.
//! - one: after S1, one new record (the incremental batch's first), then sync.
//!
//! Setting up (enrolling phones, recording the village on the phone) happens
//! once, into a template that every run copies; it is not timed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use massline_core::{DocId, PersonId};
use serde_json::{Value, json};

use crate::phone::{PhoneResult, ids_path};
use crate::server::{self, Server};
use crate::store;
use crate::workload::{self, Village};

/// Options of `run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// chain (S1 to S4), s5, one (a one-record sync), or all.
    #[arg(long, default_value = "chain")]
    pub scenario: String,
    /// Runs of the chain; medians are reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Runs of S5.
    #[arg(long, default_value_t = 1)]
    pub s5_runs: usize,
    /// The one-village workload.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/workload-1-village.json"))]
    pub workload: PathBuf,
    /// The 30-village workload for S5 (`node workload.mjs --villages 30`).
    #[arg(long)]
    pub workload_30: Option<PathBuf>,
    /// zstd level for pushed changes (default: the client's).
    #[arg(long)]
    pub level: Option<i32>,
    /// zstd dictionary of the phones' calls (0: none; default: the client's).
    #[arg(long)]
    pub dictionary: Option<u32>,
    /// Write all runs and medians here as JSON.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Encrypt every phone's store (SQLCipher) with one random key: needs
    /// massline-bench built with `--features sqlcipher`.
    #[arg(long)]
    pub encrypted: bool,
}

/// The dictionary `run` was told to have its phones use (`--dictionary`).
static DICTIONARY: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();

/// Enrolls a phone of `person` with the server at `addr` into `store`.
fn enrol(
    rt: &tokio::runtime::Runtime,
    data: &Path,
    addr: &str,
    person: &str,
    store: &Path,
) -> anyhow::Result<()> {
    let client = store::open(store)?;
    rt.block_on(client.enroll(&server::code(data, person, addr)?, None, person))?;
    Ok(())
}

/// Records a village's year on its secretary's phone, offline.
fn seed(store: &Path, village: &Village) -> anyhow::Result<()> {
    let client = store::open(store)?;
    let me = PersonId::new(village.secretary()).map_err(anyhow::Error::msg)?;
    let mut ids: HashMap<String, DocId> = HashMap::new();
    workload::replay(&client, &me, &village.ops, &mut ids)?;
    std::fs::write(ids_path(store), serde_json::to_vec(&ids)?)?;
    Ok(())
}

/// A set-up township: its server data, its port, and its phones' stores.
pub struct Template {
    _dir: tempfile::TempDir,
    /// The server's data directory (registry with enrolled phones, no records).
    pub data: PathBuf,
    /// The address the phones were enrolled with.
    pub port: String,
    /// Each village's secretary's phone, with the village recorded offline.
    pub phones: Vec<PathBuf>,
    /// A second, empty phone of the first village.
    pub second: PathBuf,
    seed_ms: u128,
}

/// Sets up a township for `villages`: enrols the phones and records each
/// village on its secretary's phone.
pub fn template_for(villages: &[Village]) -> anyhow::Result<Template> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    server::set_up(&data, villages)?;
    let srv = Server::start(&data, "127.0.0.1:0")?;
    let rt = tokio::runtime::Runtime::new()?;
    let mut phones = Vec::new();
    for v in villages {
        let store = dir.path().join(format!("{}.db", v.id));
        enrol(&rt, &data, &srv.addr, &v.secretary(), &store)?;
        phones.push(store);
    }
    let second = dir.path().join("second.db");
    enrol(&rt, &data, &srv.addr, &villages[0].second_cadre(), &second)?;
    let port = srv.addr.clone();
    srv.stop()?;
    let t = Instant::now();
    for (v, store) in villages.iter().zip(&phones) {
        seed(store, v)?;
        eprintln!("  recorded {} on its phone ({} actions)", v.id, v.ops.len());
    }
    Ok(Template {
        _dir: dir,
        data,
        port,
        phones,
        second,
        seed_ms: t.elapsed().as_millis(),
    })
}

pub(crate) fn copy_store(from: &Path, to: &Path) -> anyhow::Result<()> {
    server::copy_tree(from, to)?;
    if ids_path(from).exists() {
        server::copy_tree(&ids_path(from), &ids_path(to))?;
    }
    Ok(())
}

pub(crate) fn phone(
    store: &Path,
    extra: &[&str],
    level: Option<i32>,
) -> anyhow::Result<PhoneResult> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("phone").arg("--store").arg(store).args(extra);
    store::hand_to(&mut cmd)?;
    if let Some(l) = level {
        cmd.args(["--level", &l.to_string()]);
    }
    if let Some(d) = DICTIONARY.get().copied().flatten() {
        cmd.args(["--dictionary", &d.to_string()]);
    }
    let out = cmd.output()?;
    if !out.status.success() {
        bail!("phone failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

pub(crate) fn du(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn scenario_json(p: &PhoneResult, server_peak: u64) -> Value {
    json!({
        "millis": p.millis, "pushed": p.pushed, "pulled": p.pulled, "refused": p.refused,
        "calls": p.calls, "payload_up": p.payload_up, "payload_down": p.payload_down,
        "link_up": p.link_up, "link_down": p.link_down,
        "phone_max_rss": p.max_rss, "server_peak_rss": server_peak,
        "phone_cpu_ms": p.cpu_ms, "server_cpu_ms": p.server_cpu_ms,
    })
}

fn chain(args: &RunArgs) -> anyhow::Result<Value> {
    let village = workload::load(&args.workload)?
        .into_iter()
        .next()
        .context("the workload has no village")?;
    eprintln!("setting up: enrolling phones, recording the village offline");
    let t = template_for(std::slice::from_ref(&village))?;
    let mut runs = Vec::new();
    for run in 0..args.runs {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("server");
        server::copy_tree(&t.data, &data)?;
        let a = dir.path().join("a.db");
        let b = dir.path().join("b.db");
        copy_store(&t.phones[0], &a)?;
        copy_store(&t.second, &b)?;
        let srv = Server::start(&data, &t.port)?;
        let baseline = srv.rss();
        let mut r = BTreeMap::new();
        srv.take_window_peak();
        let pid = srv.pid().to_string();
        let on = ["--server-pid", pid.as_str()];
        let s1 = phone(&a, &on, args.level)?;
        r.insert("S1", scenario_json(&s1, srv.take_window_peak()));
        let s2 = phone(&a, &on, args.level)?;
        r.insert("S2", scenario_json(&s2, srv.take_window_peak()));
        let w = args.workload.to_string_lossy().to_string();
        let s3 = phone(
            &a,
            &["--incremental", &w, "--village", &village.id, on[0], on[1]],
            args.level,
        )?;
        r.insert("S3", scenario_json(&s3, srv.take_window_peak()));
        let s4 = phone(&b, &on, args.level)?;
        r.insert("S4", scenario_json(&s4, srv.take_window_peak()));
        let lifetime = srv.lifetime_peak();
        srv.stop()?;
        let run_json = json!({
            "run": run, "scenarios": r, "server_baseline_rss": baseline,
            "server_lifetime_peak_rss": lifetime, "server_storage_bytes": du(&data),
        });
        eprintln!("  run {run}: {}", summary_line(&run_json));
        runs.push(run_json);
    }
    Ok(json!({ "seed_ms": t.seed_ms, "runs": runs, "median": medians(&runs) }))
}

/// A one-record sync: the phone uploads the village (untimed), records the
/// incremental batch's first item, a new record, and syncs.
fn one(args: &RunArgs) -> anyhow::Result<Value> {
    let village = workload::load(&args.workload)?
        .into_iter()
        .next()
        .context("the workload has no village")?;
    let t = template_for(std::slice::from_ref(&village))?;
    let mut runs = Vec::new();
    for _ in 0..args.runs {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("server");
        server::copy_tree(&t.data, &data)?;
        let a = dir.path().join("a.db");
        copy_store(&t.phones[0], &a)?;
        let srv = Server::start(&data, &t.port)?;
        phone(&a, &[], args.level)?;
        let w = args.workload.to_string_lossy().to_string();
        let extra = [
            "--incremental",
            &w,
            "--village",
            &village.id,
            "--items",
            "1",
        ];
        let p = phone(&a, &extra, args.level)?;
        srv.stop()?;
        runs.push(scenario_json(&p, 0));
    }
    let m = |k: &str| median(runs.iter().filter_map(|r| r[k].as_f64()).collect());
    Ok(json!({
        "median_payload_up": m("payload_up"), "median_payload_down": m("payload_down"),
        "runs": runs,
    }))
}

fn s5(args: &RunArgs) -> anyhow::Result<Value> {
    let path = args
        .workload_30
        .as_ref()
        .context("S5 needs --workload-30 (node workload.mjs --villages 30 --out FILE)")?;
    let villages = workload::load(path)?;
    eprintln!(
        "setting up {} villages: enrolling and recording offline",
        villages.len()
    );
    let t = template_for(&villages)?;
    let mut runs = Vec::new();
    for run in 0..args.s5_runs {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("server");
        server::copy_tree(&t.data, &data)?;
        let srv = Server::start(&data, &t.port)?;
        let baseline = srv.rss();
        let start = Instant::now();
        let mut per = Vec::new();
        let (mut up, mut down, mut max_phone) = (0, 0, 0);
        for (i, store) in t.phones.iter().enumerate() {
            let copy = dir.path().join(format!("phone-{i}.db"));
            copy_store(store, &copy)?;
            let p = phone(&copy, &[], args.level)?;
            if p.refused > 0 {
                bail!("village {i}: {} changes refused", p.refused);
            }
            up += p.payload_up;
            down += p.payload_down;
            max_phone = max_phone.max(p.max_rss);
            per.push(p.millis);
        }
        let wall = start.elapsed();
        let lifetime = srv.lifetime_peak();
        srv.stop()?;
        let mut sorted = per.clone();
        sorted.sort_by(f64::total_cmp);
        let run_json = json!({
            "run": run, "villages": villages.len(), "wall_ms": wall.as_millis() as u64,
            "sum_ms": per.iter().sum::<f64>(), "per_phone_ms": per,
            "per_phone_p50_ms": sorted[sorted.len() / 2], "per_phone_max_ms": sorted.last(),
            "payload_up": up, "payload_down": down, "phone_max_rss": max_phone,
            "server_baseline_rss": baseline, "server_peak_rss": lifetime,
            "server_storage_bytes": du(&data),
        });
        eprintln!(
            "  S5 run {run}: wall {:.1} s, server peak {} MiB",
            wall.as_secs_f64(),
            lifetime >> 20
        );
        runs.push(run_json);
    }
    Ok(json!({ "seed_ms": t.seed_ms, "runs": runs }))
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn medians(runs: &[Value]) -> Value {
    let mut out = serde_json::Map::new();
    for s in ["S1", "S2", "S3", "S4"] {
        let mut m = serde_json::Map::new();
        if let Some(Value::Object(first)) = runs
            .first()
            .and_then(|r| r.pointer(&format!("/scenarios/{s}")))
        {
            for k in first.keys() {
                let vals: Vec<f64> = runs
                    .iter()
                    .filter_map(|r| {
                        r.pointer(&format!("/scenarios/{s}/{k}"))
                            .and_then(Value::as_f64)
                    })
                    .collect();
                m.insert(k.clone(), json!(median(vals)));
            }
        }
        out.insert(s.to_string(), Value::Object(m));
    }
    Value::Object(out)
}

fn summary_line(run: &Value) -> String {
    ["S1", "S2", "S3", "S4"]
        .iter()
        .map(|s| {
            let g = |k: &str| {
                run.pointer(&format!("/scenarios/{s}/{k}"))
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
            };
            format!(
                "{s} {:.1} ms {}↑/{}↓ B",
                g("millis"),
                g("payload_up"),
                g("payload_down")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_table(chain: &Value) {
    println!(
        "{:<4} {:>9} {:>11} {:>11} {:>11} {:>11} {:>6} {:>11} {:>11}",
        "", "ms", "payload ↑", "payload ↓", "link ↑", "link ↓", "calls", "server RSS", "phone RSS"
    );
    for s in ["S1", "S2", "S3", "S4"] {
        let g = |k: &str| {
            chain
                .pointer(&format!("/median/{s}/{k}"))
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
        };
        println!(
            "{:<4} {:>9.1} {:>11} {:>11} {:>11} {:>11} {:>6} {:>8} MiB {:>7} MiB",
            s,
            g("millis"),
            g("payload_up") as u64,
            g("payload_down") as u64,
            g("link_up") as u64,
            g("link_down") as u64,
            g("calls") as u64,
            (g("server_peak_rss") as u64) >> 20,
            (g("phone_max_rss") as u64) >> 20,
        );
    }
}

/// Runs the chosen scenarios.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    if args.encrypted {
        store::encrypt_with_new_key()?;
    }
    let _ = DICTIONARY.set(args.dictionary);
    let mut result = serde_json::Map::new();
    result.insert(
        "meta".into(),
        json!({
            "tool": "massline-bench",
            "date": chrono::Utc::now().to_rfc3339(),
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "workload": args.workload, "level": args.level, "dictionary": args.dictionary,
            "encrypted_stores": store::encrypted(),
        }),
    );
    if matches!(args.scenario.as_str(), "chain" | "all") {
        let c = chain(&args)?;
        print_table(&c);
        result.insert("chain".into(), c);
    }
    if matches!(args.scenario.as_str(), "one" | "all") {
        let r = one(&args)?;
        println!(
            "one  payload ↑ {} B, ↓ {} B (median of {} runs)",
            r["median_payload_up"], r["median_payload_down"], args.runs
        );
        result.insert("one".into(), r);
    }
    if matches!(args.scenario.as_str(), "s5" | "all") {
        let r = s5(&args)?;
        if let Some(run) = r.pointer("/runs/0") {
            println!(
                "S5   wall {} ms, per phone p50 {} ms, max {} ms, server peak {} MiB",
                run["wall_ms"],
                run["per_phone_p50_ms"],
                run["per_phone_max_ms"],
                run["server_peak_rss"].as_u64().unwrap_or(0) >> 20
            );
        }
        result.insert("s5".into(), r);
    }
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_vec_pretty(&Value::Object(result))?)?;
    }
    Ok(())
}
