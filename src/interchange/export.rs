//! A view of the knowledge base, or the subgraph a query returned, in other tools' graph
//! formats: GEXF (Gephi), GraphML (networkx, igraph, yEd, Cytoscape), DOT (Graphviz), CSV
//! (spreadsheets, pandas) and JSON.
//!
//! # What is exported
//!
//! [`export`] reads one [`View`]: the nodes and relationships it shows, with what it shows of
//! them — a node's labels, a relationship's type and endpoints, the properties with a value
//! in the view (the version the view resolves: see `src/graph/view.rs`), the valid time
//! (`ValidTime`'s EDTF text: `1985/..`, `2007-02-06/2023`, `../..` for "always") and the
//! sources (the citation keys of the creation, as `sources(x)` gives them in the language).
//! Property versions, ends' sources and transaction times are not exported: the JSON Lines
//! export of the log (`interchange::jsonl`) is the lossless form; these formats are for
//! looking at and computing on one state of the graph.
//!
//! With a [`Selection`] (the ids a query returned, [`selection_of`]), only those nodes and
//! relationships are written, with both end nodes of every selected relationship. A
//! relationship between two selected nodes that the query did not return is left out: the
//! export is the subgraph the query returned, not the subgraph its nodes induce. Ids are
//! looked up in the view given to [`export`]; those it does not show are skipped, so pass the
//! view the query read (`graph.view_at(outcome.tx)`, restricted as the query was).
//!
//! Output is deterministic: nodes and relationships sorted by id, properties and attribute
//! columns by key. No timestamp of the export is written.
//!
//! # Values
//!
//! Where a format has typed attributes (GEXF, GraphML), a property key's type is the one all
//! its values in the export share: `boolean`; `int` when every value fits 32 bits, else `long`
//! (GEXF: `integer` / `long`); `double` for floats, or floats mixed with integers (the integers
//! written as they are, which every reader parses as a double); otherwise `string`. A date is
//! its EDTF text (`2007-02`). A list is its JSON text (`["LoI","MoU"]`): unambiguous,
//! parseable anywhere, and the only text form of a list of mixed values that survives. Labels
//! are joined with `:` (`Actor:City`, as a pattern writes them), sources with `;`.
//!
//! Property keys that would collide with a fixed attribute (`labels`, `type`, `valid`,
//! `sources`; in CSV also `kind`, `id`, `from`, `to`, `valid_first_day`, `valid_last_day`) are
//! written as `prop.<key>` (and `prop.prop.<key>` if that is taken too).
//!
//! XML 1.0 cannot hold most control characters (U+0000–U+001F other than tab, newline and
//! carriage return; U+FFFE, U+FFFF), not even as character references; in GEXF and GraphML
//! they are replaced by U+FFFD. Tabs, newlines and carriage returns are kept (as character
//! references where a reader would otherwise normalise them away).
//!
//! # GEXF 1.3 (Gephi)
//!
//! ```xml
//! <gexf xmlns="http://gexf.net/1.3" version="1.3">
//!   <meta><creator>diplograph</creator><description>view at tx 12</description></meta>
//!   <graph mode="dynamic" defaultedgetype="directed" timeformat="date" timerepresentation="interval">
//!     <attributes class="node" mode="static">
//!       <attribute id="0" title="labels" type="string"/> … valid, sources, each property key
//!     </attributes>
//!     <attributes class="edge" mode="static"> type, valid, sources, each property key </attributes>
//!     <nodes>
//!       <node id="banten" label="Banten">
//!         <attvalues><attvalue for="0" value="Actor"/> …</attvalues>
//!         <spells><spell start="1985-01-01"/></spells>
//!       </node>
//!     </nodes>
//!     <edges>
//!       <edge id="r1" source="banten" target="banten-incheon" label="PARTY_TO" kind="PARTY_TO"> …</edge>
//!     </edges>
//!   </graph>
//! </gexf>
//! ```
//!
//! The graph is *dynamic*: each node's and relationship's valid time becomes one spell, so
//! Gephi's timeline shows how cooperation came and went. A spell's bounds are days
//! (`timeformat="date"`), inclusive at both ends (GEXF 1.3); a partial date becomes the first
//! day it covers when it starts the interval and the last day it covers when it ends it — the
//! same days the knowledge base's own filters use, so `1985/1990` is 1985-01-01 … 1990-12-31
//! and Gephi shows a fact in exactly the years the knowledge base says it held. An open or
//! unknown bound has no `start` / `end` attribute (unbounded on that side); a fact valid
//! always has no spell at all (Gephi shows it at every time). Uncertainty qualifiers (`2004?`)
//! have no equivalent and are dropped from spells, but kept in the `valid` attribute, which
//! holds the EDTF text. A node's `label` is its `name`, else its `title`, else its id; a
//! relationship's `label` and `kind` (GEXF 1.3's key for parallel edges) are its type — the
//! edge's `type` attribute is GEXF's direction, not the relationship type. Attributes are
//! static (the value the view resolves), not per-version.
//!
//! # GraphML (networkx, igraph)
//!
//! One `<key>` per attribute, `for="node"` or `for="edge"`, ids `d0`, `d1`, … in order,
//! `attr.name` the attribute's name and `attr.type` as above; then
//! `<graph id="diplograph" edgedefault="directed">` with `<node id>` and
//! `<edge id source target>` elements, each with `<data>` for `labels` / `type`, `valid`,
//! `sources` (written even when empty) and each property it has (none for a property it lacks).
//! `nx.read_graphml` reads it as a `DiGraph`, or a `MultiDiGraph` when two relationships join
//! the same nodes in the same direction.
//!
//! # DOT (Graphviz)
//!
//! `digraph diplograph { … }`, one statement per node then per relationship:
//! `"banten" [label="Banten", labels="Actor", valid="1985/..", sources="k", "prop.name"="Banten"];`
//! and `"a" -> "b" [label="PARTY_TO", edge_id="r1", type="PARTY_TO", valid=…, sources=…];`.
//! Every id and value is a double-quoted string: `"` and `\` are escaped, a newline becomes
//! `\n` (a line break in a label), other control characters become U+FFFD. Properties are
//! prefixed `prop.` so that none is taken for a Graphviz attribute (`color`, `shape`, `label`).
//! The node `label` is its `name`, else `title`, else id; a relationship's is its type.
//!
//! # CSV
//!
//! One table, nodes first then relationships, so that a spreadsheet opens it whole and a
//! filter on the first column separates them (two tables in one file are not CSV, and a blank
//! line between them is skipped by most readers):
//!
//! ```text
//! kind,id,labels,type,from,to,valid,valid_first_day,valid_last_day,sources,<property keys…>
//! node,banten,Actor,,,,1985/..,1985-01-01,,syuryansyah2024,…
//! relationship,r1,,PARTY_TO,banten,banten-incheon,2007-02-06/..,2007-02-06,,bantenprov2022,…
//! ```
//!
//! `kind` is `node` or `relationship`; `labels` is empty for relationships, `type`, `from`,
//! `to` for nodes. `valid_first_day` / `valid_last_day` are the days the valid time covers
//! (ISO dates, sortable in a spreadsheet; empty when open or unknown). The property columns
//! are the union of nodes' and relationships' keys, sorted; a cell is empty when the element
//! has no such property. Fields are quoted as RFC 4180 needs (commas, quotes, newlines); the
//! text is UTF-8 without a byte-order mark (Excel: Data → From Text/CSV, UTF-8).
//! Values are written as they are: a spreadsheet may take one starting with `=`, `+`, `-` or
//! `@` for a formula.
//!
//! # JSON
//!
//! `{"nodes": [{"id", "labels", "properties", "valid", "sources"}], "relationships": [{"id",
//! "type", "from", "to", "properties", "valid", "sources"}]}`, pretty-printed. Property values
//! are JSON scalars and arrays, dates their EDTF text, as the query output's JSON has them.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{BufWriter, Write};
use std::str::FromStr;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::error::InterchangeError;
use crate::graph::View;
use crate::query::{Cell, Outcome};
use crate::time::{Bound, Day, ValidTime};
use crate::value::Value;

