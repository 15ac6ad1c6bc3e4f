//! The shell without a terminal: its `:` commands and what it draws, through the `Repl` API
//! and through standard input as a script (`diplograph < script`), on the bundled dataset.
//! The terminal itself (completion, multi-line editing, Ctrl-C) is in `tests/pty.rs`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use diplograph::Database;
use diplograph::log::MemoryLog;
use diplograph::query::Session;
use diplograph::repl::Repl;

fn bundled() -> Database<MemoryLog> {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    diplograph::cli::load_bundled(&mut db).unwrap();
    db
}

/// What the shell prints for each input, in order.
fn shell(db: &mut Database<MemoryLog>, inputs: &[&str]) -> Vec<String> {
    let mut repl = Repl::new(db, Session::new(), false);
    inputs
        .iter()
        .map(|input| {
            let mut out = Vec::new();
            assert!(
                repl.handle(input, &mut out).unwrap(),
                "{input} ended the shell"
            );
            String::from_utf8(out).unwrap()
        })
        .collect()
}

fn field<'a>(pin: &'a str, name: &str) -> &'a str {
    pin.lines()
        .find_map(|l| l.strip_prefix(name))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {name} in {pin}"))
}

#[test]
fn a_pinned_query_gives_the_same_rows_and_hash_after_later_writes() {
    let mut db = bundled();
    let query = "MATCH (b:Actor {name: \"Banten\"})-[:PARTY_TO]->(a:Agreement) \
                 RETURN a.title ORDER BY a.title;";
    let out = shell(&mut db, &[query, ":pin"]);
    let pin = &out[1];
    assert_eq!(field(pin, "tx"), "30", "{pin}");
    let pinned = field(pin, "query").to_owned();
    assert!(pinned.starts_with("AT TX 30 MATCH"), "{pinned}");
    let hash = field(pin, "sha256").to_owned();
    assert_eq!(hash.len(), 64);
    // Later, someone records a third agreement of Banten's.
    let write = "MATCH (b:Actor {name: \"Banten\"}) CREATE (b)-[:PARTY_TO]->(:Agreement \
                 {id: \"banten-new\", title: \"A new one\"}) SOURCE \"syuryansyah2024\";";
    let out = shell(
        &mut db,
        &[write, query, ":pin", &format!("{pinned};"), ":pin"],
    );
    assert!(out[1].contains("A new one"), "{}", out[1]);
    assert_ne!(field(&out[2], "sha256"), hash, "the latest result differs");
    assert!(!out[3].contains("A new one"), "{}", out[3]);
    assert_eq!(
        field(&out[4], "sha256"),
        hash,
        "the pinned query reproduces the hash"
    );
    assert_eq!(field(&out[4], "query"), pinned);
}

