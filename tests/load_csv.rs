//! `LOAD CSV` as a researcher uses it: a spreadsheet's rows merged into the graph in one
//! transaction, with and without headers, other separators, empty fields; errors that name
//! the file, line and column and leave nothing behind; and the real twin-cities list
//! (`../shared/data/external/`, skipped with a message when absent) through the documented
//! script in `fixtures/external/twin-cities.dgq`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use diplograph::Database;
use diplograph::graph::snapshot::Snapshot;
use diplograph::log::MemoryLog;
use diplograph::query::load_csv::ProgressFn;
use diplograph::query::{Outcome, QueryError, Session, Val, parser};

fn db() -> Database<MemoryLog> {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    run(
        &mut db,
        &mut Session::new(),
        "CREATE (:Source {key: \"k\"})",
    )
    .unwrap();
    db
}

fn run(db: &mut Database<MemoryLog>, s: &mut Session, q: &str) -> Result<Outcome, QueryError> {
    let script = parser::parse_script(q)?;
    let mut last = None;
    for st in &script.statements {
        last = Some(s.execute(db, q, st)?);
    }
    Ok(last.expect("a statement"))
}

fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn with_file(path: &Path) -> Session {
    let mut s = Session::new();
    s.params
        .insert("file".into(), Val::str(&path.display().to_string()));
    s
}

fn cells(out: &Outcome) -> Vec<Vec<String>> {
    out.output
        .rows
        .iter()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect()
}

const PAIRS: &str = "city1,country1,city2,country2,since
Bandung,Indonesia,Suwon,South Korea,1997
Namur,Belgium,Bandung,Indonesia,
Suwon,South Korea,Bandung,Indonesia,1997
Surabaya,Indonesia,Busan,South Korea,1994
";

const MERGE_PAIRS: &str = "LOAD CSV WITH HEADERS FROM $file AS row
MERGE (a:Place {name: row.city1, country: row.country1}) SOURCE \"k\"
MERGE (b:Place {name: row.city2, country: row.country2}) SOURCE \"k\"
MERGE (a)-[r:TWINNED_WITH]-(b) SOURCE \"k\"
SET r.since = row.since SOURCE \"k\"";

#[test]
fn rows_merge_into_places_and_pairs_in_one_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "pairs.csv", PAIRS);
    let mut db = db();
    let mut s = with_file(&path);
    let out = run(&mut db, &mut s, MERGE_PAIRS).unwrap();
    assert_eq!(out.written.len(), 1, "one statement, one transaction");
    assert_eq!(db.tx().0, 2);
    let q = "MATCH (b:Place {name: \"Bandung\"})-[r:TWINNED_WITH]-(p) \
             RETURN p.name, r.since ORDER BY p.name";
    let out = run(&mut db, &mut s, q).unwrap();
    // Bandung–Suwon is listed from both sides: one pair. Namur's row has no year: null.
    assert_eq!(cells(&out), [["Namur", "null"], ["Suwon", "1997"]]);
    let out = run(&mut db, &mut s, "MATCH (p:Place) RETURN count(p)").unwrap();
    assert_eq!(cells(&out), [["5"]]);
}

#[test]
fn without_headers_rows_are_lists_and_other_separators_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        dir.path(),
        "t.tsv",
        "Banten\tIncheon\t2007\nBanten\tZhejiang\t2021\n",
    );
    let mut db = db();
    let mut s = with_file(&path);
    let q = "LOAD CSV FROM $file AS row FIELDTERMINATOR \"\\t\"
             RETURN row[0] AS a, row[1] AS b, toInteger(row[2]) + 1 AS next ORDER BY b";
    let out = run(&mut db, &mut s, q).unwrap();
    assert_eq!(
        cells(&out),
        [
            ["Banten", "Incheon", "2008"],
            ["Banten", "Zhejiang", "2022"]
        ]
    );
    // Aggregates see every record.
    let q = "LOAD CSV FROM $file AS row FIELDTERMINATOR \"\\t\" RETURN row[0] AS a, count(*) AS n";
    assert_eq!(cells(&run(&mut db, &mut s, q).unwrap()), [["Banten", "2"]]);
    // `file://` URLs are files too.
    let mut s = Session::new();
    let url = format!("file://{}", path.display());
    s.params.insert("file".into(), Val::str(&url));
    let q = "LOAD CSV FROM $file AS row FIELDTERMINATOR \"\\t\" RETURN count(*)";
    assert_eq!(cells(&run(&mut db, &mut s, q).unwrap()), [["2"]]);
}

