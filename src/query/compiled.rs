//! Expressions resolved once per clause, for evaluation on many rows.
//!
//! [`Env::eval`] walks the syntax tree: each variable is found by comparing names, each
//! property key by looking its symbol up, each constant (`date("2020-01-01")`) recognised
//! by its span. For a filter or a grouping key met on a hundred thousand matches, that work
//! is the same on every row. [`Compiled::new`] does it once, for the variables of one
//! clause: a variable becomes its position in the row, a property key its symbol, a
//! constant part its value. What it does not know how to resolve stays an [`Expr`] and is
//! evaluated as before, so a compiled expression gives the same value or error as the
//! tree it came from on every row.

use crate::graph::accel::{Column, Pieces};
use crate::graph::{Span as ValidSpan, Sym};
use crate::time::Day;

use super::ast::{BinaryOp, Expr, ExprKind, Span, UnaryOp};
use super::error::QueryError;
use super::eval::{Env, is_aggregate, is_constant, logic, type_error};
use super::value::Val;

/// An expression resolved against one clause's variables. Evaluate it only with an [`Env`]
/// whose names are the ones it was compiled with.
#[derive(Debug)]
pub enum Compiled {
    /// A value computed when compiling: a literal, `date` of literals, a list of these.
    Const(Val),
    /// A constant computed on the first row that needs it (`range(1, 1000000)` is not built
    /// for a clause that matches nothing), then reused; an error is not kept, so every row
    /// gets it as the tree would give it.
    Lazy {
        e: Expr,
        value: std::cell::OnceCell<Val>,
    },
    /// A variable, by its position in the row.
    Slot(usize, Span),
    /// `x.key`, with the key's symbol when the graph had one.
    Property {
        of: Box<Compiled>,
        key: String,
        sym: Option<Sym>,
        span: Span,
    },
    /// `a AND b`, `a OR b`: short-circuit, three-valued.
    Logic {
        op: BinaryOp,
        a: Box<Compiled>,
        b: Box<Compiled>,
        spans: (Span, Span),
    },
    /// Any other binary operator.
    Binary {
        op: BinaryOp,
        a: Box<Compiled>,
        b: Box<Compiled>,
        span: Span,
    },
    /// `valid_from(v) < date` and the like (`<`, `<=`, `>`, `>=`, either side): the days of
    /// the bound of `v`'s valid time compared with the date's, as dates compare, without
    /// making a date per row. `general` is the same comparison, for a row whose `v` holds
    /// neither a node, a relationship nor null (and so fails as it would).
    ValidCmp {
        slot: usize,
        from: bool,
        op: BinaryOp,
        date: (Day, Day),
        date_first: bool,
        general: Box<Compiled>,
    },
    /// `valid_from(v) IS [NOT] NULL`, `valid_to(v) …`: whether the bound is open or unknown.
    ValidIsNull {
        slot: usize,
        from: bool,
        negated: bool,
        general: Box<Compiled>,
    },
    /// `v.key op constant` (a comparison, or `IN` a constant list) where `key` is laid out
    /// as a column of codes (`graph::accel::Column`): nodes with the same code have the
    /// same stored value, so `general` is evaluated once per code met and its answer kept
    /// (`known`: 0 not yet, 1 false, 2 true, 3 null). Only while reading through the very
    /// pieces the column belongs to.
    CodedCmp {
        slot: usize,
        pieces: std::sync::Arc<Pieces>,
        column: std::sync::Arc<Column>,
        /// Made on the first row that reads it (a names column has 100,000 values).
        known: std::cell::OnceCell<Box<[std::cell::Cell<u8>]>>,
        general: Box<Compiled>,
    },
    /// `NOT x`.
    Not(Box<Compiled>, Span),
    /// `x IS [NOT] NULL`.
    IsNull(Box<Compiled>, bool),
    /// A function call (not an aggregate), its arguments compiled; `call` is the original,
    /// for the function's name and the spans of its errors.
    Call { call: Expr, args: Vec<Compiled> },
    /// Evaluated as a tree.
    Other(Expr),
}

