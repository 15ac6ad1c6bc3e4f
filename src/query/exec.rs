//! Evaluation of a query's clauses, on a view of the graph: each clause turns a table of
//! rows into the next.
//!
//! Planning happens per clause, just before it runs, when it is known which variables are
//! bound: a path pattern starts from its cheaper end — a bound variable, then an id
//! (`{id: …}`), then the (label, property) index for an inline property or an equality in
//! `WHERE`, then a label, then every node — and walks edges from there.
//!
//! Reads never do I/O; writing clauses hand their events to a [`Host`], which validates and
//! appends them (see `session.rs`), and later clauses read what was written.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use petgraph::Direction as Dir;
use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef as _;
use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;

use super::ast::{
    BinaryOp, Clause, Direction, Expr, ExprKind, Ident, NodePattern, PathKind, PathPattern,
    Projection, Query, RelPattern, SetItem, SortItem, Span, WriteMeta,
};
use super::change::Element;
use super::compiled::Compiled;
use super::error::{Cause, ErrorKind, QueryError};
use super::eval::{Env, Memo, Params, contains_aggregate, is_aggregate, walk};
use super::filter::{Doubt, Staged, Verdict};
use super::value::{Cell, PathVal, Val};
use crate::event::{Event, Name, Names, Props, Target};
use crate::graph::accel::{Adjacency, Column, Pieces, Wanted};
use crate::graph::{Graph, Sym, View};
use crate::time::{Date, DayRange, TxId, ValidTime};

/// Limits every query runs under.
#[derive(Clone, Debug)]
pub struct Budget {
    /// When to give up.
    pub deadline: Option<Instant>,
    /// The time allowed, for the message.
    pub timeout: Option<Duration>,
    /// The most rows a result (or an intermediate table) may have.
    pub max_rows: usize,
    /// Set from elsewhere (Ctrl-C, a closed connection) to stop the query.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::new(Some(Duration::from_secs(60)), 1_000_000)
    }
}

impl Budget {
    /// A budget of `timeout` from now and `max_rows` rows.
    pub fn new(timeout: Option<Duration>, max_rows: usize) -> Budget {
        Budget {
            deadline: timeout.map(|t| Instant::now() + t),
            timeout,
            max_rows,
            cancel: None,
        }
    }

    /// Fails when the time is up or the query was cancelled.
    ///
    /// # Errors
    /// `ErrorKind::Budget`, naming which limit.
    pub fn check(&self) -> Result<(), QueryError> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(
                QueryError::new(ErrorKind::Budget, "the query was cancelled")
                    .because(Cause::Cancelled),
            );
        }
        if let Some(deadline) = self.deadline
            && Instant::now() > deadline
        {
            let limit = self.timeout.map_or(String::new(), |t| format!(" of {t:?}"));
            return Err(QueryError::new(
                ErrorKind::Budget,
                format!(
                    "the query ran out of its time budget{limit}; narrow it (a label, an \
                     inline property, a LIMIT) or raise the limit"
                ),
            )
            .because(Cause::TimeLimit));
        }
        Ok(())
    }

    pub(crate) fn rows(&self, n: usize) -> Result<(), QueryError> {
        if n > self.max_rows {
            return Err(QueryError::new(
                ErrorKind::Budget,
                format!(
                    "the query produced more than {} rows; add a LIMIT or narrow the pattern",
                    self.max_rows
                ),
            )
            .because(Cause::RowLimit));
        }
        Ok(())
    }
}

/// Where a query reads and writes: the graph, and the write path when it may write.
pub trait Host {
    /// The graph, with this statement's writes so far applied.
    fn graph(&self) -> &Graph;
    /// Whether writes are allowed (reads then see pending writes).
    fn writing(&self) -> bool;
    /// The transaction the writes go into, for generated ids.
    fn write_tx(&self) -> TxId;
    /// Validates, appends and applies events.
    ///
    /// # Errors
    /// When writing is not allowed, or validation or the log refuses an event.
    fn write(&mut self, events: Vec<Event>, span: Span) -> Result<(), QueryError>;
}

/// The result of one query.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<Cell>>,
}

/// Runs one query's clauses.
pub struct Executor<'q> {
    /// Parameters.
    pub params: &'q Params,
    /// Limits.
    pub budget: &'q Budget,
    /// `AT TX`: the transaction read; none for the latest.
    pub at: Option<TxId>,
    /// `AS OF` / `DURING`: the valid-time range read.
    pub valid: Option<DayRange>,
    /// The source text the spans point into (for column names of `ORDER BY` keys).
    pub source: &'q str,
    /// Told how far a `LOAD CSV` has read: bytes so far, and the file's size.
    pub progress: Option<super::load_csv::ProgressFn>,
    /// Never read through read-optimised pieces ([`crate::graph::accel`]).
    pub plain: bool,
    ticks: u32,
    generated: u64,
    memo: Memo,
    /// The statement only reads: its scans may build read-optimised pieces.
    reading: bool,
    /// Property keys the statement names, for the pieces a scan builds.
    keys: Vec<String>,
    /// Pieces built by a scan of this statement, read through by the views after it.
    pieces: Option<Arc<Pieces>>,
    /// The statement asks for valid times (`valid_from(x)`, `valid_to(x)`, `valid(x)`).
    asks_valid: bool,
}

type Row = Vec<Val>;

/// A partial match: the row, and the edges used so far (an edge appears once per match).
type Partial = (Row, Vec<EdgeIndex>);

