//! Read-optimised copies of the newest state, for queries that scan.
//!
//! A scan of thousands of nodes spends its time waiting for memory: each node, edge and
//! property version is a separate record, and following a node's relationships in the
//! petgraph walks a linked list, one dependent load per edge. For a view that shows
//! everything stored (the newest transaction, no valid-time range, no retraction in the
//! graph: [`View::shows_everything`]) the answers are simple enough to lay out densely:
//!
//! - each node's labels, one `u32` per node;
//! - per relationship type and direction, every node's relationships of that type and the
//!   node at their other end, contiguous (compressed sparse rows), in the order the petgraph
//!   lists them, so results come out in the same order with or without them;
//! - per property key, every node's value; and every node's id, when a query names `id`;
//! - every relationship's valid time, when a query asks for one (`valid_from(r)` …).
//!
//! Each piece is computed by asking an ordinary [`View`] at the same transaction, so it can
//! only say what the view says. Pieces are built on demand, by a query that scans
//! ([`Graph::prepare`]); one that looks nodes up by an index builds nothing. They are
//! dropped whenever the graph changes (every applied event, commit and rollback bumps the
//! graph's generation), so after a write the next scan pays for what it needs again. They
//! are never written to the log: like the graph itself, they are derived.

use std::sync::{Arc, Mutex};

use petgraph::Direction as Dir;
use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use rustc_hash::FxHashMap;

use super::{Graph, SetId, Span, Sym, View};
use crate::event::Name;
use crate::value::Value;

/// What a scan asks to have ready: relationship types by direction, and property keys.
#[derive(Debug, Default)]
pub struct Wanted {
    /// `(type, direction)` pairs whose adjacency to lay out.
    pub adjacency: Vec<(Sym, Dir)>,
    /// Property keys whose node values to lay out.
    pub keys: Vec<Sym>,
    /// Whether to lay out the nodes' ids.
    pub ids: bool,
    /// Whether to lay out the relationships' valid times.
    pub edge_valid: bool,
}

/// One relationship type's adjacency in one direction: for node `n`,
/// `entries[offsets[n]..offsets[n + 1]]` are its relationships and their other ends.
#[derive(Debug)]
pub struct Adjacency {
    offsets: Box<[u32]>,
    entries: Box<[(EdgeIndex, NodeIndex)]>,
    /// The label set every other end has, when they all have the same one (`PARTY_TO`
    /// always leads to an `Agreement`): a walk then knows the next node's labels without
    /// reading them, once per step instead of once per relationship.
    ends: Option<SetId>,
}

impl Adjacency {
    /// The label set of every node at the other end, when they share one.
    pub fn ends(&self) -> Option<SetId> {
        self.ends
    }

    /// Asks for the cache line of `n`'s place in the offsets, ahead of
    /// [`prefetch`](Self::prefetch) and [`of`](Self::of).
    #[inline]
    pub fn prefetch_offsets(&self, n: NodeIndex) {
        if let Some(o) = self.offsets.get(n.index()) {
            prefetch(o);
        }
    }

    /// Asks for the cache line of `n`'s first relationships, ahead of [`of`](Self::of): a
    /// walk that will visit `n` after a few others does not then wait for memory.
    #[inline]
    pub fn prefetch(&self, n: NodeIndex) {
        if let Some(&a) = self.offsets.get(n.index())
            && let Some(entry) = self.entries.get(a as usize)
        {
            prefetch(entry);
        }
    }

