//! The options of each record kind, and how they become a record.
//!
//! Each kind has one set of options, used by `add` (fields not given take
//! their defaults, or are refused as missing) and by `update` (only the
//! options given change). Option names are the record's field names, so a
//! refused record names the option at fault.

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use massline_core::records::{
    AppraisalGrade, Education, FourWinds, HelperKind, HouseholdGroup, HowFound, NoticeCategory,
    NoticeMedium, OpinionArea, OpinionChannel, OpinionStatus, PointKind, ProblemArea, RecordKind,
    RectificationStatus, RectificationTerm, Satisfaction, ServiceMatter, ServiceStatus,
    SessionFormat, SourceGroup, StudyMaterial, StudyMode, ThingStatus,
};
use massline_core::records::{Demand, Record};
use massline_core::{Client, PersonId};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// What building a record needs besides the options.
pub struct Cx<'a> {
    /// The device's core, to resolve record ids from their first characters.
    pub client: &'a Client,
    /// The person using the device.
    pub me: PersonId,
    /// Today.
    pub today: NaiveDate,
}

/// The options of one record kind.
pub trait Fields: Args + Serialize {
    /// The kind they build.
    const KIND: RecordKind;
    /// Fields holding record ids (a string or a list), typed as their first characters.
    const IDS: &'static [&'static str] = &[];
    /// The fields of a new record before the options apply.
    fn defaults(_cx: &Cx<'_>) -> Value {
        json!({})
    }
    /// Options that are not plain fields (attendance marks, notes, steps).
    fn adjust(&self, _m: &mut Map<String, Value>, _cx: &Cx<'_>) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The record `base` (a record's fields) with the options given applied.
pub fn build<F: Fields>(f: &F, base: Map<String, Value>, cx: &Cx<'_>) -> anyhow::Result<Record> {
    let mut m = base;
    let Value::Object(given) = serde_json::to_value(f)? else {
        anyhow::bail!("options do not form a record");
    };
    for (k, mut v) in given {
        if v.is_null() || v.as_array().is_some_and(Vec::is_empty) {
            continue;
        }
        if F::IDS.contains(&k.as_str()) {
            resolve_ids(&mut v, cx)?;
        }
        m.insert(k, v);
    }
    f.adjust(&mut m, cx)?;
    Ok(Record::from_fields(F::KIND, Value::Object(m))?)
}

