//! `CALL` graph algorithms against reference values from networkx 3 (computed once with
//! `nx.pagerank` (its pure-Python power iteration), `nx.betweenness_centrality` and
//! `nx.closeness_centrality(wf_improved=True)` on the same six-node graph), so the scores a
//! researcher reports agree with the tool most of the field uses. Also: time travel applies
//! (a relationship that ends, or arrives later, changes the scores), options are checked,
//! and the algorithm only sees the labels and types asked for.

use diplograph::Database;
use diplograph::log::MemoryLog;
use diplograph::query::{Outcome, QueryError, Session, parser};

/// a→b, a→c, b→c, c→d, d→a, e→c, and f alone; the last relationship, d→a, is added in a
/// later transaction and valid only from 2010.
const GRAPH: &str = r#"
CREATE (:Source {key: "k"});
UNWIND ["a", "b", "c", "d", "e", "f"] AS x CREATE (:N {id: x}) SOURCE "k";
UNWIND [["a", "b"], ["a", "c"], ["b", "c"], ["c", "d"], ["e", "c"]] AS p
  MATCH (x:N {id: p[0]}), (y:N {id: p[1]}) CREATE (x)-[:L]->(y) SOURCE "k";
MATCH (d:N {id: "d"}), (a:N {id: "a"}) CREATE (d)-[:L]->(a) VALID FROM 2010 SOURCE "k";
CREATE (:Other {id: "o"}) SOURCE "k";
MATCH (o:Other), (a:N {id: "a"}) CREATE (o)-[:X]->(a) SOURCE "k";
"#;

fn db() -> Database<MemoryLog> {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    let mut s = Session::new();
    for st in parser::parse_script(GRAPH).unwrap().statements {
        s.execute(&mut db, GRAPH, &st).unwrap();
    }
    db
}

fn run(db: &mut Database<MemoryLog>, q: &str) -> Result<Outcome, QueryError> {
    let script = parser::parse_script(q)?;
    let mut s = Session::new();
    s.execute(db, q, &script.statements[0])
}

/// `(id, score)` pairs of a `CALL … YIELD node, score RETURN node.id, score` query.
fn scores(db: &mut Database<MemoryLog>, q: &str) -> Vec<(String, f64)> {
    let out = run(db, q).unwrap_or_else(|e| panic!("{q}: {}", e.render("q", q, false)));
    out.output
        .rows
        .iter()
        .map(|r| {
            let score: f64 = r[1].to_string().parse().expect("a number");
            (r[0].to_string(), score)
        })
        .collect()
}

fn assert_close(got: &[(String, f64)], want: &[(&str, f64)], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((id, g), (wid, w)) in got.iter().zip(want) {
        assert_eq!(id, wid, "{got:?}");
        assert!((g - w).abs() < tolerance, "{id}: {g} but networkx says {w}");
    }
}

const ON_N: &str = "{labels: [\"N\"], types: [\"L\"]";

#[test]
fn pagerank_agrees_with_networkx_directed_and_undirected() {
    let mut db = db();
    let q = format!(
        "CALL pagerank({ON_N}, directed: true}}) YIELD node, score RETURN node.id, score \
         ORDER BY node.id"
    );
    let directed = [
        ("a", 0.256291),
        ("b", 0.138051),
        ("c", 0.280152),
        ("d", 0.267254),
        ("e", 0.029126),
        ("f", 0.029126),
    ];
    assert_close(&scores(&mut db, &q), &directed, 1e-5);
    let q =
        format!("CALL pagerank({ON_N}}}) YIELD node, score RETURN node.id, score ORDER BY node.id");
    let undirected = [
        ("a", 0.234293),
        ("b", 0.162527),
        ("c", 0.315381),
        ("d", 0.162527),
        ("e", 0.096144),
        ("f", 0.029126),
    ];
    assert_close(&scores(&mut db, &q), &undirected, 1e-5);
    let sum: f64 = scores(&mut db, &q).iter().map(|(_, s)| s).sum();
    assert!((sum - 1.0).abs() < 1e-9, "scores sum to {sum}");
}

#[test]
fn betweenness_and_closeness_agree_with_networkx() {
    let mut db = db();
    let q = format!(
        "CALL betweenness({ON_N}}}) YIELD node, score RETURN node.id, score ORDER BY node.id"
    );
    let want = [
        ("a", 0.05),
        ("b", 0.0),
        ("c", 0.35),
        ("d", 0.0),
        ("e", 0.0),
        ("f", 0.0),
    ];
    assert_close(&scores(&mut db, &q), &want, 1e-9);
    let q = format!(
        "CALL betweenness({ON_N}, directed: true}}) YIELD node, score RETURN node.id, score \
         ORDER BY node.id"
    );
    let want = [
        ("a", 0.2),
        ("b", 0.0),
        ("c", 0.3),
        ("d", 0.25),
        ("e", 0.0),
        ("f", 0.0),
    ];
    assert_close(&scores(&mut db, &q), &want, 1e-9);
    let q = format!(
        "CALL closeness({ON_N}}}) YIELD node, score RETURN node.id, score ORDER BY node.id"
    );
    let want = [
        ("a", 0.64),
        ("b", 0.533333),
        ("c", 0.8),
        ("d", 0.533333),
        ("e", 0.457143),
        ("f", 0.0),
    ];
    assert_close(&scores(&mut db, &q), &want, 1e-6);
}

