//! Data-driven tests of the language: each `tests/lang/*.test` file holds queries and their
//! expected output side by side, run in order against `tests/lang/fixture.dgq` (a small,
//! cited knowledge base from the Banten paper) loaded into an in-memory log.
//!
//! A block is a line `query`, the statement(s), a line `----`, then the expected output up
//! to the next `query` line or the end of the file. The output is what `diplograph query`
//! prints as a table (without the elapsed time), warnings first; an error prints as
//! `error: ` and the rendered message with its caret.
//!
//! To accept new output after a deliberate change: `UPDATE_EXPECT=1 cargo test --test lang`,
//! then review the diff.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use diplograph::Database;
use diplograph::log::MemoryLog;
use diplograph::query::format::{Format, render};
use diplograph::query::{Session, parser};

const FIXTURE: &str = include_str!("lang/fixture.dgq");

fn fixture_db() -> Database<MemoryLog> {
    let mut db = Database::open(MemoryLog::new()).expect("an empty in-memory log opens");
    let mut session = Session::new();
    let script = parser::parse_script(FIXTURE)
        .unwrap_or_else(|e| panic!("{}", e.render("fixture.dgq", FIXTURE, false)));
    for (i, s) in script.statements.iter().enumerate() {
        if let Err(e) = session.execute(&mut db, FIXTURE, s) {
            panic!(
                "fixture statement {}: {}",
                i + 1,
                e.render("fixture.dgq", FIXTURE, false)
            );
        }
    }
    db
}

struct Block {
    query: String,
    expected: String,
}

fn parse_blocks(text: &str) -> (String, Vec<Block>) {
    let mut preamble = String::new();
    let mut blocks: Vec<Block> = Vec::new();
    let mut state = 0; // 0: preamble, 1: query, 2: expected
    for line in text.lines() {
        if line == "query" {
            blocks.push(Block {
                query: String::new(),
                expected: String::new(),
            });
            state = 1;
            continue;
        }
        match state {
            0 => {
                preamble.push_str(line);
                preamble.push('\n');
            }
            1 if line == "----" => state = 2,
            1 => {
                let b = blocks.last_mut().expect("a block is open");
                b.query.push_str(line);
                b.query.push('\n');
            }
            _ => {
                let b = blocks.last_mut().expect("a block is open");
                b.expected.push_str(line);
                b.expected.push('\n');
            }
        }
    }
    for b in &mut blocks {
        b.expected = b.expected.trim_end().to_owned();
    }
    (preamble, blocks)
}

fn actual(db: &mut Database<MemoryLog>, session: &mut Session, query: &str) -> String {
    let mut out = String::new();
    let statements = match parser::parse_script(query) {
        Ok(s) => s.statements,
        Err(e) => {
            out = e.render("query", query, false);
            Vec::new()
        }
    };
    for s in &statements {
        match session.execute(db, query, s) {
            Ok(outcome) => {
                for w in &outcome.warnings {
                    let _ = write!(out, "{}", w.render("query", query, false));
                }
                out.push_str(&render(&outcome, Format::Table, None));
            }
            Err(e) => {
                let _ = write!(out, "{}", e.render("query", query, false));
                break;
            }
        }
    }
    // Trailing spaces are invisible in a test file; don't let them decide. Transaction times
    // are when this test ran: masked, keeping their width.
    out.lines()
        .map(|l| mask_times(l.trim_end()))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_owned()
}

/// Replaces each `YYYY-MM-DDTHH:MM:SSZ` by that literal pattern.
fn mask_times(line: &str) -> String {
    const MASK: &str = "YYYY-MM-DDTHH:MM:SSZ";
    let shape = |w: &[u8]| {
        w.iter().zip(MASK.bytes()).all(|(&c, m)| match m {
            b'-' | b':' | b'T' | b'Z' => c == m,
            _ => c.is_ascii_digit(),
        })
    };
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes.len() - i >= MASK.len() && shape(&bytes[i..i + MASK.len()]) {
            out.push_str(MASK);
            i += MASK.len();
        } else {
            let ch = line[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn bundled_db() -> Database<MemoryLog> {
    let mut db = Database::open(MemoryLog::new()).expect("an empty in-memory log opens");
    diplograph::cli::load_bundled(&mut db).unwrap_or_else(|e| panic!("the bundled dataset: {e}"));
    db
}

fn run_file(path: &Path, db: fn() -> Database<MemoryLog>) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (preamble, blocks) = parse_blocks(&text);
    let mut db = db();
    let mut session = Session::new();
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut rewritten = preamble;
    let mut failures = String::new();
    for b in &blocks {
        let got = actual(&mut db, &mut session, &b.query);
        if got != b.expected {
            let _ = writeln!(
                failures,
                "--- {} ---\nquery:\n{}expected:\n{}\n\ngot:\n{}\n",
                path.display(),
                b.query,
                b.expected,
                got
            );
        }
        let _ = write!(rewritten, "query\n{}----\n{}\n\n", b.query, got);
    }
    if update {
        std::fs::write(path, rewritten.trim_end().to_owned() + "\n").map_err(|e| e.to_string())?;
        return Ok(blocks.len());
    }
    if failures.is_empty() {
        Ok(blocks.len())
    } else {
        Err(failures)
    }
}

#[test]
fn every_test_file_gives_its_expected_output() {
    run_dir("tests/lang", fixture_db);
}

/// The paper's questions, asked of the bundled dataset (`tests/dataset/*.test`).
#[test]
fn the_bundled_dataset_answers_the_papers_questions() {
    run_dir("tests/dataset", bundled_db);
}

fn run_dir(dir: &str, db: fn() -> Database<MemoryLog>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/lang exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .test files in {}", dir.display());
    let mut failures = String::new();
    let mut total = 0;
    for f in &files {
        match run_file(f, db) {
            Ok(n) => total += n,
            Err(e) => failures.push_str(&e),
        }
    }
    assert!(failures.is_empty(), "{failures}");
    assert!(total > 0);
    eprintln!("{total} queries in {} files", files.len());
}

#[test]
fn the_fixture_loads_with_every_fact_cited() {
    let db = fixture_db();
    let view = db.view();
    for n in view.nodes() {
        if !n.labels().contains(&"Source") {
            assert!(!n.sources().is_empty(), "node {} cites nothing", n.id());
        }
    }
    for e in view.edges() {
        assert!(!e.sources().is_empty(), "edge {} cites nothing", e.id());
    }
}

#[test]
fn the_bundled_dataset_cites_a_source_for_every_fact_and_its_53_references() {
    let db = bundled_db();
    let view = db.view();
    let mut sources = 0;
    for n in view.nodes() {
        if n.labels().contains(&"Source") {
            sources += 1;
            assert!(n.property("key").is_some(), "source {} has no key", n.id());
        } else {
            assert!(!n.sources().is_empty(), "node {} cites nothing", n.id());
        }
    }
    for e in view.edges() {
        assert!(!e.sources().is_empty(), "edge {} cites nothing", e.id());
    }
    assert_eq!(sources, 54, "the paper and its 53 references");
    // The history has a correction in it: a retraction, so AT TX questions have answers.
    let retractions = (1..=db.tx().0)
        .filter(|&t| {
            db.graph().headers()[(t - 1) as usize]
                .meta
                .message
                .as_deref()
                .is_some_and(|m| m.contains("RETRACT TX"))
        })
        .count();
    assert!(retractions >= 1);
}