fn resolve_ids(v: &mut Value, cx: &Cx<'_>) -> anyhow::Result<()> {
    match v {
        Value::String(s) => *s = cx.client.resolve(s)?.to_hex(),
        Value::Array(items) => {
            for item in items {
                resolve_ids(item, cx)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn day(cx: &Cx<'_>) -> Value {
    json!(cx.today)
}

/// `person=text` into its two halves.
fn pair(s: &str) -> anyhow::Result<(&str, &str)> {
    s.split_once('=')
        .with_context(|| format!("`{s}` is not PERSON=TEXT"))
}

/// A map field of `m` (made if absent).
fn map_field<'a>(m: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = m
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(o) => o,
        _ => unreachable!("made an object just above"),
    }
}

/// A list field of `m` (made if absent).
fn list_field<'a>(m: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let slot = m
        .entry(key.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    match slot {
        Value::Array(a) => a,
        _ => unreachable!("made an array just above"),
    }
}

/// Marks attendance: `--present P` and `--absent P=REASON`, per person.
#[derive(Args, Serialize, Default)]
pub struct Marks {
    /// A person present (repeat for each).
    #[arg(long)]
    #[serde(skip)]
    pub present: Vec<String>,
    /// A person absent, with the reason: PERSON=REASON (repeat for each).
    #[arg(long)]
    #[serde(skip)]
    pub absent: Vec<String>,
}

impl Marks {
    fn apply(&self, m: &mut Map<String, Value>) -> anyhow::Result<()> {
        let roll = map_field(m, "attendance");
        for p in &self.present {
            roll.insert(p.clone(), json!({"present": true, "reason": ""}));
        }
        for a in &self.absent {
            let (p, reason) = pair(a)?;
            roll.insert(p.to_string(), json!({"present": false, "reason": reason}));
        }
        Ok(())
    }
}

/// 党员档案: a member's file.
#[derive(Args, Serialize)]
pub struct MemberFields {
    /// Their person id, if they are enrolled.
    #[arg(long)]
    pub person: Option<String>,
    /// Their name.
    #[arg(long)]
    pub name: Option<String>,
    /// The year they were born.
    #[arg(long)]
    pub birth_year: Option<u16>,
    /// The day they joined the Party, YYYY-MM-DD.
    #[arg(long)]
    pub joined_on: Option<NaiveDate>,
    /// Highest schooling: primary, junior_middle, senior_middle, college, university.
    #[arg(long)]
    pub education: Option<Education>,
    /// A phone number.
    #[arg(long)]
    pub phone: Option<String>,
    /// Working or living away from the village (流动党员): true or false.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub mobile: Option<bool>,
    /// Where a mobile member is now.
    #[arg(long)]
    pub whereabouts: Option<String>,
}

impl Fields for MemberFields {
    const KIND: RecordKind = RecordKind::Member;
}

/// 集中学习: a centralized study session.
#[derive(Args, Serialize)]
pub struct SessionFields {
    /// The day it was held, YYYY-MM-DD (default today).
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// What was studied (see `massline codes`).
    #[arg(long)]
    pub material: Option<StudyMaterial>,
    /// The title or subject.
    #[arg(long)]
    pub topic: Option<String>,
    /// How it was held: lecture, reading, discussion, distance, other.
    #[arg(long)]
    pub format: Option<SessionFormat>,
    /// Who organized it (default yourself).
    #[arg(long)]
    pub organizer: Option<String>,
    /// Where.
    #[arg(long)]
    pub place: Option<String>,
    /// How long, in minutes (each attendee is credited this long).
    #[arg(long)]
    pub minutes: Option<u32>,
    /// The minutes of the meeting: what was said and agreed.
    #[arg(long)]
    pub notes: Option<String>,
    #[command(flatten)]
    #[serde(skip)]
    pub marks: Marks,
}

impl Fields for SessionFields {
    const KIND: RecordKind = RecordKind::StudySession;
    fn defaults(cx: &Cx<'_>) -> Value {
        json!({"date": day(cx), "organizer": cx.me})
    }
    fn adjust(&self, m: &mut Map<String, Value>, _cx: &Cx<'_>) -> anyhow::Result<()> {
        self.marks.apply(m)
    }
}

/// 个人学习: a member's personal study.
#[derive(Args, Serialize)]
pub struct StudyFields {
    /// The member who studied (default yourself).
    #[arg(long)]
    pub member: Option<String>,
    /// Day of study, YYYY-MM-DD (default today).
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// What was studied (see `massline codes`).
    #[arg(long)]
    pub material: Option<StudyMaterial>,
    /// Title or subject.
    #[arg(long)]
    pub topic: Option<String>,
    /// How: self_study, centralized, pairing, night_visit, counselling, distance_education.
    #[arg(long)]
    pub mode: Option<StudyMode>,
    /// Minutes spent (1 to 720).
    #[arg(long)]
    pub minutes: Option<u32>,
    /// Kind of helper: graduate_official, well_off_cadre, backbone_member.
    #[arg(long, requires = "helper")]
    #[serde(skip)]
    pub helper_kind: Option<HelperKind>,
    /// Helper's name.
    #[arg(long, requires = "helper_kind")]
    #[serde(skip)]
    pub helper: Option<String>,
    /// What the member took from it.
    #[arg(long)]
    pub reflection: Option<String>,
    /// Add a comment in your name.
    #[arg(long)]
    #[serde(skip)]
    pub comment: Option<String>,
}

impl Fields for StudyFields {
    const KIND: RecordKind = RecordKind::StudyEntry;
    fn defaults(cx: &Cx<'_>) -> Value {
        json!({"date": day(cx), "member": cx.me})
    }
    fn adjust(&self, m: &mut Map<String, Value>, cx: &Cx<'_>) -> anyhow::Result<()> {
        if let (Some(kind), Some(name)) = (self.helper_kind, &self.helper) {
            m.insert("helper".into(), json!({"kind": kind, "name": name}));
        }
        if let Some(text) = &self.comment {
            list_field(m, "comments").push(json!({"date": day(cx), "text": text, "author": cx.me}));
        }
        Ok(())
    }
}

/// 意见建议: an opinion of the masses.
#[derive(Args, Serialize)]
pub struct OpinionFields {
    /// Day it was heard, YYYY-MM-DD (default today).
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Where it was heard (see `massline codes`).
    #[arg(long)]
    pub channel: Option<OpinionChannel>,
    /// Whom it came from (see `massline codes`).
    #[arg(long)]
    pub source: Option<SourceGroup>,
    /// What it is about: cadre_conduct, party_affairs, village_affairs, grassroots_organization, member_ranks.
    #[arg(long)]
    pub area: Option<OpinionArea>,
    /// Which "four winds" it names: formalism, bureaucratism, hedonism, extravagance, none (default).
    #[arg(long)]
    pub four_winds: Option<FourWinds>,
    /// The opinion, in the words heard.
    #[arg(long)]
    pub text: Option<String>,
    /// The person asked not to be named.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub anonymous: Option<bool>,
    /// Who raised it.
    #[arg(long)]
    pub raised_by: Option<String>,
    /// received, taken_up (as a problem) or answered (to the masses).
    #[arg(long)]
    pub status: Option<OpinionStatus>,
    /// The answer given to the masses.
    #[arg(long)]
    pub answer: Option<String>,
}

impl Fields for OpinionFields {
    const KIND: RecordKind = RecordKind::Opinion;
    fn defaults(cx: &Cx<'_>) -> Value {
        json!({"date": day(cx), "status": "received", "four_winds": "none"})
    }
}

/// 问题: a problem of the village's list.
#[derive(Args, Serialize)]
pub struct ProblemFields {
    /// The problem in a line.
    #[arg(long)]
    pub title: Option<String>,
    /// How it was found: raised_by_masses, self_search, superior_issued, mutual_help, collective_discussion.
    #[arg(long)]
    pub how_found: Option<HowFound>,
    /// Which part of the work (see `massline codes`).
    #[arg(long)]
    pub area: Option<ProblemArea>,
    /// Control inspection: the background.
    #[arg(long)]
    pub background: Option<String>,
    /// Control inspection: its causes.
    #[arg(long)]
    pub causes: Option<String>,
    /// Control inspection: how it shows.
    #[arg(long)]
    pub manifestations: Option<String>,
    /// Control inspection: the direction to take.
    #[arg(long)]
    pub direction: Option<String>,
    /// Control inspection: effective solutions.
    #[arg(long)]
    pub solutions: Option<String>,
    /// An opinion that raised it (its id; repeat for several; replaces the list).
    #[arg(long = "opinion")]
    pub opinions: Vec<String>,
}

impl Fields for ProblemFields {
    const KIND: RecordKind = RecordKind::Problem;
    const IDS: &'static [&'static str] = &["opinions"];
}

/// 整改措施: a rectification measure.
#[derive(Args, Serialize)]
pub struct RectificationFields {
    /// The problem it addresses (its id, from `massline problem list`).
    #[arg(long)]
    pub problem: Option<String>,
    /// What will be done.
    #[arg(long)]
    pub measure: Option<String>,
    /// What counts as fixed.
    #[arg(long)]
    pub objective: Option<String>,
    /// A responsible person's id (repeat for several; replaces the list).
    #[arg(long)]
    pub responsible: Vec<String>,
    /// By when, YYYY-MM-DD.
    #[arg(long)]
    pub deadline: Option<NaiveDate>,
    /// short (fix now) or long (step by step).
    #[arg(long)]
    pub term: Option<RectificationTerm>,
    /// Move it on to: in_progress, done or accepted (by the masses); it never moves back.
    #[arg(long)]
    #[serde(skip)]
    pub status: Option<RectificationStatus>,
    /// The day the new status was reached (default today).
    #[arg(long, requires = "status")]
    #[serde(skip)]
    pub status_on: Option<NaiveDate>,
    /// The day it was announced to the masses.
    #[arg(long)]
    pub announced_on: Option<NaiveDate>,
    /// Add a progress note in your name, dated today.
    #[arg(long)]
    #[serde(skip)]
    pub note: Option<String>,
    /// (Township office) acknowledge its filing on this day.
    #[arg(long)]
    #[serde(skip)]
    pub filed_on: Option<NaiveDate>,
}

impl Fields for RectificationFields {
    const KIND: RecordKind = RecordKind::Rectification;
    const IDS: &'static [&'static str] = &["problem"];
    fn defaults(cx: &Cx<'_>) -> Value {
        json!({"steps": {"planned": day(cx)}})
    }
    fn adjust(&self, m: &mut Map<String, Value>, cx: &Cx<'_>) -> anyhow::Result<()> {
        if let Some(s) = self.status {
            let on = self.status_on.unwrap_or(cx.today);
            map_field(m, "steps")
                .entry(s.code())
                .or_insert_with(|| json!(on));
        }
        if let Some(text) = &self.note {
            list_field(m, "progress").push(json!({"date": day(cx), "text": text, "author": cx.me}));
        }
        if let Some(d) = self.filed_on {
            m.insert("filed".into(), json!({"date": d, "acknowledged_by": cx.me}));
        }
        Ok(())
    }
}

