//! `HISTORY` and `DIFF`: how an entity's record grew, and what changed between two states.
//!
//! Two kinds of change are kept apart. `DIFF AS OF d1, d2` compares the world at two valid
//! times, on the latest record: what began, ended or changed value. `DIFF AT TX a, TX b`
//! compares the record after two transactions, at every valid time: facts added, values
//! corrected, facts retracted (or restored). `HISTORY` lists every fact recorded about each
//! node or edge, with the transaction that recorded it. Every line carries its sources.

use std::collections::BTreeSet;

use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use super::exec::Output;
use super::value::Cell;
use crate::graph::facts::{Fact, FactKind, RetractionInfo};
use crate::graph::{Graph, View};
use crate::time::{Date, DayRange, TxId};
use crate::value::Value;

/// A node or an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Element {
    /// A node.
    Node(NodeIndex),
    /// An edge.
    Edge(EdgeIndex),
}

/// The columns of `HISTORY`.
pub const HISTORY_COLUMNS: [&str; 9] = [
    "element",
    "tx",
    "recorded_at",
    "author",
    "message",
    "event",
    "detail",
    "valid",
    "sources",
];

/// The columns of `DIFF`.
pub const DIFF_COLUMNS: [&str; 7] = [
    "tx", "change", "element", "name", "detail", "valid", "sources",
];