#[test]
fn a_bad_value_names_file_line_and_column_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        dir.path(),
        "dated.csv",
        "name,signed\nIncheon,2007-02-06\nZhejiang,2021-13-01\n",
    );
    let mut db = db();
    let before = Snapshot::of(&db.view());
    let mut s = with_file(&path);
    let q = "LOAD CSV WITH HEADERS FROM $file AS row
             CREATE (:Agreement {title: row.name}) VALID FROM row.signed SOURCE \"k\"";
    let e = run(&mut db, &mut s, q).unwrap_err();
    let shown = e.render("q", q, false);
    assert!(
        e.message
            .starts_with(&format!("{}, line 3, column `signed`: ", path.display())),
        "{shown}"
    );
    assert!(e.message.contains("2021-13-01"), "{shown}");
    assert_eq!(db.tx().0, 1);
    assert_eq!(
        Snapshot::of(&db.view()),
        before,
        "the first row was not kept either"
    );
}

#[test]
fn valid_time_and_sources_come_from_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        dir.path(),
        "stages.csv",
        "agreement,stage,valid_from,valid_to,source\n\
         g1,LoI,2007-02-06,2010,k\n\
         g2,MoU,1985,,k2\n\
         g3,Proposed,,,\n",
    );
    let mut db = db();
    run(
        &mut db,
        &mut Session::new(),
        "CREATE (:Source {key: \"k2\"})",
    )
    .unwrap();
    let mut s = with_file(&path);
    let q = "LOAD CSV WITH HEADERS FROM $file AS row
             CREATE (:Agreement {id: row.agreement, stage: row.stage})
             VALID FROM row.valid_from TO row.valid_to SOURCE \"k\", row.source";
    run(&mut db, &mut s, q).unwrap();
    let q = "MATCH (a:Agreement) RETURN a.id, valid(a), sources(a) ORDER BY a.id";
    assert_eq!(
        cells(&run(&mut db, &mut s, q).unwrap()),
        [
            ["g1", "2007-02-06/2010", "[\"k\"]"],
            ["g2", "1985/..", "[\"k\", \"k2\"]"],
            ["g3", "/..", "[\"k\"]"],
        ]
    );
    // The year keeps its precision: in force on 2010-12-31, not in 2011.
    let q = "AS OF 2010-12-31 MATCH (a:Agreement {id: \"g1\"}) RETURN count(a)";
    assert_eq!(cells(&run(&mut db, &mut s, q).unwrap()), [["1"]]);
    let q = "AS OF 2011 MATCH (a:Agreement {id: \"g1\"}) RETURN count(a)";
    assert_eq!(cells(&run(&mut db, &mut s, q).unwrap()), [["0"]]);
    // A source key no Source has is refused, naming the line; nothing is written.
    let bad = file(dir.path(), "bad.csv", "agreement,source\ng4,k\ng5,nobody\n");
    let mut s = with_file(&bad);
    let q = "LOAD CSV WITH HEADERS FROM $file AS row CREATE (:Agreement {id: row.agreement}) SOURCE row.source";
    let e = run(&mut db, &mut s, q).unwrap_err();
    assert!(e.message.contains("line 3"), "{}", e.message);
    assert!(e.message.contains("nobody"), "{}", e.message);
    assert_eq!(db.tx().0, 3);
}

#[test]
fn broken_files_are_errors_naming_where() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = db();
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            file(dir.path(), "ragged.csv", "a,b\n1,2\n3\n4,5\n"),
            "line 3: 1 fields, but the header has 2",
        ),
        (
            file(dir.path(), "twice.csv", "a,a\n1,2\n"),
            "line 1: the header names `a` twice",
        ),
        (
            file(dir.path(), "unnamed.csv", "a,,c\n1,2,3\n"),
            "line 1: column 2 of the header has no name",
        ),
        (dir.path().join("missing.csv"), "LOAD CSV cannot read"),
    ];
    std::fs::write(dir.path().join("latin1.csv"), b"a\nS\xe3o Paulo\n").unwrap();
    let latin1 = dir.path().join("latin1.csv");
    let mut cases = cases;
    cases.push((latin1, "line 2, field 1: not UTF-8 text"));
    for (path, want) in cases {
        let mut s = with_file(&path);
        let q = "LOAD CSV WITH HEADERS FROM $file AS row CREATE (:X {a: row.a}) SOURCE \"k\"";
        let e = run(&mut db, &mut s, q).unwrap_err();
        assert!(
            e.message.contains(want),
            "{}: {}",
            path.display(),
            e.message
        );
        assert!(
            e.message.contains(&path.display().to_string()),
            "{}",
            e.message
        );
        assert_eq!(db.tx().0, 1, "nothing written for {}", path.display());
    }
    let mut s = Session::new();
    let e = run(&mut db, &mut s, "LOAD CSV FROM 42 AS row RETURN row").unwrap_err();
    assert!(e.message.contains("expects a file name"), "{}", e.message);
}

