//! What the line editor asks of the shell while a line is typed: completions, hints and
//! colours.
//!
//! Completion offers keywords and functions anywhere, labels after `:`, relationship types
//! and property keys after `:` or `.`, node names (their `name`, `title` or `id`) inside a
//! string, and the shell's commands at the start of a line. The names come from the open
//! knowledge base and are refreshed after each statement that wrote. A hint (dimmed) shows
//! the rest of the word when only one completion fits, or else the latest history entry
//! that starts with the line.

use std::borrow::Cow;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::Validator;

use super::highlight;
use crate::db::Database;
use crate::log::Log;

/// Words the language knows, for completion.
pub const KEYWORDS: &[&str] = &[
    "MATCH",
    "OPTIONAL",
    "WHERE",
    "RETURN",
    "WITH",
    "UNWIND",
    "CALL",
    "YIELD",
    "CREATE",
    "MERGE",
    "SET",
    "REMOVE",
    "END",
    "RETRACT",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "HISTORY",
    "TIMELINE",
    "STEP",
    "YEARS",
    "MONTHS",
    "DIFF",
    "ORDER",
    "BY",
    "SKIP",
    "LIMIT",
    "ASC",
    "DESC",
    "DISTINCT",
    "AS",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "TRUE",
    "FALSE",
    "STARTS",
    "ENDS",
    "CONTAINS",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "VALID",
    "FROM",
    "TO",
    "SOURCE",
    "AT",
    "TX",
    "OF",
    "DURING",
    "REASON",
    "shortestPath",
    "allShortestPaths",
];

/// The shell's commands, for completion at the start of a line.
pub const COMMANDS: &[&str] = &[
    ":help", ":schema", ":stats", ":log", ":pin", ":replay", ":format", ":timing", ":source",
    ":quit",
];

/// The most node names offered; a bigger knowledge base offers the first ones in order.
const MAX_NODE_NAMES: usize = 200_000;

/// Completion words, hints and colours for the line editor.
pub struct ShellHelper {
    words: Vec<String>,
    names: Vec<String>,
    node_names: Vec<String>,
    /// The transaction the names were read at.
    pub tx: u64,
    color: bool,
    history: HistoryHinter,
}

impl ShellHelper {
    /// The helper for a knowledge base; `color` turns highlighting on.
    pub fn of<L: Log>(kb: &Database<L>, color: bool) -> ShellHelper {
        let mut words: Vec<String> = KEYWORDS.iter().map(|k| (*k).to_owned()).collect();
        words.extend(
            crate::query::eval::FUNCTIONS
                .iter()
                .map(|f| (*f).to_owned()),
        );
        words.extend(
            crate::query::eval::AGGREGATES
                .iter()
                .map(|f| (*f).to_owned()),
        );
        words.extend(
            crate::query::algo::ALGORITHMS
                .iter()
                .map(|a| a.0.to_owned()),
        );
        let mut helper = ShellHelper {
            words,
            names: Vec::new(),
            node_names: Vec::new(),
            tx: 0,
            color,
            history: HistoryHinter::new(),
        };
        helper.refresh(kb);
        helper
    }