/// 走访: a visit to a household.
#[derive(Args, Serialize)]
pub struct VisitFields {
    /// The cadre who visited (default yourself).
    #[arg(long)]
    pub cadre: Option<String>,
    /// The household, by the name of its head.
    #[arg(long)]
    pub household: Option<String>,
    /// Which group: poor, left_behind, petitioner, nail_household, well_off, retired_cadre, party_member, ordinary.
    #[arg(long)]
    pub group: Option<HouseholdGroup>,
    /// The day of the visit, YYYY-MM-DD (default today).
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// What was seen and said.
    #[arg(long)]
    pub notes: Option<String>,
    /// A demand raised, in the household's words (repeat for several; each is added).
    #[arg(long)]
    #[serde(skip)]
    pub demand: Vec<String>,
}

impl Fields for VisitFields {
    const KIND: RecordKind = RecordKind::Visit;
    fn defaults(cx: &Cx<'_>) -> Value {
        json!({"date": day(cx), "cadre": cx.me})
    }
    fn adjust(&self, m: &mut Map<String, Value>, _cx: &Cx<'_>) -> anyhow::Result<()> {
        let demands = list_field(m, "demands");
        for text in &self.demand {
            demands.push(serde_json::to_value(Demand::new(text.clone()))?);
        }
        Ok(())
    }
}

