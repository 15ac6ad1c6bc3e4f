//! The interactive shell driven through a real pseudo-terminal (rexpect), as a user at a
//! terminal would use it: multi-line statements and the continuation prompt; Tab completion of
//! labels, keywords, property keys and relationship types (with colours and with `NO_COLOR`);
//! Ctrl-C dropping the statement being typed; Ctrl-C cancelling a running statement, with the
//! session going on; Ctrl-D at an empty prompt leaving with status 0 and the history saved;
//! and the `:help` and `:stats` commands.
//!
//! Each test gets a fresh default knowledge base (`XDG_DATA_HOME` is a temporary directory)
//! and `TERM=xterm` (rustyline treats `dumb` as unsupported: no raw mode, no completion).
//! ANSI escape codes are stripped from what the shell prints. Every wait is for output the
//! shell must print before the next keystroke matters, bounded by the session timeout, so a
//! loaded machine makes the tests slower, not flaky. Needles are ASCII: rexpect hands back
//! each byte as a char, so the `·` of `1 row · 0.1 ms` does not come back as itself.
//!
//! What is typed is checked by what it answers rather than by its echo: the shell redraws
//! the line as it is typed and shows hints after the cursor (`MATCH (a:Act` is displayed
//! `MATCH (a:Actor` before Tab is pressed), so only the answer proves what went in.

use std::process::Command;
use std::time::{Duration, Instant};

use rexpect::process::WaitStatus;
use rexpect::reader::Regex;
use rexpect::session::{Options, PtySession, spawn_with_options};

/// How long any one wait for output may take.
const TIMEOUT_MS: u64 = 20_000;

/// A fresh prompt: at the start of a new line, not a redraw of the line being typed.
const PROMPT: &str = r"\n\r*diplograph> ";
/// A fresh continuation prompt.
const CONTINUATION: &str = r"\n\r*       \.\.\.> ";

/// A statement that runs far longer than a test may: every path of up to 13 relationships
/// in the bundled dataset, looking for an end node that is not there. It runs into the
/// shell's 60-second budget (10 hops take seconds already, each hop about 3 times longer).
/// (`UNWIND range(1, 200000000) ...` will not do: `range()` refuses more than 10,000,000
/// values, and a table may not pass 1,000,000 rows.)
const LONG: &str = "MATCH (a)-[*1..13]-(b {name: \"nobody\"}) RETURN count(*);";

/// A shell on a fresh default knowledge base, at its first prompt.
struct Shell {
    // Dropped first, so the process goes before its data directory.
    s: PtySession,
    dir: tempfile::TempDir,
}

impl Shell {
    /// A shell as a user gets it: a colour terminal.
    fn start() -> Shell {
        Shell::start_with(&[])
    }

    /// A shell with more environment variables.
    fn start_with(env: &[(&str, &str)]) -> Shell {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_diplograph"));
        cmd.env("XDG_DATA_HOME", dir.path())
            .env("TERM", "xterm")
            .env_remove("DIPLOGRAPH_DB")
            .env_remove("NO_COLOR");
        cmd.envs(env.iter().copied());
        let options = Options::new()
            .timeout_ms(Some(TIMEOUT_MS))
            .strip_ansi_escape_codes(true);
        let s = spawn_with_options(cmd, options).expect("the shell starts in a pty");
        let mut shell = Shell { s, dir };
        shell.expect("created the default knowledge base");
        shell.prompt();
        shell
    }

    /// Waits for `needle`; returns what came before it.
    fn expect(&mut self, needle: &str) -> String {
        match self.s.exp_string(needle) {
            Ok(before) => before,
            Err(e) => panic!("waiting for {needle:?}: {e}"),
        }
    }

    /// Waits for a match of `regex`; returns what came before it.
    fn expect_regex(&mut self, regex: &str) -> String {
        match self.s.exp_regex(regex) {
            Ok((before, _)) => before,
            Err(e) => panic!("waiting for /{regex}/: {e}"),
        }
    }

    /// Waits for a fresh prompt.
    fn prompt(&mut self) -> String {
        self.expect_regex(PROMPT)
    }