#[test]
fn algorithms_see_the_views_valid_and_transaction_time() {
    let mut db = db();
    // Before 2010 (and before tx 4 recorded it) there is no d→a: d is a dead end.
    let degree = |db: &mut Database<MemoryLog>, prefix: &str| {
        let q = format!(
            "{prefix} CALL degree({ON_N}}}) YIELD node, degree, indegree, outdegree \
             WHERE node.id = \"d\" RETURN degree, indegree, outdegree"
        );
        let out = run(db, &q).unwrap();
        out.output.rows[0]
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(degree(&mut db, ""), "2 1 1");
    assert_eq!(degree(&mut db, "AS OF 2005"), "1 1 0");
    assert_eq!(degree(&mut db, "AT TX 3"), "1 1 0");
    assert_eq!(degree(&mut db, "AT TX 4 AS OF 2011"), "2 1 1");
    let components = |db: &mut Database<MemoryLog>, prefix: &str| {
        let q = format!(
            "{prefix} CALL components({ON_N}, directed: true}}) YIELD node, component, size \
             RETURN size, count(*) AS nodes ORDER BY size DESC"
        );
        let out = run(db, &q).unwrap();
        out.output
            .rows
            .iter()
            .map(|r| format!("{}x{}", r[1], r[0]))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Strongly connected: the cycle a→c→d→a (b joins it: a→b→c) exists only from 2010.
    assert_eq!(components(&mut db, ""), "4x4 2x1");
    assert_eq!(components(&mut db, "AS OF 2005"), "6x1");
}

#[test]
fn labels_and_types_choose_the_graph_an_algorithm_sees() {
    let mut db = db();
    let q = "CALL degree() YIELD node, degree WHERE node.id = \"a\" RETURN degree";
    assert_eq!(run(&mut db, q).unwrap().output.rows[0][0].to_string(), "4");
    let q = format!("CALL degree({ON_N}}}) YIELD node, degree WHERE node.id = \"a\" RETURN degree");
    assert_eq!(run(&mut db, &q).unwrap().output.rows[0][0].to_string(), "3");
    let q = "CALL components() YIELD node, component RETURN count(DISTINCT component)";
    // Everything but the Source is one piece (the Source is cited by key, not linked).
    assert_eq!(run(&mut db, q).unwrap().output.rows[0][0].to_string(), "3");
    let q = "MATCH (e:N {id: \"e\"}) CALL distance({from: e, directed: true}) YIELD node, \
             distance RETURN node.id, distance ORDER BY distance, node.id";
    let out = run(&mut db, q).unwrap();
    let got: Vec<String> = out
        .output
        .rows
        .iter()
        .map(|r| format!("{}:{}", r[0], r[1]))
        .collect();
    assert_eq!(got, ["e:0", "c:1", "d:2", "a:3", "b:4"]);
}

#[test]
fn bad_calls_are_errors_that_say_what_is_allowed() {
    let mut db = db();
    let cases = [
        (
            "CALL pagernk() YIELD node RETURN node",
            "did you mean `pagerank`",
        ),
        (
            "CALL pagerank({damping: 2}) RETURN 1",
            "damping 2 is not between 0 and 1",
        ),
        (
            "CALL pagerank({dampng: 0.5}) RETURN 1",
            "has no option `dampng`",
        ),
        (
            "CALL pagerank() YIELD nod RETURN 1",
            "yields no column `nod` (it yields node, score)",
        ),
        ("CALL degree(\"x\") RETURN 1", "takes a map of options"),
        ("CALL distance() RETURN 1", "needs the node to count from"),
        (
            "CALL degree({labels: 3}) RETURN 1",
            "must be a list of labels",
        ),
        (
            "MATCH (node:N) CALL degree() YIELD node RETURN 1",
            "`node` is already bound",
        ),
    ];
    for (q, want) in cases {
        let e = run(&mut db, q).expect_err(q);
        assert!(e.message.contains(want), "{q}: {}", e.message);
    }
}

#[test]
fn yield_renames_and_without_yield_every_column_is_bound() {
    let mut db = db();
    let q = "CALL components() YIELD node AS n, size AS s WHERE n.id = \"f\" RETURN n.id, s";
    let out = run(&mut db, q).unwrap();
    assert_eq!(out.output.rows.len(), 1);
    assert_eq!(out.output.rows[0][1].to_string(), "1");
    let q = "CALL components() RETURN *";
    let out = run(&mut db, q).unwrap();
    let mut columns = out.output.columns.clone();
    columns.sort();
    assert_eq!(columns, ["component", "node", "size"]);
}

#[test]
fn a_long_algorithm_stops_at_the_time_budget() {
    let script = r#"
CREATE (:Source {key: "k"});
UNWIND range(1, 20000) AS i CREATE (:N {id: "n" + i}) SOURCE "k";
UNWIND range(1, 100000) AS j
  MATCH (x:N {id: "n" + (j % 20000 + 1)}), (y:N {id: "n" + ((j * 7919) % 20000 + 1)})
  CREATE (x)-[:L]->(y) SOURCE "k";
"#;
    let mut db = Database::open(MemoryLog::new()).unwrap();
    let mut s = Session::new();
    for st in parser::parse_script(script).unwrap().statements {
        s.execute(&mut db, script, &st).unwrap();
    }
    let q = "CALL betweenness() YIELD node, score RETURN max(score)";
    let statement = &parser::parse_script(q).unwrap().statements[0];
    // How long it takes to the end (about half a second here, on two cores) …
    let started = std::time::Instant::now();
    s.execute(&mut db, q, statement).unwrap();
    let whole = started.elapsed();
    // … and with a budget of a tenth of that, the query ends soon after the budget.
    s.timeout = Some(whole / 10);
    let started = std::time::Instant::now();
    let e = s.execute(&mut db, q, statement).unwrap_err();
    let took = started.elapsed();
    assert!(e.message.contains("time budget"), "{}", e.message);
    assert!(took < whole / 2, "took {took:?} of {whole:?}");
}
