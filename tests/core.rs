//! The write path and the bitemporal views, on small stories from the paper's domain.

mod common;

use common::*;
use diplograph::graph::snapshot::Snapshot;
use diplograph::log::{Log, MemoryLog};
use diplograph::{CommitError, Database, DayRange, Refusal, TxId, Value};

fn kb() -> Database<MemoryLog> {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    db.commit(
        meta("sources"),
        vec![source("bantenprov2022"), source("syuryansyah2024")],
    )
    .unwrap();
    db.commit(
        meta("actors"),
        vec![
            node(
                "banten",
                "Actor",
                &[("name", "Banten".into())],
                "2000/..",
                &["syuryansyah2024"],
            ),
            node(
                "incheon",
                "Actor",
                &[("name", "Incheon".into())],
                "../..",
                &[],
            ),
        ],
    )
    .unwrap();
    db.commit(
        meta("the LoI"),
        vec![
            node(
                "loi-incheon",
                "Agreement",
                &[("type", "LoI".into()), ("stage", "LoI".into())],
                "2007-02-06/..",
                &["bantenprov2022"],
            ),
            edge(
                "p1",
                "PARTY_TO",
                "banten",
                "loi-incheon",
                "2007-02-06/..",
                &["bantenprov2022"],
            ),
            edge(
                "p2",
                "PARTY_TO",
                "incheon",
                "loi-incheon",
                "2007-02-06/..",
                &["bantenprov2022"],
            ),
        ],
    )
    .unwrap();
    db
}

fn as_of(text: &str) -> DayRange {
    DayRange::parse(text).unwrap()
}

#[test]
fn a_property_has_a_value_over_valid_time() {
    let mut db = kb();
    db.commit(
        meta("became an MoU"),
        vec![set_node(
            "loi-incheon",
            &[("stage", "MoU".into())],
            "2010/..",
            &[],
        )],
    )
    .unwrap();
    let stage = |range: Option<&str>| {
        let mut view = db.view();
        if let Some(r) = range {
            view = view.during(as_of(r));
        }
        let node = view
            .node("loi-incheon")
            .map(|n| n.property("stage").cloned());
        node.flatten()
    };
    assert_eq!(stage(Some("2012")), Some(Value::str("MoU")));
    assert_eq!(stage(Some("2008")), Some(Value::str("LoI")));
    assert_eq!(stage(None), Some(Value::str("MoU")), "today's value");
    assert_eq!(stage(Some("2005")), None, "not signed yet in 2005");
    // The record before the change still says LoI: transaction time.
    let before = db.graph().view_at(TxId(3)).during(as_of("2012"));
    assert_eq!(
        before.node("loi-incheon").unwrap().property("stage"),
        Some(&Value::str("LoI"))
    );
}

#[test]
fn a_year_precision_end_covers_the_whole_year() {
    let mut db = kb();
    db.commit(meta("ended"), vec![end_edge("p1", "2004")])
        .expect_err("an end before the start is refused");
    db.commit(meta("ended"), vec![end_node("loi-incheon", "2014")])
        .unwrap();
    let view = db.view().during(as_of("2014-12-31"));
    assert!(view.node("loi-incheon").is_some());
    assert!(
        db.view()
            .during(as_of("2015-01-01"))
            .node("loi-incheon")
            .is_none()
    );
    // Edges of an ended node drop out with it: a view is always a subgraph.
    assert!(db.view().during(as_of("2015")).edge("p1").is_none());
    assert_eq!(
        db.view().node("loi-incheon").unwrap().valid().to_string(),
        "2007-02-06/2014"
    );
}