impl<'q> Executor<'q> {
    /// An executor for one query.
    pub fn new(params: &'q Params, budget: &'q Budget, source: &'q str) -> Executor<'q> {
        Executor {
            params,
            budget,
            at: None,
            valid: None,
            source,
            progress: None,
            plain: false,
            ticks: 0,
            generated: 0,
            memo: Memo::default(),
            reading: false,
            keys: Vec::new(),
            pieces: None,
            asks_valid: false,
        }
    }

    fn tick(&mut self) -> Result<(), QueryError> {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks.is_multiple_of(1024) {
            self.budget.check()?;
        }
        Ok(())
    }

    fn view<'g>(&self, graph: &'g Graph, writing: bool) -> View<'g> {
        let view = match (self.at, writing) {
            (Some(tx), _) => graph.view_at(tx),
            (None, true) => graph.view_pending(),
            (None, false) => graph.view(),
        };
        match self.valid {
            Some(range) => view.during(range),
            None => view.with_pieces(self.pieces.clone()),
        }
    }

    /// Before a scan of a large part of the graph, in a statement that only reads: the
    /// pieces its patterns and property keys need ([`crate::graph::accel`]), built now if
    /// the graph changed since they last were. Returns the view to match with.
    fn prepare_scan<'g>(
        &mut self,
        view: &View<'g>,
        plans: &[PathPlan<'_>],
        rows: usize,
    ) -> Option<View<'g>> {
        if self.plain || !self.reading || !view.shows_everything() {
            return None;
        }
        let graph = view.graph();
        let bound = graph.node_bound();
        // Worth building for (the pieces cost about one lookup per node): a scan of a
        // sixteenth of the nodes or more, or walks expected to visit as many.
        let large = |a: &Anchor| match a {
            Anchor::All => true,
            Anchor::Label(l) => graph.label_count(l) * 16 >= bound,
            _ => false,
        };
        // A walk's steps: from each node, about |edges of the type| / |nodes of its label|
        // relationships (from a Stage, a sixth of all IN_STAGE ones); the walks visit
        // about the product of the steps' fan-outs, from each row.
        let fan_out = |p: &PathPlan<'_>| -> usize {
            p.rels
                .iter()
                .zip(&p.nodes)
                .map(|((rp, _), np)| {
                    let edges: usize = rp.types.iter().map(|t| graph.type_count(&t.node)).sum();
                    let edges = if rp.types.is_empty() {
                        graph.edge_count()
                    } else {
                        edges
                    };
                    let from = np
                        .labels
                        .first()
                        .map_or(bound, |l| graph.label_count(&l.node));
                    (edges / from.max(1)).max(1)
                })
                .fold(1usize, usize::saturating_mul)
        };
        // Rows in the hundreds, each walking from a node bound before (whose label the
        // estimate does not know), also make it worth it.
        let walks = plans.iter().any(|p| {
            !p.rels.is_empty() && rows.saturating_mul(fan_out(p)).saturating_mul(16) >= bound
        }) || (rows >= 256 && plans.iter().any(|p| !p.rels.is_empty()));
        if !walks && !plans.iter().any(|p| large(&p.anchor)) {
            return None;
        }
        let mut wanted = Wanted::default();
        for plan in plans {
            for (rp, d) in &plan.rels {
                let [t] = rp.types.as_slice() else { continue };
                let Some(t) = graph.symbol(&t.node) else {
                    continue;
                };
                if matches!(d, Direction::Right | Direction::Both) {
                    wanted.adjacency.push((t, Dir::Outgoing));
                }
                if matches!(d, Direction::Left | Direction::Both) {
                    wanted.adjacency.push((t, Dir::Incoming));
                }
            }
        }
        wanted.keys = self.keys.iter().filter_map(|k| graph.symbol(k)).collect();
        wanted.ids = self.keys.iter().any(|k| k == "id");
        wanted.edge_valid = self.asks_valid;
        self.pieces = graph.prepare(&wanted);
        Some(view.clone().with_pieces(self.pieces.clone()))
    }

    /// Runs the clauses of `query` (its time selectors already set on `self`).
    ///
    /// # Errors
    /// The first error of any clause; writes already handed to the host are then the
    /// host's to roll back.
    pub fn run(&mut self, host: &mut dyn Host, query: &Query) -> Result<Output, QueryError> {
        self.reading = !host.writing();
        let exprs = read_exprs(query);
        self.keys = property_keys(&exprs, query);
        self.asks_valid = exprs.iter().any(|e| {
            let mut found = false;
            walk(e, &mut |x| {
                if let ExprKind::Call { name, args, .. } = &x.kind {
                    found |= args.len() == 1
                        && ["valid_from", "valid_to", "valid"]
                            .iter()
                            .any(|f| name.node.eq_ignore_ascii_case(f));
                }
            });
            found
        });
        self.memo = Memo::for_query(&exprs).read_only(self.reading);
        self.run_clauses(host, &query.clauses, Vec::new(), vec![Vec::new()])
    }

    /// Runs `clauses` on the rows so far.
    fn run_clauses(
        &mut self,
        host: &mut dyn Host,
        clauses: &[Clause],
        mut names: Vec<String>,
        mut rows: Vec<Row>,
    ) -> Result<Output, QueryError> {
        // Groups a `MATCH` formed for the projection right after it.
        let mut grouped: Option<Grouper> = None;
        for (k, clause) in clauses.iter().enumerate() {
            self.budget.check()?;
            match clause {
                Clause::LoadCsv {
                    headers,
                    path,
                    alias,
                    terminator,
                    span,
                } => {
                    let graph = host.graph();
                    let view = self.view(graph, host.writing());
                    let file = self.csv_path(&view, &names, &rows, path)?;
                    let csv = super::load_csv::CsvSource {
                        path: file,
                        headers: *headers,
                        delimiter: terminator.as_ref().map_or(b',', |t| t.node.as_bytes()[0]),
                        span: *span,
                    };
                    let rest = &clauses[k + 1..];
                    // A projection after the load (RETURN, WITH) may aggregate over every
                    // record: the rows are kept. Otherwise each record goes through the rest
                    // alone, so a million of them load in one pass, and an error names its
                    // record.
                    let keep = rest.iter().any(|c| match c {
                        Clause::Return(_) => true,
                        Clause::With(p) => {
                            p.distinct
                                || !p.order.is_empty()
                                || p.skip.is_some()
                                || p.limit.is_some()
                                || p.items.iter().any(|i| contains_aggregate(&i.expr))
                        }
                        _ => false,
                    });
                    let progress = self.progress.clone().map(|p| p.0);
                    if keep {
                        let mut out = Vec::new();
                        for row in rows {
                            csv.for_each(self.budget, progress.as_deref(), |record, _| {
                                let mut r = row.clone();
                                r.push(record);
                                out.push(r);
                                self.budget.rows(out.len())
                            })?;
                        }
                        names.push(alias.node.clone());
                        rows = out;
                        continue;
                    }
                    let mut inner = names.clone();
                    inner.push(alias.node.clone());
                    for row in rows {
                        let budget = self.budget;
                        csv.for_each(budget, progress.as_deref(), |record, at| {
                            let mut r = row.clone();
                            r.push(record.clone());
                            self.run_clauses(host, rest, inner.clone(), vec![r])
                                .map(|_| ())
                                .map_err(|e| at.locate(e, &record))
                        })?;
                    }
                    return Ok(Output::default());
                }
                Clause::Match {
                    optional,
                    patterns,
                    filter,
                    ..
                } => {
                    let graph = host.graph();
                    let view = self.view(graph, host.writing());
                    let mut sink = match clauses.get(k + 1) {
                        Some(Clause::Return(p) | Clause::With(p)) if groups_as_it_goes(p) => {
                            Some(Grouper::new(&projection_items(p), p)?)
                        }
                        _ => None,
                    };
                    rows = self.match_clause(
                        &view,
                        &mut names,
                        rows,
                        *optional,
                        patterns,
                        filter.as_ref(),
                        sink.as_mut(),
                    )?;
                    grouped = sink;
                }
                Clause::Unwind { expr, alias, .. } => {
                    let graph = host.graph();
                    let view = self.view(graph, host.writing());
                    let mut out = Vec::new();
                    for row in rows {
                        self.tick()?;
                        let env = self.env(&view, &names, &row);
                        let items = match env.eval(expr)? {
                            Val::Null => Vec::new(),
                            Val::List(items) => items.to_vec(),
                            other => vec![other],
                        };
                        for item in items {
                            // A long list is checked as it unwinds: Ctrl-C and the row
                            // limit stop it in the middle, not after.
                            self.tick()?;
                            let mut r = row.clone();
                            r.push(item);
                            out.push(r);
                            if out.len() > self.budget.max_rows {
                                self.budget.rows(out.len())?;
                            }
                        }
                    }
                    names.push(alias.node.clone());
                    rows = out;
                }
                Clause::With(p) => {
                    let graph = host.graph();
                    let view = self.view(graph, host.writing());
                    let (n, r) = self.project(&view, &names, rows, p, grouped.take())?;
                    names = n;
                    rows = r;
                }
                Clause::Return(p) => {
                    let graph = host.graph();
                    let view = self.view(graph, host.writing());
                    let (columns, rows) = self.project(&view, &names, rows, p, grouped.take())?;
                    let rows = rows
                        .into_iter()
                        .map(|r| r.iter().map(|v| Cell::of(v, &view)).collect())
                        .collect();
                    return Ok(Output { columns, rows });
                }
                Clause::Create { patterns, meta, .. } => {
                    rows = self.create(host, &mut names, rows, patterns, meta)?;
                }
                Clause::Merge { pattern, meta, .. } => {
                    rows = self.merge(host, &mut names, rows, pattern, meta)?;
                }
                Clause::Set { items, meta, span } => {
                    self.set(host, &names, &rows, items, meta, *span)?;
                }
                Clause::End {
                    targets,
                    date,
                    meta,
                    span,
                } => {
                    self.end(host, &names, &rows, targets, date.node, meta, *span)?;
                }
                Clause::Call {
                    name,
                    args,
                    yields,
                    filter,
                    span,
                } => {
                    let graph = host.graph();
                    let view = self.view(graph, host.writing());
                    rows = self.call(
                        &view,
                        &mut names,
                        rows,
                        (name, args, yields),
                        filter.as_ref(),
                        *span,
                    )?;
                }
            }
        }
        Ok(Output::default())
    }

    /// The nodes and edges a `HISTORY` pattern matches, in order of first match: those bound
    /// to the variables the patterns name, or every element when they name none.
    ///
    /// # Errors
    /// As for `MATCH`.
    pub fn elements(
        &mut self,
        host: &mut dyn Host,
        patterns: &[PathPattern],
        filter: Option<&Expr>,
    ) -> Result<Vec<Element>, QueryError> {
        let named = patterns.iter().any(|p| !pattern_vars(p).is_empty());
        let patterns: Vec<PathPattern> = if named {
            patterns.to_vec()
        } else {
            patterns.iter().map(name_every_element).collect()
        };
        let graph = host.graph();
        let view = self.view(graph, false);
        let mut names = Vec::new();
        let rows = self.match_clause(
            &view,
            &mut names,
            vec![Vec::new()],
            false,
            &patterns,
            filter,
            None,
        )?;
        let mut out = Vec::new();
        for row in &rows {
            for v in row {
                collect_elements(v, &mut out);
            }
        }
        Ok(super::change::distinct(out))
    }

    fn env<'a>(&'a self, view: &'a View<'a>, names: &'a [String], row: &'a [Val]) -> Env<'a> {
        Env {
            view,
            params: self.params,
            names,
            row,
            aggregates: &[],
            memo: &self.memo,
        }
    }

    /// The valid time and sources a write gives one row: the literals of its `VALID` and
    /// `SOURCE`, or its expressions evaluated on the row.
    fn meta_for_row(
        &self,
        view: &View<'_>,
        names: &[String],
        row: &[Val],
        meta: &WriteMeta,
    ) -> Result<(ValidTime, Names), QueryError> {
        let mut sources: Names = meta.sources.iter().map(|s| Name::new(&s.node)).collect();
        if meta.valid_exprs.is_none() && meta.source_exprs.is_empty() {
            let valid = meta.valid.as_ref().map_or(ValidTime::ALWAYS, |v| v.node);
            return Ok((valid, sources));
        }
        let env = self.env(view, names, row);
        for e in &meta.source_exprs {
            match env.eval(e)? {
                Val::Null => {}
                Val::Str(k) => sources.push(k),
                Val::List(items) => {
                    for item in items.iter() {
                        match item {
                            Val::Str(k) => sources.push(k.clone()),
                            Val::Null => {}
                            other => {
                                return Err(QueryError::runtime(
                                    e.span,
                                    format!(
                                        "SOURCE expects citation keys (strings), found a {}",
                                        other.type_name()
                                    ),
                                ));
                            }
                        }
                    }
                }
                other => {
                    return Err(QueryError::runtime(
                        e.span,
                        format!(
                            "SOURCE expects a citation key (a string), found a {}",
                            other.type_name()
                        ),
                    ));
                }
            }
        }
        let valid = match &meta.valid_exprs {
            None => meta.valid.as_ref().map_or(ValidTime::ALWAYS, |v| v.node),
            Some(v) => {
                let (from, to) = &v.node;
                let bound = |e: &Expr,
                             empty: crate::time::Bound|
                 -> Result<crate::time::Bound, QueryError> {
                    use crate::time::Bound;
                    match env.eval(e)? {
                        Val::Null => Ok(empty),
                        Val::Date(d) => Ok(Bound::Date(d)),
                        Val::Str(text) => Date::parse(text.as_str())
                            .map(Bound::Date)
                            .map_err(|err| QueryError::runtime(e.span, format!("VALID: {err}"))),
                        Val::Int(y) => Date::parse(&y.to_string())
                            .map(Bound::Date)
                            .map_err(|err| QueryError::runtime(e.span, format!("VALID: {err}"))),
                        other => Err(QueryError::runtime(
                            e.span,
                            format!("VALID expects a date, found a {}", other.type_name()),
                        )),
                    }
                };
                // A missing start is not known; a missing end is open (it still holds).
                let start = bound(from, crate::time::Bound::Unknown)?;
                let end = match to {
                    Some(t) => bound(t, crate::time::Bound::Open)?,
                    None => crate::time::Bound::Open,
                };
                ValidTime::new(start, end)
                    .map_err(|err| QueryError::runtime(v.span, err.to_string()))?
            }
        };
        Ok((valid, sources))
    }

    /// The file a `LOAD CSV` reads: a string (a path or a `file://` URL), evaluated on the
    /// first row so far (a parameter, usually).
    fn csv_path(
        &self,
        view: &View<'_>,
        names: &[String],
        rows: &[Row],
        path: &Expr,
    ) -> Result<std::path::PathBuf, QueryError> {
        let empty = Vec::new();
        let row = rows.first().unwrap_or(&empty);
        match self.env(view, names, row).eval(path)? {
            Val::Str(s) => {
                let text = s.as_str();
                let text = text.strip_prefix("file://").unwrap_or(text);
                Ok(std::path::PathBuf::from(text))
            }
            other => Err(QueryError::runtime(
                path.span,
                format!(
                    "LOAD CSV FROM expects a file name, found {}",
                    other.type_name()
                ),
            )),
        }
    }

    // ----- CALL --------------------------------------------------------------------------

    /// `CALL algo(options) YIELD …`: for each row so far, one row per node the algorithm
    /// yields (on this query's view), with the columns taken, filtered by `WHERE`.
    fn call(
        &mut self,
        view: &View<'_>,
        names: &mut Vec<String>,
        rows: Vec<Row>,
        (name, args, yields): (&Ident, &[Expr], &[(Ident, Ident)]),
        filter: Option<&Expr>,
        span: Span,
    ) -> Result<Vec<Row>, QueryError> {
        let Some(columns) = super::algo::columns(&name.node.to_ascii_lowercase()) else {
            return Err(QueryError::semantic(
                name.span,
                super::algo::Call::new(&name.node, None)
                    .err()
                    .unwrap_or_default(),
            ));
        };
        if args.len() > 1 {
            return Err(QueryError::semantic(
                args[1].span,
                format!(
                    "{}() takes one argument, a map of options such as {{directed: true}}",
                    name.node
                ),
            ));
        }
        // Which of the algorithm's columns to take, and the variable each binds.
        let taken: Vec<(usize, &str)> = if yields.is_empty() {
            columns.iter().copied().enumerate().collect()
        } else {
            let mut taken = Vec::new();
            for (column, alias) in yields {
                let Some(k) = columns.iter().position(|c| *c == column.node) else {
                    return Err(QueryError::semantic(
                        column.span,
                        format!(
                            "{}() yields no column `{}` (it yields {})",
                            name.node,
                            column.node,
                            columns.join(", ")
                        ),
                    ));
                };
                taken.push((k, alias.node.as_str()));
            }
            taken
        };
        for (_, var) in &taken {
            if names.iter().any(|n| n == var) {
                return Err(QueryError::semantic(
                    span,
                    format!("`{var}` is already bound; yield it AS another name"),
                ));
            }
        }
        let before = names.len();
        names.extend(taken.iter().map(|(_, v)| (*v).to_owned()));
        // Rows that give the same options share one run of the algorithm.
        let mut runs: Vec<(String, super::algo::Scores)> = Vec::new();
        let mut out = Vec::new();
        for row in rows {
            self.tick()?;
            let env = self.env(view, &names[..before], &row);
            let options = args.first().map(|a| env.eval(a)).transpose()?;
            let key = format!("{options:?}");
            let k = match runs.iter().position(|(k, _)| *k == key) {
                Some(k) => k,
                None => {
                    let call =
                        super::algo::Call::new(&name.node, options.as_ref()).map_err(|m| {
                            QueryError::runtime(args.first().map_or(name.span, |a| a.span), m)
                        })?;
                    runs.push((key, call.run(view, self.budget)?));
                    runs.len() - 1
                }
            };
            for (node, values) in &runs[k].1 {
                let mut r = row.clone();
                for &(c, _) in &taken {
                    r.push(if c == 0 {
                        Val::Node(*node)
                    } else {
                        values.get(c - 1).cloned().unwrap_or(Val::Null)
                    });
                }
                let keep = match filter {
                    Some(f) => self.env(view, names, &r).eval(f)?.is_true(),
                    None => true,
                };
                if keep {
                    out.push(r);
                }
            }
            self.budget.rows(out.len())?;
        }
        Ok(out)
    }

    // ----- MATCH -------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn match_clause(
        &mut self,
        view: &View<'_>,
        names: &mut Vec<String>,
        rows: Vec<Row>,
        optional: bool,
        patterns: &[PathPattern],
        filter: Option<&Expr>,
        mut sink: Option<&mut Grouper>,
    ) -> Result<Vec<Row>, QueryError> {
        let before = declare(names, patterns);
        let width = names.len();
        let equalities = filter.map(equalities).unwrap_or_default();
        let mut bound: FxHashSet<String> = names[..before].iter().cloned().collect();
        let mut plans = Vec::new();
        // What is bound before the last pattern's walk starts (its filter's first checkpoint).
        let mut before_last = FxHashSet::default();
        for (i, p) in patterns.iter().enumerate() {
            if i + 1 == patterns.len() {
                before_last = bound.clone();
            }
            plans.push(PathPlan::new(p, names, &mut bound, &equalities)?);
        }
        let prepared = self.prepare_scan(view, &plans, rows.len());
        let view = prepared.as_ref().unwrap_or(view);
        let filter = match plans.last() {
            Some(last) => staged_filter(
                filter,
                &self.env(view, names, &[]),
                &plans,
                last,
                before_last,
            ),
            None => Staged::none(),
        };
        let filter = &filter;
        let syms: Vec<Symbols> = plans.iter().map(|p| Symbols::of(p, view.graph())).collect();
        let mut out = Vec::new();
        for row in rows {
            self.tick()?;
            let mut start = row.clone();
            start.resize(width, Val::Null);
            let mut partial: Vec<Partial> = vec![(start, Vec::new())];
            let grouped_before = sink.as_ref().map_or(0, |g| g.rows);
            for (i, (plan, syms)) in plans.iter().zip(&syms).enumerate() {
                // The last pattern's matches are filtered as they are found, keep no list
                // of the edges they used, and go to the grouping projection if one waits.
                let last = i + 1 == plans.len();
                let mut to = Emit {
                    filter: last.then_some(filter),
                    sink: if last { sink.as_deref_mut() } else { None },
                };
                let mut next = Vec::new();
                for (r, used) in partial {
                    let to = to.reborrow();
                    self.match_path(view, names, plan, r, used, syms, to, &mut next)?;
                    self.budget.rows(next.len())?;
                }
                partial = next;
                if partial.is_empty() {
                    break;
                }
            }
            let grouped_now = sink.as_ref().map_or(0, |g| g.rows);
            let any = !partial.is_empty() || grouped_now > grouped_before;
            out.extend(partial.into_iter().map(|(r, _)| r));
            if optional && !any {
                let mut r = row;
                r.resize(width, Val::Null);
                match sink.as_deref_mut() {
                    Some(g) => g.add(&self.env(view, names, &r), &r)?,
                    None => out.push(r),
                }
            }
            self.budget.rows(out.len())?;
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn match_path(
        &mut self,
        view: &View<'_>,
        names: &[String],
        plan: &PathPlan<'_>,
        row: Row,
        used: Vec<EdgeIndex>,
        syms: &Symbols,
        to: Emit<'_>,
        out: &mut Vec<Partial>,
    ) -> Result<(), QueryError> {
        let starts = self.candidates(view, names, &row, plan, 0)?;
        let mut m = Matcher {
            exec: self,
            view,
            names,
            plan,
            row,
            used,
            nodes: Vec::new(),
            edges: Vec::new(),
            last: to.filter,
            busy: to.filter.map_or(0, Staged::busy),
            doubt: Doubt::Clear,
            sink: to.sink,
            out,
            syms,
        };
        if plan.kind != PathKind::Plain {
            let last = plan.nodes.len() - 1;
            let ends = m.exec.candidates(view, names, &m.row, plan, last)?;
            for &a in &starts {
                if !m.bind_node(0, a, false)? {
                    continue;
                }
                for &b in &ends {
                    m.exec.tick()?;
                    if !m.bind_node(last, b, false)? {
                        continue;
                    }
                    m.shortest(a, b)?;
                }
            }
            return Ok(());
        }
        for n in starts {
            m.exec.tick()?;
            if m.bind_node(0, n, false)?
                && let Verdict::Pass(before) = m.stage(0)
            {
                m.nodes.push(n);
                m.extend(0)?;
                m.nodes.pop();
                m.restore(before);
            }
        }
        Ok(())
    }

    /// Nodes that may match position `i` (0 or the last) of an oriented pattern.
    fn candidates(
        &self,
        view: &View<'_>,
        names: &[String],
        row: &[Val],
        plan: &PathPlan<'_>,
        i: usize,
    ) -> Result<Vec<NodeIndex>, QueryError> {
        let anchor = if i == 0 {
            &plan.anchor
        } else {
            &plan.end_anchor
        };
        let env = self.env(view, names, row);
        Ok(match anchor {
            Anchor::Bound(slot) => match row.get(*slot) {
                Some(Val::Node(n)) => vec![*n],
                _ => Vec::new(),
            },
            Anchor::Id(e) => {
                let ids = match any_of(e) {
                    Some(list) => match env.eval(list)? {
                        Val::List(items) => items.to_vec(),
                        _ => Vec::new(),
                    },
                    None => vec![env.eval(e)?],
                };
                let mut out: Vec<NodeIndex> = ids
                    .iter()
                    .filter_map(|v| match v {
                        Val::Str(id) => view.node(id).map(|n| n.index()),
                        _ => None,
                    })
                    .collect();
                out.sort_unstable();
                out.dedup();
                out
            }
            Anchor::Index { label, key, value } => {
                let values = match any_of(value) {
                    Some(list) => match env.eval(list)? {
                        Val::List(items) => items.to_vec(),
                        _ => Vec::new(),
                    },
                    None => vec![env.eval(value)?],
                };
                let mut out = Vec::new();
                for v in values {
                    match v.to_value() {
                        Ok(stored) if stored.is_indexable() => out.extend(
                            view.nodes_by_property(label, key, &stored)
                                .map(|n| n.index()),
                        ),
                        // Floats and lists are not indexed: scan the label.
                        _ => {
                            return Ok(view.nodes_with_label(label).map(|n| n.index()).collect());
                        }
                    }
                }
                out.sort_unstable();
                out.dedup();
                out
            }
            Anchor::Label(label) => view.nodes_with_label(label).map(|n| n.index()).collect(),
            Anchor::All => view.nodes().map(|n| n.index()).collect(),
        })
    }

    // ----- RETURN / WITH -------------------------------------------------------------------

    /// `RETURN` / `WITH`: on `rows`, or on the groups a `MATCH` just formed (`grouped`).
    fn project(
        &mut self,
        view: &View<'_>,
        names: &[String],
        rows: Vec<Row>,
        p: &Projection,
        grouped: Option<Grouper>,
    ) -> Result<(Vec<String>, Vec<Row>), QueryError> {
        // The items: `*` first (every named variable, sorted), then those written.
        let mut items: Vec<(String, Expr)> = Vec::new();
        if p.star {
            let mut vars: Vec<&String> = names.iter().filter(|n| !n.starts_with(' ')).collect();
            vars.sort();
            vars.dedup();
            for v in vars {
                let e = Expr {
                    kind: ExprKind::Variable(v.clone()),
                    span: p.span,
                };
                items.push((v.clone(), e));
            }
        }
        items.extend(projection_items(p));
        let out_names: Vec<String> = items.iter().map(|(n, _)| n.clone()).collect();
        let aggregating = items.iter().any(|(_, e)| contains_aggregate(e));
        // Sort keys see the inputs, then the outputs (an alias shadows a variable).
        let mut key_names: Vec<String> = names.to_vec();
        key_names.extend(out_names.iter().cloned());

        let count = |e: &Option<Expr>, what: &str| -> Result<Option<usize>, QueryError> {
            let Some(e) = e else { return Ok(None) };
            match self.env(view, &[], &[]).eval(e)? {
                Val::Int(n) if n >= 0 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
                other => Err(QueryError::runtime(
                    e.span,
                    format!(
                        "{what} expects an integer ≥ 0, found {}",
                        Cell::of(&other, view)
                    ),
                )),
            }
        };
        let skip = count(&p.skip, "SKIP");
        let limit = count(&p.limit, "LIMIT");
        // Ordered and limited (and no DISTINCT, which needs every row): only the first
        // SKIP + LIMIT rows can be kept, so groups are let go as they are found to rank
        // after them. A bad SKIP or LIMIT fails below, after the rows, as before.
        let keep = match (&skip, &limit) {
            (Ok(s), Ok(Some(l))) if !p.order.is_empty() && !p.distinct => {
                Some(l.saturating_add(s.unwrap_or(0))).filter(|&k| k > 0)
            }
            _ => None,
        };
        let mut table: Vec<(Row, Vec<Val>)> = Vec::new();
        if !aggregating && let Some(g) = grouped {
            // Projected as the matches were found, and nothing more to do (a grouper
            // projects only for no DISTINCT, ORDER BY, SKIP, LIMIT or WHERE).
            let out: Vec<Row> = g.groups;
            self.budget.rows(out.len())?;
            return Ok((out_names, out));
        }
        if !aggregating {
            let (compiled, order) =
                self.compile_projection(view, names, items.as_slice(), p, &key_names);
            for row in &rows {
                self.tick()?;
                let env = self.env(view, names, row);
                let out: Row = compiled
                    .iter()
                    .map(|e| e.eval(&env))
                    .collect::<Result<_, _>>()?;
                let keys = if order.is_empty() {
                    Vec::new()
                } else {
                    let mut full = row.clone();
                    full.extend(out.iter().cloned());
                    let env = self.env(view, &key_names, &full);
                    order
                        .iter()
                        .map(|e| e.eval(&env))
                        .collect::<Result<_, _>>()?
                };
                table.push((out, keys));
            }
        } else {
            table = match grouped {
                Some(g) => self.groups_table(view, names, g, &items, p, &key_names, keep)?,
                None => self.aggregate(view, names, &rows, &items, p, &key_names)?,
            };
        }
        if p.distinct {
            let mut seen = FxHashSet::default();
            table.retain(|(out, _)| seen.insert(out.clone()));
        }
        let skip = skip?;
        let limit = limit?;
        if !p.order.is_empty() {
            let order = |a: &[Val], b: &[Val]| sort_order(&p.order, a, b);
            // With a LIMIT, only the first SKIP + LIMIT rows need ordering: they are
            // selected first (ties broken by position, so the rows are those a stable
            // sort of all would put first).
            let wanted = limit.map(|l| l.saturating_add(skip.unwrap_or(0)));
            match wanted {
                Some(k) if k < table.len() => {
                    // Kept in position order: a stable sort breaks ties by position.
                    keep_first(&mut table, k, &p.order);
                    table.sort_by(|(_, a), (_, b)| order(a, b));
                }
                _ => table.sort_by(|(_, a), (_, b)| order(a, b)),
            }
        }
        let mut out: Vec<Row> = table.into_iter().map(|(r, _)| r).collect();
        if let Some(skip) = skip {
            out.drain(..skip.min(out.len()));
        }
        if let Some(limit) = limit {
            out.truncate(limit);
        }
        if let Some(f) = &p.filter {
            let mut kept = Vec::new();
            for r in out {
                if self.env(view, &out_names, &r).eval(f)?.is_true() {
                    kept.push(r);
                }
            }
            out = kept;
        }
        self.budget.rows(out.len())?;
        Ok((out_names, out))
    }

    #[allow(clippy::too_many_arguments)]
    fn aggregate(
        &mut self,
        view: &View<'_>,
        names: &[String],
        rows: &[Row],
        items: &[(String, Expr)],
        p: &Projection,
        key_names: &[String],
    ) -> Result<Vec<(Row, Vec<Val>)>, QueryError> {
        let mut grouper = Grouper::new(items, p)?;
        for row in rows {
            self.tick()?;
            let env = self.env(view, names, row);
            grouper.add(&env, row)?;
            self.budget.rows(grouper.groups.len())?;
        }
        self.groups_table(view, names, grouper, items, p, key_names, None)
    }

    /// A projection's items compiled for the input's names, and its sort keys for the
    /// input's names followed by the items'.
    fn compile_projection(
        &self,
        view: &View<'_>,
        names: &[String],
        items: &[(String, Expr)],
        p: &Projection,
        key_names: &[String],
    ) -> (Vec<Compiled>, Vec<Compiled>) {
        let env = self.env(view, names, &[]);
        let compiled = items.iter().map(|(_, e)| Compiled::new(e, &env)).collect();
        let env = self.env(view, key_names, &[]);
        let order = p
            .order
            .iter()
            .map(|s| Compiled::new(&s.expr, &env))
            .collect();
        (compiled, order)
    }

    /// The rows of a grouping projection, with their sort keys, once every row is grouped;
    /// with `keep` (`k`: only the first `k` rows in the order will be kept), at least those
    /// `k`, in the groups' order, and not much more.
    #[allow(clippy::too_many_arguments)]
    fn groups_table(
        &self,
        view: &View<'_>,
        names: &[String],
        grouper: Grouper,
        items: &[(String, Expr)],
        p: &Projection,
        key_names: &[String],
        keep: Option<usize>,
    ) -> Result<Vec<(Row, Vec<Val>)>, QueryError> {
        let Grouper {
            calls,
            keys,
            mut groups,
            mut accs,
            ..
        } = grouper;
        // No rows and no grouping keys: one row of empty aggregates (`count` is 0).
        if groups.is_empty() && keys.is_empty() {
            groups.push(vec![Val::Null; names.len()]);
            accs.extend(calls.iter().map(Acc::new));
        }
        let (compiled, order) = self.compile_projection(view, names, items, p, key_names);
        // Trimming pays only when fewer rows are kept than there are groups.
        let keep = keep.filter(|&k| k < groups.len());
        let mut table = Vec::with_capacity(keep.map_or(groups.len(), |k| 2 * k));
        // The sort keys of the last of the `k` first rows, once some rows were let go: a
        // later row that does not rank before it (a tie ranks after) is not kept.
        let mut worst: Option<Vec<Val>> = None;
        let mut values: Vec<(Span, Val)> = Vec::with_capacity(calls.len());
        let mut accs = accs.into_iter();
        // A group's row and sort keys are made in these, which go with the row when it is kept.
        let (mut out, mut full, mut sort): (Row, Row, Vec<Val>) = Default::default();
        for rep in groups {
            values.clear();
            values.extend(
                calls
                    .iter()
                    .zip(accs.by_ref().take(calls.len()))
                    .map(|(c, a)| (c.span, a.finish())),
            );
            let env = Env {
                view,
                params: self.params,
                names,
                row: &rep,
                aggregates: &values,
                memo: &self.memo,
            };
            out.clear();
            for e in &compiled {
                out.push(e.eval(&env)?);
            }
            sort.clear();
            if !order.is_empty() {
                full.clear();
                full.extend(rep);
                full.extend(out.iter().cloned());
                let env = Env {
                    view,
                    params: self.params,
                    names: key_names,
                    row: &full,
                    aggregates: &values,
                    memo: &self.memo,
                };
                for e in &order {
                    sort.push(e.eval(&env)?);
                }
            }
            if let Some(w) = &worst
                && sort_order(&p.order, &sort, w).is_ge()
            {
                continue;
            }
            // Kept: the buffers go with the row (moved, not copied), and new ones are made.
            table.push((
                std::mem::replace(&mut out, Vec::with_capacity(compiled.len())),
                std::mem::take(&mut sort),
            ));
            if let Some(k) = keep
                && table.len() >= 2 * k
            {
                worst = keep_first(&mut table, k, &p.order);
            }
        }
        Ok(table)
    }

    // ----- writes -------------------------------------------------------------------------

    fn generated_id(&mut self, graph: &Graph, tx: TxId, prefix: &str, edge: bool) -> Name {
        loop {
            self.generated += 1;
            let id = format!("{}-{}-{}", prefix.to_lowercase(), tx.0, self.generated);
            let taken = if edge {
                graph.edge_index(&id).is_some()
            } else {
                graph.node_index(&id).is_some()
            };
            if !taken {
                return Name::new(id);
            }
        }
    }

    fn create(
        &mut self,
        host: &mut dyn Host,
        names: &mut Vec<String>,
        rows: Vec<Row>,
        patterns: &[PathPattern],
        meta: &WriteMeta,
    ) -> Result<Vec<Row>, QueryError> {
        let before = declare(names, patterns);
        let mut out = Vec::with_capacity(rows.len());
        for mut row in rows {
            self.tick()?;
            row.resize(names.len(), Val::Null);
            let mut assigned: FxHashSet<String> = names[..before].iter().cloned().collect();
            self.create_row(host, names, &mut row, &mut assigned, patterns, meta)?;
            out.push(row);
        }
        Ok(out)
    }

    /// Creates what `patterns` describe for one row, binding its new variables.
    fn create_row(
        &mut self,
        host: &mut dyn Host,
        names: &[String],
        row: &mut Row,
        assigned: &mut FxHashSet<String>,
        patterns: &[PathPattern],
        meta: &WriteMeta,
    ) -> Result<(), QueryError> {
        let (valid, sources) = {
            let graph = host.graph();
            let view = self.view(graph, true);
            self.meta_for_row(&view, names, row, meta)?
        };
        let tx = host.write_tx();
        let mut events = Vec::new();
        let mut new_nodes: Vec<(usize, Name)> = Vec::new();
        let mut new_edges: Vec<(usize, Name)> = Vec::new();
        // Nodes created by this row so far, by variable: later patterns may use them.
        let mut local: FxHashMap<String, Name> = FxHashMap::default();
        {
            let graph = host.graph();
            let view = self.view(graph, true);
            for p in patterns {
                if p.kind != PathKind::Plain || p.var.is_some() {
                    return Err(QueryError::semantic(
                        p.span,
                        "CREATE takes plain patterns (no path variable, no shortestPath)",
                    ));
                }
                let mut ids: Vec<Name> = Vec::new();
                for np in std::iter::once(&p.start).chain(p.steps.iter().map(|(_, n)| n)) {
                    let existing = match &np.var {
                        Some(v) if assigned.contains(&v.node) => Some(v),
                        _ => None,
                    };
                    if let Some(v) = existing {
                        if !np.labels.is_empty() || !np.props.is_empty() {
                            return Err(QueryError::semantic(
                                np.span,
                                format!(
                                    "`{}` is already bound: CREATE cannot add labels or \
                                     properties to it (use SET)",
                                    v.node
                                ),
                            ));
                        }
                        let slot = slot_of(names, &v.node);
                        let id = match (local.get(&v.node), row.get(slot)) {
                            (Some(id), _) => Some(id.clone()),
                            (None, Some(Val::Node(n))) => {
                                view.node_at(*n).map(|x| Name::new(x.id()))
                            }
                            _ => None,
                        };
                        let id = match id {
                            Some(id) => id,
                            None => {
                                return Err(QueryError::runtime(
                                    v.span,
                                    format!("`{}` is not a node (null?)", v.node),
                                ));
                            }
                        };
                        ids.push(id);
                        continue;
                    }
                    let env = self.env(&view, names, row);
                    let (id, props) = self.write_props(&env, &np.props)?;
                    let prefix = np.labels.first().map_or("node", |l| l.node.as_str());
                    let id = match id {
                        Some(id) => id,
                        None => self.generated_id(graph, tx, prefix, false),
                    };
                    events.push(Event::NodeAdded {
                        id: id.clone(),
                        labels: np.labels.iter().map(|l| Name::new(&l.node)).collect(),
                        props,
                        valid,
                        sources: sources.clone(),
                    });
                    if let Some(v) = &np.var {
                        assigned.insert(v.node.clone());
                        local.insert(v.node.clone(), id.clone());
                        new_nodes.push((slot_of(names, &v.node), id.clone()));
                    }
                    ids.push(id);
                }
                for (i, (rp, _)) in p.steps.iter().enumerate() {
                    if rp.types.len() != 1 || rp.length.is_some() {
                        return Err(QueryError::semantic(
                            rp.span,
                            "CREATE needs exactly one relationship type, and no length",
                        ));
                    }
                    let (from, to) = match rp.direction {
                        Direction::Right => (ids[i].clone(), ids[i + 1].clone()),
                        Direction::Left => (ids[i + 1].clone(), ids[i].clone()),
                        Direction::Both => {
                            return Err(QueryError::semantic(
                                rp.span,
                                "CREATE needs a direction: `-[:T]->` or `<-[:T]-`",
                            ));
                        }
                    };
                    let env = self.env(&view, names, row);
                    let (id, props) = self.write_props(&env, &rp.props)?;
                    let rel_type = &rp.types[0].node;
                    let id = match id {
                        Some(id) => id,
                        None => self.generated_id(graph, tx, rel_type, true),
                    };
                    events.push(Event::EdgeAdded {
                        id: id.clone(),
                        rel_type: Name::new(rel_type),
                        from,
                        to,
                        props,
                        valid,
                        sources: sources.clone(),
                    });
                    if let Some(v) = &rp.var {
                        if assigned.contains(&v.node) {
                            return Err(QueryError::semantic(
                                v.span,
                                format!("`{}` is already bound", v.node),
                            ));
                        }
                        assigned.insert(v.node.clone());
                        new_edges.push((slot_of(names, &v.node), id));
                    }
                }
            }
        }
        let span = patterns
            .first()
            .map_or_else(Span::default, |p| p.span)
            .to(patterns.last().map_or_else(Span::default, |p| p.span));
        host.write(events, span)?;
        let graph = host.graph();
        for (slot, id) in new_nodes {
            if let Some(n) = graph.node_index(&id) {
                row[slot] = Val::Node(n);
            }
        }
        for (slot, id) in new_edges {
            if let Some(e) = graph.edge_index(&id) {
                row[slot] = Val::Edge(e);
            }
        }
        Ok(())
    }

    /// The properties of a created node or edge; `id` is its external id, not a property.
    fn write_props(
        &self,
        env: &Env<'_>,
        props: &[(Ident, Expr)],
    ) -> Result<(Option<Name>, Props), QueryError> {
        let mut id = None;
        let mut out = Props::new();
        for (k, e) in props {
            let v = env.eval(e)?;
            if k.node == "id" {
                match v {
                    Val::Str(s) if !s.is_empty() => id = Some(s),
                    Val::Int(i) => id = Some(Name::new(i.to_string())),
                    other => {
                        return Err(QueryError::runtime(
                            e.span,
                            format!(
                                "an id must be a non-empty string, found a {}",
                                other.type_name()
                            ),
                        ));
                    }
                }
                continue;
            }
            let stored = v
                .to_value()
                .map_err(|msg| QueryError::runtime(e.span, msg))?;
            if !stored.is_null() {
                out.push((Name::new(&k.node), stored));
            }
        }
        Ok((id, out))
    }

    fn merge(
        &mut self,
        host: &mut dyn Host,
        names: &mut Vec<String>,
        rows: Vec<Row>,
        pattern: &PathPattern,
        meta: &WriteMeta,
    ) -> Result<Vec<Row>, QueryError> {
        let before = declare(names, std::slice::from_ref(pattern));
        let mut bound: FxHashSet<String> = names[..before].iter().cloned().collect();
        let plan = PathPlan::new(pattern, names, &mut bound, &[])?;
        // `MERGE (a)-[:T]-(b)` matches either direction and, when there is none, creates
        // it from left to right (as Neo4j does): a pair listed from both sides is one.
        let mut to_create = pattern.clone();
        for (r, _) in &mut to_create.steps {
            if r.direction == Direction::Both {
                r.direction = Direction::Right;
            }
        }
        let pattern = &to_create;
        let mut out = Vec::new();
        for mut row in rows {
            self.tick()?;
            row.resize(names.len(), Val::Null);
            let mut found = Vec::new();
            {
                let graph = host.graph();
                let view = self.view(graph, true);
                let syms = Symbols::of(&plan, graph);
                self.match_path(
                    &view,
                    names,
                    &plan,
                    row.clone(),
                    Vec::new(),
                    &syms,
                    Emit {
                        filter: Some(&Staged::none()),
                        sink: None,
                    },
                    &mut found,
                )?;
            }
            if found.is_empty() {
                let mut assigned: FxHashSet<String> = names[..before].iter().cloned().collect();
                self.create_row(
                    host,
                    names,
                    &mut row,
                    &mut assigned,
                    std::slice::from_ref(pattern),
                    meta,
                )?;
                out.push(row);
            } else {
                out.extend(found.into_iter().map(|(r, _)| r));
            }
            self.budget.rows(out.len())?;
        }
        Ok(out)
    }

    fn target(
        &self,
        view: &View<'_>,
        names: &[String],
        row: &[Val],
        var: &Ident,
    ) -> Result<Option<Target>, QueryError> {
        let Some(v) = names
            .iter()
            .rposition(|n| *n == var.node)
            .and_then(|i| row.get(i))
        else {
            return Err(QueryError::semantic(
                var.span,
                format!("unknown variable `{}`", var.node),
            ));
        };
        Ok(match v {
            Val::Null => None,
            Val::Node(n) => view.node_at(*n).map(|x| Target::Node(Name::new(x.id()))),
            Val::Edge(e) => view.edge_at(*e).map(|x| Target::Edge(Name::new(x.id()))),
            other => {
                return Err(QueryError::runtime(
                    var.span,
                    format!(
                        "`{}` is a {}, not a node or a relationship",
                        var.node,
                        other.type_name()
                    ),
                ));
            }
        })
    }

    fn set(
        &mut self,
        host: &mut dyn Host,
        names: &[String],
        rows: &[Row],
        items: &[SetItem],
        meta: &WriteMeta,
        span: Span,
    ) -> Result<(), QueryError> {
        let mut events = Vec::new();
        {
            let graph = host.graph();
            let view = self.view(graph, true);
            for row in rows {
                self.tick()?;
                let (valid, sources) = self.meta_for_row(&view, names, row, meta)?;
                let env = self.env(&view, names, row);
                let mut per_target: Vec<(Target, Props)> = Vec::new();
                for item in items {
                    let (var, pairs) = match item {
                        SetItem::Property { var, key, value } => {
                            (var, vec![(key.node.clone(), env.eval(value)?, value.span)])
                        }
                        SetItem::Merge { var, value } => match env.eval(value)? {
                            Val::Map(m) => (
                                var,
                                m.iter()
                                    .map(|(k, v)| (k.clone(), v.clone(), value.span))
                                    .collect(),
                            ),
                            other => {
                                return Err(QueryError::runtime(
                                    value.span,
                                    format!("`+=` expects a map, found a {}", other.type_name()),
                                ));
                            }
                        },
                    };
                    let Some(target) = self.target(&view, names, row, var)? else {
                        continue;
                    };
                    let mut props = Props::new();
                    for (key, v, vspan) in pairs {
                        if key == "id" {
                            return Err(QueryError::semantic(
                                vspan,
                                "`id` is the identity of a node or relationship and cannot be set",
                            ));
                        }
                        let stored = v.to_value().map_err(|m| QueryError::runtime(vspan, m))?;
                        props.push((Name::new(key), stored));
                    }
                    match per_target.iter_mut().find(|(t, _)| *t == target) {
                        Some((_, p)) => p.extend(props),
                        None => per_target.push((target, props)),
                    }
                }
                for (target, props) in per_target {
                    events.push(Event::PropertiesSet {
                        target,
                        props,
                        valid,
                        sources: sources.clone(),
                    });
                }
            }
        }
        host.write(events, span)
    }

    #[allow(clippy::too_many_arguments)]
    fn end(
        &mut self,
        host: &mut dyn Host,
        names: &[String],
        rows: &[Row],
        targets: &[Ident],
        date: Date,
        meta: &WriteMeta,
        span: Span,
    ) -> Result<(), QueryError> {
        let mut events = Vec::new();
        {
            let graph = host.graph();
            let view = self.view(graph, true);
            for row in rows {
                let (_, sources) = self.meta_for_row(&view, names, row, meta)?;
                for var in targets {
                    match self.target(&view, names, row, var)? {
                        Some(Target::Node(id)) => events.push(Event::NodeEnded {
                            id,
                            end: date,
                            sources: sources.clone(),
                        }),
                        Some(Target::Edge(id)) => events.push(Event::EdgeEnded {
                            id,
                            end: date,
                            sources: sources.clone(),
                        }),
                        None => {}
                    }
                }
            }
        }
        host.write(events, span)
    }
}

/// Keeps the first `k` (≥ 1) rows by their sort keys and then their position, in position
/// order, and returns the sort keys of the last of them (a later row that ties with it
/// ranks after it).
fn keep_first(table: &mut Vec<(Row, Vec<Val>)>, k: usize, items: &[SortItem]) -> Option<Vec<Val>> {
    if k == 0 || k >= table.len() {
        return None;
    }
    let mut ranked: Vec<(usize, (Row, Vec<Val>))> = table.drain(..).enumerate().collect();
    let rank = |(i, (_, a)): &(usize, (Row, Vec<Val>)), (j, (_, b)): &(usize, (Row, Vec<Val>))| {
        sort_order(items, a, b).then(i.cmp(j))
    };
    ranked.select_nth_unstable_by(k - 1, rank);
    ranked.truncate(k);
    let worst = ranked[k - 1].1.1.clone();
    ranked.sort_unstable_by_key(|(i, _)| *i);
    table.extend(ranked.into_iter().map(|(_, r)| r));
    Some(worst)
}

/// How two rows' sort keys order, by `ORDER BY` items.
fn sort_order(items: &[SortItem], a: &[Val], b: &[Val]) -> std::cmp::Ordering {
    for ((x, y), s) in a.iter().zip(b.iter()).zip(items) {
        let o = x.sort_cmp(y);
        let o = if s.descending { o.reverse() } else { o };
        if o.is_ne() {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

fn slot_of(names: &[String], name: &str) -> usize {
    names.iter().rposition(|n| n == name).unwrap_or(0)
}

/// Adds the variables the patterns introduce to `names` (those not already there); returns
/// how many names there were before.
fn declare(names: &mut Vec<String>, patterns: &[PathPattern]) -> usize {
    let before = names.len();
    for p in patterns {
        for var in pattern_vars(p) {
            if !names.contains(&var.node) {
                names.push(var.node.clone());
            }
        }
    }
    before
}

/// The pattern with a variable for each node and relationship (names no query can write).
fn name_every_element(p: &PathPattern) -> PathPattern {
    let mut p = p.clone();
    let mut k = 0;
    let mut name = |span: Span| {
        k += 1;
        Some(Ident {
            node: format!(" element {k}"),
            span,
        })
    };
    if p.start.var.is_none() {
        p.start.var = name(p.start.span);
    }
    for (r, n) in &mut p.steps {
        if r.var.is_none() {
            r.var = name(r.span);
        }
        if n.var.is_none() {
            n.var = name(n.span);
        }
    }
    p
}

fn collect_elements(v: &Val, out: &mut Vec<Element>) {
    match v {
        Val::Node(n) => out.push(Element::Node(*n)),
        Val::Edge(e) => out.push(Element::Edge(*e)),
        Val::Path(p) => {
            for (i, n) in p.nodes.iter().enumerate() {
                out.push(Element::Node(*n));
                if let Some(e) = p.edges.get(i) {
                    out.push(Element::Edge(*e));
                }
            }
        }
        Val::List(items) => items.iter().for_each(|x| collect_elements(x, out)),
        _ => {}
    }
}

/// Variables a pattern introduces, in the order written: the path, then nodes and
/// relationships left to right.
pub fn pattern_vars(p: &PathPattern) -> Vec<&Ident> {
    let mut vars = Vec::new();
    vars.extend(p.var.as_ref());
    vars.extend(p.start.var.as_ref());
    for (r, n) in &p.steps {
        vars.extend(r.var.as_ref());
        vars.extend(n.var.as_ref());
    }
    vars
}

/// A `MATCH`'s filter staged along its last pattern's walk (`plan`, one of `plans`), whose
/// variables `before` are bound before the walk starts: a part is checked once the walk
/// has bound what it reads. A shortest path checks it on each path found.
fn staged_filter(
    filter: Option<&Expr>,
    env: &Env<'_>,
    plans: &[PathPlan<'_>],
    plan: &PathPlan<'_>,
    mut before: FxHashSet<String>,
) -> Staged {
    let checkpoints = 2 * plan.rels.len() + 1;
    let mut elements = FxHashSet::default();
    for p in plans {
        // A shortest path binds its relationship variable to a list, written `*` or not.
        let fixed = p
            .rels
            .iter()
            .map(|(r, _)| p.kind == PathKind::Plain && r.length.is_none());
        let rels = p
            .rel_use
            .iter()
            .zip(fixed)
            .filter(|(_, f)| *f)
            .map(|(u, _)| u);
        for u in p.node_use.iter().chain(rels) {
            if let VarUse::Bind(slot) = u {
                elements.insert(*slot);
            }
        }
    }
    if plan.kind != PathKind::Plain {
        return Staged::new(filter, env, checkpoints, |_| checkpoints, &elements);
    }
    let name = |u: VarUse| match u {
        VarUse::Bind(slot) => env.names.get(slot).cloned(),
        _ => None,
    };
    // What is bound at each checkpoint: node i at 2i, relationship i at 2i + 1, except a
    // variable-length one, whose list is bound with the node after it.
    before.extend(name(plan.node_use[0]));
    let mut bound = vec![before];
    for cp in 1..checkpoints {
        let mut here = bound[cp - 1].clone();
        let (rel, _) = plan.rels[(cp - 1) / 2];
        if cp % 2 == 1 {
            here.extend(name(plan.rel_use[cp / 2]).filter(|_| rel.length.is_none()));
        } else {
            here.extend(name(plan.rel_use[cp / 2 - 1]).filter(|_| rel.length.is_some()));
            here.extend(name(plan.node_use[cp / 2]));
        }
        bound.push(here);
    }
    let ready = |e: &Expr| {
        (0..checkpoints)
            .find(|&cp| uses_only(e, &bound[cp]))
            .unwrap_or(checkpoints)
    };
    Staged::new(filter, env, checkpoints, ready, &elements)
}

/// `var.key = expr` conjuncts of a `WHERE`, usable to pick a pattern's start.
fn equalities(filter: &Expr) -> Vec<(String, String, Expr)> {
    let mut out = Vec::new();
    let mut stack = vec![filter];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Binary(BinaryOp::And, a, b) => {
                stack.push(a);
                stack.push(b);
            }
            ExprKind::Binary(BinaryOp::Eq, a, b) => {
                for (x, y) in [(a, b), (b, a)] {
                    if let ExprKind::Property(v, key) = &x.kind
                        && let ExprKind::Variable(var) = &v.kind
                    {
                        out.push((var.clone(), key.node.clone(), (**y).clone()));
                    }
                }
            }
            // `x.k IN list`: one lookup per element (marked by wrapping the list).
            ExprKind::Binary(BinaryOp::In, a, b) => {
                if let ExprKind::Property(v, key) = &a.kind
                    && let ExprKind::Variable(var) = &v.kind
                {
                    let each = Expr {
                        kind: ExprKind::Call {
                            name: Ident {
                                node: ANY_OF.to_owned(),
                                span: b.span,
                            },
                            distinct: false,
                            args: vec![(**b).clone()],
                        },
                        span: b.span,
                    };
                    out.push((var.clone(), key.node.clone(), each));
                }
            }
            _ => {}
        }
    }
    out
}

/// The marker of an `IN` list among the equalities: no function a query can call has a
/// name with a space.
const ANY_OF: &str = " any of";

/// The list of an `IN` equality, if `e` is one.
fn any_of(e: &Expr) -> Option<&Expr> {
    match &e.kind {
        ExprKind::Call { name, args, .. } if name.node == ANY_OF => args.first(),
        _ => None,
    }
}

/// Whether an expression reads only parameters, literals and the given variables.
fn uses_only(e: &Expr, allowed: &FxHashSet<String>) -> bool {
    let mut ok = true;
    walk(e, &mut |x| {
        if let ExprKind::Variable(v) = &x.kind
            && !allowed.contains(v)
        {
            ok = false;
        }
        if contains_aggregate_shallow(x) {
            ok = false;
        }
    });
    ok
}

fn contains_aggregate_shallow(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::CountStar)
        || matches!(&e.kind, ExprKind::Call { name, .. } if is_aggregate(&name.node))
}

/// How a variable appears at a position of a pattern.
#[derive(Clone, Copy, Debug)]
enum VarUse {
    /// Anonymous.
    None,
    /// First seen here: bind it.
    Bind(usize),
    /// Bound before: the element must equal it.
    Check(usize),
}

/// How to find the nodes a pattern starts from.
#[derive(Clone, Debug)]
enum Anchor {
    Bound(usize),
    Id(Expr),
    Index {
        label: String,
        key: String,
        value: Expr,
    },
    Label(String),
    All,
}

impl Anchor {
    fn cost(&self) -> u8 {
        match self {
            Anchor::Bound(_) => 0,
            Anchor::Id(_) => 1,
            Anchor::Index { .. } => 2,
            Anchor::Label(_) => 3,
            Anchor::All => 4,
        }
    }
}

/// A path pattern oriented from its cheaper end, with its variables resolved to slots.
struct PathPlan<'p> {
    kind: PathKind,
    reversed: bool,
    nodes: Vec<&'p NodePattern>,
    rels: Vec<(&'p RelPattern, Direction)>,
    node_use: Vec<VarUse>,
    rel_use: Vec<VarUse>,
    path_slot: Option<usize>,
    anchor: Anchor,
    end_anchor: Anchor,
}

impl<'p> PathPlan<'p> {
    fn new(
        p: &'p PathPattern,
        names: &[String],
        bound: &mut FxHashSet<String>,
        equalities: &[(String, String, Expr)],
    ) -> Result<PathPlan<'p>, QueryError> {
        let mut nodes: Vec<&NodePattern> = vec![&p.start];
        let mut rels: Vec<(&RelPattern, Direction)> = Vec::new();
        for (r, n) in &p.steps {
            rels.push((r, r.direction));
            nodes.push(n);
        }
        if p.kind != PathKind::Plain {
            let ok = rels.len() == 1;
            if !ok {
                return Err(QueryError::semantic(
                    p.span,
                    "shortestPath takes one relationship pattern between two nodes: \
                     shortestPath((a)-[:T*]-(b))",
                ));
            }
        }
        let known_set = bound.clone();
        let known = &known_set;
        let anchor_of = |np: &NodePattern| -> Anchor {
            if let Some(v) = &np.var
                && known.contains(&v.node)
            {
                return Anchor::Bound(slot_of(names, &v.node));
            }
            let inline = np.props.iter().map(|(k, e)| (k.node.clone(), e.clone()));
            let from_where = np.var.iter().flat_map(|v| {
                equalities
                    .iter()
                    .filter(move |(var, _, e)| *var == v.node && uses_only(e, known))
                    .map(|(_, k, e)| (k.clone(), e.clone()))
            });
            let props: Vec<(String, Expr)> = inline.chain(from_where).collect();
            if let Some((_, e)) = props.iter().find(|(k, _)| k == "id") {
                return Anchor::Id(e.clone());
            }
            if let (Some(label), Some((k, e))) = (np.labels.first(), props.first()) {
                return Anchor::Index {
                    label: label.node.clone(),
                    key: k.clone(),
                    value: e.clone(),
                };
            }
            match np.labels.first() {
                Some(l) => Anchor::Label(l.node.clone()),
                None => Anchor::All,
            }
        };
        let first = anchor_of(nodes[0]);
        let last = anchor_of(nodes[nodes.len() - 1]);
        // Shortest paths keep their written order; plain ones start from the cheaper end.
        let reversed = p.kind == PathKind::Plain && !rels.is_empty() && last.cost() < first.cost();
        let (anchor, end_anchor) = if reversed {
            nodes.reverse();
            rels.reverse();
            for (_, d) in &mut rels {
                *d = match d {
                    Direction::Right => Direction::Left,
                    Direction::Left => Direction::Right,
                    Direction::Both => Direction::Both,
                };
            }
            (last, first)
        } else {
            (first, last)
        };
        let mut use_of = |var: &Option<Ident>| -> VarUse {
            match var {
                None => VarUse::None,
                Some(v) => {
                    let slot = slot_of(names, &v.node);
                    if bound.insert(v.node.clone()) {
                        VarUse::Bind(slot)
                    } else {
                        VarUse::Check(slot)
                    }
                }
            }
        };
        let mut node_use = vec![VarUse::None; nodes.len()];
        let mut rel_use = vec![VarUse::None; rels.len()];
        node_use[0] = use_of(&nodes[0].var);
        if p.kind != PathKind::Plain {
            let last = nodes.len() - 1;
            node_use[last] = use_of(&nodes[last].var);
            rel_use[0] = use_of(&rels[0].0.var);
        } else {
            for i in 0..rels.len() {
                rel_use[i] = use_of(&rels[i].0.var);
                node_use[i + 1] = use_of(&nodes[i + 1].var);
            }
        }
        let path_slot = match use_of(&p.var) {
            VarUse::Bind(s) => Some(s),
            VarUse::None => None,
            VarUse::Check(_) => {
                return Err(QueryError::semantic(
                    p.span,
                    "a path variable cannot be bound twice",
                ));
            }
        };
        Ok(PathPlan {
            kind: p.kind,
            reversed,
            nodes,
            rels,
            node_use,
            rel_use,
            path_slot,
            anchor,
            end_anchor,
        })
    }
}

/// Most hops a variable-length pattern without an upper bound may walk.
const MAX_HOPS: usize = 1000;

/// Walks one oriented path pattern from a start node, depth first.
struct Matcher<'m, 'q, 'v> {
    exec: &'m mut Executor<'q>,
    view: &'m View<'v>,
    names: &'m [String],
    plan: &'m PathPlan<'m>,
    row: Row,
    used: Vec<EdgeIndex>,
    nodes: Vec<NodeIndex>,
    edges: Vec<EdgeIndex>,
    /// For the last pattern of a `MATCH`: its filter, checked as the walk binds what each
    /// part of it reads.
    last: Option<&'m Staged>,
    /// `last`'s [`Staged::busy`], asked at every step of the walk: read from here, not
    /// through `last`, it costs 2–5 % less on Q8, which has no filter (interleaved rounds).
    busy: u64,
    /// What the filter's parts checked so far left undecided.
    doubt: Doubt,
    /// For the last pattern: the grouping projection that takes each match.
    sink: Option<&'m mut Grouper>,
    out: &'m mut Vec<Partial>,
    /// The pattern's labels and relationship types as the graph's symbols.
    syms: &'m Symbols,
}

