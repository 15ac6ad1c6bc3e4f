//! The syntax tree of the language, as the parser produces it and the planner consumes it.
//!
//! Every node that an error may point at carries its [`Span`] in the source text. The grammar
//! (`grammar/diplograph.ebnf`) is the authority on what each node may contain; the names of
//! its rules are the names of the parser functions that build these types.

use crate::time::{Date, DayRange, ValidTime};

/// A range of bytes in the source text, `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct Span {
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A value with the span it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

/// A name written in the query: a variable, label, type, property key, alias or function.
pub type Ident = Spanned<String>;

/// A script: statements separated by `;` (the last `;` is optional).
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// The statements in order.
    pub statements: Vec<Statement>,
}

/// One statement. Each query that writes is one transaction, unless grouped by
/// `BEGIN` … `COMMIT`.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    /// A query: reads, writes or both.
    Query(Query),
    /// `BEGIN`: the following statements form one transaction, up to `COMMIT`.
    Begin(Span),
    /// `COMMIT`: ends the group begun by `BEGIN` and writes it.
    Commit(Span),
    /// `ROLLBACK`: drops the group begun by `BEGIN`, writing nothing of it.
    Rollback(Span),
    /// `RETRACT TX 12 REASON "…"`: hides the facts of a transaction from later views.
    Retract {
        /// The retracted transaction.
        tx: Spanned<u64>,
        /// Why, as recorded in the log.
        reason: Spanned<String>,
        /// The whole statement.
        span: Span,
    },
    /// `HISTORY [AT TX n] pattern [WHERE expr]`: every event that touched each matched node
    /// or relationship, oldest first, retractions included.
    History(History),
    /// `TIMELINE <from> .. <to> [STEP n YEARS|MONTHS] [BY column] query`: the query as of
    /// each point.
    Timeline(Timeline),
    /// `DIFF AS OF d1, d2` (the world) or `DIFF AT TX a, TX b` (the record).
    Diff {
        /// What is compared.
        between: DiffBetween,
        /// The whole statement.
        span: Span,
    },
}

/// `HISTORY [AT TX n] pattern [WHERE expr]`.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// Where the pattern is matched (the latest state when none).
    pub at: Option<Spanned<TxTime>>,
    /// The patterns: the elements bound to variables, or every element when none is named.
    pub patterns: Vec<PathPattern>,
    /// The filter.
    pub filter: Option<Expr>,
    /// The whole statement.
    pub span: Span,
}

/// `TIMELINE <from> .. <to> [STEP n YEARS|MONTHS] [BY column] query`.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// The first point.
    pub from: Spanned<Date>,
    /// The last point (included when a step lands on it).
    pub to: Spanned<Date>,
    /// The step between points (one year when none).
    pub step: Option<Spanned<Step>>,
    /// `BY column`: the query's rows per point become columns named by this column's values.
    pub by: Option<Ident>,
    /// The query run at each point (read-only; its valid time is the point).
    pub query: Query,
    /// The whole statement.
    pub span: Span,
}

/// The distance between two points of a timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `STEP n YEARS`.
    Years(u32),
    /// `STEP n MONTHS`.
    Months(u32),
}

/// The two states `DIFF` compares.
#[derive(Clone, Debug, PartialEq)]
pub enum DiffBetween {
    /// `DIFF AS OF d1, d2 [AT TX n]`: the record (latest, or after `n`), at two valid times.
    Valid(Spanned<Date>, Spanned<Date>, Option<Spanned<TxTime>>),
    /// `DIFF AT TX a, TX b`: the record after two transactions.
    Tx(Spanned<u64>, Spanned<u64>),
}

/// A query: optional time selectors, then clauses.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// `AT TX n` / `AT <timestamp>`: which transaction time to read.
    pub at: Option<Spanned<TxTime>>,
    /// `AS OF <date>` / `DURING <interval>`: which valid time to read.
    pub valid: Option<Spanned<ValidSelector>>,
    /// The clauses in order.
    pub clauses: Vec<Clause>,
    /// The whole query.
    pub span: Span,
}

/// A transaction-time selector.
#[derive(Clone, Debug, PartialEq)]
pub enum TxTime {
    /// `AT TX 12`: as the knowledge base was after transaction 12.
    Tx(u64),
    /// `AT "2025-01-01T00:00:00Z"` or `AT 2025-01-01`: after the last transaction recorded at
    /// or before this instant (RFC 3339, or a day meaning its end, UTC). The text as written.
    Timestamp(String),
}

/// A valid-time selector.
#[derive(Clone, Debug, PartialEq)]
pub enum ValidSelector {
    /// `AS OF 2005`: facts valid at some day of this (possibly partial) date.
    AsOf(Date),
    /// `DURING 2000/2010`: facts valid at some day of this interval.
    During(ValidTime),
}

impl ValidSelector {
    /// The days a view restricted by this selector shows facts of.
    pub fn days(&self) -> DayRange {
        match self {
            ValidSelector::AsOf(d) => DayRange::of(*d),
            ValidSelector::During(t) => t.days(),
        }
    }
}

