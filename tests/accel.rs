//! Scans read through read-optimised pieces (labels, adjacency and property columns laid out
//! densely, `graph::accel`); they must give exactly the answers, in exactly the order, of
//! the plain path, on random graphs with changes, ends, writes between queries and
//! retractions (after which the pieces must not be used at all).

use diplograph::Database;
use diplograph::log::MemoryLog;
use diplograph::query::{Session, parser};
use proptest::prelude::*;

/// The queries compared: scans of labels and of everything, one and two hops, each
/// direction, one type and several, inline properties, filters, aggregates, ordering,
/// `IN` on a long list bound once, labels at the far end of a step, and comparisons of
/// properties with constants.
const QUERIES: &[&str] = &[
    "MATCH (a:A) RETURN a.id, a.k, a.name",
    "MATCH (n) RETURN n.id, labels(n), n.k",
    "MATCH (a:A)-[r:R]->(b) RETURN a.id, r.id, b.id, b.k",
    "MATCH (a:A)<-[r:R]-(b:B) RETURN a.id, r.id, b.id",
    "MATCH (a:A)-[r:S]-(b) RETURN a.id, r.id, b.id",
    "MATCH (a:A)-[r:R|S]->(b) RETURN a.id, r.id, b.id",
    "MATCH (a:A)-[:R]->(b)-[:S]->(c) RETURN a.id, b.id, c.id",
    "MATCH (a:A {k: 2})-[:R]->(b) RETURN a.id, b.id",
    "MATCH (a:A)-[:R]->(b:B) WHERE b.k >= 2 RETURN a.k, count(DISTINCT b), collect(b.id)",
    "MATCH (a)-[:R]->(b) RETURN a.name, count(*) AS n ORDER BY n DESC, a.name LIMIT 5",
    "MATCH (a:B)-[:R*1..2]->(b) RETURN a.id, b.id",
    "MATCH (a:A) WITH collect(a) AS all MATCH (b:B)-[:R]->(c) WHERE NOT c IN all RETURN b.id, c.id",
    "MATCH (a:A)-[r]->(b) RETURN id(a), r.id, valid_from(r), valid_to(r), valid(r), valid_to(a)",
    "MATCH (a)-[r:S]->(b) WHERE valid_to(r) IS NULL RETURN a.id, count(*)",
    "MATCH (a)-[r]->(b) WHERE valid_to(r) < date('2015') OR date('2025-06') <= valid_to(a) RETURN r.id",
    "MATCH (a:A)-[:R]->(b) RETURN a.k, b.k, count(DISTINCT b), count(*)",
    "MATCH (a:A) OPTIONAL MATCH (a)-[:R]->(b:B) RETURN b.k, count(b), count(*)",
    "MATCH (a) WITH CASE WHEN a.k = 1 THEN {k: 2} ELSE a END AS x RETURN x.k, count(*)",
    // The labels at the far end, which a walk may know from the adjacency's.
    "MATCH (a)-[:R]->(b:A) RETURN a.id, b.id",
    "MATCH (a)<-[:S]-(b:A:B) RETURN a.id, b.id",
    "MATCH (a:A)-[:R]->(b:B)-[:S]->(c:A) RETURN a.id, b.id, c.id",
    // Comparisons of a laid-out property with a constant, answered once per distinct value.
    "MATCH (a:A) WHERE a.k < 2 RETURN a.id, a.k",
    "MATCH (a)-[:R]->(b) WHERE b.name IN ['N1', 'N3', 'N5'] AND a.k <> 1 RETURN a.id, b.id",
    "MATCH (a) WHERE a.k = 1.0 OR a.id = 'n3' OR a.name >= 'N5' RETURN a.id",
];

#[derive(Clone, Debug)]
enum Step {
    Node { label: u8, k: u8 },
    Edge { from: u8, to: u8, s: bool },
    Set { node: u8, k: u8 },
    End { node: u8, year: u16 },
    EndEdge { edge: u8, year: u16 },
    Retract,
    Compare,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..3, 0u8..4).prop_map(|(label, k)| Step::Node { label, k }),
        6 => (any::<u8>(), any::<u8>(), any::<bool>())
            .prop_map(|(from, to, s)| Step::Edge { from, to, s }),
        1 => (any::<u8>(), 0u8..4).prop_map(|(node, k)| Step::Set { node, k }),
        1 => (any::<u8>(), 2000u16..2020).prop_map(|(node, year)| Step::End { node, year }),
        1 => (any::<u8>(), 2010u16..2030).prop_map(|(edge, year)| Step::EndEdge { edge, year }),
        1 => Just(Step::Retract),
        2 => Just(Step::Compare),
    ]
}

