//! Ledgers (台账): each declared once ([`LEDGERS`]) as a [`LedgerDef`]:
//! the typed-row table it reads, its columns (each an SQL expression, a
//! heading and how it is shown), its filters (each an SQL condition) and
//! what it counts by. From that one declaration come its page, its CSV
//! file, its XLSX workbook, its printed page and its counts; a new ledger
//! is a new declaration.
//!
//! Column headings are the model's field labels where a column is a field
//! of a record, and codes are shown by the model's labels.

use chrono::NaiveDate;
use massline_model::records::{
    RecordKind, RectificationStatus, code_label, field_codes, field_label,
};
use massline_model::{Lang, VillageCode};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Row, Transaction};

use super::i18n::Words;
use super::stats::{
    Counting, MEASURES_IN_PERIOD, MeasureFilter, OPINION_ANSWERED, OPINION_TAKEN_UP, SERVICE_OPEN,
    measure_filter, per_member_study, villages_in,
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
    /// Shown highlighted (a village behind the campaign plan).
    pub alert: bool,
}

impl Cell {
    /// A cell holding `value`.
    pub fn new(value: Value) -> Cell {
        Cell {
            value,
            href: None,
            id: None,
            alert: false,
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

    /// Highlights the cell when `on`.
    pub fn alert_if(mut self, on: bool) -> Cell {
        self.alert = on;
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
        // The township's own records are no village's: every village's.
        if code.is_empty() {
            return super::i18n::Words(self.lang)
                .get("township_issued")
                .to_string();
        }
        self.names
            .iter()
            .find(|(v, _)| v.as_str() == code)
            .map_or_else(|| code.to_string(), |(_, n)| n.clone())
    }
}

/// Where a heading or a filter's name comes from: the model's labels for
/// whatever is the model's, the dashboard's words ([`super::i18n`]) for the rest.
#[derive(Clone, Copy, Debug)]
pub enum Head {
    /// A field of the ledger's kind (or, if it has none of that name, the
    /// first kind's field of that name).
    Field(&'static str),
    /// A field of another kind.
    FieldOf(RecordKind, &'static str),
    /// A code of a field of the ledger's kind (a measure's step, a grade).
    Code(&'static str, &'static str),
    /// A word of the dashboard.
    Word(&'static str),
}

impl Head {
    /// The label in `lang`, for a ledger of `kind`.
    pub fn label(self, kind: RecordKind, lang: Lang) -> String {
        match self {
            Head::Field(f) => kind
                .spec()
                .field(f)
                .map_or_else(|| field_label(f, lang), |spec| spec.label(lang))
                .to_string(),
            Head::FieldOf(k, f) => Head::Field(f).label(k, lang),
            Head::Code(f, code) => code_label(kind, f, code, lang).unwrap_or(code).to_string(),
            Head::Word(w) => Words(lang).get(w).to_string(),
        }
    }
}

/// How a column's value is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// As it is (text, a day).
    Text,
    /// A whole number.
    Int,
    /// Minutes, shown as hours with one decimal.
    Hours,
    /// A code of this field of the ledger's kind, by its label.
    Code(&'static str),
    /// A village's code, by the village's name.
    Village,
    /// A flag: the column's heading when set, else nothing.
    Flag,
    /// A record's id (hex), linked to the record's page.
    Record,
}

/// A column: its heading, its SQL expression, and how it is shown.
#[derive(Clone, Copy, Debug)]
pub struct Col {
    /// The heading.
    pub head: Head,
    /// The SQL expression of its value.
    pub sql: &'static str,
    /// How it is shown.
    pub show: Show,
}

const fn col(head: Head, sql: &'static str, show: Show) -> Col {
    Col { head, sql, show }
}

/// The village of the ledger's rows.
const fn village_col(sql: &'static str) -> Col {
    col(Head::Word("village"), sql, Show::Village)
}

/// A field of the ledger's kind, its column named as the field.
const fn field(name: &'static str, sql: &'static str, show: Show) -> Col {
    col(Head::Field(name), sql, show)
}

/// A filter: its code in links, its name, and its SQL condition, which may
/// name `:code` (bound to the filter's code, for a filter by a stored code).
#[derive(Clone, Copy, Debug)]
pub struct Filter {
    /// Its code.
    pub code: &'static str,
    /// Its name.
    pub label: Head,
    /// Its condition.
    pub sql: &'static str,
}

const fn filter(code: &'static str, label: Head, sql: &'static str) -> Filter {
    Filter { code, label, sql }
}

/// A filter by a stored code of `field`, kept in the column `sql`.
const fn code_filter(field: &'static str, code: &'static str, sql: &'static str) -> Filter {
    Filter {
        code,
        label: Head::Code(field, code),
        sql,
    }
}

/// A ledger, declared once.
#[derive(Debug)]
pub struct LedgerDef {
    /// Its name in links (`/ledgers/{name}`).
    pub name: &'static str,
    /// The key of its title in [`super::i18n`].
    pub title: &'static str,
    /// The kind of record a row is (its fields head the columns).
    pub kind: RecordKind,
    /// The tables it reads (SQL after `FROM`); the first, aliased
    /// [`Self::alias`], is the one a row is of.
    pub from: &'static str,
    /// The alias of the table a row is of: its `village` and `withdrawn`
    /// choose the rows.
    pub alias: &'static str,
    /// The condition that keeps rows of the chosen period (`1` for a
    /// ledger of things as they stand, or one whose period is in `from`).
    pub period: &'static str,
    /// A condition every row meets (`1` for none).
    pub only: &'static str,
    /// Its filters besides those by code (see [`Self::filters`]).
    pub filters: &'static [Filter],
    /// Fields of its kind it filters by, one filter per code the model
    /// declares for the field, and the condition (naming `:code`) on the
    /// column that keeps it.
    pub by_codes: &'static [(&'static str, &'static str)],
    /// The filter it shows when none is chosen (then it offers no "all").
    pub default_filter: Option<&'static str>,
    /// The SQL after `ORDER BY`.
    pub order: &'static str,
    /// Its columns.
    pub columns: &'static [Col],
    /// Fields of its kind whose codes its page counts the rows by.
    pub groups: &'static [&'static str],
    /// What share of the counted rows the counts also give: a word and a
    /// condition.
    pub share: Option<(&'static str, &'static str)>,
}

impl LedgerDef {
    /// The conditions that choose its rows: villages, withdrawal, period,
    /// and the filter `status` (one of its codes).
    fn condition(&self, status: Option<&str>) -> String {
        let only = status
            .and_then(|c| self.filters().find(|f| f.code == c))
            .map(|f| format!(" AND ({})", f.sql))
            .unwrap_or_default();
        // A kind the township also issues to every village lists the
        // township's own rows (village '') with the villages'.
        let township = if self.kind.township_issues() {
            " UNION ALL SELECT ''"
        } else {
            ""
        };
        format!(
            concat!(
                "{a}.village",
                " IN (SELECT value FROM json_each(:villages){t})",
                " AND {a}.withdrawn = 0 AND ({p}) AND ({o}){f}"
            ),
            t = township,
            a = self.alias,
            p = self.period,
            o = self.only,
            f = only
        )
    }

    /// Its SQL with the filter of this code, reading the parameters of
    /// [`Counting`], `:code` and `:limit`.
    pub fn sql(&self, status: Option<&str>) -> String {
        let select: Vec<&str> = self.columns.iter().map(|c| c.sql).collect();
        format!(
            "SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT :limit",
            select.join(", "),
            self.from,
            self.condition(status),
            self.order
        )
    }

    /// The SQL that counts its rows (with the filter of this code) by the
    /// codes of `group`: code, rows, rows of the share.
    pub fn group_sql(&self, group: &str, status: Option<&str>) -> String {
        format!(
            "SELECT {a}.{group}, count(*), coalesce(sum({s}), 0) FROM {} WHERE {}
             GROUP BY {a}.{group} ORDER BY count(*) DESC, {a}.{group}",
            self.from,
            self.condition(status),
            a = self.alias,
            s = self.share.map_or("0", |(_, c)| c),
        )
    }

    /// Its columns' headings in `lang`.
    pub fn headings(&self, lang: Lang) -> Vec<Column> {
        self.columns
            .iter()
            .map(|c| Column {
                label: c.head.label(self.kind, lang),
                numeric: matches!(c.show, Show::Int | Show::Hours),
            })
            .collect()
    }

    /// Its filters: code and name in `lang`.
    pub fn statuses(&self, lang: Lang) -> Vec<(&'static str, String)> {
        self.filters()
            .map(|f| (f.code, f.label.label(self.kind, lang)))
            .collect()
    }

    /// The filter of `status` (none chosen: its default).
    pub fn filter_of(&self, status: Option<&str>) -> Option<Filter> {
        let code = status.or(self.default_filter)?;
        self.filters().find(|f| f.code == code)
    }

    /// Every filter it offers: its own, then one for each code of each field
    /// in [`Self::by_codes`], in the order the model declares them, so a code
    /// added to the model is a filter here.
    pub fn filters(&self) -> impl Iterator<Item = Filter> + '_ {
        let by_code = self.by_codes.iter().flat_map(|&(field, sql)| {
            field_codes(self.kind, field)
                .map_or(&[][..], |list| list.values)
                .iter()
                .map(move |v| code_filter(field, v.code, sql))
        });
        self.filters.iter().copied().chain(by_code)
    }

    /// A row of its SQL as cells.
    fn row(&self, r: &Row<'_>, x: &Reading<'_>) -> rusqlite::Result<Vec<Cell>> {
        let mut cells = Vec::with_capacity(self.columns.len());
        for (i, c) in self.columns.iter().enumerate() {
            let value = match r.get_ref(i)? {
                ValueRef::Null => Value::Empty,
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Real(f) => Value::Num(f),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    Value::Text(String::from_utf8_lossy(t).into_owned())
                }
            };
            let cell = match (c.show, value) {
                (_, Value::Empty) => Cell::new(Value::Empty),
                (Show::Hours, Value::Int(m)) => Cell::new(Value::Num(m as f64 / 60.0)),
                (Show::Code(f), Value::Text(code)) => Cell::text_of(
                    code_label(self.kind, f, &code, x.lang).map_or(code.clone(), str::to_string),
                ),
                (Show::Village, Value::Text(v)) => Cell::text_of(x.village(&v)),
                (Show::Flag, Value::Int(n)) => Cell::text_of(if n == 0 {
                    String::new()
                } else {
                    c.head.label(self.kind, x.lang)
                }),
                (Show::Record, Value::Text(id)) => {
                    Cell::text_of(id.clone()).link(format!("/r/{id}"))
                }
                (_, v) => Cell::new(v),
            };
            cells.push(cell);
        }
        Ok(cells)
    }
}

/// A count of a ledger's rows by the codes of one field.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The field's label.
    pub label: String,
    /// Each code's label, its rows and its rows of the share.
    pub counts: Table,
}

/// Every ledger, in the order offered.
pub const LEDGERS: &[LedgerDef] = &[
    STUDY,
    IDLE_MEMBERS,
    MOBILE_MEMBERS,
    SESSIONS,
    OPINIONS,
    PROBLEMS,
    RECTIFICATIONS,
    ANNOUNCE,
    PRACTICAL_THINGS,
    SERVICES,
    ORG_LIFE,
    NOTICES,
    REGULATIONS,
    LISTENING,
];

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
    let mut stmt = tx.prepare_cached(&def.sql(status))?;
    let limit = i64::try_from(MAX_LEDGER_ROWS + 1).unwrap_or(i64::MAX);
    c.bind(
        &mut stmt,
        &[
            (":limit", SqlValue::Integer(limit)),
            (":code", SqlValue::Text(status.unwrap_or_default().into())),
        ],
    )?;
    let mut rows = stmt.raw_query();
    let mut table = Table {
        columns: def.headings(reading.lang),
        rows: Vec::new(),
    };
    while let Some(r) = rows.next()? {
        if table.rows.len() == MAX_LEDGER_ROWS {
            return Ok((table, true));
        }
        table.rows.push(def.row(r, reading)?);
    }
    Ok((table, false))
}

