//! A small chart under a `TIMELINE` table: one sparkline per numeric column, so a series
//! reads at a glance (the table above has the exact numbers).
//!
//! ```text
//!  Banten      ▁▁▁▁▁▅▅▅█  2 → 4  (min 2, max 4)
//!  Yogyakarta  ▁▁▁▁▁▁▁▁▁  1 → 1
//! ```
//! All lines share one scale, from the smallest value of any column to the largest, so
//! columns side by side compare; a null (no value at that point) is a blank.

use crate::query::Cell;
use crate::query::exec::Output;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The chart of a series, or `None` when it has no numeric column, fewer than two points,
/// or more than one row per point.
pub fn sparklines(output: &Output) -> Option<String> {
    if output.rows.len() < 2 || output.columns.len() < 2 {
        return None;
    }
    // One row per point: the first column's values are distinct.
    let points: Vec<String> = output.rows.iter().map(|r| r[0].to_string()).collect();
    let mut sorted = points.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != points.len() {
        return None;
    }
    let number = |c: &Cell| match c {
        Cell::Int(i) => Some(*i as f64),
        Cell::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    };
    let mut series: Vec<(&str, Vec<Option<f64>>)> = Vec::new();
    for (k, name) in output.columns.iter().enumerate().skip(1) {
        let values: Vec<Option<f64>> = output
            .rows
            .iter()
            .map(|r| r.get(k).and_then(number))
            .collect();
        let numeric = output.rows.iter().all(|r| {
            r.get(k)
                .is_none_or(|c| matches!(c, Cell::Null) || number(c).is_some())
        });
        if numeric && values.iter().any(Option::is_some) {
            series.push((name, values));
        }
    }
    if series.is_empty() {
        return None;
    }
    let all = series.iter().flat_map(|(_, v)| v.iter().flatten().copied());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    let width = series
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (name, values) in &series {
        let line: String = values
            .iter()
            .map(|v| match v {
                None => ' ',
                Some(x) if hi > lo => {
                    let step = ((x - lo) / (hi - lo) * 7.0).round();
                    BARS[(step as usize).min(7)]
                }
                Some(_) => BARS[0],
            })
            .collect();
        let present: Vec<f64> = values.iter().flatten().copied().collect();
        let show = |x: f64| {
            if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{}", x as i64)
            } else {
                format!("{x:.3}")
            }
        };
        let (first, last) = (present[0], present[present.len() - 1]);
        let (min, max) = present
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let pad = width - name.chars().count();
        out.push_str(&format!(
            " {name}{:pad$}  {line}  {} → {}",
            "",
            show(first),
            show(last)
        ));
        if min < first.min(last) || max > first.max(last) {
            out.push_str(&format!("  (min {}, max {})", show(min), show(max)));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        " {:width$}  {} … {}\n",
        "",
        points[0],
        points[points.len() - 1]
    ));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(columns: &[&str], rows: Vec<Vec<Cell>>) -> Output {
        Output {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows,
        }
    }

    #[test]
    fn each_numeric_column_draws_on_one_shared_scale() {
        let rows = (0..5)
            .map(|i| {
                vec![
                    Cell::Str(format!("{}", 2000 + i).into()),
                    Cell::Int(i),
                    Cell::Int(2),
                    if i == 2 { Cell::Null } else { Cell::Int(4 - i) },
                    Cell::Str("x".into()),
                ]
            })
            .collect();
        let chart = sparklines(&output(&["point", "up", "flat", "down", "text"], rows)).unwrap();
        let lines: Vec<&str> = chart.lines().collect();
        assert_eq!(lines.len(), 4, "{chart}");
        assert_eq!(lines[0], " up    ▁▃▅▆█  0 → 4");
        assert_eq!(lines[1], " flat  ▅▅▅▅▅  2 → 2");
        assert_eq!(lines[2], " down  █▆ ▃▁  4 → 0");
        assert_eq!(lines[3], "       2000 … 2004");
    }

    #[test]
    fn a_dip_in_the_middle_shows_its_minimum() {
        let rows = [3, 1, 3]
            .iter()
            .enumerate()
            .map(|(i, &v)| vec![Cell::Int(i as i64), Cell::Int(v)])
            .collect();
        let chart = sparklines(&output(&["point", "n"], rows)).unwrap();
        assert!(
            chart.starts_with(" n  █▁█  3 → 3  (min 1, max 3)"),
            "{chart}"
        );
    }

    #[test]
    fn no_chart_without_a_series_to_draw() {
        let one = vec![vec![Cell::Int(1), Cell::Int(1)]];
        assert!(sparklines(&output(&["point", "n"], one)).is_none());
        let text = vec![
            vec![Cell::Int(1), Cell::Str("a".into())],
            vec![Cell::Int(2), Cell::Str("b".into())],
        ];
        assert!(sparklines(&output(&["point", "s"], text)).is_none());
        // Several rows per point (a TIMELINE without BY over a grouped query).
        let repeated = vec![
            vec![Cell::Int(1), Cell::Int(1)],
            vec![Cell::Int(1), Cell::Int(2)],
        ];
        assert!(sparklines(&output(&["point", "n"], repeated)).is_none());
    }
}
