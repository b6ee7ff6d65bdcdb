//! A typed row for every record: the current state of each document, in
//! tables with real columns (village, dates, months, codes, minutes, status)
//! that the dashboard answers township questions from with SQL, never by
//! loading documents.
//!
//! The tables are the kinds' declarations (`massline_model::records::row`):
//! each kind's own table, with the columns its fields declare, and the
//! tables it fills besides (`attendance`, one row per person marked at a
//! study session or an organizational-life meeting; `study_credits`, the
//! study each record credits to each person; `problem_opinions`;
//! `appraisals`). The server makes them from the declarations
//! ([`follow_declarations`]): when the declarations change (a kind gains a
//! column), the tables are made again and refilled from the stored
//! documents, so a new column needs no hand-written SQL.
//!
//! Rows follow the records (see [`catch_up`]), each record's written by
//! [`put`] in one loop over its kind's rows; [`rebuild`] makes them all
//! again from the stored documents, and must give the same rows. Withdrawn
//! records keep their rows, marked `withdrawn = 1`, so a count can leave them
//! out or show them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::OnceLock;

use massline_model::record_doc::{self, StoredRecord};
use massline_model::records::row::{Cell, Row, RowOf, SqlType, Table};
use massline_model::records::{self, PracticalThing, RecordKind, Warning};
use massline_model::{DocId, VillageCode};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Transaction, params, params_from_iter};
use sha2::{Digest, Sha256};

use crate::documents;
use crate::error::Error;
use crate::registry;

/// A table's statements, made once from its declaration.
struct Statements {
    table: &'static Table,
    create: String,
    insert: String,
    delete: String,
}

fn statements(t: &'static Table) -> Statements {
    let single_key = t.key == ["doc_id"];
    let mut create = format!("CREATE TABLE {} (\n", t.name);
    for (i, c) in t.columns.iter().enumerate() {
        let _ = write!(create, "    {} {}", c.name, c.sql.sql());
        if single_key && c.name == "doc_id" {
            create.push_str(" PRIMARY KEY");
        } else if !c.nullable {
            create.push_str(" NOT NULL");
        }
        if i + 1 < t.columns.len() || !single_key {
            create.push(',');
        }
        create.push('\n');
    }
    if single_key {
        create.push_str(");\n");
    } else {
        let _ = writeln!(
            create,
            "    PRIMARY KEY ({})\n) WITHOUT ROWID;",
            t.key.join(", ")
        );
    }
    if !t.index.is_empty() {
        let _ = writeln!(
            create,
            "CREATE INDEX {0}_by_village ON {0} ({1});",
            t.name,
            t.index.join(", ")
        );
    }
    let names: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
    let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    // A table keyed by more than the record (a person's mark, a linked
    // opinion) takes each key once, whatever the record holds.
    let verb = if single_key {
        "INSERT"
    } else {
        "INSERT OR IGNORE"
    };
    Statements {
        table: t,
        create,
        insert: format!(
            "{verb} INTO {} ({}) VALUES ({})",
            t.name,
            names.join(", "),
            marks.join(", ")
        ),
        delete: format!("DELETE FROM {} WHERE doc_id = ?1", t.name),
    }
}

/// Every table's statements, in the order of the kinds.
fn all() -> &'static [Statements] {
    static ALL: OnceLock<Vec<Statements>> = OnceLock::new();
    ALL.get_or_init(|| records::tables().into_iter().map(statements).collect())
}

fn of(table: &Table) -> &'static Statements {
    all()
        .iter()
        .find(|s| s.table.name == table.name)
        .unwrap_or_else(|| unreachable!("every table is declared by a kind"))
}

/// Every table of typed rows, by name.
pub fn tables() -> Vec<&'static str> {
    all().iter().map(|s| s.table.name).collect()
}

/// The SQL that makes every typed-row table, from the declarations.
pub fn ddl() -> String {
    all().iter().map(|s| s.create.as_str()).collect()
}