/// A path pattern's labels and relationship types as symbols, looked up once per clause
/// (no write happens during a `MATCH`; `MERGE` looks them up again after each row's writes)
/// instead of once per node or edge tried.
struct Symbols {
    /// Per node position, each label's symbol (`None`: no node has it).
    labels: Vec<SmallVec<[Option<Sym>; 2]>>,
    /// Per relationship position, the symbols of its types the graph knows, and `false` when
    /// it names types and the graph knows none of them (no edge can match).
    types: Vec<(SmallVec<[Sym; 4]>, bool)>,
}

impl Symbols {
    fn of(plan: &PathPlan<'_>, graph: &crate::graph::Graph) -> Symbols {
        Symbols {
            labels: plan
                .nodes
                .iter()
                .map(|np| np.labels.iter().map(|l| graph.symbol(&l.node)).collect())
                .collect(),
            types: plan
                .rels
                .iter()
                .map(|(rp, _)| {
                    let syms: SmallVec<[Sym; 4]> = rp
                        .types
                        .iter()
                        .filter_map(|t| graph.symbol(&t.node))
                        .collect();
                    let possible = rp.types.is_empty() || !syms.is_empty();
                    (syms, possible)
                })
                .collect(),
        }
    }
}

/// Where one pattern's matches go: for the last pattern of a `MATCH`, through its filter
/// (`Some`), and to a grouping projection if one takes them.
struct Emit<'a> {
    filter: Option<&'a Staged>,
    sink: Option<&'a mut Grouper>,
}

