//! How records and sync state read on a terminal, in Chinese or English.

use std::fmt::Write;

use chrono::DateTime;
use massline_core::record_doc::HistoryItem;
use massline_core::records::{StudyCredit, code_label, field_label, field_position};
use massline_core::store::documents::RecordRow;
use massline_core::{DocId, Lang, Link, LinkState, Record, RecordKind, Status, SyncReport};
use serde_json::{Value, json};

fn short(id: &DocId) -> String {
    id.to_hex()[..10].to_string()
}

fn clip(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

fn when(t: Option<i64>) -> String {
    t.and_then(|t| DateTime::from_timestamp(t, 0))
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "-".into())
}

fn yes(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "是",
        Lang::En => "yes",
    }
}

/// What a link to a record that no longer stands says, or `None` if it stands.
fn link_note(state: &LinkState, lang: Lang) -> Option<String> {
    Some(match (state, lang) {
        (LinkState::Withdrawn(w), Lang::Zh) => format!("已撤回（{} {}：{}）", w.on, w.by, w.reason),
        (LinkState::Withdrawn(w), Lang::En) => {
            format!("withdrawn ({} by {}: {})", w.on, w.by, w.reason)
        }
        (LinkState::DemandTakenBy(Some(other)), Lang::Zh) => {
            format!("该诉求已转为另一记录 {}", short(other))
        }
        (LinkState::DemandTakenBy(Some(other)), Lang::En) => {
            format!("the demand became another record, {}", short(other))
        }
        (LinkState::DemandTakenBy(None), Lang::Zh) => "走访中的该诉求未指向本记录".into(),
        (LinkState::DemandTakenBy(None), Lang::En) => {
            "the visit's demand does not name this record".into()
        }
        (LinkState::Current | LinkState::NotHere, _) => return None,
    })
}

/// One line per record: short id, kind, the fields that identify it, and a
/// mark when it names a record that no longer stands.
pub fn line(row: &RecordRow, links: &[Link], lang: Lang) -> String {
    let id = short(&row.id);
    let Some(record) = &row.record else {
        return format!(
            "{id}  {}  ({})",
            row.kind,
            row.problem.as_deref().unwrap_or("?")
        );
    };
    let kind = record.kind().label(lang);
    let gone = match (&row.withdrawn, lang) {
        (None, _) => "",
        (Some(_), Lang::Zh) => "  [已撤回]",
        (Some(_), Lang::En) => "  [withdrawn]",
    };
    let stale = match (
        links.iter().any(|l| link_note(&l.state, lang).is_some()),
        lang,
    ) {
        (false, _) => "",
        (true, Lang::Zh) => "  [关联记录已撤回或已转他用]",
        (true, Lang::En) => "  [names a withdrawn or taken record]",
    };
    let what = match record {
        Record::Member(m) => format!(
            "{}  {}  {}{}",
            m.name,
            m.birth_year,
            m.education.label(lang),
            if m.mobile {
                format!("  {}: {}", field_label("mobile", lang), m.whereabouts)
            } else {
                String::new()
            }
        ),
        Record::StudySession(x) => {
            let (present, absent) = massline_core::records::roll_counts(&x.attendance);
            format!(
                "{}  {}  {}′  {present}/{}  {}",
                x.date,
                x.format.label(lang),
                x.minutes,
                present + absent,
                clip(&x.topic, 30)
            )
        }
        Record::StudyEntry(e) => format!(
            "{}  {}  {}  {}′  {}",
            e.date,
            e.member,
            e.mode.label(lang),
            e.minutes,
            clip(&e.topic, 30)
        ),
        Record::Opinion(o) => format!(
            "{}  {}  {}  {}",
            o.date,
            o.channel.label(lang),
            o.status.label(lang),
            clip(&o.text, 30)
        ),
        Record::Problem(p) => format!(
            "{}  {}  {}",
            p.how_found.label(lang),
            p.area.label(lang),
            clip(&p.title, 30)
        ),
        Record::Rectification(r) => format!(
            "{}  {}  {}",
            r.deadline,
            r.status().label(lang),
            clip(&r.measure, 30)
        ),
        Record::Visit(v) => format!(
            "{}  {}  {}  {}",
            v.date,
            v.cadre,
            v.group.label(lang),
            clip(&v.household, 20)
        ),
        Record::ServiceRequest(x) => format!(
            "{}  {}  {}  {}",
            x.applied_on,
            x.matter.label(lang),
            x.status.label(lang),
            clip(&x.applicant, 20)
        ),
        Record::PracticalThing(t) => format!(
            "{}  {}  {}",
            t.target_date,
            t.status.label(lang),
            clip(&t.what, 30)
        ),
        Record::OrgLifeMeeting(m) => format!("{}  {}", m.date, clip(&m.topic, 30)),
        Record::Notice(n) => format!(
            "{}  {}  {}",
            n.date,
            n.category.label(lang),
            clip(&n.title, 30)
        ),
    };
    format!("{id}  {kind}  {what}{gone}{stale}")
}