fn exec(db: &mut Database<MemoryLog>, q: &str) {
    let mut s = Session::new();
    for st in parser::parse_script(q).unwrap().statements {
        s.execute(db, q, &st)
            .unwrap_or_else(|e| panic!("{q}: {}", e.render("q", q, false)));
    }
}

/// Every query, with and without the pieces, twice with them (the second reads pieces the
/// first built). Returns the rendered answers with them.
fn compare(db: &mut Database<MemoryLog>) {
    for q in QUERIES {
        let st = &parser::parse_script(q).unwrap().statements[0];
        let mut plain = Session::new();
        plain.plain = true;
        let want = plain.execute(db, q, st).unwrap().output;
        let mut fast = Session::new();
        let first = fast.execute(db, q, st).unwrap().output;
        let again = fast.execute(db, q, st).unwrap().output;
        assert_eq!(first, want, "{q}");
        assert_eq!(again, want, "{q} (pieces built)");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn scans_answer_alike_with_and_without_pieces(steps in prop::collection::vec(step(), 1..60)) {
        let mut db = Database::open(MemoryLog::new()).unwrap();
        exec(&mut db, r#"CREATE (:Source {key: "k"})"#);
        let mut nodes = 0usize;
        let mut edges = 0usize;
        for s in steps {
            let q = match s {
                Step::Node { label, k } => {
                    nodes += 1;
                    let label = ["A", "B", "A:B"][label as usize];
                    format!(r#"CREATE (:{label} {{id: "n{nodes}", k: {k}, name: "N{}"}}) SOURCE "k""#, nodes % 7)
                }
                Step::Edge { .. } | Step::Set { .. } | Step::End { .. } if nodes == 0 => continue,
                Step::Edge { from, to, s } => {
                    edges += 1;
                    let (a, b) = (from as usize % nodes + 1, to as usize % nodes + 1);
                    let t = if s { "S" } else { "R" };
                    format!(r#"MATCH (a {{id: "n{a}"}}), (b {{id: "n{b}"}}) CREATE (a)-[:{t} {{id: "e{edges}"}}]->(b) VALID FROM {} SOURCE "k""#, 1990 + edges % 20)
                }
                Step::Set { node, k } => {
                    let n = node as usize % nodes + 1;
                    format!(r#"MATCH (a {{id: "n{n}"}}) SET a.k = {k} SOURCE "k""#)
                }
                Step::End { node, year } => {
                    let n = node as usize % nodes + 1;
                    format!(r#"MATCH (a {{id: "n{n}"}}) END a AT {year} SOURCE "k""#)
                }
                Step::EndEdge { .. } if edges == 0 => continue,
                Step::EndEdge { edge, year } => {
                    let e = edge as usize % edges + 1;
                    format!(r#"MATCH ()-[r {{id: "e{e}"}}]->() END r AT {year} SOURCE "k""#)
                }
                Step::Retract if db.tx().0 > 1 => {
                    format!(r#"RETRACT TX {} REASON "test""#, db.tx().0)
                }
                Step::Retract => continue,
                Step::Compare => {
                    compare(&mut db);
                    continue;
                }
            };
            exec(&mut db, &q);
        }
        compare(&mut db);
    }
}

/// After a write, a scan reads the new state: pieces built before it are not reused.
#[test]
fn pieces_built_before_a_write_are_not_read_after_it() {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    exec(
        &mut db,
        r#"CREATE (:Source {key: "k"});
           UNWIND range(1, 50) AS i CREATE (:A {id: "a" + i, k: i}) SOURCE "k";
           MATCH (a:A {id: "a1"}), (b:A {id: "a2"}) CREATE (a)-[:R]->(b) SOURCE "k";"#,
    );
    let q = "MATCH (a:A)-[:R]->(b) RETURN a.k, b.k";
    let st = &parser::parse_script(q).unwrap().statements[0];
    let mut s = Session::new();
    let before = s.execute(&mut db, q, st).unwrap().output;
    assert_eq!(before.rows.len(), 1);
    exec(
        &mut db,
        r#"MATCH (a:A {id: "a1"}) SET a.k = 100 SOURCE "k";
           MATCH (a:A {id: "a3"}), (b:A {id: "a2"}) CREATE (a)-[:R]->(b) SOURCE "k";"#,
    );
    let after = s.execute(&mut db, q, st).unwrap().output;
    let rows: Vec<Vec<String>> = after
        .rows
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.contains(&vec!["100".to_owned(), "2".to_owned()]),
        "{rows:?}"
    );
    assert!(
        rows.contains(&vec!["3".to_owned(), "2".to_owned()]),
        "{rows:?}"
    );
}
