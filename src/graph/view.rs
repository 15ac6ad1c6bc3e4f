//! Views: the graph as it was known after a transaction, optionally restricted to facts valid
//! during a range of days.
//!
//! Visibility rules, all decided here and nowhere else:
//! - A fact is known at transaction `n` when the transaction that added it is `≤ n` and is not
//!   hidden by a retraction in effect at `n` ([`Graph::dead_at`]).
//! - A node exists when one of its creations is known; the latest known one gives its labels,
//!   valid time and sources. Each property version and end is stamped with the incarnation it
//!   was recorded for (the one shown when it was written); those of other incarnations are
//!   not shown.
//! - A node's valid time is its creation's, with the end replaced by the latest known `END`.
//! - An edge is shown when it is known, no later incarnation of its id is known, and both its
//!   endpoints are shown (so a view is always a subgraph).
//! - With a valid-time range, nodes and edges are shown when their valid time overlaps it.
//! - A property's value is decided among its known versions valid in the range (the whole
//!   time line when there is none): the one valid latest within the range wins, and among
//!   those, the one recorded last — `max(min(end, range end), tx, position)`. So a later
//!   write overrides earlier ones for the valid period it names, and only there:
//!   `SET a.stage = "MoU" VALID FROM 2010` over a stage `LoI` valid from 2007 makes `MoU`
//!   the stage as of 2012 and today, and leaves `LoI` as of 2008; a `SET` with no valid time
//!   replaces the value for all time. A null value means "no value" for its valid time.

use std::sync::Arc;

use petgraph::Direction;
use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef as _;

use super::accel::Pieces;
use super::{Creation, DeadSet, End, Graph, PropVersion, SetId, Span, Sym, prop_key};
use crate::time::{Bound, Date, Day, DayRange, TxId, ValidTime};
use crate::value::Value;

/// The graph as known after transaction `tx`, optionally restricted in valid time.
#[derive(Clone)]
pub struct View<'g> {
    graph: &'g Graph,
    tx: TxId,
    valid: Option<DayRange>,
    dead: Arc<DeadSet>,
    /// Every fact stored is shown: the view pins the newest transaction applied, has no
    /// valid-time range, and the graph holds no retraction. Then each node has one
    /// creation and no edge a successor, so visibility needs no checks.
    everything: bool,
    /// Read-optimised pieces of the same state ([`super::accel`]), when a scan built them.
    pieces: Option<Arc<Pieces>>,
}

impl std::fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("View")
            .field("tx", &self.tx)
            .field("valid", &self.valid)
            .finish()
    }
}

impl<'g> View<'g> {
    pub(crate) fn new(graph: &'g Graph, tx: TxId) -> View<'g> {
        View {
            graph,
            tx,
            valid: None,
            dead: graph.dead_at(tx),
            everything: tx >= graph.head && graph.retractions.is_empty(),
            pieces: None,
        }
    }

    /// Whether the view shows every fact stored: it pins the newest transaction, has no
    /// valid-time range, and the graph holds no retraction.
    pub fn shows_everything(&self) -> bool {
        self.everything
    }

    /// The same view, reading through `pieces` where they answer. Ignored unless the view
    /// shows everything and the pieces are of the graph as it is.
    pub fn with_pieces(mut self, pieces: Option<Arc<Pieces>>) -> View<'g> {
        self.pieces = pieces.filter(|p| self.everything && p.generation() == self.graph.generation);
        self
    }

    /// The read-optimised pieces this view reads through, if any.
    pub fn pieces(&self) -> Option<&Pieces> {
        self.pieces.as_deref()
    }

    /// The read-optimised pieces this view reads through, shared (to tell them apart).
    pub fn shared_pieces(&self) -> Option<&Arc<Pieces>> {
        self.pieces.as_ref()
    }

