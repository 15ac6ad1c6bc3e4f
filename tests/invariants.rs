//! Invariants of the projection, as property tests on random event sequences:
//! - the view at tx n equals the graph rebuilt by replaying transactions 1..=n;
//! - replaying the whole log equals applying transactions one by one;
//! - a retraction hides its facts from views after it and not before;
//! - a refused transaction changes neither the log nor the graph.

mod common;

use common::*;
use diplograph::event::{Event, Name, Names, Target};
use diplograph::graph::Graph;
use diplograph::graph::snapshot::Snapshot;
use diplograph::log::{Log, MemoryLog};
use diplograph::time::{Bound, Date, DayRange, TxId, ValidTime};
use diplograph::{CommitError, Database, Value};
use proptest::prelude::*;

const IDS: &[&str] = &["a", "b", "c", "d", "e"];
const KEYS: &[&str] = &["s1", "s2", "s3"];

fn arb_date() -> impl Strategy<Value = Date> {
    (2000i32..2012, 0u32..3, 1u32..13, 1u32..29).prop_map(|(y, precision, m, d)| match precision {
        0 => Date::from_year(y).unwrap(),
        1 => Date::parse(&format!("{y}-{m:02}")).unwrap(),
        _ => Date::from_ymd(y, m, d).unwrap(),
    })
}

fn arb_valid() -> impl Strategy<Value = ValidTime> {
    prop_oneof![
        Just(ValidTime::ALWAYS),
        arb_date().prop_map(ValidTime::since),
        (arb_date(), arb_date()).prop_map(|(a, b)| {
            let (a, b) = if a.first_day() <= b.first_day() {
                (a, b)
            } else {
                (b, a)
            };
            ValidTime::new(Bound::Date(a), Bound::Date(b)).unwrap_or(ValidTime::since(a))
        }),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        (0i64..3).prop_map(Value::Int),
        prop::sample::select(vec!["LoI", "MoU", "ended"]).prop_map(Value::str),
        arb_date().prop_map(Value::Date),
    ]
}

fn arb_sources() -> impl Strategy<Value = Names> {
    prop_oneof![
        3 => Just(Names::new()),
        1 => prop::sample::subsequence(KEYS.to_vec(), 1..2)
            .prop_map(|v| v.into_iter().map(Name::new).collect()),
    ]
}

fn id() -> impl Strategy<Value = Name> {
    prop::sample::select(IDS.to_vec()).prop_map(Name::new)
}

fn arb_props() -> impl Strategy<Value = Vec<(Name, Value)>> {
    prop::collection::vec(
        (
            prop::sample::select(vec!["name", "stage"]).prop_map(Name::new),
            arb_value(),
        ),
        0..2,
    )
}

/// Edge endpoints favour the prelude's nodes, so that many edges are accepted.
fn endpoint() -> impl Strategy<Value = Name> {
    prop_oneof![3 => prop::sample::select(vec!["a", "b"]).prop_map(Name::new), 1 => id()]
}

fn arb_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        1 => prop::sample::select(KEYS.to_vec()).prop_map(source),
        3 => (id(), prop::sample::select(vec!["Actor", "Agreement"]), arb_props(), arb_valid(), arb_sources())
            .prop_map(|(id, label, props, valid, sources)| Event::NodeAdded {
                id,
                labels: vec![label.into()].into(),
                props,
                valid,
                sources
            }),
        3 => (id(), arb_props(), arb_valid(), arb_sources(), any::<bool>()).prop_map(
            |(id, props, valid, sources, edge)| Event::PropertiesSet {
                target: if edge { Target::Edge(id) } else { Target::Node(id) },
                props,
                valid,
                sources
            }
        ),
        1 => (id(), arb_date()).prop_map(|(id, end)| Event::NodeEnded { id, end, sources: Names::new() }),
        4 => (id(), endpoint(), endpoint(), arb_props(), arb_valid(), arb_sources()).prop_map(
            |(id, from, to, props, valid, sources)| Event::EdgeAdded {
                id,
                rel_type: "PARTY_TO".into(),
                from,
                to,
                props,
                valid,
                sources
            }
        ),
        1 => (id(), arb_date()).prop_map(|(id, end)| Event::EdgeEnded { id, end, sources: Names::new() }),
        1 => (1u64..12).prop_map(|tx| retract(tx, "test")),
    ]
}