impl Emit<'_> {
    fn reborrow(&mut self) -> Emit<'_> {
        Emit {
            filter: self.filter,
            sink: self.sink.as_deref_mut(),
        }
    }
}

impl<'m> Matcher<'m, '_, '_> {
    fn env(&self) -> Env<'_> {
        Env {
            view: self.view,
            params: self.exec.params,
            names: self.names,
            row: &self.row,
            aggregates: &[],
            memo: &self.exec.memo,
        }
    }

    /// Checks the filter's parts placed at checkpoint `cp` (see [`Staged`]); on a pass,
    /// with the doubt to [`restore`](Self::restore) once the walk returns.
    #[inline(always)]
    fn stage(&mut self, cp: usize) -> Verdict {
        if cp < 64 && self.busy & (1 << cp) == 0 {
            return Verdict::Pass(None);
        }
        match self.last {
            Some(filter) => self.judge(filter, cp),
            None => Verdict::Pass(None),
        }
    }

    /// [`stage`](Self::stage) at a checkpoint with parts to check (kept out of the walk's
    /// loops).
    #[inline(never)]
    fn judge(&mut self, filter: &Staged, cp: usize) -> Verdict {
        let mut doubt = std::mem::take(&mut self.doubt);
        let verdict = filter.judge(cp, &self.env(), &mut doubt);
        self.doubt = doubt;
        verdict
    }

    #[inline]
    fn restore(&mut self, before: Option<Doubt>) {
        if let Some(d) = before {
            self.doubt = d;
        }
    }

    /// Checks node `n` against pattern position `i`, binding its variable.
    /// `shown`: `n` is known to be shown with the position's labels (see
    /// [`Matcher::ends_match`]), and they are not read again.
    fn bind_node(&mut self, i: usize, n: NodeIndex, shown: bool) -> Result<bool, QueryError> {
        let np = self.plan.nodes[i];
        if let VarUse::Check(slot) = self.plan.node_use[i]
            && !matches!(self.row.get(slot), Some(Val::Node(m)) if *m == n)
        {
            return Ok(false);
        }
        if !shown {
            let Some(node) = self.view.node_at(n) else {
                return Ok(false);
            };
            if !self.syms.labels[i]
                .iter()
                .all(|l| l.is_some_and(|l| node.has_label_sym(l)))
            {
                return Ok(false);
            }
        }
        for (k, e) in &np.props {
            let env = self.env();
            let want = env.eval(e)?;
            let have = env.property(&Val::Node(n), &k.node, k.span)?;
            if have.equals(&want) != Some(true) {
                return Ok(false);
            }
        }
        if let VarUse::Bind(slot) = self.plan.node_use[i] {
            self.row[slot] = Val::Node(n);
        }
        Ok(true)
    }

    /// Whether edge `e` (shown, of an allowed type) has the pattern's properties.
    fn rel_ok(&self, rp: &RelPattern, e: EdgeIndex) -> Result<bool, QueryError> {
        for (k, x) in &rp.props {
            let env = self.env();
            let want = env.eval(x)?;
            let have = env.property(&Val::Edge(e), &k.node, k.span)?;
            if have.equals(&want) != Some(true) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The laid-out adjacency [`neighbours`](Self::neighbours) borrows for relationship
    /// `i` in direction `d`, if it borrows one.
    fn laid_out(&self, d: Direction, i: usize) -> Option<&'m Adjacency> {
        let view: &'m View<'_> = self.view;
        let [t] = self.syms.types.get(i)?.0.as_slice() else {
            return None;
        };
        let dir = match d {
            Direction::Right => Dir::Outgoing,
            Direction::Left => Dir::Incoming,
            Direction::Both => return None,
        };
        view.pieces()?.adjacency(*t, dir).map(|a| &**a)
    }

    /// [`laid_out`](Self::laid_out) for a fixed-length step `i`.
    fn next_adjacency(&self, i: usize) -> Option<&'m Adjacency> {
        let (rp, d) = self.plan.rels.get(i)?;
        rp.length.is_none().then(|| self.laid_out(*d, i)).flatten()
    }

    /// Whether the nodes [`neighbours`](Self::neighbours) gives for relationship `i` have
    /// the labels of position `i + 1`, when it borrows a laid-out adjacency whose other
    /// ends all share one label set (so are shown): `Some(true)`, every one has them;
    /// `Some(false)`, none does; `None`, each must be read.
    fn ends_match(&self, i: usize) -> Option<bool> {
        let set = self.laid_out(self.plan.rels[i].1, i)?.ends()?;
        let labels = self.view.graph().set(set);
        Some(
            self.syms.labels[i + 1]
                .iter()
                .all(|l| l.is_some_and(|l| labels.contains(&l))),
        )
    }

    /// Edges shown from `n` in direction `d`, of a type `rp` allows, with the node at their
    /// other end. Types are compared as symbols, before the (dearer) visibility check.
    /// One type in one direction, laid out, is borrowed as it is: no list is made.
    fn neighbours(
        &self,
        n: NodeIndex,
        d: Direction,
        i: usize,
    ) -> Cow<'m, [(EdgeIndex, NodeIndex)]> {
        let view: &'m View<'_> = self.view;
        let graph = view.graph();
        let (types, possible) = &self.syms.types[i];
        if !possible {
            return Cow::Borrowed(&[]);
        }
        if let Some(adj) = self.laid_out(d, i) {
            return Cow::Borrowed(adj.of(n));
        }
        let mut out = Vec::new();
        if let (Some(pieces), [t]) = (view.pieces(), types.as_slice()) {
            let laid_out = |dir| pieces.adjacency(*t, dir);
            let outgoing = matches!(d, Direction::Right | Direction::Both);
            let incoming = matches!(d, Direction::Left | Direction::Both);
            if (!outgoing || laid_out(Dir::Outgoing).is_some())
                && (!incoming || laid_out(Dir::Incoming).is_some())
            {
                // Every edge of a view that shows everything is visible.
                if let Some(adj) = laid_out(Dir::Outgoing).filter(|_| outgoing) {
                    out.extend_from_slice(adj.of(n));
                }
                if let Some(adj) = laid_out(Dir::Incoming).filter(|_| incoming) {
                    // A loop was already seen going out.
                    let both = d == Direction::Both;
                    out.extend(adj.of(n).iter().filter(|&&(_, m)| !(both && m == n)));
                }
                return Cow::Owned(out);
            }
        }
        let allowed = |e: EdgeIndex| {
            (types.is_empty() || types.contains(&graph.g[e].rel_type)) && self.view.edge_visible(e)
        };
        if matches!(d, Direction::Right | Direction::Both) {
            out.extend(
                graph
                    .g
                    .edges_directed(n, Dir::Outgoing)
                    .filter(|e| allowed(e.id()))
                    .map(|e| (e.id(), e.target())),
            );
        }
        if matches!(d, Direction::Left | Direction::Both) {
            out.extend(
                graph
                    .g
                    .edges_directed(n, Dir::Incoming)
                    // A loop was already seen going out.
                    .filter(|e| !(d == Direction::Both && e.source() == n) && allowed(e.id()))
                    .map(|e| (e.id(), e.source())),
            );
        }
        Cow::Owned(out)
    }

    /// Matches relationship `i` and what follows, from the last node of the trail.
    fn extend(&mut self, i: usize) -> Result<(), QueryError> {
        if i == self.plan.rels.len() {
            return self.emit();
        }
        let (rp, d) = self.plan.rels[i];
        let cur = *self.nodes.last().unwrap_or(&NodeIndex::end());
        match rp.length {
            None => {
                let shown = match self.ends_match(i) {
                    // No node can match (nor a property of the relationship fail first).
                    Some(false) if rp.props.is_empty() => return Ok(()),
                    known => known == Some(true),
                };
                let ahead = self.next_adjacency(i + 1);
                // A query that reads valid times reads those of the relationships it binds.
                let spans = self
                    .view
                    .pieces()
                    .filter(|_| self.exec.asks_valid)
                    .filter(|_| matches!(self.plan.rel_use[i], VarUse::Bind(_)));
                let list = self.neighbours(cur, d, i);
                for (j, &(e, next)) in list.iter().enumerate() {
                    // What the walk reads of the relationships a few places on (the next
                    // step's adjacency of their nodes, offsets first; their valid times) is
                    // asked for now, so that reaching them does not wait for memory.
                    if let Some(adj) = ahead {
                        if let Some(&(_, m)) = list.get(j + 8) {
                            adj.prefetch_offsets(m);
                        }
                        if let Some(&(_, m)) = list.get(j + 4) {
                            adj.prefetch(m);
                        }
                    }
                    if let (Some(pieces), Some(&(f, _))) = (spans, list.get(j + 8)) {
                        pieces.prefetch_edge_valid(f);
                    }
                    self.exec.tick()?;
                    if self.used.contains(&e) || !self.rel_ok(rp, e)? {
                        continue;
                    }
                    match self.plan.rel_use[i] {
                        VarUse::Check(slot) if !matches!(self.row.get(slot), Some(Val::Edge(x)) if *x == e) =>
                        {
                            continue;
                        }
                        VarUse::Bind(slot) => self.row[slot] = Val::Edge(e),
                        _ => {}
                    }
                    let Verdict::Pass(after_rel) = self.stage(2 * i + 1) else {
                        continue;
                    };
                    if !self.bind_node(i + 1, next, shown)? {
                        self.restore(after_rel);
                        continue;
                    }
                    let Verdict::Pass(after_node) = self.stage(2 * i + 2) else {
                        self.restore(after_rel);
                        continue;
                    };
                    self.used.push(e);
                    self.edges.push(e);
                    self.nodes.push(next);
                    self.extend(i + 1)?;
                    self.nodes.pop();
                    self.edges.pop();
                    self.used.pop();
                    self.restore(after_node);
                    self.restore(after_rel);
                }
            }
            Some(len) => {
                let start_edges = self.edges.len();
                self.var_length(
                    i,
                    cur,
                    0,
                    len.min as usize,
                    len.max.map(|m| m as usize),
                    start_edges,
                )?;
            }
        }
        Ok(())
    }

    fn var_length(
        &mut self,
        i: usize,
        cur: NodeIndex,
        depth: usize,
        min: usize,
        max: Option<usize>,
        start_edges: usize,
    ) -> Result<(), QueryError> {
        let (rp, d) = self.plan.rels[i];
        if depth >= min {
            let list = Val::list(
                self.edges[start_edges..]
                    .iter()
                    .map(|&e| Val::Edge(e))
                    .collect(),
            );
            let rel_ok = match self.plan.rel_use[i] {
                VarUse::Check(slot) => self.row.get(slot).is_some_and(|v| *v == list),
                VarUse::Bind(slot) => {
                    self.row[slot] = list;
                    true
                }
                VarUse::None => true,
            };
            if rel_ok
                && self.bind_node(i + 1, cur, false)?
                && let Verdict::Pass(before) = self.stage(2 * i + 2)
            {
                if depth == 0 {
                    // Zero hops: the same node continues the trail.
                    self.extend(i + 1)?;
                } else {
                    self.nodes.push(cur);
                    self.extend(i + 1)?;
                    self.nodes.pop();
                }
                self.restore(before);
            }
        }
        if max.is_some_and(|m| depth >= m) {
            return Ok(());
        }
        if depth >= MAX_HOPS {
            return Err(QueryError::runtime(
                rp.span,
                format!(
                    "a variable-length pattern walked more than {MAX_HOPS} hops; give it an upper bound (`*1..5`)"
                ),
            ));
        }
        for &(e, next) in self.neighbours(cur, d, i).iter() {
            self.exec.tick()?;
            if self.used.contains(&e) || !self.rel_ok(rp, e)? {
                continue;
            }
            self.used.push(e);
            self.edges.push(e);
            if depth > 0 {
                self.nodes.push(cur);
            }
            self.var_length(i, next, depth + 1, min, max, start_edges)?;
            if depth > 0 {
                self.nodes.pop();
            }
            self.edges.pop();
            self.used.pop();
        }
        Ok(())
    }

    fn emit(&mut self) -> Result<(), QueryError> {
        if let Some(slot) = self.plan.path_slot {
            let mut nodes = self.nodes.clone();
            let mut edges = self.edges.clone();
            if self.plan.reversed {
                nodes.reverse();
                edges.reverse();
            }
            self.row[slot] = Val::Path(Arc::new(PathVal { nodes, edges }));
        }
        match self.last {
            None => self.out.push((self.row.clone(), self.used.clone())),
            Some(filter) => {
                let Verdict::Pass(before) = self.stage(filter.end()) else {
                    return Ok(());
                };
                match &self.doubt {
                    Doubt::Clear => {}
                    Doubt::Unknown => {
                        self.restore(before);
                        return Ok(());
                    }
                    Doubt::Failed(e) => return Err((**e).clone()),
                }
                match self.sink.take() {
                    Some(g) => {
                        let added = g.add(&self.env(), &self.row);
                        let groups = g.groups.len();
                        self.sink = Some(g);
                        added?;
                        self.exec.budget.rows(groups)?;
                    }
                    None => self.out.push((self.row.clone(), Vec::new())),
                }
            }
        }
        Ok(())
    }

    /// Shortest paths from `a` to `b` by breadth-first search over the edges the
    /// relationship pattern allows; every one for `allShortestPaths`.
    fn shortest(&mut self, a: NodeIndex, b: NodeIndex) -> Result<(), QueryError> {
        let (rp, d) = self.plan.rels[0];
        let (min, max) = rp.length.map_or((1, Some(1)), |l| {
            (l.min as usize, l.max.map(|m| m as usize))
        });
        let all = self.plan.kind == PathKind::AllShortest;
        if a == b {
            if min == 0 {
                self.nodes = vec![a];
                self.edges.clear();
                return self.emit_shortest(Vec::new());
            }
            return Ok(());
        }
        if !all && min <= 1 {
            return self.shortest_bidirectional(a, b, max);
        }
        // Distance and predecessors of each node reached.
        let mut seen: FxHashMap<NodeIndex, (usize, Vec<(EdgeIndex, NodeIndex)>)> =
            FxHashMap::default();
        seen.insert(a, (0, Vec::new()));
        let mut frontier = vec![a];
        let mut depth = 0;
        let mut found = false;
        while !frontier.is_empty() && !found && max.is_none_or(|m| depth < m) {
            depth += 1;
            let mut next = Vec::new();
            for &n in &frontier {
                for &(e, m) in self.neighbours(n, d, 0).iter() {
                    self.exec.tick()?;
                    if !self.rel_ok(rp, e)? {
                        continue;
                    }
                    match seen.get_mut(&m) {
                        Some((dist, preds)) if *dist == depth => {
                            if all {
                                preds.push((e, n));
                            }
                        }
                        Some(_) => {}
                        None => {
                            seen.insert(m, (depth, vec![(e, n)]));
                            next.push(m);
                            if m == b {
                                found = true;
                            }
                        }
                    }
                }
            }
            frontier = next;
        }
        if !found || depth < min {
            return Ok(());
        }
        // Walk predecessors back from `b`.
        let mut paths: Vec<(Vec<NodeIndex>, Vec<EdgeIndex>)> = vec![(vec![b], Vec::new())];
        let mut complete = Vec::new();
        while let Some((nodes, edges)) = paths.pop() {
            self.exec.tick()?;
            let head = *nodes.last().unwrap_or(&a);
            if head == a {
                complete.push((nodes, edges));
                if !all {
                    break;
                }
                continue;
            }
            let preds = seen.get(&head).map(|(_, p)| p.clone()).unwrap_or_default();
            for (e, p) in preds.into_iter().take(if all { usize::MAX } else { 1 }) {
                let mut n2 = nodes.clone();
                n2.push(p);
                let mut e2 = edges.clone();
                e2.push(e);
                paths.push((n2, e2));
            }
            self.exec.budget.rows(paths.len() + complete.len())?;
        }
        for (mut nodes, mut edges) in complete {
            nodes.reverse();
            edges.reverse();
            self.nodes = nodes;
            self.edges = edges.clone();
            self.emit_shortest(edges)?;
        }
        Ok(())
    }

    /// One shortest path from `a` to `b` (`a != b`), searching from both ends at once and
    /// always widening the smaller frontier: on graphs that branch, it visits a small part
    /// of what a search from one end would.
    fn shortest_bidirectional(
        &mut self,
        a: NodeIndex,
        b: NodeIndex,
        max: Option<usize>,
    ) -> Result<(), QueryError> {
        let (rp, d) = self.plan.rels[0];
        let back = match d {
            Direction::Right => Direction::Left,
            Direction::Left => Direction::Right,
            Direction::Both => Direction::Both,
        };
        // Each side: node → (depth, edge to its parent, parent).
        let mut sides: [Parents; 2] = [FxHashMap::default(), FxHashMap::default()];
        sides[0].insert(a, (0, EdgeIndex::end(), NodeIndex::end()));
        sides[1].insert(b, (0, EdgeIndex::end(), NodeIndex::end()));
        let mut frontiers = [vec![a], vec![b]];
        let mut depths = [0usize, 0usize];
        let mut best: Option<(usize, NodeIndex)> = None;
        while best.is_none() && !frontiers[0].is_empty() && !frontiers[1].is_empty() {
            if max.is_some_and(|m| depths[0] + depths[1] >= m) {
                break;
            }
            let side = usize::from(frontiers[1].len() < frontiers[0].len());
            let dir = if side == 0 { d } else { back };
            let frontier = std::mem::take(&mut frontiers[side]);
            let mut next = Vec::new();
            for n in frontier {
                for &(e, m) in self.neighbours(n, dir, 0).iter() {
                    self.exec.tick()?;
                    if sides[side].contains_key(&m) || !self.rel_ok(rp, e)? {
                        continue;
                    }
                    sides[side].insert(m, (depths[side] + 1, e, n));
                    if let Some(&(other, _, _)) = sides[1 - side].get(&m) {
                        let total = depths[side] + 1 + other;
                        if best.is_none_or(|(t, _)| total < t) {
                            best = Some((total, m));
                        }
                    }
                    next.push(m);
                }
            }
            frontiers[side] = next;
            depths[side] += 1;
        }
        let Some((total, meet)) = best else {
            return Ok(());
        };
        if max.is_some_and(|m| total > m) {
            return Ok(());
        }
        // From the meeting node back to `a`, then on to `b`.
        let mut nodes = vec![meet];
        let mut edges = Vec::new();
        let mut at = meet;
        while let Some(&(_, e, parent)) = sides[0].get(&at).filter(|x| x.0 > 0) {
            edges.push(e);
            nodes.push(parent);
            at = parent;
        }
        nodes.reverse();
        edges.reverse();
        let mut at = meet;
        while let Some(&(_, e, parent)) = sides[1].get(&at).filter(|x| x.0 > 0) {
            edges.push(e);
            nodes.push(parent);
            at = parent;
        }
        self.nodes = nodes;
        self.edges = edges.clone();
        self.emit_shortest(edges)
    }

    fn emit_shortest(&mut self, edges: Vec<EdgeIndex>) -> Result<(), QueryError> {
        if let VarUse::Bind(slot) = self.plan.rel_use[0] {
            self.row[slot] = Val::list(edges.iter().map(|&e| Val::Edge(e)).collect());
        }
        let used = self.used.clone();
        self.used.extend(edges);
        let r = self.emit();
        self.used = used;
        r
    }
}