/// The setting that holds the fingerprint of the tables the database has.
const FINGERPRINT: &str = "rows_fingerprint";
/// The setting that names the tables the database has.
const MADE: &str = "rows_tables";

/// Makes the typed-row tables follow the declarations: unless the database
/// already has the tables of this version's declarations (by a fingerprint
/// of their SQL), drops the ones it has, makes them from the declarations
/// and fills them from the stored documents. Returns whether it did.
pub fn follow_declarations(tx: &Transaction<'_>) -> Result<bool, Error> {
    let ddl = ddl();
    let fingerprint = massline_model::ids::hex_encode(&Sha256::digest(ddl.as_bytes()));
    if registry::setting(tx, FINGERPRINT)?.as_deref() == Some(fingerprint.as_str()) {
        return Ok(false);
    }
    // The tables made before: named in the settings, or (a database whose
    // tables were made by a numbered upgrade) those of the same names.
    let mut old: Vec<String> = registry::setting(tx, MADE)?
        .map(|names| names.split(' ').map(str::to_string).collect())
        .unwrap_or_default();
    old.extend(tables().into_iter().map(str::to_string));
    for table in &old {
        tx.execute(&format!("DROP TABLE IF EXISTS {table}"), [])?;
    }
    tx.execute_batch(&ddl)?;
    let rebuilt = rebuild(tx)?;
    registry::set_setting(tx, FINGERPRINT, &fingerprint)?;
    registry::set_setting(tx, MADE, &tables().join(" "))?;
    tracing::info!(
        records = rebuilt.records,
        "typed-row tables made from the declarations and filled"
    );
    Ok(true)
}

/// A cell as SQLite takes it.
struct Sql<'a, 'b>(&'a Cell<'b>);

impl rusqlite::ToSql for Sql<'_, '_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Cell::Null => ValueRef::Null,
            Cell::Int(i) => ValueRef::Integer(*i),
            Cell::Str(s) => ValueRef::Text(s.as_bytes()),
            Cell::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// The setting that says how far the rows are current: every record whose
/// latest change has a sequence number up to it has its rows.
pub const THROUGH: &str = "rows_through";

/// The records changed after a change sequence number, in the order they
/// changed (through the index `documents_by_update`), at most `?2` of them.
pub(crate) const CHANGED_SINCE: &str =
    "SELECT d.doc_id, d.record, d.withdrawn, s.name, d.created_seq, d.updated_seq
     FROM documents d JOIN scopes s ON s.id = d.scope_id
     WHERE d.updated_seq > ?1 ORDER BY d.updated_seq LIMIT ?2";

/// Brings the rows up to date with the records, from where they were current
/// (they follow the records in a transaction of their own, so taking in a
/// push never waits for them). Returns how many records got new rows.
pub fn catch_up(tx: &Transaction<'_>) -> Result<u64, Error> {
    catch_up_some(tx, u32::MAX).map(|c| c.done)
}

/// How far one [`catch_up_some`] went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaughtUp {
    /// Records that got new rows.
    pub done: u64,
    /// Whether records changed since are left for another call.
    pub more: bool,
}

/// [`catch_up`] of at most `most` records, the earliest changed: a large
/// upload's rows are written in several transactions, between which a push
/// waiting for the one writer goes ahead.
pub fn catch_up_some(tx: &Transaction<'_>, most: u32) -> Result<CaughtUp, Error> {
    let through: i64 = registry::setting(tx, THROUGH)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut stmt = tx.prepare_cached(CHANGED_SINCE)?;
    let mut rows = stmt.query(params![through, most])?;
    let (mut done, mut seen, mut last) = (0, 0, through);
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
        (seen, last) = (seen + 1, updated);
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
    if seen == most {
        // Records changed after `last` may remain: the rows are current up
        // to it (each record is at one number, so none is split).
        registry::set_setting(tx, THROUGH, &last.to_string())?;
        return Ok(CaughtUp { done, more: true });
    }
    // Every record changed since `through` now has its rows, and a purge
    // deleted its record's rows as it was made: the rows are current up to
    // the last number given, a purge's too.
    registry::set_setting(tx, THROUGH, &registry::last_seq(tx)?.max(last).to_string())?;
    Ok(CaughtUp { done, more: false })
}

