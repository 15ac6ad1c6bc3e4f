//! Values during evaluation ([`Val`]), and in results ([`Cell`]).
//!
//! A `Val` may point into the graph (a node, an edge, a path of them); a `Cell` owns
//! everything it shows, so a result outlives the view it was computed on.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use petgraph::stable_graph::{EdgeIndex, NodeIndex};

use crate::event::Name;
use crate::graph::View;
use crate::time::Date;
use crate::value::Value;

/// A value during evaluation. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Val {
    /// null
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(Name),
    /// An EDTF date.
    Date(Date),
    /// A list.
    List(Arc<Vec<Val>>),
    /// A map, keys sorted.
    Map(Arc<BTreeMap<String, Val>>),
    /// A node of the graph.
    Node(NodeIndex),
    /// A relationship of the graph.
    Edge(EdgeIndex),
    /// A path: nodes, and the relationships between them.
    Path(Arc<PathVal>),
}

/// A path: `nodes.len() == edges.len() + 1`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PathVal {
    /// The nodes in order.
    pub nodes: Vec<NodeIndex>,
    /// The relationships in order.
    pub edges: Vec<EdgeIndex>,
}

impl Val {
    /// A string value.
    pub fn str(s: &str) -> Val {
        Val::Str(Name::new(s))
    }

