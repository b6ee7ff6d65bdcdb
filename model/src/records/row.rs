//! Typed rows: the tables, columns and values in which the township server
//! keeps every record for the dashboard's SQL. A kind's own table comes
//! from the columns its fields declare; the tables a kind fills besides
//! (attendance, appraisals, …) are declared where their rows are made.
//!
//! Dates are `YYYY-MM-DD`, months `YYYY-MM`, codes their stable codes, flags
//! 0 or 1, record ids their 16 bytes; every table has the record's `doc_id`
//! first.

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};

use crate::ids::{DocId, PersonId};

/// A column's SQL type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SqlType {
    /// `INTEGER`: whole numbers, counts and flags.
    Integer,
    /// `TEXT`: text, codes, person ids, dates and months.
    Text,
    /// `BLOB`: record ids.
    Blob,
}

impl SqlType {
    /// The type as SQL.
    pub fn sql(self) -> &'static str {
        match self {
            SqlType::Integer => "INTEGER",
            SqlType::Text => "TEXT",
            SqlType::Blob => "BLOB",
        }
    }
}

/// A column of a typed-row table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Column {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub sql: SqlType,
    /// It may be null.
    pub nullable: bool,
}

impl Column {
    /// The record's id, first in every table.
    pub const DOC_ID: Column = Column::new("doc_id", SqlType::Blob);
    /// The record's village.
    pub const VILLAGE: Column = Column::new("village", SqlType::Text);
    /// 1 once the record was withdrawn.
    pub const WITHDRAWN: Column = Column::new("withdrawn", SqlType::Integer);
    /// The kind of the record a row comes from, in a table filled by two kinds.
    pub const KIND: Column = Column::new("kind", SqlType::Text);
    /// A day.
    pub const DATE: Column = Column::new("date", SqlType::Text);
    /// The month of that day.
    pub const MONTH: Column = Column::new("month", SqlType::Text);
    /// A person.
    pub const PERSON: Column = Column::new("person", SqlType::Text);

    /// A column that may not be null.
    pub const fn new(name: &'static str, sql: SqlType) -> Column {
        Column {
            name,
            sql,
            nullable: false,
        }
    }
}

/// A typed-row table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Table {
    /// Its name.
    pub name: &'static str,
    /// Its columns, `doc_id` first.
    pub columns: &'static [Column],
    /// The columns of its primary key (`doc_id` alone: one row per record).
    pub key: &'static [&'static str],
    /// The columns of its index (`{name}_by_village`), if it has one.
    pub index: &'static [&'static str],
}

/// A value of a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell<'a> {
    /// No value.
    Null,
    /// A whole number, count or flag.
    Int(i64),
    /// Text.
    Str(Cow<'a, str>),
    /// Bytes (a record id).
    Blob(&'a [u8]),
}

/// One row of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row<'a> {
    /// The table.
    pub table: &'static Table,
    /// Its values, one per column.
    pub cells: Vec<Cell<'a>>,
}

/// What every row of a record shares: the record's id, village, kind and withdrawal.
#[derive(Clone, Copy, Debug)]
pub struct RowOf<'a> {
    /// The record's id.
    pub id: &'a DocId,
    /// Its village.
    pub village: &'a str,
    /// Its kind's code.
    pub kind: &'static str,
    /// It was withdrawn.
    pub withdrawn: bool,
}

impl<'a> RowOf<'a> {
    /// The cells a row of another table starts with: the record's id.
    pub fn doc_id(&self) -> Cell<'a> {
        Cell::Blob(self.id.as_bytes())
    }

    /// The record's village.
    pub fn village(&self) -> Cell<'a> {
        Cell::Str(Cow::Borrowed(self.village))
    }

    /// The record's withdrawal, as a flag.
    pub fn withdrawn(&self) -> Cell<'a> {
        Cell::Int(i64::from(self.withdrawn))
    }
}

/// A type a column can hold, by reference.
pub trait CellValue {
    /// The column's SQL type.
    const SQL: SqlType;
    /// The column may be null.
    const NULLABLE: bool = false;
    /// The value as a cell.
    fn cell(&self) -> Cell<'_>;
}

/// A value that becomes a cell: a field by reference, or a value computed
/// from the record.
pub trait IntoCell<'a> {
    /// The cell.
    fn into_cell(self) -> Cell<'a>;
}

impl<'a, T: CellValue> IntoCell<'a> for &'a T {
    fn into_cell(self) -> Cell<'a> {
        self.cell()
    }
}

impl<'a, T: IntoCell<'a>> IntoCell<'a> for Option<T> {
    fn into_cell(self) -> Cell<'a> {
        self.map_or(Cell::Null, IntoCell::into_cell)
    }
}

impl CellValue for String {
    const SQL: SqlType = SqlType::Text;
    fn cell(&self) -> Cell<'_> {
        Cell::Str(Cow::Borrowed(self))
    }
}

impl CellValue for PersonId {
    const SQL: SqlType = SqlType::Text;
    fn cell(&self) -> Cell<'_> {
        Cell::Str(Cow::Borrowed(self.as_str()))
    }
}

impl CellValue for DocId {
    const SQL: SqlType = SqlType::Blob;
    fn cell(&self) -> Cell<'_> {
        Cell::Blob(self.as_bytes())
    }
}

impl CellValue for NaiveDate {
    const SQL: SqlType = SqlType::Text;
    fn cell(&self) -> Cell<'_> {
        Cell::Str(Cow::Owned(day(*self)))
    }
}

impl<T: CellValue> CellValue for Option<T> {
    const SQL: SqlType = T::SQL;
    const NULLABLE: bool = true;
    fn cell(&self) -> Cell<'_> {
        self.as_ref().map_or(Cell::Null, CellValue::cell)
    }
}

macro_rules! int_cell {
    ($($t:ty),*) => {$(
        impl CellValue for $t {
            const SQL: SqlType = SqlType::Integer;
            fn cell(&self) -> Cell<'_> {
                Cell::Int(i64::from(*self))
            }
        }
        impl IntoCell<'_> for $t {
            fn into_cell(self) -> Cell<'static> {
                Cell::Int(i64::from(self))
            }
        }
    )*};
}
int_cell!(u16, u32, bool);

impl<'a> IntoCell<'a> for Cell<'a> {
    fn into_cell(self) -> Cell<'a> {
        self
    }
}

impl IntoCell<'_> for usize {
    fn into_cell(self) -> Cell<'static> {
        count(self)
    }
}

impl IntoCell<'_> for NaiveDate {
    fn into_cell(self) -> Cell<'static> {
        Cell::Str(Cow::Owned(day(self)))
    }
}

/// People as one text column: a JSON array of their ids, which SQL reads
/// with `json_each` (to show their names from the registry).
pub fn person_list(people: &[PersonId]) -> Cell<'static> {
    let ids: Vec<&str> = people.iter().map(PersonId::as_str).collect();
    Cell::Str(Cow::Owned(
        serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()),
    ))
}

/// A day as the rows keep it, `YYYY-MM-DD`. Written by hand: chrono's
/// `format` parses its pattern on every call, which shows in a profile of
/// taking in thousands of records.
pub fn day(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// The month of a day, `YYYY-MM`, as a cell.
pub fn month(d: NaiveDate) -> Cell<'static> {
    Cell::Str(Cow::Owned(format!("{:04}-{:02}", d.year(), d.month())))
}

/// A count as a cell.
pub fn count(n: usize) -> Cell<'static> {
    Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
}
