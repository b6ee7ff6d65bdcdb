//! The `massline-server` command line: serve a township, or administer its data directory.

use std::path::PathBuf;
use std::time::Duration;

use crate::connections::{self, ConnectionLimits};
use crate::logs::LogFormat;
use crate::service::enrollment::ENROLL_FAILURES;
use crate::{Listeners, ServeConfig, admin, demo, feed::FeedOptions, limits, purge, registry, web};
use anyhow::Context;
use clap::{Parser, Subcommand};
use massline_model::{PersonId, Role, VillageCode};

/// The massline township server (乡镇服务器).
#[derive(Parser)]
#[command(name = "massline-server", version)]
struct Cli {
    /// How log lines are written on standard error: text (coloured only on
    /// a terminal) or json (one object per line, for log collectors).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the township: devices enrol and sync here.
    Serve {
        /// Data directory (database, TLS certificate); made on first start.
        #[arg(long, default_value = "massline-data")]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:7443")]
        listen: String,
        /// Address devices use to reach this server, written into enrollment
        /// codes (default: the listen address).
        #[arg(long)]
        public_address: Option<String>,
        /// Serve gRPC without TLS. For local development only.
        #[arg(long)]
        plaintext: bool,
        /// Once serving (the database open, the listeners taking
        /// connections), write the bound address to this file, whole at once
        /// (useful with `--listen 127.0.0.1:0`).
        #[arg(long)]
        ready_file: Option<PathBuf>,
        /// Most connections at once (the open-file limit may lower it).
        #[arg(long, default_value_t = connections::MAX_CONNECTIONS)]
        max_connections: usize,
        /// Most connections at once from one address (an IPv6 /64 counts as
        /// one address).
        #[arg(long, default_value_t = connections::MAX_CONNECTIONS_PER_ADDRESS)]
        max_connections_per_address: usize,
        /// MiB of push messages one device may send per clock hour (UTC).
        #[arg(long, default_value_t = limits::BYTES_PER_HOUR >> 20)]
        hourly_quota_mib: u64,
        /// MiB of push messages one device may send per day (UTC).
        #[arg(long, default_value_t = limits::BYTES_PER_DAY >> 20)]
        daily_quota_mib: u64,
        /// Address of the dashboard (HTTPS, the server's certificate);
        /// default: the listen address's host, its port + 1 (7444; with `--listen
        /// host:0`, a port of the system's choosing).
        #[arg(long)]
        web: Option<String>,
        /// Serve no dashboard.
        #[arg(long, conflicts_with = "web")]
        no_web: bool,
        /// Fill an empty data directory with a demo township first, and print
        /// a login link to its dashboard.
        #[arg(long, conflicts_with = "no_web")]
        demo: bool,
        /// Make a backup this often while serving (24h, 12h, 30m…) into
        /// --backup-dir; the first one a period after starting.
        #[arg(long, requires = "backup_dir", value_parser = admin::parse_duration)]
        backup_every: Option<Duration>,
        /// How many scheduled backups to keep; older ones are removed.
        #[arg(long, default_value_t = crate::backup::DEFAULT_KEEP as u64,
              value_parser = clap::value_parser!(u64).range(1..))]
        backup_keep: u64,
        /// Directory of scheduled backups (made 0700).
        #[arg(long, requires = "backup_every")]
        backup_dir: Option<PathBuf>,
        /// Serve Prometheus metrics over plain HTTP on this address
        /// (e.g. 127.0.0.1:9464); off unless given.
        #[arg(long)]
        metrics: Option<std::net::SocketAddr>,
    },
    /// Fill an empty data directory with a demo township: villages, people,
    /// a campaign's months of records, made through the server's own intake.
    Demo {
        /// Data directory to fill (made if missing; must have no villages).
        #[arg(long, default_value = "massline-data")]
        data: PathBuf,
        /// Seed of the generator: the same seed makes the same township.
        #[arg(long, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
    },
    /// Township office commands on a data directory (they work while serving).
    Admin {
        /// Data directory of the server.
        #[arg(long, default_value = "massline-data")]
        data: PathBuf,
        #[command(subcommand)]
        command: Admin,
    },
}

