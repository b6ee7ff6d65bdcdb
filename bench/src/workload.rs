//! The shared village workload, replayed as massline records.
//!
//! The workload is system-neutral: per village, 50 study logs of 40 entries,
//! 300 opinions and 60 rectification items with 5 rounds of updates, plus an
//! incremental batch. massline keeps one document per record, so every study
//! entry, opinion and rectification item becomes its own record, and each
//! rectification item's problem a problem record it refers to; an update round
//! becomes one edit (a step reached and a dated progress note).
//!
//! Workload values map onto the campaign's codes one to one where the sets
//! match (study modes, terms, rectification statuses); opinion sources and
//! channels map one to one onto six of ours; the workload's 8 opinion areas
//! fold into our 5 and its 6 opinion statuses into our 3 (no answer text
//! exists to mark one answered), which drops under 2 bits per opinion.

use std::collections::HashMap;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use massline_core::records::{
    FourWinds, Helper, HelperKind, Opinion, OpinionArea, OpinionChannel, OpinionStatus,
    ProgressNote, Rectification, RectificationStatus, RectificationTerm, SourceGroup, StudyEntry,
    StudyMaterial, StudyMode,
};
use massline_core::{Client, DocId, PersonId, Record, RecordKind};
use serde_json::Value;

/// One user action.
#[derive(Clone, Debug)]
pub enum Op {
    /// A new record; `key` is the workload's id of the item.
    Create {
        /// The workload's item id.
        key: String,
        /// The record (boxed: a record is many times the size of an update).
        record: Box<Record>,
        /// For a rectification: the problem it addresses, made as a problem
        /// record first (one per distinct text).
        problem: Option<String>,
    },
    /// One round of updates to a rectification item.
    UpdateRectification {
        /// The workload's item id.
        key: String,
        /// The new status.
        status: RectificationStatus,
        /// The progress note appended.
        note: (NaiveDate, String),
    },
}

/// One village of the workload.
#[derive(Clone, Debug)]
pub struct Village {
    /// `v00`, `v01`, …
    pub id: String,
    /// Member ids, `v00-m00` …
    pub members: Vec<String>,
    /// The year's actions, in order.
    pub ops: Vec<Op>,
    /// The S3 batch.
    pub incremental: Vec<Op>,
}

impl Village {
    /// The person id of the village secretary, whose phone holds the village.
    pub fn secretary(&self) -> String {
        format!("{}-sec", self.id)
    }
    /// The person id of the cadre whose fresh phone downloads the village (S4).
    pub fn second_cadre(&self) -> String {
        format!("{}-cadre", self.id)
    }
}

fn s<'a>(v: &'a Value, k: &str) -> anyhow::Result<&'a str> {
    v.get(k)
        .and_then(Value::as_str)
        .with_context(|| format!("missing string {k}"))
}

fn date(v: &Value, k: &str) -> anyhow::Result<NaiveDate> {
    Ok(s(v, k)?.parse()?)
}

fn mode(m: &str) -> anyhow::Result<StudyMode> {
    Ok(match m {
        "centralized" => StudyMode::Centralized,
        "self" => StudyMode::SelfStudy,
        "counseling" => StudyMode::Counselling,
        "pairing" => StudyMode::Pairing,
        "night_visit" => StudyMode::NightVisit,
        "distance" => StudyMode::DistanceEducation,
        _ => bail!("unknown study mode {m}"),
    })
}

fn source(x: &str) -> SourceGroup {
    match x {
        "villager" => SourceGroup::Villager,
        "party_member" => SourceGroup::PartyMember,
        "cadre" => SourceGroup::RetiredCadres,
        "petition" => SourceGroup::Petitioners,
        "survey" => SourceGroup::TwoRepsOneMember,
        _ => SourceGroup::VillageLeaders,
    }
}

fn channel(x: &str) -> OpinionChannel {
    match x {
        "meeting" => OpinionChannel::VillagersMeeting,
        "home_visit" => OpinionChannel::HouseholdVisit,
        "hotline" => OpinionChannel::HeartToHeart,
        "suggestion_box" => OpinionChannel::RepresentativesMeeting,
        "wechat_group" => OpinionChannel::GroupMeeting,
        _ => OpinionChannel::LetterOrPetition,
    }
}

