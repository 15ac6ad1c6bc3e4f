//! Graph algorithms for `CALL name({options}) YIELD …`: degree, PageRank, betweenness and
//! closeness centrality, connected components, and hop distances, on the nodes and
//! relationships a view shows (so `AT TX` and `AS OF` / `DURING` apply).
//!
//! The view is first copied into a plain petgraph `Graph` (optionally only some labels and
//! relationship types), then handed to petgraph's and rustworkx-core's algorithms. Only
//! PageRank is computed here: petgraph's `page_rank` compares every pair of nodes in each
//! iteration (quadratic: minutes at 10,000 nodes, and it cannot be cancelled), so this one
//! is the usual power iteration, O(nodes + relationships) per step, checking the query's
//! budget between steps and giving the same scores as networkx's `pagerank` (tested).

use std::collections::BTreeMap;

use petgraph::graph::{Graph, NodeIndex as Ix};
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::EdgeRef as _;
use petgraph::{Directed, Direction, EdgeType, Undirected};

use super::exec::Budget;
use super::value::Val;
use crate::graph::View;

/// The algorithms `CALL` knows, with the columns each yields (the first is always `node`).
pub const ALGORITHMS: &[(&str, &[&str], &str)] = &[
    (
        "degree",
        &["node", "degree", "indegree", "outdegree"],
        "relationships at each node (both directions; a loop counts twice)",
    ),
    (
        "pagerank",
        &["node", "score"],
        "PageRank (damping 0.85); scores sum to 1",
    ),
    (
        "betweenness",
        &["node", "score"],
        "betweenness centrality, normalized: the share of shortest paths through the node",
    ),
    (
        "closeness",
        &["node", "score"],
        "closeness centrality (Wasserman–Faust for graphs in pieces)",
    ),
    (
        "components",
        &["node", "component", "size"],
        "connected components, numbered from 0 by size (largest first)",
    ),
    (
        "distance",
        &["node", "distance"],
        "hops from the node given as {from: n}, for each node it reaches",
    ),
];

/// An algorithm's result: per node, the values of its columns after `node`.
pub type Scores = Vec<(NodeIndex, Vec<Val>)>;

/// The options every algorithm takes, and those of some.
const COMMON: &[&str] = &["labels", "types", "directed"];

fn options_of(name: &str) -> &'static [&'static str] {
    match name {
        "pagerank" => &["damping", "iterations", "tolerance"],
        "betweenness" | "closeness" => &["normalized"],
        "distance" => &["from"],
        _ => &[],
    }
}

/// The columns `name` yields, if it is an algorithm.
pub fn columns(name: &str) -> Option<&'static [&'static str]> {
    ALGORITHMS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, c, _)| *c)
}

/// What a `CALL` asked for, options checked.
#[derive(Clone, Debug)]
pub struct Call {
    name: &'static str,
    labels: Vec<String>,
    types: Vec<String>,
    directed: bool,
    damping: f64,
    iterations: usize,
    tolerance: f64,
    normalized: bool,
    from: Option<NodeIndex>,
}

impl Call {
    /// Checks an algorithm's name and options (a map, or nothing).
    ///
    /// # Errors
    /// A message naming the unknown algorithm or the offending option.
    pub fn new(name: &str, options: Option<&Val>) -> Result<Call, String> {
        let Some(&(name, _, _)) = ALGORITHMS
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
        else {
            let known: Vec<&str> = ALGORITHMS.iter().map(|(n, _, _)| *n).collect();
            let close = known
                .iter()
                .min_by_key(|k| strsim::levenshtein(k, &name.to_lowercase()))
                .filter(|k| strsim::levenshtein(k, &name.to_lowercase()) <= 3);
            let hint = close.map_or(String::new(), |k| format!("; did you mean `{k}`?"));
            return Err(format!(
                "no algorithm `{name}`: CALL knows {}{hint}",
                known.join(", ")
            ));
        };
        let mut call = Call {
            name,
            labels: Vec::new(),
            types: Vec::new(),
            directed: false,
            damping: 0.85,
            iterations: 100,
            tolerance: 1e-6,
            normalized: true,
            from: None,
        };
        let empty = BTreeMap::new();
        let map = match options {
            None | Some(Val::Null) => &empty,
            Some(Val::Map(m)) => m.as_ref(),
            Some(other) => {
                return Err(format!(
                    "{name}() takes a map of options such as {{directed: true}}, not a {}",
                    other.type_name()
                ));
            }
        };
        let allowed: Vec<&str> = COMMON.iter().chain(options_of(name)).copied().collect();
        for (key, value) in map {
            let bad = |what: &str| {
                format!(
                    "{name}(): option `{key}` must be {what}, not {}",
                    value.type_name()
                )
            };
            match (key.as_str(), value) {
                (k, _) if !allowed.contains(&k) => {
                    return Err(format!(
                        "{name}() has no option `{key}` (it takes {})",
                        allowed.join(", ")
                    ));
                }
                ("labels", v) => call.labels = names(v).ok_or_else(|| bad("a list of labels"))?,
                ("types", v) => {
                    call.types = names(v).ok_or_else(|| bad("a list of relationship types"))?;
                }
                ("directed", Val::Bool(b)) => call.directed = *b,
                ("normalized", Val::Bool(b)) => call.normalized = *b,
                ("damping", v) => match number(v) {
                    Some(d) if (0.0..=1.0).contains(&d) => call.damping = d,
                    Some(d) => return Err(format!("{name}(): damping {d} is not between 0 and 1")),
                    None => return Err(bad("a number between 0 and 1")),
                },
                ("tolerance", v) => match number(v) {
                    Some(t) if t > 0.0 => call.tolerance = t,
                    _ => return Err(bad("a positive number")),
                },
                ("iterations", Val::Int(n)) if (1..=100_000).contains(n) => {
                    call.iterations = usize::try_from(*n).unwrap_or(100);
                }
                ("iterations", _) => return Err(bad("an integer from 1 to 100000")),
                ("from", Val::Node(n)) => call.from = Some(*n),
                ("from", _) => return Err(bad("a node")),
                _ => return Err(bad("true or false")),
            }
        }
        if name == "distance" && call.from.is_none() {
            return Err(
                "distance() needs the node to count from: CALL distance({from: b})".to_owned(),
            );
        }
        Ok(call)
    }

