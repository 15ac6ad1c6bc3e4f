//! Expressions: evaluation of an [`Expr`] against one row, and the function library.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::ast::{BinaryOp, Expr, ExprKind, Literal, Span, UnaryOp};
use super::error::QueryError;
use super::value::Val;
use crate::graph::View;
use crate::time::{Bound, Date};

/// Parameters of a query, `$name` → value.
pub type Params = BTreeMap<String, Val>;

/// Aggregate functions: calls to these make a projection group its rows.
pub const AGGREGATES: &[&str] = &["count", "collect", "min", "max", "sum", "avg"];

/// Whether `name` is an aggregate function.
pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.iter().any(|a| a.eq_ignore_ascii_case(name))
}

/// Functions the evaluator knows, for messages and completion.
pub const FUNCTIONS: &[&str] = &[
    "valid_from",
    "valid_to",
    "valid",
    "sources",
    "tx",
    "id",
    "labels",
    "type",
    "size",
    "length",
    "nodes",
    "relationships",
    "startNode",
    "endNode",
    "keys",
    "properties",
    "toLower",
    "toUpper",
    "trim",
    "replace",
    "substring",
    "split",
    "toString",
    "toInteger",
    "toFloat",
    "coalesce",
    "date",
    "year",
    "head",
    "last",
    "tail",
    "reverse",
    "range",
    "abs",
    "round",
    "floor",
    "ceil",
    "exists",
];

/// Whether an expression contains an aggregate call.
pub fn contains_aggregate(e: &Expr) -> bool {
    let mut found = false;
    walk(e, &mut |x| {
        if matches!(&x.kind, ExprKind::CountStar)
            || matches!(&x.kind, ExprKind::Call { name, .. } if is_aggregate(&name.node))
        {
            found = true;
        }
    });
    found
}

/// Calls `f` on `e` and every expression inside it.
pub fn walk<'e>(e: &'e Expr, f: &mut impl FnMut(&'e Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Literal(_)
        | ExprKind::Parameter(_)
        | ExprKind::Variable(_)
        | ExprKind::CountStar => {}
        ExprKind::Property(x, _) | ExprKind::Unary(_, x) | ExprKind::HasLabels(x, _) => walk(x, f),
        ExprKind::IsNull { expr, .. } => walk(expr, f),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            walk(a, f);
            walk(b, f);
        }
        ExprKind::Slice(a, b, c) => {
            walk(a, f);
            for x in [b, c].into_iter().flatten() {
                walk(x, f);
            }
        }
        ExprKind::List(items) | ExprKind::Call { args: items, .. } => {
            for x in items {
                walk(x, f);
            }
        }
        ExprKind::Map(items) => {
            for (_, x) in items {
                walk(x, f);
            }
        }
        ExprKind::Case {
            subject,
            branches,
            otherwise,
        } => {
            if let Some(s) = subject {
                walk(s, f);
            }
            for (c, r) in branches {
                walk(c, f);
                walk(r, f);
            }
            if let Some(o) = otherwise {
                walk(o, f);
            }
        }
    }
}

/// What an expression is evaluated against: a view, parameters, a row and its names, and
/// the values of aggregates already computed for the row's group.
pub struct Env<'a> {
    /// The view that nodes and edges are read through.
    pub view: &'a View<'a>,
    /// `$name` values.
    pub params: &'a Params,
    /// Variable names, parallel to `row`.
    pub names: &'a [String],
    /// Variable values.
    pub row: &'a [Val],
    /// Aggregate results by the span of their call, inside a grouping projection.
    pub aggregates: &'a [(Span, Val)],
    /// What one query's evaluations remember: constants, and sets of long lists.
    pub memo: &'a Memo,
}

/// What the evaluations of one query remember between rows.
///
/// - Constant expressions (literals, parameters, and lists, maps, operators and calls of
///   them, such as `date("2020-01-01")` or `["LoI", "MoU"]`) are evaluated once, not once
///   per row. They are known by their span, and a value is used only for an expression
///   equal to the one it was computed for (a planner's copy of an expression has the same
///   span; two different expressions sharing one are evaluated as usual).
/// - Hash sets for `x IN list` on long lists, so that `NOT q IN direct` over a list of
///   thousands bound once costs one lookup per row, not a scan. A list is known by its
///   allocation: the first time one is seen it is scanned and remembered; the second time, a
///   set of it is built. A list made afresh for each row never gets a set. The entries hold
///   their lists, so an address cannot be reused while remembered.
#[derive(Default)]
pub struct Memo {
    /// Spans of the query's constant compound expressions.
    spans: Vec<Span>,
    constants: std::cell::RefCell<rustc_hash::FxHashMap<Span, (Expr, Val)>>,
    lists: std::cell::RefCell<Vec<ListEntry>>,
    symbols: std::cell::RefCell<Vec<(smol_str::SmolStr, Option<crate::graph::Sym>)>>,
    /// The statement writes nothing: a key with no symbol will not get one during it.
    read_only: bool,
}

struct ListEntry {
    list: Arc<Vec<Val>>,
    set: Option<ListSet>,
}