    /// Waits for a fresh continuation prompt.
    fn continuation(&mut self) -> String {
        self.expect_regex(CONTINUATION)
    }

    /// Types `text` without Enter.
    fn type_(&mut self, text: &str) {
        self.s.send(text).unwrap();
        self.s.flush().unwrap();
    }

    /// Types `line` and Enter.
    fn line(&mut self, line: &str) {
        self.s.send_line(line).unwrap();
    }

    fn control(&mut self, c: char) {
        self.s.send_control(c).unwrap();
    }

    /// Types the end of a statement and Enter, waits for the next prompt and checks that
    /// what came before it matches `answer` (a regex); returns that output.
    fn ask(&mut self, statement: &str, answer: &str) -> String {
        self.line(statement);
        let output = self.prompt();
        assert!(
            Regex::new(answer).unwrap().is_match(&output),
            "{statement:?} should answer /{answer}/, not {output:?}"
        );
        output
    }

    /// Presses Ctrl-D at the (empty) prompt: the shell must end, with status 0. Returns its
    /// data directory, to read what it left there.
    fn quit(self) -> tempfile::TempDir {
        let Shell { mut s, dir } = self;
        s.send_control('d').unwrap();
        if let Err(e) = s.exp_eof() {
            panic!("Ctrl-D ends the shell: {e}");
        }
        match s.process().wait() {
            Ok(WaitStatus::Exited(_, 0)) => {}
            other => panic!("the shell exits with status 0, not {other:?}"),
        }
        dir
    }
}