/// `HISTORY`: for each element in turn, every fact recorded about it and every retraction
/// that touched those facts, oldest first — as recorded up to transaction `upto`.
pub fn history(graph: &Graph, elements: &[Element], upto: TxId) -> Output {
    let mut rows = Vec::new();
    for &el in elements {
        let (id, facts) = match el {
            Element::Node(n) => (graph_node_id(graph, n), graph.node_facts(n)),
            Element::Edge(e) => (graph_edge_id(graph, e), graph.edge_facts(e)),
        };
        let facts: Vec<Fact<'_>> = facts.into_iter().filter(|f| f.tx <= upto).collect();
        let txs: Vec<TxId> = facts.iter().map(|f| f.tx).collect();
        let mut lines: Vec<(TxId, Vec<Cell>)> = facts
            .iter()
            .map(|f| {
                let (event, detail) = describe(f);
                let valid = valid_text(f).map_or(Cell::Null, |v| Cell::Str(v.into()));
                let cells = vec![
                    Cell::Str(event.into()),
                    Cell::Str(detail.into()),
                    valid,
                    sources_cell(&f.sources),
                ];
                (f.tx, cells)
            })
            .collect();
        for r in graph.retractions_touching(&txs) {
            if r.by > upto {
                continue;
            }
            lines.push((r.by, retraction_cells(&r)));
        }
        // Stable: a retraction comes after the facts of its own transaction.
        lines.sort_by_key(|(tx, _)| *tx);
        for (tx, cells) in lines {
            let mut row = vec![Cell::Str(id.clone().into())];
            row.extend(header_cells(graph, tx));
            row.extend(cells);
            rows.push(row);
        }
    }
    Output {
        columns: HISTORY_COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

fn retraction_cells(r: &RetractionInfo<'_>) -> Vec<Cell> {
    vec![
        Cell::Str("retracted".into()),
        Cell::Str(format!("tx {} retracted: {}", r.target, r.reason).into()),
        Cell::Null,
        Cell::List(Vec::new()),
    ]
}

/// tx, recorded_at, author, message.
fn header_cells(graph: &Graph, tx: TxId) -> [Cell; 4] {
    let h = graph.header(tx);
    [
        Cell::Int(i64::try_from(tx.0).unwrap_or(i64::MAX)),
        h.map_or(Cell::Null, |h| {
            Cell::Str(seconds(&h.recorded_at.to_string()).into())
        }),
        h.and_then(|h| h.meta.author.clone())
            .map_or(Cell::Null, |s| Cell::Str(s.into())),
        h.and_then(|h| h.meta.message.clone())
            .map_or(Cell::Null, |s| Cell::Str(s.into())),
    ]
}

/// An RFC 3339 time without its fraction of a second.
pub(crate) fn seconds(text: &str) -> String {
    match (text.find('.'), text.ends_with('Z')) {
        (Some(dot), true) => format!("{}Z", &text[..dot]),
        _ => text.to_owned(),
    }
}

/// The event name and its detail.
fn describe(f: &Fact<'_>) -> (&'static str, String) {
    match &f.what {
        FactKind::NodeAdded { labels, props } => {
            let labels: String = labels.iter().map(|l| format!(":{l}")).collect();
            ("added", format!("({labels}{})", props_text(props)))
        }
        FactKind::EdgeAdded {
            rel_type,
            from,
            to,
            props,
        } => (
            "added",
            format!("({from})-[:{rel_type}{}]->({to})", props_text(props)),
        ),
        FactKind::Set { key, value } if value.is_null() => ("removed", key.to_string()),
        FactKind::Set { key, value } => ("set", format!("{key} = {value}")),
        FactKind::Ended { date } => ("ended", format!("last valid {date}")),
    }
}

fn props_text(props: &[(&str, &Value)]) -> String {
    if props.is_empty() {
        return String::new();
    }
    let items: Vec<String> = props.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!(" {{{}}}", items.join(", "))
}

/// The valid time a fact gives, as written (an end: up to its date).
fn valid_text(f: &Fact<'_>) -> Option<String> {
    match (&f.what, f.valid) {
        (FactKind::Ended { date }, _) => Some(format!("../{date}")),
        (_, Some(v)) => Some(v.to_string()),
        (_, None) => None,
    }
}

fn sources_cell(sources: &[&str]) -> Cell {
    Cell::List(
        sources
            .iter()
            .map(|s| Cell::Str(s.to_string().into()))
            .collect(),
    )
}

fn graph_node_id(graph: &Graph, n: NodeIndex) -> String {
    graph
        .g
        .node_weight(n)
        .map_or(String::new(), |d| d.id.to_string())
}

fn graph_edge_id(graph: &Graph, e: EdgeIndex) -> String {
    graph
        .g
        .edge_weight(e)
        .map_or(String::new(), |d| d.id.to_string())
}

/// `DIFF AS OF a, b`: on the latest record, what began (shown at `b`, not at `a`), ended
/// (shown at `a`, not at `b`), or changed value between the two valid times.
pub fn diff_valid(graph: &Graph, at: TxId, a: Date, b: Date) -> Output {
    let va = graph.view_at(at).during(DayRange::of(a));
    let vb = graph.view_at(at).during(DayRange::of(b));
    let all = graph.view_at(at);
    let mut rows: Vec<(u8, String, Vec<Cell>)> = Vec::new();
    for node in all.nodes() {
        let n = node.index();
        let labels: String = node.labels().iter().map(|l| format!(":{l}")).collect();
        let seen = Seen {
            id: node.id().to_owned(),
            name: name_cell(node.property("name").or(node.property("title"))),
            detail: format!("({labels})"),
            valid: node.valid().to_string(),
            began: (node.tx(), node.sources()),
            ended: node
                .end()
                .map_or((node.tx(), node.sources()), |e| (e.tx, e.sources)),
        };
        let changes = || match (va.node_at(n), vb.node_at(n)) {
            (Some(na), Some(nb)) => {
                let version = |k: &str| nb.property_version(k).or(na.property_version(k));
                changed_rows(
                    &seen.id,
                    &seen.name,
                    &na.properties(),
                    &nb.properties(),
                    version,
                )
            }
            _ => Vec::new(),
        };
        seen.push((va.node_visible(n), vb.node_visible(n)), changes, &mut rows);
    }
    for edge in all.edges() {
        let e = edge.index();
        let mut detail = format!(
            "({})-[:{}]->({})",
            edge.from().id(),
            edge.rel_type(),
            edge.to().id()
        );
        // Ended itself, or with a node at one of its ends.
        let ended_end = [edge.from(), edge.to()]
            .into_iter()
            .find(|n| !vb.node_visible(n.index()) && n.end().is_some());
        let ended = match (edge.end(), ended_end) {
            (Some(x), _) => (x.tx, x.sources),
            (None, Some(n)) if !vb.edge_visible(e) => {
                detail = format!("{detail} — with {}", n.id());
                n.end()
                    .map_or((edge.tx(), edge.sources()), |x| (x.tx, x.sources))
            }
            _ => (edge.tx(), edge.sources()),
        };
        let seen = Seen {
            id: edge.id().to_owned(),
            name: name_cell(edge.property("name")),
            detail,
            valid: edge.valid().to_string(),
            began: (edge.tx(), edge.sources()),
            ended,
        };
        let changes = || match (va.edge_at(e), vb.edge_at(e)) {
            (Some(ea), Some(eb)) => {
                let version = |k: &str| eb.property_version(k).or(ea.property_version(k));
                changed_rows(
                    &seen.id,
                    &seen.name,
                    &ea.properties(),
                    &eb.properties(),
                    version,
                )
            }
            _ => Vec::new(),
        };
        seen.push((va.edge_visible(e), vb.edge_visible(e)), changes, &mut rows);
    }
    rows.sort_by(|x, y| (x.0, &x.1).cmp(&(y.0, &y.1)));
    Output {
        columns: DIFF_COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows: rows.into_iter().map(|(_, _, r)| r).collect(),
    }
}

/// A node or relationship as `DIFF AS OF` reports it.
struct Seen<'v> {
    id: String,
    name: Cell,
    detail: String,
    valid: String,
    /// The transaction and sources of its beginning, and of its end.
    began: (TxId, Vec<&'v str>),
    ended: (TxId, Vec<&'v str>),
}

impl Seen<'_> {
    /// Its rows, by whether it shows at the first and the second valid time: began, ended,
    /// or (shown at both) the property changes `changes` finds.
    fn push(
        &self,
        shown: (bool, bool),
        changes: impl FnOnce() -> Vec<Vec<Cell>>,
        rows: &mut Vec<(u8, String, Vec<Cell>)>,
    ) {
        let row = |change: &str, (tx, sources): &(TxId, Vec<&str>)| {
            let (name, detail) = (self.name.clone(), self.detail.clone());
            diff_row(
                *tx,
                change,
                &self.id,
                name,
                detail,
                self.valid.clone(),
                sources,
            )
        };
        match shown {
            (false, true) => rows.push((0, self.id.clone(), row("began", &self.began))),
            (true, false) => rows.push((2, self.id.clone(), row("ended", &self.ended))),
            (true, true) => rows.extend(changes().into_iter().map(|r| (1, self.id.clone(), r))),
            (false, false) => {}
        }
    }
}

fn keys_of(a: &[(&str, &Value)], b: &[(&str, &Value)]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (k, _) in a.iter().chain(b) {
        if !keys.iter().any(|x| x == k) {
            keys.push((*k).to_owned());
        }
    }
    keys
}

/// A row for each property whose value differs between two views of one element.
fn changed_rows<'v>(
    id: &str,
    name: &Cell,
    a: &[(&str, &Value)],
    b: &[(&str, &Value)],
    version: impl Fn(&str) -> Option<crate::graph::view::VersionInfo<'v>>,
) -> Vec<Vec<Cell>> {
    let get = |props: &[(&str, &Value)], key: &str| {
        props
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| (*v).clone())
    };
    keys_of(a, b)
        .into_iter()
        .filter_map(|key| {
            let (x, y) = (get(a, &key), get(b, &key));
            (x != y).then(|| {
                changed_row(
                    id,
                    name.clone(),
                    &key,
                    x.as_ref(),
                    y.as_ref(),
                    version(&key),
                )
            })
        })
        .collect()
}