fn area(x: &str) -> OpinionArea {
    match x {
        "agriculture" | "land" => OpinionArea::VillageAffairs,
        "infrastructure" | "environment" => OpinionArea::GrassrootsOrganization,
        "welfare" | "health" => OpinionArea::CadreConduct,
        "education" => OpinionArea::MemberRanks,
        _ => OpinionArea::PartyAffairs,
    }
}

fn four_winds(x: &str) -> FourWinds {
    match x {
        "formalism" => FourWinds::Formalism,
        "bureaucratism" => FourWinds::Bureaucratism,
        "hedonism" => FourWinds::Hedonism,
        "extravagance" => FourWinds::Extravagance,
        _ => FourWinds::None,
    }
}

fn opinion_status(x: &str) -> OpinionStatus {
    match x {
        "received" => OpinionStatus::Received,
        _ => OpinionStatus::TakenUp,
    }
}

fn rect_status(x: &str) -> anyhow::Result<RectificationStatus> {
    Ok(match x {
        "not_started" => RectificationStatus::Planned,
        "in_progress" => RectificationStatus::InProgress,
        "completed" => RectificationStatus::Done,
        "verified" => RectificationStatus::Accepted,
        _ => bail!("unknown rectification status {x}"),
    })
}

fn person(x: &str) -> anyhow::Result<PersonId> {
    PersonId::new(x).map_err(anyhow::Error::msg)
}

fn study(member: &str, v: &Value) -> anyhow::Result<Record> {
    let mode = mode(s(v, "mode")?)?;
    let helper = v.get("helper_id").and_then(Value::as_str).map(|h| Helper {
        kind: HelperKind::BackboneMember,
        name: h.to_string(),
    });
    Ok(Record::StudyEntry(StudyEntry {
        member: person(member)?,
        date: date(v, "date")?,
        material: StudyMaterial::MassLineReading,
        topic: s(v, "topic")?.to_string(),
        mode,
        helper,
        minutes: v
            .get("minutes")
            .and_then(Value::as_u64)
            .context("minutes")? as u32,
        reflection: s(v, "note")?.to_string(),
        comments: Vec::new(),
    }))
}

fn opinion(v: &Value) -> anyhow::Result<Record> {
    Ok(Record::Opinion(Opinion {
        date: date(v, "date")?,
        channel: channel(s(v, "channel")?),
        source: source(s(v, "source")?),
        area: area(s(v, "area")?),
        four_winds: four_winds(s(v, "topic")?),
        text: s(v, "text")?.to_string(),
        anonymous: false,
        raised_by: None,
        status: opinion_status(s(v, "status")?),
        answer: None,
        visit: None,
        meeting: None,
    }))
}

/// A rectification item; its problem is set on replay, once the problem record exists.
fn rectification(v: &Value) -> anyhow::Result<Record> {
    let planned = NaiveDate::from_ymd_opt(2024, 1, 1).context("date")?;
    let step = rect_status(s(v, "status")?)?;
    let mut steps = std::collections::BTreeMap::from([(RectificationStatus::Planned, planned)]);
    steps.entry(step).or_insert(planned);
    Ok(Record::Rectification(Rectification {
        problem: DocId::from_slice(&[0; 16]).context("id")?,
        measure: s(v, "measure")?.to_string(),
        objective: String::new(),
        responsible: vec![person(s(v, "responsible_id")?)?],
        deadline: date(v, "deadline")?,
        term: match s(v, "term")? {
            "long" => RectificationTerm::Long,
            _ => RectificationTerm::Short,
        },
        steps,
        progress: Vec::new(),
        announced_on: None,
        submitted: None,
        filed: None,
    }))
}

/// Reads the ops of one workload document (or incremental batch) into `out`.
fn read_ops(
    kind: &str,
    member: Option<&str>,
    ops: &[Value],
    items: &mut Vec<String>,
    out: &mut Vec<Op>,
) -> anyhow::Result<()> {
    for op in ops {
        match s(op, "op")? {
            "insert" => {
                let v = op.get("value").context("insert without value")?;
                let key = s(v, "id")?.to_string();
                let (record, problem) = match kind {
                    "study_log" => (study(member.context("study log without member")?, v)?, None),
                    "opinions" => (opinion(v)?, None),
                    "rectification" => {
                        items.push(key.clone());
                        (rectification(v)?, Some(s(v, "problem")?.to_string()))
                    }
                    k => bail!("unknown document kind {k}"),
                };
                out.push(Op::Create {
                    key,
                    record: Box::new(record),
                    problem,
                });
            }
            "update" => {
                let idx = op
                    .get("path")
                    .and_then(|p| p.get(1))
                    .and_then(Value::as_u64)
                    .context("update path")? as usize;
                let key = items.get(idx).context("update of an unknown item")?.clone();
                let status = rect_status(
                    op.pointer("/set/status")
                        .and_then(Value::as_str)
                        .context("status")?,
                )?;
                let note = op.pointer("/push/progress_notes").context("note")?;
                out.push(Op::UpdateRectification {
                    key,
                    status,
                    note: (date(note, "date")?, s(note, "text")?.to_string()),
                });
            }
            o => bail!("unknown op {o}"),
        }
    }
    Ok(())
}