/// A stored value in words: codes as labels, flags as yes/no.
fn value_text(kind: RecordKind, field: &str, v: &Value, lang: Lang) -> String {
    match v {
        Value::String(s) => code_label(kind, field, s, lang)
            .map(str::to_string)
            .unwrap_or_else(|| s.clone()),
        Value::Bool(true) => yes(lang).to_string(),
        Value::Bool(false) => "-".to_string(),
        other => other.to_string(),
    }
}

/// A map's entries, fields in the order records declare them.
fn in_order(m: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = m.iter().collect();
    entries.sort_by_key(|(k, _)| field_position(k));
    entries
}

/// Writes `v` (the value of `field`) at `depth`, labelled, nested values indented.
fn write_value(
    out: &mut String,
    kind: RecordKind,
    field: &str,
    label: &str,
    v: &Value,
    depth: usize,
    lang: Lang,
) {
    let pad = "  ".repeat(depth);
    match v {
        Value::Object(m) => {
            let _ = writeln!(out, "{pad}{label}:");
            for (k, inner) in in_order(m) {
                // A map keyed by person or step: the key is data, not a field.
                let (name, sub) = match field_label(k, lang) {
                    l if l != k => (l.to_string(), k.as_str()),
                    _ => (
                        code_label(kind, field, k, lang).map_or(k.clone(), str::to_string),
                        field,
                    ),
                };
                write_value(out, kind, sub, &name, inner, depth + 1, lang);
            }
        }
        Value::Array(items) if items.is_empty() => {}
        Value::Array(items) => {
            let _ = writeln!(out, "{pad}{label}:");
            for (i, item) in items.iter().enumerate() {
                write_value(
                    out,
                    kind,
                    field,
                    &format!("{}", i + 1),
                    item,
                    depth + 1,
                    lang,
                );
            }
        }
        Value::String(s) if s.is_empty() => {}
        other => {
            let _ = writeln!(
                out,
                "{pad}{label}: {}",
                value_text(kind, field, other, lang)
            );
        }
    }
}

/// Every field of a record, labelled, codes in words; then each record it
/// names that no longer stands, and why.
pub fn detail(row: &RecordRow, links: &[Link], lang: Lang) -> String {
    let mut out = String::new();
    let kind = row.kind.parse::<RecordKind>().ok();
    let _ = writeln!(
        out,
        "{} {}",
        kind.map_or(row.kind.clone(), |k| k.label(lang).to_string()),
        row.id
    );
    let _ = writeln!(out, "  scope: {}", row.scope);
    match (&row.record, kind) {
        (Some(record), Some(kind)) => {
            if let Record::Rectification(r) = record {
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    field_label("status", lang),
                    r.status().label(lang)
                );
            }
            for (field, v) in in_order(&record.fields()) {
                write_value(&mut out, kind, field, field_label(field, lang), v, 1, lang);
            }
        }
        _ => {
            let _ = writeln!(
                out,
                "  ({})",
                row.problem.as_deref().unwrap_or("unreadable")
            );
        }
    }
    if let Some(w) = &row.withdrawn {
        let _ = writeln!(
            out,
            "  {}: {} {} — {}",
            field_label("withdrawn", lang),
            w.on,
            w.by,
            w.reason
        );
    }
    for l in links {
        if let Some(note) = link_note(&l.state, lang) {
            let field = l.field.split(['[', '.']).next().unwrap_or(&l.field);
            let _ = writeln!(
                out,
                "  ⚠ {} {}: {note}",
                field_label(field, lang),
                short(&l.id)
            );
        }
    }
    out
}

