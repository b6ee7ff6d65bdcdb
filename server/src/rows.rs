//! A typed row for every record: the current state of each document, in
//! tables with real columns (village, dates, months, codes, minutes, status)
//! that the dashboard answers township questions from with SQL, never by
//! loading documents.
//!
//! Rows are written in the same transaction as the change that made them, by
//! [`put`]; [`rebuild`] makes them all again from the stored documents, and
//! must give the same rows. Withdrawn records keep their rows, marked
//! `withdrawn = 1`, so a count can leave them out or show them.
//!
//! Besides one table per kind: `attendance` (study sessions and
//! organizational-life meetings, one row per person marked), `study_credits`
//! (the study each record credits to each person: their own entries and the
//! sessions they attended), `problem_opinions` and `appraisals`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use massline_model::DocId;
use massline_model::record_doc::{self, StoredRecord};
use massline_model::records::{PracticalThing, Record, RecordKind, Warning, roll_counts};
use rusqlite::types::Value;
use rusqlite::{Transaction, params};

use crate::documents;
use crate::error::Error;
use crate::registry;

/// Every table of typed rows.
pub const TABLES: &[&str] = &[
    "members",
    "study_sessions",
    "study_entries",
    "attendance",
    "study_credits",
    "opinions",
    "problems",
    "problem_opinions",
    "rectifications",
    "visits",
    "service_requests",
    "practical_things",
    "org_life_meetings",
    "appraisals",
    "notices",
];

/// The tables holding rows of one kind's records.
fn tables_of(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Member => &["members"],
        RecordKind::StudySession => &["study_sessions", "attendance", "study_credits"],
        RecordKind::StudyEntry => &["study_entries", "study_credits"],
        RecordKind::Opinion => &["opinions"],
        RecordKind::Problem => &["problems", "problem_opinions"],
        RecordKind::Rectification => &["rectifications"],
        RecordKind::Visit => &["visits"],
        RecordKind::ServiceRequest => &["service_requests"],
        RecordKind::PracticalThing => &["practical_things"],
        RecordKind::OrgLifeMeeting => &["org_life_meetings", "attendance", "appraisals"],
        RecordKind::Notice => &["notices"],
    }
}