    /// A list value.
    pub fn list(items: Vec<Val>) -> Val {
        Val::List(Arc::new(items))
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// The type's name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "boolean",
            Val::Int(_) => "integer",
            Val::Float(_) => "float",
            Val::Str(_) => "string",
            Val::Date(_) => "date",
            Val::List(_) => "list",
            Val::Map(_) => "map",
            Val::Node(_) => "node",
            Val::Edge(_) => "relationship",
            Val::Path(_) => "path",
        }
    }

    /// From a stored property value.
    pub fn from_value(v: &Value) -> Val {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(i) => Val::Int(*i),
            Value::Float(f) => Val::Float(*f),
            Value::Str(s) => Val::Str(s.clone()),
            Value::Date(d) => Val::Date(*d),
            Value::List(items) => Val::list(items.iter().map(Val::from_value).collect()),
        }
    }

    /// To a storable property value, if it is one (no maps, nodes or paths; finite floats).
    pub fn to_value(&self) -> Result<Value, String> {
        Ok(match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::Int(*i),
            Val::Float(f) if f.is_finite() => Value::Float(*f),
            Val::Float(f) => return Err(format!("{f} cannot be stored (not finite)")),
            Val::Str(s) => Value::Str(s.clone()),
            Val::Date(d) => Value::Date(*d),
            Val::List(items) => Value::List(
                items
                    .iter()
                    .map(Val::to_value)
                    .collect::<Result<Vec<_>, _>>()?
                    .into(),
            ),
            other => {
                return Err(format!(
                    "a {} cannot be stored as a property value",
                    other.type_name()
                ));
            }
        })
    }

    /// Three-valued equality, as `=` computes it: null when either side is null.
    pub fn equals(&self, other: &Val) -> Option<bool> {
        match (self, other) {
            (Val::Null, _) | (_, Val::Null) => None,
            (Val::List(a), Val::List(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                let mut unknown = false;
                for (x, y) in a.iter().zip(b.iter()) {
                    match x.equals(y) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                if unknown { None } else { Some(true) }
            }
            _ => Some(self == other),
        }
    }

    /// Ordering for `<`, `>` …: only between comparable values (numbers, strings, booleans,
    /// dates by their first day, lists element-wise); none otherwise.
    pub fn compare(&self, other: &Val) -> Option<Ordering> {
        match (self, other) {
            (Val::Int(a), Val::Int(b)) => Some(a.cmp(b)),
            (Val::Int(a), Val::Float(b)) => (*a as f64).partial_cmp(b),
            (Val::Float(a), Val::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Val::Float(a), Val::Float(b)) => a.partial_cmp(b),
            (Val::Str(a), Val::Str(b)) => Some(a.as_str().cmp(b.as_str())),
            (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
            (Val::Date(a), Val::Date(b)) => Some(date_order(a, b)),
            (Val::List(a), Val::List(b)) => {
                for (x, y) in a.iter().zip(b.iter()) {
                    match x.compare(y)? {
                        Ordering::Equal => {}
                        o => return Some(o),
                    }
                }
                Some(a.len().cmp(&b.len()))
            }
            _ => None,
        }
    }

    /// A total order for `ORDER BY`: values of one type by [`Val::compare`], types in a fixed
    /// order, null last.
    pub fn sort_cmp(&self, other: &Val) -> Ordering {
        if let Some(o) = self.compare(other) {
            return o;
        }
        let rank = |v: &Val| match v {
            Val::Map(_) => 0,
            Val::Node(_) => 1,
            Val::Edge(_) => 2,
            Val::List(_) => 3,
            Val::Path(_) => 4,
            Val::Str(_) => 5,
            Val::Bool(_) => 6,
            Val::Int(_) | Val::Float(_) => 7,
            Val::Date(_) => 8,
            Val::Null => 9,
        };
        match rank(self).cmp(&rank(other)) {
            Ordering::Equal => match (self, other) {
                (Val::Node(a), Val::Node(b)) => a.cmp(b),
                (Val::Edge(a), Val::Edge(b)) => a.cmp(b),
                // Floats that do not compare (NaN) sort last among numbers.
                (Val::Float(a), Val::Float(b)) => a.is_nan().cmp(&b.is_nan()),
                (Val::Int(_), Val::Float(_)) => Ordering::Less,
                (Val::Float(_), Val::Int(_)) => Ordering::Greater,
                _ => Ordering::Equal,
            },
            o => o,
        }
    }

    /// Truthiness for `WHERE`: true only for `true`; null and false filter the row out.
    pub fn is_true(&self) -> bool {
        matches!(self, Val::Bool(true))
    }
}

/// Dates order by the first day they cover, then the last (a year before its first day).
fn date_order(a: &Date, b: &Date) -> Ordering {
    (a.first_day(), a.last_day()).cmp(&(b.first_day(), b.last_day()))
}

/// Grouping equality: null equals null, `1 = 1.0`, lists element-wise. What `DISTINCT` and
/// implicit grouping use.
impl PartialEq for Val {
    fn eq(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Null, Val::Null) => true,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::Int(a), Val::Int(b)) => a == b,
            (Val::Float(a), Val::Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Val::Int(a), Val::Float(b)) | (Val::Float(b), Val::Int(a)) => (*a as f64) == *b,
            (Val::Str(a), Val::Str(b)) => a == b,
            (Val::Date(a), Val::Date(b)) => a == b,
            (Val::List(a), Val::List(b)) => a == b,
            (Val::Map(a), Val::Map(b)) => a == b,
            (Val::Node(a), Val::Node(b)) => a == b,
            (Val::Edge(a), Val::Edge(b)) => a == b,
            (Val::Path(a), Val::Path(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Val {}

impl Hash for Val {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Val::Null => 0u8.hash(state),
            Val::Bool(b) => (1u8, b).hash(state),
            // Integers and floats that are equal hash alike.
            Val::Int(i) => (2u8, (*i as f64).to_bits()).hash(state),
            Val::Float(f) => (2u8, f.to_bits()).hash(state),
            Val::Str(s) => (3u8, s.as_str()).hash(state),
            Val::Date(d) => (4u8, d).hash(state),
            Val::List(items) => (5u8, &**items).hash(state),
            Val::Map(m) => (6u8, &**m).hash(state),
            Val::Node(n) => (7u8, n).hash(state),
            Val::Edge(e) => (8u8, e).hash(state),
            Val::Path(p) => (9u8, &**p).hash(state),
        }
    }
}

/// A value in a result: owns what it shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// null
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (short ones, such as ids and names, held inline: no allocation per cell).
    Str(crate::event::Name),
    /// An EDTF date.
    Date(Date),
    /// A list.
    List(Vec<Cell>),
    /// A map.
    Map(BTreeMap<String, Cell>),
    /// A node: external id, labels, properties.
    Node {
        /// The external id.
        id: String,
        /// Labels.
        labels: Vec<String>,
        /// Properties in this view.
        props: BTreeMap<String, Cell>,
    },
    /// A relationship: id, type, endpoints' ids, properties.
    Edge {
        /// The external id.
        id: String,
        /// The type.
        rel_type: String,
        /// The start node's id.
        from: String,
        /// The end node's id.
        to: String,
        /// Properties in this view.
        props: BTreeMap<String, Cell>,
    },
    /// A path: alternating nodes and relationships, by id.
    Path {
        /// Node ids in order.
        nodes: Vec<String>,
        /// Relationship ids in order.
        edges: Vec<String>,
    },
}

impl Cell {
    /// The result form of `v`, reading nodes and edges through `view`.
    pub fn of(v: &Val, view: &View<'_>) -> Cell {
        match v {
            Val::Null => Cell::Null,
            Val::Bool(b) => Cell::Bool(*b),
            Val::Int(i) => Cell::Int(*i),
            Val::Float(f) => Cell::Float(*f),
            Val::Str(s) => Cell::Str(s.clone()),
            Val::Date(d) => Cell::Date(*d),
            Val::List(items) => Cell::List(items.iter().map(|x| Cell::of(x, view)).collect()),
            Val::Map(m) => Cell::Map(
                m.iter()
                    .map(|(k, x)| (k.clone(), Cell::of(x, view)))
                    .collect(),
            ),
            Val::Node(n) => match view.node_at(*n) {
                Some(node) => Cell::Node {
                    id: node.id().to_owned(),
                    labels: node.labels().into_iter().map(str::to_owned).collect(),
                    props: node
                        .properties()
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), Cell::of(&Val::from_value(v), view)))
                        .collect(),
                },
                None => Cell::Null,
            },
            Val::Edge(e) => match view.edge_at(*e) {
                Some(edge) => Cell::Edge {
                    id: edge.id().to_owned(),
                    rel_type: edge.rel_type().to_owned(),
                    from: edge.from().id().to_owned(),
                    to: edge.to().id().to_owned(),
                    props: edge
                        .properties()
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), Cell::of(&Val::from_value(v), view)))
                        .collect(),
                },
                None => Cell::Null,
            },
            Val::Path(p) => Cell::Path {
                nodes: p
                    .nodes
                    .iter()
                    .filter_map(|&n| view.node_at(n).map(|x| x.id().to_owned()))
                    .collect(),
                edges: p
                    .edges
                    .iter()
                    .filter_map(|&e| view.edge_at(e).map(|x| x.id().to_owned()))
                    .collect(),
            },
        }
    }

    /// JSON: scalars as JSON scalars, dates as EDTF strings, nodes as
    /// `{"id", "labels", "properties"}`, relationships as `{"id", "type", "from", "to",
    /// "properties"}`, paths as `{"nodes", "relationships"}`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Value as J, json};
        let map = |m: &BTreeMap<String, Cell>| {
            J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
        };
        match self {
            Cell::Null => J::Null,
            Cell::Bool(b) => J::Bool(*b),
            Cell::Int(i) => json!(i),
            Cell::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Cell::Str(s) => J::String(s.to_string()),
            Cell::Date(d) => J::String(d.to_string()),
            Cell::List(items) => J::Array(items.iter().map(Cell::to_json).collect()),
            Cell::Map(m) => map(m),
            Cell::Node { id, labels, props } => {
                json!({"id": id, "labels": labels, "properties": map(props)})
            }
            Cell::Edge {
                id,
                rel_type,
                from,
                to,
                props,
            } => json!({"id": id, "type": rel_type, "from": from, "to": to,
                        "properties": map(props)}),
            Cell::Path { nodes, edges } => json!({"nodes": nodes, "relationships": edges}),
        }
    }
}

