//! The projection: an in-memory, bitemporal property graph derived from the log.
//!
//! Every version of every node, edge and property is kept, stamped with the transaction that
//! added it and its valid interval. A version's transaction interval ends when a later
//! transaction retracts the one that added it; which of several visible versions of a
//! property holds is decided by a rule (see [`view`]), so a past state is a filter over what
//! is stored, never a replay.
//!
//! Nothing writes the graph but [`Graph::apply`] and [`Graph::apply_checked`] ([`apply`]
//! module), which do no I/O.
//! Reads go through a [`View`], which pins a transaction time and, optionally, a valid-time
//! range.

pub mod accel;
mod apply;
pub mod facts;
pub(crate) mod ids;
mod replay;
pub mod schema;
pub mod snapshot;
mod validate;
pub mod view;

use std::sync::Arc;

use lasso::{Rodeo, Spur};
use petgraph::Directed;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableGraph};
use rustc_hash::{FxBuildHasher, FxHashMap};
use smallvec::SmallVec;

use crate::event::{Name, Props, TxHeader};
use crate::time::packed::{
    BOUND_OPEN, BOUND_UNKNOWN, pack_bound, pack_date, packed_days, packed_is_day, unpack_bound,
};
use crate::time::{Bound, Date, Day, DayRange, TxId, ValidTime};
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
    pub(crate) id: Name,
    /// One per `NodeAdded`; a node re-added after its creation was retracted gets another.
    pub(crate) created: SmallVec<[Creation; 1]>,
    // Boxed slices rather than vectors: most entities never change after they are added,
    // so capacity would be wasted, and an empty one allocates nothing.
    pub(crate) ends: Box<[End]>,
    pub(crate) props: Box<[PropVersion]>,
}

/// An edge as stored. Each `EdgeAdded` is its own petgraph edge (its endpoints are fixed);
/// incarnations of one id are chained (`EdgeIndex::end()` means none).
#[derive(Debug)]
pub struct EdgeData {
    pub(crate) id: Name,
    pub(crate) rel_type: Sym,
    pub(crate) created: Creation,
    pub(crate) ends: Box<[End]>,
    pub(crate) props: Box<[PropVersion]>,
    /// The incarnation added after this one was retracted.
    pub(crate) successor: EdgeIndex,
    /// The incarnation this one replaced.
    pub(crate) predecessor: EdgeIndex,
}

/// A valid time as stored: the days it covers, for filtering, and its bounds packed
/// (`time::packed`), for showing it as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub(crate) first: Day,
    pub(crate) last: Day,
    from: u32,
    to: u32,
}

impl Span {
    pub(crate) fn of(v: &ValidTime) -> Span {
        Span {
            first: v.first_day(),
            last: v.last_day(),
            from: pack_bound(v.from),
            to: pack_bound(v.to),
        }
    }

    pub(crate) fn valid_time(&self) -> ValidTime {
        // Packed from a valid bound, so unpacking succeeds.
        ValidTime {
            from: unpack_bound(self.from).unwrap_or(Bound::Unknown),
            to: unpack_bound(self.to).unwrap_or(Bound::Unknown),
        }
    }

    /// One end of the valid time: the start (`from`) or the end, unpacked alone.
    pub(crate) fn bound(&self, from: bool) -> Bound {
        unpack_bound(if from { self.from } else { self.to }).unwrap_or(Bound::Unknown)
    }

    /// The first and last day of one end's date (`from`: the start); `None` for an open
    /// or unknown end. What [`Span::bound`] gives, without making the date.
    pub(crate) fn bound_days(&self, from: bool) -> Option<(Day, Day)> {
        match if from { self.from } else { self.to } {
            BOUND_OPEN | BOUND_UNKNOWN => None,
            // A day covers one day, which the span keeps: its first for the start, its
            // last for the end (a calendar computation saved per row).
            packed if packed_is_day(packed) => {
                let day = if from { self.first } else { self.last };
                Some((day, day))
            }
            packed => packed_days(packed),
        }
    }

    /// Whether one end (`from`: the start) is a date, not open or unknown: whether
    /// [`Span::bound`] gives a date (the bits were packed from one, so they unpack).
    pub(crate) fn bound_is_date(&self, from: bool) -> bool {
        !matches!(
            if from { self.from } else { self.to },
            BOUND_OPEN | BOUND_UNKNOWN
        )
    }

    pub(crate) fn overlaps(&self, range: DayRange) -> bool {
        self.first <= range.last && self.last >= range.first
    }

