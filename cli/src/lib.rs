//! `massline`: a field client on the device core, for village PCs, scripts and
//! demos. Everything but `enroll` and `sync` works with no server.
//!
//! The whole command line is here, behind [`main`], so that the binary of
//! this crate and the process tests (which build their own copy to kill it
//! mid-sync) run the same code.

mod fields;
mod render;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use fields::{
    Cx, Fields, MeetingFields, MemberFields, NoticeFields, OpinionFields, PracticalFields,
    ProblemFields, RectificationFields, ServiceFields, SessionFields, StudyFields, VisitFields,
};
use massline_core::catalog;
use massline_core::store::documents::RecordRow;
use massline_core::{Client, Lang, Link, PersonId, RecordKind, StoreKey, VillageCode};
use serde_json::json;

/// massline field client (群众路线教育实践活动记录).
///
/// Records are kept in a local store first and sent to the township server by
/// `sync` when there is a link. Each kind of record has its own command (add,
/// update, list, show, withdraw); `massline codes` lists the codes options take.
#[derive(Parser)]
#[command(name = "massline", version)]
struct Cli {
    /// The local store (an SQLite file, made on first use).
    #[arg(
        long,
        global = true,
        env = "MASSLINE_STORE",
        default_value = "massline.db"
    )]
    store: PathBuf,
    /// The key of an encrypted store: a file holding 64 hex characters (32
    /// random bytes, e.g. from `openssl rand -hex 32`). The environment
    /// variable MASSLINE_STORE_KEY may hold the key itself instead. Needs a
    /// build with the `sqlcipher` feature.
    #[arg(long, global = true, env = "MASSLINE_STORE_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// Language of labels: zh (中文) or en.
    #[arg(long, global = true, env = "MASSLINE_LANG", default_value = "zh")]
    lang: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Enrol this device with the code from the township office (needs the server).
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
    /// Party members' files (党员档案): age, education, mobile members. Cadres only.
    #[command(subcommand)]
    Member(KindCmd<MemberFields>),
    /// Centralized study sessions (集中学习) and who attended; attending counts as study.
    #[command(subcommand)]
    Session(KindCmd<SessionFields>),
    /// Personal study (个人学习), in each member's own log.
    #[command(subcommand)]
    Study(StudyCmd),
    /// Opinions of the masses (意见建议). Kept as heard: the words never change. Cadres only.
    #[command(subcommand)]
    Opinion(KindCmd<OpinionFields>),
    /// The village's problem list (问题) and its control-inspection table.
    #[command(subcommand)]
    Problem(KindCmd<ProblemFields>),
    /// Rectification measures (整改措施), their steps, progress notes and filing.
    #[command(subcommand)]
    Rectification(KindCmd<RectificationFields>),
    /// Household visits (走访) and the demands raised. Cadres only.
    #[command(subcommand)]
    Visit(VisitCmd),
    /// Services handled for villagers (代办, 一次性告知). Cadres only.
    #[command(subcommand)]
    Service(KindCmd<ServiceFields>),
    /// The 3 to 5 practical things promised to the masses (为民办实事).
    #[command(subcommand)]
    Practical(KindCmd<PracticalFields>),
    /// Special organizational-life meetings (专题组织生活会) and appraisal. Cadres only.
    #[command(subcommand)]
    Meeting(KindCmd<MeetingFields>),
    /// What was made public (党务村务公开).
    #[command(subcommand)]
    Notice(KindCmd<NoticeFields>),
    /// List records of every kind, or of one (see `massline codes` for kinds).
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
    Show(ShowArgs),
    /// Withdraw a record entered by mistake, with the reason.
    Withdraw(WithdrawArgs),
    /// What the village is asked to keep but may not have (3 to 5 practical things).
    Warnings,
    /// Send local changes to the township server and fetch others' (needs the server).
    Sync,
    /// Unsent and refused changes, last sync, cursors.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The codes accepted by the options, with their labels.
    Codes,
}

