//! What the declarations promise: the stored form pinned, labels in both
//! languages, study credited, and typed rows of the declared tables.

use super::*;

#[test]
fn study_counts_for_the_member_and_for_each_attendee_present() {
    let credits = sample(RecordKind::StudySession).study_credits();
    assert_eq!(credits.len(), 1, "zhao was absent: {credits:?}");
    assert_eq!(credits[0].person, p("wang"));
    assert_eq!(credits[0].minutes, 90);
    assert_eq!(credits[0].mode, StudyMode::Centralized);
    let credits = sample(RecordKind::StudyEntry).study_credits();
    assert_eq!(
        (credits[0].person.as_str(), credits[0].minutes),
        ("wang", 45)
    );
    assert!(sample(RecordKind::Opinion).study_credits().is_empty());
}

#[test]
fn codes_and_fields_have_labels_in_both_languages() {
    use crate::codes::Lang;
    assert_eq!(
        code_label(RecordKind::Rectification, "steps", "accepted", Lang::Zh),
        Some("群众认可")
    );
    assert_eq!(
        code_label(RecordKind::ServiceRequest, "status", "done", Lang::Zh),
        Some("已办结")
    );
    assert_eq!(
        code_label(
            RecordKind::OrgLifeMeeting,
            "appraisal",
            "excellent",
            Lang::En
        ),
        Some("Excellent")
    );
    assert_eq!(code_label(RecordKind::Notice, "title", "x", Lang::Zh), None);
    for kind in RecordKind::all() {
        for field in sample(*kind).fields().keys() {
            assert_ne!(
                field_label(field, Lang::Zh),
                field.as_str(),
                "{kind}.{field} has no Chinese label"
            );
        }
    }
}

/// The stored form of every kind (field names and codes) and every code of
/// every enumeration, as written to documents and SQLite. The fixtures are
/// records of each kind as stored, which must read and be written back
/// byte for byte, and the code lists, whose every code must stay (new lists
/// and codes may be added). A change here is a change of format: existing
/// records would no longer read. `MASSLINE_WRITE_FIXTURES=1` writes them
/// anew from this version.
#[test]
fn the_stored_form_of_records_and_codes_is_pinned() {
    let pinned = include_str!("../fixtures/records.jsonl");
    let mut records = String::new();
    for (line, kind) in pinned.lines().zip(RecordKind::all()) {
        let record: Record = serde_json::from_str(line).expect("reads back");
        assert_eq!(record.kind(), *kind, "a fixture of every kind, in order");
        record.validate().expect("valid");
        records.push_str(&serde_json::to_string(&record).expect("json"));
        records.push('\n');
    }
    let mut codes = String::new();
    let lists = crate::catalog::code_lists();
    for list in &lists {
        let values: Vec<_> = list.values.iter().map(|v| v.code).collect();
        codes.push_str(&format!("{}: {}\n", list.name, values.join(" ")));
    }
    if std::env::var_os("MASSLINE_WRITE_FIXTURES").is_some() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/records/fixtures");
        std::fs::write(format!("{dir}/records.jsonl"), &records).expect("write");
        std::fs::write(format!("{dir}/codes.txt"), &codes).expect("write");
    }
    assert_eq!(records, pinned);
    for line in include_str!("../fixtures/codes.txt").lines() {
        let (name, pinned) = line.split_once(": ").expect("name: codes");
        let list = lists
            .iter()
            .find(|l| l.name == name)
            .unwrap_or_else(|| panic!("the code list {name} is gone"));
        let mut now = list.values.iter().map(|v| v.code);
        for code in pinned.split(' ') {
            assert!(
                now.any(|c| c == code),
                "{name}: {code} is gone or moved before another pinned code"
            );
        }
    }
}

#[test]
fn a_records_tag_is_its_kinds_code() {
    for kind in RecordKind::all() {
        let json = serde_json::to_value(sample(*kind)).expect("json");
        assert_eq!(json["kind"], kind.code());
        assert_eq!(RecordKind::from_code(kind.spec().code), Some(*kind));
    }
}

/// The typed-row tables and columns the dashboard counts with, as they were
/// when they were first made: a kind may add columns, never rename or drop one.
const TODAYS_TABLES: &[(&str, &str)] = &[
    (
        "members",
        "doc_id village person name birth_year joined_on education mobile whereabouts contact_cadre pairing_helper_kind withdrawn",
    ),
    (
        "study_sessions",
        "doc_id village date month material format organizer minutes present absent withdrawn",
    ),
    (
        "study_entries",
        "doc_id village member date month material mode helper_kind minutes comments withdrawn",
    ),
    (
        "attendance",
        "doc_id kind village date month person present reason withdrawn",
    ),
    (
        "study_credits",
        "doc_id village person date month minutes material mode kind withdrawn",
    ),
    (
        "opinions",
        "doc_id village date month channel source area four_winds anonymous status answered from_visit meeting withdrawn",
    ),
    (
        "problems",
        "doc_id village title how_found area opinions withdrawn",
    ),
    ("problem_opinions", "doc_id opinion"),
    (
        "rectifications",
        "doc_id village problem term status deadline planned_on started_on done_on accepted_on announced_on submitted_on submitted_by filing filed_on filed_by responsible notes withdrawn",
    ),
    (
        "visits",
        "doc_id village cadre household_group date month demands to_opinion to_service withdrawn",
    ),
    (
        "service_requests",
        "doc_id village matter applied_on agent status checklist closed_on published_on from_visit withdrawn",
    ),
    (
        "practical_things",
        "doc_id village target_date status done_on satisfaction withdrawn",
    ),
    (
        "org_life_meetings",
        "doc_id village date month present absent points withdrawn",
    ),
    ("appraisals", "doc_id village person grade withdrawn"),
    (
        "notices",
        "doc_id village date month category medium about withdrawn",
    ),
    (
        "listening_meetings",
        "doc_id village date month format others members withdrawn",
    ),
    (
        "regulations",
        "doc_id village title category adopted_on month announced_on withdrawn",
    ),
    (
        "comparison_materials",
        "doc_id village author date month points withdrawn",
    ),
    (
        "mobile_contacts",
        "doc_id village member date month cadre how materials_sent withdrawn",
    ),
];

