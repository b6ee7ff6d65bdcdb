//! `massline`: a field client on the device core, for village PCs, scripts and
//! demos. Everything but `enroll` and `sync` works with no server.

mod render;

use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use massline_core::records::{
    FourWinds, Helper, HelperKind, Opinion, OpinionArea, OpinionChannel, OpinionStatus,
    ProgressNote, Rectification, RectificationStatus, RectificationTerm, SourceGroup, StudyEntry,
    StudyMaterial, StudyMode,
};
use massline_core::store::documents::RecordRow;
use massline_core::{Client, Coded, Lang, PersonId, Record, RecordKind, VillageCode};
use serde_json::json;

/// massline field client (群众路线教育实践活动记录).
///
/// Records are kept in a local store first and sent to the township server by
/// `sync` when there is a link.
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
    /// Personal study (个人学习).
    #[command(subcommand)]
    Study(StudyCmd),
    /// Opinions of the masses (意见建议).
    #[command(subcommand)]
    Opinion(OpinionCmd),
    /// Rectification measures (整改措施).
    #[command(subcommand)]
    Rectification(RectificationCmd),
    /// List records, of one kind or all: study_entry, opinion, rectification.
    List {
        /// Only this kind.
        kind: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one record (its id, or the start of it).
    Show {
        /// The record's id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Send local changes to the township server and fetch others' (needs the server).
    Sync,
    /// Unsent and refused changes, last sync, cursors.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The codes accepted by the options above, with their labels.
    Codes,
}

#[derive(Args)]
struct StudyFields {
    /// Day of study, YYYY-MM-DD (default today).
    #[arg(long)]
    date: Option<NaiveDate>,
    /// What was studied (see `massline codes`).
    #[arg(long)]
    material: Option<StudyMaterial>,
    /// Title or subject.
    #[arg(long)]
    topic: Option<String>,
    /// How: self_study, centralized, pairing, night_visit, counselling, distance_education.
    #[arg(long)]
    mode: Option<StudyMode>,
    /// Minutes spent (1 to 720).
    #[arg(long)]
    minutes: Option<u32>,
    /// Kind of helper: graduate_official, well_off_cadre, backbone_member.
    #[arg(long, requires = "helper")]
    helper_kind: Option<HelperKind>,
    /// Helper's name.
    #[arg(long, requires = "helper_kind")]
    helper: Option<String>,
    /// What the member took from it.
    #[arg(long)]
    reflection: Option<String>,
}

#[derive(Subcommand)]
enum StudyCmd {
    /// Log a study sitting.
    Add {
        /// The member who studied (default: yourself).
        #[arg(long)]
        member: Option<String>,
        #[command(flatten)]
        fields: StudyFields,
    },
    /// Change a study entry.
    Update {
        /// The entry's id.
        id: String,
        #[command(flatten)]
        fields: StudyFields,
    },
}

#[derive(Subcommand)]
enum OpinionCmd {
    /// File an opinion as heard.
    Add {
        /// Day it was heard, YYYY-MM-DD (default today).
        #[arg(long)]
        date: Option<NaiveDate>,
        /// Where it was heard (see `massline codes`).
        #[arg(long)]
        channel: OpinionChannel,
        /// Whom it came from.
        #[arg(long)]
        source: SourceGroup,
        /// What it is about.
        #[arg(long)]
        area: OpinionArea,
        /// Which "four winds" it names (none if none).
        #[arg(long, default_value = "none")]
        four_winds: FourWinds,
        /// The opinion, in the words heard.
        #[arg(long)]
        text: String,
        /// The person asked not to be named.
        #[arg(long)]
        anonymous: bool,
        /// Who raised it.
        #[arg(long, conflicts_with = "anonymous")]
        raised_by: Option<String>,
    },
    /// Move an opinion on: taken up as a problem, or answered to the masses.
    Update {
        /// The opinion's id.
        id: String,
        /// received, taken_up or answered.
        #[arg(long)]
        status: Option<OpinionStatus>,
        /// The answer given to the masses.
        #[arg(long)]
        answer: Option<String>,
    },
}

#[derive(Subcommand)]
enum RectificationCmd {
    /// Add a measure to the rectification list.
    Add {
        /// The problem it addresses.
        #[arg(long)]
        problem: String,
        /// What will be done.
        #[arg(long)]
        measure: String,
        /// What counts as fixed.
        #[arg(long, default_value = "")]
        objective: String,
        /// A responsible person's id (repeat for several).
        #[arg(long, required = true)]
        responsible: Vec<String>,
        /// By when, YYYY-MM-DD.
        #[arg(long)]
        deadline: NaiveDate,
        /// short (fix now) or long (step by step).
        #[arg(long)]
        term: RectificationTerm,
        /// Village, for a township officer issuing a measure.
        #[arg(long)]
        village: Option<String>,
    },
    /// Change a measure's status, deadline or text.
    Update {
        /// The measure's id.
        id: String,
        /// planned, in_progress, done or accepted.
        #[arg(long)]
        status: Option<RectificationStatus>,
        /// New deadline.
        #[arg(long)]
        deadline: Option<NaiveDate>,
        /// New text of the measure.
        #[arg(long)]
        measure: Option<String>,
        /// Day it was announced to the masses.
        #[arg(long)]
        announced_on: Option<NaiveDate>,
    },
    /// Add a dated progress note.
    Note {
        /// The measure's id.
        id: String,
        /// What was done.
        #[arg(long)]
        text: String,
        /// Day of the progress (default today).
        #[arg(long)]
        date: Option<NaiveDate>,
    },
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn person(s: String) -> anyhow::Result<PersonId> {
    PersonId::new(s).map_err(anyhow::Error::msg)
}

impl StudyFields {
    fn apply(self, e: &mut StudyEntry) {
        if let Some(d) = self.date {
            e.date = d;
        }
        if let Some(m) = self.material {
            e.material = m;
        }
        if let Some(t) = self.topic {
            e.topic = t;
        }
        if let Some(m) = self.mode {
            e.mode = m;
        }
        if let Some(m) = self.minutes {
            e.minutes = m;
        }
        if let (Some(kind), Some(name)) = (self.helper_kind, self.helper) {
            e.helper = Some(Helper { kind, name });
        }
        if let Some(r) = self.reflection {
            e.reflection = r;
        }
    }
}

fn print_rows(rows: &[RecordRow], json: bool, lang: Lang) {
    if json {
        let out: Vec<_> = rows.iter().map(row_json).collect();
        println!("{}", serde_json::Value::Array(out));
    } else {
        for r in rows {
            println!("{}", render::line(r, lang));
        }
    }
}

fn row_json(r: &RecordRow) -> serde_json::Value {
    json!({
        "id": r.id,
        "scope": r.scope,
        "kind": r.kind,
        "record": r.record,
        "problem": r.problem,
        "updated_at": r.updated_at,
    })
}

fn codes_of<T: Coded>() {
    println!("{}:", T::NAME);
    for v in T::all() {
        println!(
            "  {:<26} {} / {}",
            v.code(),
            v.label(Lang::Zh),
            v.label(Lang::En)
        );
    }
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let lang = Lang::from_code(&cli.lang).context("--lang must be zh or en")?;
    if let Command::Codes = cli.command {
        codes_of::<RecordKind>();
        codes_of::<StudyMaterial>();
        codes_of::<StudyMode>();
        codes_of::<HelperKind>();
        codes_of::<OpinionChannel>();
        codes_of::<SourceGroup>();
        codes_of::<OpinionArea>();
        codes_of::<FourWinds>();
        codes_of::<OpinionStatus>();
        codes_of::<RectificationTerm>();
        codes_of::<RectificationStatus>();
        return Ok(());
    }
    let client = Client::open(&cli.store)
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
        Command::Study(StudyCmd::Add { member, fields }) => {
            let me = client
                .identity()?
                .ok_or(massline_core::Error::NotEnrolled)?;
            let member = match member {
                Some(m) => person(m)?,
                None => me.principal.person.clone(),
            };
            let mode = fields.mode.context("--mode is required")?;
            let mut entry = StudyEntry {
                member,
                date: today(),
                material: fields.material.context("--material is required")?,
                topic: fields.topic.clone().context("--topic is required")?,
                mode,
                helper: None,
                minutes: fields.minutes.context("--minutes is required")?,
                reflection: String::new(),
            };
            fields.apply(&mut entry);
            println!("{}", client.create(Record::StudyEntry(entry), None)?);
        }
        Command::Study(StudyCmd::Update { id, fields }) => {
            let id = client.resolve(&id)?;
            client.edit(&id, |r| match r {
                Record::StudyEntry(e) => {
                    fields.apply(e);
                    Ok(())
                }
                _ => Err(massline_core::Error::NotFound(format!(
                    "{id} is not a study entry"
                ))),
            })?;
            println!("{id}");
        }
        Command::Opinion(OpinionCmd::Add {
            date,
            channel,
            source,
            area,
            four_winds,
            text,
            anonymous,
            raised_by,
        }) => {
            let o = Opinion {
                date: date.unwrap_or_else(today),
                channel,
                source,
                area,
                four_winds,
                text,
                anonymous,
                raised_by,
                status: OpinionStatus::Received,
                answer: None,
            };
            println!("{}", client.create(Record::Opinion(o), None)?);
        }
        Command::Opinion(OpinionCmd::Update { id, status, answer }) => {
            let id = client.resolve(&id)?;
            client.edit(&id, |r| match r {
                Record::Opinion(o) => {
                    if let Some(s) = status {
                        o.status = s;
                    }
                    if answer.is_some() {
                        o.answer = answer;
                    }
                    Ok(())
                }
                _ => Err(massline_core::Error::NotFound(format!(
                    "{id} is not an opinion"
                ))),
            })?;
            println!("{id}");
        }
        Command::Rectification(RectificationCmd::Add {
            problem,
            measure,
            objective,
            responsible,
            deadline,
            term,
            village,
        }) => {
            let r = Rectification {
                problem,
                measure,
                objective,
                responsible: responsible
                    .into_iter()
                    .map(person)
                    .collect::<Result<_, _>>()?,
                deadline,
                term,
                status: RectificationStatus::Planned,
                progress: Vec::new(),
                announced_on: None,
                filed: None,
            };
            let village = village
                .map(VillageCode::new)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            println!("{}", client.create(Record::Rectification(r), village)?);
        }
        Command::Rectification(RectificationCmd::Update {
            id,
            status,
            deadline,
            measure,
            announced_on,
        }) => {
            let id = client.resolve(&id)?;
            client.edit(&id, |r| match r {
                Record::Rectification(x) => {
                    if let Some(s) = status {
                        x.status = s;
                    }
                    if let Some(d) = deadline {
                        x.deadline = d;
                    }
                    if let Some(m) = measure {
                        x.measure = m;
                    }
                    if announced_on.is_some() {
                        x.announced_on = announced_on;
                    }
                    Ok(())
                }
                _ => Err(massline_core::Error::NotFound(format!(
                    "{id} is not a rectification measure"
                ))),
            })?;
            println!("{id}");
        }
        Command::Rectification(RectificationCmd::Note { id, text, date }) => {
            let id = client.resolve(&id)?;
            let me = client
                .identity()?
                .ok_or(massline_core::Error::NotEnrolled)?;
            client.edit(&id, |r| match r {
                Record::Rectification(x) => {
                    x.progress.push(ProgressNote {
                        date: date.unwrap_or_else(today),
                        text,
                        author: me.principal.person.clone(),
                    });
                    Ok(())
                }
                _ => Err(massline_core::Error::NotFound(format!(
                    "{id} is not a rectification measure"
                ))),
            })?;
            println!("{id}");
        }
        Command::List { kind, json } => {
            let kind = kind
                .map(|k| k.parse::<RecordKind>())
                .transpose()
                .map_err(anyhow::Error::msg)?;
            print_rows(&client.list(kind)?, json, lang);
        }
        Command::Show { id, json } => {
            let row = client.get(&client.resolve(&id)?)?;
            if json {
                println!("{}", row_json(&row));
            } else {
                print!("{}", render::detail(&row, lang));
            }
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