fn changed_row(
    id: &str,
    name: Cell,
    key: &str,
    x: Option<&Value>,
    y: Option<&Value>,
    version: Option<crate::graph::view::VersionInfo<'_>>,
) -> Vec<Cell> {
    let show = |v: Option<&Value>| v.map_or("null".to_owned(), |v| v.to_string());
    let detail = format!("{key}: {} → {}", show(x), show(y));
    match version {
        Some(v) => diff_row(
            v.tx,
            "changed",
            id,
            name,
            detail,
            v.valid.to_string(),
            &v.sources,
        ),
        None => diff_row(TxId(0), "changed", id, name, detail, String::new(), &[]),
    }
}

fn diff_row(
    tx: TxId,
    change: &str,
    id: &str,
    name: Cell,
    detail: String,
    valid: String,
    sources: &[&str],
) -> Vec<Cell> {
    vec![
        Cell::Int(i64::try_from(tx.0).unwrap_or(i64::MAX)),
        Cell::Str(change.into()),
        Cell::Str(id.into()),
        name,
        Cell::Str(detail.into()),
        if valid.is_empty() {
            Cell::Null
        } else {
            Cell::Str(valid.into())
        },
        sources_cell(sources),
    ]
}

fn name_cell(v: Option<&Value>) -> Cell {
    match v {
        Some(Value::Str(s)) => Cell::Str(s.to_string().into()),
        Some(other) => Cell::Str(other.to_string().into()),
        None => Cell::Null,
    }
}

