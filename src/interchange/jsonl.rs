//! The event log as JSON Lines: lossless export and import.
//!
//! One line per transaction header, followed by one line per event of it:
//!
//! ```text
//! {"tx":1,"recorded_at":"2026-11-28T09:00:00Z","author":"ci","message":"sources","events":1}
//! {"tx":1,"event":{"node_added":{"id":"s1","labels":["Source"],"props":{"key":"s1"},"valid":"../..","sources":[]}}}
//! ```
//!
//! Export then import then export gives the same bytes: transaction numbers, timestamps,
//! authors, messages, property order and date precision all survive. Import goes into an
//! empty knowledge base and lands whole or not at all.

use std::borrow::Cow;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::db::Database;
use crate::error::{CommitError, InterchangeError, LogError};
use crate::event::wire::{EventV1, TimestampV1};
use crate::event::{Event, TxHeader, TxMeta};
use crate::log::{Log, LogVisitor};
use crate::time::TxId;

#[derive(Serialize, Deserialize)]
struct HeaderLine<'a> {
    tx: u64,
    recorded_at: TimestampV1,
    #[serde(borrow)]
    author: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
    events: u64,
}

#[derive(Serialize, Deserialize)]
struct EventLine<'a> {
    tx: u64,
    #[serde(borrow)]
    event: EventV1<'a>,
}

/// Tells a header line from an event line without decoding either.
#[derive(Deserialize)]
struct Probe {
    event: Option<serde::de::IgnoredAny>,
}

/// Writes the whole log as JSON Lines.
///
/// # Errors
/// When the log cannot be read or the output cannot be written.
pub fn export_events<L: Log>(log: &L, out: &mut dyn Write) -> Result<(), InterchangeError> {
    let mut exporter = Exporter { out };
    log.scan(TxId(1), log.head(), &mut exporter)
}

struct Exporter<'w> {
    out: &'w mut dyn Write,
}

impl Exporter<'_> {
    fn line<T: Serialize>(&mut self, value: &T) -> Result<(), InterchangeError> {
        let io = |e: std::io::Error| InterchangeError::Io {
            file: "output".into(),
            detail: e.to_string(),
        };
        serde_json::to_writer(&mut *self.out, value).map_err(|e| InterchangeError::Io {
            file: "output".into(),
            detail: e.to_string(),
        })?;
        self.out.write_all(b"\n").map_err(io)
    }
}

impl From<LogError> for InterchangeError {
    fn from(e: LogError) -> Self {
        InterchangeError::Commit(CommitError::Log(e))
    }
}

impl LogVisitor for Exporter<'_> {
    type Error = InterchangeError;

    fn begin_tx(&mut self, h: &TxHeader) -> Result<(), InterchangeError> {
        self.line(&HeaderLine {
            tx: h.tx.0,
            recorded_at: TimestampV1(h.recorded_at),
            author: h.meta.author.as_deref().map(Cow::Borrowed),
            message: h.meta.message.as_deref().map(Cow::Borrowed),
            events: h.event_count,
        })
    }

    fn event(&mut self, tx: TxId, _index: u32, event: Event) -> Result<(), InterchangeError> {
        self.line(&EventLine {
            tx: tx.0,
            event: EventV1::from_domain(&event),
        })
    }

    fn end_tx(&mut self, _h: &TxHeader) -> Result<(), InterchangeError> {
        Ok(())
    }
}

