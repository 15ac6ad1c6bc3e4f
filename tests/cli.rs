//! The `diplograph` binary, run as a user would: fresh default knowledge base, log, stats,
//! lossless JSON Lines round trips, and one-line errors with a non-zero exit.

use std::path::Path;
use std::process::{Command, Output};

/// A small log (Banten's two Letters of Intent) to test import and its refusals on.
const SMALL: &str = include_str!("data/small.jsonl");

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_diplograph"))
        .args(args)
        .env("DIPLOGRAPH_DB", dir.join("default.redb"))
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_first_run_creates_the_default_knowledge_base_from_the_bundled_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), &["stats"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("created the default knowledge base"),
        "{}",
        stderr(&first)
    );
    assert!(stdout(&first).contains(":Agreement"), "{}", stdout(&first));
    assert!(stdout(&first).contains(":PARTY_TO"), "{}", stdout(&first));
    let second = run(dir.path(), &["stats"]);
    assert!(
        !stderr(&second).contains("created"),
        "only the first run creates it"
    );
    assert_eq!(stdout(&first), stdout(&second));
    // A past state has fewer facts.
    let past = run(dir.path(), &["stats", "--at-tx", "1"]);
    assert!(
        stdout(&past).starts_with("at tx 1 of 30"),
        "{}",
        stdout(&past)
    );
    assert!(!stdout(&past).contains(":Agreement"));
    assert!(
        stdout(&past).contains(":Source"),
        "tx 1 is the bibliography"
    );
    let log = run(dir.path(), &["log"]);
    assert_eq!(stdout(&log).lines().count(), 31, "{}", stdout(&log));
    assert!(stdout(&log).contains("RETRACT TX 22"), "{}", stdout(&log));
}

#[test]
fn export_import_export_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let exported = run(dir.path(), &["export-events"]);
    assert!(exported.status.success());
    assert!(
        stdout(&exported).lines().count() > 300,
        "the whole bundled dataset"
    );
    let file = dir.path().join("events.jsonl");
    std::fs::write(&file, &exported.stdout).unwrap();
    let copy = dir.path().join("copy.redb");
    let copy = copy.to_str().unwrap();
    let imported = run(
        dir.path(),
        &["--db", copy, "import-events", file.to_str().unwrap()],
    );
    assert!(imported.status.success(), "{}", stderr(&imported));
    let out = dir.path().join("again.jsonl");
    let again = run(
        dir.path(),
        &["--db", copy, "export-events", "-o", out.to_str().unwrap()],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(std::fs::read(&out).unwrap(), exported.stdout);
    // The golden log, with every kind of event and value, round-trips too.
    let golden = Path::new("tests/golden/v1.jsonl");
    let db2 = dir.path().join("golden.redb");
    let db2 = db2.to_str().unwrap();
    let imported = run(
        dir.path(),
        &["--db", db2, "import-events", golden.to_str().unwrap()],
    );
    assert!(imported.status.success(), "{}", stderr(&imported));
    let again = run(dir.path(), &["--db", db2, "export-events"]);
    assert_eq!(again.stdout, std::fs::read(golden).unwrap());
}