/// What every kind of record offers.
#[derive(Subcommand)]
enum KindCmd<F: Fields> {
    /// Add a record (options not given take their defaults).
    Add {
        #[command(flatten)]
        fields: F,
        /// The village, for a township officer (who has none of their own).
        #[arg(long)]
        village: Option<String>,
    },
    /// Change a record: only the options given change.
    Update {
        /// The record's id, or its first characters.
        id: String,
        #[command(flatten)]
        fields: F,
    },
    /// List records of this kind, most recently changed first.
    List {
        /// Withdrawn records too.
        #[arg(long)]
        all: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one record.
    Show(ShowArgs),
    /// Withdraw a record entered by mistake, with the reason. It leaves the
    /// lists but stays in the history.
    Withdraw(WithdrawArgs),
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

#[derive(Subcommand)]
enum StudyCmd {
    #[command(flatten)]
    Kind(KindCmd<StudyFields>),
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

#[derive(Subcommand)]
enum VisitCmd {
    #[command(flatten)]
    Kind(KindCmd<VisitFields>),
    /// Make an opinion of a demand raised on a visit (linked both ways).
    ToOpinion {
        /// The visit's id, or its first characters.
        visit: String,
        /// The demand's id (see `massline visit show`).
        #[arg(long)]
        demand: String,
        #[command(flatten)]
        fields: OpinionFields,
    },
    /// Make a service request of a demand raised on a visit (linked both ways).
    ToService {
        /// The visit's id, or its first characters.
        visit: String,
        /// The demand's id (see `massline visit show`).
        #[arg(long)]
        demand: String,
        #[command(flatten)]
        fields: ServiceFields,
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
        "kind": r.kind,
        "record": r.record,
        "problem": r.problem,
        "withdrawn": r.withdrawn,
        "updated_at": r.updated_at,
        "links": render::links_json(links),
    })
}

/// Runs the command line given to this process and exits non-zero on error.
pub fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
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

fn object(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

fn run_kind<F: Fields>(cmd: KindCmd<F>, client: &Client, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        KindCmd::Add { fields, village: v } => {
            let cx = cx(client)?;
            let record = fields::build(&fields, object(F::defaults(&cx)), &cx)?;
            println!("{}", client.create(record, village(v)?)?);
            if F::KIND == RecordKind::PracticalThing {
                print_warnings(client)?;
            }
        }
        KindCmd::Update { id, fields } => {
            let cx = cx(client)?;
            let id = client.resolve(&id)?;
            let current = client
                .get(&id)?
                .record
                .with_context(|| format!("{id} does not read as a record"))?;
            if current.kind() != F::KIND {
                bail!("{id} is a {}, not a {}", current.kind(), F::KIND);
            }
            let new = fields::build(&fields, current.fields(), &cx)?;
            client.update(&id, &current, &new)?;
            println!("{id}");
        }
        KindCmd::List { all, json } => {
            let rows = if all {
                client.list_all(Some(F::KIND))?
            } else {
                client.list(Some(F::KIND))?
            };
            print_rows(client, &rows, json, lang)?;
            if F::KIND == RecordKind::PracticalThing {
                print_warnings(client)?;
            }
        }
        KindCmd::Show(args) => show(client, args, lang)?,
        KindCmd::Withdraw(args) => withdraw(client, args)?,
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

fn run(cli: Cli) -> anyhow::Result<()> {
    let lang = Lang::from_code(&cli.lang).context("--lang must be zh or en")?;
    if let Command::Codes = cli.command {
        for list in catalog::code_lists() {
            println!("{}:", list.name);
            for v in list.values {
                println!("  {:<26} {} / {}", v.code, v.zh, v.en);
            }
        }
        return Ok(());
    }
    let client = match store_key(cli.key_file.as_deref())? {
        Some(key) => Client::open_with_key(&cli.store, &key),
        None => Client::open(&cli.store),
    }
    .with_context(|| format!("cannot open the store {}", cli.store.display()))?;
    match cli.command {
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
        Command::Member(c) => run_kind(c, &client, lang)?,
        Command::Session(c) => run_kind(c, &client, lang)?,
        Command::Study(StudyCmd::Kind(c)) => run_kind(c, &client, lang)?,
        Command::Study(StudyCmd::Log { member, json }) => {
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
        }
        Command::Opinion(c) => run_kind(c, &client, lang)?,
        Command::Problem(c) => run_kind(c, &client, lang)?,
        Command::Rectification(c) => run_kind(c, &client, lang)?,
        Command::Visit(VisitCmd::Kind(c)) => run_kind(c, &client, lang)?,
        Command::Visit(VisitCmd::ToOpinion {
            visit,
            demand,
            fields,
        }) => {
            let cx = cx(&client)?;
            let record = fields::build(&fields, object(OpinionFields::defaults(&cx)), &cx)?;
            let visit = client.resolve(&visit)?;
            println!("{}", client.make_from_demand(&visit, &demand, record)?);
        }
        Command::Visit(VisitCmd::ToService {
            visit,
            demand,
            fields,
        }) => {
            let cx = cx(&client)?;
            let record = fields::build(&fields, object(ServiceFields::defaults(&cx)), &cx)?;
            let visit = client.resolve(&visit)?;
            println!("{}", client.make_from_demand(&visit, &demand, record)?);
        }
        Command::Service(c) => run_kind(c, &client, lang)?,
        Command::Practical(c) => run_kind(c, &client, lang)?,
        Command::Meeting(c) => run_kind(c, &client, lang)?,
        Command::Notice(c) => run_kind(c, &client, lang)?,
        Command::Show(args) => show(&client, args, lang)?,
        Command::Withdraw(args) => withdraw(&client, args)?,
        Command::Warnings => print_warnings(&client)?,
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
        Command::Sync => {
            let rt = tokio::runtime::Runtime::new()?;
            let report = rt.block_on(client.sync())?;
            println!("{}", render::report(&report));
            if report.refused > 0 {
                bail!(
                    "{} change(s) were refused; see `massline status`",
                    report.refused
                );
            }
        }
        Command::Status { json } => {
            let s = client.status()?;
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
                        "refused": s.refused.iter().map(|r| json!({
                            "record": r.doc, "code": r.code, "reason": r.reason,
                        })).collect::<Vec<_>>(),
                        "last_attempt_at": s.last_attempt_at,
                        "last_success_at": s.last_success_at,
                        "last_error": s.last_error,
                        "cursors": s.cursors.iter().map(|(k, v)| json!({"scope": k, "seq": v})).collect::<Vec<_>>(),
                    })
                );
            } else {
                print!("{}", render::status(&s, lang));
            }
        }
    }
    Ok(())
}
