//! Many devices syncing at once against one server on loopback.
//!
//! Every device is a real `massline_core::Client` with its own SQLite store
//! in a temporary directory; all of them run in this process on one tokio
//! runtime, against the release `massline-server` in its own process. Per
//! village the first device is the secretary's, the others members'.
//!
//! Set-up (not timed as syncs): the people are registered, each device is
//! enrolled over gRPC (timed, as `enrol`), and records on each phone K
//! things offline: members K study entries in their own log, the secretary K
//! problems in the village's shared scope. Then, in rounds, every device at
//! once:
//!
//! 1. `push`: syncs what it recorded (and pulls whatever already reached the
//!    server from its village);
//! 2. `catch-up`: syncs again, pulling the village's problems that reached
//!    the server after its first sync;
//! 3. `idle`: syncs with nothing new anywhere.
//!
//! Each phase starts when the one before has ended, so `idle` is idle. Every
//! sync has a time limit and the run has a deadline, so it always ends.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use massline_core::enrollment_code::EnrollmentCode;
use massline_core::records::{StudyEntry, StudyMaterial, StudyMode};
use massline_core::sync::engine::SyncOptions;
use massline_core::{Client, PersonId, Record, Role, VillageCode};
use massline_server::connections::MAX_CONNECTIONS;
use massline_server::{admin, certs, registry};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::server::Server;
use crate::workload;

/// Options of `load`.
#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Devices, each with its own store.
    #[arg(long, default_value_t = 2000)]
    pub devices: usize,
    /// Villages the devices are spread over (the first device of each is
    /// its secretary's).
    #[arg(long, default_value_t = 40)]
    pub villages: usize,
    /// Records each device makes offline before its first sync, per round.
    #[arg(long, default_value_t = 3)]
    pub records_per_device: usize,
    /// Rounds of record, push, catch-up, idle.
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// Most syncs (or enrolments) under way at once; default: every device.
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// A sync taking longer than this counts as an error.
    #[arg(long, default_value_t = 120)]
    pub sync_timeout_s: u64,
    /// The whole run stops after this long, finished or not.
    #[arg(long, default_value_t = 600)]
    pub deadline_s: u64,
    /// Keep the fast-link zstd level even when connecting is slow (a busy
    /// server makes connecting slow, and devices then compress at the
    /// slow-link level).
    #[arg(long)]
    pub fixed_level: bool,
    /// Worker threads of the devices' runtime.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Write the results here as JSON.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One device under test.
struct Device {
    person: PersonId,
    secretary: bool,
    client: Client,
}

/// Latencies and errors of one kind of call.
#[derive(Default)]
struct Kind {
    millis: Vec<f64>,
    errors: Vec<String>,
    wall_ms: f64,
    server_peak_rss: u64,
    pushed: u64,
    pulled: u64,
}

impl Kind {
    fn json(&self) -> Value {
        let mut v = self.millis.clone();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            if v.is_empty() {
                0.0
            } else {
                v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1]
            }
        };
        let mut distinct: BTreeMap<&str, u64> = BTreeMap::new();
        for e in &self.errors {
            *distinct.entry(e.as_str()).or_default() += 1;
        }
        json!({
            "ok": v.len(), "errors": self.errors.len(),
            "p50_ms": q(0.50), "p90_ms": q(0.90), "p99_ms": q(0.99), "max_ms": q(1.0),
            "wall_ms": self.wall_ms, "server_peak_rss": self.server_peak_rss,
            "pushed": self.pushed, "pulled": self.pulled,
            "error_kinds": distinct.iter().take(10).map(|(e, n)| json!({"error": e, "count": n})).collect::<Vec<_>>(),
        })
    }
}

fn village_of(i: usize, per: usize) -> usize {
    i / per
}