impl Compiled {
    /// `e` resolved against `env`'s names, the graph's symbols and the query's constants.
    pub fn new(e: &Expr, env: &Env<'_>) -> Compiled {
        if is_constant(e) {
            // A cheap constant that fails (a bad date) is left to fail on the first row, as
            // it would have: no row, no error.
            if cheap(e)
                && let Ok(v) = env.eval(e)
            {
                return Compiled::Const(v);
            }
            return Compiled::Lazy {
                e: e.clone(),
                value: std::cell::OnceCell::new(),
            };
        }
        let sub = |x: &Expr| Box::new(Compiled::new(x, env));
        match &e.kind {
            ExprKind::Variable(name) => match env.names.iter().rposition(|n| n == name) {
                Some(i) => Compiled::Slot(i, e.span),
                None => Compiled::Other(e.clone()),
            },
            ExprKind::Property(x, key) => Compiled::Property {
                of: sub(x),
                key: key.node.clone(),
                sym: env.view.graph().symbol(&key.node),
                span: e.span,
            },
            ExprKind::Binary(op @ (BinaryOp::And | BinaryOp::Or), a, b) => Compiled::Logic {
                op: *op,
                a: sub(a),
                b: sub(b),
                spans: (a.span, b.span),
            },
            ExprKind::Binary(op, a, b) => {
                let (ca, cb) = (sub(a), sub(b));
                let ordering = matches!(
                    op,
                    BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
                );
                let days = |d: &crate::time::Date| (d.first_day(), d.last_day());
                let valid = match (valid_call(a, env), valid_call(b, env), &*ca, &*cb) {
                    (Some(v), None, _, Compiled::Const(Val::Date(d))) => Some((v, days(d), false)),
                    (None, Some(v), Compiled::Const(Val::Date(d)), _) => Some((v, days(d), true)),
                    _ => None,
                };
                let general = Compiled::Binary {
                    op: *op,
                    a: ca,
                    b: cb,
                    span: e.span,
                };
                match valid {
                    Some(((slot, from), date, date_first)) if ordering => Compiled::ValidCmp {
                        slot,
                        from,
                        op: *op,
                        date,
                        date_first,
                        general: Box::new(general),
                    },
                    _ => coded(general, env),
                }
            }
            ExprKind::Unary(UnaryOp::Not, x) => Compiled::Not(sub(x), x.span),
            ExprKind::IsNull { expr, negated } => match valid_call(expr, env) {
                Some((slot, from)) => Compiled::ValidIsNull {
                    slot,
                    from,
                    negated: *negated,
                    general: Box::new(Compiled::IsNull(sub(expr), *negated)),
                },
                None => Compiled::IsNull(sub(expr), *negated),
            },
            ExprKind::Call { name, args, .. } if !is_aggregate(&name.node) => Compiled::Call {
                call: e.clone(),
                args: args.iter().map(|a| Compiled::new(a, env)).collect(),
            },
            _ => Compiled::Other(e.clone()),
        }
    }