fn refused(result: Result<diplograph::TxHeader, CommitError>) -> (u32, Refusal, String) {
    match result {
        Err(CommitError::Refused(e)) => (e.index, e.reason.clone(), e.to_string()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn refused_transactions_leave_nothing_behind() {
    let mut db = kb();
    let before = Snapshot::of(&db.view());
    let head = db.log().head();
    let cases = vec![
        (
            vec![
                node("x", "Actor", &[], "../..", &[]),
                edge("e", "T", "x", "nowhere", "../..", &[]),
            ],
            1,
            Refusal::UnknownNode("nowhere".into()),
        ),
        (
            vec![node("banten", "Actor", &[], "../..", &[])],
            0,
            Refusal::DuplicateNode("banten".into()),
        ),
        (
            vec![node("y", "Actor", &[], "../..", &["no-such-key"])],
            0,
            Refusal::UnknownSource("no-such-key".into()),
        ),
        (
            vec![edge("p1", "PARTY_TO", "banten", "incheon", "../..", &[])],
            0,
            Refusal::DuplicateEdge("p1".into()),
        ),
        (vec![retract(99, "typo")], 0, Refusal::UnknownTx(TxId(99))),
        (
            vec![set_node(
                "banten",
                &[("x", Value::Float(f64::NAN))],
                "../..",
                &[],
            )],
            0,
            Refusal::BadValue {
                key: "x".into(),
                detail: "expected a finite number, but found `NaN`".into(),
            },
        ),
    ];
    for (events, index, reason) in cases {
        let (i, r, message) = refused(db.commit(meta("bad"), events));
        assert_eq!((i, &r), (index, &reason), "{message}");
        assert!(
            message.starts_with(&format!("tx 4, event {index} (")),
            "{message}"
        );
        assert_eq!(db.log().head(), head);
        assert_eq!(Snapshot::of(&db.view()), before);
    }
    // The same ids are still free for a good transaction.
    db.commit(meta("good"), vec![node("x", "Actor", &[], "../..", &[])])
        .unwrap();
    assert_eq!(db.tx(), TxId(4));
}

#[test]
fn an_edge_may_point_to_a_node_added_earlier_in_the_same_transaction() {
    let mut db = kb();
    db.commit(
        meta("together"),
        vec![
            node(
                "zhejiang",
                "Actor",
                &[("name", "Zhejiang".into())],
                "../..",
                &[],
            ),
            edge("p3", "PARTY_TO", "zhejiang", "loi-incheon", "../..", &[]),
            end_edge("p3", "2022"),
        ],
    )
    .unwrap();
    assert_eq!(db.view().edge("p3").unwrap().valid().to_string(), "../2022");
}

#[test]
fn a_retraction_hides_facts_after_it_and_not_before() {
    let mut db = kb();
    db.commit(
        meta("wrong partner"),
        vec![
            node(
                "daejeon",
                "Actor",
                &[("name", "Daejeon".into())],
                "../..",
                &[],
            ),
            edge("p9", "PARTY_TO", "daejeon", "loi-incheon", "../..", &[]),
        ],
    )
    .unwrap(); // tx 4
    db.commit(
        meta("correction"),
        vec![retract(4, "Daejeon signed with South Tangerang")],
    )
    .unwrap(); // tx 5
    assert!(db.graph().view_at(TxId(4)).edge("p9").is_some());
    assert!(db.graph().view_at(TxId(5)).edge("p9").is_none());
    assert!(db.view().node("daejeon").is_none());
    let refusal = refused(db.commit(meta("again"), vec![retract(4, "twice")])).1;
    assert_eq!(refusal, Refusal::AlreadyRetracted(TxId(4)));

    // The id is free again: re-adding it makes a new incarnation, without the old edge.
    db.commit(
        meta("re-added"),
        vec![node(
            "daejeon",
            "Actor",
            &[("kind", "city".into())],
            "../..",
            &[],
        )],
    )
    .unwrap(); // tx 6
    let d = db
        .view()
        .node("daejeon")
        .map(|n| (n.tx(), n.properties().len()));
    assert_eq!(d, Some((TxId(6), 1)), "the old incarnation's name is gone");
    assert!(db.view().edge("p9").is_none());

    // Retracting the retraction restores tx 4; the newest incarnation still wins.
    db.commit(meta("undo"), vec![retract(5, "the correction was wrong")])
        .unwrap(); // tx 7
    assert!(
        db.graph()
            .view_at(TxId(6))
            .node("daejeon")
            .unwrap()
            .property("name")
            .is_none()
    );
    assert_eq!(db.view().node("daejeon").unwrap().tx(), TxId(6));
    assert!(
        db.view().edge("p9").is_none(),
        "p9 belongs to the old incarnation"
    );
}

#[test]
fn indexes_find_by_label_and_property_in_the_pinned_view() {
    let mut db = kb();
    db.commit(
        meta("renamed"),
        vec![set_node(
            "banten",
            &[("name", "Banten Province".into())],
            "../..",
            &[],
        )],
    )
    .unwrap();
    let name = |s: &str| Value::str(s);
    let find = |view: &diplograph::View<'_>, s: &str| {
        let v = name(s);
        view.nodes_by_property("Actor", "name", &v)
            .map(|n| n.id().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(find(&db.view(), "Banten Province"), vec!["banten"]);
    assert!(find(&db.view(), "Banten").is_empty());
    assert_eq!(find(&db.graph().view_at(TxId(3)), "Banten"), vec!["banten"]);
    let actors: Vec<_> = db
        .view()
        .nodes_with_label("Actor")
        .map(|n| n.id().to_owned())
        .collect();
    assert_eq!(actors, vec!["banten", "incheon"]);
    assert_eq!(db.view().edges_of_type("PARTY_TO").count(), 2);
}

#[test]
fn a_failing_log_loses_nothing_acknowledged_and_keeps_nothing_refused() {
    let mut db = Database::open(MemoryLog::failing_after(3)).unwrap();
    db.commit(meta("ok"), vec![source("s1"), source("s2")])
        .unwrap(); // 3 writes
    let before = Snapshot::of(&db.view());
    let err = db
        .commit(
            meta("fails"),
            vec![node("a", "Actor", &[], "../..", &["s1"])],
        )
        .unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");
    assert_eq!(db.log().head(), TxId(1));
    assert_eq!(Snapshot::of(&db.view()), before);
    let log = db.into_log();
    let replayed = Database::open(log).unwrap();
    assert_eq!(Snapshot::of(&replayed.view()), before);
}

/// A commit that fails to reach the log takes back the edges it added from the type index
/// too, whether their type is new or known; and the knowledge base goes on as before.
#[test]
fn a_failed_commit_takes_its_edges_out_of_the_type_index() {
    let mut log = kb().into_log();
    log.set_failing_after(Some(2));
    let mut db = Database::open(log).unwrap();
    let tx = db.tx();
    let count = |db: &Database<MemoryLog>| {
        (
            db.graph().type_count("PARTY_TO"),
            db.graph().type_count("COVERS"),
            db.view().edges_of_type("PARTY_TO").count(),
        )
    };
    let before = (count(&db), Snapshot::of(&db.view()));
    assert_eq!(before.0, (2, 0, 2));
    let events = vec![
        edge("p3", "PARTY_TO", "banten", "incheon", "../..", &[]),
        edge("c1", "COVERS", "loi-incheon", "banten", "../..", &[]),
        edge("p4", "PARTY_TO", "incheon", "banten", "../..", &[]),
    ];
    assert!(db.commit(meta("fails"), events.clone()).is_err());
    assert_eq!((count(&db), Snapshot::of(&db.view())), before);
    assert_eq!(db.tx(), tx);
    let mut log = db.into_log();
    log.set_failing_after(None);
    let mut db = Database::open(log).unwrap();
    assert_eq!((count(&db), Snapshot::of(&db.view())), before);
    db.commit(meta("lands"), events).unwrap();
    assert_eq!(count(&db), (4, 1, 4));
}

#[test]
fn a_batch_lands_whole_or_not_at_all() {
    let mut db = kb();
    let before = Snapshot::of(&db.view());
    let result = db.commit_batch(vec![
        (meta("a"), vec![node("a", "Actor", &[], "../..", &[])]),
        (
            meta("b"),
            vec![edge("e", "T", "a", "missing", "../..", &[])],
        ),
    ]);
    assert!(result.is_err());
    assert_eq!(Snapshot::of(&db.view()), before);
    assert_eq!(db.tx(), TxId(3));
    let headers = db
        .commit_batch(vec![
            (meta("a"), vec![node("a", "Actor", &[], "../..", &[])]),
            (meta("b"), vec![edge("e", "T", "a", "banten", "../..", &[])]),
        ])
        .unwrap();
    assert_eq!(
        headers.iter().map(|h| h.tx.0).collect::<Vec<_>>(),
        vec![4, 5]
    );
    assert!(db.view().edge("e").is_some());
}

/// Regression: after a retraction of a retraction restored an older edge incarnation, END and
/// SET on that edge were validated against the restored one but written to the newest
/// (hidden) one, and silently lost.
#[test]
fn changes_to_a_restored_edge_land_on_the_incarnation_shown() {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    db.commit(
        meta("nodes"),
        vec![
            node("a", "Actor", &[], "../..", &[]),
            node("b", "Actor", &[], "../..", &[]),
        ],
    )
    .unwrap(); // 1
    db.commit(meta("edge"), vec![edge("e", "T", "a", "b", "../..", &[])])
        .unwrap(); // 2
    db.commit(meta("undo edge"), vec![retract(2, "wrong")])
        .unwrap(); // 3
    db.commit(
        meta("edge again"),
        vec![edge("e", "T", "b", "a", "../..", &[])],
    )
    .unwrap(); // 4
    db.commit(meta("undo again"), vec![retract(4, "wrong too")])
        .unwrap(); // 5
    db.commit(meta("restore"), vec![retract(3, "the first was right")])
        .unwrap(); // 6
    assert_eq!(db.view().edge("e").unwrap().tx(), TxId(2));
    let set = diplograph::Event::PropertiesSet {
        target: diplograph::Target::Edge("e".into()),
        props: props(&[("k", Value::Int(1))]),
        valid: diplograph::ValidTime::ALWAYS,
        sources: vec![].into(),
    };
    db.commit(meta("end and set"), vec![end_edge("e", "2000"), set])
        .unwrap();
    let e = db
        .view()
        .edge("e")
        .map(|e| (e.valid().to_string(), e.property("k").cloned()));
    assert_eq!(e, Some(("../2000".to_owned(), Some(Value::Int(1)))));
    let replayed = diplograph::Graph::replay(db.log(), None).unwrap();
    assert_eq!(Snapshot::of(&replayed.view()), Snapshot::of(&db.view()));
}

/// Regression: a node re-added in the same transaction that retracted its first creation
/// inherited the old incarnation's END and properties (and a reversed valid time).
#[test]
fn a_node_re_added_in_the_retracting_transaction_starts_clean() {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    db.commit(meta("a"), vec![node("a", "A", &[], "2000/..", &[])])
        .unwrap(); // 1
    db.commit(
        meta("replace a"),
        vec![
            end_node("a", "2005"),
            set_node("a", &[("old", Value::Int(1))], "../..", &[]),
            retract(1, "wrong node"),
            node("a", "B", &[], "2010/..", &[]),
        ],
    )
    .unwrap();
    let a = db.view().node("a").map(|n| {
        (
            n.valid().to_string(),
            n.properties().len(),
            n.end().is_none(),
        )
    });
    assert_eq!(a, Some(("2010/..".to_owned(), 0, true)));
}

/// Regression: with an older incarnation restored, a SET was indexed under the newest
/// incarnation's labels, so lookups by the shown labels missed it.
#[test]
fn a_restored_incarnation_is_indexed_under_its_own_labels() {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    db.commit(meta("n as A"), vec![node("n", "A", &[], "../..", &[])])
        .unwrap(); // 1
    db.commit(meta("undo"), vec![retract(1, "x")]).unwrap(); // 2
    db.commit(meta("n as B"), vec![node("n", "B", &[], "../..", &[])])
        .unwrap(); // 3
    db.commit(meta("undo B"), vec![retract(3, "x")]).unwrap(); // 4
    db.commit(meta("restore A"), vec![retract(2, "x")]).unwrap(); // 5
    db.commit(
        meta("set"),
        vec![set_node("n", &[("k", Value::Int(7))], "../..", &[])],
    )
    .unwrap();
    let seven = Value::Int(7);
    assert_eq!(db.view().nodes_by_property("A", "k", &seven).count(), 1);
}

/// Regression: a panic inside a `write` closure (caught by the caller) left pending facts in
/// the graph, which the next commit then sealed although the log never held them.
#[test]
fn a_write_that_panicked_leaves_nothing_behind() {
    let mut db = kb();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = db.write(|w| {
            w.begin_tx(&meta("ghost"), None)?;
            w.append(node("ghost", "Actor", &[], "../..", &[]))?;
            panic!("the caller's code failed");
            #[allow(unreachable_code)]
            Ok::<(), CommitError>(())
        });
    }));
    assert!(caught.is_err());
    db.commit(meta("real"), vec![node("real", "Actor", &[], "../..", &[])])
        .unwrap();
    assert!(db.view().node("ghost").is_none());
    let replayed = diplograph::Graph::replay(db.log(), None).unwrap();
    assert_eq!(Snapshot::of(&replayed.view()), Snapshot::of(&db.view()));
}

/// A write whose closure ignores an error and goes on commits nothing.
#[test]
fn a_write_that_goes_on_after_an_error_commits_nothing() {
    let mut db = kb();
    let before = Snapshot::of(&db.view());
    let result = db.write(|w| {
        w.begin_tx(&meta("careless"), None)?;
        let _ = w.append(edge("bad", "T", "banten", "nowhere", "../..", &[]));
        w.append(node("later", "Actor", &[], "../..", &[]))
            .and_then(|()| w.end_tx().map(|_| ()))
            .or(Ok::<(), CommitError>(()))
    });
    assert!(result.is_err(), "{result:?}");
    assert_eq!(Snapshot::of(&db.view()), before);
    assert_eq!(db.log().head(), TxId(3));
}

/// Regression: retracting a retraction restored a Source whose key another Source had taken
/// meanwhile, leaving two Sources with one key.
#[test]
fn restoring_a_source_whose_key_was_taken_is_refused() {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    db.commit(meta("k1"), vec![source("k1")]).unwrap(); // 1
    db.commit(meta("undo"), vec![retract(1, "x")]).unwrap(); // 2
    let mut again = source("k1");
    if let diplograph::Event::NodeAdded { id, .. } = &mut again {
        *id = "k1-again".into();
    }
    db.commit(meta("k1 again"), vec![again]).unwrap(); // 3
    let (_, reason, _) = refused(db.commit(meta("restore"), vec![retract(2, "x")]));
    assert_eq!(reason, Refusal::DuplicateSourceKey("k1".into()));
    assert_eq!(db.tx(), TxId(3));
}
