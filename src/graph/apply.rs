//! Applying events: the only code that writes the graph. It does no I/O.
//!
//! While a write is pending (validated and applied, not yet durable in the log), every change
//! is journaled so that [`Graph::rollback`] can take it back exactly; replay of committed
//! transactions skips the journal. Pending facts carry transaction numbers above
//! [`Graph::tx`], so views of the committed state never see them.

use std::sync::Arc;

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use smallvec::{SmallVec, smallvec};
use std::collections::hash_map::Entry;

use super::{
    Creation, EdgeData, End, Graph, NodeData, Postings, PropVersion, Retraction, SetId, Span, Sym,
    View, compute_dead, prop_key,
};
use crate::error::{EventError, Refusal};
use crate::event::{Event, Name, Props, Target, TxHeader};
use crate::time::{TxId, ValidTime};

/// What to undo if the pending transactions are not committed.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    enabled: bool,
    undo: Vec<Undo>,
}

#[derive(Debug)]
enum Undo {
    NewNode(NodeIndex),
    NodeRecords(NodeIndex),
    /// An edge added, and its entry in the type index.
    NewEdge(EdgeIndex),
    EdgeRecords(EdgeIndex),
    LabelIndex(Sym),
    PropIndex(u64),
    Retraction,
}

/// Undo records a node added is guessed to take, for reserving them: one for the node, one
/// per label, one per label and indexed property (here: one label, six properties).
const UNDO_PER_NODE: usize = 8;

impl Graph {
    /// Starts applying transaction `header.tx`; `journaled` when it may be rolled back.
    pub(crate) fn begin_tx(&mut self, header: TxHeader, journaled: bool) {
        self.generation += 1;
        self.journal.enabled = journaled;
        self.head = header.tx;
        self.headers.push(header);
    }

    /// Records the final header (with its event count) of the transaction being applied.
    pub(crate) fn end_tx(&mut self, header: TxHeader) {
        if let Some(last) = self.headers.last_mut() {
            *last = header;
        }
    }

    /// Makes room for `nodes` more nodes and `edges` more edges, and, when journaled, for
    /// their undo records: one per edge, and [`UNDO_PER_NODE`] per node (a guess; room not
    /// used is address space, not memory).
    pub(crate) fn reserve(&mut self, nodes: usize, edges: usize) {
        self.g.reserve_nodes(nodes);
        self.g.reserve_edges(edges);
        if self.journal.enabled {
            self.journal
                .undo
                .reserve(nodes.saturating_mul(UNDO_PER_NODE).saturating_add(edges));
        }
    }

    /// Makes everything applied so far part of the committed state.
    pub(crate) fn seal(&mut self) {
        self.generation += 1;
        self.sealed = self.head;
        self.journal.undo.clear();
    }

    /// Takes back everything applied since the last [`Graph::seal`].
    pub(crate) fn rollback(&mut self) {
        self.generation += 1;
        let sealed = self.sealed;
        let mut retractions_changed = false;
        while let Some(undo) = self.journal.undo.pop() {
            match undo {
                Undo::NewNode(n) => {
                    if let Some(data) = self.g.remove_node(n) {
                        self.node_ids.remove(&data.id, n.index() as u32);
                    }
                }
                Undo::NodeRecords(n) => {
                    if let Some(data) = self.g.node_weight_mut(n) {
                        data.created.retain(|c| c.tx <= sealed);
                        retain(&mut data.ends, |e| e.tx <= sealed);
                        retain(&mut data.props, |p| p.tx <= sealed);
                    }
                }
                Undo::NewEdge(e) => {
                    if let Some(data) = self.g.remove_edge(e) {
                        pop_index(&mut self.by_type, &data.rel_type);
                        let prev = data.predecessor;
                        if prev == EdgeIndex::end() {
                            self.edge_ids.remove(&data.id, e.index() as u32);
                        } else {
                            self.edge_ids
                                .replace(&data.id, e.index() as u32, prev.index() as u32);
                            if let Some(p) = self.g.edge_weight_mut(prev) {
                                p.successor = EdgeIndex::end();
                            }
                        }
                    }
                }
                Undo::EdgeRecords(e) => {
                    if let Some(data) = self.g.edge_weight_mut(e) {
                        retain(&mut data.ends, |x| x.tx <= sealed);
                        retain(&mut data.props, |p| p.tx <= sealed);
                    }
                }
                Undo::LabelIndex(label) => {
                    pop_index(&mut self.by_label, &label);
                }
                Undo::PropIndex(hash) => {
                    if let Some(list) = self.by_prop.get_mut(&hash)
                        && !list.pop()
                    {
                        self.by_prop.remove(&hash);
                    }
                }
                Undo::Retraction => {
                    self.retractions.pop();
                    retractions_changed = true;
                }
            }
        }
        self.headers.truncate(sealed.0 as usize);
        self.head = sealed;
        if retractions_changed {
            self.dead_at_head = Arc::new(compute_dead(&self.retractions, sealed));
        }
    }

