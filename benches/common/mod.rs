//! The generated graph the query and server benchmarks share: 10,000 actors in 50 countries,
//! 20 sectors, and 50,000 agreements, each with two parties (`PARTY_TO`), two sectors
//! (`COVERS`), a type, a valid time since a year in 1980–2023, and the source `bench`.
//! Deterministic: the same graph on every run.

// Each benchmark uses part of this module.
#![allow(dead_code)]

use diplograph::Database;
use diplograph::event::{Event, Name, Names, TxMeta};
use diplograph::log::Log;
use diplograph::time::{Date, ValidTime};
use diplograph::value::Value;

/// Actors, named `Actor 0` … `Actor 9999` (ids `a0` …).
pub const ACTORS: usize = 10_000;
/// Agreements (ids `g0` …).
pub const AGREEMENTS: usize = 50_000;
/// Sectors (ids `s0` …).
pub const SECTORS: usize = 20;
/// The agreements' types.
pub const TYPES: [&str; 4] = ["LoI", "MoU", "sister city", "cooperation"];
/// The key of the one Source node, which every fact cites.
pub const SOURCE: &str = "bench";

/// xorshift64*: deterministic, no dependency.
pub struct Rng(pub u64);

impl Rng {
    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// The graph's transactions: the source, sectors and actors first, then the agreements in
/// transactions of about 10,000 events.
pub fn transactions() -> Vec<(TxMeta, Vec<Event>)> {
    let src: Names = [Name::new(SOURCE)].into_iter().collect();
    let node = |id: String, label: &str, props: Vec<(&str, Value)>, sources| Event::NodeAdded {
        id: Name::new(id),
        labels: [Name::new(label)].into_iter().collect(),
        props: props.into_iter().map(|(k, v)| (Name::new(k), v)).collect(),
        valid: ValidTime::ALWAYS,
        sources,
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut first = vec![node(
        SOURCE.into(),
        "Source",
        vec![("key", Value::str(SOURCE))],
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
    txs
}

/// Writes the generated graph into `db` in one storage transaction.
pub fn load<L: Log>(db: &mut Database<L>) {
    db.commit_batch(transactions())
        .expect("the generated graph is valid");
}