/// Reads a JSON Lines log into an empty knowledge base, in one storage transaction.
/// Returns the number of transactions imported.
///
/// # Errors
/// A line that cannot be read (with its number), a transaction whose number or event count
/// does not match, an event refused by validation, or a non-empty target. Nothing is
/// written then.
pub fn import_events<L: Log>(
    db: &mut Database<L>,
    input: &mut dyn BufRead,
    file: &str,
) -> Result<u64, InterchangeError> {
    if db.tx().0 > 0 {
        return Err(InterchangeError::NotEmpty(db.tx().0));
    }
    let bad = |line: u64, detail: String| InterchangeError::Line {
        file: file.to_owned(),
        line,
        detail,
    };
    let headers = db.write(|w| {
        let mut buf = String::new();
        let mut line_no = 0u64;
        // (tx, events declared, events seen)
        let mut open: Option<(TxId, u64, u64)> = None;
        let mut previous_time = None;
        loop {
            buf.clear();
            let n = input.read_line(&mut buf).map_err(|e| InterchangeError::Io {
                file: file.to_owned(),
                detail: e.to_string(),
            })?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let text = buf.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            let probe: Probe =
                serde_json::from_str(text).map_err(|e| bad(line_no, e.to_string()))?;
            if probe.event.is_some() {
                let line: EventLine<'_> =
                    serde_json::from_str(text).map_err(|e| bad(line_no, e.to_string()))?;
                let Some((tx, declared, seen)) = open.as_mut() else {
                    return Err(bad(line_no, "an event before any transaction header".into()));
                };
                if line.tx != tx.0 {
                    return Err(bad(
                        line_no,
                        format!("expected an event of tx {tx}, but found tx {}", line.tx),
                    ));
                }
                if *seen == *declared {
                    return Err(bad(
                        line_no,
                        format!("tx {tx} declares {declared} events, but has more"),
                    ));
                }
                *seen += 1;
                let event = line.event.into_domain().map_err(|e| bad(line_no, e))?;
                w.append(event)?;
            } else {
                let line: HeaderLine<'_> =
                    serde_json::from_str(text).map_err(|e| bad(line_no, e.to_string()))?;
                close(&mut open, w, line_no, &bad)?;
                let meta = TxMeta {
                    author: line.author.map(Cow::into_owned),
                    message: line.message.map(Cow::into_owned),
                };
                if previous_time.is_some_and(|p| line.recorded_at.0 < p) {
                    return Err(bad(
                        line_no,
                        format!(
                            "tx {} was recorded at {}, before the transaction preceding it; \
                             transaction time never goes back",
                            line.tx, line.recorded_at.0
                        ),
                    ));
                }
                previous_time = Some(line.recorded_at.0);
                let tx = w.begin_tx(&meta, Some(line.recorded_at.0))?;
                if tx.0 != line.tx {
                    return Err(bad(
                        line_no,
                        format!("expected tx {tx} (transactions count from 1, without gaps), but found tx {}", line.tx),
                    ));
                }
                open = Some((tx, line.events, 0));
            }
        }
        close(&mut open, w, line_no + 1, &bad)
    })?;
    Ok(headers.len() as u64)
}

fn close<A: crate::log::Appender>(
    open: &mut Option<(TxId, u64, u64)>,
    w: &mut crate::db::Writer<'_, A>,
    line_no: u64,
    bad: &dyn Fn(u64, String) -> InterchangeError,
) -> Result<(), InterchangeError> {
    if let Some((tx, declared, seen)) = open.take() {
        if seen != declared {
            return Err(bad(
                line_no,
                format!("tx {tx} declares {declared} events, but has {seen}"),
            ));
        }
        w.end_tx()?;
    }
    Ok(())
}

/// The JSON Lines of transactions `from..=to` (a header line, then its event lines, for
/// each), as [`export_events`] writes them: what the server's event stream sends.
///
/// # Errors
/// When the log cannot be read.
pub fn transaction_lines<L: Log>(
    log: &L,
    from: TxId,
    to: TxId,
) -> Result<Vec<(TxId, String)>, InterchangeError> {
    let mut collector = Collector { lines: Vec::new() };
    log.scan(from, to, &mut collector)?;
    Ok(collector.lines)
}

struct Collector {
    lines: Vec<(TxId, String)>,
}

impl LogVisitor for Collector {
    type Error = InterchangeError;

    fn begin_tx(&mut self, h: &TxHeader) -> Result<(), InterchangeError> {
        let line = serde_json::to_string(&HeaderLine {
            tx: h.tx.0,
            recorded_at: TimestampV1(h.recorded_at),
            author: h.meta.author.as_deref().map(Cow::Borrowed),
            message: h.meta.message.as_deref().map(Cow::Borrowed),
            events: h.event_count,
        })
        .map_err(|e| InterchangeError::Io {
            file: "stream".into(),
            detail: e.to_string(),
        })?;
        self.lines.push((h.tx, line));
        Ok(())
    }

    fn event(&mut self, tx: TxId, _index: u32, event: Event) -> Result<(), InterchangeError> {
        let line = serde_json::to_string(&EventLine {
            tx: tx.0,
            event: EventV1::from_domain(&event),
        })
        .map_err(|e| InterchangeError::Io {
            file: "stream".into(),
            detail: e.to_string(),
        })?;
        self.lines.push((tx, line));
        Ok(())
    }

    fn end_tx(&mut self, _h: &TxHeader) -> Result<(), InterchangeError> {
        Ok(())
    }
}

/// Events given as JSON values in the form of an event line's `event` (for example
/// `{"node_added": {"id": "x", "labels": ["Actor"], "props": {}, "valid": "2007/..",
/// "sources": ["k"]}}`).
///
/// # Errors
/// The first value that is not an event, naming its position (from 0).
pub fn events_from_json(values: &[serde_json::Value]) -> Result<Vec<Event>, String> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let text = v.to_string();
            let wire: EventV1<'_> =
                serde_json::from_str(&text).map_err(|e| format!("events[{i}]: {e}"))?;
            wire.into_domain().map_err(|e| format!("events[{i}]: {e}"))
        })
        .collect()
}