/// A breadth-first search's tree: node → (depth, edge to its parent, parent).
type Parents = FxHashMap<NodeIndex, (usize, EdgeIndex, NodeIndex)>;

/// The rows of a projection that aggregates, grouped as they come: from a list of rows,
/// or straight from `MATCH` as each match is found (no row is kept but one per group). A
/// plain projection fed by a `MATCH` uses it too, with no call: each row projected is a
/// group of its own (its output row, no state), in the order they come.
struct Grouper {
    /// Every aggregate call, in the items and in `ORDER BY` (looked up by span).
    calls: Vec<Expr>,
    /// The items that are no aggregate: the grouping key.
    keys: Vec<Expr>,
    /// Per group: its first row (with no call: the projected row).
    groups: Vec<Row>,
    /// Per group, after those of the groups before it: the running state of each call (one
    /// vector for all, not one allocated per group).
    accs: Vec<Acc>,
    index: FxHashMap<SmallVec<[Val; 4]>, usize>,
    /// One buffer for every row's key, copied only when it starts a group.
    key: SmallVec<[Val; 4]>,
    /// Rows added.
    rows: usize,
    /// The keys and the calls' arguments, compiled for the rows' names on the first row.
    compiled: Option<(Vec<Compiled>, Vec<Option<Compiled>>)>,
    /// When every key is `v.key` of a node with a column whose codes are its values
    /// ([`Column::codes_equal_values`]): the keys' positions and columns. A row's key is
    /// then its codes packed in a `u128`, grouped in `by_code`, with no value read, hashed
    /// or copied. The first row that cannot be coded (its variable holds no node) turns
    /// the grouper to values for good: the groups so far are keyed again by values.
    coded: Option<Vec<(usize, Arc<Column>)>>,
    by_code: FxHashMap<u128, usize>,
    /// The last row's code and group: the matches of one start node come one after another
    /// and often share their key (`a.name` for each of `a`'s agreements).
    last_code: Option<(u128, usize)>,
}

