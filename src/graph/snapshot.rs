//! Canonical, comparable pictures of a view: what the invariant tests compare, and what
//! `stats` counts.

use std::collections::BTreeMap;

use super::View;
use crate::time::{TxId, ValidTime};
use crate::value::Value;

/// Everything a view shows, keyed by external id, in a canonical order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Snapshot {
    /// Nodes by id.
    pub nodes: BTreeMap<String, ItemSnapshot>,
    /// Edges by id.
    pub edges: BTreeMap<String, ItemSnapshot>,
}

/// One node or edge as a view shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemSnapshot {
    /// Labels (nodes) or `[type, from, to]` (edges).
    pub shape: Vec<String>,
    /// Resolved properties.
    pub props: BTreeMap<String, Value>,
    /// Every property version shown: key, value, valid time, sources, tx.
    pub versions: Vec<(String, Value, ValidTime, Vec<String>, TxId)>,
    /// Valid time.
    pub valid: ValidTime,
    /// Sources of the creation.
    pub sources: Vec<String>,
    /// The creating transaction.
    pub tx: TxId,
    /// The latest end: date, sources, transaction.
    pub end: Option<(String, Vec<String>, TxId)>,
}

fn owned(items: Vec<&str>) -> Vec<String> {
    let mut v: Vec<String> = items.into_iter().map(str::to_owned).collect();
    v.sort();
    v
}

impl Snapshot {
    /// Takes the snapshot of a view.
    pub fn of(view: &View<'_>) -> Snapshot {
        let mut snap = Snapshot::default();
        for n in view.nodes() {
            snap.nodes.insert(
                n.id().to_owned(),
                ItemSnapshot {
                    shape: owned(n.labels()),
                    props: props(n.properties()),
                    versions: versions(n.versions()),
                    valid: n.valid(),
                    sources: owned(n.sources()),
                    tx: n.tx(),
                    end: n.end().map(end),
                },
            );
        }
        for e in view.edges() {
            snap.edges.insert(
                e.id().to_owned(),
                ItemSnapshot {
                    shape: vec![
                        e.rel_type().to_owned(),
                        e.from().id().to_owned(),
                        e.to().id().to_owned(),
                    ],
                    props: props(e.properties()),
                    versions: versions(e.versions()),
                    valid: e.valid(),
                    sources: owned(e.sources()),
                    tx: e.tx(),
                    end: e.end().map(end),
                },
            );
        }
        snap
    }
}

fn end(e: super::view::EndInfo<'_>) -> (String, Vec<String>, TxId) {
    (e.end.to_string(), owned(e.sources), e.tx)
}

fn props(items: Vec<(&str, &Value)>) -> BTreeMap<String, Value> {
    items
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect()
}

fn versions(
    items: Vec<super::view::VersionInfo<'_>>,
) -> Vec<(String, Value, ValidTime, Vec<String>, TxId)> {
    items
        .into_iter()
        .map(|v| {
            (
                v.key.to_owned(),
                v.value.clone(),
                v.valid,
                owned(v.sources),
                v.tx,
            )
        })
        .collect()
}

/// Counts of nodes by label and edges by type in a view.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Stats {
    /// The transaction the counts are at.
    pub tx: TxId,
    /// Nodes shown.
    pub nodes: usize,
    /// Edges shown.
    pub edges: usize,
    /// Nodes per label (a node with two labels counts under both).
    pub labels: BTreeMap<String, usize>,
    /// Edges per relationship type.
    pub types: BTreeMap<String, usize>,
}

impl Stats {
    /// Counts a view.
    pub fn of(view: &View<'_>) -> Stats {
        let mut stats = Stats {
            tx: view.tx(),
            ..Stats::default()
        };
        for n in view.nodes() {
            stats.nodes += 1;
            for l in n.labels() {
                *stats.labels.entry(l.to_owned()).or_default() += 1;
            }
        }
        for e in view.edges() {
            stats.edges += 1;
            *stats.types.entry(e.rel_type().to_owned()).or_default() += 1;
        }
        stats
    }
}
