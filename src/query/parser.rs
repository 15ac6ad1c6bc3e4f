//! The parser: source text → [`ast`](super::ast), written with nom 8.
//!
//! # Structure
//!
//! `grammar/diplograph.ebnf` is the authority, and this file follows it rule by rule: every
//! rule is one function of the same name (`node_pattern` in the grammar is
//! `fn node_pattern` here), documented with the rule's right-hand side. Rules that build
//! nodes with spans are methods of the context `Cx`; the few lexical rules that need no
//! position (`ws`, `comment`, `word`, `escape_sequence`, `exponent`) are free
//! functions. The sections follow the grammar's: statements, clauses, patterns,
//! expressions, lexical rules; then the entry points.
//!
//! The input of every rule is the `&str` still to be read. A position is a byte offset into
//! the whole source, `source.len() - rest.len()`, which is why the rules are methods of
//! `Cx`, which knows the source.
//!
//! # Errors
//!
//! nom's `Err::Error` means "not this construct": the caller tries another alternative.
//! `Err::Failure` means the construct was recognised and is wrong: nothing else is tried, and
//! the failure is the error reported. A construct commits at its first distinctive token —
//! after `(` of a node pattern, after a keyword — through `Expect::or_expected`, this
//! parser's `cut`: a part that does not match becomes a failure at the offending token,
//! "expected X, found Y". The error type, `PError`, stores where (as the length of the
//! input left, so that nom can build one without context) and the message; the entry points
//! turn it into a [`QueryError`] whose span covers the offending token.
//!
//! # Depth
//!
//! Nothing a user types may overflow the stack, here or in whatever walks the tree later
//! (dropping it, evaluating it). Two limits, both [`MAX_DEPTH`], see to it: the parser's own
//! recursion (each nested expression, `NOT` and unary sign counts one level), and the height
//! of every expression tree it builds — which also bounds the operator chains (`1 + 1 + …`)
//! and postfix chains (`a.b.c…`) that the parser reads in loops, not by recursion.

use std::cell::Cell;
use std::ops::ControlFlow;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_until, take_while, take_while1};
use nom::character::complete::{char, digit1, one_of, satisfy};
use nom::combinator::{not, opt, recognize};
use nom::error::{ErrorKind as NomKind, ParseError};
use nom::multi::many0_count;
use nom::{IResult, Parser};

use super::ast::*;
use super::error::QueryError;
use crate::time::{Bound, Date, ValidTime};

/// How deeply expressions may nest, and how tall an expression tree may grow: deeper input
/// is a syntax error, not a stack overflow.
pub const MAX_DEPTH: u32 = 100;

/// The input still to be parsed.
type In<'s> = &'s str;
/// What every rule returns.
type PResult<'s, T> = IResult<In<'s>, T, PError>;
/// A rule's error, as nom wraps it.
type Fail = nom::Err<PError>;

// ----- errors ----------------------------------------------------------------------------------

/// A parse error: where it happened, and what was expected there.
#[derive(Debug)]
struct PError {
    /// The bytes of input left where it happened, so that nom can build one without context;
    /// the offset is `source.len() - remaining`.
    remaining: usize,
    /// The explanation; `None` for nom's own errors, which only mean "not this alternative".
    /// (Boxed: errors pass through every rule's result, and most are never explained.)
    explained: Option<Box<Explained>>,
}

/// What a failure says, and over which text.
#[derive(Debug)]
struct Explained {
    /// "expected …, found …", or another sentence.
    message: String,
    /// The bytes of the offending text; `None` for the token that starts there.
    len: Option<usize>,
}

impl PError {
    fn new(at: In<'_>, len: Option<usize>, message: String) -> PError {
        PError {
            remaining: at.len(),
            explained: Some(Box::new(Explained { message, len })),
        }
    }
}

impl ParseError<In<'_>> for PError {
    fn from_error_kind(input: In<'_>, _: NomKind) -> PError {
        PError {
            remaining: input.len(),
            explained: None,
        }
    }

    fn append(_: In<'_>, _: NomKind, other: PError) -> PError {
        other
    }

    fn or(self, other: PError) -> PError {
        // An error that explains itself beats one that does not; else the one that got further.
        match (&self.explained, &other.explained) {
            (Some(_), None) => self,
            (None, Some(_)) => other,
            _ if self.remaining <= other.remaining => self,
            _ => other,
        }
    }
}

/// A failure at the next token of `i` (after whitespace and comments): "expected {what},
/// found {token}".
fn fail<'s, T>(i: In<'s>, what: &str) -> PResult<'s, T> {
    let (i, ()) = ws(i)?;
    let message = format!("expected {what}, found {}", found(i));
    Err(nom::Err::Failure(PError::new(i, None, message)))
}

/// A failure with a message of its own, over `len` bytes at `at` (`None`: the token there).
fn failure(at: In<'_>, len: Option<usize>, message: impl Into<String>) -> Fail {
    nom::Err::Failure(PError::new(at, len, message.into()))
}

/// [`failure`], as a rule's result.
fn fail_at<'s, T>(at: In<'s>, len: Option<usize>, message: impl Into<String>) -> PResult<'s, T> {
    Err(failure(at, len, message))
}

/// nom's "not this alternative": the caller may try another.
fn backtrack<'s, T>(i: In<'s>) -> PResult<'s, T> {
    Err(nom::Err::Error(PError::from_error_kind(i, NomKind::Verify)))
}

/// Commits to a construct: once its start has been recognised, a part that does not match
/// is a failure that names what was expected (nom's `cut`, with a message).
trait Expect<'s, T> {
    /// Turns "not this" into "expected {what}, found …" at `i`.
    fn or_expected(self, i: In<'s>, what: &str) -> PResult<'s, T>;
    /// Turns "not this" into "expected an expression after {op}, found …" at `i`.
    fn or_operand(self, i: In<'s>, op: &str) -> PResult<'s, T>;
}

impl<'s, T> Expect<'s, T> for PResult<'s, T> {
    fn or_expected(self, i: In<'s>, what: &str) -> PResult<'s, T> {
        match self {
            Err(nom::Err::Error(_)) => fail(i, what),
            other => other,
        }
    }

    fn or_operand(self, i: In<'s>, op: &str) -> PResult<'s, T> {
        match self {
            Err(nom::Err::Error(_)) => fail(i, &format!("an expression after {op}")),
            other => other,
        }
    }
}

/// The length in bytes of the token at the start of `rest`: a word or number, a quoted
/// string or name (to its closing quote or the end of the line), a two-character operator,
/// or one character; 0 at the end of the input.
fn token_len(rest: &str) -> usize {
    let mut chars = rest.char_indices();
    let Some((_, first)) = chars.next() else {
        return 0;
    };
    if is_ident_char(first) {
        return rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len());
    }
    if matches!(first, '"' | '\'' | '`') {
        let mut escaped = false;
        for (k, c) in chars {
            match c {
                '\n' => return k,
                _ if escaped => escaped = false,
                '\\' if first != '`' => escaped = true,
                _ if c == first => return k + 1,
                _ => {}
            }
        }
        return rest.len();
    }
    const PAIRS: [&str; 10] = ["->", "<-", "<>", "<=", ">=", "!=", "..", "+=", "/*", "//"];
    if PAIRS.iter().any(|p| rest.starts_with(p)) {
        return 2;
    }
    first.len_utf8()
}

/// The token at the start of `rest`, for "found …": `` `RETRUN` ``, or "the end of the
/// input".
fn found(rest: &str) -> String {
    let token = &rest[..token_len(rest)];
    if token.is_empty() {
        return "the end of the input".to_owned();
    }
    let mut shown = String::new();
    for c in token.chars().take(30) {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    if token.chars().nth(30).is_some() {
        shown.push('…');
    }
    format!("`{shown}`")
}

/// "found `end`, a reserved word (…)" when the token is one, for places expecting a name.
fn found_name(rest: &str) -> String {
    let token = &rest[..token_len(rest)];
    if is_reserved(token) {
        format!(
            "{}, a reserved word (write `{token}` in backquotes to use it as a name)",
            found(rest)
        )
    } else {
        found(rest)
    }
}

/// "expected {what}, found …" where a name was expected, explaining reserved words.
fn fail_name<'s, T>(i: In<'s>, what: &str) -> PResult<'s, T> {
    let (i, ()) = ws(i)?;
    let message = format!("expected {what}, found {}", found_name(i));
    Err(nom::Err::Failure(PError::new(i, None, message)))
}

// ----- the context -----------------------------------------------------------------------------

/// The parsing context: the whole source, to turn the input left into offsets and spans into
/// text, and the current nesting depth.
struct Cx<'s> {
    source: &'s str,
    depth: Cell<u32>,
}

/// One level of nesting, given back when dropped.
struct Nested<'c>(&'c Cell<u32>);

impl Drop for Nested<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// An expression with its height: the most nodes on a path from its root down to a leaf.
///
/// The expression is boxed: it is one as an operand in the tree anyway, and the rules that
/// pass it up stay small on the stack (a debug build keeps every temporary of a frame).
struct Ex {
    expr: Box<Expr>,
    height: u32,
}

/// An expression without operands.
fn leaf(kind: ExprKind, span: Span) -> Ex {
    Ex {
        expr: Box::new(Expr { kind, span }),
        height: 1,
    }
}

/// "the expression nests more than …", at the token after `i`.
fn too_deep(i: In<'_>) -> Fail {
    let i = ws(i).map_or(i, |(i, ())| i);
    let message = format!("the expression nests more than {MAX_DEPTH} levels deep");
    failure(i, None, message)
}

/// What a `VALID` clause gives: a time known when parsing, or expressions for each row.
enum ValidSpec {
    Fixed(ValidTime),
    Exprs(Expr, Option<Expr>),
}

impl<'s> Cx<'s> {
    fn new(source: &'s str) -> Cx<'s> {
        Cx {
            source,
            depth: Cell::new(0),
        }
    }

    /// The offset of `i` in the source.
    fn offset(&self, i: In<'s>) -> usize {
        self.source.len() - i.len()
    }

    /// From `start` to where `i` begins.
    fn span(&self, start: usize, i: In<'s>) -> Span {
        Span::new(start, self.offset(i))
    }

    /// The source from `span.start` on, to point an error at.
    fn at(&self, span: Span) -> In<'s> {
        self.source.get(span.start..).unwrap_or_default()
    }

    /// A failure over `span`, with a message of its own.
    fn failure_span(&self, span: Span, message: impl Into<String>) -> Fail {
        failure(self.at(span), Some(span.end - span.start), message)
    }