impl Grouper {
    fn new(items: &[(String, Expr)], p: &Projection) -> Result<Grouper, QueryError> {
        let mut calls: Vec<Expr> = Vec::new();
        let mut collect_calls = |e: &Expr| {
            walk(e, &mut |x| {
                let agg = match &x.kind {
                    ExprKind::CountStar => true,
                    ExprKind::Call { name, .. } => is_aggregate(&name.node),
                    _ => false,
                };
                if agg {
                    calls.push(x.clone());
                }
            });
        };
        for (_, e) in items {
            collect_calls(e);
        }
        for s in &p.order {
            collect_calls(&s.expr);
        }
        for call in &calls {
            if let ExprKind::Call { args, name, .. } = &call.kind {
                if args.len() != 1 {
                    return Err(QueryError::semantic(
                        call.span,
                        format!("{}() takes one argument", name.node),
                    ));
                }
                if contains_aggregate(&args[0]) {
                    return Err(QueryError::semantic(
                        args[0].span,
                        "an aggregate cannot contain another aggregate",
                    ));
                }
            }
        }
        let keys = items
            .iter()
            .map(|(_, e)| e)
            .filter(|e| !contains_aggregate(e))
            .cloned()
            .collect();
        Ok(Grouper {
            calls,
            keys,
            groups: Vec::new(),
            accs: Vec::new(),
            index: FxHashMap::default(),
            key: SmallVec::new(),
            rows: 0,
            compiled: None,
            coded: None,
            by_code: FxHashMap::default(),
            last_code: None,
        })
    }