/// A prelude of sources and two nodes, so that later events have something to refer to,
/// then random transactions (many of which validation refuses, which is tested too).
fn arb_transactions() -> impl Strategy<Value = Vec<Vec<Event>>> {
    prop::collection::vec(prop::collection::vec(arb_event(), 1..3), 1..24).prop_map(|mut txs| {
        let prelude = vec![
            source("s1"),
            source("s2"),
            node(
                "a",
                "Actor",
                &[("name", Value::str("A"))],
                "2001/..",
                &["s1"],
            ),
            node(
                "b",
                "Agreement",
                &[("stage", Value::str("LoI"))],
                "2005-03/..",
                &["s2"],
            ),
        ];
        txs.insert(0, prelude);
        txs
    })
}

fn filters() -> Vec<Option<DayRange>> {
    vec![
        None,
        Some(DayRange::parse("2003").unwrap()),
        Some(DayRange::parse("2008-06-15").unwrap()),
    ]
}

fn snapshot(graph: &Graph, tx: TxId, filter: Option<DayRange>) -> Snapshot {
    let view = graph.view_at(tx);
    match filter {
        Some(r) => Snapshot::of(&view.during(r)),
        None => Snapshot::of(&view),
    }
}

/// Commits each transaction, checking that a refused one leaves no trace.
fn build(txs: Vec<Vec<Event>>) -> Result<Database<MemoryLog>, TestCaseError> {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    for events in txs {
        let before = Snapshot::of(&db.view());
        let head = db.log().head();
        match db.commit(meta("random"), events) {
            Ok(h) => prop_assert_eq!(h.tx, head.next()),
            Err(CommitError::Refused(_)) => {
                prop_assert_eq!(db.log().head(), head);
                prop_assert_eq!(&Snapshot::of(&db.view()), &before);
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        }
    }
    Ok(db)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn past_views_equal_replays_of_their_prefix(txs in arb_transactions()) {
        let db = build(txs)?;
        let head = db.log().head();
        for n in 0..=head.0 {
            let replayed = Graph::replay(db.log(), Some(TxId(n))).unwrap();
            for f in filters() {
                prop_assert_eq!(
                    snapshot(db.graph(), TxId(n), f),
                    snapshot(&replayed, TxId(n), f),
                    "tx {} filter {:?}", n, f
                );
            }
        }
    }

    #[test]
    fn replaying_the_log_equals_applying_one_by_one(txs in arb_transactions()) {
        let db = build(txs)?;
        let replayed = Graph::replay(db.log(), None).unwrap();
        prop_assert_eq!(replayed.tx(), db.tx());
        prop_assert_eq!(replayed.headers(), db.graph().headers());
        for n in 0..=db.tx().0 {
            prop_assert_eq!(snapshot(&replayed, TxId(n), None), snapshot(db.graph(), TxId(n), None));
        }
    }

    #[test]
    fn a_retraction_hides_its_facts_after_it_and_not_before(txs in arb_transactions()) {
        let db = build(txs)?;
        let g = db.graph();
        // Find retractions in the log, and check each at its own transaction.
        struct Finder(Vec<(TxId, TxId)>);
        impl diplograph::log::LogVisitor for Finder {
            type Error = diplograph::LogError;
            fn begin_tx(&mut self, _: &diplograph::TxHeader) -> Result<(), Self::Error> { Ok(()) }
            fn end_tx(&mut self, _: &diplograph::TxHeader) -> Result<(), Self::Error> { Ok(()) }
            fn event(&mut self, tx: TxId, _: u32, e: Event) -> Result<(), Self::Error> {
                if let Event::TxRetracted { tx: target, .. } = e { self.0.push((tx, target)); }
                Ok(())
            }
        }
        let mut finder = Finder(Vec::new());
        db.log().scan(TxId(1), db.tx(), &mut finder).unwrap();
        let all = finder.0.clone();
        for (by, target) in finder.0 {
            let before = g.view_at(TxId(by.0 - 1));
            let after = g.view_at(by);
            prop_assert!(!after.knows(target));
            // A transaction may first retract the retraction that hid the target (bringing
            // it back) and then retract the target again: before it, the target was hidden.
            let restored_first = all
                .iter()
                .any(|&(t, r)| t == by && all.iter().any(|&(h, x)| h == r && x == target));
            if restored_first {
                prop_assert!(!before.knows(target));
                continue;
            }
            prop_assert!(before.knows(target));
            for n in after.nodes() {
                prop_assert_ne!(n.tx(), target);
                prop_assert!(n.versions().iter().all(|v| v.tx != target));
            }
            for e in after.edges() {
                prop_assert_ne!(e.tx(), target);
                prop_assert!(e.versions().iter().all(|v| v.tx != target));
            }
            // Before it, every node the target added is there (in some incarnation).
            let snap = Snapshot::of(&g.view_at(target));
            for (id, item) in &snap.nodes {
                if item.tx == target {
                    prop_assert!(before.node(id).is_some(), "node {} hidden too early", id);
                }
            }
        }
    }
}
