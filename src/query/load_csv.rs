//! `LOAD CSV`: records of a file as rows, read as a stream (the csv crate), with the place
//! of each record kept so that an error names the file, the line and the column.

use std::path::PathBuf;
use std::sync::Arc;

use super::ast::Span;
use super::error::QueryError;
use super::exec::Budget;
use super::value::Val;

/// Told how far a load has read: bytes so far, and the file's size in bytes.
pub type Progress = dyn Fn(u64, u64) + Send + Sync;

/// A [`Progress`] to hand around (a session keeps one for every statement it runs).
#[derive(Clone)]
pub struct ProgressFn(pub Arc<Progress>);

impl std::fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressFn")
    }
}

/// A file to read, as a `LOAD CSV` clause names it.
#[derive(Clone, Debug)]
pub struct CsvSource {
    /// The file.
    pub path: PathBuf,
    /// Whether the first record names the columns.
    pub headers: bool,
    /// The field separator.
    pub delimiter: u8,
    /// The clause, for errors about the file itself.
    pub span: Span,
}

/// Where a record was read: what an error in its processing is told.
pub struct At<'a> {
    file: &'a str,
    line: u64,
    headers: &'a [String],
}

impl At<'_> {
    /// `e`, placed in the file: `file, line N, column `c`: …`. The column is the one whose
    /// value the message quotes (in backticks), when one does.
    pub fn locate(&self, e: QueryError, record: &Val) -> QueryError {
        let fields: Vec<(String, String)> = match record {
            Val::Map(m) => m
                .iter()
                .filter_map(|(k, v)| match v {
                    Val::Str(s) => Some((k.clone(), s.as_str().to_owned())),
                    _ => None,
                })
                .collect(),
            Val::List(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| match v {
                    Val::Str(s) => Some((i.to_string(), s.as_str().to_owned())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let column = fields
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .find(|(_, v)| e.message.contains(&format!("`{v}`")))
            .map(|(k, _)| {
                if self.headers.is_empty() {
                    format!(", field {k}")
                } else {
                    format!(", column `{k}`")
                }
            })
            .unwrap_or_default();
        let mut e = e;
        e.message = format!("{}, line {}{column}: {}", self.file, self.line, e.message);
        e
    }
}

impl CsvSource {
    /// Calls `f` with each record (a map by header, or a list; empty fields null) and its
    /// place, in order; stops at the first error.
    ///
    /// # Errors
    /// A file that cannot be read, a record with more or fewer fields than the first, a
    /// duplicate or empty column name, text that is not UTF-8 — each naming the file and
    /// line — or the first error of `f`.
    pub fn for_each(
        &self,
        budget: &Budget,
        progress: Option<&Progress>,
        mut f: impl FnMut(Val, &At<'_>) -> Result<(), QueryError>,
    ) -> Result<(), QueryError> {
        let name = self.path.display().to_string();
        let fail = |message: String| QueryError::runtime(self.span, message);
        let file = std::fs::File::open(&self.path)
            .map_err(|e| fail(format!("LOAD CSV cannot read `{name}`: {e}")))?;
        let total = file.metadata().map_or(0, |m| m.len());
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(self.delimiter)
            .flexible(false)
            .from_reader(std::io::BufReader::with_capacity(1 << 16, file));
        let mut record = csv::StringRecord::new();
        let mut headers: Vec<String> = Vec::new();
        let mut first = true;
        let mut count: u64 = 0;
        loop {
            let more = reader.read_record(&mut record).map_err(|e| {
                fail(match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        pos,
                        expected_len,
                        len,
                    } => format!(
                        "{name}, line {}: {len} fields, but the {} has {expected_len}",
                        pos.as_ref().map_or(0, csv::Position::line),
                        if self.headers {
                            "header"
                        } else {
                            "first record"
                        }
                    ),
                    csv::ErrorKind::Utf8 { pos, err } => format!(
                        "{name}, line {}, field {}: not UTF-8 text",
                        pos.as_ref().map_or(0, csv::Position::line),
                        err.field() + 1
                    ),
                    _ => format!("{name}: {e}"),
                })
            })?;
            if !more {
                break;
            }
            let line = record.position().map_or(0, csv::Position::line);
            if first && self.headers {
                first = false;
                for (i, h) in record.iter().enumerate() {
                    // A byte-order mark is not part of the first column's name.
                    let h = if i == 0 {
                        h.trim_start_matches('\u{feff}')
                    } else {
                        h
                    };
                    if h.is_empty() {
                        return Err(fail(format!(
                            "{name}, line {line}: column {} of the header has no name",
                            i + 1
                        )));
                    }
                    if headers.iter().any(|x| x == h) {
                        return Err(fail(format!(
                            "{name}, line {line}: the header names `{h}` twice"
                        )));
                    }
                    headers.push(h.to_owned());
                }
                continue;
            }
            first = false;
            let field = |v: &str| if v.is_empty() { Val::Null } else { Val::str(v) };
            let value = if self.headers {
                let map = headers
                    .iter()
                    .zip(record.iter())
                    .map(|(h, v)| (h.clone(), field(v)))
                    .collect();
                Val::Map(Arc::new(map))
            } else {
                Val::list(record.iter().map(field).collect())
            };
            let at = At {
                file: &name,
                line,
                headers: &headers,
            };
            f(value, &at)?;
            count += 1;
            if count.is_multiple_of(1024) {
                budget.check()?;
                if let Some(p) = progress {
                    p(record.position().map_or(0, csv::Position::byte), total);
                }
            }
        }
        if let Some(p) = progress {
            p(total, total);
        }
        Ok(())
    }
}