    /// Compiles the keys and arguments for `env`'s names, and codes the keys if it can.
    fn compile(&mut self, env: &Env<'_>) {
        let keys: Vec<Compiled> = self.keys.iter().map(|e| Compiled::new(e, env)).collect();
        let args = self
            .calls
            .iter()
            .map(|call| match &call.kind {
                ExprKind::Call { args, .. } => Some(Compiled::new(&args[0], env)),
                _ => None,
            })
            .collect();
        // Four codes of 32 bits fit a u128. `id` falls back to the node's id when it is no
        // property, which a column does not say.
        let columns = |pieces: &Pieces| -> Option<Vec<(usize, Arc<Column>)>> {
            keys.iter()
                .zip(&self.keys)
                .map(|(k, e)| {
                    let (slot, sym) = k.slot_property()?;
                    let named_id =
                        matches!(&e.kind, ExprKind::Property(_, key) if key.node == "id");
                    let column = pieces.column(sym).filter(|c| c.codes_equal_values())?;
                    (!named_id).then(|| (slot, column.clone()))
                })
                .collect()
        };
        // With no call, rows are projected, not grouped.
        self.coded = env
            .view
            .pieces()
            .filter(|_| !self.calls.is_empty() && (1..=4).contains(&keys.len()))
            .and_then(columns);
        self.compiled = Some((keys, args));
    }

    /// The row's key as codes, when the grouper codes keys and the row's variables hold
    /// nodes (or null, whose property is null: code 0).
    fn coded_key(&self, row: &[Val]) -> Option<u128> {
        let coded = self.coded.as_ref()?;
        let mut key = 0u128;
        for (slot, column) in coded {
            let code = match row.get(*slot)? {
                Val::Node(n) => column.code(n.index())?,
                Val::Null => 0,
                _ => return None,
            };
            key = (key << 32) | u128::from(code);
        }
        Some(key)
    }