/// A ledger's counts by each of its groups, for the same rows as [`fetch`].
pub fn groups(
    tx: &Transaction<'_>,
    def: &LedgerDef,
    c: &Counting<'_>,
    status: Option<&str>,
    lang: Lang,
) -> Result<Vec<Group>, Error> {
    let w = Words(lang);
    let mut out = Vec::new();
    for g in def.groups {
        let mut stmt = tx.prepare_cached(&def.group_sql(g, status))?;
        c.bind(
            &mut stmt,
            &[(":code", SqlValue::Text(status.unwrap_or_default().into()))],
        )?;
        let label = Head::Field(g).label(def.kind, lang);
        let mut columns = vec![
            Column {
                label: label.clone(),
                numeric: false,
            },
            Column {
                label: w.get("c_count").into(),
                numeric: true,
            },
        ];
        if let Some((word, _)) = def.share {
            columns.push(Column {
                label: w.get(word).into(),
                numeric: true,
            });
            columns.push(Column {
                label: w.get("c_share").into(),
                numeric: true,
            });
        }
        let mut counts = Table {
            columns,
            rows: Vec::new(),
        };
        let mut rows = stmt.raw_query();
        let (mut all, mut all_share) = (0, 0);
        while let Some(r) = rows.next()? {
            let code: Option<String> = r.get(0)?;
            let (n, share): (i64, i64) = (r.get(1)?, r.get(2)?);
            let code = code.unwrap_or_default();
            let name = code_label(def.kind, g, &code, lang).map_or(code.clone(), str::to_string);
            counts.rows.push(count_row(
                Cell::text_of(name),
                n,
                share,
                def,
                &format!("{g}-{code}"),
            ));
            (all, all_share) = (all + n, all_share + share);
        }
        counts.rows.push(count_row(
            Cell::text_of(w.get("total")),
            all,
            all_share,
            def,
            &format!("{g}-total"),
        ));
        out.push(Group { label, counts });
    }
    Ok(out)
}

