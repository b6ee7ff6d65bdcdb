//! A table as a file to download: CSV (UTF-8 with a byte-order mark, so
//! Excel reads the Chinese right) and XLSX (headings in the reader's
//! language, the heading row frozen, columns as wide as their contents).

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::ledger::{Table, Value};

/// Widest a column of an XLSX sheet is made, in characters.
pub const MAX_COLUMN_WIDTH: usize = 60;

/// The byte-order mark that tells Excel a CSV file is UTF-8.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The table as CSV.
pub fn csv(table: &Table) -> Result<Vec<u8>, crate::Error> {
    let bad = |e: csv::Error| crate::Error::Invalid(format!("CSV: {e}"));
    let mut out = csv::Writer::from_writer(BOM.to_vec());
    out.write_record(table.columns.iter().map(|c| c.label.as_str()))
        .map_err(bad)?;
    for row in &table.rows {
        out.write_record(row.iter().map(|c| c.text()))
            .map_err(bad)?;
    }
    out.into_inner()
        .map_err(|e| crate::Error::Invalid(format!("CSV: {e}")))
}

/// How wide `text` shows in a spreadsheet: Chinese characters count twice.
fn display_width(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// The table as an XLSX workbook of one sheet named `sheet`.
pub fn xlsx(table: &Table, sheet: &str) -> Result<Vec<u8>, crate::Error> {
    let bad = |e: XlsxError| crate::Error::Invalid(format!("XLSX: {e}"));
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).map_err(bad)?;
    let heading = Format::new().set_bold().set_background_color("#F2F2F2");
    let one_decimal = Format::new().set_num_format("0.0");
    let mut widths: Vec<usize> = table
        .columns
        .iter()
        .map(|c| display_width(&c.label))
        .collect();
    for (i, col) in table.columns.iter().enumerate() {
        let i = u16::try_from(i).map_err(|_| crate::Error::Invalid("too many columns".into()))?;
        ws.write_string_with_format(0, i, &col.label, &heading)
            .map_err(bad)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| crate::Error::Invalid("too many rows".into()))?;
        for (i, cell) in row.iter().enumerate() {
            let c =
                u16::try_from(i).map_err(|_| crate::Error::Invalid("too many columns".into()))?;
            match &cell.value {
                Value::Text(s) => {
                    ws.write_string(r, c, s).map_err(bad)?;
                }
                Value::Int(n) => {
                    ws.write_number(r, c, *n as f64).map_err(bad)?;
                }
                Value::Num(x) => {
                    ws.write_number_with_format(r, c, *x, &one_decimal)
                        .map_err(bad)?;
                }
                Value::Empty => {}
            }
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(display_width(&cell.text()));
            }
        }
    }
    for (i, w) in widths.iter().enumerate() {
        let c = u16::try_from(i).map_err(|_| crate::Error::Invalid("too many columns".into()))?;
        let chars = (*w).clamp(6, MAX_COLUMN_WIDTH) + 2;
        ws.set_column_width(c, chars as f64).map_err(bad)?;
    }
    ws.set_freeze_panes(1, 0).map_err(bad)?;
    if let (Ok(last_row), Some(last_col)) = (
        u32::try_from(table.rows.len()),
        table.columns.len().checked_sub(1),
    ) {
        let last_col = u16::try_from(last_col).unwrap_or(u16::MAX);
        ws.autofilter(0, 0, last_row, last_col).map_err(bad)?;
    }
    book.save_to_buffer().map_err(bad)
}