#[derive(Subcommand)]
enum Admin {
    /// Set the township's name (shown on devices).
    Township {
        /// The name, e.g. 红星镇.
        name: String,
    },
    /// Villages of the township.
    #[command(subcommand)]
    Village(VillageCmd),
    /// People: Party members, cadres, secretaries, township officers.
    #[command(subcommand)]
    Person(PersonCmd),
    /// Make a one-time enrollment code for a person's device (printed with a QR code).
    EnrollCode {
        /// The person's id.
        #[arg(long)]
        person: String,
        /// Server address to put in the code (default: where the server last served).
        #[arg(long)]
        address: Option<String>,
        /// How long the code stays valid: 7d (days), 12h (hours), 30m
        /// (minutes) or 90s (seconds); at most 90 days.
        // "7d" is `registry::DEFAULT_CODE_VALIDITY` (checked in admin's tests).
        #[arg(long, default_value = "7d", value_parser = admin::parse_validity)]
        valid_for: Duration,
        /// Print only the code, without the QR code.
        #[arg(long)]
        no_qr: bool,
    },
    /// Set a person's dashboard password (read from standard input, or
    /// asked for without echo on a terminal). Ends their open sessions.
    Password {
        /// The person's id (a township officer, secretary or cadre).
        #[arg(long)]
        person: String,
    },
    /// Print a one-time login link to the dashboard for a person.
    LoginLink {
        /// The person's id (a township officer, secretary or cadre).
        #[arg(long)]
        person: String,
        /// Dashboard address to put in the link (default: where it last served).
        #[arg(long)]
        address: Option<String>,
        /// How long the link stays valid: 24h, 30m, 7d (at most 7 days).
        // "24h" is `accounts::DEFAULT_LOGIN_LINK_VALIDITY`.
        #[arg(long, default_value = "24h", value_parser = admin::parse_duration)]
        valid_for: Duration,
    },
    /// Enrolled devices.
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Who changed a record, when, and which fields.
    History {
        /// The record's id (32 characters).
        id: String,
    },
    /// Purge a record for good at a villager's request: a visit, an opinion
    /// or a service request. Its content leaves the server now and every
    /// phone at its next sync; the purge (record, kind, scope, by whom, when,
    /// why) is kept in the audit log, and no change to the record is taken again.
    Purge {
        /// The record's id (32 characters).
        #[arg(long)]
        record: String,
        /// The township officer who purges it (their person id).
        #[arg(long)]
        by: String,
        /// Why: kept in the audit log.
        #[arg(long)]
        reason: String,
    },
    /// The audit log of purges, newest first: when, record, kind, scope, by whom, why.
    Purged,
    /// Villages outside the 3 to 5 practical things the campaign asks for.
    Warnings,
    /// Make every typed row (the dashboard's tables) again from the stored records.
    RebuildRows,
    /// Sync bundles from devices in places with no link.
    #[command(subcommand)]
    Bundle(BundleCmd),
    /// Copy the data directory, while the server runs, into one file (0600):
    /// a consistent snapshot of the database, the certificate and its key.
    Backup {
        /// The backup file to write (replaced once the copy is whole).
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup in place as the data directory (`--data`), which must be
    /// missing or empty unless --replace. The restored server gets a new
    /// identity: devices send again what it lacks when they next sync.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// Replace the server's files in a data directory that has them
        /// (stop the server first).
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Subcommand)]
enum BundleCmd {
    /// Take in a device's bundle (`massline bundle export`) as its push and
    /// pull, with the same checks, and write the reply for the device
    /// (`massline bundle import`).
    Import {
        /// The device's bundle.
        file: PathBuf,
        /// Where to write the reply bundle.
        #[arg(long)]
        reply_out: PathBuf,
    },
}

#[derive(Subcommand)]
enum VillageCmd {
    /// Add a village.
    Add {
        /// A stable code (letters, digits, - or _), e.g. dongcun.
        code: String,
        /// The village's name, e.g. 东村.
        name: String,
    },
    /// List villages.
    List,
}

#[derive(Subcommand)]
enum PersonCmd {
    /// Add a person; prints their id.
    Add {
        /// Their name.
        #[arg(long)]
        name: String,
        /// member (党员), cadre (村两委成员), secretary (村党组织书记) or township_officer (乡镇活动办公室).
        #[arg(long)]
        role: String,
        /// Their village's code (not for township officers).
        #[arg(long)]
        village: Option<String>,
        /// Choose the id instead of a generated one.
        #[arg(long)]
        id: Option<String>,
    },
    /// List people.
    List {
        /// Only this village.
        #[arg(long)]
        village: Option<String>,
    },
    /// Revoke a person: their devices, dashboard sessions, codes and links
    /// stop working at once. Their records stay.
    Revoke {
        /// The person's id.
        id: String,
    },
    /// Give a person another role (and village); their dashboard sessions end.
    SetRole {
        /// The person's id.
        id: String,
        /// member, cadre, secretary or township_officer.
        #[arg(long)]
        role: String,
        /// Their village's code (not for township officers).
        #[arg(long)]
        village: Option<String>,
    },
}