/// 代办: a service a cadre handles for a villager.
#[derive(Args, Serialize)]
pub struct ServiceFields {
    /// What is applied for (see `massline codes`).
    #[arg(long)]
    pub matter: Option<ServiceMatter>,
    /// The villager who applies.
    #[arg(long)]
    pub applicant: Option<String>,
    /// The day they applied, YYYY-MM-DD (default today).
    #[arg(long)]
    pub applied_on: Option<NaiveDate>,
    /// What they need, in their words.
    #[arg(long)]
    pub details: Option<String>,
    /// One item of the one-time checklist: all that is needed, told at once (repeat; replaces the list).
    #[arg(long = "need")]
    pub checklist: Vec<String>,
    /// The cadre who handles it (default yourself).
    #[arg(long)]
    pub agent: Option<String>,
    /// accepted, in_progress, done or declined.
    #[arg(long)]
    pub status: Option<ServiceStatus>,
    /// What came of it.
    #[arg(long)]
    pub result: Option<String>,
    /// The day it was closed (done or declined).
    #[arg(long)]
    pub closed_on: Option<NaiveDate>,
    /// The day the result was published to the masses.
    #[arg(long)]
    pub published_on: Option<NaiveDate>,
}

impl Fields for ServiceFields {
    const KIND: RecordKind = RecordKind::ServiceRequest;
    fn defaults(cx: &Cx<'_>) -> Value {
        json!({"applied_on": day(cx), "agent": cx.me, "status": "accepted"})
    }
}