    /// The algorithm's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Runs the algorithm on what `view` shows: one row per node, in the view's order,
    /// the values of [`columns`] after `node`.
    ///
    /// # Errors
    /// The budget's error when the time is up or the query was cancelled.
    pub fn run(
        &self,
        view: &View<'_>,
        budget: &Budget,
    ) -> Result<Scores, super::error::QueryError> {
        // Degrees count in and out on the relationships' own directions.
        if self.directed || self.name == "degree" {
            self.run_on::<Directed>(view, budget)
        } else {
            self.run_on::<Undirected>(view, budget)
        }
    }

    fn run_on<Ty: EdgeType + Send + Sync + 'static>(
        &self,
        view: &View<'_>,
        budget: &Budget,
    ) -> Result<Scores, super::error::QueryError> {
        let g = self.project::<Ty>(view);
        budget.check()?;
        let n = g.node_count();
        let nodes: Vec<NodeIndex> = g.node_weights().copied().collect();
        let at = |i: usize| nodes[i];
        let floats = |scores: Vec<Option<f64>>| {
            scores
                .into_iter()
                .enumerate()
                .map(|(i, s)| (at(i), vec![s.map_or(Val::Null, Val::Float)]))
                .collect()
        };
        // Threads only pay off on big graphs; below this rustworkx stays on this one.
        const PARALLEL: usize = 5_000;
        Ok(match self.name {
            "degree" => (0..n)
                .map(|i| {
                    let inn = g.edges_directed(Ix::new(i), Direction::Incoming).count();
                    let out = g.edges_directed(Ix::new(i), Direction::Outgoing).count();
                    let v = |x: usize| Val::Int(i64::try_from(x).unwrap_or(i64::MAX));
                    (at(i), vec![v(inn + out), v(inn), v(out)])
                })
                .collect(),
            "pagerank" => {
                let scores = pagerank(&g, self.damping, self.iterations, self.tolerance, budget)?;
                scores
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| (at(i), vec![Val::Float(s)]))
                    .collect()
            }
            // These take O(nodes × relationships): on a worker, so that Ctrl-C and the
            // time budget end the query at once (the worker finishes on its own, unseen).
            "betweenness" => {
                let normalized = self.normalized;
                floats(on_worker(budget, move || {
                    rustworkx_core::centrality::betweenness_centrality(
                        &g, false, normalized, PARALLEL,
                    )
                })?)
            }
            "closeness" => floats(on_worker(budget, move || {
                rustworkx_core::centrality::closeness_centrality(&g, true, PARALLEL)
            })?),
            "components" => {
                let mut parts: Vec<Vec<Ix>> = if Ty::is_directed() {
                    petgraph::algo::tarjan_scc(&g)
                } else {
                    rustworkx_core::connectivity::connected_components(&g)
                        .into_iter()
                        .map(|s| s.into_iter().collect())
                        .collect()
                };
                for p in &mut parts {
                    p.sort_unstable();
                }
                // Largest first; ties by their first node, so the numbering is stable.
                parts.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
                let mut rows = vec![Vec::new(); n];
                for (k, p) in parts.iter().enumerate() {
                    for &ix in p {
                        rows[ix.index()] = vec![
                            Val::Int(i64::try_from(k).unwrap_or(i64::MAX)),
                            Val::Int(i64::try_from(p.len()).unwrap_or(i64::MAX)),
                        ];
                    }
                }
                rows.into_iter()
                    .enumerate()
                    .map(|(i, r)| (at(i), r))
                    .collect()
            }
            "distance" => {
                let Some(start) = self.from.and_then(|f| (0..n).find(|&i| at(i) == f)) else {
                    return Ok(Vec::new());
                };
                let hops = petgraph::algo::dijkstra(&g, Ix::new(start), None, |_| 1_i64);
                (0..n)
                    .filter_map(|i| hops.get(&Ix::new(i)).map(|&d| (at(i), vec![Val::Int(d)])))
                    .collect()
            }
            other => unreachable!("Call::new admits only known algorithms, not {other}"),
        })
    }

    /// The view's nodes (with one of `labels`, when given) and the relationships between
    /// them (of one of `types`, when given), as a plain graph; node weights are the view's
    /// node indexes.
    fn project<Ty: EdgeType>(&self, view: &View<'_>) -> Graph<NodeIndex, (), Ty> {
        let mut g = Graph::<NodeIndex, (), Ty>::default();
        let mut index = rustc_hash::FxHashMap::default();
        for n in view.nodes() {
            if self.labels.is_empty() || self.labels.iter().any(|l| n.has_label(l)) {
                index.insert(n.index(), g.add_node(n.index()));
            }
        }
        for e in view.edges() {
            if !self.types.is_empty() && !self.types.iter().any(|t| t == e.rel_type()) {
                continue;
            }
            if let (Some(&a), Some(&b)) = (index.get(&e.from().index()), index.get(&e.to().index()))
            {
                g.add_edge(a, b, ());
            }
        }
        g
    }
}

