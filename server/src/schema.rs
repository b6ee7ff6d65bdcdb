//! The server database: version, tables, and upgrades from older versions.
//!
//! The typed rows' tables are not here: they are made from the record kinds'
//! declarations, and made again when those change (see
//! [`crate::rows::follow_declarations`], run each time the database opens).

use rusqlite::Transaction;

use crate::error::Error;

/// The schema version this code writes (`PRAGMA user_version`).
pub const VERSION: u32 = 14;

const V1: &str = "
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE villages (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE people (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    village TEXT REFERENCES villages (code),
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX people_by_village ON people (village);

-- One-time enrollment codes; only a hash of the secret is kept.
CREATE TABLE enrollment_codes (
    secret_hash BLOB PRIMARY KEY,
    person TEXT NOT NULL REFERENCES people (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    device_id INTEGER
) WITHOUT ROWID;

-- Enrolled devices; only a hash of the token is kept.
CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person TEXT NOT NULL REFERENCES people (id),
    actor BLOB NOT NULL UNIQUE,
    token_hash BLOB NOT NULL UNIQUE,
    name TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_seen_at INTEGER
);

CREATE TABLE scopes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    village TEXT NOT NULL REFERENCES villages (code)
);

-- The current state of every record: `state` is a run of Automerge chunks,
-- `record` the record as JSON.
CREATE TABLE documents (
    doc_id BLOB PRIMARY KEY,
    scope_id INTEGER NOT NULL REFERENCES scopes (id),
    kind TEXT NOT NULL,
    state BLOB NOT NULL,
    chunks INTEGER NOT NULL,
    record TEXT NOT NULL,
    created_seq INTEGER NOT NULL,
    updated_seq INTEGER NOT NULL
);
CREATE INDEX documents_by_scope ON documents (scope_id);

-- Every accepted change, numbered in the order it became durable. The number
-- is never reused (AUTOINCREMENT), so device cursors stay meaningful.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB NOT NULL UNIQUE,
    doc_id BLOB NOT NULL,
    scope_id INTEGER NOT NULL REFERENCES scopes (id),
    device_id INTEGER NOT NULL REFERENCES devices (id),
    bytes BLOB NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX changes_by_scope ON changes (scope_id, seq);
CREATE INDEX changes_by_doc ON changes (doc_id, seq);
";

/// Version 2: every record's withdrawal beside its JSON. (Version 2 also
/// made the typed rows' tables; they are now made from the record kinds'
/// declarations, see [`crate::rows::follow_declarations`].)
const V2: &str = "
ALTER TABLE documents ADD COLUMN withdrawn TEXT;
";

/// Version 3: documents by the last change that touched them, so the typed
/// rows catch up from their watermark without reading every record.
const V3: &str = "
CREATE INDEX documents_by_update ON documents (updated_seq);
";

/// Version 4: the dashboard's accounts. A person can be revoked (their
/// devices with them); township officers, secretaries and cadres may have a
/// dashboard password (an argon2id hash), one-time login links (only a hash
/// of the secret is kept) and sessions (only a hash of the token is kept),
/// each session noting the role and village it was opened with, so a person
/// whose role changed is signed out.
const V4: &str = "
ALTER TABLE people ADD COLUMN revoked_at INTEGER;

CREATE TABLE web_passwords (
    person TEXT PRIMARY KEY REFERENCES people (id),
    hash TEXT NOT NULL,
    set_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE web_login_links (
    secret_hash BLOB PRIMARY KEY,
    person TEXT NOT NULL REFERENCES people (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
) WITHOUT ROWID;

CREATE TABLE web_sessions (
    token_hash BLOB PRIMARY KEY,
    person TEXT NOT NULL REFERENCES people (id),
    role TEXT NOT NULL,
    village TEXT,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX web_sessions_by_person ON web_sessions (person);
";

/// Version 5: a device can be a dashboard's, through which a township
/// officer acts from the dashboard (see [`crate::acting`]): one per person,
/// never given a token.
const V5: &str = "
ALTER TABLE devices ADD COLUMN dashboard INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX devices_dashboard_of ON devices (person) WHERE dashboard = 1;
";

/// Version 6: the app version a device last called with, for the township
/// office's list of devices.
const V6: &str = "
ALTER TABLE devices ADD COLUMN app_version TEXT;
";

/// Version 7: records purged for good (see [`crate::purge`]). `purges` is
/// the audit log, and keeps each purged record's id so that no change to it
/// is taken again; `seq` is the purge's own number in the changes' sequence
/// (taken from `changes`' `AUTOINCREMENT`), so a pull names it once to each
/// device. `purged_changes` keeps the hashes (and nothing else) of the
/// purged changes, so a change building on one is known for what it is.
const V7: &str = "
CREATE TABLE purges (
    doc_id BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    scope_id INTEGER NOT NULL REFERENCES scopes (id),
    seq INTEGER NOT NULL UNIQUE,
    purged_by TEXT NOT NULL REFERENCES people (id),
    purged_at INTEGER NOT NULL,
    reason TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX purges_by_scope ON purges (scope_id, seq);

CREATE TABLE purged_changes (
    hash BLOB PRIMARY KEY,
    doc_id BLOB NOT NULL
) WITHOUT ROWID;
";

/// Version 8: the township's own scope (`t/shared`) belongs to no village,
/// so a scope's village may be null. SQLite cannot loosen a column, so the
/// table is made anew under the same name (run with foreign keys off, see
/// [`crate::db::Db::open`]; `documents` and `changes` keep pointing at it by
/// name).
const V8: &str = "
CREATE TABLE scopes_v8 (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    village TEXT REFERENCES villages (code)
);
INSERT INTO scopes_v8 (id, name, village) SELECT id, name, village FROM scopes;
DROP TABLE scopes;
ALTER TABLE scopes_v8 RENAME TO scopes;
";

/// Version 9: a purge's officer is kept as written, not as a person of the
/// registry, so a purge made again from the purge journal
/// ([`crate::purge::reapply`]) on a database restored from before that
/// officer was added keeps their name (the table made anew, as version 8
/// does). `bundle_imports` keeps the nonce of every sync bundle taken in,
/// so the township office is told when a bundle comes in again.
const V9: &str = "
CREATE TABLE purges_v9 (
    doc_id BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    scope_id INTEGER NOT NULL REFERENCES scopes (id),
    seq INTEGER NOT NULL UNIQUE,
    purged_by TEXT NOT NULL,
    purged_at INTEGER NOT NULL,
    reason TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO purges_v9 (doc_id, kind, scope_id, seq, purged_by, purged_at, reason)
    SELECT doc_id, kind, scope_id, seq, purged_by, purged_at, reason FROM purges;
DROP TABLE purges;
ALTER TABLE purges_v9 RENAME TO purges;
CREATE INDEX purges_by_scope ON purges (scope_id, seq);

CREATE TABLE bundle_imports (
    device_id INTEGER NOT NULL,
    nonce BLOB NOT NULL,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
) WITHOUT ROWID;
";

/// Version 10: the public half of the key a device signs its sync bundles
/// with (NULL for a device enrolled before devices had one).
const V10: &str = "
ALTER TABLE devices ADD COLUMN bundle_public_key BLOB;
";

/// Version 11: the scope index names each change's device, so a pull skips
/// the device's own changes (all of them, after an upload) without reading
/// a row of `changes`.
const V11: &str = "
DROP INDEX changes_by_scope;
CREATE INDEX changes_by_scope ON changes (scope_id, seq, device_id);
";

/// Version 12: a record's stored document is its last save (or run of
/// chunks) through `saved_through`; its later changes are read from
/// `changes`, not written a second time. NULL: the run holds every change
/// (as every record stored before this version).
const V12: &str = "
ALTER TABLE documents ADD COLUMN saved_through INTEGER;
";

/// Version 13: no index of records by scope. Nothing looks records up that
/// way (a record is found by its id, the rows by `documents_by_update`), and
/// every record written wrote the index too.
const V13: &str = "
DROP INDEX documents_by_scope;
";

/// Version 14: the runs of numbers that hold only one device's changes,
/// which a pull of that device steps over (see [`crate::own_runs`]).
const V14: &str = "
CREATE TABLE own_runs (
    device_id INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (device_id, first_seq)
) WITHOUT ROWID;
";

/// Brings a database at `from` up to [`VERSION`], one step at a time.
pub fn upgrade(tx: &Transaction<'_>, from: u32) -> Result<(), Error> {
    for version in from..VERSION {
        match version {
            0 => tx.execute_batch(V1)?,
            1 => tx.execute_batch(V2)?,
            2 => tx.execute_batch(V3)?,
            3 => tx.execute_batch(V4)?,
            4 => tx.execute_batch(V5)?,
            5 => tx.execute_batch(V6)?,
            6 => tx.execute_batch(V7)?,
            7 => tx.execute_batch(V8)?,
            8 => tx.execute_batch(V9)?,
            9 => tx.execute_batch(V10)?,
            10 => tx.execute_batch(V11)?,
            11 => tx.execute_batch(V12)?,
            12 => tx.execute_batch(V13)?,
            13 => tx.execute_batch(V14)?,
            _ => {}
        }
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use crate::rows;
    use automerge::ActorId;
    use massline_model::record_doc::{self, Author};
    use massline_model::records::{Notice, NoticeCategory, NoticeMedium, Record};
    use massline_model::{PersonId, Scope, VillageCode};

    #[test]
    fn typed_rows_catch_up_through_an_index_not_a_scan_of_every_record() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(dir.path()).expect("open");
        let plan: Vec<String> = db
            .read(|tx| {
                let mut stmt =
                    tx.prepare(&format!("EXPLAIN QUERY PLAN {}", rows::CHANGED_SINCE))?;
                let details = stmt
                    .query_map([0, 256], |r| r.get::<_, String>(3))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok::<_, Error>(details)
            })
            .expect("plan");
        assert!(
            plan.iter().any(|d| d.contains("documents_by_update")),
            "catching up scans every record: {plan:?}"
        );
    }

    #[test]
    fn a_version_1_database_opens_upgraded_with_rows_for_its_records() {
        let dir = tempfile::tempdir().expect("dir");
        let notice = Record::Notice(Notice {
            date: chrono::NaiveDate::from_ymd_opt(2024, 6, 1).expect("date"),
            category: NoticeCategory::Finance,
            medium: NoticeMedium::Board,
            title: "上半年收支".into(),
            content: String::new(),
            about: Vec::new(),
        });
        let scope = Scope::VillageShared(VillageCode::new("dongcun").expect("code"));
        let (actor, person) = (ActorId::from([7u8; 16]), PersonId::new("li").expect("id"));
        let by = Author {
            actor: &actor,
            person: &person,
            time: 1,
        };
        let (id, doc, _) = record_doc::create(&by, &scope, 1, &notice).expect("doc");
        {
            let conn = rusqlite::Connection::open(dir.path().join("massline.db")).expect("open");
            conn.execute_batch(V1).expect("v1");
            conn.execute_batch(
                "INSERT INTO villages VALUES ('dongcun', '东村', 0);
                 INSERT INTO scopes VALUES (1, 'v/dongcun/shared', 'dongcun');",
            )
            .expect("village");
            conn.execute(
                "INSERT INTO documents VALUES (?1, 1, 'notice', ?2, 1, ?3, 1, 1)",
                rusqlite::params![
                    &id.as_bytes()[..],
                    doc.save(),
                    serde_json::to_string(&notice).expect("json")
                ],
            )
            .expect("document");
            conn.pragma_update(None, "user_version", 1)
                .expect("version");
        }
        let db = Db::open(dir.path()).expect("upgrade");
        let (version, month, withdrawn): (u32, String, Option<String>) = db
            .read(|tx| {
                Ok::<_, Error>((
                    tx.pragma_query_value(None, "user_version", |r| r.get(0))?,
                    tx.query_row("SELECT month FROM notices", [], |r| r.get(0))?,
                    tx.query_row("SELECT withdrawn FROM documents", [], |r| r.get(0))?,
                ))
            })
            .expect("read");
        assert_eq!(
            (version, month.as_str(), withdrawn),
            (VERSION, "2024-06", None)
        );
    }

    /// The typed rows' tables as version 2 made them by hand, before they
    /// were made from the declarations.
    const V2_TABLES: &str = "
CREATE TABLE members (
    doc_id BLOB PRIMARY KEY,
    village TEXT NOT NULL,
    person TEXT,
    name TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    joined_on TEXT NOT NULL,
    education TEXT NOT NULL,
    mobile INTEGER NOT NULL,
    whereabouts TEXT NOT NULL,
    withdrawn INTEGER NOT NULL
);
CREATE INDEX members_by_village ON members (village);

CREATE TABLE study_sessions (
    doc_id BLOB PRIMARY KEY,
    village TEXT NOT NULL,
    date TEXT NOT NULL,
    month TEXT NOT NULL,
    material TEXT NOT NULL,
    format TEXT NOT NULL,
    organizer TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    present INTEGER NOT NULL,
    absent INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL
);
CREATE INDEX study_sessions_by_village ON study_sessions (village, month);

CREATE TABLE study_entries (
    doc_id BLOB PRIMARY KEY,
    village TEXT NOT NULL,
    member TEXT NOT NULL,
    date TEXT NOT NULL,
    month TEXT NOT NULL,
    material TEXT NOT NULL,
    mode TEXT NOT NULL,
    helper_kind TEXT,
    minutes INTEGER NOT NULL,
    comments INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL
);
CREATE INDEX study_entries_by_village ON study_entries (village, month);

-- One row per person marked at a study session or an organizational-life
-- meeting (`kind` says which).
CREATE TABLE attendance (
    doc_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    village TEXT NOT NULL,
    date TEXT NOT NULL,
    month TEXT NOT NULL,
    person TEXT NOT NULL,
    present INTEGER NOT NULL,
    reason TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    PRIMARY KEY (doc_id, person)
) WITHOUT ROWID;
CREATE INDEX attendance_by_village ON attendance (village, month);

-- The study each record credits to each person: a member's own entry, and
-- each attendee present at a study session (`kind` says which).
CREATE TABLE study_credits (
    doc_id BLOB NOT NULL,
    village TEXT NOT NULL,
    person TEXT NOT NULL,
    date TEXT NOT NULL,
    month TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    material TEXT NOT NULL,
    mode TEXT NOT NULL,
    kind TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    PRIMARY KEY (doc_id, person)
) WITHOUT ROWID;
CREATE INDEX study_credits_by_village ON study_credits (village, month, person);

CREATE TABLE opinions (
    doc_id BLOB PRIMARY KEY,
    village TEXT NOT NULL,
    date TEXT NOT NULL,
    month TEXT NOT NULL,
    channel TEXT NOT NULL,
    source TEXT NOT NULL,
    area TEXT NOT NULL,
    four_winds TEXT NOT NULL,
    anonymous INTEGER NOT NULL,
    status TEXT NOT NULL,
    answered INTEGER NOT NULL,
    from_visit BLOB,
    withdrawn INTEGER NOT NULL
);
CREATE INDEX opinions_by_village ON opinions (village, month);

CREATE TABLE problems (
    doc_id BLOB PRIMARY KEY,
    village TEXT NOT NULL,
    title TEXT NOT NULL,
    how_found TEXT NOT NULL,
    area TEXT NOT NULL,
    opinions INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL
);
CREATE INDEX problems_by_village ON problems (village);

CREATE TABLE problem_opinions (
    doc_id BLOB NOT NULL,
    opinion BLOB NOT NULL,
    PRIMARY KEY (doc_id, opinion)
) WITHOUT ROWID;

-- `status` is the furthest step reached; `*_on` the day each step was.
CREATE TABLE rectifications (
    doc_id BLOB PRIMARY KEY,
    village TEXT NOT NULL,
    problem BLOB NOT NULL,
    term TEXT NOT NULL,
    status TEXT NOT NULL,
    deadline TEXT NOT NULL,
    planned_on TEXT,
    started_on TEXT,
    done_on TEXT,
    accepted_on TEXT,
    announced_on TEXT,
    filed_on TEXT,
    filed_by TEXT,
    responsible INTEGER NOT NULL,
    notes INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL
);
CREATE INDEX rectifications_by_village ON rectifications (village, status);

CREATE TABLE visits (
    doc_id BLOB PRIMARY KEY,
    village TEXT NOT NULL,
    cadre TEXT NOT NULL,
    household_group TEXT NOT NULL,
    date TEXT NOT NULL,
    month TEXT NOT NULL,
    demands INTEGER NOT NULL,
    to_opinion INTEGER NOT NULL,
    to_service INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL
);
CREATE INDEX visits_by_village ON visits (village, month);

CREATE TABLE service_requests (
    doc_id BLOB PRIMARY KEY,
    village TEXT NOT NULL,
    matter TEXT NOT NULL,
    applied_on TEXT NOT NULL,
    agent TEXT NOT NULL,
    status TEXT NOT NULL,
    checklist INTEGER NOT NULL,
    closed_on TEXT,
    published_on TEXT,
    from_visit BLOB,
    withdrawn INTEGER NOT NULL
);
CREATE INDEX service_requests_by_village ON service_requests (village, status);

CREATE TABLE practical_things (
    doc_id BLOB PRIMARY KEY,
    village TEXT NOT NULL,
    target_date TEXT NOT NULL,
    status TEXT NOT NULL,
    done_on TEXT,
    satisfaction TEXT,
    withdrawn INTEGER NOT NULL
);
CREATE INDEX practical_things_by_village ON practical_things (village);

CREATE TABLE org_life_meetings (
    doc_id BLOB PRIMARY KEY,
    village TEXT NOT NULL,
    date TEXT NOT NULL,
    month TEXT NOT NULL,
    present INTEGER NOT NULL,
    absent INTEGER NOT NULL,
    points INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL
);
CREATE INDEX org_life_meetings_by_village ON org_life_meetings (village);

CREATE TABLE appraisals (
    doc_id BLOB NOT NULL,
    village TEXT NOT NULL,
    person TEXT NOT NULL,
    grade TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    PRIMARY KEY (doc_id, person)
) WITHOUT ROWID;

CREATE TABLE notices (
    doc_id BLOB PRIMARY KEY,
    village TEXT NOT NULL,
    date TEXT NOT NULL,
    month TEXT NOT NULL,
    category TEXT NOT NULL,
    medium TEXT NOT NULL,
    about INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL
);
CREATE INDEX notices_by_village ON notices (village, month);
";

    #[test]
    fn a_version_3_database_with_hand_made_tables_opens_with_the_declared_ones_filled() {
        let dir = tempfile::tempdir().expect("dir");
        let notice = Record::Notice(Notice {
            date: chrono::NaiveDate::from_ymd_opt(2024, 6, 1).expect("date"),
            category: NoticeCategory::Finance,
            medium: NoticeMedium::Board,
            title: "上半年收支".into(),
            content: String::new(),
            about: Vec::new(),
        });
        let scope = Scope::VillageShared(VillageCode::new("dongcun").expect("code"));
        let (actor, person) = (ActorId::from([7u8; 16]), PersonId::new("li").expect("id"));
        let by = Author {
            actor: &actor,
            person: &person,
            time: 1,
        };
        let (id, doc, _) = record_doc::create(&by, &scope, 1, &notice).expect("doc");
        {
            let conn = rusqlite::Connection::open(dir.path().join("massline.db")).expect("open");
            for sql in [V1, V2, V2_TABLES, V3] {
                conn.execute_batch(sql).expect("schema");
            }
            conn.execute_batch(
                "INSERT INTO villages VALUES ('dongcun', '东村', 0);
                 INSERT INTO scopes VALUES (1, 'v/dongcun/shared', 'dongcun');
                 -- A stale row: the tables are made again, not trusted.
                 INSERT INTO notices VALUES (x'00', 'dongcun', '2000-01-01', '2000-01',
                                             'other', 'board', 0, 0);",
            )
            .expect("village");
            conn.execute(
                "INSERT INTO documents VALUES (?1, 1, 'notice', ?2, 1, ?3, 1, 1, NULL)",
                rusqlite::params![
                    &id.as_bytes()[..],
                    doc.save(),
                    serde_json::to_string(&notice).expect("json")
                ],
            )
            .expect("document");
            conn.pragma_update(None, "user_version", 3)
                .expect("version");
        }
        let db = Db::open(dir.path()).expect("open");
        let (months, ddl): (Vec<String>, Vec<String>) = db
            .read(|tx| {
                let months = tx
                    .prepare("SELECT month FROM notices")?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let ddl = tx
                    .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                Ok::<_, Error>((months, ddl))
            })
            .expect("read");
        assert_eq!(months, ["2024-06"], "rows made again from the documents");
        for statement in rows::ddl().split(";\n").filter(|s| !s.trim().is_empty()) {
            assert!(
                ddl.iter().any(|d| d.trim() == statement.trim()),
                "not made from the declarations: {statement}"
            );
        }
        // Opening again finds the tables as declared and leaves them be.
        drop(db);
        let db = Db::open(dir.path()).expect("open again");
        let made_again = db.write(rows::follow_declarations).expect("follow");
        assert!(!made_again);
    }

    #[test]
    fn a_version_3_database_opens_upgraded_with_accounts_and_keeps_its_people() {
        let dir = tempfile::tempdir().expect("dir");
        {
            let conn = rusqlite::Connection::open(dir.path().join("massline.db")).expect("open");
            for v in [V1, V2, V3] {
                conn.execute_batch(v).expect("schema");
            }
            conn.execute_batch(
                "INSERT INTO villages VALUES ('dongcun', '东村', 0);
                 INSERT INTO people VALUES ('zhang', '张书记', 'secretary', 'dongcun', 0);",
            )
            .expect("person");
            conn.pragma_update(None, "user_version", 3)
                .expect("version");
        }
        let db = Db::open(dir.path()).expect("upgrade");
        let (version, revoked, sessions): (u32, Option<i64>, i64) = db
            .write(|tx| {
                tx.execute(
                    "INSERT INTO web_sessions VALUES (x'00', 'zhang', 'secretary', 'dongcun',
                                                      'c', 1, 2, 1)",
                    [],
                )?;
                Ok::<_, Error>((
                    tx.pragma_query_value(None, "user_version", |r| r.get(0))?,
                    tx.query_row(
                        "SELECT revoked_at FROM people WHERE id = 'zhang'",
                        [],
                        |r| r.get(0),
                    )?,
                    tx.query_row("SELECT count(*) FROM web_sessions", [], |r| r.get(0))?,
                ))
            })
            .expect("read");
        assert_eq!((version, revoked, sessions), (VERSION, None, 1));
    }
}