/// A format [`export`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// GEXF 1.3, dynamic (Gephi).
    Gexf,
    /// GraphML (networkx, igraph, yEd, Cytoscape).
    Graphml,
    /// Graphviz DOT.
    Dot,
    /// One CSV table of nodes and relationships.
    Csv,
    /// JSON: `{"nodes": […], "relationships": […]}`.
    Json,
}

impl ExportFormat {
    /// Every format, in the order documented.
    pub const ALL: [ExportFormat; 5] = [
        ExportFormat::Gexf,
        ExportFormat::Graphml,
        ExportFormat::Dot,
        ExportFormat::Csv,
        ExportFormat::Json,
    ];

    /// The name `FromStr` reads (`gexf`, `graphml`, `dot`, `csv`, `json`).
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Gexf => "gexf",
            ExportFormat::Graphml => "graphml",
            ExportFormat::Dot => "dot",
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }

    /// The usual file extension, without the dot (the same as the name).
    pub fn extension(self) -> &'static str {
        self.name()
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExportFormat {
    type Err = String;

    /// Reads `gexf`, `graphml`, `dot`, `csv` or `json`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.name() == lower)
            .ok_or_else(|| {
                format!(
                    "unknown export format `{s}`; expected one of gexf, graphml, dot, csv, json"
                )
            })
    }
}

/// The nodes and relationships a query returned, by id: what [`export`] writes instead of
/// the whole view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    nodes: BTreeSet<String>,
    edges: BTreeSet<String>,
}

impl Selection {
    /// An empty selection.
    pub fn new() -> Selection {
        Selection::default()
    }