/// A long list's items as a set: of node indices when every item is a node (a list
/// collected from a MATCH), a smaller set to look in than one of values.
enum ListSet {
    Nodes(rustc_hash::FxHashSet<petgraph::stable_graph::NodeIndex>),
    Values(rustc_hash::FxHashSet<Val>),
}

/// Whether `e` has the same value on every row of a query: no variable, property, aggregate
/// or pattern in it. Every function is a function of its arguments.
pub(crate) fn is_constant(e: &Expr) -> bool {
    let mut constant = true;
    walk(e, &mut |x| match &x.kind {
        ExprKind::Variable(_) | ExprKind::CountStar | ExprKind::Property(..) => constant = false,
        ExprKind::Call { name, .. } if is_aggregate(&name.node) => constant = false,
        ExprKind::HasLabels(..) => constant = false,
        _ => {}
    });
    constant
}

impl Memo {
    /// The graph's symbol for a property key the query names. The query's keys are few: a
    /// short list, searched by name. A key with no symbol yet is remembered as such only by
    /// a statement that writes nothing (a write of this very statement may give it one):
    /// `g.id`, where `id` is no property but the node's id, then costs no lookup per row.
    fn symbol(&self, view: &View<'_>, key: &str) -> Option<crate::graph::Sym> {
        let mut symbols = self.symbols.borrow_mut();
        if let Some((_, s)) = symbols.iter().find(|(n, _)| n == key) {
            return *s;
        }
        let s = view.graph().symbol(key);
        if symbols.len() < 32 && (s.is_some() || self.read_only) {
            symbols.push((smol_str::SmolStr::new(key), s));
        }
        s
    }

    /// Marks the memo's statement as one that writes nothing.
    pub fn read_only(mut self, read_only: bool) -> Memo {
        self.read_only = read_only;
        self
    }

    /// A memo for a query whose reading clauses have these expressions: it knows their
    /// largest constant compound parts (lists, maps, operators and calls) by span.
    pub fn for_query(exprs: &[&Expr]) -> Memo {
        let compound = |e: &Expr| {
            matches!(
                &e.kind,
                ExprKind::List(_)
                    | ExprKind::Map(_)
                    | ExprKind::Call { .. }
                    | ExprKind::Binary(..)
                    | ExprKind::Unary(..)
            )
        };
        let mut spans: Vec<Span> = Vec::new();
        for e in exprs {
            walk(e, &mut |x| {
                if compound(x) && is_constant(x) {
                    spans.push(x.span);
                }
            });
        }
        // Only the largest: the parts of a constant are not looked up on their own.
        let all = spans.clone();
        spans.retain(|s| {
            !all.iter()
                .any(|o| o != s && o.start <= s.start && s.end <= o.end)
        });
        Memo {
            spans,
            ..Memo::default()
        }
    }

    /// Whether `e` is one of the query's constant compound expressions (by span; a copy a
    /// planner made has the same).
    fn is_constant(&self, e: &Expr) -> bool {
        !self.spans.is_empty() && self.spans.contains(&e.span)
    }

    /// The value of a constant expression evaluated before: only for an expression equal
    /// to the one it was computed for (two expressions may share a span).
    fn constant(&self, e: &Expr) -> Option<Val> {
        match self.constants.borrow().get(&e.span)? {
            (x, v) if x == e => Some(v.clone()),
            _ => None,
        }
    }

    fn remember(&self, e: &Expr, value: Val) {
        self.constants
            .borrow_mut()
            .insert(e.span, (e.clone(), value));
    }

    /// Lists shorter than this are scanned.
    const LONG: usize = 16;
    /// Lists remembered at once.
    const KEPT: usize = 8;

    /// `x IN items` when a set decides it: `items` is long, seen before, holds no null and
    /// no list (whose equality may be unknown), and `x` is neither null nor a list.
    fn contains(&self, x: &Val, items: &Arc<Vec<Val>>) -> Option<bool> {
        if items.len() < Self::LONG || matches!(x, Val::Null | Val::List(_)) {
            return None;
        }
        let mut entries = self.lists.borrow_mut();
        let Some(i) = entries.iter().position(|e| Arc::ptr_eq(&e.list, items)) else {
            if entries.len() == Self::KEPT {
                entries.remove(0);
            }
            entries.push(ListEntry {
                list: items.clone(),
                set: None,
            });
            return None;
        };
        let entry = &mut entries[i];
        if entry.set.is_none() {
            if items.iter().any(|v| matches!(v, Val::Null | Val::List(_))) {
                return None;
            }
            let nodes: Option<rustc_hash::FxHashSet<_>> = items
                .iter()
                .map(|v| match v {
                    Val::Node(n) => Some(*n),
                    _ => None,
                })
                .collect();
            entry.set = Some(match nodes {
                Some(nodes) => ListSet::Nodes(nodes),
                None => ListSet::Values(items.iter().cloned().collect()),
            });
        }
        entry.set.as_ref().map(|set| match (set, x) {
            (ListSet::Nodes(nodes), Val::Node(n)) => nodes.contains(n),
            // A node equals only a node.
            (ListSet::Nodes(_), _) => false,
            (ListSet::Values(values), x) => values.contains(x),
        })
    }
}