/// A row of counts; its cells' ids are `group-{key}` and `group-{key}-share`.
fn count_row(name: Cell, n: i64, share: i64, def: &LedgerDef, key: &str) -> Vec<Cell> {
    let mut row = vec![name, Cell::int(n).with_id(format!("group-{key}"))];
    if def.share.is_some() {
        row.push(Cell::int(share).with_id(format!("group-{key}-share")));
        row.push(Cell::text_of(if n == 0 {
            String::new()
        } else {
            format!("{:.0}%", share as f64 * 100.0 / n as f64)
        }));
    }
    row
}

/// Members and the study of each in the period (the tables of the members
/// ledgers).
const MEMBERS_AND_STUDY: &str = concat!(
    "members m LEFT JOIN (",
    per_member_study!(),
    ") s ON s.village = m.village AND s.person = m.person"
);

/// The study sessions of the period a member missed, and why
/// (2024-05-10（外出务工）、…).
const MEMBER_ABSENCES: &str =
    "(SELECT group_concat(a.date || CASE WHEN a.reason <> '' THEN '（' || a.reason || '）'
             ELSE '' END, '、')
      FROM attendance a
      WHERE a.village = m.village AND a.person = m.person AND a.present = 0
        AND a.withdrawn = 0 AND a.kind = :session_kind
        AND a.month BETWEEN :from_month AND :to_month)";