#[test]
fn a_statement_may_span_lines_with_a_continuation_prompt() {
    let mut sh = Shell::start();
    sh.line(r#"MATCH (a:Actor {name: "Banten"})"#);
    sh.continuation();
    let answer = sh.ask("RETURN a.kind;", r"a\.kind\s+province\s+1 row");
    assert!(!answer.contains("error"), "{answer:?}");
    // Three lines, the `;` alone on the last.
    sh.line("MATCH (a:Actor)");
    sh.continuation();
    sh.line("RETURN count(a) AS actors");
    sh.continuation();
    sh.ask(";", r"actors\s+42\s+1 row");
    // A `;` inside a string does not end the statement.
    sh.line(r#"RETURN "a;b" + "#);
    sh.continuation();
    sh.ask(r#""c" AS s;"#, r"a;bc\s+1 row");
    sh.quit();
}

/// Completes a label, a keyword, a property key and a relationship type; each answer proves
/// the completed word went into the statement (`Act`, `PARTY_T` and `kin` would warn and
/// answer nothing; `MAT` would not parse).
fn tab_completes(sh: &mut Shell) {
    sh.type_("MATCH (a:Act");
    sh.type_("\t");
    sh.ask(") RETURN count(a);", r"count\(a\)\s+42\s+1 row");
    sh.type_("MAT");
    sh.type_("\t");
    sh.type_(r#" (a:Actor {name: "Banten"}) RETURN a.kin"#);
    sh.type_("\t");
    sh.ask(";", r"a\.kind\s+province\s+1 row");
    sh.type_("MATCH ()-[r:PARTY_T");
    sh.type_("\t");
    let answer = sh.ask("]->() RETURN count(r);", r"count\(r\)\s+22\s+1 row");
    assert!(!answer.contains("warning"), "{answer:?}");
    // A node's name inside a string, closed with its quote.
    sh.type_(r#"MATCH (a {name: "Bant"#);
    sh.type_("\t");
    sh.ask("}) RETURN a.kind;", r"a\.kind\s+province\s+1 row");
    // A command at the start of a line.
    sh.type_(":sch");
    sh.type_("\t");
    sh.ask("", r"\(:Actor\)-\[:PARTY_TO\]->\(:Agreement\)");
}

#[test]
fn names_written_in_the_session_complete_at_once() {
    let mut sh = Shell::start();
    // (Lines shorter than the terminal: a wrapped line redraws the prompt after a newline.)
    sh.ask(
        r#"CREATE (:Actor {name: "Pandeglang"}) SOURCE "syuryansyah2024";"#,
        r"committed tx 31",
    );
    sh.type_(r#"MATCH (a {name: "Pandeg"#);
    sh.type_("\t");
    sh.ask("}) RETURN a.name;", r"Pandeglang\s+1 row");
    sh.quit();
}

#[test]
fn tab_completes_labels_keywords_property_keys_and_relationship_types() {
    let mut sh = Shell::start();
    tab_completes(&mut sh);
    sh.quit();
}

#[test]
fn tab_completes_without_colour_too() {
    let mut sh = Shell::start_with(&[("NO_COLOR", "1")]);
    tab_completes(&mut sh);
    sh.quit();
}

#[test]
fn ctrl_c_while_typing_drops_the_statement_and_the_session_goes_on() {
    let mut sh = Shell::start();
    // On the first line (had it stayed, the next line would make a syntax error).
    sh.type_("MATCH (a:Actor {name:");
    sh.control('c');
    sh.prompt();
    let answer = sh.ask("RETURN 6 * 7 AS answer;", r"answer\s+42\s+1 row");
    assert!(!answer.contains("error"), "{answer:?}");
    // On a continuation line: the lines typed before go too; the prompt is a fresh one.
    sh.line("MATCH (a:Actor)");
    sh.continuation();
    sh.type_("RETURN a.na");
    sh.control('c');
    sh.prompt();
    let answer = sh.ask("RETURN 1 + 1 AS two;", r"two\s+2\s+1 row");
    assert!(!answer.contains("error"), "{answer:?}");
    sh.quit();
}

#[test]
fn ctrl_c_cancels_a_running_statement_and_the_session_goes_on() {
    let mut sh = Shell::start();
    sh.line(LONG);
    // The statement is accepted (its line is ended) and running.
    sh.expect("RETURN count(*);");
    sh.expect("\n");
    let sent = Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    sh.control('c');
    let before = sh.expect("the query was cancelled");
    let took = sent.elapsed();
    assert!(!before.contains("row"), "it did not finish: {before:?}");
    assert!(
        took < Duration::from_secs(15),
        "cancelled, not run to its 60-second budget: {took:?}"
    );
    sh.prompt();
    // The session goes on, and the next statements are not cancelled by the old Ctrl-C.
    sh.ask(
        r#"MATCH (a:Actor {name: "Banten"}) RETURN a.kind;"#,
        r"a\.kind\s+province\s+1 row",
    );
    sh.ask(
        r#"MATCH (a)-[*1..4]-(b {name: "nobody"}) RETURN count(*);"#,
        r"count\(\*\)\s+0\s+1 row",
    );
    sh.quit();
}

#[test]
fn ctrl_d_at_an_empty_prompt_exits_with_status_0_and_keeps_the_history() {
    let mut sh = Shell::start();
    sh.ask("RETURN 6 * 7 AS answer;", r"answer\s+42\s+1 row");
    let dir = sh.quit();
    let history = dir.path().join("diplograph").join("history");
    let text = std::fs::read_to_string(&history)
        .unwrap_or_else(|e| panic!("the history at {}: {e}", history.display()));
    assert!(text.contains("RETURN 6 * 7 AS answer;"), "{text:?}");
}

#[test]
fn help_and_stats_commands() {
    let mut sh = Shell::start();
    sh.line(":help");
    let help = sh.prompt();
    assert!(help.contains("Statements end with `;`"), "{help:?}");
    assert!(help.contains("Commands:"), "{help:?}");
    assert!(help.contains(":stats"), "{help:?}");
    assert!(help.contains(":quit"), "{help:?}");
    sh.line(":stats");
    sh.expect("at tx 30 of 30");
    sh.expect("140 nodes");
    sh.expect_regex(r":Actor\s+42\s");
    sh.expect("159 edges");
    sh.expect_regex(r":PARTY_TO\s+22\s");
    sh.prompt();
    sh.line(":nonsense");
    sh.expect("unknown command `:nonsense`");
    sh.prompt();
    sh.quit();
}
