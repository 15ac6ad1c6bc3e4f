//! The record of one node or edge: every fact the log holds about it, whatever a view shows.
//!
//! Views answer "what was true"; this answers "what was said, when, and on whose authority":
//! the additions (each incarnation), property versions, ends, and the retractions that hid
//! any of them. `HISTORY` and `DIFF AT TX` are built on it.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use super::{Creation, End, Graph, PropVersion, SetId};
use crate::event::TxHeader;
use crate::time::{Date, TxId, ValidTime};
use crate::value::Value;

/// One fact recorded about a node or an edge.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact<'g> {
    /// The transaction that recorded it.
    pub tx: TxId,
    /// The incarnation it belongs to (the transaction that added it).
    pub owner: TxId,
    /// What it said.
    pub what: FactKind<'g>,
    /// When it held (for an end, none: the date is in `what`).
    pub valid: Option<ValidTime>,
    /// Its citation keys.
    pub sources: Vec<&'g str>,
}

/// What a fact said.
#[derive(Clone, Debug, PartialEq)]
pub enum FactKind<'g> {
    /// The node was added with these labels and the properties recorded with it.
    NodeAdded {
        /// Labels.
        labels: Vec<&'g str>,
        /// Properties given in the same transaction, valid time and sources.
        props: Vec<(&'g str, &'g Value)>,
    },
    /// The edge was added.
    EdgeAdded {
        /// Its type.
        rel_type: &'g str,
        /// Its start node's id.
        from: &'g str,
        /// Its end node's id.
        to: &'g str,
        /// Properties given in the same transaction, valid time and sources.
        props: Vec<(&'g str, &'g Value)>,
    },
    /// A property took a value (null: removed) for a valid time.
    Set {
        /// The key.
        key: &'g str,
        /// The value.
        value: &'g Value,
    },
    /// It stopped holding after this date.
    Ended {
        /// The last date it held.
        date: Date,
    },
}

impl FactKind<'_> {
    /// The order of facts within one transaction: additions, then values, then ends.
    fn rank(&self) -> u8 {
        match self {
            FactKind::NodeAdded { .. } | FactKind::EdgeAdded { .. } => 0,
            FactKind::Set { .. } => 1,
            FactKind::Ended { .. } => 2,
        }
    }
}

/// A retraction: transaction `by` hid the facts of `target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetractionInfo<'g> {
    /// The retracting transaction.
    pub by: TxId,
    /// The retracted one.
    pub target: TxId,
    /// Why, as recorded.
    pub reason: &'g str,
}