#[derive(Subcommand)]
enum DeviceCmd {
    /// List enrolled devices by person, with their app version and when
    /// each last synced.
    List {
        /// Only this person's devices.
        #[arg(long)]
        person: Option<String>,
    },
    /// Revoke a lost device: it is refused from its next call or push message on,
    /// and a pull it has open stops.
    Revoke {
        /// The device's number (see `device list`).
        id: u64,
    },
}

fn village(code: Option<String>) -> anyhow::Result<Option<VillageCode>> {
    code.map(VillageCode::new)
        .transpose()
        .map_err(anyhow::Error::msg)
}

/// Resolves on SIGINT or SIGTERM. The handlers are in place when this
/// returns, before the server says it is ready: a service manager's SIGTERM
/// right after start ends it gracefully rather than killing it.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing calls under way");
    })
}

/// Fills the data directory with the demo township if it has no villages,
/// and makes login links for its township officer and a secretary.
fn demo_lines(data: &std::path::Path, web_address: &str) -> anyhow::Result<Vec<String>> {
    let db = admin::open(data)?;
    let mut lines = Vec::new();
    if db.read(registry::villages)?.is_empty() {
        let made = demo::fill(&db, demo::DEFAULT_SEED, chrono::Local::now().date_naive())?;
        lines.push(format!(
            "demo township made: {} villages, {} people, {} records",
            made.villages, made.people, made.records
        ));
    }
    let officer = PersonId::new(demo::OFFICER).map_err(anyhow::Error::msg)?;
    let address = Some(web_address.to_string());
    let validity = crate::web::accounts::DEFAULT_LOGIN_LINK_VALIDITY;
    lines.push(format!(
        "dashboard, as the township officer (one-time link, {} h): {}",
        validity.as_secs() / 3600,
        admin::login_link(&db, &officer, address.clone(), validity)?
    ));
    if let Some((v, _)) = demo::VILLAGES.first() {
        let secretary = PersonId::new(format!("{v}-shuji")).map_err(anyhow::Error::msg)?;
        if let Ok(link) = admin::login_link(&db, &secretary, address, validity) {
            lines.push(format!("dashboard, as a village secretary: {link}"));
        }
    }
    lines.push(format!(
        "more links: massline-server admin --data {} login-link --person {}",
        data.display(),
        demo::OFFICER
    ));
    Ok(lines)
}

/// A password from standard input: asked for without echo on a terminal,
/// else the first line.
fn read_password(person: &PersonId) -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    let mut line = String::new();
    if stdin.is_terminal() {
        eprint!("dashboard password for {person}: ");
        std::io::stderr().flush()?;
        #[cfg(unix)]
        let echo_off = no_echo(&stdin);
        let read = stdin.lock().read_line(&mut line);
        #[cfg(unix)]
        drop(echo_off);
        eprintln!();
        read?;
    } else {
        stdin.lock().read_line(&mut line)?;
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Turns a terminal's echo off until the returned guard drops.
#[cfg(unix)]
fn no_echo(stdin: &std::io::Stdin) -> Option<impl Drop + '_> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    struct Restore<'a>(&'a std::io::Stdin, nix::sys::termios::Termios);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = tcsetattr(self.0, SetArg::TCSANOW, &self.1);
        }
    }
    let saved = tcgetattr(stdin).ok()?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(stdin, SetArg::TCSANOW, &quiet).ok()?;
    Some(Restore(stdin, saved))
}

