//! Charts drawn on the server as SVG, put into the page: no script, nothing
//! fetched from the internet.

use std::fmt::Write;

use chrono::{Datelike, Duration, NaiveDate};

/// Most weeks a weekly chart shows: the latest ones.
pub const MAX_CHART_WEEKS: usize = 26;

/// Text for SVG (XML): the five characters that must be escaped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The Monday of `day`'s week.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Rows of values by week: a row per village (its label), a column per
/// week, from sums per village and day.
#[derive(Clone, Debug, PartialEq)]
pub struct Weekly {
    /// Mondays of the weeks shown, oldest first.
    pub weeks: Vec<NaiveDate>,
    /// Each row's label and its value per week.
    pub rows: Vec<(String, Vec<i64>)>,
}

impl Weekly {
    /// Sums `per_day` (row key, day, value) into weeks, for the rows
    /// `labels` (key, label) in that order, over the weeks from the first
    /// with a value to `today`'s, at most [`MAX_CHART_WEEKS`].
    pub fn from_days(
        labels: &[(String, String)],
        per_day: &[(String, NaiveDate, i64)],
        today: NaiveDate,
    ) -> Weekly {
        let last = week_of(today);
        let earliest = last - Duration::weeks(MAX_CHART_WEEKS as i64 - 1);
        let first = per_day
            .iter()
            .map(|(_, d, _)| week_of(*d))
            .min()
            .unwrap_or(last)
            .clamp(earliest, last);
        let n = usize::try_from((last - first).num_weeks() + 1).unwrap_or(1);
        let weeks: Vec<NaiveDate> = (0..n).map(|i| first + Duration::weeks(i as i64)).collect();
        let rows = labels
            .iter()
            .map(|(key, label)| {
                let mut values = vec![0; n];
                for (k, day, v) in per_day {
                    if k == key
                        && let Ok(i) = usize::try_from((week_of(*day) - first).num_weeks())
                        && let Some(slot) = values.get_mut(i)
                    {
                        *slot += v;
                    }
                }
                (label.clone(), values)
            })
            .collect();
        Weekly { weeks, rows }
    }
}

/// A heat map: a row per label, a square per week, darker for more; each
/// square's title gives its week and value. Reads well for thirty villages
/// on a phone, where thirty lines would not.
pub fn heatmap(data: &Weekly, week_word: &str) -> String {
    const CELL: usize = 18;
    const LABEL: usize = 90;
    const TOP: usize = 34;
    let max = data
        .rows
        .iter()
        .flat_map(|(_, v)| v.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let width = LABEL + CELL * data.weeks.len().max(1) + 4;
    let height = TOP + CELL * data.rows.len().max(1) + 4;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart heatmap" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">"#
    );
    for (i, week) in data.weeks.iter().enumerate() {
        if i % 4 == 0 {
            let x = LABEL + i * CELL;
            let _ = write!(
                svg,
                r#"<text x="{x}" y="14">{}</text>"#,
                week.format("%m-%d")
            );
        }
    }
    for (r, (label, values)) in data.rows.iter().enumerate() {
        let y = TOP + r * CELL;
        let _ = write!(
            svg,
            r#"<text x="0" y="{}">{}</text>"#,
            y + CELL - 5,
            esc(label)
        );
        for (i, v) in values.iter().enumerate() {
            let x = LABEL + i * CELL;
            // From near white to the dashboard's red, by the share of the largest value.
            let share = *v as f64 / max as f64;
            let fill = if *v == 0 {
                "#eef0f2".to_string()
            } else {
                let light = 92.0 - 55.0 * share;
                format!("hsl(3, 70%, {light:.0}%)")
            };
            let _ = write!(
                svg,
                r#"<rect x="{x}" y="{y}" width="{}" height="{}" fill="{fill}"><title>{} {} {}: {v}</title></rect>"#,
                CELL - 2,
                CELL - 2,
                esc(label),
                esc(week_word),
                data.weeks.get(i).map(|w| w.to_string()).unwrap_or_default(),
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal stacked bars: a bar per label, a segment per part, with a
/// legend of the parts' names.
pub fn stacked_bars(parts: &[&str], rows: &[(String, Vec<i64>)]) -> String {
    const COLOURS: [&str; 8] = [
        "#c9d1d9", "#f2b84b", "#4f9d69", "#2f6f9f", "#b3261e", "#8250df", "#1b7c83", "#9a6700",
    ];
    const LABEL: usize = 90;
    const BAR: usize = 300;
    const ROW: usize = 20;
    const TOP: usize = 24;
    let max = rows
        .iter()
        .map(|(_, v)| v.iter().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let width = LABEL + BAR + 40;
    let height = TOP + ROW * rows.len().max(1) + 4;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart bars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">"#
    );
    let mut x = 0;
    for (i, part) in parts.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/><text x="{}" y="13">{}</text>"#,
            x + 13,
            esc(part)
        );
        x += 20 + 12 * part.chars().count();
    }
    for (r, (label, values)) in rows.iter().enumerate() {
        let y = TOP + r * ROW;
        let _ = write!(
            svg,
            r#"<text x="0" y="{}">{}</text>"#,
            y + ROW - 7,
            esc(label)
        );
        let mut at = LABEL as f64;
        for (i, v) in values.iter().enumerate() {
            let w = *v as f64 / max as f64 * BAR as f64;
            if w > 0.0 {
                let _ = write!(
                    svg,
                    r#"<rect x="{at:.1}" y="{y}" width="{w:.1}" height="{}" fill="{}"><title>{} {}: {v}</title></rect>"#,
                    ROW - 4,
                    COLOURS[i % COLOURS.len()],
                    esc(label),
                    esc(parts.get(i).copied().unwrap_or_default()),
                );
            }
            at += w;
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}">{}</text>"#,
            at + 4.0,
            y + ROW - 7,
            values.iter().sum::<i64>()
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn days_sum_into_their_weeks_and_labels_are_escaped() {
        let labels = vec![
            ("a".to_string(), "A<&>".to_string()),
            ("b".into(), "B".into()),
        ];
        let per_day = vec![
            ("a".to_string(), day("2026-03-02"), 30),
            ("a".to_string(), day("2026-03-08"), 15),
            ("b".to_string(), day("2026-03-10"), 60),
        ];
        let w = Weekly::from_days(&labels, &per_day, day("2026-03-11"));
        assert_eq!(w.weeks, vec![day("2026-03-02"), day("2026-03-09")]);
        assert_eq!(w.rows[0].1, vec![45, 0]);
        assert_eq!(w.rows[1].1, vec![0, 60]);
        let svg = heatmap(&w, "week");
        assert!(
            svg.contains("A&lt;&amp;&gt;") && !svg.contains("A<&>"),
            "{svg}"
        );
        let long_ago = vec![("a".to_string(), day("2020-01-01"), 5)];
        assert_eq!(
            Weekly::from_days(&labels, &long_ago, day("2026-03-11"))
                .weeks
                .len(),
            MAX_CHART_WEEKS
        );
    }
}