    /// Adds a node by id.
    pub fn insert_node(&mut self, id: &str) {
        if !self.nodes.contains(id) {
            self.nodes.insert(id.to_owned());
        }
    }

    /// Adds a relationship by id (its end nodes are exported with it).
    pub fn insert_edge(&mut self, id: &str) {
        if !self.edges.contains(id) {
            self.edges.insert(id.to_owned());
        }
    }

    /// Adds the nodes and relationships a result cell shows: a node, a relationship and its
    /// two end nodes, a path's nodes and relationships, and those inside lists and maps.
    pub fn insert_cell(&mut self, cell: &Cell) {
        match cell {
            Cell::Node { id, .. } => self.insert_node(id),
            Cell::Edge { id, from, to, .. } => {
                self.insert_edge(id);
                self.insert_node(from);
                self.insert_node(to);
            }
            Cell::Path { nodes, edges } => {
                nodes.iter().for_each(|n| self.insert_node(n));
                edges.iter().for_each(|e| self.insert_edge(e));
            }
            Cell::List(items) => items.iter().for_each(|c| self.insert_cell(c)),
            Cell::Map(m) => m.values().for_each(|c| self.insert_cell(c)),
            Cell::Null
            | Cell::Bool(_)
            | Cell::Int(_)
            | Cell::Float(_)
            | Cell::Str(_)
            | Cell::Date(_) => {}
        }
    }

    /// Node ids selected, sorted (without the end nodes of relationships added by id only).
    pub fn nodes(&self) -> impl Iterator<Item = &str> + '_ {
        self.nodes.iter().map(String::as_str)
    }

    /// Relationship ids selected, sorted.
    pub fn edges(&self) -> impl Iterator<Item = &str> + '_ {
        self.edges.iter().map(String::as_str)
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.edges.is_empty()
    }
}

/// The subgraph a query returned: every node, relationship and path in its rows (inside lists
/// and maps too), and the end nodes of each relationship. Scalars are ignored, so a query
/// that returns only `a.name` selects nothing.
pub fn selection_of(outcome: &Outcome) -> Selection {
    let mut s = Selection::new();
    for row in &outcome.output.rows {
        for cell in row {
            s.insert_cell(cell);
        }
    }
    s
}

/// Writes `view` (or only `selection` of it) to `out` in `format`. See the module doc for
/// each format's layout.
///
/// # Errors
/// `InterchangeError::Io` when `out` fails.
pub fn export(
    view: &View<'_>,
    selection: Option<&Selection>,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<(), InterchangeError> {
    let graph = collect(view, selection);
    let mut out = BufWriter::new(out);
    match format {
        ExportFormat::Gexf => write_gexf(&graph, view, &mut out).map_err(io_error)?,
        ExportFormat::Graphml => write_graphml(&graph, view, &mut out).map_err(io_error)?,
        ExportFormat::Dot => write_dot(&graph, view, &mut out).map_err(io_error)?,
        ExportFormat::Csv => write_csv(&graph, &mut out)?,
        ExportFormat::Json => write_json(&graph, &mut out)?,
    }
    out.flush().map_err(io_error)
}

fn io_error(e: std::io::Error) -> InterchangeError {
    InterchangeError::Io {
        file: "output".into(),
        detail: e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// What is exported: owned by nobody, borrowed from the view.

struct NodeItem<'v> {
    id: &'v str,
    labels: Vec<&'v str>,
    props: BTreeMap<&'v str, &'v Value>,
    valid: ValidTime,
    sources: Vec<&'v str>,
}

struct EdgeItem<'v> {
    id: &'v str,
    rel_type: &'v str,
    from: &'v str,
    to: &'v str,
    props: BTreeMap<&'v str, &'v Value>,
    valid: ValidTime,
    sources: Vec<&'v str>,
}

struct Subgraph<'v> {
    nodes: Vec<NodeItem<'v>>,
    edges: Vec<EdgeItem<'v>>,
}

fn collect<'v>(view: &'v View<'_>, selection: Option<&Selection>) -> Subgraph<'v> {
    let node_item = |n: crate::graph::view::NodeRef<'v>| NodeItem {
        id: n.id(),
        labels: n.labels(),
        props: n.properties().into_iter().collect(),
        valid: n.valid(),
        sources: n.sources(),
    };
    let edge_item = |e: crate::graph::view::EdgeRef<'v>| EdgeItem {
        id: e.id(),
        rel_type: e.rel_type(),
        from: e.from().id(),
        to: e.to().id(),
        props: e.properties().into_iter().collect(),
        valid: e.valid(),
        sources: e.sources(),
    };
    let (mut nodes, mut edges): (Vec<NodeItem<'v>>, Vec<EdgeItem<'v>>) = match selection {
        None => (
            view.nodes().map(node_item).collect(),
            view.edges().map(edge_item).collect(),
        ),
        Some(sel) => {
            let edges: Vec<EdgeItem<'v>> = sel
                .edges()
                .filter_map(|id| view.edge(id))
                .map(edge_item)
                .collect();
            let mut ids: BTreeSet<&str> = sel.nodes().collect();
            for e in &edges {
                ids.insert(e.from);
                ids.insert(e.to);
            }
            let nodes = ids
                .into_iter()
                .filter_map(|id| view.node(id))
                .map(node_item)
                .collect();
            (nodes, edges)
        }
    };
    nodes.sort_by(|a, b| a.id.cmp(b.id));
    edges.sort_by(|a, b| a.id.cmp(b.id));
    Subgraph { nodes, edges }
}

