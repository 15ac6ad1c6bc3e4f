//! The interactive shell (rustyline): statements end with `;` and may span lines; `:`
//! commands control the session. When standard input is not a terminal, it reads statements
//! from it with no prompt and no colour, so it scripts and tests.
//!
//! - [`helper`]: completion (keywords, labels, types, properties, node names, commands),
//!   hints and colours as a line is typed; [`highlight`] colours it.
//! - [`help`]: `:help` and its topics; [`chart`]: sparklines under a `TIMELINE` table.
//!
//! Results are tables with their row count and time, errors show a caret, Ctrl-C cancels
//! the running statement (the session goes on), `:pin` tells what to cite for the last
//! result, `:replay` steps through the transactions.

mod chart;
mod help;
mod helper;
mod highlight;

pub use chart::sparklines;
pub use helper::ShellHelper;

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::cli::{self, CliError};
use crate::db::Database;
use crate::graph::schema::Schema;
use crate::log::Log;
use crate::query::format::{self, Format};
use crate::query::session::Pin;
use crate::query::{Outcome, Session, parser};
use crate::time::TxId;

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

/// The shell's state.
pub struct Repl<'a, L: Log> {
    kb: &'a mut Database<L>,
    session: Session,
    format: Format,
    timing: bool,
    color: bool,
    /// The last read, whose result `:pin` cites (hashed only then).
    last_read: Option<Outcome>,
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
            last_read: None,
        }
    }

    /// The knowledge base.
    pub fn kb(&self) -> &Database<L> {
        self.kb
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
                    if outcome.series
                        && self.format == Format::Table
                        && let Some(chart) = sparklines(&outcome.output)
                    {
                        out.write_all(chart.as_bytes())?;
                    }
                    if outcome.pinned.is_some() {
                        self.last_read = Some(outcome);
                    }
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
            "h" | "help" | "?" if arg.is_empty() => writeln!(out, "{}", help::OVERVIEW)?,
            "h" | "help" | "?" => writeln!(out, "{}", help::topic(arg))?,
            "schema" => self.schema(out)?,
            "pin" => match self.last_read.as_ref().and_then(Outcome::pin) {
                Some(pin) => write_pin(&pin, out)?,
                None => writeln!(out, "no result to pin yet: run a query first")?,
            },
            "replay" => {
                let (from, to) = match self.replay_range(arg) {
                    Ok(r) => r,
                    Err(e) => {
                        writeln!(out, "{e}")?;
                        return Ok(true);
                    }
                };
                for tx in from..=to {
                    self.replay_step(tx, out)?;
                }
            }
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

    /// Runs the statements of `script[range]`, rendering errors and warnings against the
    /// whole script.
    fn run_chunk(
        &mut self,
        script: &str,
        range: std::ops::Range<usize>,
        name: &str,
        count: &mut usize,
        out: &mut dyn Write,
        warnings: &mut dyn Write,
    ) -> Result<(), CliError> {
        let chunk = &script[range.start..range.end];
        let at = range.start;
        let parsed = parser::parse_script(chunk).map_err(|e| {
            CliError::Query(format!(
                "{name}: {}",
                e.shifted(at).render(name, script, false)
            ))
        })?;
        for statement in &parsed.statements {
            *count += 1;
            let started = std::time::Instant::now();
            let outcome = self
                .session
                .execute(self.kb, chunk, statement)
                .map_err(|e| {
                    CliError::Query(format!(
                        "{name}, statement {count}: {}",
                        e.shifted(at).render(name, script, false)
                    ))
                })?;
            for w in &outcome.warnings {
                let w = crate::query::Warning {
                    message: w.message.clone(),
                    span: crate::query::ast::Span::new(w.span.start + at, w.span.end + at),
                };
                write!(warnings, "{}", w.render(name, script, false))?;
            }
            let elapsed = (self.timing && self.format == Format::Table).then(|| started.elapsed());
            if !outcome.output.columns.is_empty() || self.format == Format::Table {
                out.write_all(format::render(&outcome, self.format, elapsed).as_bytes())?;
            }
            if outcome.pinned.is_some() {
                self.last_read = Some(outcome);
            }
        }
        Ok(())
    }

    /// `:schema`: labels with their counts and property keys, then relationship types
    /// between labels.
    fn schema(&self, out: &mut dyn Write) -> Result<(), CliError> {
        let schema = Schema::of(&self.kb.view());
        writeln!(out, "at tx {}", schema.tx)?;
        writeln!(out, "node labels:")?;
        for (label, (n, keys)) in &schema.labels {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            writeln!(out, "  (:{label})  {n}  {{{}}}", keys.join(", "))?;
        }
        writeln!(out, "relationships:")?;
        for ((from, t, to), (n, keys)) in &schema.patterns {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let props = if keys.is_empty() {
                String::new()
            } else {
                format!("  {{{}}}", keys.join(", "))
            };
            writeln!(out, "  (:{from})-[:{t}]->(:{to})  {n}{props}")?;
        }
        Ok(())
    }

    /// The transactions `:replay [from] [to]` steps through.
    fn replay_range(&self, arg: &str) -> Result<(u64, u64), String> {
        let head = self.kb.tx().0;
        if head == 0 {
            return Err("the knowledge base has no transactions to replay".to_owned());
        }
        let numbers: Vec<&str> = arg.split_whitespace().collect();
        let parse = |s: &str| {
            s.trim_start_matches("tx")
                .parse::<u64>()
                .map_err(|_| format!("`{s}` is not a transaction number (:replay [from] [to])"))
        };
        let from = numbers.first().map_or(Ok(1), |s| parse(s))?;
        let to = numbers.get(1).map_or(Ok(head), |s| parse(s))?;
        if numbers.len() > 2 {
            return Err(":replay takes at most two numbers: from and to".to_owned());
        }
        if from == 0 || from > to || to > head {
            return Err(format!(
                ":replay {from} {to}: give 1 <= from <= to <= {head} (the last transaction)"
            ));
        }
        Ok((from, to))
    }

    /// One step of `:replay`: the transaction's header and what it changed.
    fn replay_step(&mut self, tx: u64, out: &mut dyn Write) -> Result<(), CliError> {
        let head = self.kb.tx().0;
        let header = match self.kb.graph().header(TxId(tx)) {
            Some(h) => {
                // To the second: the fraction is noise here.
                let mut line = crate::query::change::seconds(&h.recorded_at.to_string());
                for part in [&h.meta.author, &h.meta.message].into_iter().flatten() {
                    line.push_str(" · ");
                    // A long message (a whole statement) is cut at its first line.
                    let first = part.lines().next().unwrap_or("");
                    line.push_str(&format::cut(first, 160));
                }
                let plural = if h.event_count == 1 { "" } else { "s" };
                line.push_str(&format!(" · {} event{plural}", h.event_count));
                line
            }
            None => String::new(),
        };
        writeln!(out, "── tx {tx} of {head} · {header}")?;
        let text = format!("DIFF AT TX {}, TX {tx}", tx - 1);
        let script = parser::parse_script(&text).map_err(|e| CliError::Usage(e.message))?;
        match self.session.execute(self.kb, &text, &script.statements[0]) {
            Ok(outcome) => {
                let table = format::render(&outcome, Format::Table, None);
                // The footer repeats what the header says.
                for line in table.lines().filter(|l| !l.contains(" · tx ")) {
                    writeln!(out, "{line}")?;
                }
            }
            Err(e) => write!(out, "{}", e.render("replay", &text, self.color))?,
        }
        Ok(())
    }
}