#[test]
fn the_dashboards_tables_and_columns_stay() {
    let tables = tables();
    for (name, columns) in TODAYS_TABLES {
        let t = tables
            .iter()
            .find(|t| t.name == *name)
            .unwrap_or_else(|| panic!("table {name} is gone"));
        for c in columns.split(' ') {
            assert!(t.columns.iter().any(|d| d.name == c), "{name}.{c} is gone");
        }
    }
    for t in &tables {
        assert_eq!(t.columns[0], row::Column::DOC_ID, "{}", t.name);
        let mut names: Vec<_> = t.columns.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), t.columns.len(), "{}: a column twice", t.name);
    }
}

/// Each sample, and one with every optional field set, written as typed
/// rows: one cell per column, of the column's type, null only where the
/// column may be.
#[test]
fn typed_rows_are_of_their_tables_columns() {
    let mut records: Vec<Record> = RecordKind::all().iter().map(|k| sample(*k)).collect();
    records.push(with!(Rectification, |r| {
        r.announced_on = Some(day(2024, 5, 20));
        r.advance(RectificationStatus::Done, day(2024, 5, 19));
        r.submitted = Some(Submission {
            date: day(2024, 5, 20),
            by: p("zhang"),
        });
        r.filed = Some(Filing {
            date: day(2024, 5, 21),
            acknowledged_by: p("liu"),
        });
    }));
    records.push(with!(Member, |m| {
        m.contact_cadre = Some(p("li"));
        m.pairing = Some(Helper {
            kind: HelperKind::WellOffCadre,
            name: "小王".into(),
        });
    }));
    records.push(with!(StudyEntry, |e| {
        e.mode = StudyMode::Pairing;
        e.helper = Some(Helper {
            kind: HelperKind::GraduateOfficial,
            name: "小李".into(),
        });
    }));
    records.push(with!(Opinion, |o| {
        o.status = OpinionStatus::Answered;
        o.answer = Some("已公开".into());
        o.visit = Some(DemandLink {
            visit: doc_id(VISIT),
            demand: "d1".into(),
        });
    }));
    records.push(with!(PracticalThing, |t| {
        t.status = ThingStatus::Done;
        t.done_on = Some(day(2024, 9, 30));
        t.satisfaction = Some(Satisfaction::Satisfied);
    }));
    let id = doc_id(NEW);
    for record in &records {
        record.validate().expect("valid");
        let kind = record.kind();
        let of = row::RowOf {
            id: &id,
            village: "dongcun",
            kind: kind.code(),
            withdrawn: false,
        };
        let rows = record.rows(&of);
        assert_eq!(rows[0].table, &kind.spec().table);
        for r in &rows {
            assert!(
                kind.tables().contains(&r.table),
                "{kind} writes to {}, which it does not declare",
                r.table.name
            );
            assert_eq!(r.cells.len(), r.table.columns.len(), "{}", r.table.name);
            for (cell, column) in r.cells.iter().zip(r.table.columns) {
                let ok = match (cell, column.sql) {
                    (row::Cell::Null, _) => column.nullable,
                    (row::Cell::Int(_), row::SqlType::Integer)
                    | (row::Cell::Str(_), row::SqlType::Text)
                    | (row::Cell::Blob(_), row::SqlType::Blob) => true,
                    _ => false,
                };
                assert!(ok, "{}.{}: {cell:?}", r.table.name, column.name);
            }
        }
    }
}

#[test]
fn every_field_is_labelled_in_both_languages() {
    fn each(fields: &'static [field::FieldSpec], at: &str) {
        for f in fields {
            assert!(!f.zh.is_empty() && !f.en.is_empty(), "{at}.{}", f.name);
            assert!(!f.doc.is_empty(), "{at}.{} has no doc comment", f.name);
            if let field::Scalar::Struct(s) = f.ty.value {
                each(s.fields, &format!("{at}.{}", f.name));
            }
        }
    }
    for kind in RecordKind::all() {
        each(kind.spec().fields, kind.code());
        assert!(!kind.spec().doc.is_empty(), "{kind}");
    }
}
