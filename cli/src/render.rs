//! How records and sync state read on a terminal, in Chinese or English.

use std::fmt::Write;

use chrono::DateTime;
use massline_core::records::{Opinion, Rectification, StudyEntry, field_label};
use massline_core::store::documents::RecordRow;
use massline_core::{Lang, Record, RecordKind, Status, SyncReport};

fn short(id: &massline_core::DocId) -> String {
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

/// One line per record: short id, kind, the fields that identify it.
pub fn line(row: &RecordRow, lang: Lang) -> String {
    let id = short(&row.id);
    let Some(record) = &row.record else {
        return format!(
            "{id}  {}  ({})",
            row.kind,
            row.problem.as_deref().unwrap_or("?")
        );
    };
    let kind = record.kind().label(lang);
    match record {
        Record::StudyEntry(e) => format!(
            "{id}  {kind}  {}  {}  {}  {}′  {}",
            e.date,
            e.member,
            e.mode.label(lang),
            e.minutes,
            clip(&e.topic, 30)
        ),
        Record::Opinion(o) => format!(
            "{id}  {kind}  {}  {}  {}  {}",
            o.date,
            o.channel.label(lang),
            o.status.label(lang),
            clip(&o.text, 30)
        ),
        Record::Rectification(r) => format!(
            "{id}  {kind}  {}  {}  {}",
            r.deadline,
            r.status.label(lang),
            clip(&r.measure, 30)
        ),
    }
}

fn field(out: &mut String, name: &str, value: impl std::fmt::Display, lang: Lang) {
    let _ = writeln!(out, "  {}: {value}", field_label(name, lang));
}

fn study(out: &mut String, e: &StudyEntry, lang: Lang) {
    field(out, "member", &e.member, lang);
    field(out, "date", e.date, lang);
    field(out, "material", e.material.label(lang), lang);
    field(out, "topic", &e.topic, lang);
    field(out, "mode", e.mode.label(lang), lang);
    if let Some(h) = &e.helper {
        field(
            out,
            "helper",
            format!("{} ({})", h.name, h.kind.label(lang)),
            lang,
        );
    }
    field(out, "minutes", e.minutes, lang);
    if !e.reflection.is_empty() {
        field(out, "reflection", &e.reflection, lang);
    }
}

fn opinion(out: &mut String, o: &Opinion, lang: Lang) {
    field(out, "date", o.date, lang);
    field(out, "channel", o.channel.label(lang), lang);
    field(out, "source", o.source.label(lang), lang);
    field(out, "area", o.area.label(lang), lang);
    field(out, "four_winds", o.four_winds.label(lang), lang);
    field(out, "text", &o.text, lang);
    if o.anonymous {
        field(
            out,
            "anonymous",
            if lang == Lang::Zh { "是" } else { "yes" },
            lang,
        );
    }
    if let Some(r) = &o.raised_by {
        field(out, "raised_by", r, lang);
    }
    field(out, "status", o.status.label(lang), lang);
    if let Some(a) = &o.answer {
        field(out, "answer", a, lang);
    }
}

fn rectification(out: &mut String, r: &Rectification, lang: Lang) {
    field(out, "problem", &r.problem, lang);
    field(out, "measure", &r.measure, lang);
    if !r.objective.is_empty() {
        field(out, "objective", &r.objective, lang);
    }
    let people: Vec<&str> = r.responsible.iter().map(|p| p.as_str()).collect();
    field(out, "responsible", people.join(", "), lang);
    field(out, "deadline", r.deadline, lang);
    field(out, "term", r.term.label(lang), lang);
    field(out, "status", r.status.label(lang), lang);
    if let Some(d) = r.announced_on {
        field(out, "announced_on", d, lang);
    }
    if let Some(f) = &r.filed {
        field(
            out,
            "filed",
            format!("{} ({})", f.date, f.acknowledged_by),
            lang,
        );
    }
    if !r.progress.is_empty() {
        let _ = writeln!(out, "  {}:", field_label("progress", lang));
        for n in &r.progress {
            let _ = writeln!(out, "    {}  {}  {}", n.date, n.author, n.text);
        }
    }
}

/// Every field of a record, labelled.
pub fn detail(row: &RecordRow, lang: Lang) -> String {
    let mut out = String::new();
    let kind = row
        .kind
        .parse::<RecordKind>()
        .map(|k| k.label(lang).to_string())
        .unwrap_or_else(|_| row.kind.clone());
    let _ = writeln!(out, "{kind} {}", row.id);
    let _ = writeln!(out, "  scope: {}", row.scope);
    match &row.record {
        Some(Record::StudyEntry(e)) => study(&mut out, e, lang),
        Some(Record::Opinion(o)) => opinion(&mut out, o, lang),
        Some(Record::Rectification(r)) => rectification(&mut out, r, lang),
        None => {
            let _ = writeln!(
                out,
                "  ({})",
                row.problem.as_deref().unwrap_or("unreadable")
            );
        }
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
