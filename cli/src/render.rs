//! How records and sync state read on a terminal, in Chinese or English.

use std::fmt::Write;

use chrono::DateTime;
use massline_core::catalog::CodeList;
use massline_core::record_doc::HistoryItem;
use massline_core::records::field::{FieldSpec, Scalar, Shape};
use massline_core::records::{StudyCredit, field_label};
use massline_core::store::documents::RecordRow;
use massline_core::{DocId, Lang, Link, LinkState, Status, SyncReport, VillageStanding};
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

/// One line per record: short id, kind, the fields its kind shows in a
/// line, and a mark when it names a record that no longer stands.
pub fn line(row: &RecordRow, links: &[Link], lang: Lang) -> String {
    let id = short(&row.id);
    let Some(record) = &row.record else {
        return format!(
            "{id}  {}  ({})",
            row.kind.map_or("?", |k| k.label(lang)),
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
    let fields = record.fields();
    let mut shown: Vec<&FieldSpec> = record
        .kind()
        .spec()
        .fields
        .iter()
        .filter(|f| f.line.is_some())
        .collect();
    shown.sort_by_key(|f| f.line);
    let what: Vec<String> = shown
        .into_iter()
        .filter_map(|f| fields.get(f.name).map(|v| brief(f, v, lang)))
        .filter(|s| !s.is_empty())
        .collect();
    format!("{id}  {kind}  {}{gone}{stale}", what.join("  "))
}

/// A field's value in a few words, for a record's line.
fn brief(f: &FieldSpec, v: &Value, lang: Lang) -> String {
    match (f.ty.shape, f.ty.value, v) {
        // Attendance: present / marked.
        (Shape::Map(_), Scalar::Struct(_), Value::Object(m)) => {
            let present = m
                .values()
                .filter(|a| a.get("present") == Some(&Value::Bool(true)))
                .count();
            format!("{present}/{}", m.len())
        }
        // Steps: the furthest reached.
        (Shape::Map(Scalar::Code(list)), _, Value::Object(m)) => {
            furthest(list, m).map_or_else(String::new, |c| code_text(list, c, lang))
        }
        (_, _, Value::Bool(true)) => f.label(lang).to_string(),
        (_, _, Value::Bool(false)) => String::new(),
        (_, Scalar::Text, Value::String(s)) => clip(s, 30),
        (_, scalar, v) => scalar_text(scalar, v, lang),
    }
}

/// The key of `m` that comes last in `list`'s order.
fn furthest<'a>(list: &CodeList, m: &'a serde_json::Map<String, Value>) -> Option<&'a str> {
    m.keys()
        .max_by_key(|k| list.values.iter().position(|v| v.code == k.as_str()))
        .map(String::as_str)
}

fn code_text(list: &CodeList, code: &str, lang: Lang) -> String {
    list.value(code)
        .map_or_else(|| code.to_string(), |v| v.label(lang).to_string())
}

/// A stored value in words: codes as labels, flags as yes/no.
fn scalar_text(scalar: Scalar, v: &Value, lang: Lang) -> String {
    match (scalar, v) {
        (Scalar::Code(list), Value::String(s)) => code_text(list, s, lang),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Bool(true)) => yes(lang).to_string(),
        (_, Value::Bool(false)) => "-".to_string(),
        (_, other) => other.to_string(),
    }
}