// Written by hand: chrono's `format` parses its pattern on every call, which
// shows in a profile of taking in thousands of records.
fn day(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

fn month(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{:04}-{:02}", d.year(), d.month())
}

/// A count as SQLite stores it.
fn n(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn opt_day(d: Option<NaiveDate>) -> Option<String> {
    d.map(day)
}

/// The setting that says how far the rows are current: every record whose
/// latest change has a sequence number up to it has its rows.
const THROUGH: &str = "rows_through";

/// The records changed after a change sequence number, in the order they
/// changed (through the index `documents_by_update`).
pub(crate) const CHANGED_SINCE: &str =
    "SELECT d.doc_id, d.record, d.withdrawn, s.name, d.created_seq, d.updated_seq
     FROM documents d JOIN scopes s ON s.id = d.scope_id
     WHERE d.updated_seq > ?1 ORDER BY d.updated_seq";

/// Brings the rows up to date with the records, from where they were current
/// (they follow the records in a transaction of their own, so taking in a
/// push never waits for them). Returns how many records got new rows.
pub fn catch_up(tx: &Transaction<'_>) -> Result<u64, Error> {
    let through: i64 = registry::setting(tx, THROUGH)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut stmt = tx.prepare_cached(CHANGED_SINCE)?;
    let mut rows = stmt.query(params![through])?;
    let (mut done, mut last) = (0, through);
    while let Some(r) = rows.next()? {
        let (key, record, withdrawn, scope, created, updated): (
            Vec<u8>,
            String,
            Option<String>,
            String,
            i64,
            i64,
        ) = (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        );
        last = updated;
        let Some(id) = DocId::from_slice(&key) else {
            continue;
        };
        match documents::stored_record(&id, &record, withdrawn.as_deref(), &scope) {
            Ok(stored) => {
                put(tx, &id, &stored, created > through)?;
                done += 1;
            }
            Err(e) => tracing::warn!(record = %id, error = %e, "stored record has no typed row"),
        }
    }
    registry::set_setting(tx, THROUGH, &last.to_string())?;
    Ok(done)
}

/// Writes the rows of one record, replacing those it had.
pub fn put(tx: &Transaction<'_>, id: &DocId, s: &StoredRecord, new: bool) -> Result<(), Error> {
    let key = &id.as_bytes()[..];
    // A new record has no rows yet; a changed one replaces its rows.
    if !new {
        for table in tables_of(s.record.kind()) {
            tx.prepare_cached(&format!("DELETE FROM {table} WHERE doc_id = ?1"))?
                .execute(params![key])?;
        }
    }
    let village = s.scope.village().as_str();
    let gone = s.withdrawn.is_some();
    let exec = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<(), Error> {
        tx.prepare_cached(sql)?.execute(p)?;
        Ok(())
    };
    match &s.record {
        Record::Member(m) => exec(
            "INSERT INTO members (doc_id, village, person, name, birth_year, joined_on,
                                  education, mobile, whereabouts, withdrawn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                key,
                village,
                m.person.as_ref().map(|p| p.as_str()),
                m.name,
                m.birth_year,
                day(m.joined_on),
                m.education.code(),
                m.mobile,
                m.whereabouts,
                gone
            ],
        )?,
        Record::StudySession(x) => {
            let (present, absent) = roll_counts(&x.attendance);
            exec(
                "INSERT INTO study_sessions (doc_id, village, date, month, material, format,
                                             organizer, minutes, present, absent, withdrawn)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    key,
                    village,
                    day(x.date),
                    month(x.date),
                    x.material.code(),
                    x.format.code(),
                    x.organizer.as_str(),
                    x.minutes,
                    n(present),
                    n(absent),
                    gone
                ],
            )?;
            put_attendance(tx, key, s, x.date, &x.attendance)?;
        }
        Record::StudyEntry(e) => exec(
            "INSERT INTO study_entries (doc_id, village, member, date, month, material, mode,
                                        helper_kind, minutes, comments, withdrawn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                key,
                village,
                e.member.as_str(),
                day(e.date),
                month(e.date),
                e.material.code(),
                e.mode.code(),
                e.helper.as_ref().map(|h| h.kind.code()),
                e.minutes,
                n(e.comments.len()),
                gone
            ],
        )?,
        Record::Opinion(o) => exec(
            "INSERT INTO opinions (doc_id, village, date, month, channel, source, area,
                                   four_winds, anonymous, status, answered, from_visit, withdrawn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                key,
                village,
                day(o.date),
                month(o.date),
                o.channel.code(),
                o.source.code(),
                o.area.code(),
                o.four_winds.code(),
                o.anonymous,
                o.status.code(),
                o.answer.is_some(),
                o.visit.as_ref().map(|l| l.visit.as_bytes().to_vec()),
                gone
            ],
        )?,
        Record::Problem(p) => {
            exec(
                "INSERT INTO problems (doc_id, village, title, how_found, area, opinions, withdrawn)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    key,
                    village,
                    p.title,
                    p.how_found.code(),
                    p.area.code(),
                    n(p.opinions.len()),
                    gone
                ],
            )?;
            for o in &p.opinions {
                exec(
                    "INSERT OR IGNORE INTO problem_opinions (doc_id, opinion) VALUES (?1, ?2)",
                    params![key, &o.as_bytes()[..]],
                )?;
            }
        }
        Record::Rectification(r) => {
            use massline_model::records::RectificationStatus as S;
            exec(
                "INSERT INTO rectifications (doc_id, village, problem, term, status, deadline,
                     planned_on, started_on, done_on, accepted_on, announced_on, filed_on,
                     filed_by, responsible, notes, withdrawn)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                params![
                    key,
                    village,
                    &r.problem.as_bytes()[..],
                    r.term.code(),
                    r.status().code(),
                    day(r.deadline),
                    opt_day(r.reached(S::Planned)),
                    opt_day(r.reached(S::InProgress)),
                    opt_day(r.reached(S::Done)),
                    opt_day(r.reached(S::Accepted)),
                    opt_day(r.announced_on),
                    opt_day(r.filed.as_ref().map(|f| f.date)),
                    r.filed.as_ref().map(|f| f.acknowledged_by.as_str()),
                    n(r.responsible.len()),
                    n(r.progress.len()),
                    gone
                ],
            )?;
        }
        Record::Visit(v) => exec(
            "INSERT INTO visits (doc_id, village, cadre, household_group, date, month, demands,
                                 to_opinion, to_service, withdrawn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                key,
                village,
                v.cadre.as_str(),
                v.group.code(),
                day(v.date),
                month(v.date),
                n(v.demands.len()),
                n(v.demands.iter().filter(|d| d.opinion.is_some()).count()),
                n(v.demands
                    .iter()
                    .filter(|d| d.service_request.is_some())
                    .count()),
                gone
            ],
        )?,
        Record::ServiceRequest(r) => exec(
            "INSERT INTO service_requests (doc_id, village, matter, applied_on, agent, status,
                                           checklist, closed_on, published_on, from_visit,
                                           withdrawn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                key,
                village,
                r.matter.code(),
                day(r.applied_on),
                r.agent.as_str(),
                r.status.code(),
                n(r.checklist.len()),
                opt_day(r.closed_on),
                opt_day(r.published_on),
                r.visit.as_ref().map(|l| l.visit.as_bytes().to_vec()),
                gone
            ],
        )?,
        Record::PracticalThing(t) => exec(
            "INSERT INTO practical_things (doc_id, village, target_date, status, done_on,
                                           satisfaction, withdrawn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                key,
                village,
                day(t.target_date),
                t.status.code(),
                opt_day(t.done_on),
                t.satisfaction.map(|x| x.code()),
                gone
            ],
        )?,
        Record::OrgLifeMeeting(m) => {
            let (present, absent) = roll_counts(&m.attendance);
            exec(
                "INSERT INTO org_life_meetings (doc_id, village, date, month, present, absent,
                                                points, withdrawn)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    key,
                    village,
                    day(m.date),
                    month(m.date),
                    n(present),
                    n(absent),
                    n(m.points.len()),
                    gone
                ],
            )?;
            put_attendance(tx, key, s, m.date, &m.attendance)?;
            for (person, grade) in &m.appraisal {
                exec(
                    "INSERT INTO appraisals (doc_id, village, person, grade, withdrawn)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![key, village, person.as_str(), grade.code(), gone],
                )?;
            }
        }
        Record::Notice(x) => exec(
            "INSERT INTO notices (doc_id, village, date, month, category, medium, about,
                                  withdrawn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                key,
                village,
                day(x.date),
                month(x.date),
                x.category.code(),
                x.medium.code(),
                n(x.about.len()),
                gone
            ],
        )?,
    }
    for c in s.record.study_credits() {
        exec(
            "INSERT INTO study_credits (doc_id, village, person, date, month, minutes, material,
                                        mode, kind, withdrawn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                key,
                village,
                c.person.as_str(),
                day(c.date),
                month(c.date),
                c.minutes,
                c.material.code(),
                c.mode.code(),
                s.record.kind().code(),
                gone
            ],
        )?;
    }
    Ok(())
}

