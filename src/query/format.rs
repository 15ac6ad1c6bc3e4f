//! Results as text: aligned tables, JSON and CSV.

use std::fmt::Write as _;

use super::session::Outcome;
use super::value::Cell;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned columns, a row count and the transaction read.
    #[default]
    Table,
    /// `{"columns": [..], "rows": [[..], ..], "tx": n}` on one line.
    Json,
    /// A header line, then one line per row (RFC 4180).
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            other => Err(format!("unknown format `{other}` (table, json or csv)")),
        }
    }
}

/// Renders an outcome; `elapsed` is shown by tables when given.
pub fn render(outcome: &Outcome, format: Format, elapsed: Option<std::time::Duration>) -> String {
    match format {
        Format::Table => table(outcome, elapsed),
        Format::Json => {
            let mut s = json(outcome).to_string();
            s.push('\n');
            s
        }
        Format::Csv => csv(outcome),
    }
}

/// The outcome as JSON: `columns`, `rows` (cells as JSON; dates as EDTF strings), `tx`,
/// `written` (transaction numbers) when it wrote, and for a read its `pin`: `tx`, `query`
/// (with `AT TX`) and `sha256` of its columns and rows, so it can be cited and reproduced.
pub fn json(outcome: &Outcome) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = outcome
        .output
        .rows
        .iter()
        .map(|r| serde_json::Value::Array(r.iter().map(Cell::to_json).collect()))
        .collect();
    let mut obj = serde_json::json!({
        "columns": outcome.output.columns,
        "rows": rows,
        "tx": outcome.tx.0,
    });
    if !outcome.written.is_empty() {
        obj["written"] = outcome.written.iter().map(|h| h.tx.0).collect();
    }
    if let Some(pin) = &outcome.pin() {
        obj["pin"] = serde_json::json!({
            "tx": pin.tx.0,
            "query": pin.query,
            "sha256": pin.sha256,
        });
    }
    obj
}

fn csv(outcome: &Outcome) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut ok = w.write_record(&outcome.output.columns).is_ok();
    for row in &outcome.output.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Null => String::new(),
                other => other.to_string(),
            })
            .collect();
        ok &= w.write_record(&cells).is_ok();
    }
    let bytes = w.into_inner().unwrap_or_default();
    let mut s = String::from_utf8(bytes).unwrap_or_default();
    if !ok {
        s.push_str("# error writing CSV\n");
    }
    s
}

/// The widest a table cell gets, in characters; JSON and CSV keep whole values.
pub const MAX_CELL: usize = 100;

/// A cell's text cut to [`MAX_CELL`] characters, ending in `…` when cut.
fn clip(text: String) -> String {
    if text.chars().count() <= MAX_CELL {
        return text;
    }
    cut(&text, MAX_CELL)
}

/// `text` in at most `max` characters (at least 1), the last of them `…` when it was cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max.max(1) - 1).collect();
    s.push('…');
    s
}

fn table(outcome: &Outcome, elapsed: Option<std::time::Duration>) -> String {
    let mut s = String::new();
    let out = &outcome.output;
    if !out.columns.is_empty() {
        let mut t = comfy_table::Table::new();
        t.load_style(comfy_table::TableStyle::new());
        t.set_header(out.columns.iter().map(String::as_str));
        for row in &out.rows {
            t.add_row(row.iter().map(|c| clip(c.to_string())));
        }
        // Trailing spaces of the last column are noise in a terminal and in diffs.
        for line in t.to_string().lines() {
            let _ = writeln!(s, "{}", line.trim_end());
        }
        let n = out.rows.len();
        let _ = write!(s, "{n} row{}", if n == 1 { "" } else { "s" });
        if let Some(e) = elapsed {
            let ms = e.as_secs_f64() * 1e3;
            let _ = if ms < 1.0 {
                write!(s, " · {ms:.3} ms")
            } else {
                write!(s, " · {ms:.1} ms")
            };
        }
        let _ = writeln!(s, " · tx {}", outcome.tx);
    }
    if let Some(note) = &outcome.note {
        let _ = writeln!(s, "{note}");
    }
    s
}