/// Registers villages and people in one transaction: device i belongs to
/// village i / per; the first of each village is its secretary.
fn register(
    data: &std::path::Path,
    devices: usize,
    per: usize,
) -> anyhow::Result<Vec<(PersonId, bool)>> {
    let db = admin::open(data)?;
    admin::set_township(&db, "负载镇")?;
    let mut people = Vec::with_capacity(devices);
    db.write(|tx| {
        for i in 0..devices {
            let v = village_of(i, per);
            let code = VillageCode::new(format!("v{v:03}")).map_err(anyhow::Error::msg)?;
            let secretary = i % per == 0;
            if secretary {
                registry::add_village(tx, &code, &format!("{v}村"))?;
            }
            let id =
                PersonId::new(format!("v{v:03}-p{:04}", i % per)).map_err(anyhow::Error::msg)?;
            let role = if secretary {
                Role::Secretary
            } else {
                Role::Member
            };
            registry::add_person(tx, Some(id.clone()), &id.to_string(), role, Some(&code))?;
            people.push((id, secretary));
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(people)
}

/// One-time codes for every person, made in one transaction.
fn codes(
    data: &std::path::Path,
    people: &[(PersonId, bool)],
    addr: &str,
) -> anyhow::Result<Vec<String>> {
    let db = admin::open(data)?;
    let pin = certs::load_or_create(data)?.fingerprint;
    let secrets = db.write(|tx| {
        people
            .iter()
            .map(|(p, _)| registry::new_enrollment_code(tx, p, registry::DEFAULT_CODE_VALIDITY))
            .collect::<Result<Vec<_>, _>>()
    })?;
    Ok(secrets
        .into_iter()
        .map(|secret| {
            EnrollmentCode {
                address: addr.to_string(),
                secret,
                pin: Some(pin),
            }
            .to_string()
        })
        .collect())
}

fn record(device: &Device, round: usize, k: usize) -> anyhow::Result<()> {
    let base = NaiveDate::from_ymd_opt(2026, 3, 1).context("date")?;
    for j in 0..k {
        let date = base + chrono::Days::new(((round * k + j) % 200) as u64);
        let r = if device.secretary {
            workload::raised_problem(format!("第{round}轮问题{j}：村务公开不及时"))
        } else {
            Record::StudyEntry(StudyEntry {
                member: device.person.clone(),
                date,
                material: StudyMaterial::MassLineReading,
                topic: format!("群众路线读本 第{round}轮第{j}篇"),
                mode: StudyMode::SelfStudy,
                helper: None,
                minutes: 30 + j as u32,
                reflection: "深受教育，联系实际查摆问题。".into(),
                comments: Vec::new(),
            })
        };
        device.client.create(r, None)?;
    }
    Ok(())
}

/// Runs `f` for every device at once (at most `limit` under way), each with
/// `timeout`, and stops at `deadline`.
async fn phase<F, Fut>(
    devices: &[Arc<Device>],
    limit: usize,
    timeout: Duration,
    deadline: Instant,
    f: F,
) -> Kind
where
    F: Fn(Arc<Device>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<(u64, u64)>> + Send + 'static,
{
    let sem = Arc::new(Semaphore::new(limit));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for d in devices {
        let sem = sem.clone();
        let fut = f(d.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let t = Instant::now();
            let r = tokio::time::timeout(timeout, fut).await;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            match r {
                Ok(Ok(counts)) => Ok((ms, counts)),
                Ok(Err(e)) => Err(format!("{e:#}")),
                Err(_) => Err(format!("timed out after {} s", timeout.as_secs())),
            }
        });
    }
    let mut kind = Kind::default();
    let left = deadline.saturating_duration_since(Instant::now());
    let all = async {
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok(Ok((ms, (pushed, pulled)))) => {
                    kind.millis.push(ms);
                    kind.pushed += pushed;
                    kind.pulled += pulled;
                }
                Ok(Err(e)) => kind.errors.push(e),
                Err(e) => kind.errors.push(e.to_string()),
            }
        }
    };
    if tokio::time::timeout(left, all).await.is_err() {
        let n = tasks.len();
        tasks.abort_all();
        kind.errors.extend(std::iter::repeat_n(
            "stopped at the deadline".to_string(),
            n,
        ));
    }
    kind.wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    kind
}

async fn sync(d: Arc<Device>) -> anyhow::Result<(u64, u64)> {
    let r = d.client.sync().await?;
    anyhow::ensure!(r.refused == 0, "{} changes refused", r.refused);
    Ok((r.pushed, r.pulled))
}

/// Raises the soft limit of open files to the hard one: each device holds a
/// few SQLite files and a socket.
fn raise_fd_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => {
            if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Ok((soft, _)) => soft,
        Err(_) => 0,
    }
}

