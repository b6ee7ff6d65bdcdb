//! What the cross-crate tests share: a township with villages and people, a
//! real server (in this process, or as a process to kill), and enrolled
//! devices with real stores in temporary directories.
//!
//! # Layout
//!
//! - [`Township`]: a data directory with two villages and their people.
//! - [`TestServer`]: the server in this process on a free port, over TLS.
//! - [`ServerProcess`]: the server binary as a child process.
//! - [`Device`]: an enrolled device store.
//! - [`raw`]: hand-made protocol messages, for inputs a real device never sends.
//! - [`web`]: the dashboard over HTTPS without a browser; [`browser`]: with one.
//! - [`hostile`]: a server answering pulls with hand-made messages, for
//!   inputs a real server never sends.
//! - [`forge`]: a phone's real changes from the shared workload, and the
//!   same changes forged.

#![allow(clippy::unwrap_used, clippy::panic)]

pub mod browser;
pub mod forge;
pub mod h2;
pub mod hostile;
pub mod metrics;
pub mod raw;
pub mod web;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use massline_core::records::{
    CampaignPhase, CampaignPlan, Demand, Education, FourWinds, HouseholdGroup, ListeningFormat,
    ListeningMeeting, Member, Notice, NoticeCategory, NoticeMedium, Opinion, OpinionArea,
    OpinionChannel, OpinionStatus, OrgLifeMeeting, PhaseEntry, PracticalThing, Rectification,
    RectificationStatus, RectificationTerm, Regulation, RegulationCategory, ServiceMatter,
    ServiceRequest, ServiceStatus, SessionFormat, SourceGroup, StudyEntry, StudyMaterial,
    StudyMode, StudySession, ThingStatus, Visit,
};
use massline_core::store::outbox;
use massline_core::{Client, DocId, PersonId, Record, RecordKind, Role, VillageCode};
use massline_server::connections::ConnectionLimits;
use massline_server::service::enrollment::ENROLL_FAILURES;
use massline_server::web::WebOptions;
use massline_server::{Listeners, ServeConfig, admin, feed::FeedOptions, limits::Limits, registry};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A township's data directory: villages 东村 (`dongcun`) and 西村 (`xicun`).
///
/// People: in 东村 the secretary `zhang`, the cadre `li`, members `wang` and
/// `zhao`; in 西村 the cadre `chen` and the member `sun`; the township officer `liu`.
#[derive(Debug)]
pub struct Township {
    _dir: TempDir,
    /// The server's data directory.
    pub data: PathBuf,
}

impl Default for Township {
    fn default() -> Self {
        Self::new()
    }
}

impl Township {
    /// Makes the data directory and enrols villages and people.
    pub fn new() -> Township {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("server");
        let db = admin::open(&data).unwrap();
        admin::set_township(&db, "红星镇").unwrap();
        db.write(|tx| {
            registry::add_village(tx, &VillageCode::new("dongcun").unwrap(), "东村")?;
            registry::add_village(tx, &VillageCode::new("xicun").unwrap(), "西村")
        })
        .unwrap();
        drop(db);
        let town = Township { _dir: dir, data };
        for (id, name, role, village) in [
            ("zhang", "张书记", Role::Secretary, Some("dongcun")),
            ("li", "李委员", Role::Cadre, Some("dongcun")),
            ("wang", "王党员", Role::Member, Some("dongcun")),
            ("zhao", "赵党员", Role::Member, Some("dongcun")),
            ("chen", "陈委员", Role::Cadre, Some("xicun")),
            ("sun", "孙党员", Role::Member, Some("xicun")),
            ("liu", "刘干事", Role::TownshipOfficer, None),
        ] {
            town.add_person(id, name, role, village);
        }
        town
    }

    /// The data directory at `data`, as it is (nothing added).
    pub fn at(data: &Path) -> Township {
        Township {
            _dir: tempfile::tempdir().unwrap(),
            data: data.to_path_buf(),
        }
    }

    /// A one-time enrollment code for `person`, pointing at `addr`.
    pub fn code(&self, person: &str, addr: SocketAddr) -> String {
        let db = admin::open(&self.data).unwrap();
        admin::enrollment_code(
            &self.data,
            &db,
            &PersonId::new(person).unwrap(),
            Some(addr.to_string()),
            Duration::from_secs(86_400),
        )
        .unwrap()
        .to_string()
    }