    /// The same transaction time, restricted to facts valid at some day of `range`.
    pub fn during(mut self, range: DayRange) -> View<'g> {
        self.valid = Some(range);
        self.everything = false;
        self.pieces = None;
        self
    }

    /// The transaction this view pins.
    pub fn tx(&self) -> TxId {
        self.tx
    }

    /// The valid-time restriction, if any.
    pub fn valid_range(&self) -> Option<DayRange> {
        self.valid
    }

    /// The underlying graph.
    pub fn graph(&self) -> &'g Graph {
        self.graph
    }

    /// Whether facts of transaction `tx` are known in this view.
    pub fn knows(&self, tx: TxId) -> bool {
        self.everything || tx <= self.tx && (self.dead.is_empty() || !self.dead.contains(&tx))
    }

    fn valid_ok(&self, valid: &Span) -> bool {
        self.valid.is_none_or(|r| valid.overlaps(r))
    }

    /// The latest known creation of a node: whether it exists at all in this transaction time.
    pub(crate) fn creation(&self, n: NodeIndex) -> Option<&'g Creation> {
        let data = self.graph.g.node_weight(n)?;
        if self.everything {
            return data.created.last();
        }
        data.created.iter().rev().find(|c| self.knows(c.tx))
    }

    fn node_valid(&self, n: NodeIndex, c: &Creation) -> Span {
        let data = &self.graph.g[n];
        let end = data
            .ends
            .iter()
            .rev()
            .find(|e| e.owner == c.tx && self.knows(e.tx));
        match end {
            Some(e) => c.valid.ended_at(&e.end),
            None => c.valid,
        }
    }

    /// Whether the node is shown in this view.
    pub fn node_visible(&self, n: NodeIndex) -> bool {
        if let Some(labels) = self.pieces.as_ref().and_then(|p| p.labels(n)) {
            return labels.is_some();
        }
        match self.creation(n) {
            Some(c) => self.valid.is_none() || self.valid_ok(&self.node_valid(n, c)),
            None => false,
        }
    }

    /// Whether the edge is shown in this view.
    pub fn edge_visible(&self, e: EdgeIndex) -> bool {
        if let Some(valid) = self.pieces.as_ref().and_then(|p| p.edge_valid(e)) {
            return valid.is_some();
        }
        let g = &self.graph.g;
        let Some(data) = g.edge_weight(e) else {
            return false;
        };
        if self.everything {
            return true;
        }
        if !self.knows(data.created.tx) {
            return false;
        }
        // A later incarnation of the same id, when known, replaces this one.
        let mut next = data.successor;
        while let Some(later) = g.edge_weight(next) {
            if self.knows(later.created.tx) {
                return false;
            }
            next = later.successor;
        }
        let Some((a, b)) = g.edge_endpoints(e) else {
            return false;
        };
        for n in [a, b] {
            match self.creation(n) {
                // An edge added before its endpoint's current incarnation belongs to the old one.
                Some(c) if c.tx <= data.created.tx => {}
                _ => return false,
            }
            if self.valid.is_some() && !self.node_visible(n) {
                return false;
            }
        }
        self.valid.is_none() || self.valid_ok(&self.edge_valid(e))
    }

    /// The valid time of edge `e` as stored, if the edge is shown: one lookup where the
    /// valid times are laid out (`edge_at(e)` and then its span is two).
    pub(crate) fn shown_edge_span(&self, e: EdgeIndex) -> Option<Span> {
        if let Some(valid) = self.pieces.as_ref().and_then(|p| p.edge_valid(e)) {
            return valid;
        }
        self.edge_visible(e).then(|| self.edge_valid(e))
    }

    pub(crate) fn edge_valid(&self, e: EdgeIndex) -> Span {
        if let Some(Some(valid)) = self.pieces.as_ref().and_then(|p| p.edge_valid(e)) {
            return valid;
        }
        let data = &self.graph.g[e];
        match data.ends.iter().rev().find(|x| self.knows(x.tx)) {
            Some(x) => data.created.valid.ended_at(&x.end),
            None => data.created.valid,
        }
    }

    /// The node with this external id, if shown.
    pub fn node(&self, id: &str) -> Option<NodeRef<'_>> {
        let n = self.graph.node_index(id)?;
        self.node_visible(n).then_some(NodeRef { view: self, n })
    }

    /// A node by index, if shown.
    pub fn node_at(&self, n: NodeIndex) -> Option<NodeRef<'_>> {
        self.node_visible(n).then_some(NodeRef { view: self, n })
    }

    /// The edge with this external id, if shown.
    pub fn edge(&self, id: &str) -> Option<EdgeRef<'_>> {
        self.edge_shown_from(self.graph.edge_index(id)?)
    }

    /// The incarnation shown of an edge id, looking from incarnation `e` back.
    pub(crate) fn edge_shown_from(&self, mut e: EdgeIndex) -> Option<EdgeRef<'_>> {
        let g = &self.graph.g;
        loop {
            if self.edge_visible(e) {
                return Some(EdgeRef { view: self, e });
            }
            e = g.edge_weight(e)?.predecessor;
        }
    }

    /// An edge by index, if shown.
    pub fn edge_at(&self, e: EdgeIndex) -> Option<EdgeRef<'_>> {
        self.edge_visible(e).then_some(EdgeRef { view: self, e })
    }

    /// Every node shown.
    pub fn nodes(&self) -> impl Iterator<Item = NodeRef<'_>> + '_ {
        self.graph
            .g
            .node_indices()
            .filter(|&n| self.node_visible(n))
            .map(|n| NodeRef { view: self, n })
    }

    /// Every edge shown.
    pub fn edges(&self) -> impl Iterator<Item = EdgeRef<'_>> + '_ {
        self.graph
            .g
            .edge_indices()
            .filter(|&e| self.edge_visible(e))
            .map(|e| EdgeRef { view: self, e })
    }

    /// Nodes shown that carry `label`, by the label index.
    pub fn nodes_with_label(&self, label: &str) -> impl Iterator<Item = NodeRef<'_>> + '_ {
        let sym = self.graph.symbol(label);
        let list = sym
            .and_then(|s| self.graph.by_label.get(&s))
            .map_or(&[][..], Vec::as_slice);
        list.iter().filter_map(move |&n| {
            let node = self.node_at(n)?;
            node.has_label_sym(sym?).then_some(node)
        })
    }

    /// Edges shown of relationship type `rel_type`, by the type index.
    pub fn edges_of_type(&self, rel_type: &str) -> impl Iterator<Item = EdgeRef<'_>> + '_ {
        let list = self
            .graph
            .symbol(rel_type)
            .and_then(|s| self.graph.by_type.get(&s))
            .map_or(&[][..], Vec::as_slice);
        list.iter().filter_map(move |&e| self.edge_at(e))
    }

    /// Nodes shown that carry `label` and whose property `key` has `value` in this view, by
    /// the property index. Floats and lists are not indexed: this finds none for them.
    pub fn nodes_by_property<'v>(
        &'v self,
        label: &str,
        key: &str,
        value: &'v Value,
    ) -> impl Iterator<Item = NodeRef<'v>> + 'v {
        let syms = self.graph.symbol(label).zip(self.graph.symbol(key));
        let candidates = syms
            .and_then(|(l, k)| self.graph.by_prop.get(&prop_key(l, k, value)))
            .map_or(&[][..], |p| p.as_slice());
        candidates.iter().filter_map(move |&n| {
            let (l, k) = syms?;
            let node = self.node_at(n)?;
            (node.has_label_sym(l) && node.property_sym(k) == Some(value)).then_some(node)
        })
    }

    /// Whether a `Source` node with this key is shown.
    pub fn source_exists(&self, key: &str) -> bool {
        let value = Value::str(key);
        self.nodes_by_property("Source", "key", &value)
            .next()
            .is_some()
    }

    /// Resolves a property among versions by the rule in the module doc.
    fn resolve(&self, versions: &'g [PropVersion], key: Sym, since: TxId) -> Option<&'g Value> {
        self.resolve_version(versions, key, since)
            .map(|v| &v.value)
            .filter(|v| !v.is_null())
    }

    /// The version that decides a property's value (a null value included).
    fn resolve_version(
        &self,
        versions: &'g [PropVersion],
        key: Sym,
        since: TxId,
    ) -> Option<&'g PropVersion> {
        let range_last = self.valid.map_or(Day::MAX, |r| r.last);
        let mut best: Option<(&'g PropVersion, (Day, TxId))> = None;
        for v in versions {
            if v.key != key || v.owner != since || !self.knows(v.tx) || !self.valid_ok(&v.valid) {
                continue;
            }
            let rank = (v.valid.last.min(range_last), v.tx);
            // `>=`: among equals, the later version (later in its transaction) wins.
            if best.as_ref().is_none_or(|(_, r)| rank >= *r) {
                best = Some((v, rank));
            }
        }
        best.map(|(v, _)| v)
    }

    /// Property versions known in this view, valid in its range, in the order recorded.
    fn versions(
        &self,
        versions: &'g [PropVersion],
        since: TxId,
    ) -> impl Iterator<Item = &'g PropVersion> + '_ {
        versions
            .iter()
            .filter(move |v| v.owner == since && self.knows(v.tx) && self.valid_ok(&v.valid))
    }

    fn keys_in_order(&self, versions: &'g [PropVersion], since: TxId) -> Vec<Sym> {
        let mut keys: Vec<Sym> = Vec::new();
        for v in self.versions(versions, since) {
            if !keys.contains(&v.key) {
                keys.push(v.key);
            }
        }
        keys
    }

    fn names(&self, set: SetId) -> Vec<&'g str> {
        self.graph
            .set(set)
            .iter()
            .map(|&s| self.graph.resolve(s))
            .collect()
    }
}

