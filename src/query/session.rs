//! Statements against a database: reads on the committed graph, writes as transactions.
//!
//! One statement that writes is one transaction; `BEGIN` … `COMMIT` queues statements and
//! runs them as one transaction at `COMMIT` (a refused one writes nothing of the group).
//! Reads outside a group see the committed state, pinned by `AT TX` / `AT <time>` and
//! restricted by `AS OF` / `DURING`.

use super::ast::{Clause, Query, Span, Statement, TxTime, ValidSelector};
use super::error::{ErrorKind, QueryError, Warning};
use super::eval::Params;
use super::exec::{Budget, Executor, Host, Output, unknown_name_warnings};
use crate::db::{Database, Writer};
use crate::error::CommitError;
use crate::event::{Event, TxHeader, TxMeta};
use crate::graph::Graph;
use crate::log::{Appender, Log};
use crate::time::{DayRange, Timestamp, TxId};

/// What a statement gave back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Columns and rows (empty for statements without `RETURN`).
    pub output: Output,
    /// The transaction the statement read at.
    pub tx: TxId,
    /// Transactions written (committed) by it.
    pub written: Vec<TxHeader>,
    /// Warnings about names that match nothing.
    pub warnings: Vec<Warning>,
    /// A note for statements that return no rows: "transaction begun", "committed tx 7" …
    pub note: Option<String>,
}

/// Runs statements: parameters, limits and authorship, and the open `BEGIN` group.
#[derive(Debug, Default)]
pub struct Session {
    /// `$name` values.
    pub params: Params,
    /// Time allowed per statement (none: no limit).
    pub timeout: Option<std::time::Duration>,
    /// Rows allowed per result; 0 means the default (1,000,000).
    pub max_rows: usize,
    /// Recorded as the author of transactions.
    pub author: Option<String>,
    /// Cancels the running statement when set.
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    group: Option<Vec<(String, Statement)>>,
}

impl Session {
    /// A session with default limits (60 s, 1,000,000 rows).
    pub fn new() -> Session {
        Session {
            timeout: Some(std::time::Duration::from_secs(60)),
            ..Session::default()
        }
    }

    /// Whether a `BEGIN` group is open.
    pub fn in_group(&self) -> bool {
        self.group.is_some()
    }

    fn budget(&self) -> Budget {
        let rows = if self.max_rows == 0 {
            1_000_000
        } else {
            self.max_rows
        };
        let mut b = Budget::new(self.timeout, rows);
        b.cancel = self.cancel.clone();
        b
    }

    /// Runs one parsed statement of `source` (spans point into `source`).
    ///
    /// # Errors
    /// Semantic, runtime, budget and write errors; a refused write wrote nothing.
    pub fn execute<L: Log>(
        &mut self,
        db: &mut Database<L>,
        source: &str,
        statement: &Statement,
    ) -> Result<Outcome, QueryError> {
        match statement {
            Statement::Begin(span) => {
                if self.group.is_some() {
                    return Err(QueryError::semantic(
                        *span,
                        "a transaction is already open; COMMIT or ROLLBACK it first",
                    ));
                }
                self.group = Some(Vec::new());
                Ok(self.note(db, "transaction begun: statements are queued until COMMIT"))
            }
            Statement::Rollback(span) => match self.group.take() {
                Some(g) => Ok(self.note(
                    db,
                    &format!("rolled back: {} queued statement(s) dropped", g.len()),
                )),
                None => Err(QueryError::semantic(*span, "ROLLBACK without BEGIN")),
            },
            Statement::Commit(span) => {
                let Some(group) = self.group.take() else {
                    return Err(QueryError::semantic(*span, "COMMIT without BEGIN"));
                };
                self.commit_group(db, group)
            }
            other => {
                if let Some(group) = &mut self.group {
                    group.push((source.to_owned(), other.clone()));
                    let n = group.len();
                    return Ok(self.note(db, &format!("queued ({n} statement(s) until COMMIT)")));
                }
                if let Statement::Query(q) = other
                    && !writes(q)
                {
                    return self.read(db.graph(), source, q);
                }
                self.commit_group(db, vec![(source.to_owned(), other.clone())])
            }
        }
    }

