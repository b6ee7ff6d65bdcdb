//! Many rows to a statement. A push message stores hundreds of changes and
//! records: one statement per row spends
//! more on the statement (fetched from the cache, bound, run, reset) than on
//! the row. Rows go instead in runs of [`ROWS_PER_STATEMENT`], then of the
//! powers of two below it, so that a handful of statement sizes serve every
//! message, each prepared once and kept (the server's and the phone's
//! connections keep their statements).

/// Most rows of one statement (at ten values a row, well within SQLite's
/// limit of 32,766 values per statement).
pub const ROWS_PER_STATEMENT: usize = 128;

/// `rows` cut into runs of [`ROWS_PER_STATEMENT`], then of the powers of two
/// below it, largest first, in order.
pub fn of<T>(mut rows: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let n = ROWS_PER_STATEMENT.min(1 << rows.len().ilog2());
        let (run, rest) = rows.split_at(n);
        rows = rest;
        Some(run)
    })
}

/// `n` rows of `columns` parameters each, for a `VALUES` clause:
/// `(?, ?), (?, ?)`.
pub fn values(n: usize, columns: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    vec![row; n].join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_go_in_runs_of_a_few_sizes_in_order() {
        let sizes = |n: usize| {
            let rows: Vec<usize> = (0..n).collect();
            let runs: Vec<&[usize]> = of(&rows).collect();
            assert_eq!(runs.concat(), rows, "every row once, in order");
            runs.iter().map(|r| r.len()).collect::<Vec<_>>()
        };
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(128), [128]);
        assert_eq!(sizes(300), [128, 128, 32, 8, 4]);
        assert_eq!(sizes(127), [64, 32, 16, 8, 4, 2, 1]);
    }

    #[test]
    fn values_hold_a_parameter_for_each_value() {
        assert_eq!(values(1, 1), "(?)");
        assert_eq!(values(2, 3), "(?, ?, ?), (?, ?, ?)");
    }
}