/// 为民办实事: a practical thing promised to the masses.
#[derive(Args, Serialize)]
pub struct PracticalFields {
    /// What will be done.
    #[arg(long)]
    pub what: Option<String>,
    /// By when, YYYY-MM-DD.
    #[arg(long)]
    pub target_date: Option<NaiveDate>,
    /// A responsible person's id (repeat; replaces the list).
    #[arg(long)]
    pub responsible: Vec<String>,
    /// promised, in_progress or done.
    #[arg(long)]
    pub status: Option<ThingStatus>,
    /// The day it was done.
    #[arg(long)]
    pub done_on: Option<NaiveDate>,
    /// How satisfied the masses are, once done: satisfied, basically, dissatisfied.
    #[arg(long)]
    pub satisfaction: Option<Satisfaction>,
}

impl Fields for PracticalFields {
    const KIND: RecordKind = RecordKind::PracticalThing;
    fn defaults(_cx: &Cx<'_>) -> Value {
        json!({"status": "promised"})
    }
}

/// 专题组织生活会: the special organizational-life meeting.
#[derive(Args, Serialize)]
pub struct MeetingFields {
    /// The day it was held, YYYY-MM-DD (default today).
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Its theme.
    #[arg(long)]
    pub topic: Option<String>,
    #[command(flatten)]
    #[serde(skip)]
    pub marks: Marks,
    /// A point made: PERSON=KIND=TEXT, KIND one of self_criticism, criticism, improvement (repeat; each is added).
    #[arg(long)]
    #[serde(skip)]
    pub point: Vec<String>,
    /// A member's appraisal grade: PERSON=GRADE, GRADE one of excellent, qualified, basically_qualified, unqualified.
    #[arg(long)]
    #[serde(skip)]
    pub grade: Vec<String>,
}

impl Fields for MeetingFields {
    const KIND: RecordKind = RecordKind::OrgLifeMeeting;
    fn defaults(cx: &Cx<'_>) -> Value {
        json!({"date": day(cx)})
    }
    fn adjust(&self, m: &mut Map<String, Value>, _cx: &Cx<'_>) -> anyhow::Result<()> {
        self.marks.apply(m)?;
        for p in &self.point {
            let (person, rest) = pair(p)?;
            let (kind, text) = pair(rest)?;
            let kind: PointKind = kind.parse().map_err(anyhow::Error::msg)?;
            list_field(m, "points").push(json!({"member": person, "kind": kind, "text": text}));
        }
        for g in &self.grade {
            let (person, grade) = pair(g)?;
            let grade: AppraisalGrade = grade.parse().map_err(anyhow::Error::msg)?;
            map_field(m, "appraisal").insert(person.to_string(), json!(grade));
        }
        Ok(())
    }
}

/// 党务村务公开: a public notice.
#[derive(Args, Serialize)]
pub struct NoticeFields {
    /// The day it was made public, YYYY-MM-DD (default today).
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// What kind of matter (see `massline codes`).
    #[arg(long)]
    pub category: Option<NoticeCategory>,
    /// How: board (default), meeting, broadcast, other.
    #[arg(long)]
    pub medium: Option<NoticeMedium>,
    /// Its title.
    #[arg(long)]
    pub title: Option<String>,
    /// What was made public.
    #[arg(long)]
    pub content: Option<String>,
    /// A record it makes public (its id; repeat; replaces the list).
    #[arg(long)]
    pub about: Vec<String>,
}

impl Fields for NoticeFields {
    const KIND: RecordKind = RecordKind::Notice;
    const IDS: &'static [&'static str] = &["about"];
    fn defaults(cx: &Cx<'_>) -> Value {
        json!({"date": day(cx), "medium": "board"})
    }
}