/// Writes the rows of one record, replacing those it had.
pub fn put(tx: &Transaction<'_>, id: &DocId, s: &StoredRecord, new: bool) -> Result<(), Error> {
    let kind = s.record.kind();
    // A new record has no rows yet; a changed one replaces its rows.
    if !new {
        for table in kind.tables() {
            tx.prepare_cached(&of(table).delete)?
                .execute(params![&id.as_bytes()[..]])?;
        }
    }
    let row_of = RowOf {
        id,
        // The township's own records are no village's.
        village: s.scope.village().map_or("", VillageCode::as_str),
        kind: kind.code(),
        withdrawn: s.withdrawn.is_some(),
    };
    for row in s.record.rows(&row_of) {
        if links_purged(tx, &row)? {
            continue;
        }
        tx.prepare_cached(&of(row.table).insert)?
            .execute(params_from_iter(row.cells.iter().map(Sql)))?;
    }
    Ok(())
}

/// Whether a row of a table keyed by more than its record (a problem's
/// `problem_opinions`) is its link to a purged record: such a row is not
/// written, though the linking record still names the id.
fn links_purged(tx: &Transaction<'_>, row: &Row<'_>) -> Result<bool, Error> {
    if row.table.key.len() < 2 {
        return Ok(false);
    }
    let mut is_purged = tx.prepare_cached("SELECT 1 FROM purges WHERE doc_id = ?1")?;
    for (column, cell) in row.table.columns.iter().zip(&row.cells) {
        if column.name != "doc_id"
            && row.table.key.contains(&column.name)
            && let Cell::Blob(id) = cell
            && is_purged.exists(params![id])?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Deletes the rows of a purged record of `kind`, and the rows of other
/// records that link to it ([`links_purged`]).
pub fn forget(tx: &Transaction<'_>, id: &DocId, kind: RecordKind) -> Result<(), Error> {
    for table in kind.tables() {
        tx.prepare_cached(&of(table).delete)?
            .execute(params![&id.as_bytes()[..]])?;
    }
    for s in all() {
        let t = s.table;
        for column in t.key.iter().filter(|c| **c != "doc_id") {
            let blob = t
                .columns
                .iter()
                .any(|c| c.name == *column && matches!(c.sql, SqlType::Blob));
            if blob {
                tx.execute(
                    &format!("DELETE FROM {} WHERE {column} = ?1", t.name),
                    params![&id.as_bytes()[..]],
                )?;
            }
        }
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
    for table in tables() {
        tx.execute(&format!("DELETE FROM {table}"), [])?;
    }
    let through: i64 = tx.query_row(
        "SELECT coalesce(max(updated_seq), 0) FROM documents",
        [],
        |r| r.get(0),
    )?;
    registry::set_setting(tx, THROUGH, &through.to_string())?;
    let mut out = Rebuilt::default();
    let keys: Vec<Vec<u8>> = {
        let mut stmt = tx.prepare("SELECT doc_id FROM documents ORDER BY doc_id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for key in keys {
        let Some(id) = DocId::from_slice(&key) else {
            continue;
        };
        let Some(current) = documents::current(tx, &id)? else {
            continue;
        };
        let read = documents::load(&id, &current.state)
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
    for table in tables() {
        let n = tx
            .prepare(&format!("SELECT * FROM {table}"))?
            .column_count();
        let order: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        let mut stmt = tx.prepare(&format!(
            "SELECT * FROM {table} ORDER BY {}",
            order.join(", ")
        ))?;
        let rows = stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())?;
        out.insert(table, rows.collect::<Result<_, _>>()?);
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