#[test]
fn a_large_file_loads_in_one_pass_as_one_transaction_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("id,name\n");
    for i in 0..100_000 {
        text.push_str(&format!("p{i},Place {i}\n"));
    }
    let path = file(dir.path(), "big.csv", &text);
    let mut db = db();
    let mut s = with_file(&path);
    let seen = Arc::new(AtomicU64::new(0));
    let last = Arc::clone(&seen);
    s.progress = Some(ProgressFn(Arc::new(move |done, total| {
        assert!(done <= total);
        last.store(done, Ordering::Relaxed);
    })));
    let q = "LOAD CSV WITH HEADERS FROM $file AS row CREATE (:Place {id: row.id, name: row.name}) SOURCE \"k\"";
    let out = run(&mut db, &mut s, q).unwrap();
    assert_eq!(out.written.len(), 1);
    assert_eq!(out.written[0].event_count, 100_000);
    assert_eq!(
        seen.load(Ordering::Relaxed),
        text.len() as u64,
        "progress ends at the file's size"
    );
    let q = "MATCH (p:Place {id: \"p99999\"}) RETURN p.name";
    assert_eq!(cells(&run(&mut db, &mut s, q).unwrap()), [["Place 99999"]]);
}

#[test]
fn the_twin_cities_list_loads_with_each_place_and_pair_once() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/external/hekman_twin_cities_raw.csv");
    if !data.exists() {
        println!(
            "skipped: {} is absent (the project is checked out without ../shared)",
            data.display()
        );
        return;
    }
    let script_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/external/twin-cities.dgq");
    let script = std::fs::read_to_string(script_path).unwrap();
    let mut db = Database::open(MemoryLog::new()).unwrap();
    let mut s = with_file(&data);
    let parsed = parser::parse_script(&script).unwrap();
    for st in &parsed.statements {
        s.execute(&mut db, &script, st)
            .unwrap_or_else(|e| panic!("{}", e.render("twin-cities.dgq", &script, false)));
    }
    assert_eq!(
        db.tx().0,
        3,
        "two sources, then the whole file in one transaction"
    );
    let partners = |db: &mut Database<MemoryLog>, s: &mut Session, name: &str| {
        let q = format!(
            "MATCH (:Place {{name: \"{name}\", country: \"Indonesia\"}})-[:TWINNED_WITH]-(p) \
             RETURN p.name ORDER BY p.name"
        );
        cells(&run(db, s, &q).unwrap())
            .into_iter()
            .map(|r| r[0].clone())
            .collect::<Vec<_>>()
    };
    // The file's README: Bandung's nine partners, listed from both sides in the file.
    assert_eq!(
        partners(&mut db, &mut s, "Bandung"),
        [
            "Braunschweig",
            "Cotabato City",
            "Cuenca",
            "Fort Worth",
            "Liuzhou",
            "Namur",
            "Petaling Jaya",
            "Suwon",
            "Yingkou"
        ]
    );
    assert_eq!(partners(&mut db, &mut s, "Banten"), ["Incheon"]);
    assert_eq!(partners(&mut db, &mut s, "Jakarta").len(), 18);
    assert_eq!(partners(&mut db, &mut s, "Surabaya").len(), 10);
    // Each pair once: no two relationships join the same two places.
    let q = "MATCH (a:Place)-[r:TWINNED_WITH]-(b:Place) WITH a, b, count(r) AS n WHERE n > 1 \
             RETURN count(*)";
    assert_eq!(cells(&run(&mut db, &mut s, q).unwrap()), [["0"]]);
    // Every fact cites the list and Wikipedia.
    let q = "MATCH (p:Place {name: \"Bandung\"}) RETURN sources(p)";
    assert_eq!(
        cells(&run(&mut db, &mut s, q).unwrap()),
        [["[\"hekman-twincities\", \"wikipedia-twin-towns\"]"]]
    );
}