#[test]
fn json_output_carries_the_pin() {
    let mut db = bundled();
    let out = shell(
        &mut db,
        &[
            ":format json",
            "MATCH (a:Actor {name: \"Banten\"}) RETURN a.kind;",
            ":pin",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(out[1].trim()).unwrap();
    assert_eq!(json["pin"]["tx"], 30);
    assert_eq!(
        json["pin"]["sha256"].as_str(),
        Some(field(&out[2], "sha256"))
    );
    assert_eq!(
        json["pin"]["query"],
        "AT TX 30 MATCH (a:Actor {name: \"Banten\"}) RETURN a.kind"
    );
}

#[test]
fn a_timeline_draws_a_chart_under_its_table() {
    let mut db = bundled();
    let out = shell(
        &mut db,
        &["TIMELINE 2006 .. 2022 STEP 4 YEARS BY p \
           MATCH (x:Actor)-[:PARTY_TO]->(a:Agreement) \
           WHERE x.name IN [\"Banten\", \"Yogyakarta\"] AND valid_from(a) IS NOT NULL \
           RETURN x.name AS p, count(a) AS n;"],
    );
    let text = &out[0];
    let lines: Vec<&str> = text.lines().collect();
    // Banten: none dated before 2007, Incheon from 2007, Zhejiang from 2021.
    // Columns in the order their values first appear; a count with no row is 0.
    assert_eq!(lines[0], " point  Yogyakarta  Banten", "{text}");
    assert!(lines.contains(&" 2006   1           0"), "{text}");
    assert!(lines.contains(&" 2022   1           2"), "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(" Banten      ▁▅▅▅█  0 → 2")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(" Yogyakarta  ▅▅▅▅▅  1 → 1")),
        "{text}"
    );
    assert!(lines.contains(&"             2006 … 2022"), "{text}");
    // A query that is not a series draws nothing.
    let out = shell(
        &mut db,
        &["MATCH (a:Agreement) RETURN a.title, 1 AS one LIMIT 3;"],
    );
    assert!(!out[0].contains('▁') && !out[0].contains('█'), "{}", out[0]);
}

#[test]
fn schema_lists_labels_with_their_keys_and_relationship_patterns() {
    let mut db = bundled();
    let out = shell(&mut db, &[":schema"]);
    let text = &out[0];
    assert!(text.starts_with("at tx 30\nnode labels:\n"), "{text}");
    let agreement = text
        .lines()
        .find(|l| l.trim_start().starts_with("(:Agreement)"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        agreement.contains("stage") && agreement.contains("title"),
        "{agreement}"
    );
    assert!(
        text.contains("(:Actor)-[:PARTY_TO]->(:Agreement)"),
        "{text}"
    );
    assert!(text.contains("(:Agreement)-[:COVERS]->(:Sector)"), "{text}");
}

#[test]
fn replay_shows_what_each_transaction_changed() {
    let mut db = bundled();
    let out = shell(&mut db, &[":replay 29 30", ":replay 5 2", ":replay x"]);
    let text = &out[0];
    let steps: Vec<&str> = text.lines().filter(|l| l.starts_with("── tx ")).collect();
    assert_eq!(steps.len(), 2, "{text}");
    assert!(steps[0].starts_with("── tx 29 of 30 · "), "{}", steps[0]);
    assert!(steps[0].contains("RETRACT TX 22"), "{}", steps[0]);
    assert!(steps[0].ends_with("· 1 event"), "{}", steps[0]);
    assert!(text.contains("retracted (added)  jibb-2018"), "{text}");
    assert!(text.contains(" 30  added"), "{text}");
    assert!(out[1].contains("give 1 <= from <= to <= 30"), "{}", out[1]);
    assert!(
        out[2].contains("`x` is not a transaction number"),
        "{}",
        out[2]
    );
}

#[test]
fn help_has_topics_and_names_them_when_asked_for_an_unknown_one() {
    let mut db = bundled();
    let out = shell(
        &mut db,
        &[":help", ":help timeline", ":help functions", ":help nope"],
    );
    assert!(out[0].contains(":replay [from] [to]"), "{}", out[0]);
    assert!(out[1].starts_with("TIMELINE <from> .. <to>"), "{}", out[1]);
    assert!(
        out[2].contains("valid_from") && out[2].contains("count"),
        "{}",
        out[2]
    );
    assert!(
        out[3].contains("no help topic `nope`; topics: time, writes"),
        "{}",
        out[3]
    );
}

/// The binary with piped standard input, on its own data directory.
fn piped(script: &str) -> (bool, String, String) {
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_diplograph"))
        .env("XDG_DATA_HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn piped_input_runs_statements_and_commands_without_prompt_or_colour() {
    let script = ":timing off\n\
                  MATCH (a:Actor {name: \"Banten\"})\n  RETURN a.kind;\n\
                  :format csv\n\
                  MATCH (a:Agreement {id: \"banten-incheon\"}) RETURN a.stage;\n";
    let (ok, out, err) = piped(script);
    assert!(ok, "{err}");
    assert!(!out.contains("diplograph>"), "{out}");
    assert!(!out.contains('\x1b'), "{out}");
    assert!(out.contains(" a.kind\n province\n1 row · tx 30\n"), "{out}");
    assert!(out.ends_with("a.stage\nLoI\n"), "{out}");
}

#[test]
fn a_failing_statement_in_piped_input_stops_it_naming_the_line() {
    let script =
        "RETURN 1;\n:timing off\nRETURN 2;\nMATCH (a:Actor)\nRETURN a.name +;\nRETURN 3;\n";
    let (ok, out, err) = piped(script);
    assert!(!ok);
    assert!(out.contains(" 2\n"), "{out}");
    assert!(!out.contains(" 3\n"), "{out}");
    assert!(err.contains("line 5, column 16"), "{err}");
}