impl Env<'_> {
    /// The value of a variable, if it is in scope.
    pub fn lookup(&self, name: &str) -> Option<&Val> {
        // Later names shadow earlier ones.
        self.names
            .iter()
            .rposition(|n| n == name)
            .and_then(|i| self.row.get(i))
    }

    /// Evaluates `e`.
    ///
    /// # Errors
    /// A type mismatch, an unknown variable, function or parameter, a bad argument.
    pub fn eval(&self, e: &Expr) -> Result<Val, QueryError> {
        // Constant compound expressions of the query are evaluated once.
        if self.memo.is_constant(e) {
            if let Some(v) = self.memo.constant(e) {
                return Ok(v);
            }
            let v = self.eval_once(e)?;
            self.memo.remember(e, v.clone());
            return Ok(v);
        }
        self.eval_once(e)
    }

    fn eval_once(&self, e: &Expr) -> Result<Val, QueryError> {
        match &e.kind {
            ExprKind::Literal(l) => Ok(literal(l)),
            ExprKind::Parameter(name) => self.params.get(name).cloned().ok_or_else(|| {
                QueryError::semantic(
                    e.span,
                    format!(
                        "the parameter `${name}` was not given (pass it with --param {name}=…)"
                    ),
                )
            }),
            ExprKind::Variable(name) => self
                .lookup(name)
                .cloned()
                .ok_or_else(|| QueryError::semantic(e.span, format!("unknown variable `{name}`"))),
            ExprKind::Property(x, key) => {
                let v = self.eval(x)?;
                self.property(&v, &key.node, e.span)
            }
            ExprKind::Index(x, i) => {
                let v = self.eval(x)?;
                let i = self.eval(i)?;
                index(&v, &i, e.span)
            }
            ExprKind::Slice(x, a, b) => {
                let v = self.eval(x)?;
                let a = a.as_ref().map(|a| self.eval(a)).transpose()?;
                let b = b.as_ref().map(|b| self.eval(b)).transpose()?;
                slice(&v, a, b, e.span)
            }
            ExprKind::List(items) => Ok(Val::list(
                items
                    .iter()
                    .map(|x| self.eval(x))
                    .collect::<Result<_, _>>()?,
            )),
            ExprKind::Map(items) => {
                let mut m = BTreeMap::new();
                for (k, x) in items {
                    m.insert(k.node.clone(), self.eval(x)?);
                }
                Ok(Val::Map(Arc::new(m)))
            }
            ExprKind::Unary(UnaryOp::Not, x) => Ok(match self.eval(x)? {
                Val::Bool(b) => Val::Bool(!b),
                Val::Null => Val::Null,
                other => return Err(type_error(x.span, "NOT", "a boolean", &other)),
            }),
            ExprKind::Unary(UnaryOp::Neg, x) => Ok(match self.eval(x)? {
                Val::Int(i) => Val::Int(i.checked_neg().ok_or_else(|| overflow(e.span))?),
                Val::Float(f) => Val::Float(-f),
                Val::Null => Val::Null,
                other => return Err(type_error(x.span, "-", "a number", &other)),
            }),
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e.span),
            ExprKind::IsNull { expr, negated } => {
                Ok(Val::Bool(self.eval(expr)?.is_null() != *negated))
            }
            ExprKind::HasLabels(x, labels) => Ok(match self.eval(x)? {
                Val::Node(n) => match self.view.node_at(n) {
                    Some(node) => Val::Bool(labels.iter().all(|l| node.has_label(&l.node))),
                    None => Val::Null,
                },
                Val::Null => Val::Null,
                other => return Err(type_error(x.span, "a label test", "a node", &other)),
            }),
            ExprKind::CountStar => self.aggregate_value(e),
            ExprKind::Call { name, args, .. } => {
                if is_aggregate(&name.node) {
                    return self.aggregate_value(e);
                }
                let mut values: smallvec::SmallVec<[Val; 3]> = smallvec::SmallVec::new();
                for x in args {
                    values.push(self.eval(x)?);
                }
                self.call(&name.node, name.span, &values, args, e.span)
            }
            ExprKind::Case {
                subject,
                branches,
                otherwise,
            } => {
                let subject = subject.as_ref().map(|s| self.eval(s)).transpose()?;
                for (cond, result) in branches {
                    let c = self.eval(cond)?;
                    let hit = match &subject {
                        Some(s) => s.equals(&c) == Some(true),
                        None => c.is_true(),
                    };
                    if hit {
                        return self.eval(result);
                    }
                }
                match otherwise {
                    Some(o) => self.eval(o),
                    None => Ok(Val::Null),
                }
            }
        }
    }

    fn aggregate_value(&self, e: &Expr) -> Result<Val, QueryError> {
        self.aggregates
            .iter()
            .find(|(s, _)| *s == e.span)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                QueryError::semantic(
                    e.span,
                    "aggregates (count, collect, min, max, sum, avg) belong in RETURN or WITH",
                )
            })
    }

    /// `v.key`: a node's or relationship's property in the view (`id` falls back to the
    /// external id), a map's entry, a date's `year`/`month`/`day`.
    pub fn property(&self, v: &Val, key: &str, span: Span) -> Result<Val, QueryError> {
        self.property_resolved(v, key, None, span)
    }

    /// [`Env::property`], with the key's symbol if the caller knows it.
    pub(crate) fn property_resolved(
        &self,
        v: &Val,
        key: &str,
        sym: Option<crate::graph::Sym>,
        span: Span,
    ) -> Result<Val, QueryError> {
        Ok(match v {
            Val::Null => Val::Null,
            Val::Node(n) => match self.view.node_at(*n) {
                Some(node) => match sym
                    .or_else(|| self.memo.symbol(self.view, key))
                    .and_then(|k| node.property_of(k))
                {
                    Some(p) => Val::from_value(p),
                    None if key == "id" => Val::str(node.id()),
                    None => Val::Null,
                },
                None => Val::Null,
            },
            Val::Edge(e) => match self.view.edge_at(*e) {
                Some(edge) => match edge.property(key) {
                    Some(p) => Val::from_value(p),
                    None if key == "id" => Val::str(edge.id()),
                    None => Val::Null,
                },
                None => Val::Null,
            },
            Val::Map(m) => m.get(key).cloned().unwrap_or(Val::Null),
            Val::Date(d) => date_part(d, key).ok_or_else(|| {
                QueryError::runtime(span, format!("a date has no `{key}` (year, month, day)"))
            })?,
            other => {
                return Err(QueryError::runtime(
                    span,
                    format!("cannot read `.{key}` of a {}", other.type_name()),
                ));
            }
        })
    }

    fn binary(&self, op: BinaryOp, a: &Expr, b: &Expr, span: Span) -> Result<Val, QueryError> {
        // AND and OR short-circuit, with three-valued logic.
        if matches!(op, BinaryOp::And | BinaryOp::Or) {
            let x = logic(self.eval(a)?, a.span, op)?;
            let decided = if op == BinaryOp::And {
                Some(false)
            } else {
                Some(true)
            };
            if x == decided {
                return Ok(Val::Bool(x == Some(true)));
            }
            let y = logic(self.eval(b)?, b.span, op)?;
            return Ok(match (op, x, y) {
                (_, _, y) if y == decided => Val::Bool(y == Some(true)),
                (_, Some(x), Some(_)) => Val::Bool(x),
                _ => Val::Null,
            });
        }
        let x = self.eval(a)?;
        let y = self.eval(b)?;
        self.binary_on(op, &x, &y, span)
    }

    /// `x op y` (not AND/OR), with a set for `IN` on a long list met again.
    pub(crate) fn binary_on(
        &self,
        op: BinaryOp,
        x: &Val,
        y: &Val,
        span: Span,
    ) -> Result<Val, QueryError> {
        if op == BinaryOp::In
            && let Val::List(items) = y
            && let Some(found) = self.memo.contains(x, items)
        {
            return Ok(Val::Bool(found));
        }
        binary_values(op, x, y, span)
    }

    pub(crate) fn call(
        &self,
        name: &str,
        name_span: Span,
        v: &[Val],
        args: &[Expr],
        span: Span,
    ) -> Result<Val, QueryError> {
        // Function names are short: lower-cased in a buffer on the stack, not on the heap.
        let mut buf = [0u8; 24];
        let long;
        let lower: &str = if name.len() <= buf.len() {
            let buf = &mut buf[..name.len()];
            buf.copy_from_slice(name.as_bytes());
            // ASCII case changes keep UTF-8 valid.
            buf.make_ascii_lowercase();
            std::str::from_utf8(buf).unwrap_or(name)
        } else {
            long = name.to_ascii_lowercase();
            &long
        };
        let arity = |n: usize| -> Result<(), QueryError> {
            if v.len() == n {
                Ok(())
            } else {
                Err(QueryError::semantic(
                    span,
                    format!(
                        "{name}() takes {n} argument{}, given {}",
                        if n == 1 { "" } else { "s" },
                        v.len()
                    ),
                ))
            }
        };
        let arg_span = |i: usize| args.get(i).map_or(span, |a| a.span);
        let bad = |i: usize, wanted: &str| {
            let found = v.get(i).map_or("nothing".to_owned(), |x| a(x.type_name()));
            QueryError::runtime(
                arg_span(i),
                format!("{name}() expects {wanted}, found {found}"),
            )
        };
        let view = self.view;
        Ok(match lower {
            "valid_from" | "valid_to" | "valid" | "sources" | "tx" if v.len() == 2 => {
                // Of one property: the version that gives it its value in this view.
                let key = match &v[1] {
                    Val::Str(k) => k.as_str(),
                    _ => return Err(bad(1, "a property name, such as \"stage\"")),
                };
                let version = match &v[0] {
                    Val::Null => return Ok(Val::Null),
                    Val::Node(n) => view.node_at(*n).and_then(|n| n.property_version(key)),
                    Val::Edge(e) => view.edge_at(*e).and_then(|e| e.property_version(key)),
                    _ => return Err(bad(0, "a node or a relationship")),
                };
                let Some(version) = version else {
                    return Ok(Val::Null);
                };
                match lower {
                    "valid_from" => bound(version.valid.from),
                    "valid_to" => bound(version.valid.to),
                    "valid" => Val::str(&version.valid.to_string()),
                    "sources" => Val::list(version.sources.into_iter().map(Val::str).collect()),
                    _ => Val::Int(i64::try_from(version.tx.0).unwrap_or(i64::MAX)),
                }
            }
            "valid_from" | "valid_to" | "valid" | "sources" | "tx" | "id" | "labels" => {
                arity(1)?;
                let item = match &v[0] {
                    Val::Null => return Ok(Val::Null),
                    Val::Node(n) => view.node_at(*n).map(Item::Node),
                    Val::Edge(e) => view.edge_at(*e).map(Item::Edge),
                    _ => return Err(bad(0, "a node or a relationship")),
                };
                let Some(item) = item else {
                    return Ok(Val::Null);
                };
                match lower {
                    "valid_from" => bound(item.valid_bound(true)),
                    "valid_to" => bound(item.valid_bound(false)),
                    "valid" => Val::str(&item.valid().to_string()),
                    "sources" => Val::list(item.sources().into_iter().map(Val::str).collect()),
                    "tx" => Val::Int(i64::try_from(item.tx().0).unwrap_or(i64::MAX)),
                    "id" => Val::str(item.id()),
                    _ => match item {
                        Item::Node(n) => Val::list(n.labels().into_iter().map(Val::str).collect()),
                        Item::Edge(_) => return Err(bad(0, "a node")),
                    },
                }
            }
            "type" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::Edge(e) => view
                        .edge_at(*e)
                        .map_or(Val::Null, |x| Val::str(x.rel_type())),
                    _ => return Err(bad(0, "a relationship")),
                }
            }
            "startnode" | "endnode" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::Edge(e) => match view.edge_at(*e) {
                        Some(x) if lower == "startnode" => Val::Node(x.from().index()),
                        Some(x) => Val::Node(x.to().index()),
                        None => Val::Null,
                    },
                    _ => return Err(bad(0, "a relationship")),
                }
            }
            "size" | "length" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::List(items) => Val::Int(items.len() as i64),
                    Val::Str(s) => Val::Int(s.chars().count() as i64),
                    Val::Path(p) => Val::Int(p.edges.len() as i64),
                    _ => return Err(bad(0, "a list, a string or a path")),
                }
            }
            "nodes" | "relationships" | "rels" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::Path(p) if lower == "nodes" => {
                        Val::list(p.nodes.iter().map(|&n| Val::Node(n)).collect())
                    }
                    Val::Path(p) => Val::list(p.edges.iter().map(|&e| Val::Edge(e)).collect()),
                    _ => return Err(bad(0, "a path")),
                }
            }
            "keys" | "properties" => {
                arity(1)?;
                let props: Vec<(String, Val)> = match &v[0] {
                    Val::Null => return Ok(Val::Null),
                    Val::Node(n) => view.node_at(*n).map_or(Vec::new(), |x| {
                        x.properties()
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), Val::from_value(v)))
                            .collect()
                    }),
                    Val::Edge(e) => view.edge_at(*e).map_or(Vec::new(), |x| {
                        x.properties()
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), Val::from_value(v)))
                            .collect()
                    }),
                    Val::Map(m) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    _ => return Err(bad(0, "a node, a relationship or a map")),
                };
                if lower == "keys" {
                    Val::list(props.into_iter().map(|(k, _)| Val::str(&k)).collect())
                } else {
                    Val::Map(Arc::new(props.into_iter().collect()))
                }
            }
            "tolower" | "toupper" | "lower" | "upper" | "trim" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::Str(s) => Val::str(&match lower {
                        "tolower" | "lower" => s.to_lowercase(),
                        "toupper" | "upper" => s.to_uppercase(),
                        _ => s.trim().to_owned(),
                    }),
                    _ => return Err(bad(0, "a string")),
                }
            }
            "replace" => {
                arity(3)?;
                match (&v[0], &v[1], &v[2]) {
                    (Val::Null, _, _) | (_, Val::Null, _) | (_, _, Val::Null) => Val::Null,
                    (Val::Str(s), Val::Str(a), Val::Str(b)) => Val::str(&s.replace(&**a, b)),
                    _ => return Err(bad(0, "three strings")),
                }
            }
            "split" => {
                arity(2)?;
                match (&v[0], &v[1]) {
                    (Val::Null, _) | (_, Val::Null) => Val::Null,
                    (Val::Str(s), Val::Str(d)) => {
                        Val::list(s.split(d.as_str()).map(Val::str).collect())
                    }
                    _ => return Err(bad(0, "two strings")),
                }
            }
            "substring" => {
                if v.len() != 2 && v.len() != 3 {
                    arity(2)?;
                }
                match (&v[0], &v[1], v.get(2)) {
                    (Val::Null, _, _) => Val::Null,
                    (Val::Str(s), Val::Int(start), len) => {
                        let start =
                            usize::try_from(*start).map_err(|_| bad(1, "an integer ≥ 0"))?;
                        let len = match len {
                            None => usize::MAX,
                            Some(Val::Int(l)) => {
                                usize::try_from(*l).map_err(|_| bad(2, "an integer ≥ 0"))?
                            }
                            Some(_) => return Err(bad(2, "an integer")),
                        };
                        Val::str(&s.chars().skip(start).take(len).collect::<String>())
                    }
                    _ => return Err(bad(0, "a string and integers")),
                }
            }
            "tostring" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::Str(s) => Val::Str(s.clone()),
                    Val::Int(i) => Val::str(&i.to_string()),
                    Val::Float(f) => Val::str(&f.to_string()),
                    Val::Bool(b) => Val::str(&b.to_string()),
                    Val::Date(d) => Val::str(&d.to_string()),
                    _ => return Err(bad(0, "a scalar")),
                }
            }
            "tointeger" => {
                arity(1)?;
                match &v[0] {
                    Val::Int(i) => Val::Int(*i),
                    Val::Float(f) if f.is_finite() && f.abs() < 9.2e18 => {
                        Val::Int(f.trunc() as i64)
                    }
                    Val::Str(s) => s
                        .trim()
                        .parse::<i64>()
                        .map(Val::Int)
                        .or_else(|_| s.trim().parse::<f64>().map(|f| Val::Int(f.trunc() as i64)))
                        .unwrap_or(Val::Null),
                    Val::Bool(b) => Val::Int(i64::from(*b)),
                    _ => Val::Null,
                }
            }
            "tofloat" => {
                arity(1)?;
                match &v[0] {
                    Val::Int(i) => Val::Float(*i as f64),
                    Val::Float(f) => Val::Float(*f),
                    Val::Str(s) => s.trim().parse::<f64>().map_or(Val::Null, Val::Float),
                    _ => Val::Null,
                }
            }
            "coalesce" => v
                .iter()
                .find(|x| !x.is_null())
                .cloned()
                .unwrap_or(Val::Null),
            "date" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::Date(d) => Val::Date(*d),
                    Val::Str(s) => Val::Date(Date::parse(s).map_err(|err| {
                        QueryError::runtime(arg_span(0), format!("bad date {s:?}: {err}"))
                    })?),
                    Val::Int(y) => Val::Date(
                        i32::try_from(*y)
                            .ok()
                            .and_then(Date::from_year)
                            .ok_or_else(|| bad(0, "a year in range"))?,
                    ),
                    _ => return Err(bad(0, "an EDTF date string")),
                }
            }
            "year" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::Date(d) => date_part(d, "year").unwrap_or(Val::Null),
                    _ => return Err(bad(0, "a date")),
                }
            }
            "head" | "last" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::List(items) => {
                        let x = if lower == "head" {
                            items.first()
                        } else {
                            items.last()
                        };
                        x.cloned().unwrap_or(Val::Null)
                    }
                    _ => return Err(bad(0, "a list")),
                }
            }
            "tail" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::List(items) => Val::list(items.iter().skip(1).cloned().collect()),
                    _ => return Err(bad(0, "a list")),
                }
            }
            "reverse" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::List(items) => Val::list(items.iter().rev().cloned().collect()),
                    Val::Str(s) => Val::str(&s.chars().rev().collect::<String>()),
                    _ => return Err(bad(0, "a list or a string")),
                }
            }
            "range" => {
                if v.len() != 2 && v.len() != 3 {
                    arity(2)?;
                }
                let int = |i: usize| match v.get(i) {
                    Some(Val::Int(x)) => Ok(*x),
                    _ => Err(bad(i, "an integer")),
                };
                let (a, b) = (int(0)?, int(1)?);
                let step = if v.len() == 3 { int(2)? } else { 1 };
                if step == 0 {
                    return Err(QueryError::runtime(
                        arg_span(2),
                        "range() step must not be 0",
                    ));
                }
                let count = if (step > 0 && a > b) || (step < 0 && a < b) {
                    0
                } else {
                    (b.abs_diff(a) / step.unsigned_abs()).saturating_add(1)
                };
                if count > 10_000_000 {
                    return Err(QueryError::runtime(
                        span,
                        "range() of more than 10,000,000 values",
                    ));
                }
                Val::list((0..count as i64).map(|i| Val::Int(a + i * step)).collect())
            }
            "abs" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::Int(i) => Val::Int(i.checked_abs().ok_or_else(|| overflow(span))?),
                    Val::Float(f) => Val::Float(f.abs()),
                    _ => return Err(bad(0, "a number")),
                }
            }
            "round" | "floor" | "ceil" => {
                arity(1)?;
                match &v[0] {
                    Val::Null => Val::Null,
                    Val::Int(i) => Val::Float(*i as f64),
                    Val::Float(f) => Val::Float(match lower {
                        "round" => f.round(),
                        "floor" => f.floor(),
                        _ => f.ceil(),
                    }),
                    _ => return Err(bad(0, "a number")),
                }
            }
            "exists" => {
                arity(1)?;
                Val::Bool(!v[0].is_null())
            }
            _ => {
                let known = FUNCTIONS.iter().chain(AGGREGATES.iter());
                let hint = closest(name, known.copied())
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                return Err(QueryError::semantic(
                    name_span,
                    format!("unknown function `{name}`{hint}"),
                ));
            }
        })
    }
}