    /// Keys the groups made so far by their values (computed again on each group's first
    /// row), for rows from now on to be grouped by value.
    fn key_by_values(&mut self, env: &Env<'_>) -> Result<(), QueryError> {
        self.by_code.clear();
        self.last_code = None;
        let keys = self.compiled.iter().flat_map(|(keys, _)| keys);
        for (g, rep) in self.groups.iter().enumerate() {
            let at = Env { row: rep, ..*env };
            let key = keys
                .clone()
                .map(|k| k.eval(&at))
                .collect::<Result<SmallVec<[Val; 4]>, _>>()?;
            self.index.insert(key, g);
        }
        Ok(())
    }

    fn new_group(&mut self, row: &[Val]) -> usize {
        self.accs.extend(self.calls.iter().map(Acc::new));
        self.groups.push(row.to_vec());
        self.groups.len() - 1
    }

    /// Adds one row, `env` evaluating on it.
    fn add(&mut self, env: &Env<'_>, row: &[Val]) -> Result<(), QueryError> {
        self.rows += 1;
        // Every row a grouper takes has the names of one clause.
        if self.compiled.is_none() {
            self.compile(env);
        }
        // No aggregate: each row is projected, in the order it comes.
        if self.calls.is_empty() {
            let out = self
                .compiled
                .iter()
                .flat_map(|(keys, _)| keys)
                .map(|k| k.eval(env))
                .collect::<Result<Row, _>>()?;
            self.groups.push(out);
            return Ok(());
        }
        let g = match self.coded_key(row) {
            Some(code) => match self.last_code {
                Some((last, g)) if last == code => g,
                _ => {
                    let g = match self.by_code.get(&code) {
                        Some(&g) => g,
                        None => {
                            self.by_code.insert(code, self.groups.len());
                            self.new_group(row)
                        }
                    };
                    self.last_code = Some((code, g));
                    g
                }
            },
            None => {
                if self.coded.take().is_some() {
                    self.key_by_values(env)?;
                }
                self.key.clear();
                for e in self.compiled.iter().flat_map(|(keys, _)| keys) {
                    self.key.push(e.eval(env)?);
                }
                match self.index.get(self.key.as_slice()) {
                    Some(&g) => g,
                    None => {
                        self.index.insert(self.key.clone(), self.groups.len());
                        self.new_group(row)
                    }
                }
            }
        };
        let args = self.compiled.as_ref().map_or(&[][..], |(_, args)| args);
        let n = self.calls.len();
        for ((acc, call), arg) in self.accs[g * n..(g + 1) * n]
            .iter_mut()
            .zip(&self.calls)
            .zip(args.iter())
        {
            let v = match arg {
                Some(arg) => arg.eval(env)?,
                None => Val::Bool(true),
            };
            acc.add(v, call.span)?;
        }
        Ok(())
    }
}

/// An aggregate's running state.
enum Acc {
    Count(i64),
    Collect(Vec<Val>),
    Min(Option<Val>),
    Max(Option<Val>),
    Sum(Option<Val>),
    Avg(f64, u64),
    /// The same, over distinct values only: nodes (by far the most counted) in a set of
    /// their indices, other values in a set of values. A node equals only itself.
    Distinct(Box<Acc>, FxHashSet<NodeIndex>, FxHashSet<Val>),
    /// `count(DISTINCT x)`: nodes listed as they come and deduplicated by sorting, when
    /// the list has doubled since and at the end (appending is sequential; a hash set
    /// that outgrows the cache costs a miss per row); other values in a set. A list that
    /// holds more distinct nodes than a bit per node index up to the largest would take
    /// room for becomes that bit set (`bits`, empty until then), counted as it is set.
    CountDistinct {
        nodes: Vec<NodeIndex>,
        unique: usize,
        others: FxHashSet<Val>,
        bits: Vec<u64>,
    },
}

/// Entries a `count(DISTINCT …)` list holds before its first deduplication.
const LISTED: usize = 1024;

/// Sets node `n`'s bit, growing the set as needed; whether it was clear.
fn set_bit(bits: &mut Vec<u64>, n: NodeIndex) -> bool {
    let (word, bit) = (n.index() / 64, n.index() % 64);
    if word >= bits.len() {
        bits.resize(word + 1, 0);
    }
    let was = bits[word];
    bits[word] = was | (1 << bit);
    was & (1 << bit) == 0
}

/// Sorts and deduplicates `nodes`, returning how many there are.
fn dedup_nodes(nodes: &mut Vec<NodeIndex>) -> usize {
    nodes.sort_unstable();
    nodes.dedup();
    nodes.len()
}

impl Acc {
    fn new(call: &Expr) -> Acc {
        let (name, distinct) = match &call.kind {
            ExprKind::Call { name, distinct, .. } => (name.node.to_ascii_lowercase(), *distinct),
            _ => ("count".to_owned(), false),
        };
        let base = match name.as_str() {
            "collect" => Acc::Collect(Vec::new()),
            "min" => Acc::Min(None),
            "max" => Acc::Max(None),
            "sum" => Acc::Sum(None),
            "avg" => Acc::Avg(0.0, 0),
            _ => Acc::Count(0),
        };
        if distinct && matches!(base, Acc::Count(_)) {
            Acc::CountDistinct {
                nodes: Vec::new(),
                unique: 0,
                others: FxHashSet::default(),
                bits: Vec::new(),
            }
        } else if distinct {
            Acc::Distinct(Box::new(base), FxHashSet::default(), FxHashSet::default())
        } else {
            base
        }
    }

    fn add(&mut self, v: Val, span: Span) -> Result<(), QueryError> {
        if v.is_null() {
            return Ok(());
        }
        match self {
            Acc::Count(n) => *n += 1,
            Acc::Collect(items) => items.push(v),
            Acc::Min(m) => {
                if m.as_ref()
                    .is_none_or(|x| v.sort_cmp(x) == std::cmp::Ordering::Less)
                {
                    *m = Some(v);
                }
            }
            Acc::Max(m) => {
                if m.as_ref()
                    .is_none_or(|x| v.sort_cmp(x) == std::cmp::Ordering::Greater)
                {
                    *m = Some(v);
                }
            }
            Acc::Sum(s) => {
                if !matches!(v, Val::Int(_) | Val::Float(_)) {
                    return Err(QueryError::runtime(
                        span,
                        format!("sum() expects numbers, found a {}", v.type_name()),
                    ));
                }
                *s = Some(match s.take() {
                    None => v,
                    Some(x) => super::eval::binary_values(BinaryOp::Add, &x, &v, span)?,
                });
            }
            Acc::Avg(total, n) => match v {
                Val::Int(i) => {
                    *total += i as f64;
                    *n += 1;
                }
                Val::Float(f) => {
                    *total += f;
                    *n += 1;
                }
                other => {
                    return Err(QueryError::runtime(
                        span,
                        format!("avg() expects numbers, found a {}", other.type_name()),
                    ));
                }
            },
            Acc::CountDistinct {
                nodes,
                unique,
                others,
                bits,
            } => match v {
                Val::Node(n) if !bits.is_empty() => *unique += usize::from(set_bit(bits, n)),
                Val::Node(n) => {
                    nodes.push(n);
                    if nodes.len() >= 2 * (*unique).max(LISTED) {
                        *unique = dedup_nodes(nodes);
                        // Sorted: the last is the largest index.
                        let words = nodes.last().map_or(0, |m| m.index() / 64 + 1);
                        if *unique >= 2 * words {
                            bits.resize(words, 0);
                            for m in std::mem::take(nodes) {
                                set_bit(bits, m);
                            }
                        }
                    }
                }
                other => {
                    others.insert(other);
                }
            },
            Acc::Distinct(inner, nodes, others) => {
                let new = match v {
                    Val::Node(n) => nodes.insert(n),
                    _ => others.insert(v.clone()),
                };
                if new {
                    inner.add(v, span)?;
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Val {
        match self {
            Acc::Count(n) => Val::Int(n),
            Acc::Collect(items) => Val::list(items),
            Acc::Min(m) | Acc::Max(m) => m.unwrap_or(Val::Null),
            Acc::Sum(s) => s.unwrap_or(Val::Int(0)),
            Acc::Avg(_, 0) => Val::Null,
            Acc::Avg(total, n) => Val::Float(total / n as f64),
            Acc::Distinct(inner, ..) => inner.finish(),
            Acc::CountDistinct {
                mut nodes,
                others,
                bits,
                unique,
            } => {
                let nodes = if bits.is_empty() {
                    dedup_nodes(&mut nodes)
                } else {
                    unique
                };
                Val::Int(i64::try_from(nodes + others.len()).unwrap_or(i64::MAX))
            }
        }
    }
}

/// A projection's written items, each with its column name (its alias, or its text).
fn projection_items(p: &Projection) -> Vec<(String, Expr)> {
    p.items
        .iter()
        .map(|item| {
            let name = item
                .alias
                .as_ref()
                .map_or_else(|| item.text.clone(), |a| a.node.clone());
            (name, item.expr.clone())
        })
        .collect()
}

/// A projection the `MATCH` before it may hand each match as found: one that aggregates
/// over every row (no `*`), keeping one row per group instead of every row, or a plain one
/// (no `*`, `DISTINCT`, `ORDER BY`, `SKIP`, `LIMIT` or `WHERE`), keeping each match's
/// projected row instead of the match.
fn groups_as_it_goes(p: &Projection) -> bool {
    let plain = p.order.is_empty()
        && !p.distinct
        && p.skip.is_none()
        && p.limit.is_none()
        && p.filter.is_none();
    !p.star && (plain || p.items.iter().any(|i| contains_aggregate(&i.expr)))
}

/// Every property key a query names, in patterns and expressions, without repeats.
fn property_keys(exprs: &[&Expr], query: &Query) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut add = |k: &str| {
        if !keys.iter().any(|x| x == k) {
            keys.push(k.to_owned());
        }
    };
    for clause in &query.clauses {
        if let Clause::Match { patterns, .. } = clause {
            for p in patterns {
                for np in std::iter::once(&p.start).chain(p.steps.iter().map(|(_, n)| n)) {
                    for (k, _) in &np.props {
                        add(&k.node);
                    }
                }
            }
        }
    }
    for e in exprs {
        walk(e, &mut |x| {
            if let ExprKind::Property(_, k) = &x.kind {
                add(&k.node);
            }
        });
    }
    keys
}

/// The expressions of a query's reading clauses: inline properties of `MATCH` patterns,
/// filters, `UNWIND` lists and projections.
fn read_exprs(query: &Query) -> Vec<&Expr> {
    let mut exprs: Vec<&Expr> = Vec::new();
    for clause in &query.clauses {
        match clause {
            Clause::Match {
                patterns, filter, ..
            } => {
                for p in patterns {
                    for np in std::iter::once(&p.start).chain(p.steps.iter().map(|(_, n)| n)) {
                        exprs.extend(np.props.iter().map(|(_, e)| e));
                    }
                    for (rp, _) in &p.steps {
                        exprs.extend(rp.props.iter().map(|(_, e)| e));
                    }
                }
                exprs.extend(filter);
            }
            Clause::Unwind { expr, .. } => exprs.push(expr),
            Clause::With(p) | Clause::Return(p) => {
                exprs.extend(p.items.iter().map(|i| &i.expr));
                exprs.extend(p.order.iter().map(|s| &s.expr));
                exprs.extend(&p.filter);
            }
            Clause::Call { filter, .. } => exprs.extend(filter),
            _ => {}
        }
    }
    exprs
}

/// Warnings for labels, relationship types and property keys in the query's `MATCH`
/// patterns that the knowledge base has never seen, each naming the closest known one. The
/// known names are gathered only when a name is unknown: a query that names only known
/// things pays a few symbol lookups.
pub fn unknown_name_warnings(graph: &Graph, query: &Query) -> Vec<super::error::Warning> {
    use super::error::Warning;
    use super::eval::closest;
    if graph.is_empty() {
        return Vec::new();
    }
    let mut warnings = Vec::new();
    let mut warn = |name: &Ident, what: &str, known: Vec<&str>| {
        let hint = closest(&name.node, known.iter().copied())
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        warnings.push(Warning {
            message: format!("no {what} `{}` in the knowledge base{hint}", name.node),
            span: name.span,
        });
    };
    let seen = |name: &Ident, index: &FxHashMap<Sym, Vec<_>>| {
        graph
            .symbol(&name.node)
            .is_some_and(|s| index.contains_key(&s))
    };
    for clause in &query.clauses {
        let Clause::Match { patterns, .. } = clause else {
            continue;
        };
        for p in patterns {
            for np in std::iter::once(&p.start).chain(p.steps.iter().map(|(_, n)| n)) {
                for l in np.labels.iter().filter(|l| !seen(l, &graph.by_label)) {
                    warn(l, "label", graph.label_names());
                }
                // Every property key is a symbol; other symbols are not keys, but a name
                // that is no symbol at all is surely unknown.
                for (k, _) in np.props.iter().filter(|(k, _)| k.node != "id") {
                    if graph.symbol(&k.node).is_none() {
                        warn(k, "property", graph.symbol_names());
                    }
                }
            }
            for (rp, _) in &p.steps {
                for t in rp.types.iter().filter(|t| {
                    graph
                        .symbol(&t.node)
                        .is_none_or(|s| !graph.by_type.contains_key(&s))
                }) {
                    warn(t, "relationship type", graph.type_names());
                }
            }
        }
    }
    warnings
}
