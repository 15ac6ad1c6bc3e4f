//! The parser: text → [`ast`](super::ast), written with nom 8.
//!
//! One function per rule of `grammar/diplograph.ebnf`, named after it. The input is a
//! `nom_locate` span, so every node gets its byte offsets for free.
//!
//! Errors: once a construct is recognised (say, after `(` of a node pattern), the parser
//! commits to it (`cut`) and a mismatch becomes a failure that names what was expected and
//! what was found, at the offending token. Whitespace and comments (`// …`, `/* … */`) may
//! appear between any two tokens. Keywords are case-insensitive. Nesting is bounded
//! ([`MAX_DEPTH`]), so no input can overflow the stack.

use std::cell::Cell;

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while, take_while1};
use nom::character::complete::{char, satisfy};
use nom::combinator::{opt, recognize};
use nom::error::{ErrorKind as NomKind, ParseError};
use nom::multi::many0;
use nom::{IResult, Parser};
use nom_locate::LocatedSpan;

use super::ast::*;
use super::error::QueryError;
use crate::time::{Bound, Date, ValidTime};

type In<'a> = LocatedSpan<&'a str>;
type PResult<'a, T> = IResult<In<'a>, T, PError>;

/// How deeply expressions may nest.
pub const MAX_DEPTH: u32 = 96;

/// A parse error: where, and (when known) what was expected there.
#[derive(Debug, Clone)]
pub struct PError {
    offset: usize,
    message: Option<String>,
}

impl<'a> ParseError<In<'a>> for PError {
    fn from_error_kind(input: In<'a>, _: NomKind) -> PError {
        PError {
            offset: input.location_offset(),
            message: None,
        }
    }
    fn append(_: In<'a>, _: NomKind, other: PError) -> PError {
        other
    }
    fn or(self, other: PError) -> PError {
        // The alternative that got further explains the failure best.
        match (self.offset >= other.offset, &self.message, &other.message) {
            (_, Some(_), None) => self,
            (_, None, Some(_)) => other,
            (true, _, _) => self,
            (false, _, _) => other,
        }
    }
}

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

fn offset(i: &In<'_>) -> usize {
    i.location_offset()
}

/// What is at the start of `i`, for "found …" in messages.
fn found(i: &In<'_>) -> String {
    let rest = i.fragment().trim_start();
    let Some(c) = rest.chars().next() else {
        return "the end of the input".to_owned();
    };
    if is_ident_char(c) {
        let word: String = rest
            .chars()
            .take_while(|&c| is_ident_char(c))
            .take(30)
            .collect();
        return format!("`{word}`");
    }
    if c == '"' || c == '\'' {
        let s: String = rest.chars().take_while(|&c| c != '\n').take(20).collect();
        return format!("`{s}`");
    }
    let two: String = rest.chars().take(2).collect();
    if ["->", "<-", "<>", "<=", ">=", "!=", "..", "+="].contains(&two.as_str()) {
        return format!("`{two}`");
    }
    format!("`{c}`")
}

/// A failure at the next token of `i`: "expected {what}, found {token}".
fn fail<'a, T>(i: In<'a>, what: &str) -> PResult<'a, T> {
    let (i, _) = ws(i)?;
    Err(nom::Err::Failure(PError {
        offset: offset(&i),
        message: Some(format!("expected {what}, found {}", found(&i))),
    }))
}

/// A failure with a message of its own at `at`.
fn fail_msg<'a, T>(at: usize, message: String) -> PResult<'a, T> {
    Err(nom::Err::Failure(PError {
        offset: at,
        message: Some(message),
    }))
}

/// Runs `p`; if it does not match, fails with "expected {what}".
fn expect<'a, O>(
    mut p: impl Parser<In<'a>, Output = O, Error = PError>,
    what: &'static str,
) -> impl FnMut(In<'a>) -> PResult<'a, O> {
    move |i: In<'a>| match p.parse(i) {
        Err(nom::Err::Error(_)) => fail(i, what),
        other => other,
    }
}

/// `i` after `bytes` bytes (a character boundary).
fn advance(i: In<'_>, bytes: usize) -> In<'_> {
    use nom::Input as _;
    i.take_split(bytes).0
}

/// `p`, then `, p` for as long as a comma follows.
fn comma_separated<'a, O>(
    i: In<'a>,
    mut p: impl FnMut(In<'a>) -> PResult<'a, O>,
) -> PResult<'a, Vec<O>> {
    let (mut i, first) = p(i)?;
    let mut items = vec![first];
    while let Ok((rest, _)) = sym(",")(i) {
        let (rest, item) = p(rest)?;
        items.push(item);
        i = rest;
    }
    Ok((i, items))
}

fn span(start: usize, i: &In<'_>) -> Span {
    Span::new(start, offset(i))
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

// ----- lexical rules ---------------------------------------------------------------------------

/// `ws`: whitespace and comments.
fn ws(mut i: In<'_>) -> PResult<'_, ()> {
    loop {
        let (rest, _) = take_while(char::is_whitespace).parse(i)?;
        i = rest;
        if i.fragment().starts_with("//") {
            let (rest, _) = take_while(|c| c != '\n').parse(i)?;
            i = rest;
        } else if i.fragment().starts_with("/*") {
            let start = offset(&i);
            match i.fragment().find("*/") {
                Some(end) => {
                    let rest = advance(i, end + 2);
                    i = rest;
                }
                None => return fail_msg(start, "unterminated comment: `/*` without `*/`".into()),
            }
        } else {
            return Ok((i, ()));
        }
    }
}

/// A keyword, case-insensitive, not followed by an identifier character.
fn kw<'a>(word: &'static str) -> impl FnMut(In<'a>) -> PResult<'a, Span> {
    move |i: In<'a>| {
        let (i, _) = ws(i)?;
        let start = offset(&i);
        let (rest, _) = tag_no_case(word).parse(i)?;
        if rest.fragment().chars().next().is_some_and(is_ident_char) {
            return Err(nom::Err::Error(PError::from_error_kind(i, NomKind::Tag)));
        }
        Ok((rest, span(start, &rest)))
    }
}

/// A punctuation symbol.
fn sym<'a>(s: &'static str) -> impl FnMut(In<'a>) -> PResult<'a, Span> {
    move |i: In<'a>| {
        let (i, _) = ws(i)?;
        let start = offset(&i);
        let (rest, _) = tag(s).parse(i)?;
        Ok((rest, span(start, &rest)))
    }
}

/// Words that cannot be bare identifiers (write them in backquotes to use them as names).
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