/// `DIFF AT TX a, TX b` (`a < b`): what the record gained in transactions `a+1 ..= b` —
/// facts added, values set or corrected (a new value for a period that already had one),
/// ends, and facts retracted or restored by retractions in that range — at every valid time.
pub fn diff_tx(graph: &Graph, a: TxId, b: TxId) -> Output {
    let (va, vb) = (graph.view_at(a), graph.view_at(b));
    let mut rows: Vec<(TxId, u8, String, Vec<Cell>)> = Vec::new();
    let retractions: Vec<RetractionInfo<'_>> = graph
        .retraction_list()
        .into_iter()
        .filter(|r| r.by > a && r.by <= b)
        .collect();
    let mut elements: Vec<(Element, String, Vec<Fact<'_>>, Cell)> = Vec::new();
    for n in graph.g.node_indices() {
        let name = vb
            .node_at(n)
            .or_else(|| va.node_at(n))
            .and_then(|x| x.property("name").or(x.property("title")).cloned());
        elements.push((
            Element::Node(n),
            graph_node_id(graph, n),
            graph.node_facts(n),
            name_cell(name.as_ref()),
        ));
    }
    for e in graph.g.edge_indices() {
        // Each id once: its facts cover every incarnation.
        if graph.g[e].successor != EdgeIndex::end()
            && graph.g.edge_weight(graph.g[e].successor).is_some()
        {
            continue;
        }
        let name = vb.edge_at(e).and_then(|x| x.property("name").cloned());
        elements.push((
            Element::Edge(e),
            graph_edge_id(graph, e),
            graph.edge_facts(e),
            name_cell(name.as_ref()),
        ));
    }
    for (_, id, facts, name) in &elements {
        for (i, f) in facts.iter().enumerate() {
            let (known_a, known_b) = (va.knows(f.tx), vb.knows(f.tx));
            let (event, detail) = describe(f);
            let mut event = event.to_owned();
            let tx = if f.tx > a && f.tx <= b && known_b {
                if event == "set" && corrects(&facts[..i], f, &vb) {
                    event = "corrected".into();
                }
                f.tx
            } else if known_a && !known_b {
                event = format!("retracted ({event})");
                match retractions.iter().rev().find(|r| r.target == f.tx) {
                    Some(r) => r.by,
                    None => b,
                }
            } else if !known_a && known_b && f.tx <= a {
                event = format!("restored ({event})");
                // The retraction in range that undid a retraction of this fact.
                let all = graph.retraction_list();
                retractions
                    .iter()
                    .find(|r| {
                        all.iter()
                            .any(|hid| hid.by == r.target && hid.target == f.tx)
                    })
                    .map_or(b, |r| r.by)
            } else {
                continue;
            };
            let rank = match f.what {
                FactKind::NodeAdded { .. } | FactKind::EdgeAdded { .. } => 0,
                FactKind::Set { .. } => 1,
                FactKind::Ended { .. } => 2,
            };
            let valid = valid_text(f).unwrap_or_default();
            let mut detail = detail;
            if let Some(r) = retractions
                .iter()
                .find(|r| r.target == f.tx && event.starts_with("retracted"))
            {
                detail = format!("{detail} — tx {} retracted: {}", r.target, r.reason);
            }
            rows.push((
                tx,
                rank,
                id.clone(),
                diff_row(tx, &event, id, name.clone(), detail, valid, &f.sources),
            ));
        }
    }
    rows.sort_by(|x, y| (x.0, x.1, &x.2).cmp(&(y.0, y.1, &y.2)));
    Output {
        columns: DIFF_COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows: rows.into_iter().map(|(_, _, _, r)| r).collect(),
    }
}

/// Whether a value set corrects an earlier one: a version of the same key, of the same
/// incarnation, still known, whose valid time overlaps and does not begin before the new
/// one's. A value from a later start is a change in the world (an LoI that became an MoU
/// in 2023), not a correction of the record.
fn corrects(earlier: &[Fact<'_>], f: &Fact<'_>, view: &View<'_>) -> bool {
    let FactKind::Set { key, .. } = f.what else {
        return false;
    };
    let Some(valid) = f.valid else { return false };
    earlier.iter().any(|g| {
        let same_key = match &g.what {
            FactKind::Set { key: k, .. } => *k == key,
            FactKind::NodeAdded { props, .. } | FactKind::EdgeAdded { props, .. } => {
                props.iter().any(|(k, _)| *k == key)
            }
            FactKind::Ended { .. } => false,
        };
        same_key
            && g.owner == f.owner
            && g.tx < f.tx
            && view.knows(g.tx)
            && g.valid
                .is_some_and(|v| v.overlaps(valid.days()) && v.first_day() >= valid.first_day())
    })
}

/// The ids of elements in order, without repeats.
pub fn distinct(elements: impl IntoIterator<Item = Element>) -> Vec<Element> {
    let mut seen = BTreeSet::new();
    elements.into_iter().filter(|e| seen.insert(*e)).collect()
}