    /// The variable's position and the property key's symbol, when this is `v.key`.
    pub fn slot_property(&self) -> Option<(usize, Sym)> {
        match self {
            Compiled::Property {
                of, sym: Some(s), ..
            } => match **of {
                Compiled::Slot(i, _) => Some((i, *s)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value on `env`'s row.
    ///
    /// # Errors
    /// The errors [`Env::eval`] gives for the same expression.
    pub fn eval(&self, env: &Env<'_>) -> Result<Val, QueryError> {
        match self {
            Compiled::Const(v) => Ok(v.clone()),
            Compiled::Lazy { e, value } => {
                if let Some(v) = value.get() {
                    return Ok(v.clone());
                }
                let v = env.eval(e)?;
                Ok(value.get_or_init(|| v).clone())
            }
            Compiled::Slot(i, span) => env.row.get(*i).cloned().ok_or_else(|| {
                let name = env.names.get(*i).map_or("?", String::as_str);
                QueryError::semantic(*span, format!("unknown variable `{name}`"))
            }),
            Compiled::Property { of, key, sym, span } => match &**of {
                Compiled::Slot(i, _) if *i < env.row.len() => {
                    env.property_resolved(&env.row[*i], key, *sym, *span)
                }
                of => env.property_resolved(&of.eval(env)?, key, *sym, *span),
            },
            Compiled::Logic { op, a, b, spans } => {
                Ok(truth_value(logic_truth(env, *op, a, b, *spans)?))
            }
            Compiled::Binary { op, a, b, span } => {
                // Variables are read in place: a list bound before a MATCH (`NOT q IN
                // direct`) is not copied per row.
                let x = a.eval_ref(env)?;
                let y = b.eval_ref(env)?;
                env.binary_on(*op, &x, &y, *span)
            }
            Compiled::ValidCmp { .. } | Compiled::ValidIsNull { .. } => {
                match self.valid_truth(env) {
                    Ok(t) => Ok(truth_value(t)),
                    Err(general) => general.eval(env),
                }
            }
            Compiled::CodedCmp {
                slot,
                pieces,
                column,
                known,
                general,
            } => {
                let code = match env.row.get(*slot) {
                    Some(Val::Node(n))
                        if env
                            .view
                            .shared_pieces()
                            .is_some_and(|p| std::sync::Arc::ptr_eq(p, pieces)) =>
                    {
                        column.code(n.index())
                    }
                    _ => None,
                };
                let Some(code) = code else {
                    return general.eval(env);
                };
                let known = known.get_or_init(|| {
                    let values = column.distinct_values();
                    (0..values).map(|_| std::cell::Cell::new(0)).collect()
                });
                let Some(state) = known.get(code as usize) else {
                    return general.eval(env);
                };
                match state.get() {
                    1 => return Ok(Val::Bool(false)),
                    2 => return Ok(Val::Bool(true)),
                    3 => return Ok(Val::Null),
                    _ => {}
                }
                let v = general.eval(env)?;
                state.set(match v {
                    Val::Bool(false) => 1,
                    Val::Bool(true) => 2,
                    Val::Null => 3,
                    _ => 0,
                });
                Ok(v)
            }
            Compiled::Not(x, span) => Ok(match x.eval(env)? {
                Val::Bool(b) => Val::Bool(!b),
                Val::Null => Val::Null,
                other => return Err(type_error(*span, "NOT", "a boolean", &other)),
            }),
            Compiled::IsNull(x, negated) => Ok(Val::Bool(x.eval(env)?.is_null() != *negated)),
            Compiled::Call { call, args } => {
                let ExprKind::Call {
                    name, args: exprs, ..
                } = &call.kind
                else {
                    return env.eval(call);
                };
                let mut values: smallvec::SmallVec<[Val; 3]> = smallvec::SmallVec::new();
                for a in args {
                    values.push(a.eval(env)?);
                }
                env.call(&name.node, name.span, &values, exprs, call.span)
            }
            Compiled::Other(e) => env.eval(e),
        }
    }
}

impl Compiled {
    /// The value, borrowed from the row when this is a variable.
    fn eval_ref<'r>(&self, env: &Env<'r>) -> Result<std::borrow::Cow<'r, Val>, QueryError> {
        match self {
            Compiled::Slot(i, _) if *i < env.row.len() => {
                Ok(std::borrow::Cow::Borrowed(&env.row[*i]))
            }
            other => other.eval(env).map(std::borrow::Cow::Owned),
        }
    }
}

/// `general` as a [`Compiled::CodedCmp`] when it is `v.key op constant` and `env`'s view
/// reads `key` through a column of codes; else as it is.
fn coded(general: Compiled, env: &Env<'_>) -> Compiled {
    use BinaryOp as B;
    let Compiled::Binary { op, a, b, .. } = &general else {
        return general;
    };
    let constant = match op {
        B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge => matches!(**b, Compiled::Const(_)),
        B::In => matches!(**b, Compiled::Const(Val::List(_) | Val::Null)),
        _ => false,
    };
    let (Some((slot, sym)), Some(pieces)) = (a.slot_property(), env.view.shared_pieces()) else {
        return general;
    };
    // A node without an `id` property answers `v.id` with its id, which no column holds.
    let by_id = matches!(&**a, Compiled::Property { key, .. } if key == "id");
    match pieces.column(sym) {
        Some(column) if constant && !by_id => Compiled::CodedCmp {
            slot,
            pieces: pieces.clone(),
            column: column.clone(),
            known: std::cell::OnceCell::new(),
            general: Box::new(general),
        },
        _ => general,
    }
}

/// A constant worth computing while compiling, whatever the rows: a literal, `date` of
/// literals (what a valid-time comparison compares with), or a list of these (what `IN`
/// compares with).
fn cheap(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Literal(_) => true,
        ExprKind::List(items) => items.iter().all(cheap),
        ExprKind::Call { name, args, .. } => {
            name.node.eq_ignore_ascii_case("date")
                && args.iter().all(|a| matches!(a.kind, ExprKind::Literal(_)))
        }
        _ => false,
    }
}

/// `valid_from(v)` or `valid_to(v)` of a variable in the row: its position, and whether it
/// is the start.
fn valid_call(e: &Expr, env: &Env<'_>) -> Option<(usize, bool)> {
    let ExprKind::Call {
        name,
        distinct: false,
        args,
    } = &e.kind
    else {
        return None;
    };
    let from = if name.node.eq_ignore_ascii_case("valid_from") {
        true
    } else if name.node.eq_ignore_ascii_case("valid_to") {
        false
    } else {
        return None;
    };
    match args.as_slice() {
        [x] => match &x.kind {
            ExprKind::Variable(v) => Some((env.names.iter().rposition(|n| n == v)?, from)),
            _ => None,
        },
        _ => None,
    }
}

impl Compiled {
    /// `logic(self.eval(env)?, span, op)`: the truth value of an operand of `op` (`AND`,
    /// `OR`) written at `span`, without making a value where the expression makes a truth
    /// value itself (comparisons of valid times, `AND`, `OR`): a filter's parts are judged
    /// once per candidate row.
    ///
    /// # Errors
    /// Those of `eval`, and `logic`'s for a value that is not a boolean or null.
    pub fn truth(
        &self,
        env: &Env<'_>,
        span: Span,
        op: BinaryOp,
    ) -> Result<Option<bool>, QueryError> {
        let general = match self {
            Compiled::Logic {
                op: inner,
                a,
                b,
                spans,
            } => return logic_truth(env, *inner, a, b, *spans),
            Compiled::ValidCmp { .. } | Compiled::ValidIsNull { .. } => {
                match self.valid_truth(env) {
                    Ok(t) => return Ok(t),
                    Err(general) => general,
                }
            }
            other => other,
        };
        logic(general.eval(env)?, span, op)
    }