    pub(crate) fn ended_at(&self, end: &Date) -> Span {
        Span {
            last: end.last_day(),
            to: pack_date(*end),
            ..*self
        }
    }
}

/// The record of an addition.
#[derive(Clone, Copy, Debug)]
pub struct Creation {
    pub(crate) tx: TxId,
    pub(crate) labels: SetId,
    pub(crate) valid: Span,
    pub(crate) sources: SetId,
}

/// The record of an end.
#[derive(Clone, Copy, Debug)]
pub struct End {
    pub(crate) tx: TxId,
    /// The creation (by its transaction) of the incarnation this end belongs to.
    pub(crate) owner: TxId,
    pub(crate) end: Date,
    pub(crate) sources: SetId,
}

/// One value a property took over a valid time.
#[derive(Clone, Debug)]
pub struct PropVersion {
    pub(crate) tx: TxId,
    /// The creation (by its transaction) of the incarnation this version belongs to.
    pub(crate) owner: TxId,
    pub(crate) key: Sym,
    pub(crate) sources: SetId,
    pub(crate) value: Value,
    pub(crate) valid: Span,
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
        t.intern(&mut SmallVec::new());
        t
    }

    /// Interns a set given in any order, with duplicates; sorts `members` in place.
    pub(crate) fn intern(&mut self, members: &mut SmallVec<[Sym; 4]>) -> SetId {
        members.sort_unstable();
        members.dedup();
        if let Some(id) = self.ids.get(members.as_slice()) {
            return *id;
        }
        let id = SetId(self.sets.len() as u32);
        let members: Box<[Sym]> = members.as_slice().into();
        self.sets.push(members.clone());
        self.ids.insert(members, id);
        id
    }

    pub(crate) fn get(&self, id: SetId) -> &[Sym] {
        self.sets.get(id.0 as usize).map_or(&[], |s| s)
    }
}

/// The nodes one key of the property index points at: usually one, so kept inline.
#[derive(Debug)]
#[allow(clippy::box_collection)] // a thin pointer keeps the common `One` case small
pub(crate) enum Postings {
    One(NodeIndex),
    Many(Box<Vec<NodeIndex>>),
}

impl Postings {
    pub(crate) fn as_slice(&self) -> &[NodeIndex] {
        match self {
            Postings::One(n) => std::slice::from_ref(n),
            Postings::Many(v) => v,
        }
    }

    /// Adds `n` unless it is already the last entry; says whether it did.
    pub(crate) fn push(&mut self, n: NodeIndex) -> bool {
        if self.as_slice().last() == Some(&n) {
            return false;
        }
        match self {
            Postings::One(m) => *self = Postings::Many(Box::new(vec![*m, n])),
            Postings::Many(v) => v.push(n),
        }
        true
    }

    /// Removes the last entry; says whether any is left.
    pub(crate) fn pop(&mut self) -> bool {
        match self {
            Postings::One(_) => false,
            Postings::Many(v) => {
                v.pop();
                if let [only] = v.as_slice() {
                    *self = Postings::One(*only);
                }
                true
            }
        }
    }
}

/// The key of the property index: a hash of (label, key, value). Different triples may share
/// a key; lookups check every candidate's actual label and value.
pub(crate) fn prop_key(label: Sym, key: Sym, value: &Value) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    label.hash(&mut h);
    key.hash(&mut h);
    value.hash(&mut h);
    h.finish()
}

/// Where a retraction points: `by` retracted `target`, and why.
#[derive(Clone, Debug)]
pub(crate) struct Retraction {
    pub(crate) by: TxId,
    pub(crate) target: TxId,
    pub(crate) reason: Box<str>,
}

/// The set of transactions whose facts a view must hide.
pub type DeadSet = rustc_hash::FxHashSet<TxId>;

/// The id of a node by its index, for the node id table.
pub(crate) fn node_id_of<'g>(
    g: &'g StableGraph<NodeData, EdgeData, Directed, u32>,
) -> impl Fn(u32) -> Option<&'g str> {
    |i| {
        g.node_weight(NodeIndex::new(i as usize))
            .map(|n| n.id.as_str())
    }
}

/// The id of an edge by its index, for the edge id table.
pub(crate) fn edge_id_of<'g>(
    g: &'g StableGraph<NodeData, EdgeData, Directed, u32>,
) -> impl Fn(u32) -> Option<&'g str> {
    |i| {
        g.edge_weight(EdgeIndex::new(i as usize))
            .map(|e| e.id.as_str())
    }
}