/// A member's age this year.
const AGE: &str = "CAST(strftime('%Y', :today) AS INTEGER) - m.birth_year";

/// Filters of members by their study in the period.
const STUDIED: [Filter; 2] = [
    filter("studied", Head::Word("s_studied"), "s.person IS NOT NULL"),
    filter(
        "not_studied",
        Head::Word("s_not_studied"),
        "s.person IS NULL",
    ),
];

/// 党员学习台账: every member on file with the study credited to them in
/// the period (their own entries and the sessions they attended).
pub const STUDY: LedgerDef = LedgerDef {
    name: "study",
    title: "ledger_study",
    kind: RecordKind::Member,
    from: MEMBERS_AND_STUDY,
    alias: "m",
    period: "1",
    only: "1",
    filters: &STUDIED,
    by_codes: &[],
    default_filter: None,
    order: "m.village, coalesce(s.minutes, 0) DESC, m.name",
    columns: &[
        village_col("m.village"),
        field("name", "m.name", Show::Text),
        field("person", "m.person", Show::Text),
        field("mobile", "m.mobile", Show::Flag),
        field("birth_year", "m.birth_year", Show::Int),
        col(
            Head::FieldOf(RecordKind::StudyEntry, "minutes"),
            "coalesce(s.minutes, 0)",
            Show::Int,
        ),
        col(Head::Word("c_hours"), "coalesce(s.minutes, 0)", Show::Hours),
        col(
            Head::Word("c_centralized_minutes"),
            "coalesce(s.centralized, 0)",
            Show::Int,
        ),
        col(
            Head::Word("c_personal_minutes"),
            "coalesce(s.minutes - s.centralized, 0)",
            Show::Int,
        ),
        col(Head::Word("c_entries"), "coalesce(s.entries, 0)", Show::Int),
        col(
            Head::Word("c_sessions_attended"),
            "coalesce(s.sessions, 0)",
            Show::Int,
        ),
        col(Head::Word("c_missed"), MEMBER_ABSENCES, Show::Text),
        col(Head::Word("c_last_study"), "s.last", Show::Text),
    ],
    groups: &[],
    share: None,
};

/// 长期未参学党员: members whose last study (any time) was more than N days
/// ago, or who never studied.
pub const IDLE_MEMBERS: LedgerDef = LedgerDef {
    name: "idle",
    title: "ledger_idle",
    kind: RecordKind::Member,
    from: concat!(
        "members m LEFT JOIN (SELECT village, person, max(date) AS last FROM study_credits WHERE ",
        villages_in!("village"),
        " AND withdrawn = 0 GROUP BY village, person) s
         ON s.village = m.village AND s.person = m.person"
    ),
    alias: "m",
    period: "1",
    only: "1",
    filters: &[
        filter(
            "30",
            Head::Word("s_idle_30"),
            "s.last IS NULL OR s.last < date(:today, '-30 days')",
        ),
        filter(
            "90",
            Head::Word("s_idle_90"),
            "s.last IS NULL OR s.last < date(:today, '-90 days')",
        ),
        filter(
            "180",
            Head::Word("s_idle_180"),
            "s.last IS NULL OR s.last < date(:today, '-180 days')",
        ),
    ],
    by_codes: &[],
    default_filter: Some("30"),
    order: "m.village, s.last, m.name",
    columns: &[
        village_col("m.village"),
        field("name", "m.name", Show::Text),
        field("person", "m.person", Show::Text),
        col(Head::Word("c_age"), AGE, Show::Int),
        field("education", "m.education", Show::Code("education")),
        field("mobile", "m.mobile", Show::Flag),
        field("whereabouts", "m.whereabouts", Show::Text),
        col(Head::Word("c_last_study"), "s.last", Show::Text),
        col(
            Head::Word("c_days_since"),
            "CAST(julianday(:today) - julianday(s.last) AS INTEGER)",
            Show::Int,
        ),
    ],
    groups: &[],
    share: None,
};