enum Item<'v> {
    Node(crate::graph::view::NodeRef<'v>),
    Edge(crate::graph::view::EdgeRef<'v>),
}

impl<'v> Item<'v> {
    fn valid(&self) -> crate::time::ValidTime {
        match self {
            Item::Node(n) => n.valid(),
            Item::Edge(e) => e.valid(),
        }
    }
    fn valid_bound(&self, from: bool) -> Bound {
        match self {
            Item::Node(n) => n.valid_bound(from),
            Item::Edge(e) => e.valid_bound(from),
        }
    }
    fn sources(&self) -> Vec<&'v str> {
        match self {
            Item::Node(n) => n.sources(),
            Item::Edge(e) => e.sources(),
        }
    }
    fn tx(&self) -> crate::time::TxId {
        match self {
            Item::Node(n) => n.tx(),
            Item::Edge(e) => e.tx(),
        }
    }
    fn id(&self) -> &'v str {
        match self {
            Item::Node(n) => n.id(),
            Item::Edge(e) => e.id(),
        }
    }
}

fn bound(b: Bound) -> Val {
    match b {
        Bound::Date(d) => Val::Date(d),
        Bound::Open | Bound::Unknown => Val::Null,
    }
}

fn date_part(d: &Date, key: &str) -> Option<Val> {
    let text = d.to_string();
    let digits = |from: usize, to: usize| -> Option<Val> {
        text.get(from..to)?.parse::<i64>().ok().map(Val::Int)
    };
    let negative = text.starts_with('-');
    let o = usize::from(negative);
    match key {
        "year" => digits(o, o + 4).map(|y| match y {
            Val::Int(y) if negative => Val::Int(-y),
            y => y,
        }),
        "month" => Some(digits(o + 5, o + 7).unwrap_or(Val::Null)),
        "day" => Some(digits(o + 8, o + 10).unwrap_or(Val::Null)),
        _ => None,
    }
}