fn put_attendance(
    tx: &Transaction<'_>,
    key: &[u8],
    s: &StoredRecord,
    date: NaiveDate,
    roll: &massline_model::records::Roll,
) -> Result<(), Error> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO attendance (doc_id, kind, village, date, month, person, present, reason,
                                 withdrawn)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for (person, mark) in roll {
        stmt.execute(params![
            key,
            s.record.kind().code(),
            s.scope.village().as_str(),
            day(date),
            month(date),
            person.as_str(),
            mark.present,
            mark.reason,
            s.withdrawn.is_some()
        ])?;
    }
    Ok(())
}

/// What a rebuild did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Records whose rows were written.
    pub records: u64,
    /// Stored documents that do not read as a record of this version (left without rows).
    pub unreadable: Vec<String>,
}

/// Makes every row again from the stored documents (their Automerge state,
/// not their cached JSON).
pub fn rebuild(tx: &Transaction<'_>) -> Result<Rebuilt, Error> {
    for table in TABLES {
        tx.execute(&format!("DELETE FROM {table}"), [])?;
    }
    let through: i64 = tx.query_row(
        "SELECT coalesce(max(updated_seq), 0) FROM documents",
        [],
        |r| r.get(0),
    )?;
    registry::set_setting(tx, THROUGH, &through.to_string())?;
    let mut out = Rebuilt::default();
    let docs: Vec<(Vec<u8>, Vec<u8>)> = {
        let mut stmt = tx.prepare("SELECT doc_id, state FROM documents ORDER BY doc_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (key, state) in docs {
        let Some(id) = DocId::from_slice(&key) else {
            continue;
        };
        let read = documents::load(&id, &state)
            .map_err(|e| e.to_string())
            .and_then(|doc| record_doc::read(&doc).map_err(|e| e.to_string()));
        match read {
            Ok(stored) => {
                put(tx, &id, &stored, true)?;
                out.records += 1;
            }
            Err(e) => {
                tracing::warn!(record = %id, error = %e, "stored record has no typed row");
                out.unreadable.push(id.to_hex());
            }
        }
    }
    Ok(out)
}

/// Every row of every table, in a stable order, for comparing two states.
pub fn snapshot(tx: &Transaction<'_>) -> Result<BTreeMap<&'static str, Vec<Vec<Value>>>, Error> {
    let mut out = BTreeMap::new();
    for table in TABLES {
        let n = tx
            .prepare(&format!("SELECT * FROM {table}"))?
            .column_count();
        let order: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        let mut stmt = tx.prepare(&format!(
            "SELECT * FROM {table} ORDER BY {}",
            order.join(", ")
        ))?;
        let rows = stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())?;
        out.insert(*table, rows.collect::<Result<_, _>>()?);
    }
    Ok(out)
}

/// A warning for each village whose practical things (not withdrawn) are
/// outside the 3 to 5 the campaign asks for; villages with none included.
pub fn practical_thing_warnings(tx: &Transaction<'_>) -> Result<Vec<Warning>, Error> {
    let mut stmt = tx.prepare(
        "SELECT v.code, (SELECT count(*) FROM practical_things t
                         WHERE t.village = v.code AND t.withdrawn = 0)
         FROM villages v ORDER BY v.code",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (village, count) = row?;
        out.extend(PracticalThing::count_warning(
            &village,
            usize::try_from(count).unwrap_or(0),
        ));
    }
    Ok(out)
}