impl Graph {
    /// Every fact recorded about a node, oldest first (by transaction, then additions, values
    /// and ends). Properties recorded with an addition (same transaction, valid time and
    /// sources) are part of it.
    pub fn node_facts(&self, n: NodeIndex) -> Vec<Fact<'_>> {
        let Some(data) = self.g.node_weight(n) else {
            return Vec::new();
        };
        let mut facts = Vec::new();
        for c in &data.created {
            let labels = self.names(c.labels);
            let props = self.folded(&data.props, c);
            facts.push(self.creation_fact(c, FactKind::NodeAdded { labels, props }));
        }
        self.other_facts(&data.created, &data.props, &data.ends, &mut facts);
        sort(&mut facts);
        facts
    }

    /// Every fact recorded about an edge id (all its incarnations), oldest first.
    pub fn edge_facts(&self, e: EdgeIndex) -> Vec<Fact<'_>> {
        // Walk to the first incarnation, then forward through all of them.
        let mut first = e;
        while let Some(prev) = self
            .g
            .edge_weight(first)
            .map(|d| d.predecessor)
            .filter(|p| self.g.edge_weight(*p).is_some())
        {
            first = prev;
        }
        let mut facts = Vec::new();
        let mut at = first;
        while let Some(data) = self.g.edge_weight(at) {
            let c = &data.created;
            let (from, to) = self
                .g
                .edge_endpoints(at)
                .map_or(("", ""), |(a, b)| (&*self.g[a].id, &*self.g[b].id));
            let what = FactKind::EdgeAdded {
                rel_type: self.resolve(data.rel_type),
                from,
                to,
                props: self.folded(&data.props, c),
            };
            facts.push(self.creation_fact(c, what));
            self.other_facts(std::slice::from_ref(c), &data.props, &data.ends, &mut facts);
            at = data.successor;
        }
        sort(&mut facts);
        facts
    }

    /// The retractions that hid any of `txs`, and those that hid such retractions, in order.
    pub fn retractions_touching(&self, txs: &[TxId]) -> Vec<RetractionInfo<'_>> {
        let mut targets: Vec<TxId> = txs.to_vec();
        let mut out: Vec<RetractionInfo<'_>> = Vec::new();
        // Retractions only point backwards, so one pass in order of `by` reaches them all.
        let mut rs: Vec<&super::Retraction> = self
            .retractions
            .iter()
            .filter(|r| r.by <= self.sealed)
            .collect();
        rs.sort_by_key(|r| r.by);
        for r in rs {
            if targets.contains(&r.target) {
                targets.push(r.by);
                out.push(RetractionInfo {
                    by: r.by,
                    target: r.target,
                    reason: &r.reason,
                });
            }
        }
        out
    }

    /// Every retraction committed, in order.
    pub fn retraction_list(&self) -> Vec<RetractionInfo<'_>> {
        let mut out: Vec<RetractionInfo<'_>> = self
            .retractions
            .iter()
            .filter(|r| r.by <= self.sealed)
            .map(|r| RetractionInfo {
                by: r.by,
                target: r.target,
                reason: &r.reason,
            })
            .collect();
        out.sort_by_key(|r| r.by);
        out
    }

    /// The header of a committed transaction.
    pub fn header(&self, tx: TxId) -> Option<&TxHeader> {
        let i = usize::try_from(tx.0.checked_sub(1)?).ok()?;
        self.headers().get(i)
    }

    fn names(&self, set: SetId) -> Vec<&str> {
        self.set(set).iter().map(|s| self.resolve(*s)).collect()
    }

    fn creation_fact<'g>(&'g self, c: &Creation, what: FactKind<'g>) -> Fact<'g> {
        Fact {
            tx: c.tx,
            owner: c.tx,
            what,
            valid: Some(c.valid.valid_time()),
            sources: self.names(c.sources),
        }
    }

    /// Whether a property version was recorded as part of an addition.
    fn is_folded(v: &PropVersion, c: &Creation) -> bool {
        v.tx == c.tx && v.owner == c.tx && v.valid == c.valid && v.sources == c.sources
    }

    fn folded<'g>(&'g self, props: &'g [PropVersion], c: &Creation) -> Vec<(&'g str, &'g Value)> {
        props
            .iter()
            .filter(|v| Self::is_folded(v, c))
            .map(|v| (self.resolve(v.key), &v.value))
            .collect()
    }

    fn other_facts<'g>(
        &'g self,
        created: &[Creation],
        props: &'g [PropVersion],
        ends: &[End],
        facts: &mut Vec<Fact<'g>>,
    ) {
        let owners: Vec<TxId> = created.iter().map(|c| c.tx).collect();
        for v in props {
            let folded = created
                .iter()
                .any(|c| c.tx == v.owner && Self::is_folded(v, c));
            if folded || !owners.contains(&v.owner) {
                continue;
            }
            facts.push(Fact {
                tx: v.tx,
                owner: v.owner,
                what: FactKind::Set {
                    key: self.resolve(v.key),
                    value: &v.value,
                },
                valid: Some(v.valid.valid_time()),
                sources: self.names(v.sources),
            });
        }
        for e in ends.iter().filter(|e| owners.contains(&e.owner)) {
            facts.push(Fact {
                tx: e.tx,
                owner: e.owner,
                what: FactKind::Ended { date: e.end },
                valid: None,
                sources: self.names(e.sources),
            });
        }
    }
}

fn sort(facts: &mut [Fact<'_>]) {
    // Stable: facts of one kind in one transaction keep the order they were recorded in.
    facts.sort_by_key(|f| (f.tx, f.what.rank()));
}