    /// Reads the knowledge base's names again (after a write).
    pub fn refresh<L: Log>(&mut self, kb: &Database<L>) {
        let graph = kb.graph();
        let mut names: Vec<String> = graph
            .label_names()
            .into_iter()
            .chain(graph.type_names())
            .chain(graph.symbol_names())
            .map(str::to_owned)
            .filter(|n| n.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .collect();
        names.sort();
        names.dedup();
        let view = kb.view();
        let mut node_names: Vec<String> = Vec::new();
        for n in view.nodes() {
            if node_names.len() >= MAX_NODE_NAMES {
                break;
            }
            for key in ["name", "title"] {
                if let Some(crate::value::Value::Str(s)) = n.property(key) {
                    node_names.push(s.to_string());
                }
            }
            node_names.push(n.id().to_owned());
        }
        node_names.sort();
        node_names.dedup();
        self.names = names;
        self.node_names = node_names;
        self.tx = kb.tx().0;
    }

    /// Candidates for the word before `pos`: where it starts, and the completions.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        // A position past the end or inside a character counts from the boundary before it.
        let mut pos = pos.min(line.len());
        while !line.is_char_boundary(pos) {
            pos -= 1;
        }
        let before = &line[..pos];
        // Inside a string: node names, closed with the quote.
        if let Some((quote, open)) = open_string(before) {
            let typed = &before[open..];
            let lower = typed.to_lowercase();
            let fits: Vec<&String> = self
                .node_names
                .iter()
                .filter(|n| n.to_lowercase().starts_with(&lower) && !n.contains(quote))
                .collect();
            let mut out: Vec<String> = prefer_exact_case(fits, typed)
                .into_iter()
                .map(|n| format!("{n}{quote}"))
                .collect();
            out.truncate(500);
            return (open, out);
        }
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
            .last()
            .map_or(pos, |(i, _)| i);
        let word = &before[start..];
        // A command at the start of the line.
        if before[..start].trim() == ":" || (before.trim_start() == ":" && word.is_empty()) {
            let typed = format!(":{}", word.to_lowercase());
            let colon = before.find(':').unwrap_or(0);
            let out = COMMANDS
                .iter()
                .filter(|c| c.starts_with(&typed))
                .map(|c| (*c).to_owned())
                .collect();
            return (colon, out);
        }
        if word.is_empty() {
            return (pos, Vec::new());
        }
        // After `:` or `.`, names from the knowledge base; elsewhere, keywords too.
        let after_sigil = before[..start].ends_with([':', '.']);
        let lower = word.to_lowercase();
        let fits: Vec<&String> = self
            .names
            .iter()
            .chain(self.words.iter().filter(|_| !after_sigil))
            .filter(|w| w.to_lowercase().starts_with(&lower) && w.len() > word.len())
            .collect();
        let mut out: Vec<String> = prefer_exact_case(fits, word).into_iter().cloned().collect();
        out.sort();
        out.dedup();
        (start, out)
    }
}

/// The candidates that continue `typed` in its own case, when there are any (so `Ban`
/// completes to `Banten` rather than stopping at what `Banten` and `banten` share).
fn prefer_exact_case<'a>(fits: Vec<&'a String>, typed: &str) -> Vec<&'a String> {
    if fits.iter().any(|f| f.starts_with(typed)) {
        fits.into_iter().filter(|f| f.starts_with(typed)).collect()
    } else {
        fits
    }
}

/// If `text` ends inside a string literal: its quote and where its text starts.
fn open_string(text: &str) -> Option<(char, usize)> {
    let mut quote: Option<(char, usize)> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some((q, _)) => {
                if c == '\\' {
                    chars.next();
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some((c, i + 1)),
                '/' if chars.peek().map(|x| x.1) == Some('/') => return None,
                _ => {}
            },
        }
    }
    quote
}

impl Completer for ShellHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = self.candidates(line, pos);
        Ok((
            start,
            words
                .into_iter()
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: w,
                })
                .collect(),
        ))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, ctx: &rustyline::Context<'_>) -> Option<String> {
        if pos < line.len() || line.trim().is_empty() {
            return None;
        }
        let (start, words) = self.candidates(line, pos);
        if let [only] = words.as_slice()
            && let Some(typed) = line.get(start..pos)
        {
            // Hint only what continues the typed text as typed (not a change of case).
            if let Some(rest) = only.strip_prefix(typed)
                && !rest.is_empty()
            {
                return Some(rest.to_owned());
            }
        }
        self.history.hint(line, pos, ctx)
    }
}

impl Highlighter for ShellHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if self.color {
            Cow::Owned(highlight::colored(line))
        } else {
            Cow::Borrowed(line)
        }
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, kind: CmdKind) -> bool {
        self.color && kind != CmdKind::MoveCursor
    }
}

