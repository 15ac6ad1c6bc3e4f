//! Statements against a database: reads on the committed graph, writes as transactions.
//!
//! One statement that writes is one transaction; `BEGIN` … `COMMIT` queues statements and
//! runs them as one transaction at `COMMIT` (a refused one writes nothing of the group).
//! Reads outside a group see the committed state, pinned by `AT TX` / `AT <time>` and
//! restricted by `AS OF` / `DURING`.

use super::ast::{Clause, DiffBetween, History, Query, Span, Statement, Step, Timeline, TxTime};
use super::change;
use super::error::{ErrorKind, QueryError, Warning};
use super::eval::Params;
use super::exec::{Budget, Executor, Host, Output, unknown_name_warnings};
use super::value::Cell;
use crate::db::{Database, Writer};
use crate::error::CommitError;
use crate::event::{Event, TxHeader, TxMeta};
use crate::graph::Graph;
use crate::log::{Appender, Log};
use crate::time::{Date, DayRange, Precision, Timestamp, TxId};

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
    /// For a read: the transaction it read and its text pinned to it (`AT TX n …`); with the
    /// output, what [`Outcome::pin`] cites.
    pub pinned: Option<(TxId, String)>,
    /// Rows are points of a `TIMELINE`, in order (the shell charts numeric columns).
    pub series: bool,
}

/// A citable query: the transaction it read, its text pinned to that transaction, and a
/// hash of its result, so that a result in a paper can be reproduced and checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pin {
    /// The transaction read.
    pub tx: TxId,
    /// The statement, with `AT TX n` where it had no transaction time.
    pub query: String,
    /// SHA-256 of the result's columns and rows as JSON (`format::json`'s `columns` and
    /// `rows`), in hexadecimal.
    pub sha256: String,
}

impl Outcome {
    /// For a read, what to cite to reproduce its result: computed when asked (hashing a
    /// large result costs about as much as the query), not for every read.
    pub fn pin(&self) -> Option<Pin> {
        let (tx, query) = self.pinned.as_ref()?;
        Some(Pin::of(*tx, query.clone(), &self.output))
    }
}

impl Pin {
    /// The pin of a result.
    pub fn of(tx: TxId, query: String, output: &Output) -> Pin {
        use sha2::Digest as _;
        use std::fmt::Write as _;
        let rows: Vec<serde_json::Value> = output
            .rows
            .iter()
            .map(|r| serde_json::Value::Array(r.iter().map(Cell::to_json).collect()))
            .collect();
        let canonical = serde_json::json!({ "columns": output.columns, "rows": rows });
        let digest = sha2::Sha256::digest(canonical.to_string().as_bytes());
        let mut sha256 = String::with_capacity(64);
        for b in digest.iter() {
            let _ = write!(sha256, "{b:02x}");
        }
        Pin { tx, query, sha256 }
    }
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
    /// Told how far a `LOAD CSV` has read (the shell and the commands draw a bar with it).
    pub progress: Option<super::load_csv::ProgressFn>,
    /// The transaction a read sees when it names none (`AT TX`): the latest when `None`.
    /// (A client's `at_tx`; a statement that writes always reads the latest state.)
    pub at: Option<TxId>,
    /// Never read through the read-optimised pieces scans build ([`crate::graph::accel`]):
    /// for comparing answers with and without them.
    pub plain: bool,
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

    /// [`Session::at`], checked against the knowledge base.
    fn default_tx(&self, graph: &Graph) -> Result<Option<TxId>, QueryError> {
        match self.at {
            Some(tx) if tx > graph.tx() => Err(QueryError::new(
                ErrorKind::Semantic,
                format!(
                    "at_tx {tx}: the knowledge base has {} transactions",
                    graph.tx()
                ),
            )),
            other => Ok(other),
        }
    }