/// The bitemporal property graph.
pub struct Graph {
    pub(crate) g: StableGraph<NodeData, EdgeData, Directed, u32>,
    pub(crate) node_ids: ids::IdTable,
    /// Each edge id's latest incarnation; earlier ones chain through `predecessor`.
    pub(crate) edge_ids: ids::IdTable,
    pub(crate) by_label: FxHashMap<Sym, Vec<NodeIndex>>,
    pub(crate) by_type: FxHashMap<Sym, Vec<EdgeIndex>>,
    /// [`prop_key`]`(label, key, value)` → nodes that ever had that label and value.
    /// Candidates only: a view checks each against the state it pins.
    pub(crate) by_prop: FxHashMap<u64, Postings>,
    pub(crate) symbols: Rodeo<Spur, FxBuildHasher>,
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
    pub(crate) recent_names: [Option<(Name, Sym)>; apply::RECENT_NAMES],
    /// During replay, emptied property vectors to hand back to the reader thread.
    pub(crate) spent: Option<Vec<Props>>,
    /// Bumped by every change: tells the read-optimised pieces ([`accel`]) they are stale.
    pub(crate) generation: u64,
    /// Read-optimised pieces of the newest state, built by scans.
    pub(crate) accel: accel::Accel,
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
            node_ids: ids::IdTable::default(),
            edge_ids: ids::IdTable::default(),
            by_label: FxHashMap::default(),
            by_type: FxHashMap::default(),
            by_prop: FxHashMap::default(),
            symbols: Rodeo::with_hasher(FxBuildHasher),
            sets: SetTable::new(),
            retractions: Vec::new(),
            dead_at_head: Arc::new(DeadSet::default()),
            head: TxId(0),
            sealed: TxId(0),
            headers: Vec::new(),
            journal: apply::Journal::default(),
            recent_names: [const { None }; apply::RECENT_NAMES],
            spent: None,
            generation: 0,
            accel: accel::Accel::default(),
        }
    }

    /// The node index of an id (any incarnation, known or not in any view).
    pub(crate) fn node_index(&self, id: &str) -> Option<NodeIndex> {
        self.node_ids
            .get(id, node_id_of(&self.g))
            .map(|i| NodeIndex::new(i as usize))
    }

    /// The latest incarnation of an edge id.
    pub(crate) fn edge_index(&self, id: &str) -> Option<EdgeIndex> {
        self.edge_ids
            .get(id, edge_id_of(&self.g))
            .map(|i| EdgeIndex::new(i as usize))
    }

    /// An estimate of the heap memory the projection holds, by structure, in bytes.
    pub fn memory_usage(&self) -> Vec<(&'static str, usize)> {
        use std::mem::size_of;
        let heap_str = |v: &Value| match v {
            Value::Str(s) if s.is_heap_allocated() => s.len() + 16,
            _ => 0,
        };
        // (records, long strings, long ids) of one node or edge.
        let item = |props: &[PropVersion], ends: &[End], id: &Name| {
            let records = std::mem::size_of_val(props) + std::mem::size_of_val(ends);
            let strings: usize = props.iter().map(|p| heap_str(&p.value)).sum();
            let id = if id.is_heap_allocated() {
                id.len() + 16
            } else {
                0
            };
            (records, strings, id)
        };
        let (mut node_props, mut edge_props, mut strings, mut ids) = (0, 0, 0, 0);
        for (r, st, id) in self
            .g
            .node_weights()
            .map(|n| item(&n.props, &n.ends, &n.id))
        {
            (node_props, strings, ids) = (node_props + r, strings + st, ids + id);
        }
        for (r, st, id) in self
            .g
            .edge_weights()
            .map(|e| item(&e.props, &e.ends, &e.id))
        {
            (edge_props, strings, ids) = (edge_props + r, strings + st, ids + id);
        }
        // A table's capacity is 7/8 of its slots.
        let table = |cap: usize, entry: usize| cap.div_ceil(7) * 8 * (entry + 1);
        vec![
            ("nodes", self.g.capacity().0 * (size_of::<NodeData>() + 8)),
            ("edges", self.g.capacity().1 * (size_of::<EdgeData>() + 16)),
            ("node properties and ends", node_props),
            ("edge properties and ends", edge_props),
            ("long strings", strings),
            ("long ids", ids),
            ("node id table", self.node_ids.memory_usage()),
            ("edge id table", self.edge_ids.memory_usage()),
            ("property index", table(self.by_prop.capacity(), 24)),
            (
                "label and type indexes",
                self.by_label
                    .values()
                    .map(|v| v.capacity() * 4)
                    .sum::<usize>()
                    + self
                        .by_type
                        .values()
                        .map(|v| v.capacity() * 4)
                        .sum::<usize>(),
            ),
            (
                "transaction headers",
                self.headers.capacity() * size_of::<TxHeader>(),
            ),
        ]
    }

    /// The last committed transaction.
    pub fn tx(&self) -> TxId {
        self.sealed
    }

    /// Headers of every committed transaction, in order (index `tx - 1`).
    pub fn headers(&self) -> &[TxHeader] {
        let n = usize::try_from(self.sealed.0)
            .map_or(self.headers.len(), |n| n.min(self.headers.len()));
        &self.headers[..n]
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

    /// How many nodes ever carried `label` (by the label index, every incarnation).
    pub fn label_count(&self, label: &str) -> usize {
        self.symbol(label)
            .and_then(|s| self.by_label.get(&s))
            .map_or(0, Vec::len)
    }

    /// How many edges ever had relationship type `rel_type` (every incarnation).
    pub fn type_count(&self, rel_type: &str) -> usize {
        self.symbol(rel_type)
            .and_then(|s| self.by_type.get(&s))
            .map_or(0, Vec::len)
    }

    /// How many edges are stored (every incarnation).
    pub fn edge_count(&self) -> usize {
        self.g.edge_count()
    }

    /// One more than the highest node index: the length of arrays indexed by node.
    pub fn node_bound(&self) -> usize {
        petgraph::visit::NodeIndexable::node_bound(&self.g)
    }

    /// Labels any node ever had, sorted.
    pub fn label_names(&self) -> Vec<&str> {
        self.sorted_names(self.by_label.keys())
    }

    /// Relationship types any edge ever had, sorted.
    pub fn type_names(&self) -> Vec<&str> {
        self.sorted_names(self.by_type.keys())
    }

    /// Every interned name (labels, types, property keys, source keys), sorted.
    pub fn symbol_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.symbols.strings().collect();
        v.sort_unstable();
        v
    }

    fn sorted_names<'a>(&'a self, syms: impl Iterator<Item = &'a Sym>) -> Vec<&'a str> {
        let mut v: Vec<&str> = syms.map(|s| self.resolve(*s)).collect();
        v.sort_unstable();
        v
    }

    /// Whether nothing was ever added.
    pub fn is_empty(&self) -> bool {
        self.g.node_count() == 0
    }

    /// The view of everything applied, pending writes included: what a write reads.
    pub(crate) fn view_pending(&self) -> View<'_> {
        View::new(self, self.head)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The projection of a million events must fit in a few hundred megabytes: these records
    /// are the bulk of it, so a field added carelessly shows up here first.
    #[test]
    fn stored_records_stay_compact() {
        use std::mem::size_of;
        assert_eq!(size_of::<Value>(), 24);
        assert_eq!(size_of::<Span>(), 16);
        assert!(
            size_of::<PropVersion>() <= 64,
            "{}",
            size_of::<PropVersion>()
        );
        assert!(size_of::<NodeData>() <= 104, "{}", size_of::<NodeData>());
        assert!(size_of::<EdgeData>() <= 104, "{}", size_of::<EdgeData>());
    }

    /// A bound's days, as a span reads them, are those of the date it was made from, at
    /// every precision, as either end, beside an open, unknown or dated other end.
    #[test]
    fn a_spans_bound_days_are_its_dates() {
        use crate::time::packed::EVERY_PRECISION;
        use crate::time::{Bound, Date, ValidTime};
        let others = [Bound::Open, Bound::Unknown];
        let mut checked = 0;
        for text in EVERY_PRECISION {
            let d = Date::parse(text).unwrap();
            let want = Some((d.first_day(), d.last_day()));
            for other in others {
                for (from, v) in [
                    (true, (Bound::Date(d), other)),
                    (false, (other, Bound::Date(d))),
                ] {
                    let span = Span::of(&ValidTime { from: v.0, to: v.1 });
                    assert_eq!(span.bound_days(from), want, "{text} as start: {from}");
                    assert_eq!(span.bound_days(!from), None, "{text}");
                    checked += 1;
                }
            }
            for end in EVERY_PRECISION {
                let e = Date::parse(end).unwrap();
                if let Ok(v) = ValidTime::new(Bound::Date(d), Bound::Date(e)) {
                    let span = Span::of(&v);
                    assert_eq!(span.bound_days(true), want, "{text}..{end}");
                    let days = Some((e.first_day(), e.last_day()));
                    assert_eq!(span.bound_days(false), days, "{text}..{end}");
                    let ended = span.ended_at(&e);
                    assert_eq!(ended.bound_days(false), days, "{text} ended {end}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }
}