/// 流动党员台账: mobile members, where they are, and their study in the period.
pub const MOBILE_MEMBERS: LedgerDef = LedgerDef {
    name: "mobile",
    title: "ledger_mobile",
    kind: RecordKind::Member,
    from: MEMBERS_AND_STUDY,
    alias: "m",
    period: "1",
    only: "m.mobile = 1",
    filters: &STUDIED,
    by_codes: &[],
    default_filter: None,
    order: "m.village, m.name",
    columns: &[
        village_col("m.village"),
        field("name", "m.name", Show::Text),
        field("person", "m.person", Show::Text),
        col(Head::Word("c_age"), AGE, Show::Int),
        field("education", "m.education", Show::Code("education")),
        field("whereabouts", "m.whereabouts", Show::Text),
        col(
            Head::FieldOf(RecordKind::StudyEntry, "minutes"),
            "coalesce(s.minutes, 0)",
            Show::Int,
        ),
        col(Head::Word("c_last_study"), "s.last", Show::Text),
    ],
    groups: &[],
    share: None,
};

/// 征求意见台账: the opinions heard in the period, counted by channel,
/// source, area and "four winds", with the share answered.
pub const OPINIONS: LedgerDef = LedgerDef {
    name: "opinions",
    title: "ledger_opinions",
    kind: RecordKind::Opinion,
    from: "opinions o",
    alias: "o",
    period: "o.month BETWEEN :from_month AND :to_month",
    only: "1",
    filters: &[
        code_filter("status", "received", "status = :code"),
        filter("taken_up", Head::Word("f_taken_up"), OPINION_TAKEN_UP),
        filter("answered", Head::Word("f_answered"), OPINION_ANSWERED),
    ],
    by_codes: &[],
    default_filter: None,
    order: "o.village, o.date, o.doc_id",
    columns: &[
        village_col("o.village"),
        field("date", "o.date", Show::Text),
        field("channel", "o.channel", Show::Code("channel")),
        field("source", "o.source", Show::Code("source")),
        field("area", "o.area", Show::Code("area")),
        field("four_winds", "o.four_winds", Show::Code("four_winds")),
        field("text", "o.text", Show::Text),
        field("anonymous", "o.anonymous", Show::Flag),
        field("status", "o.status", Show::Code("status")),
        field("answer", "o.answer", Show::Text),
        col(Head::Word("c_record"), "lower(hex(o.doc_id))", Show::Record),
    ],
    groups: &["channel", "source", "area", "four_winds"],
    share: Some(("f_answered", OPINION_ANSWERED)),
};

/// The problems a period counts: those found in it (problems recorded
/// before they had a day count in the campaign only).
const PROBLEMS_IN_PERIOD: &str = "coalesce(p.found_on, '0000-00-00') BETWEEN :from_day AND :to_day";

/// 问题清单台账: the problems found in the period, how, where they stand,
/// and their measures.
pub const PROBLEMS: LedgerDef = LedgerDef {
    name: "problems",
    title: "ledger_problems",
    kind: RecordKind::Problem,
    from: "problems p",
    alias: "p",
    period: PROBLEMS_IN_PERIOD,
    only: "1",
    filters: &[],
    by_codes: &[
        ("steps", "status = :code"),
        ("how_found", "how_found = :code"),
    ],
    default_filter: None,
    order: "p.village, p.found_on, p.doc_id",
    columns: &[
        village_col("p.village"),
        field("found_on", "p.found_on", Show::Text),
        field("title", "p.title", Show::Text),
        field("how_found", "p.how_found", Show::Code("how_found")),
        field("area", "p.area", Show::Code("area")),
        field("four_winds", "p.four_winds", Show::Code("four_winds")),
        field("steps", "p.status", Show::Code("steps")),
        col(Head::Code("steps", "solved"), "p.solved_on", Show::Text),
        col(Head::Code("steps", "accepted"), "p.accepted_on", Show::Text),
        field("opinions", "p.opinions", Show::Int),
        col(
            Head::Word("c_measures"),
            "(SELECT count(*) FROM rectifications x
              WHERE x.village = p.village AND x.problem = p.doc_id AND x.withdrawn = 0)",
            Show::Int,
        ),
        col(Head::Word("c_record"), "lower(hex(p.doc_id))", Show::Record),
    ],
    groups: &["how_found", "area"],
    share: None,
};

/// The filters of measures, as the overview counts them.
const MEASURE_FILTERS: [Filter; 6] = [
    code_filter(
        "steps",
        "planned",
        measure_filter(MeasureFilter::At(RectificationStatus::Planned)),
    ),
    code_filter(
        "steps",
        "in_progress",
        measure_filter(MeasureFilter::At(RectificationStatus::InProgress)),
    ),
    filter(
        "done",
        Head::Word("s_done"),
        measure_filter(MeasureFilter::Done),
    ),
    code_filter(
        "steps",
        "accepted",
        measure_filter(MeasureFilter::At(RectificationStatus::Accepted)),
    ),
    filter(
        "overdue",
        Head::Word("s_overdue"),
        measure_filter(MeasureFilter::Overdue),
    ),
    filter(
        "unfiled",
        Head::Word("s_unfiled"),
        measure_filter(MeasureFilter::Unfiled),
    ),
];

/// The names of the people of a JSON list of ids, from the registry.
macro_rules! names_of {
    ($ids:literal) => {
        concat!(
            "(SELECT group_concat(coalesce(pp.name, j.value), '、') FROM json_each(",
            $ids,
            ") j LEFT JOIN people pp ON pp.id = j.value)"
        )
    };
}