    fn note<L: Log>(&self, db: &Database<L>, text: &str) -> Outcome {
        Outcome {
            tx: db.tx(),
            note: Some(text.to_owned()),
            ..Outcome::default()
        }
    }

    /// Runs a read-only query on the committed graph.
    ///
    /// # Errors
    /// As [`Session::execute`].
    pub fn read(&self, graph: &Graph, source: &str, q: &Query) -> Result<Outcome, QueryError> {
        let budget = self.budget();
        let mut exec = Executor::new(&self.params, &budget, source);
        let tx = set_time(&mut exec, graph, q)?;
        let mut host = ReadHost { graph };
        let output = exec.run(&mut host, q)?;
        Ok(Outcome {
            output,
            tx,
            written: Vec::new(),
            warnings: unknown_name_warnings(graph, q),
            note: None,
        })
    }

    /// Runs statements as one transaction: all of it is written, or none.
    fn commit_group<L: Log>(
        &mut self,
        db: &mut Database<L>,
        group: Vec<(String, Statement)>,
    ) -> Result<Outcome, QueryError> {
        let budget = self.budget();
        let message = group
            .iter()
            .map(|(src, s)| statement_text(src, s))
            .collect::<Vec<_>>()
            .join("; ");
        let meta = TxMeta {
            author: self.author.clone(),
            message: Some(shorten(&message, 500)),
        };
        let mut last: Option<Outcome> = None;
        let params = &self.params;
        let written = db.write(|w| -> Result<(), QueryError> {
            let mut host = WriteHost {
                writer: w,
                meta: &meta,
                open: false,
            };
            for (source, statement) in &group {
                let outcome = match statement {
                    Statement::Query(q) => {
                        let mut exec = Executor::new(params, &budget, source);
                        if q.at.is_some() {
                            return Err(QueryError::semantic(
                                q.at.as_ref().map_or(q.span, |a| a.span),
                                "AT TX / AT <time> reads the past; a statement that writes \
                                 reads the latest state",
                            ));
                        }
                        let tx = set_time(&mut exec, host.graph(), q)?;
                        let output = exec.run(&mut host, q)?;
                        Outcome {
                            output,
                            tx,
                            warnings: unknown_name_warnings(host.graph(), q),
                            ..Outcome::default()
                        }
                    }
                    Statement::Retract { tx, reason, span } => {
                        host.write(
                            vec![Event::TxRetracted {
                                tx: TxId(tx.node),
                                reason: reason.node.clone(),
                            }],
                            *span,
                        )?;
                        Outcome::default()
                    }
                    Statement::Begin(span)
                    | Statement::Commit(span)
                    | Statement::Rollback(span) => {
                        return Err(QueryError::semantic(*span, "transactions do not nest"));
                    }
                };
                last = Some(outcome);
            }
            if host.open {
                host.writer.end_tx().map_err(|e| write_error(e, None))?;
            }
            Ok(())
        })?;
        let mut outcome = last.unwrap_or_default();
        outcome.tx = db.tx();
        outcome.note = match written.as_slice() {
            [] if !outcome.output.columns.is_empty() => None,
            [] => Some("nothing to write".to_owned()),
            [h] => Some(format!(
                "committed tx {} ({} event{})",
                h.tx,
                h.event_count,
                if h.event_count == 1 { "" } else { "s" }
            )),
            hs => Some(format!("committed {} transactions", hs.len())),
        };
        outcome.written = written;
        Ok(outcome)
    }
}

/// Whether a query has a writing clause.
pub fn writes(q: &Query) -> bool {
    q.clauses.iter().any(|c| {
        matches!(
            c,
            Clause::Create { .. } | Clause::Merge { .. } | Clause::Set { .. } | Clause::End { .. }
        )
    })
}

