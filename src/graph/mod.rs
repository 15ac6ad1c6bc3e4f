//! The projection: an in-memory, bitemporal property graph derived from the log.
//!
//! Every version of every node, edge and property is kept, stamped with the transaction that
//! added it and its valid interval. A version's transaction interval ends when a later
//! transaction retracts the one that added it; which of several visible versions of a
//! property holds is decided by a rule (see [`view`]), so a past state is a filter over what
//! is stored, never a replay.
//!
//! Nothing writes the graph but [`Graph::apply`] ([`apply`] module), which does no I/O.
//! Reads go through a [`View`], which pins a transaction time and, optionally, a valid-time
//! range.

mod apply;
pub mod snapshot;
mod validate;
pub mod view;

use std::sync::Arc;

use lasso::{Rodeo, Spur};
use petgraph::Directed;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableGraph};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use crate::error::EventError;
use crate::event::{Event, TxHeader};
use crate::log::{Log, LogVisitor};
use crate::time::{Date, TxId, ValidTime};
use crate::value::Value;

pub use view::{EdgeRef, NodeRef, View};

/// An interned string: a label, a relationship type, a property key or a source key.
pub type Sym = Spur;

/// An interned, sorted set of symbols (labels, or source keys). `SetId(0)` is the empty set.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct SetId(u32);

/// A node as stored: every incarnation, end and property version it ever had.
#[derive(Debug)]
pub struct NodeData {
    pub(crate) id: Arc<str>,
    /// One per `NodeAdded`; a node re-added after its creation was retracted gets another.
    pub(crate) created: SmallVec<[Creation; 1]>,
    pub(crate) ends: Vec<End>,
    pub(crate) props: Vec<PropVersion>,
}

/// An edge as stored. Each `EdgeAdded` is its own petgraph edge (its endpoints are fixed).
#[derive(Debug)]
pub struct EdgeData {
    pub(crate) id: Arc<str>,
    pub(crate) rel_type: Sym,
    pub(crate) created: Creation,
    pub(crate) ends: Vec<End>,
    pub(crate) props: Vec<PropVersion>,
    /// A later incarnation of the same id, if one was added after this one was retracted.
    pub(crate) successor: Option<EdgeIndex>,
}

/// The record of an addition.
#[derive(Clone, Copy, Debug)]
pub struct Creation {
    pub(crate) tx: TxId,
    pub(crate) labels: SetId,
    pub(crate) valid: ValidTime,
    pub(crate) sources: SetId,
}

/// The record of an end.
#[derive(Clone, Copy, Debug)]
pub struct End {
    pub(crate) tx: TxId,
    pub(crate) end: Date,
    pub(crate) sources: SetId,
}

/// One value a property took over a valid time.
#[derive(Clone, Debug)]
pub struct PropVersion {
    pub(crate) tx: TxId,
    pub(crate) key: Sym,
    pub(crate) value: Value,
    pub(crate) valid: ValidTime,
    pub(crate) sources: SetId,
}

/// Interned sets of symbols, so that a fact's sources or a node's labels cost one `u32`.
#[derive(Debug)]
pub(crate) struct SetTable {
    sets: Vec<Box<[Sym]>>,
    ids: FxHashMap<Box<[Sym]>, SetId>,
}

impl SetTable {
    fn new() -> SetTable {
        let mut t = SetTable {
            sets: Vec::new(),
            ids: FxHashMap::default(),
        };
        t.intern(Vec::new());
        t
    }

    pub(crate) fn intern(&mut self, mut members: Vec<Sym>) -> SetId {
        members.sort_unstable();
        members.dedup();
        if let Some(id) = self.ids.get(members.as_slice()) {
            return *id;
        }
        let id = SetId(self.sets.len() as u32);
        let members: Box<[Sym]> = members.into();
        self.sets.push(members.clone());
        self.ids.insert(members, id);
        id
    }

    pub(crate) fn get(&self, id: SetId) -> &[Sym] {
        self.sets.get(id.0 as usize).map_or(&[], |s| s)
    }
}

/// Where a retraction points: `by` retracted `target`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retraction {
    pub(crate) by: TxId,
    pub(crate) target: TxId,
}

/// The set of transactions whose facts a view must hide.
pub type DeadSet = rustc_hash::FxHashSet<TxId>;