#[test]
fn errors_are_one_line_with_a_non_zero_exit_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("notes.txt");
    std::fs::write(&foreign, "not a database at all, just notes\n".repeat(100)).unwrap();
    let o = run(dir.path(), &["--db", foreign.to_str().unwrap(), "stats"]);
    assert!(!o.status.success());
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a diplograph knowledge base"),
        "{}",
        stderr(&o)
    );

    // A broken line in the middle: refused with its line number; nothing lands.
    let mut lines: Vec<&str> = SMALL.lines().collect();
    lines[20] = "{\"tx\":3,\"event\":{\"node_added\":{\"id\":\"x\"";
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let target = dir.path().join("t.redb");
    let target = target.to_str().unwrap();
    let o = run(
        dir.path(),
        &["--db", target, "import-events", bad.to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("bad.jsonl:21:"), "{}", stderr(&o));
    let stats = run(dir.path(), &["--db", target, "stats"]);
    assert!(
        stdout(&stats).starts_with("at tx 0 of 0"),
        "{}",
        stdout(&stats)
    );

    // An event refused by validation (a citation of an unknown source) names the event.
    let mut lines: Vec<String> = SMALL.lines().map(String::from).collect();
    lines[6] = lines[6].replace("syuryansyah2024", "nobody1999");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let o = run(
        dir.path(),
        &["--db", target, "import-events", bad.to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no Source node has key `nobody1999`"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("tx 2, event 1"), "{}", stderr(&o));

    // Importing into a knowledge base that has data is refused.
    let o = run(dir.path(), &["import-events", bad.to_str().unwrap()]);
    assert!(
        stderr(&o).contains("already holds 30 transactions"),
        "{}",
        stderr(&o)
    );
    let missing = run(
        dir.path(),
        &["--db", target, "import-events", "/nonexistent/x.jsonl"],
    );
    assert!(
        stderr(&missing).contains("/nonexistent/x.jsonl"),
        "{}",
        stderr(&missing)
    );
}

/// Regression: an import accepted a transaction recorded before the one preceding it.
#[test]
fn an_import_whose_transaction_time_goes_back_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = SMALL.replace("2026-11-28T10:00:03Z", "2020-01-01T00:00:00Z");
    let bad = dir.path().join("back.jsonl");
    std::fs::write(&bad, text).unwrap();
    let target = dir.path().join("t.redb");
    let o = run(
        dir.path(),
        &[
            "--db",
            target.to_str().unwrap(),
            "import-events",
            bad.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("transaction time never goes back"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn export_writes_the_view_or_a_querys_subgraph_in_each_format() {
    let dir = tempfile::tempdir().unwrap();
    // The whole default knowledge base as GraphML, to a file.
    let file = dir.path().join("kb.graphml");
    let o = run(
        dir.path(),
        &[
            "export",
            "--format",
            "graphml",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("<?xml"),
        "{}",
        &text[..100.min(text.len())]
    );
    assert_eq!(
        text.matches("<node ").count(),
        140,
        "every node of the bundled dataset"
    );
    // A query's subgraph as DOT: Banten, its four agreements and their parties.
    let o = run(
        dir.path(),
        &[
            "export",
            "-f",
            "dot",
            "-q",
            "MATCH p = (:Actor {name: \"Banten\"})-[:PARTY_TO]->(:Agreement)<-[:PARTY_TO]-() RETURN p",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let dot = stdout(&o);
    assert!(dot.contains("digraph diplograph {"), "{dot}");
    assert!(
        dot.contains("\"banten-incheon\" [label=\"LoI Banten–Incheon\""),
        "{dot}"
    );
    assert!(
        !dot.contains("yogyakarta"),
        "only what the query returned: {dot}"
    );
    // A past state, and errors that say what is wrong.
    let o = run(dir.path(), &["export", "-f", "json", "--at-tx", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(json["nodes"].as_array().unwrap().len() < 140);
    let o = run(dir.path(), &["export", "-f", "svg"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("gexf"), "{}", stderr(&o));
    let o = run(dir.path(), &["export", "-f", "gexf", "--at-tx", "99"]);
    assert!(stderr(&o).contains("has 30 transactions"), "{}", stderr(&o));
    let o = run(
        dir.path(),
        &["export", "-f", "gexf", "-q", "CREATE (:X) SOURCE \"k\""],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot run as a read"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn import_loads_neo4j_style_csv_files_in_one_transaction_or_names_the_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("actors.csv"),
        "id:ID(Actor),name,kind\nA1,Banten,province\nA2,Incheon,city\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("agreements.csv"),
        "id:ID(Agreement),title,signed:date\nG1,LoI Banten–Incheon,2007-02-06\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("party_to.csv"),
        ":START_ID(Actor),:END_ID(Agreement),valid_from:date\nA1,G1,2007-02-06\nA2,G1,2007-02-06\n",
    )
    .unwrap();
    let db = dir.path().join("kb.redb");
    let file = |name: &str| dir.path().join(name).display().to_string();
    let import = |extra: &[String]| {
        let mut args: Vec<String> = vec!["--db".into(), db.display().to_string(), "import".into()];
        args.extend(extra.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(dir.path(), &args)
    };
    let o = import(&[
        "--nodes".into(),
        format!("Actor={}", file("actors.csv")),
        "--nodes".into(),
        format!("Agreement={}", file("agreements.csv")),
        "--relationships".into(),
        format!("PARTY_TO={}", file("party_to.csv")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("committed tx 1 (5 events): 3 nodes, 2 relationships"),
        "{}",
        stdout(&o)
    );
    let o = run(
        dir.path(),
        &[
            "--db",
            db.to_str().unwrap(),
            "query",
            "AS OF 2006 MATCH (:Actor {name: \"Banten\"})-[r:PARTY_TO]->() RETURN count(r)",
        ],
    );
    assert!(
        stdout(&o).contains(" 0\n"),
        "not yet in 2006: {}",
        stdout(&o)
    );
    // A relationship to an unknown id: nothing of the second import is written.
    std::fs::write(
        dir.path().join("more.csv"),
        "id:ID(Actor),name\nA3,Zhejiang\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.csv"),
        ":START_ID(Actor),:END_ID(Actor)\nA3,A3\nA3,A9\n",
    )
    .unwrap();
    let o = import(&[
        "--nodes".into(),
        format!("Actor={}", file("more.csv")),
        "--relationships".into(),
        format!("KNOWS={}", file("bad.csv")),
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("bad.csv:3"), "{e}");
    assert!(e.contains("A9"), "{e}");
    let o = run(dir.path(), &["--db", db.to_str().unwrap(), "log"]);
    assert_eq!(
        stdout(&o)
            .lines()
            .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
            .count(),
        1,
        "{}",
        stdout(&o)
    );
}