/// Runs `work` on a thread of its own, checking the budget while it runs.
///
/// # Errors
/// The budget's error (the worker is left to finish, its result dropped), or a runtime
/// error if the worker panicked.
fn on_worker<T: Send + 'static>(
    budget: &Budget,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, super::error::QueryError> {
    use std::sync::mpsc::{RecvTimeoutError, channel};
    let (send, receive) = channel();
    std::thread::spawn(move || {
        let _ = send.send(work());
    });
    loop {
        match receive.recv_timeout(std::time::Duration::from_millis(20)) {
            Ok(result) => return Ok(result),
            Err(RecvTimeoutError::Timeout) => budget.check()?,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(super::error::QueryError::new(
                    super::error::ErrorKind::Runtime,
                    "the graph algorithm failed (a bug: please report it)",
                ));
            }
        }
    }
}

fn names(v: &Val) -> Option<Vec<String>> {
    match v {
        Val::Str(s) => Some(vec![s.as_str().to_owned()]),
        Val::List(items) => items
            .iter()
            .map(|x| match x {
                Val::Str(s) => Some(s.as_str().to_owned()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn number(v: &Val) -> Option<f64> {
    match v {
        Val::Int(i) => Some(*i as f64),
        Val::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

/// PageRank by power iteration, as networkx computes it: a node without outgoing
/// relationships shares its rank among all nodes; stops when the ranks change by less than
/// `n · tolerance` in total, or after `iterations` steps. On an undirected graph each
/// relationship counts in both directions.
///
/// # Errors
/// The budget's error, checked between steps.
pub fn pagerank<Ty: EdgeType>(
    g: &Graph<NodeIndex, (), Ty>,
    damping: f64,
    iterations: usize,
    tolerance: f64,
    budget: &Budget,
) -> Result<Vec<f64>, super::error::QueryError> {
    let n = g.node_count();
    if n == 0 {
        return Ok(Vec::new());
    }
    let nf = n as f64;
    // Outgoing links of each node, as (target) lists; undirected edges go both ways.
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in g.edge_references() {
        let (a, b) = (e.source().index(), e.target().index());
        out[a].push(b);
        if !Ty::is_directed() && a != b {
            out[b].push(a);
        }
    }
    let mut rank = vec![1.0 / nf; n];
    let mut next = vec![0.0; n];
    for _ in 0..iterations {
        budget.check()?;
        let dangling: f64 = (0..n).filter(|&i| out[i].is_empty()).map(|i| rank[i]).sum();
        let base = (1.0 - damping) / nf + damping * dangling / nf;
        next.iter_mut().for_each(|x| *x = base);
        for (i, targets) in out.iter().enumerate() {
            if targets.is_empty() {
                continue;
            }
            let share = damping * rank[i] / targets.len() as f64;
            for &t in targets {
                next[t] += share;
            }
        }
        let change: f64 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut rank, &mut next);
        if change < nf * tolerance {
            break;
        }
    }
    Ok(rank)
}
