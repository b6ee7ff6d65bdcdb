//! Ledgers (台账): each declared once ([`LEDGERS`]) by its SQL over the
//! typed rows, its columns and its filters, and shown from that one
//! declaration as a page, a CSV file and an XLSX workbook. A new ledger is a
//! new declaration.
//!
//! Column headings are the model's field labels where a column is a field
//! of a record, and codes are shown by the model's labels.

use chrono::NaiveDate;
use massline_model::records::{RecordKind, RectificationStatus, code_label, field_label};
use massline_model::{Lang, VillageCode};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Row, Transaction};

use super::i18n::Words;
use super::stats::{
    Counting, MEASURES_IN_PERIOD, MeasureFilter, PER_MEMBER_STUDY, measure_filter, villages_in,
};
use crate::error::Error;

/// Most rows a ledger shows or exports at once; past it, the page says
/// the list was cut and a narrower filter shows the rest. (A township of
/// 30 villages has some 1,500 members and a few thousand measures.)
pub const MAX_LEDGER_ROWS: usize = 20_000;

/// A value in a table.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A number shown with one decimal.
    Num(f64),
    /// Nothing.
    Empty,
}

/// A cell: its value, where it links to, and an id for tests and scripts.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// The value.
    pub value: Value,
    /// The page behind it.
    pub href: Option<String>,
    /// The cell's id in the page.
    pub id: Option<String>,
}

impl Cell {
    /// A cell holding `value`.
    pub fn new(value: Value) -> Cell {
        Cell {
            value,
            href: None,
            id: None,
        }
    }

    /// Text.
    pub fn text_of(s: impl Into<String>) -> Cell {
        Cell::new(Value::Text(s.into()))
    }

    /// A whole number.
    pub fn int(n: i64) -> Cell {
        Cell::new(Value::Int(n))
    }

    /// Links the cell to `href`.
    pub fn link(mut self, href: String) -> Cell {
        self.href = Some(href);
        self
    }

    /// Gives the cell an id.
    pub fn with_id(mut self, id: String) -> Cell {
        self.id = Some(id);
        self
    }

    /// The value as shown.
    pub fn text(&self) -> String {
        match &self.value {
            Value::Text(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Num(x) => format!("{x:.1}"),
            Value::Empty => String::new(),
        }
    }

    /// Whether it holds a number.
    pub fn numeric(&self) -> bool {
        matches!(self.value, Value::Int(_) | Value::Num(_))
    }
}

/// A column: its heading, and whether it holds numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The heading.
    pub label: String,
    /// Whether it holds numbers.
    pub numeric: bool,
}

impl Column {
    fn text(label: impl Into<String>) -> Column {
        Column {
            label: label.into(),
            numeric: false,
        }
    }

    fn number(label: impl Into<String>) -> Column {
        Column {
            label: label.into(),
            numeric: true,
        }
    }
}

/// Rows under headings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows, a cell per column.
    pub rows: Vec<Vec<Cell>>,
}

/// What a ledger's rows are read with.
#[derive(Clone, Copy, Debug)]
pub struct Reading<'a> {
    /// The reader's language.
    pub lang: Lang,
    /// Today.
    pub today: NaiveDate,
    /// Village names by code.
    pub names: &'a [(VillageCode, String)],
}

impl Reading<'_> {
    fn village(&self, code: &str) -> String {
        self.names
            .iter()
            .find(|(v, _)| v.as_str() == code)
            .map_or_else(|| code.to_string(), |(_, n)| n.clone())
    }
}