fn statement_text(source: &str, s: &Statement) -> String {
    let span = match s {
        Statement::Query(q) => q.span,
        Statement::Retract { span, .. }
        | Statement::Begin(span)
        | Statement::Commit(span)
        | Statement::Rollback(span) => *span,
    };
    let text = source.get(span.start..span.end).unwrap_or_default();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max).collect();
    s.push('…');
    s
}

/// Applies the query's time selectors to the executor; returns the transaction read.
fn set_time(exec: &mut Executor<'_>, graph: &Graph, q: &Query) -> Result<TxId, QueryError> {
    let head = graph.tx();
    let tx = match &q.at {
        None => None,
        Some(at) => Some(match &at.node {
            TxTime::Tx(n) => {
                if *n > head.0 {
                    return Err(QueryError::semantic(
                        at.span,
                        format!("AT TX {n}: the knowledge base has {head} transactions"),
                    ));
                }
                TxId(*n)
            }
            TxTime::Timestamp(text) => {
                let ts = parse_instant(text).map_err(|m| QueryError::semantic(at.span, m))?;
                let n = graph
                    .headers()
                    .iter()
                    .take_while(|h| h.recorded_at <= ts)
                    .last()
                    .map_or(TxId(0), |h| h.tx);
                TxId(n.0)
            }
        }),
    };
    exec.at = tx;
    exec.valid = q.valid.as_ref().map(|v| match &v.node {
        ValidSelector::AsOf(d) => DayRange::of(*d),
        ValidSelector::During(t) => t.days(),
    });
    Ok(tx.unwrap_or(head))
}

/// An instant: RFC 3339, or a day (its last nanosecond, UTC).
fn parse_instant(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    let full = if text.len() == 10 {
        format!("{text}T23:59:59.999999999Z")
    } else {
        text.to_owned()
    };
    Timestamp::parse(&full).map_err(|e| format!("AT expects a transaction time: {e}"))
}

fn write_error(e: CommitError, span: Option<Span>) -> QueryError {
    QueryError {
        kind: ErrorKind::Write,
        message: format!("{e}; nothing was written"),
        span,
    }
}

impl From<CommitError> for QueryError {
    fn from(e: CommitError) -> QueryError {
        write_error(e, None)
    }
}

/// Reads only.
struct ReadHost<'g> {
    graph: &'g Graph,
}

impl Host for ReadHost<'_> {
    fn graph(&self) -> &Graph {
        self.graph
    }
    fn writing(&self) -> bool {
        false
    }
    fn write_tx(&self) -> TxId {
        self.graph.tx().next()
    }
    fn write(&mut self, _: Vec<Event>, span: Span) -> Result<(), QueryError> {
        Err(QueryError::semantic(span, "this statement may only read"))
    }
}

/// Writes through the database's one write path, opening the transaction at the first event.
struct WriteHost<'w, 'd, A: Appender> {
    writer: &'w mut Writer<'d, A>,
    meta: &'w TxMeta,
    open: bool,
}

impl<A: Appender> Host for WriteHost<'_, '_, A> {
    fn graph(&self) -> &Graph {
        self.writer.graph()
    }
    fn writing(&self) -> bool {
        true
    }
    fn write_tx(&self) -> TxId {
        let g = self.writer.graph();
        if self.open { g.head } else { g.head.next() }
    }
    fn write(&mut self, events: Vec<Event>, span: Span) -> Result<(), QueryError> {
        if events.is_empty() {
            return Ok(());
        }
        if !self.open {
            self.writer
                .begin_tx(self.meta, None)
                .map_err(|e| write_error(e, Some(span)))?;
            self.open = true;
        }
        for e in events {
            self.writer
                .append(e)
                .map_err(|e| write_error(e, Some(span)))?;
        }
        Ok(())
    }
}