/// Runs the command line; errors are printed and end the process with status 1.
pub fn main() {
    if let Err(e) = run() {
        eprintln!("error: {}", massline_model::report::report(e.as_ref()));
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    crate::logs::init(cli.log_format);
    match cli.command {
        Command::Serve {
            data,
            listen,
            public_address,
            plaintext,
            ready_file,
            max_connections,
            max_connections_per_address,
            hourly_quota_mib,
            daily_quota_mib,
            web: web_listen,
            no_web,
            demo: with_demo,
            backup_every,
            backup_keep,
            backup_dir,
            metrics,
        } => {
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                if let (Some(every), Some(dir)) = (backup_every, backup_dir) {
                    let keep = usize::try_from(backup_keep).unwrap_or(usize::MAX);
                    tokio::spawn(crate::backup::every(data.clone(), dir, every, keep));
                }
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                let local = listener.local_addr()?;
                // Before anything else is bound: the refusal is the answer,
                // whatever the dashboard's port would have met.
                crate::plaintext_only_on_loopback(local, !plaintext)?;
                let web_listener = if no_web {
                    None
                } else {
                    let web_listen =
                        web_listen.unwrap_or_else(|| dashboard_beside(&listen, local).to_string());
                    Some(
                        tokio::net::TcpListener::bind(&web_listen)
                            .await
                            .with_context(|| {
                                format!("cannot serve the dashboard on {web_listen}")
                            })?,
                    )
                };
                if with_demo {
                    let web_local = web_listener
                        .as_ref()
                        .map(|l| l.local_addr())
                        .transpose()?
                        .context("--demo needs the dashboard")?;
                    let address = web::public_address(public_address.as_deref(), web_local);
                    for line in demo_lines(&data, &address)? {
                        println!("{line}");
                    }
                }
                let shutdown = shutdown_signal()?;
                crate::serve(
                    Listeners {
                        grpc: listener,
                        web: web_listener,
                    },
                    ServeConfig {
                        data_dir: data,
                        tls: !plaintext,
                        public_address,
                        feed: FeedOptions::default(),
                        connections: ConnectionLimits {
                            max_connections,
                            per_address: max_connections_per_address,
                            ..ConnectionLimits::default()
                        },
                        enroll_failures: ENROLL_FAILURES,
                        limits: limits::Limits {
                            bytes_per_hour: hourly_quota_mib.saturating_mul(1 << 20),
                            bytes_per_day: daily_quota_mib.saturating_mul(1 << 20),
                            ..limits::Limits::default()
                        },
                        web: web::WebOptions::default(),
                        metrics,
                        ready_file,
                    },
                    shutdown,
                )
                .await?;
                Ok(())
            })
        }
        Command::Demo { data, seed } => {
            let made = demo::fill_dir(&data, seed)?;
            println!(
                "{} villages, {} people, {} records ({} changes) made in {}",
                made.villages,
                made.people,
                made.records,
                made.changes,
                data.display()
            );
            println!(
                "start the server (`massline-server serve --data {}`), then log in with \
                 `massline-server admin --data {} login-link --person {}`",
                data.display(),
                data.display(),
                demo::OFFICER
            );
            Ok(())
        }
        Command::Admin {
            data,
            command: Admin::Backup { to },
        } => {
            let summary = crate::backup::backup(&data, &to)?;
            println!("{} written: {summary}", to.display());
            Ok(())
        }
        Command::Admin {
            data,
            command: Admin::Restore { from, replace },
        } => {
            let summary = crate::backup::restore(&from, &data, replace)?;
            println!(
                "{} restored into {} ({summary}); the server has a new identity",
                from.display(),
                data.display()
            );
            Ok(())
        }
        Command::Admin { data, command } => {
            let db = admin::open(&data)?;
            match command {
                Admin::Township { name } => admin::set_township(&db, &name)?,
                Admin::Village(VillageCmd::Add { code, name }) => {
                    let code = VillageCode::new(code).map_err(anyhow::Error::msg)?;
                    db.write(|tx| registry::add_village(tx, &code, &name))?;
                    println!("{code}");
                }
                Admin::Village(VillageCmd::List) => {
                    for line in admin::village_lines(&db)? {
                        println!("{line}");
                    }
                }
                Admin::Person(PersonCmd::Add {
                    name,
                    role,
                    village: v,
                    id,
                }) => {
                    let role: Role = role.parse().map_err(anyhow::Error::msg)?;
                    let id = id
                        .map(PersonId::new)
                        .transpose()
                        .map_err(anyhow::Error::msg)?;
                    let v = village(v)?;
                    println!("{}", admin::add_person(&db, id, &name, role, v.as_ref())?);
                }
                Admin::Person(PersonCmd::List { village: v }) => {
                    for line in admin::person_lines(&db, village(v)?.as_ref())? {
                        println!("{line}");
                    }
                }
                Admin::Person(PersonCmd::Revoke { id }) => {
                    let id = PersonId::new(id).map_err(anyhow::Error::msg)?;
                    println!("{}", admin::revoke_person(&db, &id)?);
                }
                Admin::Person(PersonCmd::SetRole {
                    id,
                    role,
                    village: v,
                }) => {
                    let id = PersonId::new(id).map_err(anyhow::Error::msg)?;
                    let role: Role = role.parse().map_err(anyhow::Error::msg)?;
                    admin::set_role(&db, &id, role, village(v)?.as_ref())?;
                    println!("{id} is now {}", role.code());
                }
                Admin::Password { person } => {
                    let person = PersonId::new(person).map_err(anyhow::Error::msg)?;
                    let password = read_password(&person)?;
                    admin::set_password(&db, &person, &password)?;
                    println!("dashboard password of {person} set");
                }
                Admin::LoginLink {
                    person,
                    address,
                    valid_for,
                } => {
                    let person = PersonId::new(person).map_err(anyhow::Error::msg)?;
                    println!("{}", admin::login_link(&db, &person, address, valid_for)?);
                }
                Admin::EnrollCode {
                    person,
                    address,
                    valid_for,
                    no_qr,
                } => {
                    let person = PersonId::new(person).map_err(anyhow::Error::msg)?;
                    let code = admin::enrollment_code(&data, &db, &person, address, valid_for)?;
                    if !no_qr {
                        println!("{}", admin::qr_text(&code)?);
                    }
                    println!("{code}");
                }
                Admin::Device(DeviceCmd::List { person }) => {
                    let person = person
                        .map(PersonId::new)
                        .transpose()
                        .map_err(anyhow::Error::msg)?;
                    for line in admin::device_lines(&db, person.as_ref())? {
                        println!("{line}");
                    }
                }
                Admin::Device(DeviceCmd::Revoke { id }) => {
                    db.write(|tx| registry::revoke(tx, id))?;
                    println!("device {id} revoked");
                }
                Admin::History { id } => {
                    for line in admin::history_lines(&db, &id)? {
                        println!("{line}");
                    }
                }
                Admin::Purge { record, by, reason } => {
                    println!("{}", admin::purge(&db, &record, &by, &reason)?);
                }
                Admin::Purged => {
                    for line in purge::log_lines(&db)? {
                        println!("{line}");
                    }
                }
                Admin::Warnings => {
                    for line in admin::warning_lines(&db)? {
                        println!("{line}");
                    }
                }
                Admin::RebuildRows => println!("{}", admin::rebuild_rows(&db)?),
                Admin::Bundle(BundleCmd::Import { file, reply_out }) => {
                    println!("{}", admin::import_bundle(&db, &file, &reply_out)?);
                }
                Admin::Backup { .. } | Admin::Restore { .. } => {
                    unreachable!("handled before the database is opened")
                }
            }
            Ok(())
        }
    }
}