// ---------------------------------------------------------------------------------------
// Values as text and JSON, attribute types, columns.

/// A property value as text: strings as they are, numbers and booleans as literals, dates in
/// EDTF, lists as JSON.
fn value_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Null => Cow::Borrowed(""),
        Value::Bool(true) => Cow::Borrowed("true"),
        Value::Bool(false) => Cow::Borrowed("false"),
        Value::Int(i) => Cow::Owned(i.to_string()),
        // `{:?}` keeps a decimal point or an exponent (`1.0`, `1e300`): a float stays a float.
        Value::Float(f) => Cow::Owned(format!("{f:?}")),
        Value::Str(s) => Cow::Borrowed(s.as_str()),
        Value::Date(d) => Cow::Owned(d.to_string()),
        Value::List(_) => Cow::Owned(value_json(v).to_string()),
    }
}

fn value_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.to_string()),
        Value::Date(d) => J::String(d.to_string()),
        Value::List(items) => J::Array(items.iter().map(value_json).collect()),
    }
}

/// An attribute's type, as wide as its values need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Boolean,
    Int,
    Long,
    Double,
    Text,
}

impl Ty {
    fn of(v: &Value) -> Ty {
        match v {
            Value::Bool(_) => Ty::Boolean,
            Value::Int(i) if i32::try_from(*i).is_ok() => Ty::Int,
            Value::Int(_) => Ty::Long,
            Value::Float(_) => Ty::Double,
            Value::Null | Value::Str(_) | Value::Date(_) | Value::List(_) => Ty::Text,
        }
    }

    fn merge(self, other: Ty) -> Ty {
        use Ty::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Int, Long) | (Long, Int) => Long,
            (Int | Long | Double, Int | Long | Double) => Double,
            _ => Text,
        }
    }

    fn graphml(self) -> &'static str {
        match self {
            Ty::Boolean => "boolean",
            Ty::Int => "int",
            Ty::Long => "long",
            Ty::Double => "double",
            Ty::Text => "string",
        }
    }

    fn gexf(self) -> &'static str {
        match self {
            Ty::Boolean => "boolean",
            Ty::Int => "integer",
            Ty::Long => "long",
            Ty::Double => "double",
            Ty::Text => "string",
        }
    }
}

/// What an attribute column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field<'v> {
    Labels,
    Type,
    Valid,
    Sources,
    Prop(&'v str),
}

struct Column<'v> {
    name: String,
    field: Field<'v>,
    ty: Ty,
}

/// Property columns for these property maps, sorted by key, typed, and renamed `prop.<key>`
/// where a key collides with one of `reserved`.
fn prop_columns<'v, 'a>(
    reserved: &[&str],
    maps: impl Iterator<Item = &'a BTreeMap<&'v str, &'v Value>>,
) -> Vec<Column<'v>>
where
    'v: 'a,
{
    let mut types: BTreeMap<&'v str, Ty> = BTreeMap::new();
    for m in maps {
        for (&k, v) in m {
            let t = Ty::of(v);
            types
                .entry(k)
                .and_modify(|old| *old = old.merge(t))
                .or_insert(t);
        }
    }
    let mut taken: BTreeSet<String> = reserved.iter().map(|s| (*s).to_owned()).collect();
    taken.extend(types.keys().map(|k| (*k).to_owned()));
    types
        .into_iter()
        .map(|(key, ty)| {
            let mut name = key.to_owned();
            if reserved.contains(&key) {
                name = format!("prop.{key}");
                while taken.contains(&name) {
                    name = format!("prop.{name}");
                }
                taken.insert(name.clone());
            }
            Column {
                name,
                field: Field::Prop(key),
                ty,
            }
        })
        .collect()
}

