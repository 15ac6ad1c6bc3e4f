//! The language through its API and its two commands: budgets and cancellation, parameters,
//! JSON and CSV output, refused writes that change nothing, and `query` / `run` as a user
//! runs them.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use diplograph::Database;
use diplograph::graph::snapshot::Snapshot;
use diplograph::log::MemoryLog;
use diplograph::query::format::{Format, json, render};
use diplograph::query::{Cell, ErrorKind, Outcome, QueryError, Session, Val, parser};

fn db_with(script: &str) -> Database<MemoryLog> {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    let mut s = Session::new();
    for st in parser::parse_script(script).unwrap().statements {
        s.execute(&mut db, script, &st).unwrap();
    }
    db
}

fn run(db: &mut Database<MemoryLog>, s: &mut Session, q: &str) -> Result<Outcome, QueryError> {
    let script = parser::parse_script(q)?;
    let mut last = Err(QueryError::new(ErrorKind::Semantic, "no statement"));
    for st in &script.statements {
        last = Ok(s.execute(db, q, st)?);
    }
    last
}

const SMALL: &str = r#"
CREATE (:Source {key: "k"});
UNWIND range(1, 200) AS i CREATE (:Actor {id: "a" + i, name: "Actor " + i, n: i}) SOURCE "k";
"#;

#[test]
fn a_query_over_its_row_budget_stops_with_a_clear_error() {
    let mut db = db_with(SMALL);
    let mut s = Session::new();
    s.max_rows = 1000;
    // 40,000 pairs held as rows (for a WITH that does not aggregate): over the budget.
    let pairs = "MATCH (a:Actor), (b:Actor) WITH a, b RETURN count(*)";
    let e = run(&mut db, &mut s, pairs).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Budget, "{e:?}");
    assert!(e.message.contains("more than 1000 rows"), "{}", e.message);
    // Counted as they are matched, they are never held: within the budget.
    let counted = run(
        &mut db,
        &mut s,
        "MATCH (a:Actor), (b:Actor) RETURN count(*)",
    )
    .unwrap();
    assert_eq!(counted.output.rows[0][0].to_string(), "40000");
    // Grouped, the groups are what is held: 200 groups pass, 40,000 do not.
    let by_a = "MATCH (a:Actor), (b:Actor) RETURN a.id, count(*)";
    assert_eq!(run(&mut db, &mut s, by_a).unwrap().output.rows.len(), 200);
    let by_pair = "MATCH (a:Actor), (b:Actor) RETURN a.id, b.id, count(*)";
    let e = run(&mut db, &mut s, by_pair).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Budget, "{e:?}");
    s.max_rows = 100_000;
    let ok = run(&mut db, &mut s, pairs).unwrap();
    assert_eq!(ok.output.rows[0][0].to_string(), "40000");
}

#[test]
fn a_query_over_its_time_budget_or_cancelled_stops() {
    let mut db = db_with(SMALL);
    let mut s = Session::new();
    s.timeout = Some(Duration::ZERO);
    let e = run(
        &mut db,
        &mut s,
        "MATCH (a:Actor), (b:Actor), (c:Actor) RETURN count(*)",
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Budget);
    assert!(e.message.contains("time budget"), "{}", e.message);

    let mut s = Session::new();
    s.max_rows = usize::MAX;
    let cancel = Arc::new(AtomicBool::new(true));
    s.cancel = Some(cancel);
    let e = run(
        &mut db,
        &mut s,
        "MATCH (a:Actor), (b:Actor) RETURN count(*)",
    )
    .unwrap_err();
    assert!(e.message.contains("cancelled"), "{}", e.message);
}