/// A ledger, declared once.
#[derive(Debug)]
pub struct LedgerDef {
    /// Its name in links (`/ledgers/{name}`).
    pub name: &'static str,
    /// The key of its title in [`super::i18n`].
    pub title: &'static str,
    /// Its filters: code and label.
    pub statuses: fn(Lang) -> Vec<(&'static str, String)>,
    /// Its SQL with the filter of this code (a code of `statuses`), reading
    /// the parameters of [`Counting`] and `:limit`.
    pub sql: fn(Option<&str>) -> String,
    /// Its columns.
    pub columns: fn(Lang) -> Vec<Column>,
    /// A row of the SQL as cells, one per column.
    pub row: fn(&Row<'_>, &Reading<'_>) -> rusqlite::Result<Vec<Cell>>,
}

/// Every ledger.
pub const LEDGERS: &[LedgerDef] = &[STUDY, RECTIFICATIONS];

/// The ledger of this name.
pub fn find(name: &str) -> Option<&'static LedgerDef> {
    LEDGERS.iter().find(|l| l.name == name)
}

/// A ledger's rows for the villages and period of `c` and the filter
/// `status` (one of its codes); whether the list was cut at [`MAX_LEDGER_ROWS`].
pub fn fetch(
    tx: &Transaction<'_>,
    def: &LedgerDef,
    c: &Counting<'_>,
    status: Option<&str>,
    reading: &Reading<'_>,
) -> Result<(Table, bool), Error> {
    let mut stmt = tx.prepare_cached(&(def.sql)(status))?;
    let limit = i64::try_from(MAX_LEDGER_ROWS + 1).unwrap_or(i64::MAX);
    c.bind(&mut stmt, &[(":limit", SqlValue::Integer(limit))])?;
    let mut rows = stmt.raw_query();
    let mut table = Table {
        columns: (def.columns)(reading.lang),
        rows: Vec::new(),
    };
    while let Some(r) = rows.next()? {
        if table.rows.len() == MAX_LEDGER_ROWS {
            return Ok((table, true));
        }
        table.rows.push((def.row)(r, reading)?);
    }
    Ok((table, false))
}

fn opt_text(s: Option<String>) -> Cell {
    s.map_or(Cell::new(Value::Empty), Cell::text_of)
}

/// 党员学习台账: every member on file with the study credited to them in
/// the period (their own entries and the sessions they attended).
pub const STUDY: LedgerDef = LedgerDef {
    name: "study",
    title: "ledger_study",
    statuses: |lang| {
        let w = Words(lang);
        vec![
            ("studied", w.get("s_studied").into()),
            ("not_studied", w.get("s_not_studied").into()),
        ]
    },
    sql: |status| {
        let only = match status {
            Some("studied") => "AND s.person IS NOT NULL",
            Some("not_studied") => "AND s.person IS NULL",
            _ => "",
        };
        format!(
            "SELECT m.village, m.name, m.person, m.mobile, m.birth_year,
                    coalesce(s.minutes, 0), coalesce(s.entries, 0), coalesce(s.sessions, 0), s.last
             FROM members m LEFT JOIN ({PER_MEMBER_STUDY}) s
               ON s.village = m.village AND s.person = m.person
             WHERE {} AND m.withdrawn = 0 {only}
             ORDER BY m.village, coalesce(s.minutes, 0) DESC, m.name
             LIMIT :limit",
            villages_in!("m.village")
        )
    },
    columns: |lang| {
        let w = Words(lang);
        vec![
            Column::text(w.get("village")),
            Column::text(field_label("name", lang)),
            Column::text(field_label("person", lang)),
            Column::text(field_label("mobile", lang)),
            Column::number(field_label("birth_year", lang)),
            Column::number(field_label("minutes", lang)),
            Column::number(w.get("c_hours")),
            Column::number(w.get("c_entries")),
            Column::number(w.get("c_sessions_attended")),
            Column::text(w.get("c_last_study")),
        ]
    },
    row: |r, x| {
        let minutes: i64 = r.get(5)?;
        let mobile: bool = r.get(3)?;
        Ok(vec![
            Cell::text_of(x.village(&r.get::<_, String>(0)?)),
            Cell::text_of(r.get::<_, String>(1)?),
            opt_text(r.get(2)?),
            Cell::text_of(if mobile {
                field_label("mobile", x.lang)
            } else {
                ""
            }),
            Cell::int(r.get(4)?),
            Cell::int(minutes),
            Cell::new(Value::Num(minutes as f64 / 60.0)),
            Cell::int(r.get(6)?),
            Cell::int(r.get(7)?),
            opt_text(r.get(8)?),
        ])
    },
};