/// Where the dashboard listens when not told: beside the sync port asked
/// for (its port + 1), or on a port of the system's choosing when sync was
/// given one (`--listen host:0`) or the next port does not exist.
fn dashboard_beside(listen: &str, local: std::net::SocketAddr) -> std::net::SocketAddr {
    let asked = listen
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok());
    let port = match asked {
        Some(0) => 0,
        _ => local.port().checked_add(1).unwrap_or(0),
    };
    std::net::SocketAddr::new(local.ip(), port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_goes_beside_the_sync_port_or_where_the_system_chooses() {
        let at = |listen: &str, local: &str| {
            dashboard_beside(listen, local.parse().expect("an address")).to_string()
        };
        assert_eq!(at("127.0.0.1:7443", "127.0.0.1:7443"), "127.0.0.1:7444");
        assert_eq!(at("[::]:7443", "[::]:7443"), "[::]:7444");
        // Sync on a port the system chose: the dashboard too, not the one
        // after it, which may be anyone's.
        assert_eq!(at("127.0.0.1:0", "127.0.0.1:41234"), "127.0.0.1:0");
        assert_eq!(at("[::]:0", "[::]:41234"), "[::]:0");
        assert_eq!(at("127.0.0.1:65535", "127.0.0.1:65535"), "127.0.0.1:0");
    }
}