#[test]
fn parameters_fill_in_values() {
    let mut db = db_with(SMALL);
    let mut s = Session::new();
    s.params.insert("name".into(), Val::str("Actor 7"));
    s.params.insert("min".into(), Val::Int(195));
    let o = run(&mut db, &mut s, "MATCH (a:Actor {name: $name}) RETURN a.n").unwrap();
    assert_eq!(o.output.rows.len(), 1);
    assert_eq!(o.output.rows[0][0].to_string(), "7");
    let o = run(
        &mut db,
        &mut s,
        "MATCH (a:Actor) WHERE a.n > $min RETURN count(a)",
    )
    .unwrap();
    assert_eq!(o.output.rows[0][0].to_string(), "5");
    let e = run(&mut db, &mut s, "RETURN $nope").unwrap_err();
    assert!(e.message.contains("$nope"), "{}", e.message);
}

#[test]
fn json_output_has_columns_and_rows_and_dates_in_edtf() {
    let mut db = db_with(
        r#"CREATE (:Source {key: "k"});
           CREATE (:Agreement {id: "g", title: "LoI"}) VALID FROM 1985 SOURCE "k";"#,
    );
    let mut s = Session::new();
    let o = run(
        &mut db,
        &mut s,
        "MATCH (g:Agreement) RETURN g.title AS title, valid_from(g) AS since, valid_to(g) AS until, sources(g) AS src",
    )
    .unwrap();
    let j = json(&o);
    assert_eq!(
        j["columns"],
        serde_json::json!(["title", "since", "until", "src"])
    );
    assert_eq!(j["rows"], serde_json::json!([["LoI", "1985", null, ["k"]]]));
}

#[test]
fn csv_output_parses_back_to_the_same_rows() {
    let mut db = db_with(SMALL);
    let mut s = Session::new();
    let o = run(
        &mut db,
        &mut s,
        "MATCH (a:Actor) WHERE a.n <= 3 RETURN a.name AS name, a.n AS n, \"quote \\\" and, comma\" AS tricky ORDER BY n",
    )
    .unwrap();
    let text = render(&o, Format::Csv, None);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(headers, o.output.columns);
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    let expected: Vec<Vec<String>> = o
        .output
        .rows
        .iter()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect();
    assert_eq!(rows, expected);
    assert_eq!(rows[0][2], "quote \" and, comma");
}

