//! Errors and warnings of the language, pointing into the source text.
//!
//! Each carries a [`Span`]; [`QueryError::render`] turns it into the message a person reads:
//! line and column, the line itself and a caret under the offending text (ariadne).

use std::fmt;

use super::ast::Span;

/// What went wrong, by stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text does not follow the grammar.
    Syntax,
    /// It parses, but means nothing: an unknown variable or function, a wrong argument …
    Semantic,
    /// Evaluation failed: a type mismatch, a division by zero, a bad date …
    Runtime,
    /// The query ran out of its time or row budget, or was cancelled.
    Budget,
    /// A write was refused by validation or the log; nothing of it was written.
    Write,
}

impl ErrorKind {
    fn name(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax error",
            ErrorKind::Semantic => "error",
            ErrorKind::Runtime => "runtime error",
            ErrorKind::Budget => "query stopped",
            ErrorKind::Write => "write refused",
        }
    }
}

/// An error of the language: its kind, a message, and where in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// The stage that failed.
    pub kind: ErrorKind,
    /// One sentence: what was expected and what was found, or what went wrong.
    pub message: String,
    /// Where, when it can be pinned to the text.
    pub span: Option<Span>,
    /// Which limit stopped it, or how a write failed, for those who answer differently
    /// (the server's status codes).
    pub cause: Cause,
}

/// What, within an [`ErrorKind`], stopped a statement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// Nothing more to say than the kind.
    #[default]
    Other,
    /// `Budget`: out of time.
    TimeLimit,
    /// `Budget`: too many rows.
    RowLimit,
    /// `Budget`: cancelled (Ctrl-C, a closed connection).
    Cancelled,
    /// `Write`: validation refused an event; nothing was written.
    Refused,
    /// `Write`: the storage failed.
    Storage,
}

impl QueryError {
    /// The same error, with its cause.
    pub fn because(mut self, cause: Cause) -> QueryError {
        self.cause = cause;
        self
    }

    /// A syntax error at `span`.
    pub fn syntax(span: Span, message: impl Into<String>) -> QueryError {
        QueryError {
            kind: ErrorKind::Syntax,
            message: message.into(),
            span: Some(span),
            cause: Cause::Other,
        }
    }

    /// A semantic error at `span`.
    pub fn semantic(span: Span, message: impl Into<String>) -> QueryError {
        QueryError {
            kind: ErrorKind::Semantic,
            message: message.into(),
            span: Some(span),
            cause: Cause::Other,
        }
    }

    /// A runtime error at `span`.
    pub fn runtime(span: Span, message: impl Into<String>) -> QueryError {
        QueryError {
            kind: ErrorKind::Runtime,
            message: message.into(),
            span: Some(span),
            cause: Cause::Other,
        }
    }

    /// An error of `kind` that points nowhere in particular.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> QueryError {
        QueryError {
            kind,
            message: message.into(),
            span: None,
            cause: Cause::Other,
        }
    }

    /// The same error, moved by `offset` bytes: for a statement cut out of a longer script.
    pub fn shifted(mut self, offset: usize) -> QueryError {
        if let Some(s) = &mut self.span {
            *s = Span::new(s.start + offset, s.end + offset);
        }
        self
    }

    /// Line and column (both from 1, the column in characters) of the error in `source`.
    pub fn line_column(&self, source: &str) -> Option<(usize, usize)> {
        self.span.map(|s| line_column(source, s.start))
    }

    /// The error as a person reads it: `kind at line L, column C: message`, then the line
    /// with a caret. `name` names the source (a file, or `query`); `color` for a terminal.
    pub fn render(&self, name: &str, source: &str, color: bool) -> String {
        render(
            ariadne::Color::Red,
            self.kind.name(),
            &self.message,
            self.span,
            name,
            source,
            color,
        )
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for QueryError {}

/// Something legal but probably not meant: an unknown label, type or property in a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// What, with the closest known name when there is one.
    pub message: String,
    /// Where.
    pub span: Span,
}

impl Warning {
    /// The warning as a person reads it, like [`QueryError::render`].
    pub fn render(&self, name: &str, source: &str, color: bool) -> String {
        render(
            ariadne::Color::Yellow,
            "warning",
            &self.message,
            Some(self.span),
            name,
            source,
            color,
        )
    }
}

/// Line and column, both from 1, of byte `offset` in `source` (columns count characters).
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn render(
    color_of: ariadne::Color,
    title: &str,
    message: &str,
    span: Option<Span>,
    name: &str,
    source: &str,
    color: bool,
) -> String {
    let Some(span) = span else {
        return format!("{title}: {message}\n");
    };
    let (line, column) = line_column(source, span.start);
    let header = format!("line {line}, column {column}: {message}");
    // ariadne counts characters, not bytes.
    let start = floor_char_boundary(source, span.start.min(source.len()));
    let end = floor_char_boundary(source, span.end.min(source.len())).max(start);
    let char_start = source[..start].chars().count();
    let char_end = char_start + source[start..end].chars().count().max(1);
    let name = name.to_string();
    // The caret's note repeats a short message; a long one is in the header only. (A label
    // without a message draws no underline, so a long one gets a short note.)
    let note = if message.chars().count() <= 60 {
        message
    } else {
        "here"
    };
    let label = ariadne::Label::new((name.clone(), char_start..char_end)).with_message(note);
    let mut out = Vec::new();
    let kind = ariadne::ReportKind::Custom(title, color_of);
    let written = ariadne::Report::build(kind, (name.clone(), char_start..char_end))
        .with_config(
            ariadne::Config::default()
                .with_color(color)
                .with_index_type(ariadne::IndexType::Char),
        )
        .with_message(&header)
        .with_label(label)
        .finish()
        .write((name, ariadne::Source::from(source)), &mut out);
    match written {
        // ariadne colours a custom report kind even when told not to colour: strip it.
        Ok(()) if !color => strip_ansi(&String::from_utf8_lossy(&out)),
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(_) => header,
    }
}

/// Removes terminal colour sequences (`ESC [ … m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let src = "MATCH (n)\nRETURN \"Kyōto\", x";
        let at = src.find('x').unwrap();
        assert_eq!(line_column(src, at), (2, 17));
        assert_eq!(line_column(src, 0), (1, 1));
    }

    #[test]
    fn render_names_line_column_and_shows_a_caret() {
        let src = "MATCH (n:Actor\nRETURN n";
        let e = QueryError::syntax(Span::new(15, 21), "expected `)` to close the node pattern");
        let text = e.render("query", src, false);
        assert!(text.contains("line 2, column 1"), "{text}");
        assert!(text.contains("RETURN n"), "{text}");
        assert!(text.contains('^') || text.contains('─'), "{text}");
    }
}