/// The bitemporal property graph.
pub struct Graph {
    pub(crate) g: StableGraph<NodeData, EdgeData, Directed, u32>,
    pub(crate) node_ids: FxHashMap<Arc<str>, NodeIndex>,
    pub(crate) edge_ids: FxHashMap<Arc<str>, SmallVec<[EdgeIndex; 1]>>,
    pub(crate) by_label: FxHashMap<Sym, Vec<NodeIndex>>,
    pub(crate) by_type: FxHashMap<Sym, Vec<EdgeIndex>>,
    /// (label, key, value) → nodes that ever had that label and value. Candidates only:
    /// a view checks each against the state it pins.
    pub(crate) by_prop: FxHashMap<(Sym, Sym, Value), SmallVec<[NodeIndex; 2]>>,
    pub(crate) symbols: Rodeo,
    pub(crate) sets: SetTable,
    pub(crate) retractions: Vec<Retraction>,
    /// Transactions hidden at `head`.
    pub(crate) dead_at_head: Arc<DeadSet>,
    /// The last transaction applied (committed or pending).
    pub(crate) head: TxId,
    /// The last committed transaction.
    pub(crate) sealed: TxId,
    pub(crate) headers: Vec<TxHeader>,
    pub(crate) journal: apply::Journal,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("tx", &self.sealed)
            .field("nodes", &self.g.node_count())
            .field("edges", &self.g.edge_count())
            .finish()
    }
}

impl Default for Graph {
    fn default() -> Self {
        Graph::new()
    }
}

impl Graph {
    /// An empty graph, before transaction 1.
    pub fn new() -> Graph {
        Graph {
            g: StableGraph::default(),
            node_ids: FxHashMap::default(),
            edge_ids: FxHashMap::default(),
            by_label: FxHashMap::default(),
            by_type: FxHashMap::default(),
            by_prop: FxHashMap::default(),
            symbols: Rodeo::default(),
            sets: SetTable::new(),
            retractions: Vec::new(),
            dead_at_head: Arc::new(DeadSet::default()),
            head: TxId(0),
            sealed: TxId(0),
            headers: Vec::new(),
            journal: apply::Journal::default(),
        }
    }

    /// Rebuilds the graph from transactions `1..=to` of a log (all of it when `to` is `None`).
    ///
    /// # Errors
    /// When the log cannot be read, or holds an event that cannot apply (a damaged or
    /// foreign log; the log this engine writes is validated before it is written).
    pub fn replay<L: Log>(log: &L, to: Option<TxId>) -> Result<Graph, crate::error::OpenError> {
        let mut graph = Graph::new();
        let to = to.unwrap_or(log.head());
        log.scan(TxId(1), to, &mut Replayer { graph: &mut graph })?;
        Ok(graph)
    }

    /// The last committed transaction.
    pub fn tx(&self) -> TxId {
        self.sealed
    }

    /// Headers of every committed transaction, in order (index `tx - 1`).
    pub fn headers(&self) -> &[TxHeader] {
        &self.headers[..self.sealed.0 as usize]
    }

    /// The view of the latest state, at every valid time.
    pub fn view(&self) -> View<'_> {
        View::new(self, self.sealed)
    }

    /// The view as of after transaction `tx` (clamped to the latest).
    pub fn view_at(&self, tx: TxId) -> View<'_> {
        View::new(self, tx.min(self.sealed))
    }

    /// The string of a symbol.
    pub fn resolve(&self, sym: Sym) -> &str {
        self.symbols.resolve(&sym)
    }

    /// The symbol of a string, if the graph has ever seen it.
    pub fn symbol(&self, name: &str) -> Option<Sym> {
        self.symbols.get(name)
    }

    /// The members of an interned set.
    pub fn set(&self, id: SetId) -> &[Sym] {
        self.sets.get(id)
    }

    /// The transactions hidden by retractions in effect at `tx`.
    ///
    /// A retraction is in effect at `tx` when it was committed at or before `tx` and is not
    /// itself retracted by a retraction in effect at `tx`; retracting a retraction restores
    /// what it hid.
    pub fn dead_at(&self, tx: TxId) -> Arc<DeadSet> {
        if tx == self.head {
            return Arc::clone(&self.dead_at_head);
        }
        Arc::new(compute_dead(&self.retractions, tx))
    }
}

/// Walks retractions from the newest down: a retraction whose own transaction is already
/// hidden has no effect. Retractions only point backwards, so one pass suffices.
pub(crate) fn compute_dead(retractions: &[Retraction], tx: TxId) -> DeadSet {
    let mut dead = DeadSet::default();
    for r in retractions.iter().rev().filter(|r| r.by <= tx) {
        if !dead.contains(&r.by) {
            dead.insert(r.target);
        }
    }
    dead
}

/// Applies a scanned log to a graph, sealing each transaction as it ends.
struct Replayer<'g> {
    graph: &'g mut Graph,
}

impl LogVisitor for Replayer<'_> {
    type Error = crate::error::OpenError;

    fn begin_tx(&mut self, header: &TxHeader) -> Result<(), Self::Error> {
        self.graph.begin_tx(header.clone(), false);
        Ok(())
    }

    fn event(&mut self, tx: TxId, index: u32, event: Event) -> Result<(), Self::Error> {
        self.graph
            .apply(tx, index, event)
            .map_err(|e: EventError| e.into())
    }

    fn end_tx(&mut self, header: &TxHeader) -> Result<(), Self::Error> {
        self.graph.end_tx(header.clone());
        self.graph.seal();
        Ok(())
    }
}
