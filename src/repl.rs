//! The interactive shell (rustyline): statements end with `;` and may span lines; `:`
//! commands control the session. When standard input is not a terminal, it reads statements
//! from it with no prompt and no colour, so it scripts and tests.
//!
//! This is the first cut: history, multi-line input, meta-commands, tables with row counts and
//! timings, errors with a caret, Ctrl-C cancelling the running statement (the session goes
//! on). Completion, highlighting and `HISTORY`/`TIMELINE`/`DIFF` come with the explore issue.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use rustyline::Editor;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;

use crate::cli::{self, CliError};
use crate::db::Database;
use crate::log::Log;
use crate::query::format::{self, Format};
use crate::query::{Session, parser};

const HELP: &str = "\
Statements end with `;` and may span several lines. For example:
  MATCH (b:Actor {name: \"Banten\"})-[:PARTY_TO]->(a:Agreement) RETURN a.title, valid_from(a);
  AS OF 2005 MATCH (p:Programme) RETURN p.name;
  AT TX 12 MATCH (a:Agreement) RETURN count(a);
Commands:
  :help               this text
  :stats              nodes by label and relationships by type
  :log                the transactions: number, time, author, events, message
  :format table|json|csv
  :timing on|off      show how long each statement took
  :source FILE        run the statements of a file
  :quit               leave (or Ctrl-D)
The grammar is in grammar/diplograph.ebnf; the vocabulary in the README.";

/// Whether `text` ends a statement: its last character outside strings and comments is `;`
/// (or it is a `:` command).
pub fn is_complete(text: &str) -> bool {
    let t = text.trim();
    if t.starts_with(':') {
        return true;
    }
    let mut last = None;
    let mut chars = t.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == '\\' {
                chars.next();
            } else if c == q {
                quote = None;
                last = Some(c);
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '/' if chars.peek() == Some(&'/') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
            }
            c if c.is_whitespace() => {}
            c => last = Some(c),
        }
    }
    quote.is_none() && last == Some(';')
}

/// Words the language knows, for completion.
const KEYWORDS: &[&str] = &[
    "MATCH",
    "OPTIONAL",
    "WHERE",
    "RETURN",
    "WITH",
    "UNWIND",
    "CREATE",
    "MERGE",
    "SET",
    "REMOVE",
    "END",
    "RETRACT",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
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

/// Tab completion: keywords and functions, and the labels (after `:`), relationship types
/// and property keys (after `.`) the knowledge base holds when the shell starts.
pub struct Completion {
    words: Vec<String>,
    names: Vec<String>,
}

impl Completion {
    /// The completion words for a knowledge base.
    pub fn of<L: Log>(kb: &Database<L>) -> Completion {
        let mut words: Vec<String> = KEYWORDS.iter().map(|k| k.to_string()).collect();
        words.extend(crate::query::eval::FUNCTIONS.iter().map(|f| f.to_string()));
        words.extend(crate::query::eval::AGGREGATES.iter().map(|f| f.to_string()));
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
        Completion { words, names }
    }

    /// Candidates for the word before `pos`: its start, and the completions.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = line.get(..pos).unwrap_or(line);
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
            .last()
            .map_or(pos, |(i, _)| i);
        let word = &before[start..];
        if word.is_empty() {
            return (pos, Vec::new());
        }
        // After `:` or `.`, names from the knowledge base; elsewhere, keywords too.
        let after_sigil = before[..start].ends_with([':', '.']);
        let lower = word.to_lowercase();
        let mut out: Vec<String> = self
            .names
            .iter()
            .chain(self.words.iter().filter(|_| !after_sigil))
            .filter(|w| w.to_lowercase().starts_with(&lower) && w.len() > word.len())
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        (start, out)
    }
}

impl Completer for Completion {
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

impl Hinter for Completion {
    type Hint = String;
}
impl Highlighter for Completion {}
impl Validator for Completion {}
impl rustyline::Helper for Completion {}

/// The shell's state.
pub struct Repl<'a, L: Log> {
    kb: &'a mut Database<L>,
    session: Session,
    format: Format,
    timing: bool,
    color: bool,
}