/// `identifier`: a Unicode word not starting with a digit, or any text in backquotes.
fn identifier(i: In<'_>) -> PResult<'_, Ident> {
    let (i, _) = ws(i)?;
    let start = offset(&i);
    if i.fragment().starts_with('`') {
        let (rest, _) = char('`').parse(i)?;
        let Some(end) = rest.fragment().find('`') else {
            return fail_msg(
                start,
                "unterminated name: a backquote without its closing one".into(),
            );
        };
        let name = rest.fragment()[..end].to_owned();
        let rest = advance(rest, end + 1);
        return Ok((
            rest,
            Spanned {
                node: name,
                span: span(start, &rest),
            },
        ));
    }
    let (rest, word) = recognize((satisfy(is_ident_start), take_while(is_ident_char))).parse(i)?;
    if RESERVED.contains(&word.fragment().to_lowercase().as_str()) {
        return Err(nom::Err::Error(PError::from_error_kind(i, NomKind::Tag)));
    }
    Ok((
        rest,
        Spanned {
            node: word.fragment().to_string(),
            span: span(start, &rest),
        },
    ))
}

/// `symbolic_name`: an identifier where keywords are allowed too (labels, types, keys).
fn symbolic_name(i: In<'_>) -> PResult<'_, Ident> {
    let (i, _) = ws(i)?;
    if i.fragment().starts_with('`') {
        return identifier(i);
    }
    let start = offset(&i);
    let (rest, word) = recognize((satisfy(is_ident_start), take_while(is_ident_char))).parse(i)?;
    Ok((
        rest,
        Spanned {
            node: word.fragment().to_string(),
            span: span(start, &rest),
        },
    ))
}

/// `string_literal`: `"…"` or `'…'` with escapes `\t \n \r \b \f \" \' \\ \/ \uXXXX`.
fn string_literal(i: In<'_>) -> PResult<'_, Spanned<String>> {
    let (i, _) = ws(i)?;
    let start = offset(&i);
    let Some(quote) = i
        .fragment()
        .chars()
        .next()
        .filter(|c| *c == '"' || *c == '\'')
    else {
        return Err(nom::Err::Error(PError::from_error_kind(i, NomKind::Char)));
    };
    let text = &i.fragment()[1..];
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((k, c)) = chars.next() {
        if c == quote {
            let rest = advance(i, k + 2);
            return Ok((
                rest,
                Spanned {
                    node: out,
                    span: span(start, &rest),
                },
            ));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let at = start + 1 + k;
        let Some((_, e)) = chars.next() else { break };
        match e {
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            '"' | '\'' | '\\' | '/' => out.push(e),
            'u' => {
                let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                let code = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32);
                match code {
                    Some(c) => out.push(c),
                    None => {
                        return fail_msg(
                            at,
                            format!(
                                "bad escape `\\u{hex}`: expected four hex digits naming a character"
                            ),
                        );
                    }
                }
            }
            other => {
                return fail_msg(
                    at,
                    format!(
                        "unknown escape `\\{other}` (use \\t \\n \\r \\\" \\' \\\\ or \\uXXXX)"
                    ),
                );
            }
        }
    }
    fail_msg(
        start,
        format!("unterminated string: `{quote}` without its closing `{quote}`"),
    )
}

/// `number_literal`: an integer (`42`) or a float (`4.2`, `1e3`, `.5`).
fn number_literal(i: In<'_>) -> PResult<'_, Literal> {
    let (i, _) = ws(i)?;
    let start = offset(&i);
    let digits = |i| take_while1(|c: char| c.is_ascii_digit()).parse(i);
    let (rest, text) = recognize((
        alt((
            recognize((
                digits,
                opt((char('.'), nom::combinator::not(char('.')), opt(digits))),
            )),
            recognize((char('.'), digits)),
        )),
        opt((
            alt((char('e'), char('E'))),
            opt(alt((char('+'), char('-')))),
            digits,
        )),
    ))
    .parse(i)?;
    let t = *text.fragment();
    if rest.fragment().chars().next().is_some_and(is_ident_start) {
        return fail(rest, "an operator or the end of the number");
    }
    if t.contains(['.', 'e', 'E']) {
        match t.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok((rest, Literal::Float(f))),
            _ => fail_msg(start, format!("the number {t} is out of range")),
        }
    } else {
        match t.parse::<i64>() {
            Ok(n) => Ok((rest, Literal::Int(n))),
            Err(_) => fail_msg(
                start,
                format!("the integer {t} is out of range (at most 9223372036854775807)"),
            ),
        }
    }
}

/// `unsigned_integer`: for `AT TX`, `RETRACT TX` and lengths.
fn unsigned_integer(i: In<'_>) -> PResult<'_, Spanned<u64>> {
    let (i, _) = ws(i)?;
    let start = offset(&i);
    let (rest, t) = take_while1(|c: char| c.is_ascii_digit()).parse(i)?;
    match t.fragment().parse::<u64>() {
        Ok(n) => Ok((
            rest,
            Spanned {
                node: n,
                span: span(start, &rest),
            },
        )),
        Err(_) => fail_msg(
            start,
            format!("the number {} is out of range", t.fragment()),
        ),
    }
}

/// The text of an unquoted EDTF date or interval: digits, `X`, `-`, `/`, `..`, `?`, `~`, `%`,
/// and `T`, `:`, `Z`, `+` for timestamps.
fn edtf_text(i: In<'_>, timestamp: bool) -> PResult<'_, Spanned<String>> {
    let (i, _) = ws(i)?;
    let start = offset(&i);
    match string_literal(i) {
        Ok((rest, s)) => return Ok((rest, s)),
        Err(nom::Err::Error(_)) => {}
        Err(e) => return Err(e),
    }
    let ok = |c: char| {
        c.is_ascii_digit()
            || matches!(c, 'X' | '-' | '/' | '.' | '?' | '~' | '%')
            || (timestamp && matches!(c, 'T' | ':' | 'Z' | '+'))
    };
    let (rest, t) = take_while1(ok).parse(i)?;
    // `1999 TO` and `.. 2010` stop at spaces; a trailing `.` belongs to nothing.
    Ok((
        rest,
        Spanned {
            node: t.fragment().to_string(),
            span: span(start, &rest),
        },
    ))
}

/// `date_literal`: one EDTF date, unquoted (`2007-02-06`, `1985`, `19XX`) or quoted.
fn date_literal(i: In<'_>) -> PResult<'_, Spanned<Date>> {
    let (rest, t) = match edtf_text(i, false) {
        Ok(x) => x,
        Err(nom::Err::Error(_)) => return fail(i, "a date (EDTF, such as 2007-02-06 or 1985)"),
        Err(e) => return Err(e),
    };
    match Date::parse(&t.node) {
        Ok(d) => Ok((
            rest,
            Spanned {
                node: d,
                span: t.span,
            },
        )),
        Err(e) => fail_msg(t.span.start, format!("bad date `{}`: {e}", t.node)),
    }
}

/// `interval_literal`: an EDTF date or interval (`2000/2004`, `1985/..`, `2007-02-06/`).
fn interval_literal(i: In<'_>) -> PResult<'_, Spanned<ValidTime>> {
    let (rest, t) = match edtf_text(i, false) {
        Ok(x) => x,
        Err(nom::Err::Error(_)) => {
            return fail(i, "an interval (EDTF, such as 2000/2004 or 1985/..)");
        }
        Err(e) => return Err(e),
    };
    match ValidTime::parse(&t.node) {
        Ok(v) => Ok((
            rest,
            Spanned {
                node: v,
                span: t.span,
            },
        )),
        Err(e) => fail_msg(t.span.start, format!("bad interval `{}`: {e}", t.node)),
    }
}

// ----- statements ------------------------------------------------------------------------------

/// `script`: statements separated by `;`.
fn script(mut i: In<'_>) -> PResult<'_, Script> {
    let mut statements = Vec::new();
    loop {
        let (rest, _) = many0(sym(";")).parse(i)?;
        let (rest, _) = ws(rest)?;
        if rest.fragment().is_empty() {
            return Ok((rest, Script { statements }));
        }
        let (rest, s) = statement(rest)?;
        statements.push(s);
        let (rest, _) = ws(rest)?;
        if rest.fragment().is_empty() {
            return Ok((rest, Script { statements }));
        }
        match sym(";").parse(rest) {
            Ok((rest, _)) => i = rest,
            Err(_) => return fail(rest, "`;` or the end of the input after the statement"),
        }
    }
}

/// `statement`: a transaction statement or a query.
fn statement(i: In<'_>) -> PResult<'_, Statement> {
    alt((
        begin_statement,
        commit_statement,
        rollback_statement,
        retract_statement,
        |i| query(i).map(|(r, q)| (r, Statement::Query(q))),
    ))
    .parse(i)
}

/// `begin_statement`: `BEGIN`.
fn begin_statement(i: In<'_>) -> PResult<'_, Statement> {
    let (i, s) = kw("begin")(i)?;
    Ok((i, Statement::Begin(s)))
}

/// `commit_statement`: `COMMIT`.
fn commit_statement(i: In<'_>) -> PResult<'_, Statement> {
    let (i, s) = kw("commit")(i)?;
    Ok((i, Statement::Commit(s)))
}

/// `rollback_statement`: `ROLLBACK`.
fn rollback_statement(i: In<'_>) -> PResult<'_, Statement> {
    let (i, s) = kw("rollback")(i)?;
    Ok((i, Statement::Rollback(s)))
}

/// `retract_statement`: `RETRACT TX n REASON "…"`.
fn retract_statement(i: In<'_>) -> PResult<'_, Statement> {
    let (i, first) = kw("retract")(i)?;
    let (i, _) = expect(kw("tx"), "`TX` after RETRACT")(i)?;
    let (i, tx) = expect(unsigned_integer, "a transaction number")(i)?;
    let (i, _) = expect(kw("reason"), "`REASON \"…\"`: a retraction says why")(i)?;
    let (i, reason) = expect(string_literal, "the reason, as a string")(i)?;
    Ok((
        i,
        Statement::Retract {
            tx,
            reason,
            span: Span::new(first.start, offset(&i)),
        },
    ))
}

/// `query`: `[time_prefix] clause+`.
fn query(i: In<'_>) -> PResult<'_, Query> {
    let (i, _) = ws(i)?;
    let start = offset(&i);
    let (mut i, (at, valid)) = time_prefix(i)?;
    let mut clauses: Vec<Clause> = Vec::new();
    loop {
        if let Some(Clause::Return(_)) = clauses.last() {
            break;
        }
        match clause(i) {
            Ok((rest, c)) => {
                clauses.push(c);
                i = rest;
            }
            Err(nom::Err::Error(_)) => break,
            Err(e) => return Err(e),
        }
    }
    let (rest, _) = ws(i)?;
    let at_end = rest.fragment().is_empty() || rest.fragment().starts_with(';');
    if clauses.is_empty() {
        if kw("delete")(rest).is_ok() || kw("detach")(rest).is_ok() {
            return delete_refusal(rest);
        }
        return Err(nom::Err::Error(PError {
            offset: offset(&rest),
            message: Some(format!(
                "expected a statement (MATCH, RETURN, CREATE, …), found {}",
                found(&rest)
            )),
        }));
    }
    if !at_end {
        if let Some(Clause::Return(_)) = clauses.last() {
            return fail(rest, "`;` or the end of the query after RETURN");
        }
        if kw("delete")(rest).is_ok() || kw("detach")(rest).is_ok() {
            return delete_refusal(rest);
        }
        return fail(
            rest,
            "a clause (MATCH, OPTIONAL MATCH, WHERE after MATCH, WITH, UNWIND, RETURN, CREATE, MERGE, SET, REMOVE, END) or `;`",
        );
    }
    Ok((
        rest,
        Query {
            at,
            valid,
            clauses,
            span: Span::new(start, offset(&i)),
        },
    ))
}

fn delete_refusal<'a, T>(i: In<'a>) -> PResult<'a, T> {
    let (i, _) = ws(i)?;
    fail_msg(
        offset(&i),
        "DELETE is not supported: the log is append-only. Close a fact's validity with \
         `END x AT <date>`, or correct the record with `RETRACT TX n REASON \"…\"`"
            .into(),
    )
}

type TimePrefix = (Option<Spanned<TxTime>>, Option<Spanned<ValidSelector>>);

/// `time_prefix`: `AT TX n` / `AT <timestamp>` and `AS OF <date>` / `DURING <interval>`, in
/// either order, each at most once.
fn time_prefix(mut i: In<'_>) -> PResult<'_, TimePrefix> {
    let mut at = None;
    let mut valid = None;
    loop {
        if at.is_none()
            && let Ok((rest, a)) = at_clause(i)
        {
            at = Some(a);
            i = rest;
            continue;
        }
        if valid.is_none()
            && let Ok((rest, v)) = valid_selector(i)
        {
            valid = Some(v);
            i = rest;
            continue;
        }
        // A failure inside either (a bad date) is the error to report.
        if at.is_none()
            && let Err(e @ nom::Err::Failure(_)) = at_clause(i)
        {
            return Err(e);
        }
        if valid.is_none()
            && let Err(e @ nom::Err::Failure(_)) = valid_selector(i)
        {
            return Err(e);
        }
        return Ok((i, (at, valid)));
    }
}

/// `at_clause`: `AT TX 12`, `AT 2026-01-31`, `AT "2026-01-31T12:00:00Z"`.
fn at_clause(i: In<'_>) -> PResult<'_, Spanned<TxTime>> {
    let (i, first) = kw("at")(i)?;
    if let Ok((i, _)) = kw("tx")(i) {
        let (i, n) = expect(unsigned_integer, "a transaction number after AT TX")(i)?;
        return Ok((
            i,
            Spanned {
                node: TxTime::Tx(n.node),
                span: first.to(n.span),
            },
        ));
    }
    let (i, t) = match edtf_text(i, true) {
        Ok(x) => x,
        Err(nom::Err::Error(_)) => {
            return fail(
                i,
                "`TX n` or a time (2026-01-31, \"2026-01-31T12:00:00Z\") after AT",
            );
        }
        Err(e) => return Err(e),
    };
    Ok((
        i,
        Spanned {
            node: TxTime::Timestamp(t.node),
            span: first.to(t.span),
        },
    ))
}

/// `valid_selector`: `AS OF <date>` or `DURING <interval>`.
fn valid_selector(i: In<'_>) -> PResult<'_, Spanned<ValidSelector>> {
    if let Ok((i, first)) = kw("during")(i) {
        let (i, t) = interval_literal(i)?;
        return Ok((
            i,
            Spanned {
                node: ValidSelector::During(t.node),
                span: first.to(t.span),
            },
        ));
    }
    let (i, first) = kw("as")(i)?;
    let (i, _) = kw("of")(i)?;
    let (i, d) = date_literal(i)?;
    Ok((
        i,
        Spanned {
            node: ValidSelector::AsOf(d.node),
            span: first.to(d.span),
        },
    ))
}

// ----- clauses ---------------------------------------------------------------------------------

/// `clause`: one reading or writing clause.
fn clause(i: In<'_>) -> PResult<'_, Clause> {
    alt((
        match_clause,
        unwind_clause,
        with_clause,
        return_clause,
        create_clause,
        merge_clause,
        set_clause,
        remove_clause,
        end_clause,
    ))
    .parse(i)
}

/// `match_clause`: `[OPTIONAL] MATCH pattern [WHERE expression]`.
fn match_clause(i: In<'_>) -> PResult<'_, Clause> {
    let (i, optional) = opt(kw("optional")).parse(i)?;
    let (i, m) = if optional.is_some() {
        expect(kw("match"), "MATCH after OPTIONAL")(i)?
    } else {
        kw("match")(i)?
    };
    let start = optional.unwrap_or(m).start;
    let (i, patterns) = pattern(i)?;
    let (i, filter) = opt(where_clause).parse(i)?;
    Ok((
        i,
        Clause::Match {
            optional: optional.is_some(),
            patterns,
            filter,
            span: Span::new(start, offset(&i)),
        },
    ))
}

/// `where_clause`: `WHERE expression`.
fn where_clause(i: In<'_>) -> PResult<'_, Expr> {
    let (i, _) = kw("where")(i)?;
    expect(expression, "a condition after WHERE")(i)
}

/// `unwind_clause`: `UNWIND expression AS variable`.
fn unwind_clause(i: In<'_>) -> PResult<'_, Clause> {
    let (i, first) = kw("unwind")(i)?;
    let (i, expr) = expect(expression, "a list after UNWIND")(i)?;
    let (i, _) = expect(kw("as"), "`AS name` after the list of UNWIND")(i)?;
    let (i, alias) = expect(identifier, "a variable name after AS")(i)?;
    Ok((
        i,
        Clause::Unwind {
            expr,
            alias,
            span: Span::new(first.start, offset(&i)),
        },
    ))
}

/// `with_clause`: `WITH projection_body [WHERE expression]`.
fn with_clause(i: In<'_>) -> PResult<'_, Clause> {
    let (i, first) = kw("with")(i)?;
    let (i, mut p) = projection_body(i, first.start)?;
    let (i, filter) = opt(where_clause).parse(i)?;
    p.filter = filter;
    p.span = Span::new(first.start, offset(&i));
    Ok((i, Clause::With(p)))
}

/// `return_clause`: `RETURN projection_body`.
fn return_clause(i: In<'_>) -> PResult<'_, Clause> {
    let (i, first) = kw("return")(i)?;
    let (i, p) = projection_body(i, first.start)?;
    Ok((i, Clause::Return(p)))
}

/// `projection_body`: `[DISTINCT] (* | projection_item, …) [ORDER BY sort_item, …] [SKIP e]
/// [LIMIT e]`.
fn projection_body(i: In<'_>, start: usize) -> PResult<'_, Projection> {
    let (i, distinct) = opt(kw("distinct")).parse(i)?;
    let (mut i, star) = opt(sym("*")).parse(i)?;
    let mut items = Vec::new();
    let need_item = star.is_none();
    if star.is_some() {
        if let Ok((rest, _)) = sym(",")(i) {
            i = rest;
            let (rest, first) = expect(projection_item, "an expression after `,`")(i)?;
            items.push(first);
            i = rest;
        }
    } else {
        let (rest, first) = expect(projection_item, "an expression to project (or `*`)")(i)?;
        items.push(first);
        i = rest;
    }
    if need_item || !items.is_empty() {
        while let Ok((rest, _)) = sym(",")(i) {
            let (rest, item) = expect(projection_item, "an expression after `,`")(rest)?;
            items.push(item);
            i = rest;
        }
    }
    let (i, order) = opt(order_by).parse(i)?;
    let (i, skip) = opt(skip_clause).parse(i)?;
    let (i, limit) = opt(limit_clause).parse(i)?;
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
            span: Span::new(start, offset(&i)),
        },
    ))
}

/// `projection_item`: `expression [AS name]`.
fn projection_item(i: In<'_>) -> PResult<'_, ProjectionItem> {
    let (i, _) = ws(i)?;
    let before = i;
    let (i, expr) = expression(i)?;
    let len = expr.span.end - offset(&before);
    let text = before
        .fragment()
        .get(..len)
        .unwrap_or_default()
        .trim()
        .to_owned();
    let (i, alias) = match kw("as")(i) {
        Ok((i, _)) => {
            let (i, a) = expect(symbolic_name, "a column name after AS")(i)?;
            (i, Some(a))
        }
        Err(_) => (i, None),
    };
    Ok((i, ProjectionItem { expr, alias, text }))
}

/// `order_by`: `ORDER BY sort_item, …`.
fn order_by(i: In<'_>) -> PResult<'_, Vec<SortItem>> {
    let (i, _) = kw("order")(i)?;
    let (i, _) = expect(kw("by"), "BY after ORDER")(i)?;
    comma_separated(i, expect(sort_item, "an expression to order by"))
}

/// `sort_item`: `expression [ASC | ASCENDING | DESC | DESCENDING]`.
fn sort_item(i: In<'_>) -> PResult<'_, SortItem> {
    let (i, expr) = expression(i)?;
    let (i, dir) = opt(alt((
        kw("descending"),
        kw("desc"),
        kw("ascending"),
        kw("asc"),
    )))
    .parse(i)?;
    let descending = dir.is_some_and(|s| {
        let len = s.end - s.start;
        len == 4 || len == 10
    });
    Ok((i, SortItem { expr, descending }))
}

/// `skip_clause`: `SKIP expression`.
fn skip_clause(i: In<'_>) -> PResult<'_, Expr> {
    let (i, _) = kw("skip")(i)?;
    expect(expression, "a number after SKIP")(i)
}

/// `limit_clause`: `LIMIT expression`.
fn limit_clause(i: In<'_>) -> PResult<'_, Expr> {
    let (i, _) = kw("limit")(i)?;
    expect(expression, "a number after LIMIT")(i)
}

/// `create_clause`: `CREATE pattern write_meta`.
fn create_clause(i: In<'_>) -> PResult<'_, Clause> {
    let (i, first) = kw("create")(i)?;
    let (i, patterns) = pattern(i)?;
    let (i, meta) = write_meta(i)?;
    Ok((
        i,
        Clause::Create {
            patterns,
            meta,
            span: Span::new(first.start, offset(&i)),
        },
    ))
}

/// `merge_clause`: `MERGE path_pattern write_meta`.
fn merge_clause(i: In<'_>) -> PResult<'_, Clause> {
    let (i, first) = kw("merge")(i)?;
    let (i, pattern) = expect(path_pattern, "a pattern after MERGE")(i)?;
    let (i, meta) = write_meta(i)?;
    Ok((
        i,
        Clause::Merge {
            pattern,
            meta,
            span: Span::new(first.start, offset(&i)),
        },
    ))
}

/// `set_clause`: `SET set_item, … write_meta`.
fn set_clause(i: In<'_>) -> PResult<'_, Clause> {
    let (i, first) = kw("set")(i)?;
    let (i, items) = comma_separated(
        i,
        expect(set_item, "`name.key = value` or `name += {…}` after SET"),
    )?;
    let (i, meta) = write_meta(i)?;
    Ok((
        i,
        Clause::Set {
            items,
            meta,
            span: Span::new(first.start, offset(&i)),
        },
    ))
}

/// `set_item`: `variable.key = expression` or `variable += map`.
fn set_item(i: In<'_>) -> PResult<'_, SetItem> {
    let (i, var) = identifier(i)?;
    if let Ok((i, _)) = sym("+=")(i) {
        let (i, value) = expect(expression, "a map after `+=`")(i)?;
        return Ok((i, SetItem::Merge { var, value }));
    }
    if sym(":")(i).is_ok() {
        return fail_msg(
            offset(&i),
            "labels are fixed when a node is created: SET cannot add one".into(),
        );
    }
    let (i, _) = expect(sym("."), "`.key` after the variable")(i)?;
    let (i, key) = expect(symbolic_name, "a property key")(i)?;
    let (i, _) = expect(sym("="), "`=` and the new value")(i)?;
    let (i, value) = expect(expression, "a value after `=`")(i)?;
    Ok((i, SetItem::Property { var, key, value }))
}

/// `remove_clause`: `REMOVE variable.key, … write_meta` (a `SET` to null).
fn remove_clause(i: In<'_>) -> PResult<'_, Clause> {
    let (i, first) = kw("remove")(i)?;
    let (i, items) = comma_separated(i, |i| {
        let (i, var) = expect(identifier, "`name.key` after REMOVE")(i)?;
        let (i, _) = expect(sym("."), "`.key` after the variable")(i)?;
        let (i, key) = expect(symbolic_name, "a property key")(i)?;
        let value = Expr {
            kind: ExprKind::Literal(Literal::Null),
            span: key.span,
        };
        Ok((i, SetItem::Property { var, key, value }))
    })?;
    let (i, meta) = write_meta(i)?;
    Ok((
        i,
        Clause::Set {
            items,
            meta,
            span: Span::new(first.start, offset(&i)),
        },
    ))
}

/// `end_clause`: `END variable, … AT date [source_clause]`.
fn end_clause(i: In<'_>) -> PResult<'_, Clause> {
    let (i, first) = kw("end")(i)?;
    let (i, targets) = comma_separated(i, expect(identifier, "a variable to end"))?;
    if kw("valid")(i).is_ok() {
        return fail_msg(
            offset(&ws(i)?.0),
            "END takes `AT <date>`, the last date the fact held: END x AT 2015".into(),
        );
    }
    let (i, _) = expect(kw("at"), "`AT <date>` after END: the last date it held")(i)?;
    let (i, date) = date_literal(i)?;
    let (i, sources) = opt(source_clause).parse(i)?;
    Ok((
        i,
        Clause::End {
            targets,
            date,
            meta: WriteMeta {
                valid: None,
                sources: sources.unwrap_or_default(),
            },
            span: Span::new(first.start, offset(&i)),
        },
    ))
}

/// `write_meta`: `[valid_clause] [source_clause]`.
fn write_meta(i: In<'_>) -> PResult<'_, WriteMeta> {
    let (i, valid) = opt(valid_clause).parse(i)?;
    let (i, sources) = opt(source_clause).parse(i)?;
    Ok((
        i,
        WriteMeta {
            valid,
            sources: sources.unwrap_or_default(),
        },
    ))
}

/// `valid_clause`: `VALID FROM date [TO date]` or `VALID interval`.
fn valid_clause(i: In<'_>) -> PResult<'_, Spanned<ValidTime>> {
    let (i, first) = kw("valid")(i)?;
    if let Ok((i, _)) = kw("from")(i) {
        let (i, from) = date_literal(i)?;
        let (i, to) = match kw("to")(i) {
            Ok((i, _)) => {
                let (i, d) = date_literal(i)?;
                (i, Some(d))
            }
            Err(_) => (i, None),
        };
        let end = to.as_ref().map_or(from.span, |t| t.span);
        let valid = match to {
            Some(to) => ValidTime::new(Bound::Date(from.node), Bound::Date(to.node)),
            None => Ok(ValidTime::since(from.node)),
        };
        return match valid {
            Ok(v) => Ok((
                i,
                Spanned {
                    node: v,
                    span: first.to(end),
                },
            )),
            Err(e) => fail_msg(from.span.start, format!("bad valid time: {e}")),
        };
    }
    let (i, t) = interval_literal(i)?;
    Ok((
        i,
        Spanned {
            node: t.node,
            span: first.to(t.span),
        },
    ))
}

/// `source_clause`: `SOURCE "key", …` (or `SOURCES`).
fn source_clause(i: In<'_>) -> PResult<'_, Vec<Spanned<String>>> {
    let (i, _) = alt((kw("sources"), kw("source"))).parse(i)?;
    comma_separated(i, expect(string_literal, "a source key, as a string"))
}

// ----- patterns --------------------------------------------------------------------------------

/// `pattern`: `path_pattern, …`.
fn pattern(i: In<'_>) -> PResult<'_, Vec<PathPattern>> {
    comma_separated(
        i,
        expect(path_pattern, "a pattern such as (a:Actor)-[:PARTY_TO]->(b)"),
    )
}

/// `path_pattern`: `[variable =] (shortestPath | allShortestPaths)(pattern_element) |
/// pattern_element`.
fn path_pattern(i: In<'_>) -> PResult<'_, PathPattern> {
    let (i, _) = ws(i)?;
    let start = offset(&i);
    let (i, var) = match (identifier, sym("=")).parse(i) {
        Ok((rest, (v, _))) => (rest, Some(v)),
        Err(_) => (i, None),
    };
    let shortest = alt((
        |i| kw("shortestpath")(i).map(|(r, _)| (r, PathKind::Shortest)),
        |i| kw("allshortestpaths")(i).map(|(r, _)| (r, PathKind::AllShortest)),
    ))
    .parse(i);
    if let Ok((i, kind)) = shortest {
        let (i, _) = expect(sym("("), "`(` after shortestPath")(i)?;
        let (i, (first, steps)) = pattern_element(i)?;
        let (i, _) = expect(sym(")"), "`)` to close shortestPath(…)")(i)?;
        return Ok((
            i,
            PathPattern {
                var,
                kind,
                start: first,
                steps,
                span: Span::new(start, offset(&i)),
            },
        ));
    }
    let parsed = if var.is_some() {
        expect(pattern_element, "a pattern after `=`")(i)
    } else {
        pattern_element(i)
    };
    let (i, (first, steps)) = parsed?;
    Ok((
        i,
        PathPattern {
            var,
            kind: PathKind::Plain,
            start: first,
            steps,
            span: Span::new(start, offset(&i)),
        },
    ))
}

type Element = (NodePattern, Vec<(RelPattern, NodePattern)>);

/// `pattern_element`: `node_pattern (relationship_pattern node_pattern)*`.
fn pattern_element(i: In<'_>) -> PResult<'_, Element> {
    let (mut i, first) = node_pattern(i)?;
    let mut steps = Vec::new();
    loop {
        match relationship_pattern(i) {
            Ok((rest, r)) => {
                let (rest, n) =
                    expect(node_pattern, "a node pattern `(…)` after the relationship")(rest)?;
                steps.push((r, n));
                i = rest;
            }
            Err(nom::Err::Error(_)) => return Ok((i, (first, steps))),
            Err(e) => return Err(e),
        }
    }
}

/// `node_pattern`: `( [variable] [label_list] [properties] )`.
fn node_pattern(i: In<'_>) -> PResult<'_, NodePattern> {
    let (i, open) = sym("(")(i)?;
    let (i, var) = opt(identifier).parse(i)?;
    let (i, labels) = label_list(i)?;
    let (i, props) = opt(properties).parse(i)?;
    let (i, _) = expect(sym(")"), "`)` to close the node pattern")(i)?;
    Ok((
        i,
        NodePattern {
            var,
            labels,
            props: props.unwrap_or_default(),
            span: Span::new(open.start, offset(&i)),
        },
    ))
}

/// `label_list`: `(:Label)*`.
fn label_list(mut i: In<'_>) -> PResult<'_, Vec<Ident>> {
    let mut labels = Vec::new();
    while let Ok((rest, _)) = sym(":")(i) {
        let (rest, l) = expect(symbolic_name, "a label after `:`")(rest)?;
        labels.push(l);
        i = rest;
    }
    Ok((i, labels))
}

/// `properties`: `{key: expression, …}` in a pattern.
fn properties(i: In<'_>) -> PResult<'_, Vec<(Ident, Expr)>> {
    let (i, (_, entries)) = map_entries(i)?;
    Ok((i, entries))
}

/// `relationship_pattern`: `-[detail]->`, `<-[detail]-`, `-[detail]-`, `-->`, `<--`, `--`.
fn relationship_pattern(i: In<'_>) -> PResult<'_, RelPattern> {
    let (i, _) = ws(i)?;
    let start = offset(&i);
    let (i, left) = opt(sym("<-")).parse(i)?;
    let i = if left.is_some() {
        i
    } else {
        // A lone `-` not followed by `[` or `-` is subtraction, not a relationship.
        let (rest, _) = sym("-")(i)?;
        if !(rest.fragment().starts_with('[') || rest.fragment().starts_with('-')) {
            return Err(nom::Err::Error(PError::from_error_kind(i, NomKind::Tag)));
        }
        rest
    };
    let (i, detail) = match sym("[")(i) {
        Ok((i, _)) => {
            let (i, d) = rel_detail(i)?;
            let (i, _) = expect(sym("]"), "`]` to close the relationship pattern")(i)?;
            (i, Some(d))
        }
        Err(_) => (i, None),
    };
    let (i, right) = if let Ok((i, _)) = sym("->")(i) {
        (i, true)
    } else if let Ok((i, _)) = sym("-")(i) {
        (i, false)
    } else {
        return fail(i, "`-` or `->` to close the relationship pattern");
    };
    let direction = match (left.is_some(), right) {
        (true, true) => {
            return fail_msg(
                start,
                "a relationship points one way or none: `<-[…]->` is not allowed".into(),
            );
        }
        (true, false) => Direction::Left,
        (false, true) => Direction::Right,
        (false, false) => Direction::Both,
    };
    let (var, types, length, props) = detail.unwrap_or_default();
    Ok((
        i,
        RelPattern {
            var,
            types,
            props,
            direction,
            length,
            span: Span::new(start, offset(&i)),
        },
    ))
}

type Detail = (
    Option<Ident>,
    Vec<Ident>,
    Option<Length>,
    Vec<(Ident, Expr)>,
);

/// `rel_detail`: `[variable] [:TYPE(|TYPE)*] [range_literal] [properties]`.
fn rel_detail(i: In<'_>) -> PResult<'_, Detail> {
    let (i, var) = opt(identifier).parse(i)?;
    let mut types = Vec::new();
    let mut i = i;
    if let Ok((rest, _)) = sym(":")(i) {
        let (rest, t) = expect(symbolic_name, "a relationship type after `:`")(rest)?;
        types.push(t);
        i = rest;
        while let Ok((rest, _)) = sym("|")(i) {
            let (rest, _) = opt(sym(":")).parse(rest)?;
            let (rest, t) = expect(symbolic_name, "a relationship type after `|`")(rest)?;
            types.push(t);
            i = rest;
        }
    }
    let (i, length) = opt(range_literal).parse(i)?;
    let (i, props) = opt(properties).parse(i)?;
    Ok((i, (var, types, length, props.unwrap_or_default())))
}

/// `range_literal`: `*`, `*n`, `*n..m`, `*..m`, `*n..`.
fn range_literal(i: In<'_>) -> PResult<'_, Length> {
    let (i, _) = sym("*")(i)?;
    let (i, min) = opt(unsigned_integer).parse(i)?;
    let (i, dots) = opt(sym("..")).parse(i)?;
    let (i, max) = if dots.is_some() {
        opt(unsigned_integer).parse(i)?
    } else {
        (i, None)
    };
    let (i, _) = ws(i)?;
    if let Some(c) = i.fragment().chars().next()
        && !matches!(c, ']' | '{')
    {
        return fail(i, "a length such as `*`, `*2`, `*1..3` or `*..5`, then `]`");
    }
    let clamp = |n: Spanned<u64>| u32::try_from(n.node).unwrap_or(u32::MAX);
    let length = match (min, dots.is_some(), max) {
        (None, false, _) => Length { min: 1, max: None },
        (Some(n), false, _) => Length {
            min: clamp(n.clone()),
            max: Some(clamp(n)),
        },
        (min, true, max) => Length {
            min: min.map_or(1, clamp),
            max: max.map(clamp),
        },
    };
    if length.max.is_some_and(|m| m < length.min) {
        return fail_msg(
            offset(&i),
            format!(
                "the length range {}..{} is empty",
                length.min,
                length.max.unwrap_or(0)
            ),
        );
    }
    Ok((i, length))
}

// ----- expressions -----------------------------------------------------------------------------

struct DepthGuard;

impl DepthGuard {
    fn enter(i: &In<'_>) -> Result<DepthGuard, nom::Err<PError>> {
        let d = DEPTH.with(|d| {
            let v = d.get() + 1;
            d.set(v);
            v
        });
        let guard = DepthGuard;
        if d > MAX_DEPTH {
            return Err(nom::Err::Failure(PError {
                offset: offset(i),
                message: Some(format!(
                    "the expression nests more than {MAX_DEPTH} levels deep"
                )),
            }));
        }
        Ok(guard)
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// `expression`: `or_expression`.
fn expression(i: In<'_>) -> PResult<'_, Expr> {
    let _guard = DepthGuard::enter(&i)?;
    or_expression(i)
}

fn binary(op: BinaryOp, a: Expr, b: Expr) -> Expr {
    let span = a.span.to(b.span);
    Expr {
        kind: ExprKind::Binary(op, Box::new(a), Box::new(b)),
        span,
    }
}

/// Left-associative chains of one precedence level.
fn chain<'a>(
    i: In<'a>,
    next: fn(In<'a>) -> PResult<'a, Expr>,
    ops: &[(&'static str, BinaryOp, bool)],
) -> PResult<'a, Expr> {
    let (mut i, mut left) = next(i)?;
    'outer: loop {
        for &(text, op, keyword) in ops {
            let matched = if keyword { kw(text)(i) } else { sym(text)(i) };
            if let Ok((rest, _)) = matched {
                let (rest, right) = expect(next, "an expression after the operator")(rest)?;
                left = binary(op, left, right);
                i = rest;
                continue 'outer;
            }
        }
        return Ok((i, left));
    }
}

/// `or_expression`: `xor_expression (OR xor_expression)*`.
fn or_expression(i: In<'_>) -> PResult<'_, Expr> {
    chain(i, xor_expression, &[("or", BinaryOp::Or, true)])
}

/// `xor_expression`: `and_expression (XOR and_expression)*`.
fn xor_expression(i: In<'_>) -> PResult<'_, Expr> {
    chain(i, and_expression, &[("xor", BinaryOp::Xor, true)])
}

/// `and_expression`: `not_expression (AND not_expression)*`.
fn and_expression(i: In<'_>) -> PResult<'_, Expr> {
    chain(i, not_expression, &[("and", BinaryOp::And, true)])
}

/// `not_expression`: `NOT* comparison_expression`.
fn not_expression(i: In<'_>) -> PResult<'_, Expr> {
    if let Ok((rest, not)) = kw("not")(i) {
        let _guard = DepthGuard::enter(&i)?;
        let (rest, e) = expect(not_expression, "an expression after NOT")(rest)?;
        let span = not.to(e.span);
        return Ok((
            rest,
            Expr {
                kind: ExprKind::Unary(UnaryOp::Not, Box::new(e)),
                span,
            },
        ));
    }
    comparison_expression(i)
}

/// `comparison_expression`: `additive_expression (comparison_operator additive_expression |
/// IS [NOT] NULL | IN e | STARTS WITH e | ENDS WITH e | CONTAINS e | :Label)*`.
fn comparison_expression(i: In<'_>) -> PResult<'_, Expr> {
    let (mut i, mut left) = additive_expression(i)?;
    loop {
        let ops: [(&str, BinaryOp); 7] = [
            ("=", BinaryOp::Eq),
            ("<>", BinaryOp::Ne),
            ("!=", BinaryOp::Ne),
            ("<=", BinaryOp::Le),
            (">=", BinaryOp::Ge),
            ("<", BinaryOp::Lt),
            (">", BinaryOp::Gt),
        ];
        let mut matched = None;
        for (text, op) in ops {
            if let Ok((rest, _)) = sym(text)(i) {
                // `<-` starts a relationship, not a comparison.
                if text == "<" && rest.fragment().starts_with('-') {
                    continue;
                }
                matched = Some((rest, op));
                break;
            }
        }
        if matched.is_none() {
            if let Ok((rest, _)) = kw("in")(i) {
                matched = Some((rest, BinaryOp::In));
            } else if let Ok((rest, _)) = (kw("starts"), kw("with")).parse(i) {
                matched = Some((rest, BinaryOp::StartsWith));
            } else if let Ok((rest, _)) = (kw("ends"), kw("with")).parse(i) {
                matched = Some((rest, BinaryOp::EndsWith));
            } else if let Ok((rest, _)) = kw("contains")(i) {
                matched = Some((rest, BinaryOp::Contains));
            }
        }
        if let Some((rest, op)) = matched {
            let (rest, right) =
                expect(additive_expression, "an expression after the operator")(rest)?;
            left = binary(op, left, right);
            i = rest;
            continue;
        }
        if let Ok((rest, _)) = kw("is")(i) {
            let (rest, not) = opt(kw("not")).parse(rest)?;
            let (rest, null) = expect(kw("null"), "NULL after IS [NOT]")(rest)?;
            let span = left.span.to(null);
            left = Expr {
                kind: ExprKind::IsNull {
                    expr: Box::new(left),
                    negated: not.is_some(),
                },
                span,
            };
            i = rest;
            continue;
        }
        if i.fragment().trim_start().starts_with(':') {
            let (rest, labels) = label_list(i)?;
            if let Some(last) = labels.last() {
                let span = left.span.to(last.span);
                left = Expr {
                    kind: ExprKind::HasLabels(Box::new(left), labels),
                    span,
                };
                i = rest;
                continue;
            }
        }
        return Ok((i, left));
    }
}

/// `additive_expression`: `multiplicative_expression (('+' | '-') multiplicative_expression)*`.
fn additive_expression(i: In<'_>) -> PResult<'_, Expr> {
    let (mut i, mut left) = multiplicative_expression(i)?;
    loop {
        let op = if let Ok((rest, _)) = sym("+")(i) {
            if rest.fragment().starts_with('=') {
                return Ok((i, left));
            }
            Some((rest, BinaryOp::Add))
        } else if let Ok((rest, _)) = sym("-")(i) {
            // `-[` and `->` and `--` start relationships.
            if rest.fragment().starts_with(['[', '>', '-']) {
                return Ok((i, left));
            }
            Some((rest, BinaryOp::Sub))
        } else {
            None
        };
        let Some((rest, op)) = op else {
            return Ok((i, left));
        };
        let (rest, right) = expect(
            multiplicative_expression,
            "an expression after the operator",
        )(rest)?;
        left = binary(op, left, right);
        i = rest;
    }
}

/// `multiplicative_expression`: `power_expression (('*' | '/' | '%') power_expression)*`.
fn multiplicative_expression(i: In<'_>) -> PResult<'_, Expr> {
    chain(
        i,
        power_expression,
        &[
            ("*", BinaryOp::Mul, false),
            ("/", BinaryOp::Div, false),
            ("%", BinaryOp::Mod, false),
        ],
    )
}

/// `power_expression`: `unary_expression ('^' unary_expression)*`.
fn power_expression(i: In<'_>) -> PResult<'_, Expr> {
    chain(i, unary_expression, &[("^", BinaryOp::Pow, false)])
}

/// `unary_expression`: `('-' | '+')* postfix_expression`.
fn unary_expression(i: In<'_>) -> PResult<'_, Expr> {
    if let Ok((rest, minus)) = sym("-")(i) {
        let _guard = DepthGuard::enter(&i)?;
        // `-9223372036854775808` is the one integer whose magnitude alone is out of range.
        let digits: String = rest
            .fragment()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if digits == "9223372036854775808"
            && !rest.fragment()[digits.len()..].starts_with(['.', 'e', 'E'])
        {
            let rest = advance(rest, digits.len());
            return Ok((
                rest,
                Expr {
                    kind: ExprKind::Literal(Literal::Int(i64::MIN)),
                    span: span(minus.start, &rest),
                },
            ));
        }
        let (rest, e) = expect(unary_expression, "an expression after `-`")(rest)?;
        // Fold `-9223372036854775808` and negative literals.
        if let ExprKind::Literal(Literal::Int(n)) = e.kind {
            return Ok((
                rest,
                Expr {
                    kind: ExprKind::Literal(Literal::Int(-n)),
                    span: minus.to(e.span),
                },
            ));
        }
        let span = minus.to(e.span);
        return Ok((
            rest,
            Expr {
                kind: ExprKind::Unary(UnaryOp::Neg, Box::new(e)),
                span,
            },
        ));
    }
    if let Ok((rest, _)) = sym("+")(i) {
        let _guard = DepthGuard::enter(&i)?;
        return expect(unary_expression, "an expression after `+`")(rest);
    }
    postfix_expression(i)
}

/// `postfix_expression`: `atom ('.' key | '[' expression ']' | '[' [e] '..' [e] ']')*`.
fn postfix_expression(i: In<'_>) -> PResult<'_, Expr> {
    let (mut i, mut e) = atom(i)?;
    loop {
        if let Ok((rest, _)) = sym(".")(i)
            && !rest.fragment().starts_with('.')
        {
            let (rest, key) = expect(symbolic_name, "a property key after `.`")(rest)?;
            let span = e.span.to(key.span);
            e = Expr {
                kind: ExprKind::Property(Box::new(e), key),
                span,
            };
            i = rest;
            continue;
        }
        if let Ok((rest, _)) = sym("[")(i) {
            let _guard = DepthGuard::enter(&i)?;
            let (rest, from) = opt(expression).parse(rest)?;
            if let Ok((rest, _)) = sym("..")(rest) {
                let (rest, to) = opt(expression).parse(rest)?;
                let (rest, close) = expect(sym("]"), "`]` to close the slice")(rest)?;
                let span = e.span.to(close);
                e = Expr {
                    kind: ExprKind::Slice(Box::new(e), from.map(Box::new), to.map(Box::new)),
                    span,
                };
                i = rest;
                continue;
            }
            let Some(index) = from else {
                return fail(rest, "an index or a slice `[a..b]`");
            };
            let (rest, close) = expect(sym("]"), "`]` to close the index")(rest)?;
            let span = e.span.to(close);
            e = Expr {
                kind: ExprKind::Index(Box::new(e), Box::new(index)),
                span,
            };
            i = rest;
            continue;
        }
        return Ok((i, e));
    }
}

/// `atom`: a literal, parameter, `count(*)`, `CASE`, function call, list, map,
/// parenthesised expression or variable.
fn atom(i: In<'_>) -> PResult<'_, Expr> {
    let (i, _) = ws(i)?;
    let start = offset(&i);
    let lit = |rest: In<'_>, l: Literal| -> Expr {
        Expr {
            kind: ExprKind::Literal(l),
            span: span(start, &rest),
        }
    };
    match string_literal(i) {
        Ok((rest, s)) => return Ok((rest, lit(rest, Literal::Str(s.node)))),
        Err(nom::Err::Error(_)) => {}
        Err(e) => return Err(e),
    }
    if i.fragment().starts_with(|c: char| c.is_ascii_digit())
        || (i.fragment().starts_with('.')
            && i.fragment()[1..].starts_with(|c: char| c.is_ascii_digit()))
    {
        let (rest, n) = number_literal(i)?;
        return Ok((rest, lit(rest, n)));
    }
    if let Ok((rest, _)) = kw("null")(i) {
        return Ok((rest, lit(rest, Literal::Null)));
    }
    if let Ok((rest, _)) = kw("true")(i) {
        return Ok((rest, lit(rest, Literal::Bool(true))));
    }
    if let Ok((rest, _)) = kw("false")(i) {
        return Ok((rest, lit(rest, Literal::Bool(false))));
    }
    if i.fragment().starts_with('$') {
        return parameter(i);
    }
    if i.fragment().starts_with('[') {
        return list_literal(i);
    }
    if i.fragment().starts_with('{') {
        return map_literal(i);
    }
    if i.fragment().starts_with('(') {
        let (rest, _) = sym("(")(i)?;
        let (rest, mut e) = expect(expression, "an expression after `(`")(rest)?;
        let (rest, close) = expect(sym(")"), "`)` to close the parenthesis")(rest)?;
        e.span = Span::new(start, close.end);
        return Ok((rest, e));
    }
    if kw("case")(i).is_ok() {
        return case_expression(i);
    }
    if let Ok((rest, _)) = (kw("count"), sym("("), sym("*"), sym(")")).parse(i) {
        return Ok((
            rest,
            Expr {
                kind: ExprKind::CountStar,
                span: span(start, &rest),
            },
        ));
    }
    if let Ok((after, _)) = (symbolic_name, sym("(")).parse(i) {
        let _ = after;
        return function_call(i);
    }
    let (rest, v) = variable(i)?;
    Ok((rest, v))
}

/// `variable`: an identifier.
fn variable(i: In<'_>) -> PResult<'_, Expr> {
    let (rest, name) = identifier(i)?;
    Ok((
        rest,
        Expr {
            kind: ExprKind::Variable(name.node),
            span: name.span,
        },
    ))
}

/// `parameter`: `$name`.
fn parameter(i: In<'_>) -> PResult<'_, Expr> {
    let (i, d) = sym("$")(i)?;
    let word: PResult<'_, In<'_>> =
        recognize((satisfy(is_ident_start), take_while(is_ident_char))).parse(i);
    let (rest, name) = match word {
        Ok(x) => x,
        Err(_) => return fail(i, "a parameter name after `$`"),
    };
    Ok((
        rest,
        Expr {
            kind: ExprKind::Parameter(name.fragment().to_string()),
            span: span(d.start, &rest),
        },
    ))
}

/// `function_call`: `name([DISTINCT] expression, …)`.
fn function_call(i: In<'_>) -> PResult<'_, Expr> {
    let (i, name) = symbolic_name(i)?;
    let (i, _) = sym("(")(i)?;
    let (i, distinct) = opt(kw("distinct")).parse(i)?;
    let mut args = Vec::new();
    let mut i = i;
    if let Ok((rest, close)) = sym(")")(i) {
        return Ok((
            rest,
            Expr {
                kind: ExprKind::Call {
                    name: name.clone(),
                    distinct: distinct.is_some(),
                    args,
                },
                span: name.span.to(close),
            },
        ));
    }
    loop {
        let (rest, a) = expect(expression, "an argument")(i)?;
        args.push(a);
        if let Ok((rest, _)) = sym(",")(rest) {
            i = rest;
            continue;
        }
        let (rest, close) = expect(sym(")"), "`,` or `)` to close the arguments")(rest)?;
        let span = name.span.to(close);
        return Ok((
            rest,
            Expr {
                kind: ExprKind::Call {
                    name,
                    distinct: distinct.is_some(),
                    args,
                },
                span,
            },
        ));
    }
}

/// `list_literal`: `[expression, …]`.
fn list_literal(i: In<'_>) -> PResult<'_, Expr> {
    let (mut i, open) = sym("[")(i)?;
    let mut items = Vec::new();
    if let Ok((rest, close)) = sym("]")(i) {
        return Ok((
            rest,
            Expr {
                kind: ExprKind::List(items),
                span: open.to(close),
            },
        ));
    }
    loop {
        let (rest, e) = expect(expression, "a list element")(i)?;
        items.push(e);
        if let Ok((rest, _)) = sym(",")(rest) {
            i = rest;
            continue;
        }
        let (rest, close) = expect(sym("]"), "`,` or `]` to close the list")(rest)?;
        return Ok((
            rest,
            Expr {
                kind: ExprKind::List(items),
                span: open.to(close),
            },
        ));
    }
}

fn map_entries(i: In<'_>) -> PResult<'_, (Span, Vec<(Ident, Expr)>)> {
    let (mut i, open) = sym("{")(i)?;
    let mut entries = Vec::new();
    if let Ok((rest, close)) = sym("}")(i) {
        return Ok((rest, (open.to(close), entries)));
    }
    loop {
        let (rest, k) = expect(symbolic_name, "a key in the map")(i)?;
        let (rest, _) = expect(sym(":"), "`:` after the key")(rest)?;
        let (rest, v) = expect(expression, "a value after `:`")(rest)?;
        entries.push((k, v));
        if let Ok((rest, _)) = sym(",")(rest) {
            i = rest;
            continue;
        }
        let (rest, close) = expect(sym("}"), "`,` or `}` to close the map")(rest)?;
        return Ok((rest, (open.to(close), entries)));
    }
}

/// `map_literal`: `{key: expression, …}`.
fn map_literal(i: In<'_>) -> PResult<'_, Expr> {
    let (i, (span, entries)) = map_entries(i)?;
    Ok((
        i,
        Expr {
            kind: ExprKind::Map(entries),
            span,
        },
    ))
}

/// `case_expression`: `CASE [expression] (WHEN e THEN e)+ [ELSE e] END`.
fn case_expression(i: In<'_>) -> PResult<'_, Expr> {
    let (i, first) = kw("case")(i)?;
    let (i, subject) = if kw("when")(i).is_ok() {
        (i, None)
    } else {
        let (i, s) = expect(expression, "WHEN, or a value to compare, after CASE")(i)?;
        (i, Some(Box::new(s)))
    };
    let mut branches = Vec::new();
    let mut i = i;
    while let Ok((rest, _)) = kw("when")(i) {
        let (rest, c) = expect(expression, "a condition after WHEN")(rest)?;
        let (rest, _) = expect(kw("then"), "THEN after the condition")(rest)?;
        let (rest, r) = expect(expression, "a result after THEN")(rest)?;
        branches.push((c, r));
        i = rest;
    }
    if branches.is_empty() {
        return fail(i, "WHEN … THEN … in CASE");
    }
    let (i, otherwise) = match kw("else")(i) {
        Ok((rest, _)) => {
            let (rest, e) = expect(expression, "a result after ELSE")(rest)?;
            (rest, Some(Box::new(e)))
        }
        Err(_) => (i, None),
    };
    let (i, end) = expect(kw("end"), "END to close CASE")(i)?;
    Ok((
        i,
        Expr {
            kind: ExprKind::Case {
                subject,
                branches,
                otherwise,
            },
            span: first.to(end),
        },
    ))
}

// ----- entry points ----------------------------------------------------------------------------

fn to_error(source: &str, e: nom::Err<PError>) -> QueryError {
    let e = match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        nom::Err::Incomplete(_) => PError {
            offset: source.len(),
            message: None,
        },
    };
    let at = e.offset.min(source.len());
    let rest = LocatedSpan::new(source.get(at..).unwrap_or_default());
    let message = e
        .message
        .unwrap_or_else(|| format!("unexpected {}", found(&rest)));
    // Point at the offending token: skip the whitespace before it.
    let skipped = source
        .get(at..)
        .map_or(0, |r| r.len() - r.trim_start().len());
    let start = (at + skipped).min(source.len());
    let len = source
        .get(start..)
        .and_then(|r| r.chars().next())
        .map_or(0, char::len_utf8);
    QueryError::syntax(Span::new(start, start + len), message)
}

fn run<'a, T>(source: &'a str, p: impl FnOnce(In<'a>) -> PResult<'a, T>) -> Result<T, QueryError> {
    DEPTH.with(|d| d.set(0));
    match p(LocatedSpan::new(source)) {
        Ok((rest, value)) => {
            let rest_text = rest.fragment().trim_start();
            if !rest_text.is_empty() {
                return Err(to_error(
                    source,
                    nom::Err::Failure(PError {
                        offset: rest.location_offset(),
                        message: Some(format!(
                            "expected the end of the input, found {}",
                            found(&rest)
                        )),
                    }),
                ));
            }
            Ok(value)
        }
        Err(e) => Err(to_error(source, e)),
    }
}

/// Parses a script: statements separated by `;` (the last `;` optional).
///
/// # Errors
/// The first syntax error, with its span.
pub fn parse_script(source: &str) -> Result<Script, QueryError> {
    run(source, |i| {
        let (i, s) = script(i)?;
        let (i, _) = ws(i)?;
        Ok((i, s))
    })
}

/// Parses exactly one statement (a trailing `;` is allowed).
///
/// # Errors
/// The first syntax error, or more than one statement.
pub fn parse_statement(source: &str) -> Result<Statement, QueryError> {
    run(source, |i| {
        let (i, s) = statement(i)?;
        let (i, _) = opt(sym(";")).parse(i)?;
        let (i, _) = ws(i)?;
        Ok((i, s))
    })
}

/// Parses one expression (for parameters given on the command line, and tests).
///
/// # Errors
/// The first syntax error.
pub fn parse_expression(source: &str) -> Result<Expr, QueryError> {
    run(source, |i| {
        let (i, e) = expression(i)?;
        let (i, _) = ws(i)?;
        Ok((i, e))
    })
}