/// The value of a literal.
pub fn literal(l: &Literal) -> Val {
    match l {
        Literal::Null => Val::Null,
        Literal::Bool(b) => Val::Bool(*b),
        Literal::Int(i) => Val::Int(*i),
        Literal::Float(f) => Val::Float(*f),
        Literal::Str(s) => Val::str(s),
    }
}

pub(crate) fn logic(v: Val, span: Span, op: BinaryOp) -> Result<Option<bool>, QueryError> {
    match v {
        Val::Bool(b) => Ok(Some(b)),
        Val::Null => Ok(None),
        other => Err(type_error(
            span,
            if op == BinaryOp::And { "AND" } else { "OR" },
            "a boolean",
            &other,
        )),
    }
}

pub(crate) fn type_error(span: Span, op: &str, wanted: &str, found: &Val) -> QueryError {
    QueryError::runtime(
        span,
        format!("{op} expects {wanted}, found {}", a(found.type_name())),
    )
}

/// A type's name with its article: "a string", "an integer".
pub fn a(name: &str) -> String {
    if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {name}")
    } else {
        format!("a {name}")
    }
}

fn overflow(span: Span) -> QueryError {
    QueryError::runtime(span, "integer overflow")
}

/// `x op y` on values (not AND/OR, which short-circuit).
pub fn binary_values(op: BinaryOp, x: &Val, y: &Val, span: Span) -> Result<Val, QueryError> {
    use BinaryOp as B;
    let cmp = |f: fn(std::cmp::Ordering) -> bool| -> Val {
        if x.is_null() || y.is_null() {
            return Val::Null;
        }
        x.compare(y).map_or(Val::Null, |o| Val::Bool(f(o)))
    };
    Ok(match op {
        B::And | B::Or => unreachable_logic(span)?,
        B::Xor => match (x, y) {
            (Val::Bool(a), Val::Bool(b)) => Val::Bool(a ^ b),
            (Val::Null, _) | (_, Val::Null) => Val::Null,
            _ => return Err(type_error(span, "XOR", "booleans", x)),
        },
        B::Eq => x.equals(y).map_or(Val::Null, Val::Bool),
        B::Ne => x.equals(y).map_or(Val::Null, |b| Val::Bool(!b)),
        B::Lt => cmp(|o| o.is_lt()),
        B::Le => cmp(|o| o.is_le()),
        B::Gt => cmp(|o| o.is_gt()),
        B::Ge => cmp(|o| o.is_ge()),
        B::In => match y {
            Val::Null => Val::Null,
            Val::List(items) => {
                let mut unknown = x.is_null() && !items.is_empty();
                for item in items.iter() {
                    match x.equals(item) {
                        Some(true) => return Ok(Val::Bool(true)),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if unknown { Val::Null } else { Val::Bool(false) }
            }
            other => return Err(type_error(span, "IN", "a list on its right", other)),
        },
        B::StartsWith | B::EndsWith | B::Contains => match (x, y) {
            (Val::Str(a), Val::Str(b)) => Val::Bool(match op {
                B::StartsWith => a.starts_with(b.as_str()),
                B::EndsWith => a.ends_with(b.as_str()),
                _ => a.contains(b.as_str()),
            }),
            _ => Val::Null,
        },
        B::Add => match (x, y) {
            (Val::Null, _) | (_, Val::Null) => Val::Null,
            (Val::Str(a), b) => Val::str(&format!("{a}{}", scalar_text(b, span)?)),
            (a, Val::Str(b)) => Val::str(&format!("{}{b}", scalar_text(a, span)?)),
            (Val::List(a), Val::List(b)) => Val::list(a.iter().chain(b.iter()).cloned().collect()),
            (Val::List(a), b) => Val::list(a.iter().cloned().chain([b.clone()]).collect()),
            (a, Val::List(b)) => {
                Val::list([a.clone()].into_iter().chain(b.iter().cloned()).collect())
            }
            _ => arith(op, x, y, span)?,
        },
        B::Sub | B::Mul | B::Div | B::Mod | B::Pow => arith(op, x, y, span)?,
    })
}

fn unreachable_logic(span: Span) -> Result<Val, QueryError> {
    Err(QueryError::runtime(span, "AND/OR are evaluated lazily"))
}

fn scalar_text(v: &Val, span: Span) -> Result<String, QueryError> {
    Ok(match v {
        Val::Str(s) => s.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => f.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Date(d) => d.to_string(),
        other => return Err(type_error(span, "+", "a string or a number", other)),
    })
}

fn arith(op: BinaryOp, x: &Val, y: &Val, span: Span) -> Result<Val, QueryError> {
    use BinaryOp as B;
    Ok(match (x, y) {
        (Val::Null, _) | (_, Val::Null) => Val::Null,
        (Val::Int(a), Val::Int(b)) => {
            let r = match op {
                B::Add => a.checked_add(*b),
                B::Sub => a.checked_sub(*b),
                B::Mul => a.checked_mul(*b),
                B::Div if *b == 0 => return Err(QueryError::runtime(span, "division by zero")),
                B::Div => a.checked_div(*b),
                B::Mod if *b == 0 => return Err(QueryError::runtime(span, "division by zero")),
                B::Mod => a.checked_rem(*b),
                _ => return Ok(Val::Float((*a as f64).powf(*b as f64))),
            };
            Val::Int(r.ok_or_else(|| overflow(span))?)
        }
        (Val::Int(_) | Val::Float(_), Val::Int(_) | Val::Float(_)) => {
            let f = |v: &Val| match v {
                Val::Int(i) => *i as f64,
                Val::Float(f) => *f,
                _ => 0.0,
            };
            let (a, b) = (f(x), f(y));
            Val::Float(match op {
                B::Add => a + b,
                B::Sub => a - b,
                B::Mul => a * b,
                B::Div => a / b,
                B::Mod => a % b,
                _ => a.powf(b),
            })
        }
        _ => {
            return Err(QueryError::runtime(
                span,
                format!(
                    "cannot apply an arithmetic operator to {} and {}",
                    a(x.type_name()),
                    a(y.type_name())
                ),
            ));
        }
    })
}

fn index(v: &Val, i: &Val, span: Span) -> Result<Val, QueryError> {
    Ok(match (v, i) {
        (Val::Null, _) | (_, Val::Null) => Val::Null,
        (Val::List(items), Val::Int(i)) => {
            let len = items.len() as i64;
            let at = if *i < 0 { len + i } else { *i };
            usize::try_from(at)
                .ok()
                .and_then(|at| items.get(at))
                .cloned()
                .unwrap_or(Val::Null)
        }
        (Val::Map(m), Val::Str(k)) => m.get(k.as_str()).cloned().unwrap_or(Val::Null),
        _ => {
            return Err(QueryError::runtime(
                span,
                format!("cannot index a {} by a {}", v.type_name(), i.type_name()),
            ));
        }
    })
}

fn slice(v: &Val, a: Option<Val>, b: Option<Val>, span: Span) -> Result<Val, QueryError> {
    let Val::List(items) = v else {
        return match v {
            Val::Null => Ok(Val::Null),
            _ => Err(QueryError::runtime(
                span,
                format!("cannot slice a {}", v.type_name()),
            )),
        };
    };
    let len = items.len() as i64;
    let at = |x: Option<Val>, default: i64| -> Result<usize, QueryError> {
        let i = match x {
            None | Some(Val::Null) => default,
            Some(Val::Int(i)) => i,
            Some(other) => {
                return Err(QueryError::runtime(
                    span,
                    format!(
                        "a slice bound must be an integer, found a {}",
                        other.type_name()
                    ),
                ));
            }
        };
        let i = if i < 0 { len + i } else { i };
        Ok(i.clamp(0, len) as usize)
    };
    let (from, to) = (at(a, 0)?, at(b, len)?);
    Ok(Val::list(
        items.get(from..to.max(from)).unwrap_or(&[]).to_vec(),
    ))
}

/// The known name closest to `name` (case-insensitive edit distance ≤ 2, or a case variant).
pub fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    known
        .map(|k| (strsim::levenshtein(&lower, &k.to_lowercase()), k))
        .filter(|(d, k)| *d <= 2.min(k.chars().count() / 2).max(1) || *d == 0)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}