/// One version of a property, as a view shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionInfo<'g> {
    /// The property.
    pub key: &'g str,
    /// The value (null: removed for that valid time).
    pub value: &'g Value,
    /// When it held.
    pub valid: ValidTime,
    /// Its citation keys.
    pub sources: Vec<&'g str>,
    /// The transaction that recorded it.
    pub tx: TxId,
}

/// A node shown in a view.
#[derive(Clone, Copy)]
pub struct NodeRef<'v> {
    view: &'v View<'v>,
    n: NodeIndex,
}

impl std::fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({})", self.id())
    }
}

impl<'v> NodeRef<'v> {
    fn creation(&self) -> &'v Creation {
        // A NodeRef is only made for a node whose creation the view knows.
        self.view
            .creation(self.n)
            .unwrap_or(&self.view.graph.g[self.n].created[0])
    }

    /// The petgraph index.
    pub fn index(&self) -> NodeIndex {
        self.n
    }

    /// The stable external id.
    pub fn id(&self) -> &'v str {
        if let Some(id) = self.view.pieces.as_ref().and_then(|p| p.id(self.n)) {
            return id;
        }
        &self.view.graph.g[self.n].id
    }

    /// Labels, sorted by first appearance in the graph.
    pub fn labels(&self) -> Vec<&'v str> {
        self.view.names(self.creation().labels)
    }

    /// Whether the node carries the label whose symbol is `label`.
    pub fn has_label_sym(&self, label: Sym) -> bool {
        let labels = match self.view.pieces.as_ref().and_then(|p| p.labels(self.n)) {
            Some(Some(labels)) => labels,
            _ => self.creation().labels,
        };
        self.view.graph.set(labels).contains(&label)
    }

    /// Whether the node carries `label`.
    pub fn has_label(&self, label: &str) -> bool {
        self.view
            .graph
            .symbol(label)
            .is_some_and(|s| self.has_label_sym(s))
    }

    pub(crate) fn property_sym(&self, key: Sym) -> Option<&'v Value> {
        if let Some(value) = self
            .view
            .pieces
            .as_ref()
            .and_then(|p| p.property(self.n, key))
        {
            return value;
        }
        let data = &self.view.graph.g[self.n];
        self.view.resolve(&data.props, key, self.creation().tx)
    }

    /// The value of property `key` in this view, if it has one.
    pub fn property(&self, key: &str) -> Option<&'v Value> {
        self.property_sym(self.view.graph.symbol(key)?)
    }

    /// The value of the property whose key has symbol `key`, if it has one.
    pub fn property_of(&self, key: Sym) -> Option<&'v Value> {
        self.property_sym(key)
    }

    /// Every property with a value in this view, in the order first recorded.
    pub fn properties(&self) -> Vec<(&'v str, &'v Value)> {
        let data = &self.view.graph.g[self.n];
        let since = self.creation().tx;
        self.view
            .keys_in_order(&data.props, since)
            .into_iter()
            .filter_map(|k| Some((self.view.graph.resolve(k), self.property_sym(k)?)))
            .collect()
    }

    /// Every property version known in this view and valid in its range.
    pub fn versions(&self) -> Vec<VersionInfo<'v>> {
        let data = &self.view.graph.g[self.n];
        version_infos(self.view, &data.props, self.creation().tx)
    }

    /// The version that gives property `key` its value in this view (its sources and
    /// transaction), if it has one.
    pub fn property_version(&self, key: &str) -> Option<VersionInfo<'v>> {
        let data = &self.view.graph.g[self.n];
        let key = self.view.graph.symbol(key)?;
        version_info(self.view, &data.props, key, self.creation().tx)
    }

    /// When the node existed in the world (its creation's valid time, with the latest end).
    pub fn valid(&self) -> ValidTime {
        self.view.node_valid(self.n, self.creation()).valid_time()
    }

    /// One end of [`NodeRef::valid`]: its start (`from`) or its end.
    pub fn valid_bound(&self, from: bool) -> Bound {
        self.valid_span().bound(from)
    }

    /// [`NodeRef::valid`] as stored, for reading its days without making dates.
    pub(crate) fn valid_span(&self) -> Span {
        self.view.node_valid(self.n, self.creation())
    }

    /// Citation keys of the node's creation.
    pub fn sources(&self) -> Vec<&'v str> {
        self.view.names(self.creation().sources)
    }

    /// The latest known end: its date, sources and transaction.
    pub fn end(&self) -> Option<EndInfo<'v>> {
        let since = self.creation().tx;
        let data = &self.view.graph.g[self.n];
        end_info(self.view, &data.ends, since)
    }

    /// The transaction that added the node (its current incarnation).
    pub fn tx(&self) -> TxId {
        self.creation().tx
    }

    /// Edges shown in one direction (`Outgoing`, `Incoming`).
    pub fn edges(&self, direction: Direction) -> impl Iterator<Item = EdgeRef<'v>> + 'v {
        let view = self.view;
        view.graph
            .g
            .edges_directed(self.n, direction)
            .filter(move |e| view.edge_visible(e.id()))
            .map(move |e| EdgeRef { view, e: e.id() })
    }
}