/// The problem a measure addresses, by its title: a subquery, not a join,
/// since the filters name the measure's columns unqualified and a problem
/// has a status of its own.
/// A measure's problem's title, in a query of `rectifications r`.
pub(super) const PROBLEM_TITLE: &str =
    "(SELECT p.title FROM problems p WHERE p.doc_id = r.problem)";

/// 整改措施台账: every rectification measure planned in the period, with
/// its problem, where it stands, and the day each step was reached.
pub const RECTIFICATIONS: LedgerDef = LedgerDef {
    name: "rectifications",
    title: "ledger_rectifications",
    kind: RecordKind::Rectification,
    from: "rectifications r",
    alias: "r",
    period: MEASURES_IN_PERIOD,
    only: "1",
    filters: &MEASURE_FILTERS,
    by_codes: &[],
    default_filter: None,
    order: "r.village, r.deadline, r.doc_id",
    columns: &[
        village_col("r.village"),
        field("problem", PROBLEM_TITLE, Show::Text),
        field("measure", "r.measure", Show::Text),
        field("term", "r.term", Show::Code("term")),
        field("status", "r.status", Show::Code("steps")),
        field("deadline", "r.deadline", Show::Text),
        col(
            Head::Word("c_overdue_days"),
            "CASE WHEN r.status IN (:planned, :in_progress) AND r.deadline < :today
             THEN CAST(julianday(:today) - julianday(r.deadline) AS INTEGER) END",
            Show::Int,
        ),
        col(Head::Code("steps", "planned"), "r.planned_on", Show::Text),
        col(
            Head::Code("steps", "in_progress"),
            "r.started_on",
            Show::Text,
        ),
        col(Head::Code("steps", "done"), "r.done_on", Show::Text),
        col(Head::Code("steps", "accepted"), "r.accepted_on", Show::Text),
        field("announced_on", "r.announced_on", Show::Text),
        field("filed", "r.filed_on", Show::Text),
        field("acknowledged_by", "r.filed_by", Show::Text),
        field("responsible", names_of!("r.responsible_ids"), Show::Text),
        field("progress", "r.notes", Show::Int),
        col(Head::Word("c_record"), "lower(hex(r.doc_id))", Show::Record),
    ],
    groups: &[],
    share: None,
};

/// 整改清单公示: the rectification list announced to the masses, with
/// only what is shown to them (printed from its page).
pub const ANNOUNCE: LedgerDef = LedgerDef {
    name: "announce",
    title: "ledger_announce",
    columns: &[
        village_col("r.village"),
        field("problem", PROBLEM_TITLE, Show::Text),
        field("measure", "r.measure", Show::Text),
        field("responsible", names_of!("r.responsible_ids"), Show::Text),
        field("term", "r.term", Show::Code("term")),
        field("deadline", "r.deadline", Show::Text),
        field("status", "r.status", Show::Code("steps")),
        col(Head::Code("steps", "done"), "r.done_on", Show::Text),
    ],
    ..RECTIFICATIONS
};

/// 为民办实事台账: the practical things promised, due in the period.
pub const PRACTICAL_THINGS: LedgerDef = LedgerDef {
    name: "practical",
    title: "ledger_practical",
    kind: RecordKind::PracticalThing,
    from: "practical_things t",
    alias: "t",
    period: "t.target_date BETWEEN :from_day AND :to_day",
    only: "1",
    filters: &[],
    by_codes: &[("status", "status = :code")],
    default_filter: None,
    order: "t.village, t.target_date, t.doc_id",
    columns: &[
        village_col("t.village"),
        field("what", "t.what", Show::Text),
        field("target_date", "t.target_date", Show::Text),
        field("status", "t.status", Show::Code("status")),
        field("done_on", "t.done_on", Show::Text),
        field("satisfaction", "t.satisfaction", Show::Code("satisfaction")),
        col(Head::Word("c_record"), "lower(hex(t.doc_id))", Show::Record),
    ],
    groups: &[],
    share: None,
};

/// 代办服务台账: service requests applied for in the period, their agent,
/// how long they have been (or were) open, and whether the result was
/// made public.
pub const SERVICES: LedgerDef = LedgerDef {
    name: "services",
    title: "ledger_services",
    kind: RecordKind::ServiceRequest,
    from: "service_requests q",
    alias: "q",
    period: "q.applied_on BETWEEN :from_day AND :to_day",
    only: "1",
    filters: &[
        filter("open", Head::Word("s_open"), SERVICE_OPEN),
        filter(
            "unpublished",
            Head::Word("s_unpublished"),
            "status = :service_done AND published_on IS NULL",
        ),
    ],
    by_codes: &[("status", "status = :code")],
    default_filter: None,
    order: "q.village, q.applied_on, q.doc_id",
    columns: &[
        village_col("q.village"),
        field("applied_on", "q.applied_on", Show::Text),
        field("matter", "q.matter", Show::Code("matter")),
        field("applicant", "q.applicant", Show::Text),
        field(
            "agent",
            "coalesce((SELECT pp.name FROM people pp WHERE pp.id = q.agent), q.agent)",
            Show::Text,
        ),
        field("status", "q.status", Show::Code("status")),
        field("closed_on", "q.closed_on", Show::Text),
        col(
            Head::Word("c_days_open"),
            "CAST(julianday(coalesce(q.closed_on, :today)) - julianday(q.applied_on) AS INTEGER)",
            Show::Int,
        ),
        field("published_on", "q.published_on", Show::Text),
        col(Head::Word("c_record"), "lower(hex(q.doc_id))", Show::Record),
    ],
    groups: &["matter"],
    share: None,
};