    fn note(&mut self, undo: Undo) {
        if self.journal.enabled {
            self.journal.undo.push(undo);
        }
    }

    /// Applies one event of transaction `tx`, which must be the one begun last.
    ///
    /// # Errors
    /// When the event refers to a node or an edge that was never added (a damaged log: the
    /// write path validates first). Nothing of the event is applied then.
    pub fn apply(&mut self, tx: TxId, index: u32, event: Event) -> Result<(), EventError> {
        let target = self
            .resolve_references(&event)
            .map_err(|reason| EventError {
                tx,
                index,
                summary: event.summary(),
                reason,
            })?;
        self.apply_resolved(tx, event, target);
        Ok(())
    }

    /// Applies an event that [`Graph::validate`] just passed, with the nodes and edges it
    /// found. Nothing may change the graph between the two.
    pub fn apply_checked(&mut self, tx: TxId, event: Event, checked: Checked) {
        self.apply_resolved(tx, event, checked.0);
    }

    fn apply_resolved(&mut self, tx: TxId, event: Event, target: Resolved) {
        self.generation += 1;
        match (event, target) {
            (
                Event::NodeAdded {
                    id,
                    labels,
                    props,
                    valid,
                    sources,
                },
                Resolved::NewNode(before),
            ) => self.add_node(tx, (id, before), &labels, props, valid, &sources),
            (
                Event::PropertiesSet {
                    props,
                    valid,
                    sources,
                    ..
                },
                Resolved::Node(n),
            ) => {
                let sources = self.intern_set(&sources);
                let (owner, labels) = self.live_incarnation(n);
                self.note(Undo::NodeRecords(n));
                self.push_node_props(n, (tx, owner), props, valid, sources, labels);
            }
            (
                Event::PropertiesSet {
                    props,
                    valid,
                    sources,
                    ..
                },
                Resolved::Edge(e),
            ) => {
                let sources = self.intern_set(&sources);
                self.note(Undo::EdgeRecords(e));
                let owner = self.g[e].created.tx;
                let versions = self.prop_versions((tx, owner), props, valid, sources);
                append(&mut self.g[e].props, versions);
            }
            (Event::NodeEnded { end, sources, .. }, Resolved::Node(n)) => {
                let sources = self.intern_set(&sources);
                let (owner, _) = self.live_incarnation(n);
                self.note(Undo::NodeRecords(n));
                let record = End {
                    tx,
                    owner,
                    end,
                    sources,
                };
                append(&mut self.g[n].ends, [record]);
            }
            (Event::EdgeEnded { end, sources, .. }, Resolved::Edge(e)) => {
                let sources = self.intern_set(&sources);
                self.note(Undo::EdgeRecords(e));
                let owner = self.g[e].created.tx;
                let record = End {
                    tx,
                    owner,
                    end,
                    sources,
                };
                append(&mut self.g[e].ends, [record]);
            }
            (
                Event::EdgeAdded {
                    id,
                    rel_type,
                    props,
                    valid,
                    sources,
                    ..
                },
                Resolved::NewEdge { ends, latest },
            ) => self.add_edge(tx, (id, latest), &rel_type, ends, props, valid, &sources),
            (Event::TxRetracted { tx: target, reason }, _) => {
                self.retractions.push(Retraction {
                    by: tx,
                    target,
                    reason: reason.into_boxed_str(),
                });
                self.note(Undo::Retraction);
                self.dead_at_head = Arc::new(compute_dead(&self.retractions, tx));
            }
            // Validation and resolve_references give the variant each event needs.
            _ => {}
        }
    }