/// Runs the load and prints a table.
pub fn run(args: LoadArgs) -> anyhow::Result<()> {
    let total = Instant::now();
    let deadline = total + Duration::from_secs(args.deadline_s);
    let fds = raise_fd_limit();
    let villages = args.villages.clamp(1, args.devices.max(1));
    let per = args.devices.div_ceil(villages);
    let limit = args.concurrency.unwrap_or(args.devices).max(1);
    let timeout = Duration::from_secs(args.sync_timeout_s);
    eprintln!(
        "load: {} devices in {} villages, {} records each per round, {} rounds, {} at once; open files limit {fds}",
        args.devices,
        args.devices.div_ceil(per),
        args.records_per_device,
        args.rounds,
        limit
    );
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let t = Instant::now();
    let people = register(&data, args.devices, per)?;
    let register_ms = t.elapsed().as_millis() as u64;
    // Every device connects from 127.0.0.1: let them all in at once.
    let per_address = args.devices.max(1).to_string();
    let most = args.devices.max(MAX_CONNECTIONS).to_string();
    let srv = Server::start_with(
        &data,
        "127.0.0.1:0",
        &[
            "--max-connections-per-address",
            &per_address,
            "--max-connections",
            &most,
        ],
    )?;
    let baseline = srv.rss();
    let codes = codes(&data, &people, &srv.addr)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()?;
    let stores = dir.path().join("phones");
    std::fs::create_dir_all(&stores)?;

    // Open every store, then enrol every device at once.
    let t = Instant::now();
    let devices: Vec<Arc<Device>> = people
        .into_iter()
        .map(|(person, secretary)| {
            let mut client = Client::open(stores.join(format!("{person}.db")))?;
            if args.fixed_level {
                client.set_sync_options(SyncOptions {
                    slow_link_connect: Duration::MAX,
                    ..SyncOptions::default()
                });
            }
            Ok(Arc::new(Device {
                person,
                secretary,
                client,
            }))
        })
        .collect::<anyhow::Result<_>>()?;
    let open_ms = t.elapsed().as_millis() as u64;
    let mut kinds: Vec<(String, Kind)> = Vec::new();
    srv.take_window_peak();
    let codes: Arc<Vec<String>> = Arc::new(codes);
    let index: std::collections::HashMap<PersonId, usize> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| (d.person.clone(), i))
        .collect();
    let index = Arc::new(index);
    let mut enrol = rt.block_on(phase(&devices, limit, timeout, deadline, |d| {
        let (codes, index) = (codes.clone(), index.clone());
        async move {
            let code = &codes[index[&d.person]];
            d.client.enroll(code, None, d.person.as_str()).await?;
            Ok((0, 0))
        }
    }));
    enrol.server_peak_rss = srv.take_window_peak();
    eprintln!(
        "  enrol: {} ok, {} errors, {:.1} s",
        enrol.millis.len(),
        enrol.errors.len(),
        enrol.wall_ms / 1000.0
    );
    kinds.push(("enrol".into(), enrol));

    let mut record_ms = 0;
    for round in 0..args.rounds {
        if Instant::now() > deadline {
            break;
        }
        // Recording is offline and not part of the load on the server.
        let t = Instant::now();
        let k = args.records_per_device;
        let recorded = rt.block_on(phase(
            &devices,
            64,
            timeout,
            deadline,
            move |d| async move {
                tokio::task::spawn_blocking(move || record(&d, round, k)).await??;
                Ok((0, 0))
            },
        ));
        anyhow::ensure!(
            recorded.errors.is_empty(),
            "recording failed: {:?}",
            recorded.errors.first()
        );
        record_ms += t.elapsed().as_millis() as u64;
        for name in ["push", "catch-up", "idle"] {
            let mut kind = rt.block_on(phase(&devices, limit, timeout, deadline, sync));
            kind.server_peak_rss = srv.take_window_peak();
            eprintln!(
                "  round {round} {name}: {} ok, {} errors, {:.1} s, pushed {}, pulled {}, server {} MiB",
                kind.millis.len(),
                kind.errors.len(),
                kind.wall_ms / 1000.0,
                kind.pushed,
                kind.pulled,
                kind.server_peak_rss >> 20
            );
            let label = if args.rounds > 1 {
                format!("{name} {round}")
            } else {
                name.to_string()
            };
            kinds.push((label, kind));
        }
    }
    let server_peak = srv.lifetime_peak();
    let server_cpu = srv.cpu_seconds();
    drop(devices);
    rt.shutdown_timeout(Duration::from_secs(5));
    srv.stop()?;
    let wall_ms = total.elapsed().as_millis() as u64;

    println!(
        "{} devices, {} villages, {} records per device per round; server peak RSS {} MiB (idle {} MiB), server CPU {:.1} s, wall {:.1} s",
        args.devices,
        args.devices.div_ceil(per),
        args.records_per_device,
        server_peak >> 20,
        baseline >> 20,
        server_cpu,
        wall_ms as f64 / 1000.0
    );
    println!(
        "{:<12} {:>6} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11}",
        "", "ok", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms", "wall s", "server RSS"
    );
    let mut out = serde_json::Map::new();
    for (name, k) in &kinds {
        let j = k.json();
        let f = |key: &str| j[key].as_f64().unwrap_or(0.0);
        println!(
            "{:<12} {:>6} {:>7} {:>9.0} {:>9.0} {:>9.0} {:>9.0} {:>9.1} {:>7} MiB",
            name,
            j["ok"].as_u64().unwrap_or(0),
            j["errors"].as_u64().unwrap_or(0),
            f("p50_ms"),
            f("p90_ms"),
            f("p99_ms"),
            f("max_ms"),
            f("wall_ms") / 1000.0,
            k.server_peak_rss >> 20
        );
        for e in j["error_kinds"].as_array().into_iter().flatten() {
            println!("    {} × {}", e["count"], e["error"]);
        }
        out.insert(name.clone(), j);
    }
    if let Some(path) = &args.out {
        let all = json!({
            "meta": {
                "tool": "massline-bench load",
                "date": chrono::Utc::now().to_rfc3339(),
                "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
                "devices": args.devices, "villages": args.devices.div_ceil(per),
                "records_per_device": args.records_per_device, "rounds": args.rounds,
                "concurrency": limit, "threads": args.threads, "fixed_level": args.fixed_level, "open_files_limit": fds,
            },
            "setup_ms": { "register": register_ms, "open_stores": open_ms, "record": record_ms },
            "server_baseline_rss": baseline, "server_peak_rss": server_peak,
            "server_cpu_s": server_cpu, "wall_ms": wall_ms,
            "kinds": out,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&all)?)?;
    }
    Ok(())
}
