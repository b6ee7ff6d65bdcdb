//! The server under test: a township set up for the workload's villages, the
//! release `massline-server` process, and its memory sampled while it works.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use massline_core::{PersonId, Role, VillageCode};
use massline_server::{admin, registry};

use crate::workload::Village;

/// Registers the workload's villages and people in a data directory: per
/// village a secretary (whose phone holds the village), a second cadre and
/// the members.
pub fn set_up(data: &Path, villages: &[Village]) -> anyhow::Result<()> {
    let db = admin::open(data)?;
    admin::set_township(&db, "基准镇")?;
    for v in villages {
        let code = VillageCode::new(v.id.clone()).map_err(anyhow::Error::msg)?;
        db.write(|tx| registry::add_village(tx, &code, &format!("{}村", v.id)))?;
        let person = |id: &str| PersonId::new(id).map_err(anyhow::Error::msg);
        admin::add_person(
            &db,
            Some(person(&v.secretary())?),
            "书记",
            Role::Secretary,
            Some(&code),
        )?;
        admin::add_person(
            &db,
            Some(person(&v.second_cadre())?),
            "委员",
            Role::Cadre,
            Some(&code),
        )?;
        for m in &v.members {
            admin::add_person(&db, Some(person(m)?), m, Role::Member, Some(&code))?;
        }
    }
    Ok(())
}

/// A one-time enrollment code for `person`.
pub fn code(data: &Path, person: &str, addr: &str) -> anyhow::Result<String> {
    let db = admin::open(data)?;
    let id = PersonId::new(person).map_err(anyhow::Error::msg)?;
    Ok(admin::enrollment_code(
        data,
        &db,
        &id,
        Some(addr.to_string()),
        registry::DEFAULT_CODE_VALIDITY,
    )?
    .to_string())
}

/// The server binary next to this one (both built with `--release`).
pub fn binary() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let bin = me.with_file_name(format!("massline-server{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        bail!(
            "{} is missing: cargo build --release -p massline-server",
            bin.display()
        );
    }
    Ok(bin)
}

/// A running server process.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: String,
    sampler: Sampler,
}

impl Server {
    /// Starts the server on `data`, on a free port (or `listen`), and waits for it.
    pub fn start(data: &Path, listen: &str) -> anyhow::Result<Server> {
        Self::start_with(data, listen, &[])
    }

    /// Starts the server as [`Server::start`] does, with more `serve` options.
    /// Its dashboard listens on a port of the system's choosing unless
    /// `options` say where: a server started again on its port (the phones
    /// know it) would otherwise want the port after it, which by then may be
    /// another process's.
    pub fn start_with(data: &Path, listen: &str, options: &[&str]) -> anyhow::Result<Server> {
        let ready = data.join("ready");
        let _ = std::fs::remove_file(&ready);
        let web: &[&str] = if options.contains(&"--web") || options.contains(&"--no-web") {
            &[]
        } else {
            &["--web", "127.0.0.1:0"]
        };
        let child = Command::new(binary()?)
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", listen, "--ready-file"])
            .arg(&ready)
            .args(web)
            .args(options)
            .env(
                "RUST_LOG",
                std::env::var("MASSLINE_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            if let Ok(a) = std::fs::read_to_string(&ready)
                && !a.is_empty()
            {
                break a;
            }
            if Instant::now() > deadline {
                bail!("server did not start");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let sampler = Sampler::start(child.id());
        Ok(Server {
            child,
            addr,
            sampler,
        })
    }

    /// Peak RSS since the last call, bytes (sampled every 10 ms).
    pub fn take_window_peak(&self) -> u64 {
        self.sampler.take_window_peak()
    }

    /// Peak RSS over the process's life (VmHWM), bytes.
    pub fn lifetime_peak(&self) -> u64 {
        status_field(self.child.id(), "VmHWM:").unwrap_or(0)
    }

    /// CPU time (user and system) it has used, seconds.
    pub fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command's closing parenthesis; utime and stime are
        // the 14th and 15th of the line, in clock ticks (100 a second on Linux).
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<u64> = rest
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|x| x.parse().ok())
            .collect();
        f.iter().sum::<u64>() as f64 / 100.0
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Current RSS, bytes.
    pub fn rss(&self) -> u64 {
        status_field(self.child.id(), "VmRSS:").unwrap_or(0)
    }

    /// Stops it with SIGTERM and waits.
    pub fn stop(mut self) -> anyhow::Result<()> {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        self.sampler.stop();
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM)?;
        let status = self.child.wait()?;
        if !status.success() {
            bail!("server exited with {status}");
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.sampler.stop();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time the threads of process `pid` have had, milliseconds, to the
/// nanosecond (the scheduler's count of each thread living now: a server's
/// threads live for its whole run, its blocking threads for seconds after
/// their last task).
pub fn cpu_ms_of(pid: u32) -> f64 {
    let ns: u64 = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    ns as f64 / 1e6
}

fn status_field(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Samples a process's RSS every 10 ms.
struct Sampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(rss) = status_field(pid, "VmRSS:") {
                    p.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Sampler { peak, stop }
    }

    fn take_window_peak(&self) -> u64 {
        self.peak.swap(0, Ordering::Relaxed)
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Copies a data directory or store file (after its writers are closed).
pub fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            copy_tree(&e.path(), &to.join(e.file_name()))?;
        }
    } else {
        std::fs::copy(from, to).with_context(|| format!("copy {}", from.display()))?;
    }
    Ok(())
}