    /// The relationships of `n`, with the node at the other end of each.
    pub fn of(&self, n: NodeIndex) -> &[(EdgeIndex, NodeIndex)] {
        let i = n.index();
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.entries[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// Asks the processor to bring the cache line holding `at` in.
#[inline(always)]
fn prefetch<T>(at: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing into the program and cannot fault, and
    // `at` is a live reference besides. SSE, which has it, is part of every x86-64.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(at).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// One property key's values, by node index: a code per node into the distinct values,
/// kept once. Two bytes a code when there are at most 65,535 distinct values (a type, a
/// country, a stage), four otherwise (names), so a scan over half a million nodes reads a
/// megabyte or two, not twelve, and grouping by the key compares codes.
#[derive(Debug)]
pub struct Column {
    codes: Codes,
    /// The distinct values; `values[0]` is `Null`, the code of a node without one.
    values: Box<[Value]>,
}

#[derive(Debug)]
enum Codes {
    Short(Box<[u16]>),
    Long(Box<[u32]>),
}

impl Column {
    /// The values of node indices `0..bound`, as `value_of` gives them.
    fn of<'v>(bound: usize, value_of: impl Fn(usize) -> Option<&'v Value>) -> Column {
        let mut distinct: Vec<Value> = vec![Value::Null];
        let mut code_of: FxHashMap<&Value, u32> = FxHashMap::default();
        let mut codes: Vec<u32> = Vec::with_capacity(bound);
        for i in 0..bound {
            let code = match value_of(i).filter(|v| !v.is_null()) {
                None => 0,
                Some(v) => *code_of.entry(v).or_insert_with(|| {
                    distinct.push(v.clone());
                    // More distinct values than u32 codes would need more nodes than
                    // petgraph's u32 indices allow.
                    u32::try_from(distinct.len() - 1).unwrap_or(u32::MAX)
                }),
            };
            codes.push(code);
        }
        let codes = if distinct.len() <= usize::from(u16::MAX) + 1 {
            Codes::Short(codes.iter().map(|&c| c as u16).collect())
        } else {
            Codes::Long(codes.into())
        };
        Column {
            codes,
            values: distinct.into(),
        }
    }

    /// How many distinct values (with null, code 0) the codes name.
    pub fn distinct_values(&self) -> usize {
        self.values.len()
    }

    /// The code of node index `i`'s value (code 0: no value); `None` for an index beyond
    /// the column. Equal codes are equal values as query values too when
    /// [`Column::codes_equal_values`].
    pub fn code(&self, i: usize) -> Option<u32> {
        match &self.codes {
            Codes::Short(codes) => codes.get(i).map(|&c| u32::from(c)),
            Codes::Long(codes) => codes.get(i).copied(),
        }
    }

    /// Whether equal codes mean equal query values: no value is a float or a list (whose
    /// equality as query values is not that of stored values: `1 = 1.0`).
    pub fn codes_equal_values(&self) -> bool {
        self.values.iter().all(|v| {
            matches!(
                v,
                Value::Null | Value::Bool(_) | Value::Int(_) | Value::Str(_) | Value::Date(_)
            )
        })
    }

    fn get(&self, i: usize) -> Option<&Value> {
        self.values.get(usize::try_from(self.code(i)?).ok()?)
    }
}

/// The pieces built so far for one generation of the graph. Immutable once published: a
/// view holds the set it started with, and a later build publishes a new one.
#[derive(Debug, Default)]
pub struct Pieces {
    generation: u64,
    labels: Option<Arc<[SetId]>>,
    adjacency: FxHashMap<(Sym, bool), Arc<Adjacency>>,
    columns: FxHashMap<Sym, Arc<Column>>,
    ids: Option<Arc<[Name]>>,
    edge_valid: Option<Arc<[Option<Span>]>>,
}

/// A label set that no node has: marks an index with no node.
const NO_NODE: SetId = SetId(u32::MAX);

impl Pieces {
    /// The labels of node `n`, if laid out (and `n` is a node).
    pub(crate) fn labels(&self, n: NodeIndex) -> Option<Option<SetId>> {
        let labels = self.labels.as_ref()?;
        Some(labels.get(n.index()).copied().filter(|s| *s != NO_NODE))
    }

    /// The adjacency of one type in one direction, if laid out.
    pub fn adjacency(&self, rel_type: Sym, dir: Dir) -> Option<&Arc<Adjacency>> {
        self.adjacency.get(&(rel_type, dir == Dir::Outgoing))
    }

    /// The value of property `key` on node `n`, if that key is laid out: `Some(None)` when
    /// the node has no value for it.
    pub(crate) fn property(&self, n: NodeIndex, key: Sym) -> Option<Option<&Value>> {
        let column = self.columns.get(&key)?;
        Some(column.get(n.index()).filter(|v| !v.is_null()))
    }

    /// The column of property `key`, if laid out.
    pub fn column(&self, key: Sym) -> Option<&Arc<Column>> {
        self.columns.get(&key)
    }

    /// The external id of node `n`, if ids are laid out (and `n` is a node).
    pub(crate) fn id(&self, n: NodeIndex) -> Option<&str> {
        let id = self.ids.as_ref()?.get(n.index())?;
        (!id.is_empty()).then_some(id.as_str())
    }

    /// The valid time of edge `e`, if laid out: `Some(None)` when `e` is no edge.
    pub(crate) fn edge_valid(&self, e: EdgeIndex) -> Option<Option<Span>> {
        let spans = self.edge_valid.as_ref()?;
        Some(spans.get(e.index()).copied().flatten())
    }

    /// Asks for the cache line of edge `e`'s valid time, if laid out, ahead of
    /// [`edge_valid`](Self::edge_valid).
    #[inline]
    pub(crate) fn prefetch_edge_valid(&self, e: EdgeIndex) {
        if let Some(span) = self.edge_valid.as_ref().and_then(|s| s.get(e.index())) {
            prefetch(span);
        }
    }

    /// The generation of the graph these pieces were built from.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }
}

/// The graph's cache of pieces: the latest published set, replaced when the graph changes.
#[derive(Debug, Default)]
pub(crate) struct Accel {
    current: Mutex<Arc<Pieces>>,
}

impl Accel {
    /// The pieces of `generation`, or an empty set if those held are of an older one.
    pub(crate) fn pieces(&self, generation: u64) -> Arc<Pieces> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.generation == generation {
            current.clone()
        } else {
            Arc::new(Pieces {
                generation,
                ..Pieces::default()
            })
        }
    }

    fn publish(&self, pieces: Pieces) -> Arc<Pieces> {
        let pieces = Arc::new(pieces);
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        *current = pieces.clone();
        pieces
    }
}

impl Graph {
    /// Builds the pieces `wanted` that are not built yet for the graph as it is now, and
    /// returns the set holding them, or `None` when the newest state is not a plain one
    /// (a retraction is in the graph). Two readers may both build a missing piece at once;
    /// both get the same answer, and the later publication wins.
    pub fn prepare(&self, wanted: &Wanted) -> Option<Arc<Pieces>> {
        let view = View::new(self, self.head);
        if self.head != self.sealed || !view.shows_everything() {
            return None;
        }
        let have = self.accel.pieces(self.generation);
        let missing_labels = have.labels.is_none();
        let missing_adjacency: Vec<(Sym, Dir)> = wanted
            .adjacency
            .iter()
            .copied()
            .filter(|&(t, d)| have.adjacency(t, d).is_none())
            .collect();
        let missing_keys: Vec<Sym> = wanted
            .keys
            .iter()
            .copied()
            .filter(|k| !have.columns.contains_key(k))
            .collect();
        let missing_ids = wanted.ids && have.ids.is_none();
        let missing_edge_valid = wanted.edge_valid && have.edge_valid.is_none();
        if !missing_labels
            && missing_adjacency.is_empty()
            && missing_keys.is_empty()
            && !missing_ids
            && !missing_edge_valid
        {
            return Some(have);
        }
        let bound = petgraph::visit::NodeIndexable::node_bound(&self.g);
        let labels = match &have.labels {
            Some(l) => l.clone(),
            None => (0..bound)
                .map(|i| match view.creation(NodeIndex::new(i)) {
                    Some(c) => c.labels,
                    None => NO_NODE,
                })
                .collect(),
        };
        let mut adjacency = have.adjacency.clone();
        for (t, d) in missing_adjacency {
            let laid_out = self.lay_out(t, d, bound, &labels);
            adjacency.insert((t, d == Dir::Outgoing), Arc::new(laid_out));
        }
        let mut columns = have.columns.clone();
        for key in missing_keys {
            let column = Column::of(bound, |i| {
                view.node_at(NodeIndex::new(i))
                    .and_then(|n| n.property_sym(key))
            });
            columns.insert(key, Arc::new(column));
        }
        let ids = match &have.ids {
            Some(ids) => Some(ids.clone()),
            // An index with no node gets the empty name, which no id is.
            None if wanted.ids => Some(
                (0..bound)
                    .map(|i| {
                        self.g
                            .node_weight(NodeIndex::new(i))
                            .map_or_else(Name::default, |d| d.id.clone())
                    })
                    .collect(),
            ),
            None => None,
        };
        let edge_valid = match &have.edge_valid {
            Some(spans) => Some(spans.clone()),
            None if wanted.edge_valid => Some(
                (0..petgraph::visit::EdgeIndexable::edge_bound(&self.g))
                    .map(|i| {
                        let e = EdgeIndex::new(i);
                        view.edge_visible(e).then(|| view.edge_valid(e))
                    })
                    .collect(),
            ),
            None => None,
        };
        Some(self.accel.publish(Pieces {
            generation: self.generation,
            labels: Some(labels),
            adjacency,
            columns,
            ids,
            edge_valid,
        }))
    }

    /// The adjacency of type `t` in direction `d`: each node's relationships in the order
    /// `edges_directed` yields them (newest first), by the type index (oldest first).
    fn lay_out(&self, t: Sym, d: Dir, bound: usize, labels: &[SetId]) -> Adjacency {
        let edges = self.by_type.get(&t).map_or(&[][..], Vec::as_slice);
        let end_of = |e: EdgeIndex| {
            self.g
                .edge_endpoints(e)
                .map(|(a, b)| if d == Dir::Outgoing { (a, b) } else { (b, a) })
        };
        let mut counts = vec![0u32; bound + 1];
        for &e in edges {
            if let Some((n, _)) = end_of(e) {
                counts[n.index() + 1] += 1;
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let offsets: Box<[u32]> = counts.clone().into();
        let mut fill = counts;
        let mut entries = vec![(EdgeIndex::end(), NodeIndex::end()); edges.len()];
        for &e in edges.iter().rev() {
            if let Some((n, m)) = end_of(e) {
                let at = &mut fill[n.index()];
                entries[*at as usize] = (e, m);
                *at += 1;
            }
        }
        entries.truncate(offsets[bound] as usize);
        let set_of = |m: NodeIndex| labels.get(m.index()).copied().filter(|s| *s != NO_NODE);
        let first = entries.first().and_then(|&(_, m)| set_of(m));
        let ends = first.filter(|&set| entries.iter().all(|&(_, m)| set_of(m) == Some(set)));
        Adjacency {
            offsets,
            entries: entries.into(),
            ends,
        }
    }
}