/// One clause of a query.
#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    /// `[OPTIONAL] MATCH pattern, … [WHERE expr]`.
    Match {
        /// `OPTIONAL MATCH`: rows without a match are kept, the new variables null.
        optional: bool,
        /// Comma-separated path patterns.
        patterns: Vec<PathPattern>,
        /// The filter.
        filter: Option<Expr>,
        /// The whole clause.
        span: Span,
    },
    /// `LOAD CSV [WITH HEADERS] FROM path AS row [FIELDTERMINATOR "…"]`: one row per record
    /// of the file, `row` a map by header (or a list without headers); empty fields are
    /// null.
    LoadCsv {
        /// Whether the first record names the columns.
        headers: bool,
        /// The file: a string (a path, or a `file://` URL) or a parameter.
        path: Expr,
        /// The variable bound to each record.
        alias: Ident,
        /// The field separator (`,` when none).
        terminator: Option<Spanned<String>>,
        /// The whole clause.
        span: Span,
    },
    /// `UNWIND expr AS name`.
    Unwind {
        /// A list (null gives no rows; a non-list, one row).
        expr: Expr,
        /// The variable bound to each element.
        alias: Ident,
        /// The whole clause.
        span: Span,
    },
    /// `WITH …`: projects and continues.
    With(Projection),
    /// `RETURN …`: projects and ends the query.
    Return(Projection),
    /// `CREATE pattern, … [VALID …] [SOURCE …]`.
    Create {
        /// Patterns of nodes and relationships to create; bound variables are reused.
        patterns: Vec<PathPattern>,
        /// Valid time and sources of what is created.
        meta: WriteMeta,
        /// The whole clause.
        span: Span,
    },
    /// `MERGE pattern [VALID …] [SOURCE …]`: matches the pattern, or creates it whole.
    Merge {
        /// One path pattern.
        pattern: PathPattern,
        /// Valid time and sources of what is created.
        meta: WriteMeta,
        /// The whole clause.
        span: Span,
    },
    /// `SET item, … [VALID …] [SOURCE …]`, and `REMOVE n.key, …` (a set to null).
    Set {
        /// The assignments.
        items: Vec<SetItem>,
        /// Valid time and sources of the new values.
        meta: WriteMeta,
        /// The whole clause.
        span: Span,
    },
    /// `CALL name([options]) YIELD column [AS alias], … [WHERE expr]`: a graph algorithm
    /// on the query's view; one row per node, for each row so far.
    Call {
        /// The algorithm.
        name: Ident,
        /// Its arguments (an options map, or none).
        args: Vec<Expr>,
        /// The columns taken, each with the variable it binds.
        yields: Vec<(Ident, Ident)>,
        /// The filter.
        filter: Option<Expr>,
        /// The whole clause.
        span: Span,
    },
    /// `END var, … AT <date> [SOURCE …]`: the nodes or relationships stopped holding at the
    /// date (inclusive).
    End {
        /// Variables bound to nodes or relationships.
        targets: Vec<Ident>,
        /// The last date they held.
        date: Spanned<Date>,
        /// Sources (its valid time is not used).
        meta: WriteMeta,
        /// The whole clause.
        span: Span,
    },
}

/// The valid time and the sources that a writing clause ends with.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct WriteMeta {
    /// `VALID FROM a [TO b]` or `VALID <interval>`; none means always.
    pub valid: Option<Spanned<ValidTime>>,
    /// `VALID FROM expr [TO expr]` with expressions, evaluated for each row (a date, EDTF
    /// text, or null for an open end): valid time from a file's columns.
    pub valid_exprs: Option<Spanned<(Expr, Option<Expr>)>>,
    /// `SOURCE "key", …`: citation keys of Source nodes.
    pub sources: Vec<Spanned<String>>,
    /// `SOURCE row.source, …`: keys given by expressions (a string or a list of them),
    /// evaluated for each row.
    pub source_exprs: Vec<Expr>,
}

/// One assignment of `SET`.
#[derive(Clone, Debug, PartialEq)]
pub enum SetItem {
    /// `n.key = expr` (and `REMOVE n.key`, with a null value).
    Property {
        /// The node or relationship variable.
        var: Ident,
        /// The property key.
        key: Ident,
        /// The new value.
        value: Expr,
    },
    /// `n += {key: expr, …}`: several properties at once.
    Merge {
        /// The node or relationship variable.
        var: Ident,
        /// A map expression.
        value: Expr,
    },
}

/// What `WITH` and `RETURN` share.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// `DISTINCT`.
    pub distinct: bool,
    /// `*`: every variable in scope, then the items.
    pub star: bool,
    /// The projected expressions.
    pub items: Vec<ProjectionItem>,
    /// `ORDER BY …`.
    pub order: Vec<SortItem>,
    /// `SKIP n`.
    pub skip: Option<Expr>,
    /// `LIMIT n`.
    pub limit: Option<Expr>,
    /// `WITH … WHERE expr` (never on `RETURN`).
    pub filter: Option<Expr>,
    /// The whole clause.
    pub span: Span,
}