impl Validator for ShellHelper {}
impl rustyline::Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Session, parser};

    fn helper() -> ShellHelper {
        let mut kb = Database::open(crate::log::MemoryLog::new()).unwrap();
        let mut s = Session::new();
        let text = "CREATE (:Source {key: \"k\"}); CREATE (:Actor {id: \"banten\", name: \
                    \"Banten\"})-[:PARTY_TO]->(:Agreement {title: \"LoI Banten–Incheon\"}) \
                    SOURCE \"k\"";
        for st in parser::parse_script(text).unwrap().statements {
            s.execute(&mut kb, text, &st).unwrap();
        }
        ShellHelper::of(&kb, false)
    }

    #[test]
    fn completion_offers_keywords_and_the_knowledge_bases_names() {
        let c = helper();
        assert_eq!(c.candidates("MAT", 3), (0, vec!["MATCH".to_string()]));
        let (start, words) = c.candidates("MATCH (a:Act", 12);
        assert_eq!((start, words), (9, vec!["Actor".to_string()]));
        let (_, words) = c.candidates("MATCH (a)-[:PA", 14);
        assert_eq!(words, vec!["PARTY_TO".to_string()]);
        let (_, words) = c.candidates("RETURN a.na", 11);
        assert_eq!(words, vec!["name".to_string()]);
        assert!(c.candidates("RETURN ", 7).1.is_empty());
        let (_, words) = c.candidates("CALL pager", 10);
        assert_eq!(words, vec!["pagerank".to_string()]);
    }

    #[test]
    fn inside_a_string_completion_offers_node_names_and_closes_the_string() {
        let c = helper();
        let line = "MATCH (a {name: \"Ban";
        let (start, words) = c.candidates(line, line.len());
        assert_eq!(start, line.len() - 3);
        assert_eq!(words, vec!["Banten\"".to_string()]);
        let line = "MATCH (a {id: \"BAN";
        let (_, words) = c.candidates(line, line.len());
        assert_eq!(words, vec!["Banten\"".to_string(), "banten\"".to_string()]);
        let line = "MATCH (g {title: 'loi b";
        let (_, words) = c.candidates(line, line.len());
        assert_eq!(words, vec!["LoI Banten–Incheon'".to_string()]);
        // A closed string is not completed into.
        let line = "MATCH (a {name: \"Banten\"}) RETURN a.na";
        assert_eq!(c.candidates(line, line.len()).1, vec!["name".to_string()]);
    }

    #[test]
    fn commands_complete_at_the_start_of_a_line() {
        let c = helper();
        assert_eq!(c.candidates(":sch", 4), (0, vec![":schema".to_string()]));
        assert_eq!(c.candidates(":", 1).1.len(), COMMANDS.len());
        assert_eq!(c.candidates("  :re", 5), (2, vec![":replay".to_string()]));
    }

    #[test]
    fn odd_lines_and_positions_complete_and_hint_without_panicking() {
        let c = helper();
        let history = rustyline::history::DefaultHistory::new();
        let ctx = rustyline::Context::new(&history);
        for line in [
            "",
            ":",
            "\"",
            "'é",
            "MATCH (a:Ac",
            "RETURN \"Bañ",
            "x.",
            "ü:Ä",
            "//\"a",
            "$",
        ] {
            // Every byte position, inside characters and past the end included.
            for pos in 0..=line.len() + 3 {
                let _ = c.candidates(line, pos);
                let _ = c.hint(line, pos, &ctx);
            }
        }
    }

    #[test]
    fn names_are_read_again_after_a_write() {
        let mut kb = Database::open(crate::log::MemoryLog::new()).unwrap();
        let mut c = ShellHelper::of(&kb, false);
        assert!(c.candidates("MATCH (:Sou", 11).1.is_empty());
        let mut s = Session::new();
        let text = "CREATE (:Source {key: \"k\", name: \"Syuryansyah 2024\"})";
        let st = &parser::parse_script(text).unwrap().statements[0];
        s.execute(&mut kb, text, st).unwrap();
        c.refresh(&kb);
        assert_eq!(
            c.candidates("MATCH (:Sou", 11).1,
            vec!["Source".to_string()]
        );
        assert_eq!(
            c.candidates("RETURN \"Syu", 11).1,
            vec!["Syuryansyah 2024\"".to_string()]
        );
        assert_eq!(c.tx, 1);
    }
}
