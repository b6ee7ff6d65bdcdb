//! `massline`: a field client on the device core, for village PCs, scripts and
//! demos. Everything but `enroll` and `sync` works with no server.
//!
//! The whole command line is here, behind [`main`], so that the binary of
//! this crate and the process tests (which build their own copy to kill it
//! mid-sync) run the same code.

mod fields;
mod progress;
mod render;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{ArgMatches, Args, FromArgMatches, Subcommand};
use fields::Cx;
use massline_core::catalog;
use massline_core::store::documents::RecordRow;
use massline_core::{Client, Coded, Lang, Link, PersonId, RecordKind, StoreKey, VillageCode};
use serde_json::json;

// The options every command takes.
#[derive(Args)]
struct Global {
    /// The local store (an SQLite file, made on first use).
    #[arg(
        long,
        global = true,
        env = "MASSLINE_STORE",
        default_value = "massline.db",
        help_heading = "Global options"
    )]
    store: PathBuf,
    /// The key of an encrypted store: a file holding 64 hex characters (32
    /// random bytes, e.g. from `openssl rand -hex 32`). The environment
    /// variable MASSLINE_STORE_KEY may hold the key itself instead. Needs a
    /// build with the `sqlcipher` feature.
    #[arg(
        long,
        global = true,
        env = "MASSLINE_STORE_KEY_FILE",
        help_heading = "Global options"
    )]
    key_file: Option<PathBuf>,
    /// Language of labels: zh (中文) or en.
    #[arg(
        long,
        global = true,
        env = "MASSLINE_LANG",
        default_value = "zh",
        help_heading = "Global options"
    )]
    lang: String,
}