    /// Runs a statement that only reads (a query without writing clauses, `HISTORY`,
    /// `TIMELINE`, `DIFF`) on `graph`, which it borrows for no longer than that.
    ///
    /// # Errors
    /// A statement that writes or opens a group is refused; otherwise as for
    /// [`Session::execute`].
    pub fn read_statement(
        &self,
        graph: &Graph,
        source: &str,
        statement: &Statement,
    ) -> Result<Outcome, QueryError> {
        match statement {
            Statement::History(h) => self.history(graph, source, h),
            Statement::Timeline(t) => self.timeline(graph, source, t),
            Statement::Diff { between, span } => self.diff(graph, source, between, *span),
            Statement::Query(q) if !writes(q) => self.read(graph, source, q),
            other => Err(QueryError::semantic(
                statement_span(other),
                "this statement writes or groups writes; it cannot run as a read",
            )),
        }
    }

    /// An executor for one read of this session: its parameters, progress and switches.
    fn executor<'a>(&'a self, budget: &'a Budget, source: &'a str) -> Executor<'a> {
        let mut exec = Executor::new(&self.params, budget, source);
        exec.progress = self.progress.clone();
        exec.plain = self.plain;
        exec
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
            Statement::History(_) | Statement::Timeline(_) | Statement::Diff { .. }
                if self.group.is_some() =>
            {
                Err(QueryError::semantic(
                    statement_span(statement),
                    "HISTORY, TIMELINE and DIFF read the committed record; run them after COMMIT",
                ))
            }
            Statement::History(h) => self.history(db.graph(), source, h),
            Statement::Timeline(t) => self.timeline(db.graph(), source, t),
            Statement::Diff { between, span } => self.diff(db.graph(), source, between, *span),
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
        let mut exec = self.executor(&budget, source);
        let tx = set_time(&mut exec, graph, q, self.default_tx(graph)?)?;
        let mut host = ReadHost { graph };
        let output = exec.run(&mut host, q)?;
        let text = span_text(source, q.span);
        let pinned = if q.at.is_some() {
            text
        } else {
            format!("AT TX {tx} {text}")
        };
        Ok(Outcome {
            pinned: Some((tx, pinned)),
            output,
            tx,
            warnings: unknown_name_warnings(graph, q),
            ..Outcome::default()
        })
    }

    /// `HISTORY`: every fact recorded about each matched element.
    fn history(&self, graph: &Graph, source: &str, h: &History) -> Result<Outcome, QueryError> {
        let budget = self.budget();
        let mut exec = self.executor(&budget, source);
        let tx = match &h.at {
            Some(at) => tx_of(graph, at)?,
            None => self.default_tx(graph)?.unwrap_or(graph.tx()),
        };
        exec.at = Some(tx);
        let mut host = ReadHost { graph };
        let elements = exec.elements(&mut host, &h.patterns, h.filter.as_ref())?;
        // The record as of the transaction read: later facts and retractions are not shown.
        let output = change::history(graph, &elements, tx);
        let text = span_text(source, h.span);
        let pinned = match &h.at {
            Some(_) => text,
            None => text.replacen("HISTORY", &format!("HISTORY AT TX {tx}"), 1),
        };
        let probe = Query {
            at: None,
            valid: None,
            clauses: vec![Clause::Match {
                optional: false,
                patterns: h.patterns.clone(),
                filter: h.filter.clone(),
                span: h.span,
            }],
            span: h.span,
        };
        Ok(Outcome {
            pinned: Some((tx, pinned)),
            output,
            tx,
            warnings: unknown_name_warnings(graph, &probe),
            ..Outcome::default()
        })
    }

    /// `TIMELINE`: the query as of each point, one row per point (or per point and row).
    fn timeline(&self, graph: &Graph, source: &str, t: &Timeline) -> Result<Outcome, QueryError> {
        let q = &t.query;
        if writes(q) {
            return Err(QueryError::semantic(
                q.span,
                "TIMELINE runs a query that only reads",
            ));
        }
        if let Some(v) = &q.valid {
            return Err(QueryError::semantic(
                v.span,
                "TIMELINE sets the valid time of each point; drop AS OF / DURING here",
            ));
        }
        let points = timeline_points(t)?;
        let budget = self.budget();
        let mut tx = graph.tx();
        let mut per_point: Vec<(Date, Output)> = Vec::with_capacity(points.len());
        for point in points {
            let mut exec = self.executor(&budget, source);
            tx = set_time(&mut exec, graph, q, self.default_tx(graph)?)?;
            exec.valid = Some(DayRange::of(point));
            let mut host = ReadHost { graph };
            per_point.push((point, exec.run(&mut host, q)?));
        }
        let output = match &t.by {
            None => {
                let mut columns = vec!["point".to_owned()];
                if let Some((_, first)) = per_point.first() {
                    columns.extend(first.columns.iter().cloned());
                }
                let mut rows = Vec::new();
                for (point, out) in per_point {
                    // A point where the query finds nothing still has its row.
                    if out.rows.is_empty() {
                        let mut r = vec![Cell::Date(point)];
                        r.resize(columns.len(), Cell::Null);
                        rows.push(r);
                    }
                    for row in out.rows {
                        let mut r = vec![Cell::Date(point)];
                        r.extend(row);
                        rows.push(r);
                    }
                }
                Output { columns, rows }
            }
            Some(by) => pivot(per_point, by, &counted_columns(q))?,
        };
        let text = span_text(source, t.span);
        let pinned = if q.at.is_some() {
            text
        } else {
            let inner = span_text(source, q.span);
            let head = span_text(source, Span::new(t.span.start, q.span.start));
            format!("{head} AT TX {tx} {inner}")
        };
        Ok(Outcome {
            pinned: Some((tx, pinned)),
            output,
            tx,
            warnings: unknown_name_warnings(graph, q),
            series: true,
            ..Outcome::default()
        })
    }

    /// `DIFF AS OF a, b` or `DIFF AT TX a, TX b`.
    fn diff(
        &self,
        graph: &Graph,
        source: &str,
        between: &DiffBetween,
        span: Span,
    ) -> Result<Outcome, QueryError> {
        let head = graph.tx();
        let text = span_text(source, span);
        let (output, tx, pinned) = match between {
            DiffBetween::Valid(a, b, at) => {
                let tx = match at {
                    Some(at) => tx_of(graph, at)?,
                    None => self.default_tx(graph)?.unwrap_or(head),
                };
                let pinned = match at {
                    Some(_) => text,
                    None => format!("{text} AT TX {tx}"),
                };
                (change::diff_valid(graph, tx, a.node, b.node), tx, pinned)
            }
            DiffBetween::Tx(a, b) => {
                for n in [a, b] {
                    if n.node > head.0 {
                        return Err(QueryError::semantic(
                            n.span,
                            format!("TX {}: the knowledge base has {head} transactions", n.node),
                        ));
                    }
                }
                if a.node > b.node {
                    return Err(QueryError::semantic(
                        a.span.to(b.span),
                        "DIFF AT TX a, TX b lists what transactions a+1 to b changed: give the \
                         earlier one first",
                    ));
                }
                let out = change::diff_tx(graph, TxId(a.node), TxId(b.node));
                (out, TxId(b.node), text)
            }
        };
        Ok(Outcome {
            pinned: Some((tx, pinned)),
            output,
            tx,
            ..Outcome::default()
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
        let progress = self.progress.clone();
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
                        exec.progress = progress.clone();
                        if q.at.is_some() {
                            return Err(QueryError::semantic(
                                q.at.as_ref().map_or(q.span, |a| a.span),
                                "AT TX / AT <time> reads the past; a statement that writes \
                                 reads the latest state",
                            ));
                        }
                        let tx = set_time(&mut exec, host.graph(), q, None)?;
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
                    // `execute` runs these directly, never in a group.
                    other @ (Statement::History(_)
                    | Statement::Timeline(_)
                    | Statement::Diff { .. }) => {
                        return Err(QueryError::semantic(
                            statement_span(other),
                            "HISTORY, TIMELINE and DIFF only read",
                        ));
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

/// Whether a statement only reads: a query without writing clauses, `HISTORY`, `TIMELINE`
/// or `DIFF` (what [`Session::read_statement`] runs).
pub fn only_reads(statement: &Statement) -> bool {
    match statement {
        Statement::Query(q) => !writes(q),
        Statement::History(_) | Statement::Timeline(_) | Statement::Diff { .. } => true,
        _ => false,
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

fn statement_span(s: &Statement) -> Span {
    match s {
        Statement::Query(q) => q.span,
        Statement::History(h) => h.span,
        Statement::Timeline(t) => t.span,
        Statement::Retract { span, .. }
        | Statement::Diff { span, .. }
        | Statement::Begin(span)
        | Statement::Commit(span)
        | Statement::Rollback(span) => *span,
    }
}

fn statement_text(source: &str, s: &Statement) -> String {
    span_text(source, statement_span(s))
}

/// The text of a span, its whitespace runs (newlines included) made single spaces.
fn span_text(source: &str, span: Span) -> String {
    let text = source.get(span.start..span.end).unwrap_or_default();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The points of a timeline: from `from`, by its step, while they start on or before `to`
/// ends. Points keep the precision of `from`.
fn timeline_points(t: &Timeline) -> Result<Vec<Date>, QueryError> {
    const MAX_POINTS: usize = 10_000;
    let step = t.step.as_ref().map_or(Step::Years(1), |s| s.node);
    let months = match step {
        Step::Years(n) => i64::from(n) * 12,
        Step::Months(n) => i64::from(n),
    };
    let from = t.from.node;
    let (y, m, d) = match from.precision() {
        Precision::Year(y) => (y, None, None),
        Precision::Month(y, m) => (y, Some(m), None),
        Precision::Day(y, m, d) => (y, Some(m), Some(d)),
        _ => {
            return Err(QueryError::semantic(
                t.from.span,
                "a TIMELINE point is a year, a month or a day (1990, 1990-06, 1990-06-30)",
            ));
        }
    };
    if m.is_none() && months % 12 != 0 {
        let span = t.step.as_ref().map_or(t.from.span, |s| s.span);
        return Err(QueryError::semantic(
            span,
            "a step in months needs points with a month, such as 2000-01 .. 2004-12",
        ));
    }
    if t.to.node.last_day() < from.first_day() {
        return Err(QueryError::semantic(
            t.from.span.to(t.to.span),
            "the first point of a TIMELINE comes after its last",
        ));
    }
    let mut points = Vec::new();
    let start = i64::from(y) * 12 + i64::from(m.unwrap_or(1)) - 1;
    for k in 0.. {
        let at = start + k * months;
        let (year, month) = (at.div_euclid(12), at.rem_euclid(12) + 1);
        let Ok(year) = i32::try_from(year) else { break };
        let month = month as u32; // 1..=12
        let date = match (m, d) {
            (None, _) => Date::from_year(year),
            (Some(_), None) => Date::from_precision(Precision::Month(year, month)),
            // A day past the month's end (the 31st in a step to April) is its last day.
            (Some(_), Some(day)) => (28..=day)
                .rev()
                .find_map(|dd| Date::from_ymd(year, month, dd))
                .or_else(|| Date::from_ymd(year, month, day)),
        };
        let Some(date) = date else { break };
        if date.first_day() > t.to.node.last_day() {
            break;
        }
        if points.len() == MAX_POINTS {
            return Err(QueryError::semantic(
                t.span,
                format!("a TIMELINE has at most {MAX_POINTS} points; use a larger STEP"),
            ));
        }
        points.push(date);
    }
    Ok(points)
}

/// `BY column`: each point's rows become one row, the named column's values naming the
/// other columns (`value` when one other column, `value.column` when several). Values are
/// ordered by first appearance; a value missing at a point is null.
/// The columns of a query's `RETURN` that are counts (`count(…)`, `count(*)`): where a
/// `TIMELINE … BY` has no row for a value at a point, such a column is 0, not null.
fn counted_columns(q: &Query) -> Vec<String> {
    use super::ast::ExprKind;
    let Some(Clause::Return(p)) = q.clauses.last() else {
        return Vec::new();
    };
    p.items
        .iter()
        .filter(|item| match &item.expr.kind {
            ExprKind::CountStar => true,
            ExprKind::Call { name, .. } => name.node.eq_ignore_ascii_case("count"),
            _ => false,
        })
        .map(|item| {
            item.alias
                .as_ref()
                .map_or(item.text.clone(), |a| a.node.clone())
        })
        .collect()
}

fn pivot(
    per_point: Vec<(Date, Output)>,
    by: &super::ast::Ident,
    counted: &[String],
) -> Result<Output, QueryError> {
    let columns = per_point
        .first()
        .map(|(_, o)| o.columns.clone())
        .unwrap_or_default();
    let Some(key_at) = columns.iter().position(|c| *c == by.node) else {
        return Err(QueryError::semantic(
            by.span,
            format!(
                "BY {}: the query returns no such column (it returns {})",
                by.node,
                columns.join(", ")
            ),
        ));
    };
    let values: Vec<&String> = columns
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != key_at)
        .map(|(_, c)| c)
        .collect();
    let mut keys: Vec<String> = Vec::new();
    for (_, out) in &per_point {
        for row in &out.rows {
            let k = key_text(row.get(key_at));
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    let mut out_columns = vec!["point".to_owned()];
    for k in &keys {
        for v in &values {
            out_columns.push(if values.len() == 1 {
                k.clone()
            } else {
                format!("{k}.{v}")
            });
        }
    }
    let width = keys.len() * values.len();
    // A count with no row at a point counted nothing.
    let empty: Vec<Cell> = (0..width)
        .map(|i| {
            if counted.contains(values[i % values.len()]) {
                Cell::Int(0)
            } else {
                Cell::Null
            }
        })
        .collect();
    let mut rows = Vec::with_capacity(per_point.len());
    for (point, out) in per_point {
        let mut row = empty.clone();
        for r in out.rows {
            let k = key_text(r.get(key_at));
            let Some(ki) = keys.iter().position(|x| *x == k) else {
                continue;
            };
            let cells = r.into_iter().enumerate().filter(|(i, _)| *i != key_at);
            for (vi, (_, cell)) in cells.enumerate() {
                if let Some(slot) = row.get_mut(ki * values.len() + vi) {
                    *slot = cell;
                }
            }
        }
        let mut full = vec![Cell::Date(point)];
        full.extend(row);
        rows.push(full);
    }
    Ok(Output {
        columns: out_columns,
        rows,
    })
}

fn key_text(cell: Option<&Cell>) -> String {
    match cell {
        Some(Cell::Str(s)) => s.to_string(),
        Some(Cell::Null) | None => "null".to_owned(),
        Some(other) => other.to_string(),
    }
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
fn set_time(
    exec: &mut Executor<'_>,
    graph: &Graph,
    q: &Query,
    default: Option<TxId>,
) -> Result<TxId, QueryError> {
    let head = graph.tx();
    let tx = match &q.at {
        None => default,
        Some(at) => Some(tx_of(graph, at)?),
    };
    exec.at = tx;
    exec.valid = q.valid.as_ref().map(|v| v.node.days());
    Ok(tx.unwrap_or(head))
}

/// The transaction an `AT` selector names.
fn tx_of(graph: &Graph, at: &super::ast::Spanned<TxTime>) -> Result<TxId, QueryError> {
    let head = graph.tx();
    Ok(match &at.node {
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
    })
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
    let cause = match e {
        CommitError::Refused(_) => super::error::Cause::Refused,
        _ => super::error::Cause::Storage,
    };
    QueryError {
        kind: ErrorKind::Write,
        message: format!("{e}; nothing was written"),
        span,
        cause,
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