/// The day a step was reached, headed by the step's label.
const STEPS: [RectificationStatus; 4] = [
    RectificationStatus::Planned,
    RectificationStatus::InProgress,
    RectificationStatus::Done,
    RectificationStatus::Accepted,
];

/// 整改措施台账: every rectification measure planned in the period, with
/// its problem, where it stands, and the day each step was reached.
pub const RECTIFICATIONS: LedgerDef = LedgerDef {
    name: "rectifications",
    title: "ledger_rectifications",
    statuses: |lang| {
        let w = Words(lang);
        MeasureFilter::all()
            .into_iter()
            .map(|f| {
                let label = match f {
                    MeasureFilter::At(s) => s.label(lang).to_string(),
                    MeasureFilter::Done => w.get("s_done").into(),
                    MeasureFilter::Overdue => w.get("s_overdue").into(),
                    MeasureFilter::Unfiled => w.get("s_unfiled").into(),
                };
                (f.code(), label)
            })
            .collect()
    },
    sql: |status| {
        let only = status
            .and_then(MeasureFilter::from_code)
            .map(|f| format!("AND {}", measure_filter(f)))
            .unwrap_or_default();
        format!(
            // The problem's title by a subquery, not a join: the filters
            // name the measure's columns unqualified, and a problem has a
            // status of its own.
            "SELECT r.village, (SELECT p.title FROM problems p WHERE p.doc_id = r.problem),
                    r.term, r.status, r.deadline, r.planned_on, r.started_on,
                    r.done_on, r.accepted_on, r.announced_on, r.filed_on, r.filed_by,
                    r.responsible, r.notes, lower(hex(r.doc_id))
             FROM rectifications r
             WHERE {} AND r.withdrawn = 0 AND {MEASURES_IN_PERIOD} {only}
             ORDER BY r.village, r.deadline, r.doc_id
             LIMIT :limit",
            villages_in!("r.village")
        )
    },
    columns: |lang| {
        let w = Words(lang);
        let mut cols = vec![
            Column::text(w.get("village")),
            Column::text(field_label("problem", lang)),
            Column::text(field_label("term", lang)),
            Column::text(field_label("status", lang)),
            Column::text(field_label("deadline", lang)),
            Column::number(w.get("c_overdue_days")),
        ];
        cols.extend(STEPS.iter().map(|s| Column::text(s.label(lang))));
        cols.extend([
            Column::text(field_label("announced_on", lang)),
            Column::text(field_label("filed", lang)),
            Column::text(field_label("acknowledged_by", lang)),
            Column::number(field_label("responsible", lang)),
            Column::number(field_label("progress", lang)),
            Column::text(w.get("c_record")),
        ]);
        cols
    },
    row: |r, x| {
        let code = |field: &str, c: String| {
            code_label(RecordKind::Rectification, field, &c, x.lang)
                .map_or(c.clone(), str::to_string)
        };
        let status: String = r.get(3)?;
        let deadline: String = r.get(4)?;
        let overdue = match (
            status.parse::<RectificationStatus>(),
            deadline.parse::<NaiveDate>(),
        ) {
            (Ok(s), Ok(d)) if s < RectificationStatus::Done && d < x.today => {
                Cell::int((x.today - d).num_days())
            }
            _ => Cell::new(Value::Empty),
        };
        let mut cells = vec![
            Cell::text_of(x.village(&r.get::<_, String>(0)?)),
            opt_text(r.get(1)?),
            Cell::text_of(code("term", r.get(2)?)),
            Cell::text_of(code("status", status)),
            Cell::text_of(deadline),
            overdue,
        ];
        for i in 5..=11 {
            cells.push(opt_text(r.get(i)?));
        }
        cells.extend([
            Cell::int(r.get(12)?),
            Cell::int(r.get(13)?),
            Cell::text_of(r.get::<_, String>(14)?),
        ]);
        Ok(cells)
    },
};