    /// Finds the nodes and edges an event refers to (not whether they are live: that is
    /// validation's business).
    fn resolve_references(&self, event: &Event) -> Result<Resolved, Refusal> {
        let node = |id: &Name| {
            self.node_index(id)
                .ok_or_else(|| Refusal::UnknownNode(id.to_string()))
        };
        // The incarnation shown at this point of the log, which validation checked: after
        // retractions of retractions it need not be the latest one added.
        let edge = |id: &Name| {
            View::new(self, self.head)
                .edge(id)
                .map(|e| e.index())
                .or_else(|| self.edge_index(id))
                .ok_or_else(|| Refusal::UnknownEdge(id.to_string()))
        };
        Ok(match event {
            Event::NodeAdded { id, .. } => Resolved::NewNode(self.node_index(id)),
            Event::TxRetracted { .. } => Resolved::Nothing,
            Event::PropertiesSet {
                target: Target::Node(id),
                ..
            }
            | Event::NodeEnded { id, .. } => Resolved::Node(node(id)?),
            Event::PropertiesSet {
                target: Target::Edge(id),
                ..
            }
            | Event::EdgeEnded { id, .. } => Resolved::Edge(edge(id)?),
            Event::EdgeAdded { id, from, to, .. } => Resolved::NewEdge {
                ends: (node(from)?, node(to)?),
                latest: self.edge_index(id),
            },
        })
    }

    fn add_node(
        &mut self,
        tx: TxId,
        (id, before): (Name, Option<NodeIndex>),
        labels: &[Name],
        props: Props,
        valid: ValidTime,
        sources: &[Name],
    ) {
        let sources = self.intern_set(sources);
        let label_set = self.intern_set(labels);
        let n = match before {
            Some(n) => {
                self.note(Undo::NodeRecords(n));
                n
            }
            None => {
                let n = self.g.add_node(NodeData {
                    id: id.clone(),
                    created: smallvec![],
                    ends: Box::default(),
                    props: Box::default(),
                });
                self.node_ids
                    .insert_new(&id, n.index() as u32, super::node_id_of(&self.g));
                self.note(Undo::NewNode(n));
                n
            }
        };
        self.g[n].created.push(Creation {
            tx,
            labels: label_set,
            valid: Span::of(&valid),
            sources,
        });
        let labels: SmallVec<[Sym; 4]> = self.sets.get(label_set).into();
        for label in labels {
            let list = self.by_label.entry(label).or_default();
            if list.last() != Some(&n) {
                list.push(n);
                self.note(Undo::LabelIndex(label));
            }
        }
        self.push_node_props(n, (tx, tx), props, valid, sources, label_set);
    }

    #[allow(clippy::too_many_arguments)]
    fn add_edge(
        &mut self,
        tx: TxId,
        (id, latest): (Name, Option<EdgeIndex>),
        rel_type: &Name,
        (a, b): (NodeIndex, NodeIndex),
        props: Props,
        valid: ValidTime,
        sources: &[Name],
    ) {
        let sources = self.intern_set(sources);
        let rel_type = self.intern(rel_type);
        let props = self.prop_versions((tx, tx), props, valid, sources);
        let predecessor = latest.unwrap_or(EdgeIndex::end());
        let e = self.g.add_edge(
            a,
            b,
            EdgeData {
                id: id.clone(),
                rel_type,
                created: Creation {
                    tx,
                    labels: SetId(0),
                    valid: Span::of(&valid),
                    sources,
                },
                ends: Box::default(),
                props: props.into_boxed_slice(),
                successor: EdgeIndex::end(),
                predecessor,
            },
        );
        if let Some(prev) = self.g.edge_weight_mut(predecessor) {
            prev.successor = e;
        }
        if predecessor == EdgeIndex::end() {
            self.edge_ids
                .insert_new(&id, e.index() as u32, super::edge_id_of(&self.g));
        } else {
            self.edge_ids
                .replace(&id, predecessor.index() as u32, e.index() as u32);
        }
        self.by_type.entry(rel_type).or_default().push(e);
        self.note(Undo::NewEdge(e));
    }

    pub(crate) fn intern_set(&mut self, names: &[Name]) -> SetId {
        if names.is_empty() {
            return SetId(0);
        }
        let mut syms: SmallVec<[Sym; 4]> = names.iter().map(|s| self.intern(s)).collect();
        self.sets.intern(&mut syms)
    }

