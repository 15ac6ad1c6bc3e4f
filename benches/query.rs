//! Query benchmarks on a generated graph of 10,000 actors and 50,000 agreements (each with
//! two parties and two sectors, a valid time and a source), in an in-memory log.
//!
//! - `parse`: parsing a typical two-hop query with a filter and an aggregate.
//! - `one_hop`: an actor by name (the label/property index), and its agreements.
//! - `two_hop`: an actor's agreements and the other parties to them.
//! - `aggregate`: agreements counted by type, over all 50,000.
//! - `shortest_path`: `shortestPath` between two actors over `PARTY_TO` in both directions.
//!
//! Goals (issue 3): one-hop ≤ 100 µs, two-hop ≤ 5 ms, aggregate ≤ 50 ms, shortest path
//! ≤ 10 ms (medians). Run with `cargo bench --bench query`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use diplograph::Database;
use diplograph::event::{Event, Name, TxMeta};
use diplograph::log::MemoryLog;
use diplograph::query::ast::Statement;
use diplograph::query::{Session, parser};
use diplograph::time::{Date, ValidTime};
use diplograph::value::Value;

const ACTORS: usize = 10_000;
const AGREEMENTS: usize = 50_000;
const SECTORS: usize = 20;
const TYPES: [&str; 4] = ["LoI", "MoU", "sister city", "cooperation"];

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

fn build() -> Database<MemoryLog> {
    let mut db = Database::open(MemoryLog::new()).expect("in-memory log");
    let src: diplograph::event::Names = [Name::new("bench")].into_iter().collect();
    let node = |id: String, label: &str, props: Vec<(&str, Value)>, sources| Event::NodeAdded {
        id: Name::new(id),
        labels: [Name::new(label)].into_iter().collect(),
        props: props.into_iter().map(|(k, v)| (Name::new(k), v)).collect(),
        valid: ValidTime::ALWAYS,
        sources,
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut first = vec![node(
        "bench".into(),
        "Source",
        vec![("key", Value::str("bench"))],
        Default::default(),
    )];
    for i in 0..SECTORS {
        first.push(node(
            format!("s{i}"),
            "Sector",
            vec![("name", Value::str(&format!("sector {i}")))],
            src.clone(),
        ));
    }
    for i in 0..ACTORS {
        first.push(node(
            format!("a{i}"),
            "Actor",
            vec![
                ("name", Value::str(&format!("Actor {i}"))),
                ("country", Value::str(&format!("Country {}", i % 50))),
            ],
            src.clone(),
        ));
    }
    let mut txs = vec![(TxMeta::default(), first)];
    let mut events = Vec::new();
    for g in 0..AGREEMENTS {
        let year = 1980 + rng.below(44) as i32;
        let valid = ValidTime::since(Date::from_year(year).expect("a year"));
        let id = format!("g{g}");
        events.push(Event::NodeAdded {
            id: Name::new(&id),
            labels: [Name::new("Agreement")].into_iter().collect(),
            props: vec![
                (Name::new("type"), Value::str(TYPES[rng.below(TYPES.len())])),
                (Name::new("title"), Value::str(&format!("Agreement {g}"))),
            ],
            valid,
            sources: src.clone(),
        });
        let a = rng.below(ACTORS);
        let b = (a + 1 + rng.below(ACTORS - 1)) % ACTORS;
        for (k, actor) in [a, b].into_iter().enumerate() {
            events.push(Event::EdgeAdded {
                id: Name::new(format!("p{g}.{k}")),
                rel_type: Name::new("PARTY_TO"),
                from: Name::new(format!("a{actor}")),
                to: Name::new(&id),
                props: Vec::new(),
                valid,
                sources: src.clone(),
            });
        }
        for k in 0..2 {
            events.push(Event::EdgeAdded {
                id: Name::new(format!("c{g}.{k}")),
                rel_type: Name::new("COVERS"),
                from: Name::new(&id),
                to: Name::new(format!("s{}", (g + k * 7) % SECTORS)),
                props: Vec::new(),
                valid,
                sources: src.clone(),
            });
        }
        if events.len() >= 10_000 {
            txs.push((TxMeta::default(), std::mem::take(&mut events)));
        }
    }
    txs.push((TxMeta::default(), events));
    db.commit_batch(txs).expect("the generated graph is valid");
    db
}

fn statement(text: &str) -> Statement {
    parser::parse_statement(text).expect("the benchmark's queries parse")
}

fn bench(c: &mut Criterion) {
    let db = build();
    let session = Session::new();
    let mut g = c.benchmark_group("query");
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));

    let typical = "MATCH (a:Actor {name: $name})-[:PARTY_TO]->(g:Agreement)<-[:PARTY_TO]-(p:Actor) \
                   WHERE g.type IN [\"LoI\", \"MoU\"] AND valid_from(g) >= date(\"2000\") \
                   RETURN p.country, count(DISTINCT g) AS n ORDER BY n DESC LIMIT 10";
    g.bench_function("parse", |b| {
        b.iter(|| parser::parse_statement(black_box(typical)))
    });

    let cases = [
        (
            "one_hop",
            "MATCH (a:Actor {name: \"Actor 42\"})-[:PARTY_TO]->(g:Agreement) RETURN g.title, g.type",
        ),
        (
            "two_hop",
            "MATCH (a:Actor {name: \"Actor 42\"})-[:PARTY_TO]->(g:Agreement)<-[:PARTY_TO]-(p:Actor) \
             RETURN p.name, g.type",
        ),
        (
            "aggregate",
            "MATCH (g:Agreement) RETURN g.type, count(*) AS n ORDER BY n DESC",
        ),
        (
            "shortest_path",
            "MATCH p = shortestPath((a:Actor {name: \"Actor 1\"})-[:PARTY_TO*]-(b:Actor {name: \"Actor 9999\"})) \
             RETURN length(p)",
        ),
    ];
    for (name, text) in cases {
        let Statement::Query(q) = statement(text) else {
            panic!("{name} is a query");
        };
        let rows = session
            .read(db.graph(), text, &q)
            .expect("the benchmark's queries run")
            .output
            .rows
            .len();
        eprintln!("{name}: {rows} rows");
        g.bench_function(name, |b| {
            b.iter(|| session.read(db.graph(), text, black_box(&q)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