/// Writes field `f`'s value `v` at `depth`, labelled; lists and maps an item a line.
fn write_field(out: &mut String, f: &FieldSpec, v: &Value, depth: usize, lang: Lang) {
    let pad = "  ".repeat(depth);
    let label = f.label(lang);
    match (f.ty.shape, v) {
        (Shape::Map(_) | Shape::List, Value::Object(_) | Value::Array(_)) if is_empty(v) => {}
        (Shape::Map(key), Value::Object(m)) => {
            // Keys are data (people, steps), not fields; steps in their order,
            // the furthest first in the heading.
            let mut entries: Vec<_> = m.iter().collect();
            match key {
                Scalar::Code(list) => {
                    entries.sort_by_key(|(k, _)| list.values.iter().position(|c| c.code == *k));
                    let now =
                        furthest(list, m).map_or_else(String::new, |c| code_text(list, c, lang));
                    let _ = writeln!(out, "{pad}{label}: {now}");
                }
                _ => {
                    let _ = writeln!(out, "{pad}{label}:");
                }
            }
            for (k, inner) in entries {
                let name = scalar_text(key, &Value::String(k.clone()), lang);
                write_item(out, f.ty.value, &name, inner, depth + 1, lang);
            }
        }
        (Shape::List, Value::Array(items)) => {
            let _ = writeln!(out, "{pad}{label}:");
            for (i, item) in items.iter().enumerate() {
                write_item(
                    out,
                    f.ty.value,
                    &format!("{}", i + 1),
                    item,
                    depth + 1,
                    lang,
                );
            }
        }
        (_, v) => write_item(out, f.ty.value, label, v, depth, lang),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Writes one value of type `value` at `depth`: a struct's fields indented below `label`.
fn write_item(out: &mut String, value: Scalar, label: &str, v: &Value, depth: usize, lang: Lang) {
    let pad = "  ".repeat(depth);
    match (value, v) {
        (Scalar::Struct(s), Value::Object(m)) => {
            let _ = writeln!(out, "{pad}{label}:");
            for sub in s.fields {
                if let Some(x) = m.get(sub.name) {
                    write_field(out, sub, x, depth + 1, lang);
                }
            }
        }
        (_, Value::String(s)) if s.is_empty() => {}
        (scalar, v) => {
            let _ = writeln!(out, "{pad}{label}: {}", scalar_text(scalar, v, lang));
        }
    }
}

/// Every field of a record, labelled, codes in words, in the order its kind
/// declares them; then each record it names that no longer stands, and why.
pub fn detail(row: &RecordRow, links: &[Link], lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        row.kind.map_or("?", |k| k.label(lang)),
        row.id
    );
    let scope = row.scope.as_ref().map(ToString::to_string);
    let _ = writeln!(out, "  scope: {}", scope.as_deref().unwrap_or("?"));
    match &row.record {
        Some(record) => {
            let fields = record.fields();
            for f in record.kind().spec().fields {
                if let Some(v) = fields.get(f.name) {
                    write_field(&mut out, f, v, 1, lang);
                }
            }
        }
        None => {
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
pub fn status(s: &Status, campaign: &[VillageStanding], lang: Lang) -> String {
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
    let _ = writeln!(
        out,
        "unsent changes: {} ({} bytes)",
        s.unsent, s.unsent_bytes
    );
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
    if !campaign.is_empty() {
        let _ = writeln!(out, "campaign phase:");
    }
    for c in campaign {
        let phase = c.standing.current.map_or("-", |p| p.label(lang));
        let behind: Vec<&str> = c.standing.behind.iter().map(|p| p.label(lang)).collect();
        let _ = write!(out, "  {}\t{phase}", c.village);
        if !behind.is_empty() {
            let _ = write!(out, "\tbehind plan: {}", behind.join(", "));
        }
        out.push('\n');
    }
    out
}

/// What a sync did.
pub fn report(r: &SyncReport) -> String {
    format!(
        "synced in {} ms: pushed {}, refused {}, pulled {}, now at {}; \
         payload {} B up / {} B down, link {} B up / {} B down ({} TLS handshake), {} call(s)",
        r.took.as_millis(),
        r.pushed,
        r.refused,
        r.pulled,
        r.through,
        r.payload_sent,
        r.payload_received,
        r.link_sent,
        r.link_received,
        r.handshake.name(),
        r.calls
    )
}

/// One line for an imported reply bundle.
pub fn imported(r: &massline_core::sync::bundle::Imported) -> String {
    format!(
        "reply imported: pushed {}, refused {}, pulled {}, now at {}{}",
        r.pushed,
        r.refused,
        r.pulled,
        r.through,
        if r.complete {
            ""
        } else {
            "; more wait at the township: export another bundle"
        }
    )
}