#[test]
fn a_refused_write_changes_nothing() {
    let mut db = db_with(SMALL);
    let before = Snapshot::of(&db.view());
    let tx = db.tx();
    let mut s = Session::new();
    for bad in [
        // the second node's id exists: nothing of the first is kept
        r#"CREATE (:Actor {id: "new"}), (:Actor {id: "a1"}) SOURCE "k""#,
        r#"MATCH (a:Actor {id: "a1"}) SET a.x = 1 SOURCE "missing-source""#,
        r#"MATCH (a:Actor) SET a.n = a.n + 1 WITH a WHERE a.n > 150 SET a.y = 1 / 0"#,
        "BEGIN; CREATE (:Actor {id: \"z\"}) SOURCE \"k\"; RETRACT TX 999 REASON \"no\"; COMMIT",
    ] {
        let e = run(&mut db, &mut s, bad).unwrap_err();
        assert!(
            matches!(e.kind, ErrorKind::Write | ErrorKind::Runtime),
            "{bad}: {e:?}"
        );
        assert_eq!(db.tx(), tx, "{bad}");
        assert_eq!(Snapshot::of(&db.view()), before, "{bad}");
    }
    // and the session goes on
    let ok = run(&mut db, &mut s, r#"CREATE (:Actor {id: "new"}) SOURCE "k""#).unwrap();
    assert_eq!(ok.written.len(), 1);
}

// ----- the commands ---------------------------------------------------------------------------

fn bin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_diplograph"))
        .args(args)
        .env("DIPLOGRAPH_DB", dir.join("default.redb"))
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn query_command_prints_tables_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kb.redb");
    let db = db.to_str().unwrap();
    let w = bin(
        dir.path(),
        &[
            "--db",
            db,
            "query",
            r#"CREATE (:Source {key: "k"}); CREATE (:Actor {id: "b", name: "Banten"}) VALID FROM 2007-02-06 SOURCE "k""#,
        ],
    );
    assert!(w.status.success(), "{}", text(&w.stderr));
    let t = bin(
        dir.path(),
        &[
            "--db",
            db,
            "query",
            "MATCH (a:Actor) RETURN a.name, valid_from(a)",
        ],
    );
    assert!(t.status.success(), "{}", text(&t.stderr));
    let out = text(&t.stdout);
    assert!(
        out.contains("Banten") && out.contains("2007-02-06") && out.contains("1 row"),
        "{out}"
    );
    let j = bin(
        dir.path(),
        &[
            "--db",
            db,
            "query",
            "--format",
            "json",
            "--param",
            "n=\"Banten\"",
            "MATCH (a:Actor {name: $n}) RETURN a.name AS name",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(v["columns"], serde_json::json!(["name"]));
    assert_eq!(v["rows"], serde_json::json!([["Banten"]]));
    let c = bin(
        dir.path(),
        &[
            "--db",
            db,
            "query",
            "-f",
            "csv",
            "MATCH (a:Actor) RETURN a.name AS name",
        ],
    );
    assert_eq!(text(&c.stdout), "name\nBanten\n");
    let e = bin(
        dir.path(),
        &["--db", db, "query", "MATCH (a:Actor RETURN a"],
    );
    assert!(!e.status.success());
    let err = text(&e.stderr);
    assert!(err.contains("line 1, column"), "{err}");
}

#[test]
fn run_stops_at_the_failing_statement_having_written_nothing_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kb.redb");
    let db = db.to_str().unwrap();
    let script = dir.path().join("load.dgq");
    std::fs::write(
        &script,
        "CREATE (:Source {key: \"k\"});\n\
         CREATE (:Actor {id: \"a\", name: \"A\"}) SOURCE \"k\";\n\
         CREATE (:Actor {id: \"b\", name: \"B\"}), (:Actor {id: \"a\"}) SOURCE \"k\";\n\
         CREATE (:Actor {id: \"c\", name: \"C\"}) SOURCE \"k\";\n",
    )
    .unwrap();
    let r = bin(dir.path(), &["--db", db, "run", script.to_str().unwrap()]);
    assert!(!r.status.success());
    let err = text(&r.stderr);
    assert!(err.contains("load.dgq, statement 3"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    let q = bin(
        dir.path(),
        &[
            "--db",
            db,
            "query",
            "-f",
            "csv",
            "MATCH (a:Actor) RETURN a.id ORDER BY a.id",
        ],
    );
    assert_eq!(
        text(&q.stdout),
        "a.id\na\n",
        "statement 2 stays; 3 wrote nothing; 4 never ran"
    );
}

#[test]
fn shortest_paths_from_both_ends_agree_with_a_search_from_one() {
    // A random sparse graph; `shortestPath` searches from both ends, `allShortestPaths` from
    // one: their lengths must agree for every pair, in every direction.
    let mut script = String::from("CREATE (:Source {key: \"k\"});\n");
    script.push_str("UNWIND range(0, 59) AS i CREATE (:N {id: \"n\" + i}) SOURCE \"k\";\n");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..90 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (a, b) = (x % 60, (x >> 20) % 60);
        script.push_str(&format!(
            "MATCH (a:N {{id: \"n{a}\"}}), (b:N {{id: \"n{b}\"}}) CREATE (a)-[:L]->(b) SOURCE \"k\";\n"
        ));
    }
    let mut db = db_with(&script);
    let mut s = Session::new();
    for arrow in ["-[:L*]->", "<-[:L*]-", "-[:L*]-"] {
        let (l, r) = arrow.split_at(arrow.find(']').unwrap() + 1);
        let q = format!(
            "MATCH (a:N), (b:N) WHERE a.id < b.id \
             OPTIONAL MATCH p = shortestPath((a){arrow}(b)) \
             OPTIONAL MATCH q = allShortestPaths((a){l}{r}(b)) \
             RETURN a.id, b.id, length(p) AS one, min(length(q)) AS all, count(q) AS n"
        );
        let o = run(&mut db, &mut s, &q).unwrap();
        assert_eq!(o.output.rows.len(), 60 * 59 / 2);
        let mut found = 0;
        for row in &o.output.rows {
            assert_eq!(row[2], row[3], "{arrow}: {row:?}");
            if row[2] != diplograph::query::Cell::Null {
                found += 1;
            }
        }
        assert!(found > 100, "{arrow}: only {found} connected pairs");
    }
}

#[test]
fn the_shell_reads_statements_from_a_pipe_with_no_prompt() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_diplograph"))
        .env("DIPLOGRAPH_DB", dir.path().join("default.redb"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"MATCH (b:Actor {name: \"Banten\"})-[:PARTY_TO]->(a:Agreement {type: \"LoI\"})\n\
              RETURN valid_from(a) AS signed ORDER BY signed;\n",
        )
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(!out.contains("diplograph>"), "no prompt: {out}");
    assert!(
        out.contains("2007-02-06") && out.contains("2021-09-21"),
        "{out}"
    );
    assert!(out.contains("2 rows"), "{out}");
}

#[test]
fn in_lists_look_nodes_up_by_index_and_keep_the_filters_meaning() {
    let mut db = db_with(SMALL);
    let mut s = Session::new();
    let cases = [
        (
            "MATCH (a:Actor) WHERE a.name IN [\"Actor 3\", \"Actor 5\", \"nope\", null, 5] RETURN a.n ORDER BY a.n",
            vec!["3", "5"],
        ),
        (
            "MATCH (a:Actor) WHERE a.id IN [\"a7\", \"a7\", \"a9\"] AND a.n > 7 RETURN a.n",
            vec!["9"],
        ),
        ("MATCH (a:Actor) WHERE a.name IN null RETURN a.n", vec![]),
        ("MATCH (a:Actor) WHERE a.name IN [] RETURN a.n", vec![]),
        (
            "MATCH (a:Actor) WHERE a.n IN [1.0, 2] RETURN a.n ORDER BY a.n",
            vec!["1", "2"],
        ),
    ];
    for (q, want) in cases {
        let out = run(&mut db, &mut s, q).unwrap();
        let got: Vec<String> = out.output.rows.iter().map(|r| r[0].to_string()).collect();
        assert_eq!(got, want, "{q}");
    }
}

/// `x IN list` on a long list bound once and met on every row is decided by a hash set after
/// the first row (`ListSets`); its answers must be those of the scan, nulls included.
#[test]
fn in_on_a_long_bound_list_answers_as_a_scan_does() {
    let mut db = db_with(SMALL);
    let mut s = Session::new();
    let count = |db: &mut Database<MemoryLog>, s: &mut Session, q: &str| -> String {
        let out = run(db, s, q).unwrap_or_else(|e| panic!("{q}: {}", e.render("q", q, false)));
        out.output.rows[0][0].to_string()
    };
    // Actors 1..=50 in a list of nodes; 150 of the 200 are not in it.
    let q = "MATCH (a:Actor) WHERE a.n <= 50 WITH collect(a) AS some \
             MATCH (b:Actor) WHERE NOT b IN some RETURN count(*)";
    assert_eq!(count(&mut db, &mut s, q), "150");
    // Integers and floats that are equal are equal in the set as in a scan.
    let q = "UNWIND range(1, 40) AS x WITH collect(toFloat(x)) AS fs \
             MATCH (b:Actor) WHERE b.n IN fs RETURN count(*)";
    assert_eq!(count(&mut db, &mut s, q), "40");
    // A null in the list makes `IN` unknown where nothing equal is found: such rows are
    // neither in nor out.
    let q = "WITH range(1, 40) + [null] AS xs \
             MATCH (b:Actor) WHERE NOT b.n IN xs RETURN count(*)";
    assert_eq!(count(&mut db, &mut s, q), "0");
    let q = "WITH range(1, 40) + [null] AS xs \
             MATCH (b:Actor) WHERE b.n IN xs RETURN count(*)";
    assert_eq!(count(&mut db, &mut s, q), "40");
    // A null on the left is unknown.
    let q = "WITH range(1, 40) AS xs MATCH (b:Actor) WHERE b.missing IN xs RETURN count(*)";
    assert_eq!(count(&mut db, &mut s, q), "0");
    let q = "WITH range(1, 40) AS xs MATCH (b:Actor) \
             RETURN count(CASE WHEN b.missing IN xs IS NULL THEN 1 END)";
    assert_eq!(count(&mut db, &mut s, q), "200");
}

/// A `MATCH` hands each match straight to the grouping projection after it; the answers
/// must be those of grouping rows first held (`WITH *` in between holds them), optional
/// matches, several patterns, filters, `DISTINCT`, ordering and empty matches included.
#[test]
fn grouping_as_matches_are_found_answers_as_grouping_held_rows() {
    let mut db = db_with(SMALL);
    let mut s = Session::new();
    run(
        &mut db,
        &mut s,
        r#"MATCH (a:Actor), (b:Actor) WHERE b.n = a.n + 1 AND a.n <= 20
           CREATE (a)-[:NEXT]->(b) SOURCE "k""#,
    )
    .unwrap();
    let pairs = [
        (
            "MATCH (a:Actor)-[:NEXT]->(b)",
            "RETURN a.n % 3 AS k, count(*), collect(b.n) ORDER BY k",
        ),
        (
            "MATCH (a:Actor) OPTIONAL MATCH (a)-[:NEXT]->(b)",
            "RETURN count(b), count(*)",
        ),
        (
            "MATCH (a:Actor), (b:Actor) WHERE a.n < 4 AND b.n < a.n",
            "RETURN a.n, count(DISTINCT b) ORDER BY a.n",
        ),
        ("MATCH (a:Nothing)", "RETURN count(*), collect(a)"),
        (
            "MATCH (a:Actor)-[:NEXT*2]->(c)",
            "RETURN min(c.n), max(c.n), sum(c.n), avg(c.n)",
        ),
        (
            "MATCH (a:Actor)",
            "WITH a.n % 2 AS odd, count(*) AS n RETURN odd, n ORDER BY odd",
        ),
        // No aggregate: each match projected as it is found.
        (
            "MATCH (a:Actor)-[:NEXT]->(b)",
            "RETURN a.n, b.n, a.n + b.n AS s",
        ),
        (
            "MATCH (a:Actor) OPTIONAL MATCH (a)-[:NEXT]->(b)",
            "RETURN a.n, b.n",
        ),
        (
            "MATCH (a:Actor)-[:NEXT*1..2]->(c)",
            "WITH a, c MATCH (c)-[:NEXT]->(d) RETURN a.n, d.n",
        ),
    ];
    for (m, rest) in pairs {
        let streamed = format!("{m} {rest}");
        let held = format!("{m} WITH * {rest}");
        let a = run(&mut db, &mut s, &streamed).unwrap().output;
        let b = run(&mut db, &mut s, &held).unwrap().output;
        assert_eq!(a.rows, b.rows, "{streamed}");
        assert!(!a.rows.is_empty(), "{streamed}");
    }
}

/// `ORDER BY … LIMIT k` selects the first `SKIP + k` rows before ordering them; with ties
/// (many rows share a key) the rows must be those, in the order, of sorting them all.
#[test]
fn order_by_with_limit_gives_the_first_rows_of_the_full_order() {
    let mut db = db_with(SMALL);
    let mut s = Session::new();
    let all = run(
        &mut db,
        &mut s,
        "MATCH (a:Actor) RETURN a.id, a.n % 7 AS k ORDER BY k DESC",
    )
    .unwrap()
    .output
    .rows;
    for (skip, limit) in [(0, 1), (0, 5), (3, 10), (0, 0), (190, 20), (0, 300)] {
        let q = format!(
            "MATCH (a:Actor) RETURN a.id, a.n % 7 AS k ORDER BY k DESC SKIP {skip} LIMIT {limit}"
        );
        let got = run(&mut db, &mut s, &q).unwrap().output.rows;
        let want: Vec<_> = all.iter().skip(skip).take(limit).cloned().collect();
        assert_eq!(got, want, "{q}");
    }
    // Grouped: the groups that rank after the first SKIP + LIMIT are let go as they are
    // made, a few times over for 200 groups and small limits; ties keep the groups' order.
    let grouped = "MATCH (a:Actor) RETURN a.name AS name, a.n % 7 AS k, count(*) AS c \
                   ORDER BY k DESC, c";
    let all = run(&mut db, &mut s, grouped).unwrap().output.rows;
    assert_eq!(all.len(), 200);
    for (skip, limit) in [
        (0, 1),
        (0, 5),
        (3, 10),
        (0, 0),
        (40, 7),
        (190, 20),
        (0, 300),
        // Far more than there are groups: nothing is made room for up front.
        (0, 1_000_000_000_000),
        (1, i64::MAX as usize),
    ] {
        let q = format!("{grouped} SKIP {skip} LIMIT {limit}");
        let got = run(&mut db, &mut s, &q).unwrap().output.rows;
        let want: Vec<_> = all.iter().skip(skip).take(limit).cloned().collect();
        assert_eq!(got, want, "{q}");
    }
    // A bad LIMIT still fails, after the groups are made.
    let err = run(&mut db, &mut s, &format!("{grouped} LIMIT -1")).unwrap_err();
    assert!(err.message.contains("LIMIT expects"), "{}", err.message);
}

/// Grouping by a property read through its column's codes (a scan builds the columns) must
/// group as values do: `1` and `1.0` are one key, and a key variable that holds a map
/// after nodes holds keys the groups by values from then on.
#[test]
fn grouping_by_coded_properties_groups_as_values_do() {
    let mut db = db_with(SMALL);
    let mut s = Session::new();
    run(
        &mut db,
        &mut s,
        r#"MATCH (a:Actor) WHERE a.n <= 100 SET a.k = CASE WHEN a.n % 2 = 0 THEN 1 ELSE 1.0 END"#,
    )
    .unwrap();
    let rows =
        |db: &mut Database<MemoryLog>, s: &mut Session, q: &str| run(db, s, q).unwrap().output.rows;
    let mixed = rows(
        &mut db,
        &mut s,
        "MATCH (a:Actor) RETURN a.k, count(*) ORDER BY count(*)",
    );
    assert_eq!(mixed.len(), 2, "{mixed:?}");
    assert_eq!(mixed[1][1], Cell::Int(100), "{mixed:?}");
    let late_map = rows(
        &mut db,
        &mut s,
        "MATCH (a:Actor) WITH CASE WHEN a.n > 150 THEN {name: 'Actor 1'} ELSE a END AS x \
         RETURN x.name, count(*) ORDER BY count(*) DESC, x.name LIMIT 2",
    );
    assert_eq!(late_map[0][0], Cell::Str("Actor 1".into()), "{late_map:?}");
    assert_eq!(late_map[0][1], Cell::Int(51), "{late_map:?}");
    assert_eq!(late_map[1][1], Cell::Int(1), "{late_map:?}");
}

/// `count(DISTINCT …)` lists nodes and deduplicates them by sorting now and then, and turns
/// a list of many distinct nodes into a bit set (here after 2,048 of its 4,000 entries); it
/// must count what `collect(DISTINCT …)` (a set, checked per row) collects, for many
/// repeats of each node, and for nodes mixed with other values and nulls.
#[test]
fn count_distinct_counts_what_collect_distinct_collects() {
    let mut db = db_with(SMALL);
    let mut s = Session::new();
    let q = "UNWIND range(1, 60) AS i MATCH (a:Actor) \
             WITH i % 3 AS k, a, CASE WHEN a.n % 2 = 0 THEN a WHEN a.n % 5 = 0 THEN null ELSE a.n % 7 END AS x \
             RETURN k, count(DISTINCT a), size(collect(DISTINCT a)), \
                    count(DISTINCT x), size(collect(DISTINCT x)) ORDER BY k";
    let rows = run(&mut db, &mut s, q).unwrap().output.rows;
    assert_eq!(rows.len(), 3, "{rows:?}");
    for r in &rows {
        assert_eq!(r[1], Cell::Int(200), "{r:?}");
        assert_eq!(r[1], r[2], "{r:?}");
        // 100 even actors, and n % 7 of the 80 odd ones not divisible by 5: 0..=6.
        assert_eq!(r[3], Cell::Int(107), "{r:?}");
        assert_eq!(r[3], r[4], "{r:?}");
    }
}

/// A constant is computed on the first row that needs it: a bad one fails a clause with rows,
/// as the tree would, and not one without; and a walk's estimated size, the product of many
/// steps' fan-outs, does not overflow.
#[test]
fn constants_wait_for_a_row_and_long_walks_estimate_without_overflow() {
    let mut db = db_with(SMALL);
    let mut s = Session::new();
    let none = run(
        &mut db,
        &mut s,
        "MATCH (a:Nothing) WHERE a.n + 0 IN range(1, 'x') RETURN a",
    );
    assert!(none.unwrap().output.rows.is_empty());
    let err = run(
        &mut db,
        &mut s,
        "MATCH (a:Actor) WHERE a.n + 0 IN range(1, 'x') RETURN a",
    )
    .unwrap_err();
    assert!(err.message.contains("range"), "{}", err.message);
    run(
        &mut db,
        &mut s,
        r#"MATCH (a:Actor) WITH collect(a) AS all UNWIND all AS x UNWIND all AS y
           WITH x, y WHERE x.n <= 100 AND y.n <= 100 CREATE (x)-[:T]->(y) SOURCE "k""#,
    )
    .unwrap();
    let long = "MATCH (a:Rare)-[:T]->(b:Rare)-[:T]->(c:Rare)-[:T]->(d:Rare)-[:T]->(e:Rare)\
                -[:T]->(f:Rare)-[:T]->(g:Rare)-[:T]->(h) RETURN count(*)";
    let rows = run(&mut db, &mut s, long).unwrap().output.rows;
    assert_eq!(rows, vec![vec![Cell::Int(0)]]);
}

/// A `WHERE` after a `MATCH` is checked part by part as the walk binds what each part reads;
/// its rows, their order and its errors must be those of checking it on each complete match
/// (`WITH *` in between holds the matches and filters them after): a false part written
/// first still spares a failing one, a null part does not, a part that fails on a start
/// with no complete match fails nothing, a lone non-boolean rejects and one beside `AND`
/// fails.
#[test]
fn a_filter_checked_along_the_walk_answers_and_fails_as_one_checked_at_the_end() {
    let script = r#"
CREATE (:Source {key: "k"});
UNWIND range(1, 24) AS i CREATE (:P {id: "p" + i, i: i, n: i, name: "P" + i}) SOURCE "k";
UNWIND range(25, 30) AS i CREATE (:P {id: "p" + i, i: i, n: "text"}) SOURCE "k";
CREATE (:Q {id: "q1", i: 1, n: "text", bad: "x"}) SOURCE "k";
MATCH (a:P), (b:P) WHERE b.i = a.i + 1 OR b.i = a.i * 2
  CREATE (a)-[:R {w: a.i % 3}]->(b) VALID FROM 2010 SOURCE "k";
MATCH (a:P), (b:P) WHERE b.i = a.i + 5 AND a.i % 4 = 0
  CREATE (a)-[:R {w: 9}]->(b) VALID FROM 2005 TO 2015 SOURCE "k";
"#;
    let mut db = db_with(script);
    let mut s = Session::new();
    let two = "(a:P)-[r:R]->(b:P)";
    let three = "(a:P)-[r:R]->(b:P)-[t:R]->(c:P)";
    let cases = [
        (two, "b.i > 3 AND a.i < 20", "RETURN a.i, b.i"),
        (two, "a.i = 2 AND r.w = 2 AND b.i > 2", "RETURN a.i, b.i"),
        // Written first and false everywhere: the failing part is never reached.
        (two, "b.i < 0 AND a.n * 2 > 0", "RETURN a.i"),
        // Written first and failing on the texts.
        (two, "a.n * 2 > 0 AND b.i > 100", "RETURN a.i"),
        (two, "b.i > 100 OR a.n * 2 > 0", "RETURN a.i"),
        // Null first: the failing part after it is still reached.
        (two, "a.missing > 1 AND b.n * 2 > 0", "RETURN a.i"),
        (two, "a.missing > 1 AND b.i > 2", "RETURN a.i"),
        // Fails on a start (the Q) that no relationship leaves: no error.
        (
            "(a)-[r:R]->(b:P)",
            "a.bad * 2 > 0 OR a.i < 25",
            "RETURN a.i, b.i",
        ),
        ("(a:Q)-[r:R]->(b)", "a.n * 2 > 0", "RETURN a.i"),
        (
            two,
            "valid_to(r) IS NULL AND b.i % 2 = 0",
            "RETURN a.i, b.i",
        ),
        (
            two,
            "valid_from(r) <= date('2008') AND a.i > 3 AND valid_to(r) > date('2014-12')",
            "RETURN a.i, b.i",
        ),
        (
            three,
            "c.i > 20 AND a.i < 12 AND t.w <> r.w",
            "RETURN a.i, b.i, c.i",
        ),
        (
            three,
            "a.i IN [2, 4, 8] AND NOT c.name IN ['P9', 'P16']",
            "RETURN a.i, c.i",
        ),
        (three, "c.n * 2 > 0 AND a.i = 20", "RETURN a.i, c.i"),
        (
            "(a:P)-[rs:R*1..2]->(b:P)",
            "size(rs) = 2 AND a.i < 5 AND b.i > 5",
            "RETURN a.i, b.i",
        ),
        (
            "p = (a:P)-[:R]->(b:P)",
            "length(p) = 1 AND a.i < 3",
            "RETURN a.i, b.i",
        ),
        (
            "(x:P), (a:P)-[r:R]->(b:P)",
            "x.i = 2 AND a.i = x.i + 1 AND b.i > 0",
            "RETURN x.i, b.i",
        ),
        (
            "p = shortestPath((a:P {id: 'p1'})-[:R*..6]-(b:P))",
            "b.i > 20 AND length(p) < 6",
            "RETURN b.i, length(p)",
        ),
        // A shortest path's relationship variable holds a list, `*` or not: `r.w` fails on
        // it, after a part written first that is false everywhere.
        (
            "shortestPath((a:P {id: 'p1'})-[r:R]->(b:P)), (b)-[:R]->(c:P)",
            "c.i < 0 AND r.w = 2",
            "RETURN c.i",
        ),
        // A lone value that is not a boolean rejects; beside AND it fails.
        (two, "a.i", "RETURN a.i"),
        (two, "a.i AND b.i > 0", "RETURN a.i"),
        (two, "b.i > 0 AND a.name", "RETURN a.i"),
    ];
    let (mut failed, mut answered) = (0, 0);
    for (pattern, filter, ret) in cases {
        let staged = format!("MATCH {pattern} WHERE {filter} {ret}");
        let held = format!("MATCH {pattern} WITH * WHERE {filter} {ret}");
        let a = run(&mut db, &mut s, &staged).map(|o| o.output.rows);
        let b = run(&mut db, &mut s, &held).map(|o| o.output.rows);
        match (&a, &b) {
            (Ok(x), Ok(y)) => {
                assert_eq!(x, y, "{staged}");
                answered += usize::from(!x.is_empty());
            }
            (Err(x), Err(y)) => {
                // The same place in the filter, which starts later in the held form.
                let at = |e: &QueryError, q: &str| {
                    let from = q.find(" WHERE ").unwrap_or(0);
                    e.span.map(|s| (s.start - from, s.end - from))
                };
                assert_eq!(x.message, y.message, "{staged}");
                assert_eq!(at(x, &staged), at(y, &held), "{staged}");
                failed += 1;
            }
            _ => panic!("{staged}: {a:?} against {b:?}"),
        }
    }
    // The cases that fail do fail, and most others find rows: they test something.
    assert_eq!(failed, 6);
    assert_eq!(answered, 11);
}
