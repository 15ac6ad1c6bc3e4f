//! Query benchmarks on a generated graph of 10,000 actors and 50,000 agreements (each with
//! two parties and two sectors, a valid time and a source), in an in-memory log. The
//! generator is `benches/common/mod.rs`, shared with `benches/server.rs`.
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
use diplograph::log::MemoryLog;
use diplograph::query::ast::Statement;
use diplograph::query::{Session, parser};

mod common;

fn build() -> Database<MemoryLog> {
    let mut db = Database::open(MemoryLog::new()).expect("in-memory log");
    common::load(&mut db);
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