    /// A comparison of a valid time's truth value, or the general expression to evaluate
    /// instead (when its slot holds neither a node nor a relationship); `Err(self)` for
    /// any other expression.
    fn valid_truth(&self, env: &Env<'_>) -> Result<Option<bool>, &Compiled> {
        match self {
            Compiled::ValidCmp {
                slot,
                from,
                op,
                date,
                date_first,
                general,
            } => valid_cmp(env, *slot, *from, *op, date, *date_first).ok_or(general),
            Compiled::ValidIsNull {
                slot,
                from,
                negated,
                general,
            } => valid_is_null(env, *slot, *from, *negated).ok_or(general),
            other => Err(other),
        }
    }
}

fn truth_value(t: Option<bool>) -> Val {
    t.map_or(Val::Null, Val::Bool)
}

/// `a op b` for `AND` and `OR`, in three-valued logic; `b` is not evaluated when `a`
/// decides.
fn logic_truth(
    env: &Env<'_>,
    op: BinaryOp,
    a: &Compiled,
    b: &Compiled,
    spans: (Span, Span),
) -> Result<Option<bool>, QueryError> {
    let decided = Some(op == BinaryOp::Or);
    let x = a.truth(env, spans.0, op)?;
    if x == decided {
        return Ok(x);
    }
    let y = b.truth(env, spans.1, op)?;
    Ok(match (x, y) {
        (_, y) if y == decided => y,
        (Some(x), Some(_)) => Some(x),
        _ => None,
    })
}

/// `valid_from(v) op date` (`from`) or `valid_to(v) op date`; `None` when the slot holds
/// neither a node nor a relationship (the general expression says what then).
fn valid_cmp(
    env: &Env<'_>,
    slot: usize,
    from: bool,
    op: BinaryOp,
    date: &(Day, Day),
    date_first: bool,
) -> Option<Option<bool>> {
    let span = valid_span(env, slot)?;
    let Some(days) = span.and_then(|s| s.bound_days(from)) else {
        return Some(None);
    };
    let o = if date_first {
        date.cmp(&days)
    } else {
        days.cmp(date)
    };
    Some(Some(match op {
        BinaryOp::Lt => o.is_lt(),
        BinaryOp::Le => o.is_le(),
        BinaryOp::Gt => o.is_gt(),
        _ => o.is_ge(),
    }))
}

/// `valid_from(v) IS [NOT] NULL` (`from`) or the same of `valid_to`; `None` as for
/// [`valid_cmp`].
fn valid_is_null(env: &Env<'_>, slot: usize, from: bool, negated: bool) -> Option<Option<bool>> {
    let span = valid_span(env, slot)?;
    let is_date = span.is_some_and(|s| s.bound_is_date(from));
    Some(Some(is_date == negated))
}

/// The valid time of the node or relationship in `slot`, as `valid_from`/`valid_to` read
/// it: `Some(None)` for null or an item not in the view (their bounds are null), and `None`
/// when the slot holds something else (for which the function fails).
fn valid_span(env: &Env<'_>, slot: usize) -> Option<Option<ValidSpan>> {
    Some(match env.row.get(slot)? {
        Val::Null => None,
        Val::Edge(e) => env.view.shown_edge_span(*e),
        Val::Node(n) => env.view.node_at(*n).map(|n| n.valid_span()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Database;
    use crate::log::MemoryLog;
    use crate::query::eval::{Memo, Params};
    use crate::query::{Session, parser};

    /// Every expression, compiled, gives what the tree gives on every row: the same value,
    /// or the same error (message and span); and as an operand of `AND`, the same truth
    /// value or error.
    #[test]
    fn compiled_expressions_evaluate_as_their_trees() {
        let mut db = Database::open(MemoryLog::new()).unwrap();
        let script = "CREATE (:A {id: 'a1', k: 1, name: 'one', d: date('2015-06-01')}) \
                      VALID FROM 2015-06 TO 2020; \
                      CREATE (:A {id: 'a2', k: 2}) VALID FROM 2015-06-01; \
                      CREATE (:B {id: 'b1', k: 'x'}) VALID FROM 19XX TO 2015-06-01";
        let mut session = Session::new();
        for st in parser::parse_script(script).unwrap().statements {
            session.execute(&mut db, script, &st).unwrap();
        }
        let view = db.graph().view();
        let node = |id: &str| Val::Node(view.node(id).unwrap().index());
        let long: Vec<Val> = (0..40).map(Val::Int).collect();
        let names: Vec<String> = ["a", "b", "x", "l", "a"].map(String::from).to_vec();
        let rows = vec![
            vec![
                node("a1"),
                node("b1"),
                Val::Int(3),
                Val::list(long.clone()),
                node("a2"),
            ],
            vec![
                node("a2"),
                Val::Null,
                Val::Null,
                Val::list(vec![]),
                node("a1"),
            ],
            vec![Val::Null, node("a1"), Val::str("s"), Val::Null, Val::Null],
            vec![
                Val::Int(1),
                Val::Bool(true),
                Val::Int(39),
                Val::list(long),
                node("b1"),
            ],
        ];
        let exprs = [
            "a.k",
            "a.name",
            "a.id",
            "a.nothing",
            "b.k",
            "x.k",
            "a.d.year",
            "a.k >= 2",
            "a.k = 1 AND b.k = 'x'",
            "a.k = 1 OR x > 2",
            "x IS NULL OR x > 2",
            "NOT x",
            "NOT (a.k = 1)",
            "a.k IS NULL",
            "a.k IS NOT NULL",
            "x IN l",
            "x IN [1, 2, 3]",
            "NOT x IN l",
            "a.k + x",
            "x * 2 - 1",
            "a.d < date('2020-01-01')",
            "valid_from(a) <= date('2015-06-01')",
            "date('2015') < valid_from(a)",
            "valid_to(a) > date('2015-06')",
            "valid_to(b) >= date('2015-06-01')",
            "valid_from(x) < date('2015')",
            "valid_to(a) IS NULL",
            "valid_from(b) IS NOT NULL",
            "valid_to(x) IS NULL",
            "valid_from(a) = date('2015')",
            "valid_from(a) <= date('2015-06-01') AND (valid_to(a) IS NULL OR valid_to(a) > date('2015-06-01'))",
            "valid_to(x) IS NULL OR a.k",
            "a.k AND valid_to(a) IS NULL",
            "valid_from(b) > date('1900') OR x",
            "(valid_to(a) IS NOT NULL AND x > 2) OR valid_from(l) < date('2015')",
            "a.d < date('not a date')",
            "coalesce(a.name, b.k, 'none')",
            "size(l)",
            "toUpper(a.name)",
            "nosuch(a)",
            "y",
            "y.k",
            "[a.k, x][0]",
            "CASE WHEN x > 2 THEN 'big' ELSE 'small' END",
            "a:A",
            "'lit'",
            "$p + 1",
            "$missing",
        ];
        let params: Params = [("p".to_owned(), Val::Int(41))].into_iter().collect();
        let checked: usize = exprs
            .iter()
            .map(|text| {
                let e = parser::parse_expression(text).unwrap();
                let memo = Memo::for_query(&[&e]);
                let env = |row| Env {
                    view: &view,
                    params: &params,
                    names: &names,
                    row,
                    aggregates: &[],
                    memo: &memo,
                };
                let compiled = Compiled::new(&e, &env(&[]));
                for row in &rows {
                    let want = format!("{:?}", env(row.as_slice()).eval(&e));
                    let got = format!("{:?}", compiled.eval(&env(row.as_slice())));
                    assert_eq!(got, want, "{text} on {row:?}");
                    let want = env(row.as_slice())
                        .eval(&e)
                        .and_then(|v| logic(v, e.span, BinaryOp::And));
                    let got = compiled.truth(&env(row.as_slice()), e.span, BinaryOp::And);
                    assert_eq!(format!("{got:?}"), format!("{want:?}"), "{text} on {row:?}");
                }
                rows.len()
            })
            .sum();
        assert_eq!(checked, exprs.len() * rows.len());
    }
}