/// `expr [AS alias]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionItem {
    /// The expression.
    pub expr: Expr,
    /// The alias, if written.
    pub alias: Option<Ident>,
    /// The expression's text as written, the column's name when there is no alias.
    pub text: String,
}

/// `expr [ASC|DESC]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SortItem {
    /// The key.
    pub expr: Expr,
    /// `DESC`/`DESCENDING`.
    pub descending: bool,
}

/// A path pattern: `[p =] [shortestPath(] (a)-[r]->(b)… [)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct PathPattern {
    /// `p = …`: the variable bound to the path.
    pub var: Option<Ident>,
    /// Plain, `shortestPath(…)` or `allShortestPaths(…)`.
    pub kind: PathKind,
    /// The first node.
    pub start: NodePattern,
    /// Each relationship and the node after it.
    pub steps: Vec<(RelPattern, NodePattern)>,
    /// The whole pattern.
    pub span: Span,
}

/// How a path pattern matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathKind {
    /// Every path that fits.
    Plain,
    /// `shortestPath(…)`: one shortest path between its two end nodes.
    Shortest,
    /// `allShortestPaths(…)`: every shortest path between its two end nodes.
    AllShortest,
}

/// `(v:Label:Other {key: value, …})`.
#[derive(Clone, Debug, PartialEq)]
pub struct NodePattern {
    /// The variable, if any (`()` has none).
    pub var: Option<Ident>,
    /// Labels the node must all have.
    pub labels: Vec<Ident>,
    /// Properties the node must have, with these values.
    pub props: Vec<(Ident, Expr)>,
    /// The whole pattern.
    pub span: Span,
}

/// `-[r:A|B*1..3 {key: value}]->`.
#[derive(Clone, Debug, PartialEq)]
pub struct RelPattern {
    /// The variable, if any.
    pub var: Option<Ident>,
    /// Allowed types (any when empty).
    pub types: Vec<Ident>,
    /// Properties the relationship must have.
    pub props: Vec<(Ident, Expr)>,
    /// Which way it points.
    pub direction: Direction,
    /// `*`, `*2`, `*1..3`, `*..3`, `*2..`: a variable-length relationship, with its bounds.
    pub length: Option<Length>,
    /// The whole pattern.
    pub span: Span,
}

/// Bounds of a variable-length relationship; `*` alone is `1..` (unbounded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Length {
    /// The fewest hops (default 1).
    pub min: u32,
    /// The most hops (none: unbounded).
    pub max: Option<u32>,
}

/// The direction of a relationship pattern, as written left to right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `-[]->`
    Right,
    /// `<-[]-`
    Left,
    /// `-[]-`: either way.
    Both,
}

/// An expression, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal value.
    Literal(Literal),
    /// `$name`.
    Parameter(String),
    /// A variable.
    Variable(String),
    /// `expr.key`.
    Property(Box<Expr>, Ident),
    /// `expr[index]` (lists, and maps by string key).
    Index(Box<Expr>, Box<Expr>),
    /// `expr[from..to]` (either bound optional).
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    /// `[a, b, …]`.
    List(Vec<Expr>),
    /// `{key: value, …}`.
    Map(Vec<(Ident, Expr)>),
    /// `NOT e`, `-e`.
    Unary(UnaryOp, Box<Expr>),
    /// `a op b`.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `e IS NULL` (`negated`: `IS NOT NULL`).
    IsNull {
        /// The tested expression.
        expr: Box<Expr>,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `n:Label:Other`: whether a node has all these labels.
    HasLabels(Box<Expr>, Vec<Ident>),
    /// `f(args)`, `f(DISTINCT arg)`; aggregates are calls too.
    Call {
        /// The function's name as written (matched case-insensitively).
        name: Ident,
        /// `DISTINCT` before the arguments (aggregates only).
        distinct: bool,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `count(*)`.
    CountStar,
    /// `CASE [subject] WHEN … THEN … [ELSE …] END`.
    Case {
        /// The compared value, for the simple form.
        subject: Option<Box<Expr>>,
        /// `WHEN condition THEN result` pairs.
        branches: Vec<(Expr, Expr)>,
        /// `ELSE result`.
        otherwise: Option<Box<Expr>>,
    },
}

/// A literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `null`
    Null,
    /// `true`, `false`
    Bool(bool),
    /// `42`
    Int(i64),
    /// `4.2`, `1e3`
    Float(f64),
    /// `"text"` or `'text'`, escapes resolved.
    Str(String),
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `NOT`
    Not,
    /// `-`
    Neg,
}

/// Binary operators, loosest binding first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `OR`
    Or,
    /// `XOR`
    Xor,
    /// `AND`
    And,
    /// `=`
    Eq,
    /// `<>` (also `!=`)
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `IN`
    In,
    /// `STARTS WITH`
    StartsWith,
    /// `ENDS WITH`
    EndsWith,
    /// `CONTAINS`
    Contains,
    /// `+` (numbers, strings, lists)
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
}