/// Prints a pin: the transaction, the hash, and the query to run again.
fn write_pin(pin: &Pin, out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out, "tx      {}", pin.tx)?;
    writeln!(out, "sha256  {}", pin.sha256)?;
    writeln!(out, "query   {}", pin.query)?;
    Ok(())
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
        let mut repl = Repl::new(kb, session, false);
        return run_piped(&mut repl, &text, "stdin", &mut out, &mut std::io::stderr());
    }
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    writeln!(
        out,
        "diplograph {} — knowledge base at tx {}.\nType :help, or a query ending in `;`. Tab \
         completes labels, types, properties and names.",
        env!("CARGO_PKG_VERSION"),
        kb.tx()
    )?;
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .build();
    let mut editor: Editor<ShellHelper, DefaultHistory> =
        Editor::with_config(config).map_err(|e| CliError::Usage(e.to_string()))?;
    editor.set_helper(Some(ShellHelper::of(kb, color)));
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
        // Reset before reading, so a Ctrl-C right after Enter still cancels what runs.
        cancel.store(false, std::sync::atomic::Ordering::Relaxed);
        match editor.readline(prompt) {
            Ok(line) => {
                buffer.push_str(&line);
                buffer.push('\n');
                if !is_complete(&buffer) {
                    continue;
                }
                let input = std::mem::take(&mut buffer);
                let _ = editor.add_history_entry(input.trim());
                let replay = input.trim().strip_prefix(":replay");
                if let Some(arg) = replay.filter(|a| a.is_empty() || a.starts_with(' ')) {
                    replay_interactively(&mut repl, &mut editor, arg, &mut out)?;
                    continue;
                }
                if !repl.handle(&input, &mut out)? {
                    break;
                }
                // A write may have brought new labels, keys and names to complete.
                if let Some(h) = editor.helper_mut()
                    && h.tx != repl.kb().tx().0
                {
                    h.refresh(repl.kb());
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

/// A script read from a pipe: its statements, and its `:` commands (a line of its own
/// between statements). Tables as in the shell, warnings to `warnings`; the first error
/// stops it, naming the statement's number and line in the script.
///
/// # Errors
/// The first statement that fails, or a `BEGIN` left open at the end.
pub fn run_piped<L: Log>(
    repl: &mut Repl<'_, L>,
    text: &str,
    name: &str,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
) -> Result<(), CliError> {
    let mut start = 0;
    let mut offset = 0;
    let mut count = 0;
    for line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        if text[start..line_start].trim().is_empty() && line.trim_start().starts_with(':') {
            if !repl.handle(line, out)? {
                return Ok(());
            }
            start = offset;
        } else if is_complete(&text[start..offset]) {
            repl.run_chunk(text, start..offset, name, &mut count, out, warnings)?;
            start = offset;
        }
    }
    if !text[start..].trim().is_empty() {
        repl.run_chunk(text, start..text.len(), name, &mut count, out, warnings)?;
    }
    if repl.session.in_group() {
        return Err(CliError::Query(format!(
            "{name}: BEGIN without COMMIT at the end; the queued statements were not written"
        )));
    }
    Ok(())
}

/// `:replay` in a terminal: one transaction at a time, Enter for the next, q to stop.
fn replay_interactively<L: Log>(
    repl: &mut Repl<'_, L>,
    editor: &mut Editor<ShellHelper, DefaultHistory>,
    arg: &str,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (from, to) = match repl.replay_range(arg.trim().trim_end_matches(';')) {
        Ok(r) => r,
        Err(e) => {
            writeln!(out, "{e}")?;
            return Ok(());
        }
    };
    for tx in from..=to {
        repl.replay_step(tx, out)?;
        if tx < to {
            out.flush()?;
            match editor.readline("[Enter: next transaction, q: stop] ") {
                Ok(answer) if answer.trim().eq_ignore_ascii_case("q") => break,
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