const NODE_FIXED: [(&str, Field<'static>); 3] = [
    ("labels", Field::Labels),
    ("valid", Field::Valid),
    ("sources", Field::Sources),
];
const EDGE_FIXED: [(&str, Field<'static>); 3] = [
    ("type", Field::Type),
    ("valid", Field::Valid),
    ("sources", Field::Sources),
];

fn columns<'v, 'a>(
    fixed: &[(&str, Field<'static>)],
    maps: impl Iterator<Item = &'a BTreeMap<&'v str, &'v Value>>,
) -> Vec<Column<'v>>
where
    'v: 'a,
{
    let reserved: Vec<&str> = fixed.iter().map(|(n, _)| *n).collect();
    let mut cols: Vec<Column<'v>> = fixed
        .iter()
        .map(|&(name, field)| Column {
            name: name.to_owned(),
            field,
            ty: Ty::Text,
        })
        .collect();
    cols.extend(prop_columns(&reserved, maps));
    cols
}

fn node_field<'a>(n: &'a NodeItem<'_>, field: Field<'_>) -> Option<Cow<'a, str>> {
    Some(match field {
        Field::Labels => Cow::Owned(n.labels.join(":")),
        Field::Type => return None,
        Field::Valid => Cow::Owned(n.valid.to_string()),
        Field::Sources => Cow::Owned(n.sources.join(";")),
        Field::Prop(k) => value_text(n.props.get(k)?),
    })
}

fn edge_field<'a>(e: &'a EdgeItem<'_>, field: Field<'_>) -> Option<Cow<'a, str>> {
    Some(match field {
        Field::Labels => return None,
        Field::Type => Cow::Borrowed(e.rel_type),
        Field::Valid => Cow::Owned(e.valid.to_string()),
        Field::Sources => Cow::Owned(e.sources.join(";")),
        Field::Prop(k) => value_text(e.props.get(k)?),
    })
}

/// A node's display label: its `name`, else its `title`, else its id.
fn display_label<'a>(n: &'a NodeItem<'_>) -> Cow<'a, str> {
    ["name", "title"]
        .iter()
        .find_map(|k| n.props.get(k).map(|v| value_text(v)))
        .unwrap_or(Cow::Borrowed(n.id))
}

/// A day as an ISO 8601 calendar date (`1985-01-01`, `-0044-03-15`), if it is one.
fn iso_day(day: Day) -> Option<String> {
    let d = time::Date::from_julian_day(day).ok()?;
    let (y, m, dd) = (d.year(), u8::from(d.month()), d.day());
    Some(if y < 0 {
        format!("-{:04}-{m:02}-{dd:02}", -i64::from(y))
    } else {
        format!("{y:04}-{m:02}-{dd:02}")
    })
}

/// The first day a valid time covers, when its start is a date.
fn first_iso(valid: &ValidTime) -> Option<String> {
    match valid.from {
        Bound::Date(d) => iso_day(d.first_day()),
        Bound::Open | Bound::Unknown => None,
    }
}

/// The last day a valid time covers, when its end is a date.
fn last_iso(valid: &ValidTime) -> Option<String> {
    match valid.to {
        Bound::Date(d) => iso_day(d.last_day()),
        Bound::Open | Bound::Unknown => None,
    }
}

fn describe(view: &View<'_>) -> String {
    let mut s = format!("diplograph view at transaction {}", view.tx());
    if let Some(r) = view.valid_range() {
        let first = iso_day(r.first).unwrap_or_else(|| "..".into());
        let last = iso_day(r.last).unwrap_or_else(|| "..".into());
        s.push_str(&format!(", valid time {first}/{last}"));
    }
    s
}

// ---------------------------------------------------------------------------------------
// XML (GEXF, GraphML), through quick-xml's writer.