// The commands besides those of each kind of record.
#[derive(Subcommand)]
enum Command {
    /// Enrol this device with the code from the township office (needs the server).
    #[command(display_order = 0)]
    Enroll {
        /// The whole code, massline://…
        code: String,
        /// Reach the server at this host:port instead of the one in the code.
        #[arg(long)]
        address: Option<String>,
        /// A name for this device, shown to the township office.
        #[arg(long, default_value = "massline-cli")]
        name: String,
    },
    /// List records of every kind, or of one (see `massline codes` for kinds).
    #[command(display_order = 100)]
    List {
        /// Only this kind, e.g. opinion.
        kind: Option<String>,
        /// Withdrawn records too.
        #[arg(long)]
        all: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one record (its id, or the start of it).
    #[command(display_order = 101)]
    Show(ShowArgs),
    /// Withdraw a record entered by mistake, with the reason.
    #[command(display_order = 102)]
    Withdraw(WithdrawArgs),
    /// What the village is asked to keep but may not have (3 to 5 practical things).
    #[command(display_order = 103)]
    Warnings,
    /// Your to-do list today, from the records on this device: why each item
    /// is listed and its record.
    #[command(display_order = 104)]
    Todo {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Send local changes to the township server and fetch others' (needs the server).
    #[command(display_order = 104)]
    Sync {
        /// Attempts in all when the link is cut (each after a longer wait,
        /// up to 30 s; the messages of the next are smaller).
        #[arg(long, default_value_t = 1)]
        attempts: u32,
    },
    /// Sync by file where there is no link: export a bundle for the township
    /// office, import its reply.
    #[command(display_order = 104, subcommand)]
    Bundle(BundleCmd),
    /// Unsent and refused changes, last sync, cursors.
    #[command(display_order = 105)]
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The codes accepted by the options, with their labels.
    #[command(display_order = 106)]
    Codes,
}

#[derive(Subcommand)]
enum BundleCmd {
    /// Write the changes the server has not acknowledged, and what this
    /// device would pull, to a file (small enough for a chat attachment).
    Export {
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Take in the township's reply to the last exported bundle.
    Import {
        /// The reply file (`massline-server admin bundle import --reply-out`).
        file: PathBuf,
    },
}

/// The whole command line: the commands above, and for each kind of record
/// its command (made from its declaration) with `add`, `update`, `list`,
/// `show` and `withdraw`.
fn command() -> clap::Command {
    let cmd = clap::Command::new("massline")
        .version(env!("CARGO_PKG_VERSION"))
        .about("massline field client (群众路线教育实践活动记录).")
        .long_about(
            "massline field client (群众路线教育实践活动记录).\n\n\
             Records are kept in a local store first and sent to the township server by \
             `sync` when there is a link. Each kind of record has its own command (add, \
             update, list, show, withdraw); `massline codes` lists the codes options take.",
        )
        .subcommand_required(true)
        .arg_required_else_help(true);
    let mut cmd = Command::augment_subcommands(Global::augment_args(cmd));
    for (i, kind) in RecordKind::all().iter().enumerate() {
        cmd = cmd.subcommand(kind_command(*kind).display_order(i + 1));
    }
    cmd
}

/// A kind's command: its declaration's command name and doc, and its
/// subcommands.
fn kind_command(kind: RecordKind) -> clap::Command {
    let spec = kind.spec();
    let mut cmd = clap::Command::new(spec.command)
        .about(spec.doc)
        .subcommand_required(true)
        .subcommand(
            clap::Command::new("add")
                .about(format!(
                    "Add a record: {} (options not given take their defaults)",
                    fields::kind_label(kind)
                ))
                .args(fields::args(kind))
                .arg(
                    clap::Arg::new("village")
                        .long("village")
                        .value_name("VILLAGE")
                        .help(
                            "The village, for a township officer (who has none of their own); \
                             a notice naming none goes to every village.",
                        ),
                ),
        )
        .subcommand(
            clap::Command::new("update")
                .about("Change a record: only the options given change.")
                .arg(
                    clap::Arg::new("id")
                        .required(true)
                        .help("The record's id, or its first characters."),
                )
                .args(fields::args(kind)),
        )
        .subcommand(ListArgs::augment_args(
            clap::Command::new("list")
                .about("List records of this kind, most recently changed first."),
        ))
        .subcommand(ShowArgs::augment_args(
            clap::Command::new("show").about("Show one record."),
        ))
        .subcommand(WithdrawArgs::augment_args(clap::Command::new("withdraw").about(
            "Withdraw a record entered by mistake, with the reason. It leaves the lists but stays in the history.",
        )));
    match kind {
        RecordKind::StudyEntry => cmd = StudyCmd::augment_subcommands(cmd),
        RecordKind::Visit => {
            for (name, made, about) in [
                (
                    "to-opinion",
                    RecordKind::Opinion,
                    "Make an opinion of a demand raised on a visit (linked both ways).",
                ),
                (
                    "to-service",
                    RecordKind::ServiceRequest,
                    "Make a service request of a demand raised on a visit (linked both ways).",
                ),
            ] {
                cmd = cmd.subcommand(
                    clap::Command::new(name)
                        .about(about)
                        .arg(
                            clap::Arg::new("visit")
                                .required(true)
                                .help("The visit's id, or its first characters."),
                        )
                        .arg(
                            clap::Arg::new("demand")
                                .long("demand")
                                .required(true)
                                .help("The demand's id (see `massline visit show`)."),
                        )
                        .args(fields::args(made)),
                );
            }
        }
        _ => {}
    }
    cmd
}

#[derive(clap::Args)]
struct ListArgs {
    /// Withdrawn records too.
    #[arg(long)]
    all: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct ShowArgs {
    /// The record's id, or its first characters.
    id: String,
    /// Also who changed what, and when.
    #[arg(long)]
    history: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct WithdrawArgs {
    /// The record's id, or its first characters.
    id: String,
    /// Why it is withdrawn.
    #[arg(long)]
    reason: String,
}

// What personal study has besides the commands of every kind.
#[derive(Subcommand)]
enum StudyCmd {
    /// The study credited to a member (default: everyone on this device):
    /// their own entries and the sessions they attended.
    Log {
        /// Only this member.
        #[arg(long)]
        member: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn print_rows(client: &Client, rows: &[RecordRow], json: bool, lang: Lang) -> anyhow::Result<()> {
    let mut out = Vec::new();
    for r in rows {
        let links = client.links(&r.id)?;
        if json {
            out.push(row_json(r, &links));
        } else {
            println!("{}", render::line(r, &links, lang));
        }
    }
    if json {
        println!("{}", serde_json::Value::Array(out));
    }
    Ok(())
}

fn row_json(r: &RecordRow, links: &[Link]) -> serde_json::Value {
    json!({
        "id": r.id,
        "scope": r.scope,
        "kind": r.kind.map(|k| k.code()),
        "record": r.record,
        "problem": r.problem,
        "withdrawn": r.withdrawn,
        "updated_at": r.updated_at,
        "links": render::links_json(links),
    })
}

/// Runs the command line given to this process and exits non-zero on error.
pub fn main() {
    if let Err(e) = run(&command().get_matches()) {
        eprintln!("error: {}", massline_core::report::report(e.as_ref()));
        std::process::exit(1);
    }
}

fn cx(client: &Client) -> anyhow::Result<Cx<'_>> {
    let me = client
        .identity()?
        .ok_or(massline_core::Error::NotEnrolled)?;
    Ok(Cx {
        client,
        me: me.principal.person,
        today: today(),
    })
}

fn village(v: Option<String>) -> anyhow::Result<Option<VillageCode>> {
    v.map(VillageCode::new)
        .transpose()
        .map_err(anyhow::Error::msg)
}

fn print_warnings(client: &Client) -> anyhow::Result<()> {
    for w in client.warnings()? {
        eprintln!("warning: {}", w.text);
    }
    Ok(())
}

fn text(m: &ArgMatches, id: &str) -> Option<String> {
    m.get_one::<String>(id).cloned()
}

fn run_kind(kind: RecordKind, m: &ArgMatches, client: &Client, lang: Lang) -> anyhow::Result<()> {
    match m.subcommand() {
        Some(("add", sub)) => {
            let cx = cx(client)?;
            let record = fields::build(kind, sub, fields::defaults(kind, &cx), &cx)?;
            println!("{}", client.create(record, village(text(sub, "village"))?)?);
            if kind == RecordKind::PracticalThing {
                print_warnings(client)?;
            }
        }
        Some(("update", sub)) => {
            let cx = cx(client)?;
            let id = client.resolve(&text(sub, "id").unwrap_or_default())?;
            let current = client
                .get(&id)?
                .record
                .with_context(|| format!("{id} does not read as a record"))?;
            if current.kind() != kind {
                bail!("{id} is a {}, not a {kind}", current.kind());
            }
            let new = fields::build(kind, sub, current.fields(), &cx)?;
            client.update(&id, &current, &new)?;
            println!("{id}");
        }
        Some(("list", sub)) => {
            let ListArgs { all, json } = ListArgs::from_arg_matches(sub)?;
            let rows = if all {
                client.list_all(Some(kind))?
            } else {
                client.list(Some(kind))?
            };
            print_rows(client, &rows, json, lang)?;
            if kind == RecordKind::PracticalThing {
                print_warnings(client)?;
            }
        }
        Some(("show", sub)) => show(client, ShowArgs::from_arg_matches(sub)?, lang)?,
        Some(("withdraw", sub)) => withdraw(client, WithdrawArgs::from_arg_matches(sub)?)?,
        Some((name @ ("to-opinion" | "to-service"), sub)) => {
            let made = if name == "to-opinion" {
                RecordKind::Opinion
            } else {
                RecordKind::ServiceRequest
            };
            let cx = cx(client)?;
            let record = fields::build(made, sub, fields::defaults(made, &cx), &cx)?;
            let visit = client.resolve(&text(sub, "visit").unwrap_or_default())?;
            let demand = text(sub, "demand").unwrap_or_default();
            println!("{}", client.make_from_demand(&visit, &demand, record)?);
        }
        _ => match StudyCmd::from_arg_matches(m)? {
            StudyCmd::Log { member, json } => study_log(client, member, json, lang)?,
        },
    }
    Ok(())
}

fn study_log(
    client: &Client,
    member: Option<String>,
    json: bool,
    lang: Lang,
) -> anyhow::Result<()> {
    let member = member
        .map(PersonId::new)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let log = client.study_log(member.as_ref())?;
    if json {
        let out: Vec<_> = log
            .iter()
            .map(|(id, c)| json!({"record": id, "credit": c}))
            .collect();
        println!("{}", serde_json::Value::Array(out));
    } else {
        print!("{}", render::study_log(&log, lang));
    }
    Ok(())
}

fn show(client: &Client, args: ShowArgs, lang: Lang) -> anyhow::Result<()> {
    let id = client.resolve(&args.id)?;
    let row = client.get(&id)?;
    let links = client.links(&id)?;
    let history = if args.history {
        Some(client.history(&id)?)
    } else {
        None
    };
    if args.json {
        let mut out = row_json(&row, &links);
        if let Some(h) = &history {
            out["history"] = render::history_json(h);
        }
        println!("{out}");
    } else {
        print!("{}", render::detail(&row, &links, lang));
        if let Some(h) = &history {
            print!("{}", render::history(h, lang));
        }
    }
    Ok(())
}

fn withdraw(client: &Client, args: WithdrawArgs) -> anyhow::Result<()> {
    let id = client.resolve(&args.id)?;
    client.withdraw(&id, &args.reason)?;
    println!("{id}");
    Ok(())
}

/// The environment variable that may hold the store's key (64 hex characters).
pub const STORE_KEY_ENV: &str = "MASSLINE_STORE_KEY";

/// The store's key, from `--key-file` or [`STORE_KEY_ENV`], if either is given.
fn store_key(key_file: Option<&Path>) -> anyhow::Result<Option<StoreKey>> {
    let from_env = std::env::var(STORE_KEY_ENV).ok();
    match (key_file, from_env) {
        (Some(_), Some(_)) => {
            bail!("give the store key either with --key-file or in {STORE_KEY_ENV}, not both")
        }
        (Some(path), None) => {
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the key file {}", path.display()))?,
            );
            let key = StoreKey::from_hex(&text)
                .with_context(|| format!("the key file {}", path.display()))?;
            Ok(Some(key))
        }
        (None, Some(text)) => {
            let text = zeroize::Zeroizing::new(text);
            Ok(Some(StoreKey::from_hex(&text).context(STORE_KEY_ENV)?))
        }
        (None, None) => Ok(None),
    }
}

fn run(m: &ArgMatches) -> anyhow::Result<()> {
    let global = Global::from_arg_matches(m)?;
    let lang = Lang::from_code(&global.lang).context("--lang must be zh or en")?;
    let kind = m.subcommand_name().and_then(fields::kind_of_command);
    let command = match kind {
        Some(_) => None,
        None => Some(Command::from_arg_matches(m)?),
    };
    if let Some(Command::Codes) = command {
        for list in catalog::code_lists() {
            println!("{}:", list.name);
            for v in list.values {
                println!("  {:<26} {} / {}", v.code, v.zh, v.en);
            }
        }
        return Ok(());
    }
    let client = match store_key(global.key_file.as_deref())? {
        Some(key) => Client::open_with_key(&global.store, &key),
        None => Client::open(&global.store),
    }
    .with_context(|| format!("cannot open the store {}", global.store.display()))?;
    let Some(command) = command else {
        let (Some(kind), Some((_, sub))) = (kind, m.subcommand()) else {
            bail!("no command given");
        };
        return run_kind(kind, sub, &client, lang);
    };
    match command {
        Command::Codes => {}
        Command::Enroll {
            code,
            address,
            name,
        } => {
            let rt = tokio::runtime::Runtime::new()?;
            let id = rt.block_on(client.enroll(&code, address.as_deref(), &name))?;
            println!(
                "enrolled as {} ({}, {}) in {} {}",
                id.name,
                id.principal.person,
                id.principal.role.label(lang),
                id.township,
                id.village_name.as_deref().unwrap_or("")
            );
        }
        Command::Show(args) => show(&client, args, lang)?,
        Command::Withdraw(args) => withdraw(&client, args)?,
        Command::Warnings => print_warnings(&client)?,
        Command::Todo { json } => {
            let items = client.todo(today(), lang)?;
            if json {
                let items: Vec<_> = items
                    .iter()
                    .map(|i| {
                        json!({
                            "id": i.id,
                            "reason": i.reason.code(),
                            "record": i.record.map(|r| r.to_hex()),
                            "kind": i.kind.map(|k| k.code()),
                            "day": i.day,
                            "why": i.why,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(items));
            } else {
                for i in &items {
                    match i.record {
                        Some(r) => println!("{}  {}", i.why, r),
                        None => println!("{}", i.why),
                    }
                }
            }
        }
        Command::List { kind, all, json } => {
            let kind = kind
                .map(|k| k.parse::<RecordKind>())
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let rows = if all {
                client.list_all(kind)?
            } else {
                client.list(kind)?
            };
            print_rows(&client, &rows, json, lang)?;
        }
        Command::Sync { attempts } => {
            let rt = tokio::runtime::Runtime::new()?;
            let report = rt.block_on(progress::sync(&client, attempts))?;
            println!("{}", render::report(&report));
            if report.refused > 0 {
                bail!(
                    "{} change(s) were refused; see `massline status`",
                    report.refused
                );
            }
        }
        Command::Bundle(BundleCmd::Export { out }) => {
            let exported = client.export_bundle()?;
            std::fs::write(&out, &exported.bytes)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "{} change(s) in {} ({} bytes): send it to the township office",
                exported.changes,
                out.display(),
                exported.bytes.len()
            );
        }
        Command::Bundle(BundleCmd::Import { file }) => {
            let f = std::fs::File::open(&file)
                .with_context(|| format!("opening {}", file.display()))?;
            let length = f.metadata()?.len();
            let bytes = massline_core::bundle::read_bounded(f, Some(length))?;
            let done = client.import_bundle(&bytes)?;
            println!("{}", render::imported(&done));
            if done.refused > 0 {
                bail!(
                    "{} change(s) were refused; see `massline status`",
                    done.refused
                );
            }
        }
        Command::Status { json } => {
            let s = client.status()?;
            let campaign = match s.identity {
                Some(_) => client.campaign(today())?,
                None => Vec::new(),
            };
            if json {
                println!(
                    "{}",
                    json!({
                        "enrolled": s.identity.as_ref().map(|i| json!({
                            "person": i.principal.person,
                            "name": i.name,
                            "role": i.principal.role,
                            "village": i.principal.village,
                            "server": i.server.address,
                        })),
                        "records": s.records,
                        "unsent": s.unsent,
                        "unsent_bytes": s.unsent_bytes,
                        "refused": s.refused.iter().map(|r| json!({
                            "record": r.doc, "code": r.code, "reason": r.reason,
                        })).collect::<Vec<_>>(),
                        "last_attempt_at": s.last_attempt_at,
                        "last_success_at": s.last_success_at,
                        "last_error": s.last_error,
                        "cursors": s.cursors.iter().map(|(k, v)| json!({"scope": k, "seq": v})).collect::<Vec<_>>(),
                        "campaign": campaign.iter().map(|c| json!({
                            "village": c.village,
                            "phase": c.standing.current,
                            "behind": c.standing.behind,
                        })).collect::<Vec<_>>(),
                    })
                );
            } else {
                print!("{}", render::status(&s, &campaign, lang));
            }
        }
    }
    Ok(())
}