/// An edge shown in a view.
#[derive(Clone, Copy)]
pub struct EdgeRef<'v> {
    view: &'v View<'v>,
    e: EdgeIndex,
}

impl std::fmt::Debug for EdgeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}:{}]", self.id(), self.rel_type())
    }
}

impl<'v> EdgeRef<'v> {
    /// The petgraph index.
    pub fn index(&self) -> EdgeIndex {
        self.e
    }

    /// The stable external id.
    pub fn id(&self) -> &'v str {
        &self.view.graph.g[self.e].id
    }

    /// The relationship type.
    pub fn rel_type(&self) -> &'v str {
        self.view.graph.resolve(self.view.graph.g[self.e].rel_type)
    }

    /// The node it starts from.
    pub fn from(&self) -> NodeRef<'v> {
        let (a, _) = self.endpoints();
        NodeRef {
            view: self.view,
            n: a,
        }
    }

    /// The node it points to.
    pub fn to(&self) -> NodeRef<'v> {
        let (_, b) = self.endpoints();
        NodeRef {
            view: self.view,
            n: b,
        }
    }

    fn endpoints(&self) -> (NodeIndex, NodeIndex) {
        // A shown edge always has both endpoints.
        self.view
            .graph
            .g
            .edge_endpoints(self.e)
            .unwrap_or((NodeIndex::end(), NodeIndex::end()))
    }

    /// The value of property `key` in this view, if it has one.
    pub fn property(&self, key: &str) -> Option<&'v Value> {
        let data = &self.view.graph.g[self.e];
        let key = self.view.graph.symbol(key)?;
        self.view.resolve(&data.props, key, data.created.tx)
    }

    /// Every property with a value in this view, in the order first recorded.
    pub fn properties(&self) -> Vec<(&'v str, &'v Value)> {
        let data = &self.view.graph.g[self.e];
        let since = data.created.tx;
        self.view
            .keys_in_order(&data.props, since)
            .into_iter()
            .filter_map(|k| {
                let v = self.view.resolve(&data.props, k, since)?;
                Some((self.view.graph.resolve(k), v))
            })
            .collect()
    }

    /// Every property version known in this view and valid in its range.
    pub fn versions(&self) -> Vec<VersionInfo<'v>> {
        let data = &self.view.graph.g[self.e];
        version_infos(self.view, &data.props, data.created.tx)
    }

    /// The version that gives property `key` its value in this view, if it has one.
    pub fn property_version(&self, key: &str) -> Option<VersionInfo<'v>> {
        let data = &self.view.graph.g[self.e];
        let key = self.view.graph.symbol(key)?;
        version_info(self.view, &data.props, key, data.created.tx)
    }

    /// When the relationship held (with the latest end).
    pub fn valid(&self) -> ValidTime {
        self.view.edge_valid(self.e).valid_time()
    }

    /// One end of [`EdgeRef::valid`]: its start (`from`) or its end.
    pub fn valid_bound(&self, from: bool) -> Bound {
        self.valid_span().bound(from)
    }

    /// [`EdgeRef::valid`] as stored, for reading its days without making dates.
    pub(crate) fn valid_span(&self) -> Span {
        self.view.edge_valid(self.e)
    }

    /// Citation keys of the edge's creation.
    pub fn sources(&self) -> Vec<&'v str> {
        self.view.names(self.view.graph.g[self.e].created.sources)
    }

    /// The latest known end: its date, sources and transaction.
    pub fn end(&self) -> Option<EndInfo<'v>> {
        let data = &self.view.graph.g[self.e];
        end_info(self.view, &data.ends, data.created.tx)
    }

    /// The transaction that added the edge.
    pub fn tx(&self) -> TxId {
        self.view.graph.g[self.e].created.tx
    }
}