fn write_map(f: &mut fmt::Formatter<'_>, m: &BTreeMap<String, Cell>) -> fmt::Result {
    f.write_str("{")?;
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{k}: ")?;
        v.write(f, false)?;
    }
    f.write_str("}")
}

/// Text as a table or CSV shows it: strings bare, lists and maps in query syntax, nodes as
/// `(id:Label {…})`, dates in EDTF, null as `null`.
impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, true)
    }
}

impl Cell {
    fn write(&self, f: &mut fmt::Formatter<'_>, top: bool) -> fmt::Result {
        let props = |f: &mut fmt::Formatter<'_>, m: &BTreeMap<String, Cell>| {
            if m.is_empty() {
                return Ok(());
            }
            f.write_str(" ")?;
            write_map(f, m)
        };
        match self {
            Cell::Null => f.write_str("null"),
            Cell::Bool(b) => write!(f, "{b}"),
            Cell::Int(i) => write!(f, "{i}"),
            Cell::Float(x) => {
                if x.fract() == 0.0 && x.abs() < 1e15 {
                    write!(f, "{x:.1}")
                } else {
                    write!(f, "{x}")
                }
            }
            Cell::Str(s) if top => f.write_str(s),
            Cell::Str(s) => write!(f, "{s:?}"),
            Cell::Date(d) => write!(f, "{d}"),
            Cell::List(items) => {
                f.write_str("[")?;
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    x.write(f, false)?;
                }
                f.write_str("]")
            }
            Cell::Map(m) => write_map(f, m),
            Cell::Node {
                id,
                labels,
                props: p,
            } => {
                write!(f, "({id}")?;
                for l in labels {
                    write!(f, ":{l}")?;
                }
                props(f, p)?;
                f.write_str(")")
            }
            Cell::Edge {
                id,
                rel_type,
                from,
                to,
                props: p,
            } => {
                write!(f, "({from})-[{id}:{rel_type}")?;
                props(f, p)?;
                write!(f, "]->({to})")
            }
            Cell::Path { nodes, edges } => {
                for (i, n) in nodes.iter().enumerate() {
                    if i > 0 {
                        let e = edges.get(i - 1).map_or("", String::as_str);
                        write!(f, "-[{e}]-")?;
                    }
                    write!(f, "({n})")?;
                }
                Ok(())
            }
        }
    }
}