impl<'a, L: Log> Repl<'a, L> {
    /// A shell on `kb`.
    pub fn new(kb: &'a mut Database<L>, session: Session, color: bool) -> Repl<'a, L> {
        Repl {
            kb,
            session,
            format: Format::Table,
            timing: true,
            color,
        }
    }

    /// Runs one input (statements or a `:` command), writing results and errors to `out`.
    /// Returns `false` when the shell should end.
    pub fn handle(&mut self, input: &str, out: &mut dyn Write) -> Result<bool, CliError> {
        let text = input.trim();
        if let Some(command) = text.strip_prefix(':') {
            return self.command(command.trim_end_matches(';').trim(), out);
        }
        if text.is_empty() {
            return Ok(true);
        }
        let script = match parser::parse_script(text) {
            Ok(s) => s,
            Err(e) => {
                write!(out, "{}", e.render("input", text, self.color))?;
                return Ok(true);
            }
        };
        for statement in &script.statements {
            let started = std::time::Instant::now();
            match self.session.execute(self.kb, text, statement) {
                Ok(outcome) => {
                    for w in &outcome.warnings {
                        write!(out, "{}", w.render("input", text, self.color))?;
                    }
                    let elapsed = self.timing.then(|| started.elapsed());
                    out.write_all(format::render(&outcome, self.format, elapsed).as_bytes())?;
                }
                Err(e) => {
                    write!(out, "{}", e.render("input", text, self.color))?;
                    break;
                }
            }
        }
        Ok(true)
    }

    fn command(&mut self, command: &str, out: &mut dyn Write) -> Result<bool, CliError> {
        let (name, arg) = command.split_once(' ').unwrap_or((command, ""));
        let arg = arg.trim();
        match name {
            "q" | "quit" | "exit" => return Ok(false),
            "h" | "help" | "?" => writeln!(out, "{HELP}")?,
            "stats" => cli::stats_command(self.kb, None, out)?,
            "log" => cli::log_command(self.kb, None, None, out)?,
            "format" => match arg.parse::<Format>() {
                Ok(f) => {
                    self.format = f;
                    writeln!(out, "format: {arg}")?;
                }
                Err(e) => writeln!(out, "{e}")?,
            },
            "timing" => match arg {
                "on" => self.timing = true,
                "off" => self.timing = false,
                _ => writeln!(out, ":timing on|off")?,
            },
            "source" => {
                let path = PathBuf::from(arg);
                let source = std::fs::read_to_string(&path).map_err(|e| CliError::File {
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
                let mut warnings = Vec::new();
                let result = cli::run_script(
                    self.kb,
                    &mut self.session,
                    &source,
                    arg,
                    self.format,
                    out,
                    &mut warnings,
                );
                out.write_all(&warnings)?;
                if let Err(e) = result {
                    writeln!(out, "{e}")?;
                }
            }
            other => writeln!(out, "unknown command `:{other}`; :help lists them")?,
        }
        Ok(true)
    }
}

/// Runs the shell on the terminal, or on standard input when it is not one.
///
/// # Errors
/// When output cannot be written; statement errors are printed and the shell goes on,
/// except when reading a script from standard input, where the first error ends it.
pub fn run<L: Log>(kb: &mut Database<L>, session: Session) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if !std::io::stdin().is_terminal() {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(CliError::Output)?;
        let mut session = session;
        let mut err = std::io::stderr();
        cli::run_script(
            kb,
            &mut session,
            &text,
            "stdin",
            Format::Table,
            &mut out,
            &mut err,
        )?;
        return Ok(());
    }
    let color = std::io::stdout().is_terminal();
    writeln!(
        out,
        "diplograph {} — knowledge base at tx {}. Statements end with `;`; :help for help.",
        env!("CARGO_PKG_VERSION"),
        kb.tx()
    )?;
    let mut editor: Editor<Completion, DefaultHistory> =
        Editor::new().map_err(|e| CliError::Usage(e.to_string()))?;
    editor.set_helper(Some(Completion::of(kb)));
    let history = dirs::data_dir().map(|d| d.join("diplograph").join("history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    // While a statement runs the terminal is not in rustyline's raw mode, so Ctrl-C arrives
    // as a signal: it cancels the statement (its budget checks the flag), not the shell.
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&cancel);
    let _ = ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::Relaxed));
    let mut session = session;
    session.cancel = Some(std::sync::Arc::clone(&cancel));
    let mut repl = Repl::new(kb, session, color);
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            "diplograph> "
        } else {
            "       ...> "
        };
        match editor.readline(prompt) {
            Ok(line) => {
                buffer.push_str(&line);
                buffer.push('\n');
                if !is_complete(&buffer) {
                    continue;
                }
                let input = std::mem::take(&mut buffer);
                let _ = editor.add_history_entry(input.trim());
                cancel.store(false, std::sync::atomic::Ordering::Relaxed);
                if !repl.handle(&input, &mut out)? {
                    break;
                }
            }
            // Ctrl-C drops the statement being typed; Ctrl-D leaves.
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(CliError::Usage(e.to_string())),
        }
    }
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_offers_keywords_and_the_knowledge_bases_names() {
        let mut kb = Database::open(crate::log::MemoryLog::new()).unwrap();
        let mut s = Session::new();
        let text = "CREATE (:Source {key: \"k\"}); CREATE (:Actor {name: \"x\"})-[:PARTY_TO]->(:Agreement) SOURCE \"k\"";
        for st in parser::parse_script(text).unwrap().statements {
            s.execute(&mut kb, text, &st).unwrap();
        }
        let c = Completion::of(&kb);
        assert_eq!(c.candidates("MAT", 3), (0, vec!["MATCH".to_string()]));
        let (start, words) = c.candidates("MATCH (a:Act", 12);
        assert_eq!((start, words), (9, vec!["Actor".to_string()]));
        let (_, words) = c.candidates("MATCH (a)-[:PA", 14);
        assert_eq!(words, vec!["PARTY_TO".to_string()]);
        let (_, words) = c.candidates("RETURN a.na", 11);
        assert_eq!(words, vec!["name".to_string()]);
        assert!(c.candidates("RETURN ", 7).1.is_empty());
    }

    #[test]
    fn a_statement_is_complete_at_a_semicolon_outside_strings_and_comments() {
        assert!(is_complete("MATCH (n) RETURN n;"));
        assert!(is_complete("MATCH (n)\nRETURN n;  // done\n"));
        assert!(!is_complete("MATCH (n)\n"));
        assert!(!is_complete("RETURN \"a;\n"));
        assert!(is_complete("RETURN \"a;\";"));
        assert!(!is_complete("RETURN 1 /* ; */"));
        assert!(!is_complete("RETURN 'it\\'s;'"));
        assert!(is_complete(":stats"));
    }
}