fn version_infos<'v>(
    view: &'v View<'v>,
    props: &'v [PropVersion],
    since: TxId,
) -> Vec<VersionInfo<'v>> {
    view.versions(props, since)
        .map(|v| VersionInfo {
            key: view.graph.resolve(v.key),
            value: &v.value,
            valid: v.valid.valid_time(),
            sources: view.names(v.sources),
            tx: v.tx,
        })
        .collect()
}

fn version_info<'v>(
    view: &'v View<'v>,
    props: &'v [PropVersion],
    key: Sym,
    since: TxId,
) -> Option<VersionInfo<'v>> {
    let v = view.resolve_version(props, key, since)?;
    (!v.value.is_null()).then(|| VersionInfo {
        key: view.graph.resolve(v.key),
        value: &v.value,
        valid: v.valid.valid_time(),
        sources: view.names(v.sources),
        tx: v.tx,
    })
}

/// An `END` as a view shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct EndInfo<'g> {
    /// The last valid date.
    pub end: Date,
    /// Its citation keys.
    pub sources: Vec<&'g str>,
    /// The transaction that recorded it.
    pub tx: TxId,
}

fn end_info<'v>(view: &'v View<'v>, ends: &'v [End], since: TxId) -> Option<EndInfo<'v>> {
    ends.iter()
        .rev()
        .find(|e| e.owner == since && view.knows(e.tx))
        .map(|e| EndInfo {
            end: e.end,
            sources: view.names(e.sources),
            tx: e.tx,
        })
}