    /// Adds the village `code`, its secretary `secretary` and its members
    /// `members` (each named as its id), as the shared workload has them.
    pub fn add_village(&self, code: &str, secretary: &str, members: &[String]) {
        let db = admin::open(&self.data).unwrap();
        let code = VillageCode::new(code).unwrap();
        db.write(|tx| registry::add_village(tx, &code, code.as_str()))
            .unwrap();
        let people = std::iter::once((secretary, Role::Secretary))
            .chain(members.iter().map(|m| (m.as_str(), Role::Member)));
        for (id, role) in people {
            admin::add_person(&db, Some(PersonId::new(id).unwrap()), id, role, Some(&code))
                .unwrap();
        }
    }

    /// Adds the person `id`, named `name`, of `role` in `village` (none: the
    /// township office).
    pub fn add_person(&self, id: &str, name: &str, role: Role, village: Option<&str>) {
        let db = admin::open(&self.data).unwrap();
        let village = village.map(|v| VillageCode::new(v).unwrap());
        admin::add_person(
            &db,
            Some(PersonId::new(id).unwrap()),
            name,
            role,
            village.as_ref(),
        )
        .unwrap();
    }

    /// A setting of the server's database, once the database and the
    /// setting exist.
    pub fn setting(&self, key: &str) -> Option<String> {
        let db = rusqlite::Connection::open_with_flags(
            self.data.join("massline.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .ok()?;
        db.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .ok()
    }

    /// Opens the server's database read-only, to check what it stored.
    pub fn server_db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.data.join("massline.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    }

    /// Whether the server has stored the change with this hash (hex).
    pub fn has_change(&self, hash_hex: &str) -> bool {
        self.server_db()
            .query_row(
                "SELECT count(*) FROM changes WHERE lower(hex(hash)) = ?1",
                [hash_hex],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            == 1
    }

    /// Waits (up to 10 s) until the server's typed rows have caught up with
    /// every record it stored, as its follower brings them.
    pub fn wait_for_rows(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (through, latest): (i64, i64) = self
                .server_db()
                .query_row(
                    "SELECT (SELECT coalesce(value, 0) FROM settings WHERE key = 'rows_through'),
                            (SELECT coalesce(max(updated_seq), 0) FROM documents)",
                    [],
                    |r| {
                        Ok((
                            r.get::<_, Option<String>>(0)?
                                .and_then(|v| v.parse().ok())
                                .unwrap_or(0),
                            r.get(1)?,
                        ))
                    },
                )
                .unwrap();
            if through >= latest {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "typed rows stuck at {through} of {latest}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `PRAGMA integrity_check` of the server database.
    pub fn integrity(&self) -> String {
        self.server_db()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap()
    }

    /// How many changes the server has stored.
    pub fn stored_changes(&self) -> i64 {
        self.server_db()
            .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
            .unwrap()
    }

    /// Every record on the server as (id hex, record JSON), sorted.
    pub fn server_records(&self) -> Vec<(String, serde_json::Value)> {
        let db = self.server_db();
        let mut stmt = db
            .prepare("SELECT lower(hex(doc_id)), record FROM documents ORDER BY 1")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap()
            .map(|r| {
                let (id, json) = r.unwrap();
                (id, serde_json::from_str(&json).unwrap())
            })
            .collect()
    }
}

/// The production settings for serving `township` over TLS.
pub fn serve_config(township: &Township) -> ServeConfig {
    ServeConfig {
        data_dir: township.data.clone(),
        tls: true,
        public_address: None,
        feed: FeedOptions::default(),
        connections: ConnectionLimits::default(),
        enroll_failures: ENROLL_FAILURES,
        limits: Limits::default(),
        web: WebOptions::default(),
        metrics: None,
        ready_file: None,
    }
}

/// The server, in this process, over TLS, on a free loopback port.
#[derive(Debug)]
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where its dashboard listens, if it serves one.
    pub web: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<Result<(), massline_server::Error>>,
}

impl TestServer {
    /// Starts serving `township`.
    pub async fn start(township: &Township) -> TestServer {
        Self::start_at(township, "127.0.0.1:0").await
    }

    /// Starts serving `township` on `listen` (to restart on the same port).
    pub async fn start_at(township: &Township, listen: &str) -> TestServer {
        Self::start_with(township, listen, FeedOptions::default()).await
    }

    /// Starts serving `township` on `listen`, answering pulls as `feed` says.
    pub async fn start_with(township: &Township, listen: &str, feed: FeedOptions) -> TestServer {
        Self::start_configured(township, listen, |c| c.feed = feed).await
    }

    /// Starts serving `township` with each device held to `limits` (short
    /// timeouts, small quotas).
    pub async fn start_limited(township: &Township, limits: Limits) -> TestServer {
        Self::start_configured(township, "127.0.0.1:0", |c| c.limits = limits).await
    }

    /// Starts serving `township` on `listen` with the production settings
    /// as `tweak` changes them (shorter timeouts, smaller caps).
    pub async fn start_configured(
        township: &Township,
        listen: &str,
        tweak: impl FnOnce(&mut ServeConfig),
    ) -> TestServer {
        Self::start_serving(township, listen, false, tweak).await
    }

    /// Starts serving `township` with Prometheus metrics on a free port of
    /// their own, and says where. The port is picked while the server's own
    /// is held: picked before, the server could be given the same one, and
    /// then fail to serve its metrics.
    pub async fn start_with_metrics(township: &Township) -> (TestServer, SocketAddr) {
        let mut metrics = None;
        let server = Self::start_configured(township, "127.0.0.1:0", |c| {
            let free = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .unwrap();
            metrics = Some(free);
            c.metrics = Some(free);
        })
        .await;
        (server, metrics.unwrap())
    }

    /// Starts serving `township` and its dashboard, each on a free port.
    pub async fn start_with_dashboard(township: &Township) -> TestServer {
        Self::start_serving(township, "127.0.0.1:0", true, |_| {}).await
    }

    /// Starts serving `township` and its dashboard, with the production
    /// settings as `tweak` changes them.
    pub async fn start_dashboard_configured(
        township: &Township,
        tweak: impl FnOnce(&mut ServeConfig),
    ) -> TestServer {
        Self::start_serving(township, "127.0.0.1:0", true, tweak).await
    }

    async fn start_serving(
        township: &Township,
        listen: &str,
        dashboard: bool,
        tweak: impl FnOnce(&mut ServeConfig),
    ) -> TestServer {
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let web_listener = if dashboard {
            Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        } else {
            None
        };
        let web = web_listener.as_ref().map(|l| l.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let mut config = ServeConfig {
            public_address: Some(addr.to_string()),
            ..serve_config(township)
        };
        tweak(&mut config);
        let listeners = Listeners {
            grpc: listener,
            web: web_listener,
        };
        let handle = tokio::spawn(massline_server::serve(listeners, config, async {
            let _ = stopped.await;
        }));
        if web.is_some() {
            // Serving writes down the dashboard's address (login links carry
            // it) as it starts; wait for it.
            let deadline = Instant::now() + Duration::from_secs(20);
            while township.setting("web_address").is_none() {
                assert!(Instant::now() < deadline, "the dashboard did not start");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        TestServer {
            addr,
            web,
            stop: Some(stop),
            handle,
        }
    }

    /// Stops it gracefully and waits until it has.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        (&mut self.handle).await.unwrap().unwrap();
    }
}

/// The server binary as a child process, to stop, kill and restart.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `massline-server serve` on `listen` (devices only, no
    /// dashboard) and waits until it listens.
    pub fn spawn(township: &Township, listen: &str) -> ServerProcess {
        Self::spawn_limited(township, listen, None)
    }

    /// Starts `massline-server serve` on `listen`, without the dashboard,
    /// with its open-file limit set to `open_files` (soft, hard), if given,
    /// and waits until it listens.
    pub fn spawn_limited(
        township: &Township,
        listen: &str,
        open_files: Option<(u64, u64)>,
    ) -> ServerProcess {
        let ready = township.data.join(format!("ready-{}", rand_suffix()));
        let mut command = match open_files {
            Some((soft, hard)) => {
                let mut sh = Command::new("sh");
                sh.args([
                    "-c",
                    &format!("ulimit -Sn {soft} && ulimit -Hn {hard} && exec \"$0\" \"$@\""),
                ])
                .arg(server_binary());
                sh
            }
            None => Command::new(server_binary()),
        };
        let child = command
            .args(["serve", "--data"])
            .arg(&township.data)
            .args(["--listen", listen, "--ready-file"])
            .arg(&ready)
            // The dashboard's port (the gRPC port + 1) could be any other
            // test's ephemeral port: these tests need only the devices' port.
            .arg("--no-web")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && let Ok(addr) = text.parse()
            {
                break addr;
            }
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        ServerProcess { child, addr }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGKILL: the process dies at once, wherever it was.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, and waits for a graceful exit.
    pub fn terminate(mut self) {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "server exited with {status}");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server binary (`massline-server`) as this crate builds it, to run as
/// a child process.
pub fn server_binary() -> PathBuf {
    binary("massline-server-under-test")
}

/// The field client's command line (`massline`) as this crate builds it, to
/// run as a child process.
pub fn cli_binary() -> PathBuf {
    binary("massline-cli-under-test")
}

/// Runs `massline --store <store> <args>` in English, which must succeed;
/// its output.
pub fn massline(store: &Path, args: &[&str]) -> String {
    let out = Command::new(cli_binary())
        .arg("--store")
        .arg(store)
        .args(args)
        .env("MASSLINE_LANG", "en")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "massline {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `massline-server admin bundle import` on `township`'s data
/// directory for the device bundle `bundle`: the reply bundle, or the
/// command's error output when it fails.
pub fn import_bundle(township: &Township, bundle: &[u8]) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().unwrap();
    let (file, reply) = (
        dir.path().join("device.bundle"),
        dir.path().join("reply.bundle"),
    );
    std::fs::write(&file, bundle).unwrap();
    let out = Command::new(server_binary())
        .args(["admin", "--data"])
        .arg(&township.data)
        .args(["bundle", "import"])
        .arg(&file)
        .arg("--reply-out")
        .arg(&reply)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    if out.status.success() {
        Ok(std::fs::read(&reply).unwrap())
    } else {
        assert!(!reply.exists(), "a refused bundle leaves no reply");
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A binary of this crate, beside the test executable's folder
/// (`target/<profile>/deps/<test>` → `target/<profile>/`).
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests with cargo test",
        bin.display()
    );
    bin
}

/// A random number generator for a fault test, and its seed: the seed is
/// `MASSLINE_TEST_SEED` if set (to replay a failure), otherwise new each run.
/// It is printed, so a failing test shows the seed that made it fail.
pub fn seeded_rng(test: &str) -> (u64, rand::rngs::StdRng) {
    use rand::SeedableRng;
    let seed = std::env::var("MASSLINE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("{test}: seed {seed} (MASSLINE_TEST_SEED={seed} replays it)");
    (seed, rand::rngs::StdRng::seed_from_u64(seed))
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// An enrolled device with its own store file.
#[derive(Debug)]
pub struct Device {
    /// The device's core.
    pub client: Client,
    /// The store file.
    pub path: PathBuf,
    _dir: TempDir,
}

impl Device {
    /// Enrols a new device of `person` with the server at `addr`.
    pub async fn enrol(township: &Township, addr: SocketAddr, person: &str) -> Device {
        Self::enrol_through(township, addr, addr, person).await
    }

    /// Enrols a new device of `person` with the server at `addr`, reaching it
    /// (then and on every sync) through `via`, e.g. a link emulator.
    pub async fn enrol_through(
        township: &Township,
        addr: SocketAddr,
        via: SocketAddr,
        person: &str,
    ) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.db");
        let client = Client::open(&path).unwrap();
        client
            .enroll(&township.code(person, addr), Some(&via.to_string()), person)
            .await
            .unwrap();
        Device {
            client,
            path,
            _dir: dir,
        }
    }

    /// Opens the device's store read-only, to check what it holds.
    pub fn store_db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    }

    /// Hashes of the changes waiting in the device's outbox (hex): those
    /// not answered, and those refused. (Answered changes leave the outbox
    /// beside the rest of a sync, which does not wait for it.)
    pub fn outbox(&self) -> Vec<String> {
        let db = self.store_db();
        let mut stmt = db
            .prepare(&format!(
                "SELECT lower(hex(hash)) FROM outbox WHERE {} ORDER BY id",
                outbox::WAITING
            ))
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Bytes of the changes waiting in the device's outbox (uncompressed).
    pub fn outbox_bytes(&self) -> usize {
        let db = self.store_db();
        db.query_row(
            &format!(
                "SELECT coalesce(sum(length(bytes)), 0) FROM outbox WHERE {}",
                outbox::WAITING
            ),
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n as usize)
        .unwrap()
    }

    /// Hashes of every change the device holds, its own and others' (hex, sorted).
    pub fn held_changes(&self) -> Vec<String> {
        let db = self.store_db();
        let mut stmt = db
            .prepare("SELECT lower(hex(hash)) FROM changes ORDER BY 1")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Saves `record` and syncs it, which must take under 10 s and store it:
    /// proof that the server is up and serving after whatever came before.
    pub async fn still_syncs(&self, record: Record) -> DocId {
        let id = self.client.create(record, None).unwrap();
        let started = Instant::now();
        let r = tokio::time::timeout(Duration::from_secs(10), self.client.sync())
            .await
            .expect("an ordinary sync takes under 10 s")
            .unwrap();
        assert_eq!((r.pushed, r.refused), (1, 0), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
        id
    }

    /// Makes a problem on this device's village list; returns its id.
    pub fn problem(&self, title: &str) -> DocId {
        self.client.create(problem(title), None).unwrap()
    }

    /// Every record on the device, withdrawn ones too, as (id hex, record
    /// JSON), sorted.
    pub fn records(&self) -> Vec<(String, serde_json::Value)> {
        let mut out: Vec<_> = self
            .client
            .list_all(None)
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r.id.to_hex(),
                    serde_json::to_value(r.record.unwrap()).unwrap(),
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// A study entry of `member`.
pub fn study(member: &str, minutes: u32, topic: &str) -> Record {
    Record::StudyEntry(StudyEntry {
        member: PersonId::new(member).unwrap(),
        date: chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(),
        material: StudyMaterial::MassLineReading,
        topic: topic.to_string(),
        mode: StudyMode::SelfStudy,
        helper: None,
        minutes,
        reflection: "学习体会".to_string(),
        comments: Vec::new(),
    })
}

/// An opinion heard on a household visit.
pub fn opinion(text: &str) -> Record {
    Record::Opinion(Opinion {
        date: chrono::NaiveDate::from_ymd_opt(2024, 5, 2).unwrap(),
        channel: OpinionChannel::HouseholdVisit,
        source: SourceGroup::Poor,
        area: OpinionArea::VillageAffairs,
        four_winds: FourWinds::Formalism,
        text: text.to_string(),
        anonymous: false,
        raised_by: None,
        status: OpinionStatus::Received,
        answer: None,
        visit: None,
        meeting: None,
    })
}

/// A problem the village found itself (made from its fields, so that
/// fields a problem gains later start as they would for any new record).
pub fn problem(title: &str) -> Record {
    Record::from_fields(
        RecordKind::Problem,
        serde_json::json!({"title": title, "how_found": "self_search", "area": "mass_service"}),
    )
    .unwrap()
}

/// A rectification measure of `problem`, planned on 1 May 2024, `li` and
/// `zhang` responsible.
pub fn rectification(problem: DocId, measure: &str) -> Record {
    Record::Rectification(Rectification {
        problem,
        measure: measure.to_string(),
        objective: "每月公开".to_string(),
        responsible: vec![
            PersonId::new("li").unwrap(),
            PersonId::new("zhang").unwrap(),
        ],
        deadline: chrono::NaiveDate::from_ymd_opt(2024, 12, 31).unwrap(),
        term: RectificationTerm::Short,
        steps: [(
            RectificationStatus::Planned,
            chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(),
        )]
        .into(),
        progress: Vec::new(),
        announced_on: None,
        submitted: None,
        filed: None,
    })
}

fn day(m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2024, m, d).unwrap()
}

/// A study session organized by `zhang`, nobody marked yet.
pub fn session(topic: &str) -> Record {
    Record::StudySession(StudySession {
        date: day(5, 10),
        material: StudyMaterial::PartyCongress,
        topic: topic.to_string(),
        format: SessionFormat::Lecture,
        organizer: PersonId::new("zhang").unwrap(),
        place: "村部会议室".to_string(),
        minutes: 90,
        notes: String::new(),
        attendance: Default::default(),
    })
}

/// A visit by `li` to a poor household, with these demands.
pub fn visit(household: &str, demands: &[&str]) -> Record {
    Record::Visit(Visit {
        cadre: PersonId::new("li").unwrap(),
        household: household.to_string(),
        group: HouseholdGroup::Poor,
        date: day(5, 3),
        notes: String::new(),
        demands: demands.iter().map(|d| Demand::new(*d)).collect(),
    })
}

/// A subsistence-allowance application handled by `li`.
pub fn service(applicant: &str) -> Record {
    Record::ServiceRequest(ServiceRequest {
        matter: ServiceMatter::SubsistenceAllowance,
        applicant: applicant.to_string(),
        applied_on: day(5, 4),
        details: String::new(),
        checklist: vec!["户口本".to_string(), "收入证明".to_string()],
        agent: PersonId::new("li").unwrap(),
        status: ServiceStatus::Accepted,
        result: String::new(),
        closed_on: None,
        published_on: None,
        visit: None,
    })
}

/// A practical thing promised, due in October.
pub fn practical(what: &str) -> Record {
    Record::PracticalThing(PracticalThing {
        what: what.to_string(),
        target_date: day(10, 1),
        responsible: vec![PersonId::new("zhang").unwrap()],
        status: ThingStatus::Promised,
        done_on: None,
        satisfaction: None,
    })
}

/// An organizational-life meeting, nobody marked yet.
pub fn meeting(topic: &str) -> Record {
    Record::OrgLifeMeeting(OrgLifeMeeting {
        date: day(6, 1),
        topic: topic.to_string(),
        attendance: Default::default(),
        points: Vec::new(),
        appraisal: Default::default(),
    })
}

/// A village-affairs notice on the public board.
pub fn notice(title: &str) -> Record {
    Record::Notice(Notice {
        date: day(6, 2),
        category: NoticeCategory::VillageAffairs,
        medium: NoticeMedium::Board,
        title: title.to_string(),
        content: String::new(),
        about: Vec::new(),
    })
}

/// A villagers' representatives meeting held to hear opinions, which wang
/// and zhang attended.
pub fn listening_meeting(topics: &str) -> Record {
    Record::ListeningMeeting(ListeningMeeting {
        date: day(4, 20),
        format: ListeningFormat::RepresentativesMeeting,
        place: "村委会议室".to_string(),
        topics: topics.to_string(),
        members: vec![
            PersonId::new("wang").unwrap(),
            PersonId::new("zhang").unwrap(),
        ],
        others: 23,
    })
}

/// A rule on village affairs, adopted and announced.
pub fn regulation(title: &str) -> Record {
    Record::Regulation(Regulation {
        title: title.to_string(),
        category: RegulationCategory::VillageAffairs,
        adopted_on: day(6, 10),
        text: "每月五日前公开上月村务和财务收支。".to_string(),
        announced_on: Some(day(6, 12)),
    })
}

/// The township's campaign plan of 2024: learning from June 1, criticism
/// from July 16, rectification from September 1.
pub fn campaign_plan(title: &str) -> Record {
    Record::CampaignPlan(CampaignPlan {
        title: title.to_string(),
        issued_on: day(5, 20),
        learning_start: day(6, 1),
        learning_end: day(7, 15),
        criticism_start: day(7, 16),
        criticism_end: day(8, 31),
        rectification_start: day(9, 1),
        rectification_end: day(11, 30),
    })
}

/// A village entering `phase` on `entered_on`.
pub fn phase_entry(phase: CampaignPhase, entered_on: chrono::NaiveDate) -> Record {
    Record::PhaseEntry(PhaseEntry {
        phase,
        entered_on,
        note: String::new(),
    })
}

/// The member file of `wang`.
pub fn member_file(name: &str) -> Record {
    Record::Member(Member {
        person: Some(PersonId::new("wang").unwrap()),
        name: name.to_string(),
        birth_year: 1958,
        joined_on: chrono::NaiveDate::from_ymd_opt(1980, 7, 1).unwrap(),
        education: Education::Primary,
        phone: String::new(),
        mobile: true,
        whereabouts: "广东东莞".to_string(),
        contact_cadre: None,
        pairing: None,
    })
}

/// The record `id` as it stands on `device`, of kind `T`'s variant, or a panic.
#[macro_export]
macro_rules! record_of {
    ($device:expr, $id:expr, $kind:ident) => {
        match $device.client.get($id).unwrap().record {
            Some(massline_core::Record::$kind(r)) => r,
            other => panic!("not a {}: {other:?}", stringify!($kind)),
        }
    };
}