    /// [`Cx::failure_span`], as a rule's result.
    fn fail_span<T>(&self, span: Span, message: impl Into<String>) -> PResult<'s, T> {
        Err(self.failure_span(span, message))
    }

    /// Enters one level of nesting, refused beyond [`MAX_DEPTH`].
    fn nest(&self, i: In<'s>) -> Result<Nested<'_>, Fail> {
        let depth = self.depth.get() + 1;
        if depth > MAX_DEPTH {
            return Err(too_deep(i));
        }
        self.depth.set(depth);
        Ok(Nested(&self.depth))
    }

    /// A node over operands at most `below` tall, refused when the tree would grow taller
    /// than [`MAX_DEPTH`] (reported at `i`).
    fn node(&self, kind: ExprKind, span: Span, below: u32, i: In<'s>) -> Result<Ex, Fail> {
        let height = below + 1;
        if height > MAX_DEPTH {
            let (at, ()) = ws(i)?;
            let message = format!(
                "the expression nests more than {MAX_DEPTH} levels deep (each operator, `.key` \
                 and `[…]` counts as one: write a long chain of OR as `x IN [a, b, …]`)"
            );
            return Err(failure(at, None, message));
        }
        Ok(Ex {
            expr: Box::new(Expr { kind, span }),
            height,
        })
    }

    /// `left op right`.
    fn binary(&self, op: BinaryOp, left: Ex, right: Ex, i: In<'s>) -> Result<Ex, Fail> {
        let span = left.expr.span.to(right.expr.span);
        let below = left.height.max(right.height);
        let kind = ExprKind::Binary(op, left.expr, right.expr);
        self.node(kind, span, below, i)
    }

    /// The keyword `word` (ASCII, case-insensitive, not the start of a longer word), after
    /// whitespace.
    fn kw(&self, i: In<'s>, word: &str) -> PResult<'s, Span> {
        let (i, ()) = ws(i)?;
        let n = word.len();
        match (i.get(..n), i.get(n..)) {
            (Some(head), Some(rest))
                if head.eq_ignore_ascii_case(word) && !rest.starts_with(is_ident_char) =>
            {
                let start = self.offset(i);
                Ok((rest, Span::new(start, start + n)))
            }
            _ => backtrack(i),
        }
    }

    /// The punctuation `s`, after whitespace.
    fn sym(&self, i: In<'s>, s: &'static str) -> PResult<'s, Span> {
        let (i, ()) = ws(i)?;
        let start = self.offset(i);
        let (rest, _) = tag(s).parse(i)?;
        Ok((rest, Span::new(start, start + s.len())))
    }

    /// `item {"," item}`, each `item` required (`what` names it in errors).
    fn comma_list<T>(
        &self,
        i: In<'s>,
        what: &str,
        mut item: impl FnMut(In<'s>) -> PResult<'s, T>,
    ) -> PResult<'s, Vec<T>> {
        let (mut i, first) = item(i).or_expected(i, what)?;
        let mut items = vec![first];
        while let Ok((rest, _)) = self.sym(i, ",") {
            let (rest, next) = item(rest).or_expected(rest, what)?;
            items.push(next);
            i = rest;
        }
        Ok((i, items))
    }

    // ----- statements --------------------------------------------------------------------------

    /// `script`: `[statement], {";", [statement]}` — each statement with its span.
    fn script(&self, mut i: In<'s>) -> PResult<'s, Vec<(Span, Statement)>> {
        let mut statements = Vec::new();
        loop {
            let (rest, _) = many0_count(|i| self.sym(i, ";")).parse(i)?;
            let (rest, ()) = ws(rest)?;
            if rest.is_empty() {
                return Ok((rest, statements));
            }
            let start = self.offset(rest);
            let (rest, statement) = self.statement(rest)?;
            statements.push((self.span(start, rest), statement));
            let (rest, ()) = ws(rest)?;
            if rest.is_empty() {
                return Ok((rest, statements));
            }
            let (rest, _) = self
                .sym(rest, ";")
                .or_expected(rest, "`;` or the end of the input after the statement")?;
            i = rest;
        }
    }

    /// `statement`: `begin_statement | commit_statement | rollback_statement |
    /// retract_statement | query`.
    fn statement(&self, i: In<'s>) -> PResult<'s, Statement> {
        let parsed = alt((
            |i| self.begin_statement(i),
            |i| self.commit_statement(i),
            |i| self.rollback_statement(i),
            |i| self.retract_statement(i),
            |i| self.history_statement(i),
            |i| self.timeline_statement(i),
            |i| self.diff_statement(i),
            |i| self.query(i).map(|(rest, q)| (rest, Statement::Query(q))),
        ))
        .parse(i);
        match parsed {
            Err(nom::Err::Error(_)) => {
                self.refuse_delete(i)?;
                fail(
                    i,
                    "a statement (MATCH, RETURN, CREATE, MERGE, UNWIND, CALL, HISTORY, TIMELINE, \
                     DIFF, BEGIN, COMMIT, ROLLBACK, RETRACT …)",
                )
            }
            other => other,
        }
    }

    /// `begin_statement`: `"BEGIN"`.
    fn begin_statement(&self, i: In<'s>) -> PResult<'s, Statement> {
        let (i, span) = self.kw(i, "begin")?;
        Ok((i, Statement::Begin(span)))
    }

    /// `commit_statement`: `"COMMIT"`.
    fn commit_statement(&self, i: In<'s>) -> PResult<'s, Statement> {
        let (i, span) = self.kw(i, "commit")?;
        Ok((i, Statement::Commit(span)))
    }

    /// `rollback_statement`: `"ROLLBACK"`.
    fn rollback_statement(&self, i: In<'s>) -> PResult<'s, Statement> {
        let (i, span) = self.kw(i, "rollback")?;
        Ok((i, Statement::Rollback(span)))
    }

    /// `retract_statement`: `"RETRACT", "TX", unsigned_integer, "REASON", string_literal`.
    fn retract_statement(&self, i: In<'s>) -> PResult<'s, Statement> {
        let (i, first) = self.kw(i, "retract")?;
        let (i, _) = self.kw(i, "tx").or_expected(i, "TX after RETRACT")?;
        let (i, tx) = self
            .unsigned_integer(i)
            .or_expected(i, "a transaction number after RETRACT TX")?;
        let (i, _) = self.kw(i, "reason").or_expected(
            i,
            "REASON \"…\" after the transaction number: a retraction says why",
        )?;
        let (i, reason) = self
            .string_literal(i)
            .or_expected(i, "the reason, as a string")?;
        let span = first.to(reason.span);
        Ok((i, Statement::Retract { tx, reason, span }))
    }

    /// `history_statement`: `"HISTORY", [at_clause], pattern, [where_clause]`.
    fn history_statement(&self, i: In<'s>) -> PResult<'s, Statement> {
        let (i, first) = self.kw(i, "history")?;
        let (i, at) = opt(|i| self.at_clause(i)).parse(i)?;
        let (i, patterns) = self.pattern(i).or_expected(
            i,
            "a pattern after HISTORY, such as (a:Agreement {name: \"…\"})",
        )?;
        let (i, filter) = opt(|i| self.where_clause(i)).parse(i)?;
        let span = self.span(first.start, i);
        Ok((
            i,
            Statement::History(History {
                at,
                patterns,
                filter,
                span,
            }),
        ))
    }

    /// `timeline_statement`: `"TIMELINE", date_literal, "..", date_literal, ["STEP",
    /// unsigned_integer, ("YEARS" | "YEAR" | "MONTHS" | "MONTH")], ["BY", identifier], query`.
    fn timeline_statement(&self, i: In<'s>) -> PResult<'s, Statement> {
        let (i, first) = self.kw(i, "timeline")?;
        let (i, (from, to)) = self.timeline_range(i)?;
        let (i, step) = match self.kw(i, "step") {
            Ok((i, kw)) => {
                let (i, n) = self
                    .unsigned_integer(i)
                    .or_expected(i, "a number after STEP")?;
                let count = match u32::try_from(n.node) {
                    Ok(c) if c > 0 => c,
                    _ => return self.fail_span(n.span, "STEP must be between 1 and 4294967295"),
                };
                let (i, unit) = if let Ok((i, u)) =
                    alt((|i| self.kw(i, "years"), |i| self.kw(i, "year"))).parse(i)
                {
                    (i, (Step::Years(count), u))
                } else if let Ok((i, u)) =
                    alt((|i| self.kw(i, "months"), |i| self.kw(i, "month"))).parse(i)
                {
                    (i, (Step::Months(count), u))
                } else {
                    return fail(i, "YEARS or MONTHS after the STEP count");
                };
                let span = kw.to(unit.1);
                (i, Some(Spanned { node: unit.0, span }))
            }
            Err(_) => (i, None),
        };
        let (i, by) = match self.kw(i, "by") {
            Ok((i, _)) => {
                let (i, name) = match self.identifier(i) {
                    Err(nom::Err::Error(_)) => fail_name(i, "a column name after BY")?,
                    other => other?,
                };
                (i, Some(name))
            }
            Err(_) => (i, None),
        };
        let (i, query) = self
            .query(i)
            .or_expected(i, "the query to run at each point (MATCH … RETURN …)")?;
        let span = first.to(query.span);
        Ok((
            i,
            Statement::Timeline(Timeline {
                from,
                to,
                step,
                by,
                query,
                span,
            }),
        ))
    }

    /// The `date_literal, "..", date_literal` of a timeline; `2000..2024` is one EDTF-like
    /// token, so it is split here.
    fn timeline_range(&self, i: In<'s>) -> PResult<'s, (Spanned<Date>, Spanned<Date>)> {
        const WHAT: &str = "the first and last points, such as 1990 .. 2024";
        let (rest, text) = self.edtf_text(i).or_expected(i, WHAT)?;
        if let Some((a, b)) = text.node.split_once("..")
            && !a.is_empty()
            && !b.is_empty()
        {
            let date = |t: &str, start: usize| match Date::parse(t) {
                Ok(node) => Ok(Spanned {
                    node,
                    span: Span::new(start, start + t.len()),
                }),
                Err(e) => Err(self.failure_span(Span::new(start, start + t.len()), e.to_string())),
            };
            let from = date(a, text.span.start)?;
            let to = date(b, text.span.start + a.len() + 2)?;
            return Ok((rest, (from, to)));
        }
        let (i, from) = self.date_literal(i).or_expected(i, WHAT)?;
        let (i, _) = self
            .sym(i, "..")
            .or_expected(i, "`..` between the first and last points")?;
        let (i, to) = self
            .date_literal(i)
            .or_expected(i, "the last point after `..`")?;
        Ok((i, (from, to)))
    }

    /// `diff_statement`: `"DIFF", ("AS", "OF", date_literal, ",", date_literal, [at_clause] |
    /// "AT", "TX", unsigned_integer, ",", ["TX"], unsigned_integer)`.
    fn diff_statement(&self, i: In<'s>) -> PResult<'s, Statement> {
        let (i, first) = self.kw(i, "diff")?;
        if let Ok((i, _)) = self.kw(i, "as") {
            let (i, _) = self.kw(i, "of").or_expected(i, "OF after DIFF AS")?;
            let (i, a) = self
                .date_literal(i)
                .or_expected(i, "a date after DIFF AS OF")?;
            let (i, _) = self.sym(i, ",").or_expected(i, "`,` and the second date")?;
            let (i, b) = self
                .date_literal(i)
                .or_expected(i, "the second date after `,`")?;
            let (i, at) = opt(|i| self.at_clause(i)).parse(i)?;
            let span = first.to(at.as_ref().map_or(b.span, |a| a.span));
            let between = DiffBetween::Valid(a, b, at);
            return Ok((i, Statement::Diff { between, span }));
        }
        let (i, _) = self
            .kw(i, "at")
            .or_expected(i, "AS OF <date>, <date> or AT TX <n>, TX <m> after DIFF")?;
        let (i, _) = self.kw(i, "tx").or_expected(i, "TX after DIFF AT")?;
        let (i, a) = self
            .unsigned_integer(i)
            .or_expected(i, "a transaction number after DIFF AT TX")?;
        let (i, _) = self
            .sym(i, ",")
            .or_expected(i, "`,` and the second transaction")?;
        let (i, _) = opt(|i| self.kw(i, "tx")).parse(i)?;
        let (i, b) = self
            .unsigned_integer(i)
            .or_expected(i, "the second transaction number")?;
        let span = first.to(b.span);
        Ok((
            i,
            Statement::Diff {
                between: DiffBetween::Tx(a, b),
                span,
            },
        ))
    }

    /// `query`: `time_prefix, clause, {clause}` — RETURN, when present, is the last clause.
    fn query(&self, i: In<'s>) -> PResult<'s, Query> {
        let (i, ()) = ws(i)?;
        let start = self.offset(i);
        let (mut i, (at, valid)) = self.time_prefix(i)?;
        let mut clauses = Vec::new();
        loop {
            match self.clause(i) {
                Ok((rest, clause)) => {
                    let last = matches!(clause, Clause::Return(_));
                    clauses.push(clause);
                    i = rest;
                    if last {
                        break;
                    }
                }
                Err(nom::Err::Error(_)) => break,
                Err(e) => return Err(e),
            }
        }
        if clauses.is_empty() && at.is_none() && valid.is_none() {
            return backtrack(i);
        }
        let (rest, ()) = ws(i)?;
        if clauses.is_empty() || !(rest.is_empty() || rest.starts_with(';')) {
            return self.clause_expected(rest, &clauses);
        }
        let span = Span::new(start, self.offset(i));
        Ok((
            i,
            Query {
                at,
                valid,
                clauses,
                span,
            },
        ))
    }

    /// The error where a query continues with something that is not a clause.
    fn clause_expected<T>(&self, i: In<'s>, clauses: &[Clause]) -> PResult<'s, T> {
        let found_text = found(i);
        let message = |what: &str, note: &str| format!("expected {what}, found {found_text}{note}");
        if let Some(Clause::Return(_)) = clauses.last() {
            return fail(i, "`;` or the end of the query after RETURN");
        }
        self.refuse_delete(i)?;
        if self.kw(i, "where").is_ok() {
            let note = match clauses.last() {
                Some(Clause::Match {
                    filter: Some(_), ..
                })
                | Some(Clause::With(Projection {
                    filter: Some(_), ..
                })) => ": a clause takes one WHERE (join conditions with AND)",
                _ => ": WHERE belongs to MATCH, OPTIONAL MATCH or WITH",
            };
            return fail_at(i, None, message("a clause or `;`", note));
        }
        if ["at", "as", "during"].iter().any(|w| self.kw(i, w).is_ok()) {
            let note = ": AT and AS OF/DURING come first, at most once each";
            return fail_at(i, None, message("a clause or `;`", note));
        }
        const CLAUSES: &str = "a clause (MATCH, OPTIONAL MATCH, WHERE after MATCH, WITH, UNWIND, \
                               LOAD CSV, CALL, RETURN, CREATE, MERGE, SET, REMOVE, END)";
        let what = if clauses.is_empty() {
            format!("{CLAUSES} after the time selectors")
        } else {
            format!("{CLAUSES} or `;`")
        };
        let word = &i[..token_len(i)];
        let note = suggestion(word).map_or(String::new(), |k| format!(" (did you mean {k}?)"));
        fail_at(i, None, message(&what, &note))
    }

    /// `DELETE` and `DETACH DELETE` are refused with an explanation; anything else passes.
    fn refuse_delete(&self, i: In<'s>) -> Result<(), Fail> {
        let word = self.kw(i, "delete").or_else(|_| self.kw(i, "detach")).ok();
        if let Some((_, span)) = word {
            return Err(self.failure_span(
                span,
                "DELETE is not supported: the log is append-only. Close a fact's validity with \
                 `END x AT <date>`, or correct the record with `RETRACT TX n REASON \"…\"`",
            ));
        }
        Ok(())
    }

    /// `time_prefix`: `[at_clause], [valid_selector] | valid_selector, at_clause`.
    fn time_prefix(&self, i: In<'s>) -> PResult<'s, TimePrefix> {
        let (i, at) = opt(|i| self.at_clause(i)).parse(i)?;
        let (i, valid) = opt(|i| self.valid_selector(i)).parse(i)?;
        let (i, at) = match at {
            Some(at) => (i, Some(at)),
            None => opt(|i| self.at_clause(i)).parse(i)?,
        };
        Ok((i, (at, valid)))
    }

    /// `at_clause`: `"AT", ("TX", unsigned_integer | timestamp)`.
    fn at_clause(&self, i: In<'s>) -> PResult<'s, Spanned<TxTime>> {
        let (i, first) = self.kw(i, "at")?;
        if let Ok((i, _)) = self.kw(i, "tx") {
            let (i, n) = self
                .unsigned_integer(i)
                .or_expected(i, "a transaction number after AT TX")?;
            let span = first.to(n.span);
            return Ok((
                i,
                Spanned {
                    node: TxTime::Tx(n.node),
                    span,
                },
            ));
        }
        let (i, t) = self.timestamp(i).or_expected(
            i,
            "TX n or a time (2026-01-31, 2026-01-31T12:00:00Z, \"2026-01-31T12:00:00+01:00\") \
             after AT",
        )?;
        let span = first.to(t.span);
        Ok((
            i,
            Spanned {
                node: TxTime::Timestamp(t.node),
                span,
            },
        ))
    }

    /// `valid_selector`: `"AS", "OF", date_literal | "DURING", interval_literal`.
    fn valid_selector(&self, i: In<'s>) -> PResult<'s, Spanned<ValidSelector>> {
        if let Ok((i, first)) = self.kw(i, "during") {
            let (i, t) = self
                .interval_literal(i)
                .or_expected(i, "an interval after DURING (EDTF: 2000/2010, 1985/..)")?;
            let span = first.to(t.span);
            let node = ValidSelector::During(t.node);
            return Ok((i, Spanned { node, span }));
        }
        let (i, first) = self.kw(i, "as")?;
        let (i, _) = self.kw(i, "of").or_expected(i, "OF after AS")?;
        let (i, d) = self
            .date_literal(i)
            .or_expected(i, "a date after AS OF (EDTF: 2005, 2007-02, 2007-02-06)")?;
        let span = first.to(d.span);
        let node = ValidSelector::AsOf(d.node);
        Ok((i, Spanned { node, span }))
    }

    // ----- clauses -----------------------------------------------------------------------------

    /// `clause`: `match_clause | unwind_clause | with_clause | return_clause |
    /// create_clause | merge_clause | set_clause | remove_clause | end_clause`.
    fn clause(&self, i: In<'s>) -> PResult<'s, Clause> {
        alt((
            |i| self.match_clause(i),
            |i| self.unwind_clause(i),
            |i| self.load_csv_clause(i),
            |i| self.with_clause(i),
            |i| self.return_clause(i),
            |i| self.create_clause(i),
            |i| self.merge_clause(i),
            |i| self.set_clause(i),
            |i| self.remove_clause(i),
            |i| self.end_clause(i),
            |i| self.call_clause(i),
        ))
        .parse(i)
    }

    /// `call_clause`: `"CALL", function_call, ["YIELD", yield_item, {",", yield_item}],
    /// [where_clause]`.
    fn call_clause(&self, i: In<'s>) -> PResult<'s, Clause> {
        let (i, first) = self.kw(i, "call")?;
        let (i, call) = self
            .function_call(i)
            .or_expected(i, "an algorithm after CALL, such as pagerank()")?;
        let call = *call.expr;
        let ExprKind::Call { name, args, .. } = call.kind else {
            return self.fail_span(call.span, "an algorithm such as pagerank()");
        };
        let (i, yields) = match self.kw(i, "yield") {
            Ok((i, _)) => self.comma_list(i, "a column after YIELD", |i| self.yield_item(i))?,
            Err(_) => (i, Vec::new()),
        };
        let (i, filter) = opt(|i| self.where_clause(i)).parse(i)?;
        Ok((
            i,
            Clause::Call {
                name,
                args,
                yields,
                filter,
                span: self.span(first.start, i),
            },
        ))
    }

    /// `yield_item`: `identifier, ["AS", identifier]`.
    fn yield_item(&self, i: In<'s>) -> PResult<'s, (Ident, Ident)> {
        let (i, column) = self.identifier(i)?;
        match self.kw(i, "as") {
            Ok((i, _)) => {
                let (i, alias) = match self.identifier(i) {
                    Err(nom::Err::Error(_)) => fail_name(i, "a variable name after AS")?,
                    other => other?,
                };
                Ok((i, (column, alias)))
            }
            Err(_) => Ok((i, (column.clone(), column))),
        }
    }

    /// `match_clause`: `["OPTIONAL"], "MATCH", pattern, [where_clause]`.
    fn match_clause(&self, i: In<'s>) -> PResult<'s, Clause> {
        let (i, optional) = opt(|i| self.kw(i, "optional")).parse(i)?;
        let (i, first) = match optional {
            Some(_) => self.kw(i, "match").or_expected(i, "MATCH after OPTIONAL")?,
            None => self.kw(i, "match")?,
        };
        let start = optional.unwrap_or(first).start;
        let (i, patterns) = self.pattern(i)?;
        let (i, filter) = opt(|i| self.where_clause(i)).parse(i)?;
        Ok((
            i,
            Clause::Match {
                optional: optional.is_some(),
                patterns,
                filter,
                span: self.span(start, i),
            },
        ))
    }

    /// `where_clause`: `"WHERE", expression`.
    fn where_clause(&self, i: In<'s>) -> PResult<'s, Expr> {
        let (i, _) = self.kw(i, "where")?;
        let (i, e) = self
            .expression(i)
            .or_expected(i, "a condition after WHERE")?;
        Ok((i, *e.expr))
    }

    /// `unwind_clause`: `"UNWIND", expression, "AS", identifier`.
    fn unwind_clause(&self, i: In<'s>) -> PResult<'s, Clause> {
        let (i, first) = self.kw(i, "unwind")?;
        let (i, e) = self.expression(i).or_expected(i, "a list after UNWIND")?;
        let (i, _) = self
            .kw(i, "as")
            .or_expected(i, "AS and a name after the list of UNWIND")?;
        let (i, alias) = match self.identifier(i) {
            Err(nom::Err::Error(_)) => fail_name(i, "a variable name after AS")?,
            other => other?,
        };
        let span = first.to(alias.span);
        Ok((
            i,
            Clause::Unwind {
                expr: *e.expr,
                alias,
                span,
            },
        ))
    }

    /// `load_csv_clause`: `"LOAD", "CSV", ["WITH", "HEADERS"], "FROM", expression, "AS",
    /// identifier, ["FIELDTERMINATOR", string_literal]`.
    fn load_csv_clause(&self, i: In<'s>) -> PResult<'s, Clause> {
        let (i, first) = self.kw(i, "load")?;
        let (i, _) = self.kw(i, "csv").or_expected(i, "CSV after LOAD")?;
        let (i, headers) = match self.kw(i, "with") {
            Ok((i, _)) => {
                let (i, _) = self
                    .kw(i, "headers")
                    .or_expected(i, "HEADERS after LOAD CSV WITH")?;
                (i, true)
            }
            Err(_) => (i, false),
        };
        let (i, _) = self
            .kw(i, "from")
            .or_expected(i, "FROM and the file after LOAD CSV")?;
        let (i, path) = self.expression(i).or_expected(
            i,
            "the file after FROM, such as \"data/partners.csv\" or $file",
        )?;
        let (i, _) = self
            .kw(i, "as")
            .or_expected(i, "AS and a name for each row after the file of LOAD CSV")?;
        let (i, alias) = match self.identifier(i) {
            Err(nom::Err::Error(_)) => fail_name(i, "a variable name after AS")?,
            other => other?,
        };
        let (i, terminator) = match self.kw(i, "fieldterminator") {
            Ok((i, _)) => {
                let (i, t) = self
                    .string_literal(i)
                    .or_expected(i, "the separator after FIELDTERMINATOR, such as \"\\t\"")?;
                if t.node.chars().count() != 1 || !t.node.is_ascii() {
                    return self.fail_span(t.span, "a FIELDTERMINATOR of one ASCII character");
                }
                (i, Some(t))
            }
            Err(_) => (i, None),
        };
        let span = self.span(first.start, i);
        Ok((
            i,
            Clause::LoadCsv {
                headers,
                path: *path.expr,
                alias,
                terminator,
                span,
            },
        ))
    }

    /// `with_clause`: `"WITH", projection_body, [where_clause]`.
    fn with_clause(&self, i: In<'s>) -> PResult<'s, Clause> {
        let (i, first) = self.kw(i, "with")?;
        let (i, mut p) = self.projection_body(i)?;
        let (i, filter) = opt(|i| self.where_clause(i)).parse(i)?;
        p.filter = filter;
        p.span = self.span(first.start, i);
        Ok((i, Clause::With(p)))
    }

    /// `return_clause`: `"RETURN", projection_body`.
    fn return_clause(&self, i: In<'s>) -> PResult<'s, Clause> {
        let (i, first) = self.kw(i, "return")?;
        let (i, mut p) = self.projection_body(i)?;
        p.span = self.span(first.start, i);
        Ok((i, Clause::Return(p)))
    }

    /// `projection_body`: `["DISTINCT"], ("*", [",", projection_item, {",",
    /// projection_item}] | projection_item, {",", projection_item}), [order_by],
    /// [skip_clause], [limit_clause]`.
    fn projection_body(&self, i: In<'s>) -> PResult<'s, Projection> {
        let (i, ()) = ws(i)?;
        let start = self.offset(i);
        let (i, distinct) = opt(|i| self.kw(i, "distinct")).parse(i)?;
        let (i, star) = opt(|i| self.sym(i, "*")).parse(i)?;
        let item = |i| self.projection_item(i);
        let (i, items) = match star {
            None => self.comma_list(i, "an expression to project, or `*`", item)?,
            Some(_) => match self.sym(i, ",") {
                Ok((i, _)) => self.comma_list(i, "an expression to project", item)?,
                Err(_) => (i, Vec::new()),
            },
        };
        let (i, order) = opt(|i| self.order_by(i)).parse(i)?;
        let (i, skip) = opt(|i| self.skip_clause(i)).parse(i)?;
        let (i, limit) = opt(|i| self.limit_clause(i)).parse(i)?;
        Ok((
            i,
            Projection {
                distinct: distinct.is_some(),
                star: star.is_some(),
                items,
                order: order.unwrap_or_default(),
                skip,
                limit,
                filter: None,
                span: self.span(start, i),
            },
        ))
    }

    /// `projection_item`: `expression, ["AS", symbolic_name]`.
    fn projection_item(&self, i: In<'s>) -> PResult<'s, ProjectionItem> {
        let (i, ()) = ws(i)?;
        let start = self.offset(i);
        let (i, e) = self.expression(i)?;
        let text = self.source[start..self.offset(i)].trim().to_owned();
        let (i, alias) = match self.kw(i, "as") {
            Ok((i, _)) => {
                let (i, a) = self
                    .symbolic_name(i)
                    .or_expected(i, "a column name after AS")?;
                (i, Some(a))
            }
            Err(_) => (i, None),
        };
        let expr = *e.expr;
        Ok((i, ProjectionItem { expr, alias, text }))
    }

    /// `order_by`: `"ORDER", "BY", sort_item, {",", sort_item}`.
    fn order_by(&self, i: In<'s>) -> PResult<'s, Vec<SortItem>> {
        let (i, _) = self.kw(i, "order")?;
        let (i, _) = self.kw(i, "by").or_expected(i, "BY after ORDER")?;
        self.comma_list(i, "an expression to order by", |i| self.sort_item(i))
    }

    /// `sort_item`: `expression, ["ASC" | "ASCENDING" | "DESC" | "DESCENDING"]`.
    fn sort_item(&self, i: In<'s>) -> PResult<'s, SortItem> {
        let (i, e) = self.expression(i)?;
        let directions = [
            ("asc", false),
            ("ascending", false),
            ("desc", true),
            ("descending", true),
        ];
        for (word, descending) in directions {
            if let Ok((i, _)) = self.kw(i, word) {
                let expr = *e.expr;
                return Ok((i, SortItem { expr, descending }));
            }
        }
        let expr = *e.expr;
        let descending = false;
        Ok((i, SortItem { expr, descending }))
    }

    /// `skip_clause`: `"SKIP", expression`.
    fn skip_clause(&self, i: In<'s>) -> PResult<'s, Expr> {
        let (i, _) = self.kw(i, "skip")?;
        let (i, e) = self.expression(i).or_expected(i, "a number after SKIP")?;
        Ok((i, *e.expr))
    }

    /// `limit_clause`: `"LIMIT", expression`.
    fn limit_clause(&self, i: In<'s>) -> PResult<'s, Expr> {
        let (i, _) = self.kw(i, "limit")?;
        let (i, e) = self.expression(i).or_expected(i, "a number after LIMIT")?;
        Ok((i, *e.expr))
    }

    /// `create_clause`: `"CREATE", pattern, write_meta`.
    fn create_clause(&self, i: In<'s>) -> PResult<'s, Clause> {
        let (i, first) = self.kw(i, "create")?;
        let (i, patterns) = self.pattern(i)?;
        let (i, meta) = self.write_meta(i)?;
        let span = self.span(first.start, i);
        Ok((
            i,
            Clause::Create {
                patterns,
                meta,
                span,
            },
        ))
    }

    /// `merge_clause`: `"MERGE", path_pattern, write_meta`.
    fn merge_clause(&self, i: In<'s>) -> PResult<'s, Clause> {
        let (i, first) = self.kw(i, "merge")?;
        let (i, pattern) = self.path_pattern(i).or_expected(
            i,
            "a pattern after MERGE, such as (s:Sector {name: \"tourism\"})",
        )?;
        if let Ok((_, comma)) = self.sym(i, ",") {
            return self.fail_span(
                comma,
                "MERGE takes one pattern: write one MERGE for each, or CREATE several",
            );
        }
        let (i, meta) = self.write_meta(i)?;
        let span = self.span(first.start, i);
        Ok((
            i,
            Clause::Merge {
                pattern,
                meta,
                span,
            },
        ))
    }

    /// `set_clause`: `"SET", set_item, {",", set_item}, write_meta`.
    fn set_clause(&self, i: In<'s>) -> PResult<'s, Clause> {
        let (i, first) = self.kw(i, "set")?;
        let what = "`name.key = value` or `name += {…}` after SET";
        let (i, items) = self.comma_list(i, what, |i| self.set_item(i))?;
        let (i, meta) = self.write_meta(i)?;
        let span = self.span(first.start, i);
        Ok((i, Clause::Set { items, meta, span }))
    }

    /// `set_item`: `identifier, ".", symbolic_name, "=", expression | identifier, "+=",
    /// expression`.
    fn set_item(&self, i: In<'s>) -> PResult<'s, SetItem> {
        let (i, var) = self.identifier(i)?;
        if let Ok((i, _)) = self.sym(i, "+=") {
            let (i, e) = self.expression(i).or_operand(i, "`+=`")?;
            return Ok((
                i,
                SetItem::Merge {
                    var,
                    value: *e.expr,
                },
            ));
        }
        if let Ok((_, colon)) = self.sym(i, ":") {
            return self.fail_span(
                colon,
                "labels are fixed when a node is created: SET cannot add one",
            );
        }
        if let Ok((_, eq)) = self.sym(i, "=") {
            return self.fail_span(
                eq,
                "`name = {…}` would replace every property, which is not supported: set them \
                 one by one, or add several with `name += {…}`",
            );
        }
        let (i, _) = self
            .sym(i, ".")
            .or_expected(i, "`.key = value` or `+= {…}` after the variable")?;
        let (i, key) = self.symbolic_name(i).or_expected(i, "a property key")?;
        let (i, _) = self
            .sym(i, "=")
            .or_expected(i, "`=` and the new value after the property")?;
        let (i, e) = self.expression(i).or_operand(i, "`=`")?;
        let value = *e.expr;
        Ok((i, SetItem::Property { var, key, value }))
    }

    /// `remove_clause`: `"REMOVE", remove_item, {",", remove_item}, write_meta` — a SET to
    /// null.
    fn remove_clause(&self, i: In<'s>) -> PResult<'s, Clause> {
        let (i, first) = self.kw(i, "remove")?;
        let what = "`name.key` after REMOVE";
        let (i, items) = self.comma_list(i, what, |i| self.remove_item(i))?;
        let (i, meta) = self.write_meta(i)?;
        let span = self.span(first.start, i);
        Ok((i, Clause::Set { items, meta, span }))
    }

    /// `remove_item`: `identifier, ".", symbolic_name`.
    fn remove_item(&self, i: In<'s>) -> PResult<'s, SetItem> {
        let (i, var) = self.identifier(i)?;
        if let Ok((_, colon)) = self.sym(i, ":") {
            return self.fail_span(
                colon,
                "labels are fixed when a node is created: REMOVE cannot take one away",
            );
        }
        let (i, _) = self
            .sym(i, ".")
            .or_expected(i, "`.key` after the variable")?;
        let (i, key) = self.symbolic_name(i).or_expected(i, "a property key")?;
        let value = Expr {
            kind: ExprKind::Literal(Literal::Null),
            span: key.span,
        };
        Ok((i, SetItem::Property { var, key, value }))
    }

    /// `end_clause`: `"END", identifier, {",", identifier}, "AT", date_literal,
    /// [source_clause]`.
    fn end_clause(&self, i: In<'s>) -> PResult<'s, Clause> {
        let (i, first) = self.kw(i, "end")?;
        let (i, targets) =
            self.comma_list(i, "a variable to end", |i| match self.identifier(i) {
                Err(nom::Err::Error(_)) => fail_name(i, "a variable to end"),
                other => other,
            })?;
        self.refuse_valid_in_end(i)?;
        let (i, _) = self
            .kw(i, "at")
            .or_expected(i, "AT and the last date it held after END (END r AT 2015)")?;
        let (i, date) = self
            .date_literal(i)
            .or_expected(i, "the last date it held after AT (EDTF: 2015, 2015-06-30)")?;
        self.refuse_valid_in_end(i)?;
        let (i, sources) = opt(|i| self.source_clause(i)).parse(i)?;
        self.refuse_valid_in_end(i)?;
        let (sources, source_exprs) = sources.unwrap_or_default();
        let meta = WriteMeta {
            valid: None,
            valid_exprs: None,
            sources,
            source_exprs,
        };
        let span = self.span(first.start, i);
        Ok((
            i,
            Clause::End {
                targets,
                date,
                meta,
                span,
            },
        ))
    }

    /// END's date is its valid time: a VALID there is refused, with the reason.
    fn refuse_valid_in_end(&self, i: In<'s>) -> Result<(), Fail> {
        if let Ok((_, valid)) = self.kw(i, "valid") {
            return Err(self.failure_span(
                valid,
                "END takes `AT <date>`, the last date the fact held (END r AT 2015), and no VALID",
            ));
        }
        Ok(())
    }

    /// `write_meta`: `[valid_clause], [source_clause]`.
    fn write_meta(&self, i: In<'s>) -> PResult<'s, WriteMeta> {
        let (i, valid) = opt(|i| self.valid_clause(i)).parse(i)?;
        let (i, sources) = opt(|i| self.source_clause(i)).parse(i)?;
        if sources.is_some()
            && let Ok((_, v)) = self.kw(i, "valid")
        {
            let message = if valid.is_some() {
                "a clause has one VALID"
            } else {
                "VALID comes before SOURCE"
            };
            return self.fail_span(v, message);
        }
        let (sources, source_exprs) = sources.unwrap_or_default();
        let (valid, valid_exprs) = match valid {
            Some(Spanned {
                node: ValidSpec::Fixed(v),
                span,
            }) => (Some(Spanned { node: v, span }), None),
            Some(Spanned {
                node: ValidSpec::Exprs(from, to),
                span,
            }) => (
                None,
                Some(Spanned {
                    node: (from, to),
                    span,
                }),
            ),
            None => (None, None),
        };
        Ok((
            i,
            WriteMeta {
                valid,
                valid_exprs,
                sources,
                source_exprs,
            },
        ))
    }

    /// Whether the next token starts an expression that is not a date: a name, a
    /// parameter, a parenthesis (dates begin with a digit, `-`, `.` or a quote).
    fn starts_expression(&self, i: In<'s>) -> bool {
        let t = i.trim_start();
        t.starts_with(|c: char| c.is_alphabetic() || c == '$' || c == '(' || c == '_')
    }

    /// A bound of `VALID FROM … TO …`: a date, or an expression.
    fn valid_bound(&self, i: In<'s>, what: &str) -> PResult<'s, Result<Spanned<Date>, Expr>> {
        if self.starts_expression(i) {
            let (i, e) = self.expression(i).or_expected(i, what)?;
            return Ok((i, Err(*e.expr)));
        }
        let (i, d) = self.date_literal(i).or_expected(i, what)?;
        Ok((i, Ok(d)))
    }

    /// `valid_clause`: `"VALID", ("FROM", (date_literal | expression), ["TO", (date_literal
    /// | expression)] | interval_literal)`.
    fn valid_clause(&self, i: In<'s>) -> PResult<'s, Spanned<ValidSpec>> {
        let (i, first) = self.kw(i, "valid")?;
        if let Ok((i, _)) = self.kw(i, "from") {
            let (i, from) =
                self.valid_bound(i, "a date after VALID FROM (EDTF: 1999, 2007-02-06)")?;
            let (i, to) = match self.kw(i, "to") {
                Ok((i, _)) => {
                    let (i, to) = self.valid_bound(i, "a date after TO (EDTF: 2006, 2010-06)")?;
                    (i, Some(to))
                }
                Err(_) => (i, None),
            };
            let span = self.span(first.start, i);
            return match (from, to) {
                (Ok(from), None) => Ok((
                    i,
                    Spanned {
                        node: ValidSpec::Fixed(ValidTime::since(from.node)),
                        span,
                    },
                )),
                (Ok(from), Some(Ok(to))) => {
                    match ValidTime::new(Bound::Date(from.node), Bound::Date(to.node)) {
                        Ok(node) => Ok((
                            i,
                            Spanned {
                                node: ValidSpec::Fixed(node),
                                span,
                            },
                        )),
                        Err(e) => self.fail_span(from.span.to(to.span), e.to_string()),
                    }
                }
                (from, to) => {
                    let as_expr = |b: Result<Spanned<Date>, Expr>| match b {
                        Ok(d) => Expr {
                            kind: ExprKind::Literal(Literal::Str(d.node.to_string())),
                            span: d.span,
                        },
                        Err(e) => e,
                    };
                    Ok((
                        i,
                        Spanned {
                            node: ValidSpec::Exprs(as_expr(from), to.map(as_expr)),
                            span,
                        },
                    ))
                }
            };
        }
        let (i, t) = self.interval_literal(i).or_expected(
            i,
            "FROM <date> [TO <date>], or an interval (2000/2004, 1985/..), after VALID",
        )?;
        let span = first.to(t.span);
        Ok((
            i,
            Spanned {
                node: ValidSpec::Fixed(t.node),
                span,
            },
        ))
    }

    /// `source_clause`: `("SOURCE" | "SOURCES"), (string_literal | expression), {",",
    /// (string_literal | expression)}`.
    fn source_clause(&self, i: In<'s>) -> PResult<'s, (Vec<Spanned<String>>, Vec<Expr>)> {
        let (i, _) = alt((|i| self.kw(i, "source"), |i| self.kw(i, "sources"))).parse(i)?;
        let (i, items) = self.comma_list(i, "a source's citation key, as a string", |i| {
            if self.starts_expression(i) {
                let (i, e) = self.expression(i)?;
                Ok((i, Err(*e.expr)))
            } else {
                let (i, s) = self.string_literal(i)?;
                Ok((i, Ok(s)))
            }
        })?;
        let mut keys = Vec::new();
        let mut exprs = Vec::new();
        for item in items {
            match item {
                Ok(k) => keys.push(k),
                Err(e) => exprs.push(e),
            }
        }
        Ok((i, (keys, exprs)))
    }

    // ----- patterns ----------------------------------------------------------------------------

    /// `pattern`: `path_pattern, {",", path_pattern}`.
    fn pattern(&self, i: In<'s>) -> PResult<'s, Vec<PathPattern>> {
        self.comma_list(i, "a pattern such as (a:Actor)-[:PARTY_TO]->(b)", |i| {
            self.path_pattern(i)
        })
    }

    /// `path_pattern`: `[identifier, "="], (("shortestPath" | "allShortestPaths"), "(",
    /// pattern_element, ")" | pattern_element)`.
    fn path_pattern(&self, i: In<'s>) -> PResult<'s, PathPattern> {
        let (i, ()) = ws(i)?;
        let start = self.offset(i);
        let (i, var) = match (|i| self.identifier(i), |i| self.sym(i, "=")).parse(i) {
            Ok((rest, (var, _))) => (rest, Some(var)),
            Err(nom::Err::Error(_)) => (i, None),
            Err(e) => return Err(e),
        };
        let shortest = [
            ("shortestpath", PathKind::Shortest),
            ("allshortestpaths", PathKind::AllShortest),
        ]
        .into_iter()
        .find_map(|(word, kind)| {
            let (rest, _) = self.kw(i, word).ok()?;
            self.sym(rest, "(").ok().map(|(rest, _)| (rest, kind))
        });
        let (i, kind, (first, steps)) = match shortest {
            Some((i, kind)) => {
                let (i, element) = self.pattern_element(i).or_expected(
                    i,
                    "a pattern such as (a)-[:PARTY_TO*]-(b) inside the parentheses",
                )?;
                let (i, _) = self
                    .sym(i, ")")
                    .or_expected(i, "`)` to close the shortest path")?;
                (i, kind, element)
            }
            None => {
                let parsed = self.pattern_element(i);
                let (i, element) = match var {
                    Some(_) => parsed.or_expected(i, "a pattern after `=`")?,
                    None => parsed?,
                };
                (i, PathKind::Plain, element)
            }
        };
        Ok((
            i,
            PathPattern {
                var,
                kind,
                start: first,
                steps,
                span: self.span(start, i),
            },
        ))
    }

    /// `pattern_element`: `node_pattern, {relationship_pattern, node_pattern}`.
    fn pattern_element(&self, i: In<'s>) -> PResult<'s, Element> {
        let (mut i, first) = self.node_pattern(i)?;
        let mut steps = Vec::new();
        loop {
            match self.relationship_pattern(i) {
                Ok((rest, rel)) => {
                    let (rest, node) = self
                        .node_pattern(rest)
                        .or_expected(rest, "a node pattern `(…)` after the relationship")?;
                    steps.push((rel, node));
                    i = rest;
                }
                Err(nom::Err::Error(_)) => return Ok((i, (first, steps))),
                Err(e) => return Err(e),
            }
        }
    }

    /// `node_pattern`: `"(", [identifier], label_list, [properties], ")"`.
    fn node_pattern(&self, i: In<'s>) -> PResult<'s, NodePattern> {
        let (i, open) = self.sym(i, "(")?;
        let (i, var) = opt(|i| self.identifier(i)).parse(i)?;
        let (i, labels) = self.label_list(i)?;
        let (i, props) = opt(|i| self.properties(i)).parse(i)?;
        let (i, close) = match self.sym(i, ")") {
            Err(nom::Err::Error(_)) if var.is_none() && labels.is_empty() && props.is_none() => {
                fail_name(i, "a variable, `:Label`, `{…}` or `)` in the node pattern")?
            }
            other => other.or_expected(i, "`)` to close the node pattern")?,
        };
        Ok((
            i,
            NodePattern {
                var,
                labels,
                props: props.unwrap_or_default(),
                span: open.to(close),
            },
        ))
    }

    /// `label_list`: `{":", symbolic_name}`.
    fn label_list(&self, mut i: In<'s>) -> PResult<'s, Vec<Ident>> {
        let mut labels = Vec::new();
        while let Ok((rest, _)) = self.sym(i, ":") {
            let (rest, label) = self
                .symbolic_name(rest)
                .or_expected(rest, "a label after `:`")?;
            labels.push(label);
            i = rest;
        }
        Ok((i, labels))
    }

    /// `properties`: `map_literal`, in a pattern.
    fn properties(&self, i: In<'s>) -> PResult<'s, Vec<(Ident, Expr)>> {
        let (i, map) = self.map_literal(i)?;
        match map.expr.kind {
            ExprKind::Map(entries) => Ok((i, entries)),
            _ => backtrack(i),
        }
    }

    /// `relationship_pattern`: `("<-" | "-"), ["[", rel_detail, "]"], ("->" | "-")` — not
    /// `<-` with `->`.
    fn relationship_pattern(&self, i: In<'s>) -> PResult<'s, RelPattern> {
        let (i, ()) = ws(i)?;
        let start = self.offset(i);
        let (i, left) = match self.sym(i, "<-") {
            Ok((i, _)) => (i, true),
            Err(_) => (self.sym(i, "-")?.0, false),
        };
        let (i, detail) = match self.sym(i, "[") {
            Ok((i, _)) => {
                let (i, detail) = self.rel_detail(i)?;
                let (i, _) = self
                    .sym(i, "]")
                    .or_expected(i, "`]` to close the relationship pattern")?;
                (i, Some(detail))
            }
            Err(_) => (i, None),
        };
        let (i, right) = match self.sym(i, "->") {
            Ok((i, _)) => (i, true),
            Err(_) => {
                let what = match (left, detail.is_some()) {
                    (_, true) => "`-` or `->` to close the relationship pattern",
                    (true, false) => "`[` or `-` after `<-`",
                    (false, false) => "`[`, `-` or `->` after `-`",
                };
                (self.sym(i, "-").or_expected(i, what)?.0, false)
            }
        };
        let span = self.span(start, i);
        let direction = match (left, right) {
            (true, true) => {
                return self.fail_span(
                    span,
                    "a relationship points one way, or the pattern says neither: `<-[…]->` is \
                     not allowed (write `-[…]-` for either way)",
                );
            }
            (true, false) => Direction::Left,
            (false, true) => Direction::Right,
            (false, false) => Direction::Both,
        };
        let Detail {
            var,
            types,
            length,
            props,
        } = detail.unwrap_or_default();
        Ok((
            i,
            RelPattern {
                var,
                types,
                props,
                direction,
                length,
                span,
            },
        ))
    }

    /// `rel_detail`: `[identifier], [rel_types], [range_literal], [properties]`.
    fn rel_detail(&self, i: In<'s>) -> PResult<'s, Detail> {
        let (i, var) = opt(|i| self.identifier(i)).parse(i)?;
        let (i, types) = opt(|i| self.rel_types(i)).parse(i)?;
        let (i, length) = opt(|i| self.range_literal(i)).parse(i)?;
        let (i, props) = opt(|i| self.properties(i)).parse(i)?;
        Ok((
            i,
            Detail {
                var,
                types: types.unwrap_or_default(),
                length,
                props: props.unwrap_or_default(),
            },
        ))
    }

    /// `rel_types`: `":", symbolic_name, {"|", [":"], symbolic_name}`.
    fn rel_types(&self, i: In<'s>) -> PResult<'s, Vec<Ident>> {
        let (i, _) = self.sym(i, ":")?;
        let (mut i, first) = self
            .symbolic_name(i)
            .or_expected(i, "a relationship type after `:`")?;
        let mut types = vec![first];
        while let Ok((rest, _)) = self.sym(i, "|") {
            let (rest, _) = opt(|i| self.sym(i, ":")).parse(rest)?;
            let (rest, t) = self
                .symbolic_name(rest)
                .or_expected(rest, "a relationship type after `|`")?;
            types.push(t);
            i = rest;
        }
        Ok((i, types))
    }

    /// `range_literal`: `"*", [unsigned_integer], ["..", [unsigned_integer]]` — `*` is
    /// `1..`, `*3` is `3..3`.
    fn range_literal(&self, i: In<'s>) -> PResult<'s, Length> {
        let (i, star) = self.sym(i, "*")?;
        let (i, min) = opt(|i| self.unsigned_integer(i)).parse(i)?;
        let (i, dots) = opt(|i| self.sym(i, "..")).parse(i)?;
        let (i, max) = match dots {
            Some(_) => opt(|i| self.unsigned_integer(i)).parse(i)?,
            None => (i, None),
        };
        let (next, ()) = ws(i)?;
        if !(next.is_empty() || next.starts_with([']', '{'])) {
            return fail(
                next,
                "a length such as `*`, `*2`, `*1..3` or `*..5`, then `]`",
            );
        }
        let bound = |n: &Spanned<u64>| match u32::try_from(n.node) {
            Ok(n) => Ok(n),
            Err(_) => Err(self.failure_span(n.span, format!("the length {} is too large", n.node))),
        };
        let length = match (&min, dots, &max) {
            (None, None, _) => Length { min: 1, max: None },
            (Some(n), None, _) => {
                let n = bound(n)?;
                Length {
                    min: n,
                    max: Some(n),
                }
            }
            (min, Some(_), max) => Length {
                min: match min {
                    Some(n) => bound(n)?,
                    None => 1,
                },
                max: match max {
                    Some(n) => Some(bound(n)?),
                    None => None,
                },
            },
        };
        if let Some(max) = length.max
            && max < length.min
        {
            let span = self.span(star.start, i);
            return self.fail_span(
                span,
                format!("the length range {}..{max} is empty", length.min),
            );
        }
        Ok((i, length))
    }

    // ----- expressions, loosest binding first --------------------------------------------------

    /// `expression`: `or_expression` — one level of nesting.
    fn expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        let _level = self.nest(i)?;
        self.or_expression(i)
    }

    /// `or_expression`: `xor_expression, {"OR", xor_expression}`.
    fn or_expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        self.keyword_chain(i, "or", BinaryOp::Or, Self::xor_expression)
    }

    /// `xor_expression`: `and_expression, {"XOR", and_expression}`.
    fn xor_expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        self.keyword_chain(i, "xor", BinaryOp::Xor, Self::and_expression)
    }

    /// `and_expression`: `not_expression, {"AND", not_expression}`.
    fn and_expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        self.keyword_chain(i, "and", BinaryOp::And, Self::not_expression)
    }

    /// `operand, {word, operand}`, associating to the left: what OR, XOR and AND share.
    fn keyword_chain(
        &self,
        i: In<'s>,
        word: &'static str,
        op: BinaryOp,
        operand: fn(&Self, In<'s>) -> PResult<'s, Ex>,
    ) -> PResult<'s, Ex> {
        let (mut i, mut left) = operand(self, i)?;
        while let Ok((rest, _)) = self.kw(i, word) {
            let label = word.to_uppercase();
            let (rest, right) = operand(self, rest).or_operand(rest, &label)?;
            left = self.binary(op, left, right, i)?;
            i = rest;
        }
        Ok((i, left))
    }

    /// `not_expression`: `"NOT", not_expression | comparison_expression`.
    fn not_expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        match self.kw(i, "not") {
            Ok((rest, not)) => self.negation(i, rest, not),
            Err(_) => self.comparison_expression(i),
        }
    }

    /// The rest of `not_expression` after `NOT` (kept apart: recursion passes through
    /// `not_expression`, whose frame stays small).
    fn negation(&self, i: In<'s>, rest: In<'s>, not: Span) -> PResult<'s, Ex> {
        let _level = self.nest(i)?;
        let (rest, e) = self.not_expression(rest).or_operand(rest, "NOT")?;
        let span = not.to(e.expr.span);
        let kind = ExprKind::Unary(UnaryOp::Not, e.expr);
        Ok((rest, self.node(kind, span, e.height, i)?))
    }

    /// `comparison_expression`: `additive_expression, {comparison_operator,
    /// additive_expression | null_test | label_list}`.
    fn comparison_expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (mut i, mut left) = self.additive_expression(i)?;
        loop {
            if let (rest, Some((op, text))) = opt(|i| self.comparison_operator(i)).parse(i)? {
                let (rest, right) = self.additive_expression(rest).or_operand(rest, text)?;
                left = self.binary(op, left, right, i)?;
                i = rest;
            } else {
                match self.test_suffix(i, left)? {
                    ControlFlow::Continue((rest, tested)) => (i, left) = (rest, tested),
                    ControlFlow::Break(done) => return Ok((i, done)),
                }
            }
        }
    }

    /// `IS [NOT] NULL` or `:Label…` applied to `left`, if one follows (`Break` gives `left`
    /// back).
    fn test_suffix(&self, i: In<'s>, left: Ex) -> Result<ControlFlow<Ex, (In<'s>, Ex)>, Fail> {
        if let (rest, Some((negated, end))) = opt(|i| self.null_test(i)).parse(i)? {
            let span = left.expr.span.to(end);
            let kind = ExprKind::IsNull {
                expr: left.expr,
                negated,
            };
            return Ok(ControlFlow::Continue((
                rest,
                self.node(kind, span, left.height, i)?,
            )));
        }
        if self.sym(i, ":").is_ok() {
            let (rest, labels) = self.label_list(i)?;
            let end = labels.last().map_or(left.expr.span, |l| l.span);
            let span = left.expr.span.to(end);
            let kind = ExprKind::HasLabels(left.expr, labels);
            return Ok(ControlFlow::Continue((
                rest,
                self.node(kind, span, left.height, i)?,
            )));
        }
        Ok(ControlFlow::Break(left))
    }

    /// `comparison_operator`: `"=" | "<>" | "!=" | "<=" | ">=" | "<" | ">" | "IN" |
    /// "STARTS", "WITH" | "ENDS", "WITH" | "CONTAINS"`.
    fn comparison_operator(&self, i: In<'s>) -> PResult<'s, (BinaryOp, &'static str)> {
        const SYMBOLS: [(&str, BinaryOp, &str); 7] = [
            ("=", BinaryOp::Eq, "`=`"),
            ("<>", BinaryOp::Ne, "`<>`"),
            ("!=", BinaryOp::Ne, "`!=`"),
            ("<=", BinaryOp::Le, "`<=`"),
            (">=", BinaryOp::Ge, "`>=`"),
            ("<", BinaryOp::Lt, "`<`"),
            (">", BinaryOp::Gt, "`>`"),
        ];
        for (s, op, text) in SYMBOLS {
            if let Ok((rest, _)) = self.sym(i, s) {
                return Ok((rest, (op, text)));
            }
        }
        for (word, op) in [("in", BinaryOp::In), ("contains", BinaryOp::Contains)] {
            if let Ok((rest, _)) = self.kw(i, word) {
                return Ok((rest, (op, if word == "in" { "IN" } else { "CONTAINS" })));
            }
        }
        for (word, op, text) in [
            ("starts", BinaryOp::StartsWith, "STARTS WITH"),
            ("ends", BinaryOp::EndsWith, "ENDS WITH"),
        ] {
            if let Ok((rest, _)) = self.kw(i, word) {
                let what = if word == "starts" {
                    "WITH after STARTS"
                } else {
                    "WITH after ENDS"
                };
                let (rest, _) = self.kw(rest, "with").or_expected(rest, what)?;
                return Ok((rest, (op, text)));
            }
        }
        backtrack(i)
    }

    /// `null_test`: `"IS", ["NOT"], "NULL"` — whether negated, and where it ends.
    fn null_test(&self, i: In<'s>) -> PResult<'s, (bool, Span)> {
        let (i, _) = self.kw(i, "is")?;
        let (i, not) = opt(|i| self.kw(i, "not")).parse(i)?;
        let (i, null) = self.kw(i, "null").or_expected(
            i,
            if not.is_some() {
                "NULL after IS NOT"
            } else {
                "NULL or NOT NULL after IS"
            },
        )?;
        Ok((i, (not.is_some(), null)))
    }

    /// `additive_expression`: `multiplicative_expression, {("+" | "-"),
    /// multiplicative_expression}`.
    fn additive_expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (mut i, mut left) = self.multiplicative_expression(i)?;
        loop {
            let (rest, op, text) = if let Ok((rest, _)) = self.sym(i, "+") {
                (rest, BinaryOp::Add, "`+`")
            } else if let Ok((rest, _)) = self.sym(i, "-") {
                (rest, BinaryOp::Sub, "`-`")
            } else {
                return Ok((i, left));
            };
            let (rest, right) = self
                .multiplicative_expression(rest)
                .or_operand(rest, text)?;
            left = self.binary(op, left, right, i)?;
            i = rest;
        }
    }

    /// `multiplicative_expression`: `power_expression, {("*" | "/" | "%"),
    /// power_expression}`.
    fn multiplicative_expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (mut i, mut left) = self.power_expression(i)?;
        loop {
            let (rest, op, text) = if let Ok((rest, _)) = self.sym(i, "*") {
                (rest, BinaryOp::Mul, "`*`")
            } else if let Ok((rest, _)) = self.sym(i, "/") {
                (rest, BinaryOp::Div, "`/`")
            } else if let Ok((rest, _)) = self.sym(i, "%") {
                (rest, BinaryOp::Mod, "`%`")
            } else {
                return Ok((i, left));
            };
            let (rest, right) = self.power_expression(rest).or_operand(rest, text)?;
            left = self.binary(op, left, right, i)?;
            i = rest;
        }
    }

    /// `power_expression`: `unary_expression, {"^", unary_expression}`.
    fn power_expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (mut i, mut left) = self.unary_expression(i)?;
        while let Ok((rest, _)) = self.sym(i, "^") {
            let (rest, right) = self.unary_expression(rest).or_operand(rest, "`^`")?;
            left = self.binary(BinaryOp::Pow, left, right, i)?;
            i = rest;
        }
        Ok((i, left))
    }

    /// `unary_expression`: `("-" | "+"), unary_expression | postfix_expression` — a minus
    /// before a number is folded into it (`-5` is the integer -5).
    fn unary_expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        if let Ok((rest, minus)) = self.sym(i, "-") {
            return self.signed(i, rest, Some(minus));
        }
        if let Ok((rest, _)) = self.sym(i, "+") {
            return self.signed(i, rest, None);
        }
        self.postfix_expression(i)
    }

    /// The rest of `unary_expression` after `-` (`Some`) or `+` (kept apart: recursion passes
    /// through `unary_expression`, whose frame stays small).
    fn signed(&self, i: In<'s>, rest: In<'s>, sign: Option<Span>) -> PResult<'s, Ex> {
        let _level = self.nest(i)?;
        let Some(minus) = sign else {
            return self.unary_expression(rest).or_operand(rest, "`+`");
        };
        if let Some((rest, min)) = self.smallest_integer(rest, minus) {
            return Ok((rest, min));
        }
        let (rest, e) = self.unary_expression(rest).or_operand(rest, "`-`")?;
        let span = minus.to(e.expr.span);
        let folded = match e.expr.kind {
            ExprKind::Literal(Literal::Int(n)) => n.checked_neg().map(Literal::Int),
            ExprKind::Literal(Literal::Float(f)) => Some(Literal::Float(-f)),
            _ => None,
        };
        if let Some(literal) = folded {
            return Ok((rest, leaf(ExprKind::Literal(literal), span)));
        }
        let kind = ExprKind::Unary(UnaryOp::Neg, e.expr);
        Ok((rest, self.node(kind, span, e.height, i)?))
    }

    /// `-9223372036854775808`, the one integer whose digits alone are out of range.
    fn smallest_integer(&self, i: In<'s>, minus: Span) -> Option<(In<'s>, Ex)> {
        let (digits_at, ()) = ws(i).ok()?;
        let (rest, digits) = digit1::<_, PError>(digits_at).ok()?;
        let ends = !rest.starts_with(is_ident_char)
            && !rest.starts_with(['e', 'E'])
            && (!rest.starts_with('.') || rest.starts_with(".."));
        (digits == "9223372036854775808" && ends).then(|| {
            let span = minus.to(self.span(self.offset(digits_at), rest));
            (rest, leaf(ExprKind::Literal(Literal::Int(i64::MIN)), span))
        })
    }

    /// `postfix_expression`: `atom, {".", symbolic_name | subscript}`.
    fn postfix_expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (mut i, mut e) = self.atom(i)?;
        loop {
            match self.postfix(i, e)? {
                ControlFlow::Continue((rest, applied)) => (i, e) = (rest, applied),
                ControlFlow::Break(done) => return Ok((i, done)),
            }
        }
    }

    /// One `.key` or `[…]` applied to `e`, if one follows (`Break` gives `e` back).
    fn postfix(&self, i: In<'s>, e: Ex) -> Result<ControlFlow<Ex, (In<'s>, Ex)>, Fail> {
        if let Ok((rest, _)) = self.sym(i, ".")
            && !rest.starts_with('.')
        {
            let (rest, key) = self
                .symbolic_name(rest)
                .or_expected(rest, "a property key after `.`")?;
            let span = e.expr.span.to(key.span);
            let kind = ExprKind::Property(e.expr, key);
            return Ok(ControlFlow::Continue((
                rest,
                self.node(kind, span, e.height, i)?,
            )));
        }
        let (rest, (sub, close)) = match self.subscript(i) {
            Ok(parsed) => parsed,
            Err(nom::Err::Error(_)) => return Ok(ControlFlow::Break(e)),
            Err(failure) => return Err(failure),
        };
        let span = e.expr.span.to(close);
        let (kind, below) = match sub {
            Subscript::Index(index) => (
                ExprKind::Index(e.expr, index.expr),
                e.height.max(index.height),
            ),
            Subscript::Slice(from, to) => {
                let below = [&from, &to]
                    .into_iter()
                    .flatten()
                    .fold(e.height, |h, b| h.max(b.height));
                let bound = |b: Option<Ex>| b.map(|b| b.expr);
                (ExprKind::Slice(e.expr, bound(from), bound(to)), below)
            }
        };
        Ok(ControlFlow::Continue((
            rest,
            self.node(kind, span, below, i)?,
        )))
    }

    /// `subscript`: `"[", (expression | [expression], "..", [expression]), "]"`.
    fn subscript(&self, i: In<'s>) -> PResult<'s, (Subscript, Span)> {
        let (i, _) = self.sym(i, "[")?;
        let (i, from) = match self.sym(i, "..") {
            Ok(_) => (i, None),
            Err(_) => {
                let (i, e) = self
                    .expression(i)
                    .or_expected(i, "an index, or a slice `[from..to]`")?;
                (i, Some(e))
            }
        };
        if let Ok((i, _)) = self.sym(i, "..") {
            let (i, to) = match self.sym(i, "]") {
                Ok(_) => (i, None),
                Err(_) => {
                    let (i, e) = self
                        .expression(i)
                        .or_expected(i, "the end of the slice, or `]`")?;
                    (i, Some(e))
                }
            };
            let (i, close) = self.sym(i, "]").or_expected(i, "`]` to close the slice")?;
            return Ok((i, (Subscript::Slice(from, to), close)));
        }
        let (i, close) = self
            .sym(i, "]")
            .or_expected(i, "`]` to close the index, or `..` for a slice")?;
        match from {
            Some(index) => Ok((i, (Subscript::Index(index), close))),
            None => backtrack(i),
        }
    }

    /// `atom`: `literal | parameter | list_literal | map_literal | parenthesized_expression
    /// | case_expression | function_call | variable`.
    fn atom(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (i, ()) = ws(i)?;
        let mut chars = i.chars();
        match chars.next() {
            Some('"' | '\'' | '0'..='9') => self.literal(i),
            Some('.') if chars.next().is_some_and(|c| c.is_ascii_digit()) => self.literal(i),
            Some('$') => self.parameter(i),
            Some('[') => self.list_literal(i),
            Some('{') => self.map_literal(i),
            Some('(') => self.parenthesized_expression(i),
            Some(c) if c == '`' || is_ident_start(c) => {
                if self.kw(i, "case").is_ok() {
                    return self.case_expression(i);
                }
                if ["true", "false", "null"]
                    .iter()
                    .any(|w| self.kw(i, w).is_ok())
                {
                    return self.literal(i);
                }
                let called = skip_name(i).is_some_and(|rest| self.sym(rest, "(").is_ok());
                if called {
                    return self.function_call(i);
                }
                self.variable(i)
            }
            _ => backtrack(i),
        }
    }

    /// `literal`: `string_literal | number_literal | "TRUE" | "FALSE" | "NULL"`.
    fn literal(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (i, ()) = ws(i)?;
        let start = self.offset(i);
        let (rest, literal) = alt((
            |i| {
                self.string_literal(i)
                    .map(|(rest, s)| (rest, Literal::Str(s.node)))
            },
            |i| self.number_literal(i),
            |i| {
                self.kw(i, "true")
                    .map(|(rest, _)| (rest, Literal::Bool(true)))
            },
            |i| {
                self.kw(i, "false")
                    .map(|(rest, _)| (rest, Literal::Bool(false)))
            },
            |i| self.kw(i, "null").map(|(rest, _)| (rest, Literal::Null)),
        ))
        .parse(i)?;
        Ok((
            rest,
            leaf(ExprKind::Literal(literal), self.span(start, rest)),
        ))
    }

    /// `parenthesized_expression`: `"(", expression, ")"`.
    fn parenthesized_expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (i, open) = self.sym(i, "(")?;
        let (i, mut e) = self
            .expression(i)
            .or_expected(i, "an expression after `(`")?;
        let (i, close) = self
            .sym(i, ")")
            .or_expected(i, "`)` to close the parenthesis")?;
        e.expr.span = open.to(close);
        Ok((i, e))
    }

    /// `variable`: `identifier`.
    fn variable(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (i, name) = self.identifier(i)?;
        Ok((i, leaf(ExprKind::Variable(name.node), name.span)))
    }

    /// `parameter`: `"$", ({letter, digit or "_"}- | quoted_name)`.
    fn parameter(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (i, dollar) = self.sym(i, "$")?;
        let name = if i.starts_with('`') {
            self.quoted_name(i).map(|(rest, n)| (rest, n.node))
        } else {
            take_while1(is_ident_char)
                .parse(i)
                .map(|(rest, n): (In<'s>, In<'s>)| (rest, n.to_owned()))
        };
        let (rest, name) = match name {
            Err(nom::Err::Error(_)) => {
                return fail_at(
                    i,
                    None,
                    format!(
                        "expected a parameter name right after `$`, found {}",
                        found(i)
                    ),
                );
            }
            other => other?,
        };
        Ok((
            rest,
            leaf(ExprKind::Parameter(name), self.span(dollar.start, rest)),
        ))
    }

    /// `function_call`: `symbolic_name, "(", ("*" | ["DISTINCT"], [expression, {",",
    /// expression}]), ")"` — `*` only in `count(*)`.
    fn function_call(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (i, name) = self.symbolic_name(i)?;
        let (i, _) = self.sym(i, "(")?;
        if let Ok((rest, star)) = self.sym(i, "*") {
            if !name.node.eq_ignore_ascii_case("count") {
                return self.fail_span(star, "`*` as an argument is only for count(*)");
            }
            let (rest, close) = self.sym(rest, ")").or_expected(rest, "`)` after count(*")?;
            return Ok((rest, leaf(ExprKind::CountStar, name.span.to(close))));
        }
        let (mut i, distinct) = opt(|i| self.kw(i, "distinct")).parse(i)?;
        let mut args = Vec::new();
        let mut below = 0;
        let close = loop {
            if args.is_empty()
                && distinct.is_none()
                && let Ok((rest, close)) = self.sym(i, ")")
            {
                i = rest;
                break close;
            }
            let what = if distinct.is_some() && args.is_empty() {
                "an argument after DISTINCT"
            } else if args.is_empty() {
                "an argument or `)`"
            } else {
                "an argument after `,`"
            };
            let (rest, arg) = self.expression(i).or_expected(i, what)?;
            below = below.max(arg.height);
            args.push(*arg.expr);
            if let Ok((rest, _)) = self.sym(rest, ",") {
                i = rest;
                continue;
            }
            let (rest, close) = self
                .sym(rest, ")")
                .or_expected(rest, "`,` or `)` to close the arguments")?;
            i = rest;
            break close;
        };
        let span = name.span.to(close);
        let kind = ExprKind::Call {
            name,
            distinct: distinct.is_some(),
            args,
        };
        Ok((i, self.node(kind, span, below, i)?))
    }

    /// `list_literal`: `"[", [expression, {",", expression}], "]"`.
    fn list_literal(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (mut i, open) = self.sym(i, "[")?;
        let mut items = Vec::new();
        let mut below = 0;
        let close = loop {
            if items.is_empty()
                && let Ok((rest, close)) = self.sym(i, "]")
            {
                i = rest;
                break close;
            }
            let what = if items.is_empty() {
                "a list element or `]`"
            } else {
                "a list element after `,`"
            };
            let (rest, item) = self.expression(i).or_expected(i, what)?;
            below = below.max(item.height);
            items.push(*item.expr);
            if let Ok((rest, _)) = self.sym(rest, ",") {
                i = rest;
                continue;
            }
            let (rest, close) = self
                .sym(rest, "]")
                .or_expected(rest, "`,` or `]` to close the list")?;
            i = rest;
            break close;
        };
        Ok((
            i,
            self.node(ExprKind::List(items), open.to(close), below, i)?,
        ))
    }

    /// `map_literal`: `"{", [symbolic_name, ":", expression, {",", symbolic_name, ":",
    /// expression}], "}"`.
    fn map_literal(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (mut i, open) = self.sym(i, "{")?;
        let mut entries = Vec::new();
        let mut below = 0;
        let close = loop {
            if entries.is_empty()
                && let Ok((rest, close)) = self.sym(i, "}")
            {
                i = rest;
                break close;
            }
            let what = if entries.is_empty() {
                "a key or `}` in the map"
            } else {
                "a key after `,` in the map"
            };
            let (rest, key) = self.symbolic_name(i).or_expected(i, what)?;
            let (rest, _) = self.sym(rest, ":").or_expected(rest, "`:` after the key")?;
            let (rest, value) = self
                .expression(rest)
                .or_expected(rest, "a value after `:`")?;
            below = below.max(value.height);
            entries.push((key, *value.expr));
            if let Ok((rest, _)) = self.sym(rest, ",") {
                i = rest;
                continue;
            }
            let (rest, close) = self
                .sym(rest, "}")
                .or_expected(rest, "`,` or `}` to close the map")?;
            i = rest;
            break close;
        };
        Ok((
            i,
            self.node(ExprKind::Map(entries), open.to(close), below, i)?,
        ))
    }

    /// `case_expression`: `"CASE", [expression], "WHEN", expression, "THEN", expression,
    /// {"WHEN", expression, "THEN", expression}, ["ELSE", expression], "END"`.
    fn case_expression(&self, i: In<'s>) -> PResult<'s, Ex> {
        let (i, case) = self.kw(i, "case")?;
        let (mut i, subject) = match self.kw(i, "when") {
            Ok(_) => (i, None),
            Err(_) => {
                let (i, s) = self
                    .expression(i)
                    .or_expected(i, "WHEN, or a value to compare, after CASE")?;
                (i, Some(s))
            }
        };
        let mut below = subject.as_ref().map_or(0, |s| s.height);
        let mut branches = Vec::new();
        while let Ok((rest, _)) = self.kw(i, "when") {
            let (rest, condition) = self
                .expression(rest)
                .or_expected(rest, "a condition after WHEN")?;
            let (rest, _) = self
                .kw(rest, "then")
                .or_expected(rest, "THEN after the condition")?;
            let (rest, result) = self
                .expression(rest)
                .or_expected(rest, "a result after THEN")?;
            below = below.max(condition.height).max(result.height);
            branches.push((*condition.expr, *result.expr));
            i = rest;
        }
        if branches.is_empty() {
            return fail(i, "WHEN after CASE");
        }
        let (i, otherwise) = match self.kw(i, "else") {
            Ok((rest, _)) => {
                let (rest, e) = self
                    .expression(rest)
                    .or_expected(rest, "a result after ELSE")?;
                below = below.max(e.height);
                (rest, Some(e.expr))
            }
            Err(_) => (i, None),
        };
        let what = if otherwise.is_some() {
            "END to close CASE"
        } else {
            "WHEN, ELSE or END in CASE"
        };
        let (i, end) = self.kw(i, "end").or_expected(i, what)?;
        let kind = ExprKind::Case {
            subject: subject.map(|s| s.expr),
            branches,
            otherwise,
        };
        Ok((i, self.node(kind, case.to(end), below, i)?))
    }

    // ----- lexical rules -----------------------------------------------------------------------

    /// `identifier`: `word - reserved_word | quoted_name`.
    fn identifier(&self, i: In<'s>) -> PResult<'s, Ident> {
        let (i, ()) = ws(i)?;
        if i.starts_with('`') {
            return self.quoted_name(i);
        }
        let (rest, w) = word(i)?;
        if reserved_word(i).is_ok() {
            return backtrack(i);
        }
        let span = self.span(self.offset(i), rest);
        Ok((
            rest,
            Spanned {
                node: w.to_owned(),
                span,
            },
        ))
    }

    /// `symbolic_name`: `word | quoted_name` — where reserved words are names too (labels,
    /// types, keys, aliases, functions).
    fn symbolic_name(&self, i: In<'s>) -> PResult<'s, Ident> {
        let (i, ()) = ws(i)?;
        if i.starts_with('`') {
            return self.quoted_name(i);
        }
        let (rest, w) = word(i)?;
        let span = self.span(self.offset(i), rest);
        Ok((
            rest,
            Spanned {
                node: w.to_owned(),
                span,
            },
        ))
    }

    /// `quoted_name`: `` "`", {any character but "`" | "``"}-, "`" `` — any non-empty
    /// text; a doubled backquote stands for one.
    fn quoted_name(&self, i: In<'s>) -> PResult<'s, Ident> {
        let (i, ()) = ws(i)?;
        let start = self.offset(i);
        let (mut rest, _) = char('`').parse(i)?;
        let mut name = String::new();
        loop {
            let Some(k) = rest.find('`') else {
                return fail_at(
                    i,
                    Some(1),
                    "unterminated name: a backquote without its closing one",
                );
            };
            name.push_str(&rest[..k]);
            rest = &rest[k + 1..];
            match rest.strip_prefix('`') {
                Some(after) => {
                    name.push('`');
                    rest = after;
                }
                None => break,
            }
        }
        let span = self.span(start, rest);
        if name.is_empty() {
            return self.fail_span(span, "a name in backquotes cannot be empty");
        }
        Ok((rest, Spanned { node: name, span }))
    }

    /// `string_literal`: `'"', {any character but '"' and "\" | escape_sequence}, '"' |
    /// "'", {any character but "'" and "\" | escape_sequence}, "'"`.
    fn string_literal(&self, i: In<'s>) -> PResult<'s, Spanned<String>> {
        let (i, ()) = ws(i)?;
        let start = self.offset(i);
        let (mut rest, quote) = one_of("\"'").parse(i)?;
        let unterminated = || {
            let message = format!("unterminated string: `{quote}` without its closing `{quote}`");
            fail_at(i, Some(1), message)
        };
        let mut text = String::new();
        loop {
            let Some(k) = rest.find([quote, '\\']) else {
                return unterminated();
            };
            text.push_str(&rest[..k]);
            if let Some(after) = rest[k..].strip_prefix(quote) {
                let span = self.span(start, after);
                return Ok((after, Spanned { node: text, span }));
            }
            let (after, c) = match escape_sequence(&rest[k..]) {
                Err(nom::Err::Error(_)) => return unterminated(),
                other => other?,
            };
            text.push(c);
            rest = after;
        }
    }

    /// `number_literal`: `digit, {digit}, [".", {digit}], [exponent] | ".", digit, {digit},
    /// [exponent]` — an integer (64-bit) when it has neither `.` nor an exponent.
    fn number_literal(&self, i: In<'s>) -> PResult<'s, Literal> {
        let (i, ()) = ws(i)?;
        // `take_while`, not `digit0`: nom 8.0.0's `digit0` leaves an empty rest that points at
        // the start of its input when it takes all of it, and `recognize` then cuts short
        // (rust-bakery/nom#1808, #1876).
        let digits = take_while(|c: char| c.is_ascii_digit());
        let (rest, text) = recognize((
            alt((
                recognize((digit1, opt((char('.'), not(char('.')), digits)))),
                recognize((char('.'), digit1)),
            )),
            opt(exponent),
        ))
        .parse(i)?;
        if rest.starts_with(is_ident_char) {
            let len = text.len() + token_len(rest);
            return fail_at(i, Some(len), format!("`{}` is not a number", &i[..len]));
        }
        if text.contains(['.', 'e', 'E']) {
            return match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok((rest, Literal::Float(f))),
                _ => fail_at(
                    i,
                    Some(text.len()),
                    format!("the number {text} is out of range"),
                ),
            };
        }
        match text.parse::<i64>() {
            Ok(n) => Ok((rest, Literal::Int(n))),
            Err(_) => fail_at(
                i,
                Some(text.len()),
                format!(
                    "the integer {text} is out of range (the largest is {})",
                    i64::MAX
                ),
            ),
        }
    }

    /// `unsigned_integer`: `digit, {digit}` — transaction numbers and lengths.
    fn unsigned_integer(&self, i: In<'s>) -> PResult<'s, Spanned<u64>> {
        let (i, ()) = ws(i)?;
        let (rest, digits) = digit1(i)?;
        let span = self.span(self.offset(i), rest);
        match digits.parse::<u64>() {
            Ok(node) => Ok((rest, Spanned { node, span })),
            Err(_) => self.fail_span(span, format!("the number {digits} is too large")),
        }
    }

    /// `date_literal`: `edtf_text | string_literal` — one EDTF date.
    fn date_literal(&self, i: In<'s>) -> PResult<'s, Spanned<Date>> {
        let (rest, text) = alt((|i| self.string_literal(i), |i| self.edtf_text(i))).parse(i)?;
        match Date::parse(&text.node) {
            Ok(node) => Ok((
                rest,
                Spanned {
                    node,
                    span: text.span,
                },
            )),
            Err(e) => self.fail_span(text.span, e.to_string()),
        }
    }

    /// `interval_literal`: `edtf_text | string_literal` — an EDTF date or interval.
    fn interval_literal(&self, i: In<'s>) -> PResult<'s, Spanned<ValidTime>> {
        let (rest, text) = alt((|i| self.string_literal(i), |i| self.edtf_text(i))).parse(i)?;
        match ValidTime::parse(&text.node) {
            Ok(node) => Ok((
                rest,
                Spanned {
                    node,
                    span: text.span,
                },
            )),
            Err(e) => self.fail_span(text.span, e.to_string()),
        }
    }

    /// `edtf_text`: `{digit, or one of X ? ~ % . / -}-` — the longest such run.
    fn edtf_text(&self, i: In<'s>) -> PResult<'s, Spanned<String>> {
        let (i, ()) = ws(i)?;
        let edtf = |c: char| c.is_ascii_digit() || "X?~%./-".contains(c);
        let (rest, text) = take_while1(edtf).parse(i)?;
        let span = self.span(self.offset(i), rest);
        Ok((
            rest,
            Spanned {
                node: text.to_owned(),
                span,
            },
        ))
    }

    /// `timestamp`: `digit, {digit, or one of - : . + T Z} | string_literal` — RFC 3339 or a
    /// day, as written (checked when the query runs).
    fn timestamp(&self, i: In<'s>) -> PResult<'s, Spanned<String>> {
        let (i, ()) = ws(i)?;
        if i.starts_with(['"', '\'']) {
            return self.string_literal(i);
        }
        let time = |c: char| c.is_ascii_digit() || "-:.+TZ".contains(c);
        let (rest, text) =
            recognize((satisfy(|c| c.is_ascii_digit()), take_while(time))).parse(i)?;
        let span = self.span(self.offset(i), rest);
        Ok((
            rest,
            Spanned {
                node: text.to_owned(),
                span,
            },
        ))
    }

    // ----- entry points ------------------------------------------------------------------------

    /// Runs `rule` over the whole source; what follows it is an error that expects `after`.
    fn run<T>(
        &self,
        rule: impl FnOnce(In<'s>) -> PResult<'s, T>,
        after: &str,
    ) -> Result<T, QueryError> {
        let parsed = rule(self.source).and_then(|(rest, value)| {
            let (rest, ()) = ws(rest)?;
            if rest.is_empty() {
                Ok(value)
            } else {
                fail(rest, after).map(|(_, v)| v)
            }
        });
        parsed.map_err(|e| self.error(e))
    }

    /// The [`QueryError`] for a parse error: its message, over the offending text.
    fn error(&self, e: Fail) -> QueryError {
        let e = match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => e,
            nom::Err::Incomplete(_) => PError::from_error_kind("", NomKind::Eof),
        };
        let start = self.source.len().saturating_sub(e.remaining);
        let rest = self.source.get(start..).unwrap_or_default();
        let (message, len) = match e.explained {
            Some(explained) => (explained.message, explained.len),
            None => (format!("unexpected {}", found(rest)), None),
        };
        let len = len.unwrap_or_else(|| token_len(rest)).min(rest.len());
        let end = (start + len..=self.source.len())
            .find(|&k| self.source.is_char_boundary(k))
            .unwrap_or(self.source.len());
        QueryError::syntax(Span::new(start, end), message)
    }
}

/// What follows AT / AS OF / DURING at the start of a query.
type TimePrefix = (Option<Spanned<TxTime>>, Option<Spanned<ValidSelector>>);

/// The first node of a path and each relationship with the node after it.
type Element = (NodePattern, Vec<(RelPattern, NodePattern)>);

/// What is inside the brackets of a relationship pattern.
#[derive(Default)]
struct Detail {
    var: Option<Ident>,
    types: Vec<Ident>,
    length: Option<Length>,
    props: Vec<(Ident, Expr)>,
}

/// What is inside the brackets after an expression.
enum Subscript {
    Index(Ex),
    Slice(Option<Ex>, Option<Ex>),
}

/// Words that cannot be bare identifiers (in backquotes, any text is a name).
const RESERVED: &[&str] = &[
    "match",
    "optional",
    "where",
    "return",
    "with",
    "unwind",
    "create",
    "merge",
    "set",
    "remove",
    "delete",
    "detach",
    "union",
    "order",
    "by",
    "skip",
    "limit",
    "asc",
    "desc",
    "ascending",
    "descending",
    "distinct",
    "as",
    "and",
    "or",
    "xor",
    "not",
    "in",
    "is",
    "null",
    "true",
    "false",
    "starts",
    "ends",
    "contains",
    "case",
    "when",
    "then",
    "else",
    "end",
];

/// `reserved_word`: `"MATCH" | "OPTIONAL" | … | "END"` ([`RESERVED`]), a whole word.
fn reserved_word(i: In<'_>) -> PResult<'_, In<'_>> {
    let (rest, w) = word(i)?;
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(w)) {
        Ok((rest, w))
    } else {
        backtrack(i)
    }
}

fn is_reserved(token: &str) -> bool {
    reserved_word(token).is_ok_and(|(rest, _)| rest.is_empty())
}

/// The clause keyword a mistyped word was probably meant to be.
fn suggestion(word: &str) -> Option<&'static str> {
    const KEYWORDS: [&str; 11] = [
        "MATCH", "OPTIONAL", "WHERE", "WITH", "UNWIND", "RETURN", "CREATE", "MERGE", "SET",
        "REMOVE", "END",
    ];
    if word.chars().count() < 3 || !word.chars().all(is_ident_char) {
        return None;
    }
    let upper = word.to_uppercase();
    KEYWORDS
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(&upper, k), k))
        .filter(|&(d, k)| d > 0 && d <= 2 && d < k.len() / 2 + 1)
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_combining_mark(c)
}

/// Combining diacritical marks, so that a name typed in decomposed form (`a` + `◌̊`) is one
/// word, as it is in composed form (`å`).
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// The input after the name (a word or a quoted name) at its start, if there is one.
fn skip_name(i: In<'_>) -> Option<In<'_>> {
    if let Some(quoted) = i.strip_prefix('`') {
        let mut rest = quoted;
        loop {
            let k = rest.find('`')?;
            rest = &rest[k + 1..];
            match rest.strip_prefix('`') {
                Some(after) => rest = after,
                None => return Some(rest),
            }
        }
    }
    word(i).ok().map(|(rest, _)| rest)
}

/// `ws`: `{whitespace | comment}`.
fn ws(i: In<'_>) -> PResult<'_, ()> {
    let (i, _) = many0_count(alt((take_while1(char::is_whitespace), comment))).parse(i)?;
    Ok((i, ()))
}

/// `comment`: `"//", {any character but a line break} | "/*", {any character}, "*/"`.
fn comment(i: In<'_>) -> PResult<'_, In<'_>> {
    if i.starts_with("//") {
        return recognize((tag("//"), take_while(|c| c != '\n'))).parse(i);
    }
    let (body, _) = tag("/*").parse(i)?;
    match take_until::<_, _, PError>("*/").parse(body) {
        Ok((end, text)) => Ok((&end[2..], text)),
        Err(_) => fail_at(
            i,
            Some(2),
            "unterminated comment: `/*` without its closing `*/`",
        ),
    }
}

/// `word`: `(letter | "_"), {letter or digit | combining mark | "_"}` — in any script.
fn word(i: In<'_>) -> PResult<'_, In<'_>> {
    recognize((satisfy(is_ident_start), take_while(is_ident_char))).parse(i)
}

/// `escape_sequence`: `"\", ("t" | "n" | "r" | "b" | "f" | '"' | "'" | "\" | "/" | "u",
/// 4 * hex digit)`.
fn escape_sequence(i: In<'_>) -> PResult<'_, char> {
    let (rest, _) = char('\\').parse(i)?;
    let Some(e) = rest.chars().next() else {
        return backtrack(i);
    };
    let simple = match e {
        't' => Some('\t'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        '"' | '\'' | '\\' | '/' => Some(e),
        _ => None,
    };
    if let Some(c) = simple {
        return Ok((&rest[1..], c));
    }
    if e != 'u' {
        return fail_at(
            i,
            Some(1 + e.len_utf8()),
            format!(
                "unknown escape `\\{}` (use \\t \\n \\r \\\" \\' \\\\ or \\uXXXX)",
                e.escape_default()
            ),
        );
    }
    let hex = rest[1..]
        .char_indices()
        .take(4)
        .take_while(|(_, c)| c.is_ascii_hexdigit())
        .count();
    let code = rest
        .get(1..1 + hex)
        .filter(|_| hex == 4)
        .and_then(|h| u32::from_str_radix(h, 16).ok());
    match code.and_then(char::from_u32) {
        Some(c) => Ok((&rest[5..], c)),
        None => {
            let text = &i[..2 + hex];
            let why = if hex == 4 {
                "a surrogate, not a character"
            } else {
                "expected four hex digits"
            };
            fail_at(i, Some(text.len()), format!("bad escape `{text}`: {why}"))
        }
    }
}

/// `exponent`: `("e" | "E"), ["+" | "-"], digit, {digit}`.
fn exponent(i: In<'_>) -> PResult<'_, In<'_>> {
    recognize((one_of("eE"), opt(one_of("+-")), digit1)).parse(i)
}

/// Parses a script: statements separated by `;` (the last `;` optional, empty statements
/// skipped; comments anywhere).
///
/// # Errors
/// The first syntax error, with the span of the offending text.
pub fn parse_script(source: &str) -> Result<Script, QueryError> {
    let statements = split_statements(source)?
        .into_iter()
        .map(|(_, statement)| statement)
        .collect();
    Ok(Script { statements })
}

/// Parses a script like [`parse_script`], keeping where each statement was written: its
/// span, without the `;` and the whitespace or comments around it (for "statement 3 of
/// file.dgq", or to show its text).
///
/// # Errors
/// The first syntax error, with the span of the offending text.
pub fn split_statements(source: &str) -> Result<Vec<(Span, Statement)>, QueryError> {
    let cx = Cx::new(source);
    cx.run(|i| cx.script(i), "`;` or the end of the input")
}

/// Parses exactly one statement (a trailing `;` is allowed).
///
/// # Errors
/// The first syntax error, or anything after the statement.
pub fn parse_statement(source: &str) -> Result<Statement, QueryError> {
    let cx = Cx::new(source);
    cx.run(
        |i| {
            let (i, statement) = cx.statement(i)?;
            let (i, _) = opt(|i| cx.sym(i, ";")).parse(i)?;
            Ok((i, statement))
        },
        "the end of the input after the statement (one statement only)",
    )
}

/// Parses one expression: for parameters given on the command line, and tests.
///
/// # Errors
/// The first syntax error, or anything after the expression.
pub fn parse_expression(source: &str) -> Result<Expr, QueryError> {
    let cx = Cx::new(source);
    cx.run(
        |i| {
            let (i, e) = cx.expression(i).or_expected(i, "an expression")?;
            Ok((i, *e.expr))
        },
        "an operator or the end of the expression",
    )
}