    /// Interns a name, through a small cache of recent names: events of a log repeat the
    /// same few labels, keys and types, and comparing short inline strings is cheaper than
    /// a lookup in the interner.
    pub(crate) fn intern(&mut self, name: &Name) -> Sym {
        let slot = recent_slot(name);
        if let Some((cached, sym)) = &self.recent_names[slot]
            && cached == name
        {
            return *sym;
        }
        let sym = self.symbols.get_or_intern(name);
        self.recent_names[slot] = Some((name.clone(), sym));
        sym
    }

    /// The node's incarnation shown at this point of the log (the one validation checked):
    /// its creation's transaction and labels.
    fn live_incarnation(&self, n: NodeIndex) -> (TxId, SetId) {
        let live = View::new(self, self.head).creation(n).copied();
        live.or_else(|| self.g[n].created.last().copied())
            .map_or((TxId(0), SetId(0)), |c| (c.tx, c.labels))
    }

    fn prop_versions(
        &mut self,
        (tx, owner): (TxId, TxId),
        mut props: Props,
        valid: ValidTime,
        sources: SetId,
    ) -> Vec<PropVersion> {
        let valid = Span::of(&valid);
        let mut versions = Vec::with_capacity(props.len());
        for (key, value) in props.drain(..) {
            versions.push(PropVersion {
                tx,
                owner,
                key: self.intern(&key),
                sources,
                value,
                valid,
            });
        }
        if let Some(spent) = &mut self.spent {
            // Replay hands the emptied vector back to the thread that allocated it.
            spent.push(props);
        }
        versions
    }

    fn push_node_props(
        &mut self,
        n: NodeIndex,
        stamp: (TxId, TxId),
        props: Props,
        valid: ValidTime,
        sources: SetId,
        labels: SetId,
    ) {
        let versions = self.prop_versions(stamp, props, valid, sources);
        let label_syms: SmallVec<[Sym; 4]> = self.sets.get(labels).into();
        for v in &versions {
            if !v.value.is_indexable() {
                continue;
            }
            for &label in &label_syms {
                let hash = prop_key(label, v.key, &v.value);
                let pushed = match self.by_prop.entry(hash) {
                    Entry::Occupied(mut o) => o.get_mut().push(n),
                    Entry::Vacant(slot) => {
                        slot.insert(Postings::One(n));
                        true
                    }
                };
                if pushed {
                    self.note(Undo::PropIndex(hash));
                }
            }
        }
        append(&mut self.g[n].props, versions);
    }
}

/// A slot of the recent-names cache.
fn recent_slot(name: &str) -> usize {
    use std::hash::BuildHasher;
    (rustc_hash::FxBuildHasher.hash_one(name) >> 40) as usize % RECENT_NAMES
}

/// Slots of the recent-names cache.
pub(crate) const RECENT_NAMES: usize = 256;

/// Appends to a boxed slice (entities rarely change after they are added).
fn append<T>(slot: &mut Box<[T]>, items: impl IntoIterator<Item = T>) {
    let mut v = std::mem::take(slot).into_vec();
    v.extend(items);
    *slot = v.into_boxed_slice();
}

fn retain<T>(slot: &mut Box<[T]>, keep: impl FnMut(&T) -> bool) {
    let mut v = std::mem::take(slot).into_vec();
    v.retain(keep);
    *slot = v.into_boxed_slice();
}

/// What an event refers to, looked up before it is applied.
pub(crate) enum Resolved {
    Nothing,
    /// A node added: the index its id already has, if it was added before.
    NewNode(Option<NodeIndex>),
    Node(NodeIndex),
    Edge(EdgeIndex),
    /// An edge added: its ends, and the latest incarnation of its id.
    NewEdge {
        ends: (NodeIndex, NodeIndex),
        latest: Option<EdgeIndex>,
    },
}

/// What validation found an event to refer to, for applying it right after
/// ([`Graph::apply_checked`]): the write path looks each id up once.
pub struct Checked(pub(crate) Resolved);

fn pop_index<T>(map: &mut rustc_hash::FxHashMap<Sym, Vec<T>>, key: &Sym) {
    if let Some(list) = map.get_mut(key) {
        list.pop();
        if list.is_empty() {
            map.remove(key);
        }
    }
}