/// The members given `grade` at a meeting.
macro_rules! graded {
    ($grade:literal) => {
        concat!(
            "(SELECT count(*) FROM appraisals a WHERE a.doc_id = o.doc_id AND a.grade = :grade_",
            $grade,
            ")"
        )
    };
}

/// 组织生活会台账: organizational-life meetings held in the period, with
/// attendance and the democratic appraisal's grades.
pub const ORG_LIFE: LedgerDef = LedgerDef {
    name: "org_life",
    title: "ledger_org_life",
    kind: RecordKind::OrgLifeMeeting,
    from: "org_life_meetings o",
    alias: "o",
    period: "o.month BETWEEN :from_month AND :to_month",
    only: "1",
    filters: &[
        filter(
            "appraised",
            Head::Word("s_appraised"),
            "EXISTS (SELECT 1 FROM appraisals a WHERE a.doc_id = o.doc_id)",
        ),
        filter(
            "not_appraised",
            Head::Word("s_not_appraised"),
            "NOT EXISTS (SELECT 1 FROM appraisals a WHERE a.doc_id = o.doc_id)",
        ),
    ],
    by_codes: &[],
    default_filter: None,
    order: "o.village, o.date, o.doc_id",
    columns: &[
        village_col("o.village"),
        field("date", "o.date", Show::Text),
        field("topic", "o.topic", Show::Text),
        col(Head::Word("c_present"), "o.present", Show::Int),
        col(Head::Word("c_absent"), "o.absent", Show::Int),
        field("points", "o.points", Show::Int),
        col(
            Head::Code("appraisal", "excellent"),
            graded!("excellent"),
            Show::Int,
        ),
        col(
            Head::Code("appraisal", "qualified"),
            graded!("qualified"),
            Show::Int,
        ),
        col(
            Head::Code("appraisal", "basically_qualified"),
            graded!("basically_qualified"),
            Show::Int,
        ),
        col(
            Head::Code("appraisal", "unqualified"),
            graded!("unqualified"),
            Show::Int,
        ),
        col(Head::Word("c_record"), "lower(hex(o.doc_id))", Show::Record),
    ],
    groups: &[],
    share: None,
};

/// Who was absent from a study session and why (赵党员（外出务工）、…).
const ABSENCES: &str = "(SELECT group_concat(coalesce(pp.name, a.person)
        || CASE WHEN a.reason <> '' THEN '（' || a.reason || '）' ELSE '' END, '、')
    FROM attendance a LEFT JOIN people pp ON pp.id = a.person
    WHERE a.doc_id = s.doc_id AND a.present = 0)";

/// 集中学习台账: the study sessions held in the period, how many came, and
/// who was absent and why.
pub const SESSIONS: LedgerDef = LedgerDef {
    name: "sessions",
    title: "ledger_sessions",
    kind: RecordKind::StudySession,
    from: "study_sessions s",
    alias: "s",
    period: "s.month BETWEEN :from_month AND :to_month",
    only: "1",
    filters: &[filter(
        "with_absent",
        Head::Word("s_with_absent"),
        "absent > 0",
    )],
    by_codes: &[("format", "format = :code")],
    default_filter: None,
    order: "s.village, s.date, s.doc_id",
    columns: &[
        village_col("s.village"),
        field("date", "s.date", Show::Text),
        field("topic", "s.topic", Show::Text),
        field("material", "s.material", Show::Code("material")),
        field("format", "s.format", Show::Code("format")),
        field(
            "organizer",
            "coalesce((SELECT pp.name FROM people pp WHERE pp.id = s.organizer), s.organizer)",
            Show::Text,
        ),
        field("minutes", "s.minutes", Show::Int),
        col(Head::Word("c_present"), "s.present", Show::Int),
        col(Head::Word("c_absent"), "s.absent", Show::Int),
        col(Head::Word("c_absences"), ABSENCES, Show::Text),
        col(Head::Word("c_record"), "lower(hex(s.doc_id))", Show::Record),
    ],
    groups: &["material", "format"],
    share: None,
};