/// Text that XML 1.0 can hold: characters it forbids (even as references) become U+FFFD.
/// quick-xml escapes the rest (`<`, `&`, quotes; tab, newline and CR in attributes).
fn xml_safe(s: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    if s.chars().all(allowed) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

fn xml_writer<W: Write>(out: W) -> std::io::Result<Writer<W>> {
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    Ok(w)
}

fn finish_xml<W: Write>(w: Writer<W>) -> std::io::Result<()> {
    let mut out = w.into_inner();
    out.write_all(b"\n")
}

fn write_gexf<W: Write>(g: &Subgraph<'_>, view: &View<'_>, out: W) -> std::io::Result<()> {
    let node_cols = columns(&NODE_FIXED, g.nodes.iter().map(|n| &n.props));
    let edge_cols = columns(&EDGE_FIXED, g.edges.iter().map(|e| &e.props));
    let description = describe(view);
    let mut w = xml_writer(out)?;
    w.create_element("gexf")
        .with_attribute(("xmlns", "http://gexf.net/1.3"))
        .with_attribute(("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"))
        .with_attribute((
            "xsi:schemaLocation",
            "http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd",
        ))
        .with_attribute(("version", "1.3"))
        .write_inner_content(|w| {
            w.create_element("meta").write_inner_content(|w| {
                w.create_element("creator")
                    .write_text_content(BytesText::new("diplograph"))?;
                w.create_element("description")
                    .write_text_content(BytesText::new(&description))?;
                Ok(())
            })?;
            w.create_element("graph")
                .with_attribute(("mode", "dynamic"))
                .with_attribute(("defaultedgetype", "directed"))
                .with_attribute(("timeformat", "date"))
                .with_attribute(("timerepresentation", "interval"))
                .write_inner_content(|w| {
                    gexf_attributes(w, "node", &node_cols)?;
                    gexf_attributes(w, "edge", &edge_cols)?;
                    w.create_element("nodes").write_inner_content(|w| {
                        for n in &g.nodes {
                            let values: Vec<(usize, Cow<'_, str>)> = node_cols
                                .iter()
                                .enumerate()
                                .filter_map(|(i, c)| Some((i, node_field(n, c.field)?)))
                                .collect();
                            w.create_element("node")
                                .with_attribute(("id", &*xml_safe(n.id)))
                                .with_attribute(("label", &*xml_safe(&display_label(n))))
                                .write_inner_content(|w| {
                                    gexf_attvalues(w, &values)?;
                                    gexf_spells(w, &n.valid)
                                })?;
                        }
                        Ok(())
                    })?;
                    w.create_element("edges").write_inner_content(|w| {
                        for e in &g.edges {
                            let values: Vec<(usize, Cow<'_, str>)> = edge_cols
                                .iter()
                                .enumerate()
                                .filter_map(|(i, c)| Some((i, edge_field(e, c.field)?)))
                                .collect();
                            let rel_type = xml_safe(e.rel_type);
                            w.create_element("edge")
                                .with_attribute(("id", &*xml_safe(e.id)))
                                .with_attribute(("source", &*xml_safe(e.from)))
                                .with_attribute(("target", &*xml_safe(e.to)))
                                .with_attribute(("label", &*rel_type))
                                .with_attribute(("kind", &*rel_type))
                                .write_inner_content(|w| {
                                    gexf_attvalues(w, &values)?;
                                    gexf_spells(w, &e.valid)
                                })?;
                        }
                        Ok(())
                    })?;
                    Ok(())
                })?;
            Ok(())
        })?;
    finish_xml(w)
}

fn gexf_attributes<W: Write>(
    w: &mut Writer<W>,
    class: &str,
    cols: &[Column<'_>],
) -> std::io::Result<()> {
    w.create_element("attributes")
        .with_attribute(("class", class))
        .with_attribute(("mode", "static"))
        .write_inner_content(|w| {
            for (i, c) in cols.iter().enumerate() {
                w.create_element("attribute")
                    .with_attribute(("id", i.to_string().as_str()))
                    .with_attribute(("title", &*xml_safe(&c.name)))
                    .with_attribute(("type", c.ty.gexf()))
                    .write_empty()?;
            }
            Ok(())
        })?;
    Ok(())
}

fn gexf_attvalues<W: Write>(
    w: &mut Writer<W>,
    values: &[(usize, Cow<'_, str>)],
) -> std::io::Result<()> {
    if values.is_empty() {
        return Ok(());
    }
    w.create_element("attvalues").write_inner_content(|w| {
        for (i, v) in values {
            w.create_element("attvalue")
                .with_attribute(("for", i.to_string().as_str()))
                .with_attribute(("value", &*xml_safe(v)))
                .write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

/// One spell for a valid time: first day of its start, last day of its end; none for a fact
/// valid always.
fn gexf_spells<W: Write>(w: &mut Writer<W>, valid: &ValidTime) -> std::io::Result<()> {
    let (start, end) = (first_iso(valid), last_iso(valid));
    if start.is_none() && end.is_none() {
        return Ok(());
    }
    w.create_element("spells").write_inner_content(|w| {
        let mut spell = w.create_element("spell");
        if let Some(s) = &start {
            spell = spell.with_attribute(("start", s.as_str()));
        }
        if let Some(e) = &end {
            spell = spell.with_attribute(("end", e.as_str()));
        }
        spell.write_empty()?;
        Ok(())
    })?;
    Ok(())
}

fn write_graphml<W: Write>(g: &Subgraph<'_>, view: &View<'_>, out: W) -> std::io::Result<()> {
    let node_cols = columns(&NODE_FIXED, g.nodes.iter().map(|n| &n.props));
    let edge_cols = columns(&EDGE_FIXED, g.edges.iter().map(|e| &e.props));
    let node_key = |i: usize| format!("d{i}");
    let edge_key = |i: usize| format!("d{}", node_cols.len() + i);
    let description = describe(view);
    let mut w = xml_writer(out)?;
    w.create_element("graphml")
        .with_attribute(("xmlns", "http://graphml.graphdrawing.org/xmlns"))
        .with_attribute(("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"))
        .with_attribute((
            "xsi:schemaLocation",
            "http://graphml.graphdrawing.org/xmlns \
             http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd",
        ))
        .write_inner_content(|w| {
            w.create_element("desc")
                .write_text_content(BytesText::new(&description))?;
            for (domain, cols, key) in [
                ("node", &node_cols, &node_key as &dyn Fn(usize) -> String),
                ("edge", &edge_cols, &edge_key),
            ] {
                for (i, c) in cols.iter().enumerate() {
                    w.create_element("key")
                        .with_attribute(("id", key(i).as_str()))
                        .with_attribute(("for", domain))
                        .with_attribute(("attr.name", &*xml_safe(&c.name)))
                        .with_attribute(("attr.type", c.ty.graphml()))
                        .write_empty()?;
                }
            }
            w.create_element("graph")
                .with_attribute(("id", "diplograph"))
                .with_attribute(("edgedefault", "directed"))
                .write_inner_content(|w| {
                    for n in &g.nodes {
                        w.create_element("node")
                            .with_attribute(("id", &*xml_safe(n.id)))
                            .write_inner_content(|w| {
                                for (i, c) in node_cols.iter().enumerate() {
                                    if let Some(v) = node_field(n, c.field) {
                                        graphml_data(w, &node_key(i), &v)?;
                                    }
                                }
                                Ok(())
                            })?;
                    }
                    for e in &g.edges {
                        w.create_element("edge")
                            .with_attribute(("id", &*xml_safe(e.id)))
                            .with_attribute(("source", &*xml_safe(e.from)))
                            .with_attribute(("target", &*xml_safe(e.to)))
                            .write_inner_content(|w| {
                                for (i, c) in edge_cols.iter().enumerate() {
                                    if let Some(v) = edge_field(e, c.field) {
                                        graphml_data(w, &edge_key(i), &v)?;
                                    }
                                }
                                Ok(())
                            })?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    finish_xml(w)
}

fn graphml_data<W: Write>(w: &mut Writer<W>, key: &str, value: &str) -> std::io::Result<()> {
    let value = xml_safe(value);
    w.create_element("data")
        .with_attribute(("key", key))
        .write_text_content(BytesText::new(&value))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// DOT.

/// A DOT double-quoted string: `"` and `\` escaped, newlines as `\n`, other control
/// characters replaced by U+FFFD.
fn dot_quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    q.push_str("\\n");
                }
            }
            '\t' => q.push('\t'),
            c if c.is_control() => q.push('\u{FFFD}'),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// An attribute name: bare when it is a plain identifier (`label`), else quoted
/// (`"prop.name"`).
fn dot_key(s: &str) -> Cow<'_, str> {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !["node", "edge", "graph", "digraph", "subgraph", "strict"]
            .contains(&s.to_ascii_lowercase().as_str());
    if plain {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(dot_quote(s))
    }
}

fn write_dot<W: Write>(g: &Subgraph<'_>, view: &View<'_>, mut out: W) -> std::io::Result<()> {
    let attrs = |out: &mut W, pairs: &[(String, Cow<'_, str>)]| -> std::io::Result<()> {
        out.write_all(b" [")?;
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.write_all(b", ")?;
            }
            write!(out, "{}={}", dot_key(k), dot_quote(v))?;
        }
        out.write_all(b"];\n")
    };
    writeln!(out, "// {}", describe(view))?;
    writeln!(out, "digraph diplograph {{")?;
    for n in &g.nodes {
        let mut pairs: Vec<(String, Cow<'_, str>)> = vec![
            ("label".into(), display_label(n)),
            ("labels".into(), Cow::Owned(n.labels.join(":"))),
            ("valid".into(), Cow::Owned(n.valid.to_string())),
            ("sources".into(), Cow::Owned(n.sources.join(";"))),
        ];
        pairs.extend(
            n.props
                .iter()
                .map(|(k, v)| (format!("prop.{k}"), value_text(v))),
        );
        write!(out, "  {}", dot_quote(n.id))?;
        attrs(&mut out, &pairs)?;
    }
    for e in &g.edges {
        let mut pairs: Vec<(String, Cow<'_, str>)> = vec![
            ("label".into(), Cow::Borrowed(e.rel_type)),
            ("edge_id".into(), Cow::Borrowed(e.id)),
            ("type".into(), Cow::Borrowed(e.rel_type)),
            ("valid".into(), Cow::Owned(e.valid.to_string())),
            ("sources".into(), Cow::Owned(e.sources.join(";"))),
        ];
        pairs.extend(
            e.props
                .iter()
                .map(|(k, v)| (format!("prop.{k}"), value_text(v))),
        );
        write!(out, "  {} -> {}", dot_quote(e.from), dot_quote(e.to))?;
        attrs(&mut out, &pairs)?;
    }
    writeln!(out, "}}")
}

// ---------------------------------------------------------------------------------------
// CSV and JSON.

const CSV_FIXED: [&str; 10] = [
    "kind",
    "id",
    "labels",
    "type",
    "from",
    "to",
    "valid",
    "valid_first_day",
    "valid_last_day",
    "sources",
];

fn write_csv<W: Write>(g: &Subgraph<'_>, out: W) -> Result<(), InterchangeError> {
    let csv_error = |e: csv::Error| InterchangeError::Io {
        file: "output".into(),
        detail: e.to_string(),
    };
    let props = prop_columns(
        &CSV_FIXED,
        g.nodes
            .iter()
            .map(|n| &n.props)
            .chain(g.edges.iter().map(|e| &e.props)),
    );
    let mut w = csv::Writer::from_writer(out);
    let header = CSV_FIXED
        .iter()
        .copied()
        .chain(props.iter().map(|c| c.name.as_str()));
    w.write_record(header).map_err(csv_error)?;
    let prop_cells = |m: &BTreeMap<&str, &Value>| -> Vec<String> {
        props
            .iter()
            .map(|c| match c.field {
                Field::Prop(k) => m.get(k).map(|v| value_text(v).into_owned()),
                _ => None,
            })
            .map(Option::unwrap_or_default)
            .collect()
    };
    for n in &g.nodes {
        let mut row: Vec<String> = vec![
            "node".into(),
            n.id.into(),
            n.labels.join(":"),
            String::new(),
            String::new(),
            String::new(),
            n.valid.to_string(),
            first_iso(&n.valid).unwrap_or_default(),
            last_iso(&n.valid).unwrap_or_default(),
            n.sources.join(";"),
        ];
        row.extend(prop_cells(&n.props));
        w.write_record(&row).map_err(csv_error)?;
    }
    for e in &g.edges {
        let mut row: Vec<String> = vec![
            "relationship".into(),
            e.id.into(),
            String::new(),
            e.rel_type.into(),
            e.from.into(),
            e.to.into(),
            e.valid.to_string(),
            first_iso(&e.valid).unwrap_or_default(),
            last_iso(&e.valid).unwrap_or_default(),
            e.sources.join(";"),
        ];
        row.extend(prop_cells(&e.props));
        w.write_record(&row).map_err(csv_error)?;
    }
    w.flush().map_err(io_error)
}

fn props_json(m: &BTreeMap<&str, &Value>) -> serde_json::Value {
    serde_json::Value::Object(
        m.iter()
            .map(|(k, v)| ((*k).to_owned(), value_json(v)))
            .collect(),
    )
}

fn write_json<W: Write>(g: &Subgraph<'_>, mut out: W) -> Result<(), InterchangeError> {
    use serde_json::json;
    let nodes: Vec<serde_json::Value> = g
        .nodes
        .iter()
        .map(|n| {
            json!({
                "id": n.id,
                "labels": n.labels,
                "properties": props_json(&n.props),
                "valid": n.valid.to_string(),
                "sources": n.sources,
            })
        })
        .collect();
    let relationships: Vec<serde_json::Value> = g
        .edges
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "type": e.rel_type,
                "from": e.from,
                "to": e.to,
                "properties": props_json(&e.props),
                "valid": e.valid.to_string(),
                "sources": e.sources,
            })
        })
        .collect();
    let doc = json!({ "nodes": nodes, "relationships": relationships });
    serde_json::to_writer_pretty(&mut out, &doc).map_err(|e| InterchangeError::Io {
        file: "output".into(),
        detail: e.to_string(),
    })?;
    out.write_all(b"\n").map_err(io_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_name() {
        for f in ExportFormat::ALL {
            assert_eq!(f.name().parse::<ExportFormat>(), Ok(f));
        }
        assert_eq!("GraphML".parse::<ExportFormat>(), Ok(ExportFormat::Graphml));
        assert!("xlsx".parse::<ExportFormat>().is_err());
    }

    #[test]
    fn types_widen_as_values_need() {
        assert_eq!(Ty::Int.merge(Ty::Long), Ty::Long);
        assert_eq!(Ty::Int.merge(Ty::Double), Ty::Double);
        assert_eq!(Ty::Boolean.merge(Ty::Int), Ty::Text);
        assert_eq!(Ty::of(&Value::Int(1 << 40)), Ty::Long);
    }

    #[test]
    fn dot_strings_cannot_break_out() {
        assert_eq!(dot_quote("a\"b\\c\nd\r\ne"), r#""a\"b\\c\nd\ne""#);
        assert_eq!(dot_quote("x\u{7}"), "\"x\u{FFFD}\"");
    }

    #[test]
    fn xml_forbidden_characters_are_replaced() {
        assert_eq!(xml_safe("a\u{0}b\tc\n"), "a\u{FFFD}b\tc\n");
        assert!(matches!(xml_safe("plain <&>"), Cow::Borrowed(_)));
    }

    #[test]
    fn days_are_iso_dates() {
        let d = crate::time::Date::parse("1985").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(iso_day(d.first_day()).as_deref(), Some("1985-01-01"));
        assert_eq!(iso_day(d.last_day()).as_deref(), Some("1985-12-31"));
        let bce = crate::time::Date::parse("-0044-03-15").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(iso_day(bce.first_day()).as_deref(), Some("-0044-03-15"));
    }

    #[test]
    fn colliding_property_keys_are_prefixed() {
        let v = Value::Int(1);
        let m: BTreeMap<&str, &Value> = [("labels", &v), ("prop.labels", &v), ("x", &v)]
            .into_iter()
            .collect();
        let cols = prop_columns(&["labels"], std::iter::once(&m));
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["prop.prop.labels", "prop.labels", "x"]);
    }
}