/// The records a record names, each with how it stands, as JSON.
pub fn links_json(links: &[Link]) -> Value {
    Value::Array(
        links
            .iter()
            .map(|l| {
                let (state, detail) = match &l.state {
                    LinkState::Current => ("current", Value::Null),
                    LinkState::Withdrawn(w) => ("withdrawn", json!(w)),
                    LinkState::DemandTakenBy(other) => ("demand_taken", json!(other)),
                    LinkState::NotHere => ("not_here", Value::Null),
                };
                json!({"field": l.field, "id": l.id, "state": state, "detail": detail})
            })
            .collect(),
    )
}

/// Who changed what, and when, one change a line.
pub fn history(items: &[HistoryItem], lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {}:",
        match lang {
            Lang::Zh => "修改记录",
            Lang::En => "History",
        }
    );
    for h in items {
        let who = h.by.as_ref().map_or_else(
            || format!("actor {}", &h.actor.to_hex_string()[..8]),
            ToString::to_string,
        );
        let what = if h.fields.is_empty() {
            match lang {
                Lang::Zh => "创建".to_string(),
                Lang::En => "created".to_string(),
            }
        } else {
            h.fields
                .iter()
                .map(|f| field_label(f, lang))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "    {}  {who}  {what}", when(Some(h.time)));
    }
    out
}

/// The history as JSON.
pub fn history_json(items: &[HistoryItem]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|h| {
                json!({
                    "change": massline_core::ids::hex_encode(&h.hash.0),
                    "actor": h.actor.to_hex_string(),
                    "by": h.by,
                    "time": h.time,
                    "fields": h.fields,
                })
            })
            .collect(),
    )
}

/// Study credited, one line each, with totals per person.
pub fn study_log(log: &[(DocId, StudyCredit)], lang: Lang) -> String {
    let mut out = String::new();
    let mut totals: std::collections::BTreeMap<&str, u32> = Default::default();
    for (id, c) in log {
        *totals.entry(c.person.as_str()).or_default() += c.minutes;
        let _ = writeln!(
            out,
            "{}  {}  {}  {}  {}′  {}",
            short(id),
            c.date,
            c.person,
            c.mode.label(lang),
            c.minutes,
            c.material.label(lang)
        );
    }
    for (person, minutes) in totals {
        let _ = writeln!(out, "{person}: {minutes}′");
    }
    out
}

/// The device's state: who, what is unsent, the last sync, the cursors.
pub fn status(s: &Status, lang: Lang) -> String {
    let mut out = String::new();
    match &s.identity {
        Some(id) => {
            let _ = writeln!(
                out,
                "{} ({}, {}) @ {} {}; server {}",
                id.name,
                id.principal.person,
                id.principal.role.label(lang),
                id.township,
                id.village_name.as_deref().unwrap_or(""),
                id.server.address
            );
        }
        None => {
            let _ = writeln!(out, "not enrolled");
        }
    }
    let _ = writeln!(out, "records: {}", s.records);
    let _ = writeln!(out, "unsent changes: {}", s.unsent);
    let _ = writeln!(out, "refused changes: {}", s.refused.len());
    for r in &s.refused {
        let _ = writeln!(out, "  {} {}: {}", short(&r.doc), r.code, r.reason);
    }
    let _ = writeln!(out, "last sync attempt: {}", when(s.last_attempt_at));
    let _ = writeln!(out, "last successful sync: {}", when(s.last_success_at));
    if let Some(e) = &s.last_error {
        let _ = writeln!(out, "last error: {e}");
    }
    let _ = writeln!(out, "cursors:");
    for (scope, seq) in &s.cursors {
        let _ = writeln!(out, "  {scope}\t{seq}");
    }
    out
}

/// What a sync did.
pub fn report(r: &SyncReport) -> String {
    format!(
        "synced in {} ms: pushed {}, refused {}, pulled {}, now at {}; \
         payload {} B up / {} B down, link {} B up / {} B down, {} call(s)",
        r.millis,
        r.pushed,
        r.refused,
        r.pulled,
        r.through,
        r.payload_sent,
        r.payload_received,
        r.link_sent,
        r.link_received,
        r.calls
    )
}