/// 党务村务公开台账: what was made public in the period.
pub const NOTICES: LedgerDef = LedgerDef {
    name: "notices",
    title: "ledger_notices",
    kind: RecordKind::Notice,
    from: "notices n",
    alias: "n",
    period: "n.month BETWEEN :from_month AND :to_month",
    only: "1",
    filters: &[],
    by_codes: &[("category", "category = :code")],
    default_filter: None,
    order: "n.village, n.date, n.doc_id",
    columns: &[
        village_col("n.village"),
        field("date", "n.date", Show::Text),
        field("category", "n.category", Show::Code("category")),
        field("medium", "n.medium", Show::Code("medium")),
        field("title", "n.title", Show::Text),
        field("about", "n.about", Show::Int),
        col(Head::Word("c_record"), "lower(hex(n.doc_id))", Show::Record),
    ],
    groups: &["category"],
    share: None,
};

/// 制度建设台账: regulations adopted in the period and whether they were
/// announced to the masses.
pub const REGULATIONS: LedgerDef = LedgerDef {
    name: "regulations",
    title: "ledger_regulations",
    kind: RecordKind::Regulation,
    from: "regulations g",
    alias: "g",
    period: "g.month BETWEEN :from_month AND :to_month",
    only: "1",
    filters: &[
        filter(
            "announced",
            Head::Word("s_announced"),
            "announced_on IS NOT NULL",
        ),
        filter(
            "not_announced",
            Head::Word("s_not_announced"),
            "announced_on IS NULL",
        ),
    ],
    by_codes: &[],
    default_filter: None,
    order: "g.village, g.adopted_on, g.doc_id",
    columns: &[
        village_col("g.village"),
        field("adopted_on", "g.adopted_on", Show::Text),
        field("category", "g.category", Show::Code("category")),
        field("title", "g.title", Show::Text),
        field("announced_on", "g.announced_on", Show::Text),
        col(Head::Word("c_record"), "lower(hex(g.doc_id))", Show::Record),
    ],
    groups: &["category"],
    share: None,
};

/// 征求意见会台账: listening meetings held in the period, who came, and
/// the opinions heard at each.
pub const LISTENING: LedgerDef = LedgerDef {
    name: "listening",
    title: "ledger_listening",
    kind: RecordKind::ListeningMeeting,
    from: "listening_meetings l",
    alias: "l",
    period: "l.month BETWEEN :from_month AND :to_month",
    only: "1",
    filters: &[],
    by_codes: &[("format", "format = :code")],
    default_filter: None,
    order: "l.village, l.date, l.doc_id",
    columns: &[
        village_col("l.village"),
        field("date", "l.date", Show::Text),
        field("format", "l.format", Show::Code("format")),
        field("members", "l.members", Show::Int),
        field("others", "l.others", Show::Int),
        col(
            Head::Word("c_opinions_heard"),
            "(SELECT count(*) FROM opinions o
              WHERE o.village = l.village AND o.meeting = l.doc_id AND o.withdrawn = 0)",
            Show::Int,
        ),
        col(Head::Word("c_record"), "lower(hex(l.doc_id))", Show::Record),
    ],
    groups: &["format"],
    share: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// Every filter by a stored code names a code of its field, every
    /// column of a field a field of its kind, every word has words, and
    /// names are unique: a typo shows here, not as an empty ledger.
    #[test]
    fn declarations_name_what_exists() {
        let mut names: Vec<&str> = LEDGERS.iter().map(|l| l.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), LEDGERS.len(), "a ledger name is used twice");
        let known = |kind: RecordKind, h: Head| match h {
            Head::Field(f) => kind.spec().field(f).is_some() || field_label(f, Lang::En) != f,
            Head::FieldOf(k, f) => k.spec().field(f).is_some(),
            Head::Code(f, c) => code_label(kind, f, c, Lang::En).is_some(),
            Head::Word(w) => Words::has(w),
        };
        for l in LEDGERS {
            assert!(Words::has(l.title), "{}: no words for its title", l.name);
            for c in l.columns {
                assert!(known(l.kind, c.head), "{}: {:?}", l.name, c.head);
                if let Show::Code(f) = c.show {
                    assert!(l.kind.spec().field(f).is_some(), "{}: {f}", l.name);
                }
            }
            let mut codes: Vec<&str> = l.filters().map(|f| f.code).collect();
            let offered = codes.len();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), offered, "{}: a filter twice", l.name);
            for (field, _) in l.by_codes {
                assert!(field_codes(l.kind, field).is_some(), "{}: {field}", l.name);
            }
            for f in l.filters() {
                assert!(known(l.kind, f.label), "{}: {:?}", l.name, f.label);
            }
            for g in l.groups {
                assert!(l.kind.spec().field(g).is_some(), "{}: {g}", l.name);
            }
            if let Some(d) = l.default_filter {
                assert!(l.filter_of(None).is_some(), "{}: {d}", l.name);
            }
        }
    }

    /// The measures ledgers filter as the overview counts.
    #[test]
    fn measure_filters_are_the_overviews() {
        let ours: Vec<(&str, &str)> = MEASURE_FILTERS.iter().map(|f| (f.code, f.sql)).collect();
        let overview: Vec<(&str, &str)> = MeasureFilter::all()
            .into_iter()
            .map(|f| (f.code(), measure_filter(f)))
            .collect();
        assert_eq!(ours, overview);
    }
}