/// Every village of a workload file.
pub fn load(path: &std::path::Path) -> anyhow::Result<Vec<Village>> {
    let w: Value = serde_json::from_slice(
        &std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
    )?;
    let mut villages = Vec::new();
    for v in w
        .get("villages")
        .and_then(Value::as_array)
        .context("no villages")?
    {
        let id = s(v, "village")?.to_string();
        let mut ops = Vec::new();
        let mut members = Vec::new();
        let mut items = Vec::new();
        let mut kinds: HashMap<String, (String, Option<String>)> = HashMap::new();
        for d in v.get("docs").and_then(Value::as_array).context("no docs")? {
            let kind = s(d, "kind")?;
            let member = d.pointer("/init/member_id").and_then(Value::as_str);
            if let Some(m) = member {
                members.push(m.to_string());
            }
            kinds.insert(
                s(d, "key")?.to_string(),
                (kind.to_string(), member.map(String::from)),
            );
            let doc_ops = d.get("ops").and_then(Value::as_array).context("no ops")?;
            read_ops(kind, member, doc_ops, &mut items, &mut ops)?;
        }
        let mut incremental = Vec::new();
        for op in v
            .get("incremental")
            .and_then(Value::as_array)
            .context("no incremental")?
        {
            let (kind, member) = kinds
                .get(s(op, "key")?)
                .context("incremental for unknown doc")?;
            read_ops(
                kind,
                member.as_deref(),
                std::slice::from_ref(op),
                &mut items,
                &mut incremental,
            )?;
        }
        villages.push(Village {
            id,
            members,
            ops,
            incremental,
        });
    }
    Ok(villages)
}

/// Replays ops through the client API, as the person using the phone would.
/// `ids` maps workload item ids to record ids across calls.
pub fn replay(
    client: &Client,
    author: &PersonId,
    ops: &[Op],
    ids: &mut HashMap<String, DocId>,
) -> anyhow::Result<()> {
    for op in ops {
        match op {
            Op::Create {
                key,
                record,
                problem,
            } => {
                let mut record = (**record).clone();
                if let (Some(title), Record::Rectification(r)) = (problem, &mut record) {
                    let pkey = format!("problem:{title}");
                    r.problem = match ids.get(&pkey) {
                        Some(id) => *id,
                        None => {
                            let id = client
                                .create(raised_problem(title.chars().take(200).collect()), None)?;
                            ids.insert(pkey, id);
                            id
                        }
                    };
                }
                let id = client.create(record, None)?;
                ids.insert(key.clone(), id);
            }
            Op::UpdateRectification { key, status, note } => {
                let id = ids
                    .get(key)
                    .with_context(|| format!("no record for {key}"))?;
                client.edit(id, |r| {
                    if let Record::Rectification(x) = r {
                        // Steps only move forward; the workload may step back.
                        // The masses verify a measure once it was announced to them.
                        if *status == RectificationStatus::Accepted && x.announced_on.is_none() {
                            x.announced_on = Some(note.0);
                        }
                        x.advance(*status, note.0);
                        x.progress.push(ProgressNote {
                            date: note.0,
                            text: note.1.clone(),
                            author: author.clone(),
                        });
                    }
                    Ok(())
                })?;
            }
        }
    }
    Ok(())
}

/// A problem raised by the masses, with only its title filled in.
pub(crate) fn raised_problem(title: String) -> Record {
    let fields = serde_json::json!({"title": title, "how_found": "raised_by_masses", "area": "mass_service"});
    Record::from_fields(RecordKind::Problem, fields)
        .unwrap_or_else(|e| unreachable!("a problem of a title only is valid: {e}"))
}
