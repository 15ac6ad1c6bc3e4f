//! A `WHERE` checked as the pattern walk goes, not only on each complete match.
//!
//! `MATCH (g:Agreement)-[s:IN_STAGE]->(t:Stage) WHERE g.signed < date("2020-01-01") AND …`
//! can reject an agreement before any of its stages is walked. [`Staged`] splits a filter
//! into its `AND`ed parts (conjuncts) and places each at the first *checkpoint* of the walk
//! where every variable it reads is bound: checkpoint `2i` after the pattern's node `i` is
//! bound, `2i + 1` after its relationship `i`, and [`Staged::end`] on a complete match.
//!
//! Rows and their order are those of the filter checked at the end, and so are its errors:
//! - A conjunct evaluated earlier than another written before it could give an error the
//!   written order never reaches (the earlier one being false), or hide one it reaches. So
//!   two conjuncts change order only when neither can fail ([`safe`]): a comparison, `IN` a
//!   constant list, `IS NULL` or a valid-time test of the pattern's nodes and
//!   relationships, their properties and constants.
//! - An error, and a null (which does not reject until every conjunct is known, since a
//!   later one may still fail), are not final when found: they are carried down the walk
//!   as a [`Doubt`] and decided on the complete match. A prefix with no complete match
//!   raises nothing, as the filter checked at the end would not.
//! - What is the filter's own, that is. Errors the walk raises by itself (evaluating an
//!   inline property map, `(b {s: a.name * 2})`; the hop limit of an unbounded `*`) come only
//!   from the walks that go on: a part that rejects a prefix spares the rest of its walk,
//!   and those errors with it, as filtering early in any planner does.

use rustc_hash::FxHashSet;

use super::ast::{BinaryOp, Expr, ExprKind, Span};
use super::compiled::Compiled;
use super::error::QueryError;
use super::eval::Env;
use super::value::Val;

/// A filter's conjuncts, per checkpoint.
#[derive(Debug)]
pub struct Staged {
    /// Per checkpoint (the last is the complete match), its conjuncts in written order,
    /// with their spans (for the error of one that is not a boolean).
    at: Vec<Vec<(Compiled, Span)>>,
    /// The filter is one conjunct: a value other than a boolean rejects the match, as
    /// `WHERE 1` does, where `1 AND …` fails.
    alone: bool,
    /// Bit `cp` set: checkpoint `cp` has a conjunct (the walk asks at every step).
    busy: u64,
}

/// What the conjuncts checked so far leave undecided for the match being walked.
#[derive(Debug, Default)]
pub enum Doubt {
    /// Every conjunct so far was true.
    #[default]
    Clear,
    /// One was null and none false: the match is rejected unless a later one fails.
    Unknown,
    /// One failed: the match raises this, unless it is never completed. Later conjuncts
    /// are not evaluated (the written order stops at the error).
    Failed(Box<QueryError>),
}

/// A checkpoint's outcome.
#[derive(Debug)]
pub enum Verdict {
    /// A conjunct was false: no match extends this one.
    Reject,
    /// Go on; with the doubt as it was before, when the checkpoint changed it (to be put
    /// back once the walk returns).
    Pass(Option<Doubt>),
}

impl Staged {
    /// `filter` (none: no conjunct) for a walk of `checkpoints` checkpoints, each conjunct
    /// at the checkpoint `ready` gives it (`checkpoints`, or more, for the complete match),
    /// later when an earlier-written conjunct that it may not pass is placed later.
    /// `elements` are the row positions that hold a node or relationship of the `MATCH`
    /// once bound.
    pub fn new(
        filter: Option<&Expr>,
        env: &Env<'_>,
        checkpoints: usize,
        ready: impl Fn(&Expr) -> usize,
        elements: &FxHashSet<usize>,
    ) -> Staged {
        let mut at: Vec<Vec<(Compiled, Span)>> = (0..=checkpoints).map(|_| Vec::new()).collect();
        let mut placed: Vec<(usize, bool)> = Vec::new();
        let parts = filter.map(conjuncts).unwrap_or_default();
        let alone = parts.len() == 1;
        for e in parts {
            let c = Compiled::new(e, env);
            let safe = safe(&c, elements) && boolean(&c);
            let mut cp = ready(e).min(checkpoints);
            for &(p, s) in &placed {
                if !(s && safe) {
                    cp = cp.max(p);
                }
            }
            placed.push((cp, safe));
            at[cp].push((c, e.span));
        }
        let busy = at
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_empty())
            .fold(0, |b, (cp, _)| b | 1u64.checked_shl(cp as u32).unwrap_or(0));
        // Checkpoints past 63 are always asked.
        Staged { at, alone, busy }
    }

    /// No filter.
    pub fn none() -> Staged {
        Staged {
            at: vec![Vec::new()],
            alone: false,
            busy: 0,
        }
    }

    /// The checkpoint of a complete match.
    pub fn end(&self) -> usize {
        self.at.len() - 1
    }

    /// Bit `cp` set: checkpoint `cp` has conjuncts to check, or is past 63.
    pub fn busy(&self) -> u64 {
        self.busy
    }

    /// Checks the conjuncts of checkpoint `cp` (past the end: none) on `env`'s row, given
    /// and updating the walk's `doubt`.
    pub fn judge(&self, cp: usize, env: &Env<'_>, doubt: &mut Doubt) -> Verdict {
        let Some(here) = self.at.get(cp).filter(|c| !c.is_empty()) else {
            return Verdict::Pass(None);
        };
        let mut before = None;
        for (c, span) in here {
            if matches!(doubt, Doubt::Failed(_)) {
                break;
            }
            let value = if self.alone {
                c.eval(env).map(|v| Some(v.is_true()))
            } else {
                c.truth(env, *span, BinaryOp::And)
            };
            let next = match value {
                Ok(Some(true)) => continue,
                Ok(Some(false)) => {
                    if let Some(b) = before {
                        *doubt = b;
                    }
                    return Verdict::Reject;
                }
                Ok(None) => Doubt::Unknown,
                Err(e) => Doubt::Failed(Box::new(e)),
            };
            let was = std::mem::replace(doubt, next);
            before.get_or_insert(was);
        }
        Verdict::Pass(before)
    }
}

/// The `AND`ed parts of `e`, in written order.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Binary(BinaryOp::And, a, b) => {
            let mut out = conjuncts(a);
            out.extend(conjuncts(b));
            out
        }
        _ => vec![e],
    }
}

/// Whether `c` evaluates without an error on every row whose `elements` hold nodes or
/// relationships (or null).
fn safe(c: &Compiled, elements: &FxHashSet<usize>) -> bool {
    use BinaryOp as B;
    match c {
        Compiled::Const(_) | Compiled::Slot(..) => true,
        Compiled::Property { of, .. } => {
            matches!(**of, Compiled::Slot(i, _) if elements.contains(&i))
        }
        Compiled::ValidCmp { slot, .. } | Compiled::ValidIsNull { slot, .. } => {
            elements.contains(slot)
        }
        Compiled::IsNull(x, _) => safe(x, elements),
        Compiled::CodedCmp { general, .. } => safe(general, elements),
        Compiled::Not(x, _) => safe(x, elements) && boolean(x),
        Compiled::Logic { a, b, .. } => {
            safe(a, elements) && boolean(a) && safe(b, elements) && boolean(b)
        }
        Compiled::Binary { op, a, b, .. } => match op {
            B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge => safe(a, elements) && safe(b, elements),
            B::In => safe(a, elements) && matches!(**b, Compiled::Const(Val::List(_) | Val::Null)),
            _ => false,
        },
        _ => false,
    }
}

/// Whether `c`, when it evaluates, is a boolean or null.
fn boolean(c: &Compiled) -> bool {
    use BinaryOp as B;
    match c {
        Compiled::Const(v) => matches!(v, Val::Bool(_) | Val::Null),
        Compiled::ValidCmp { .. }
        | Compiled::CodedCmp { .. }
        | Compiled::ValidIsNull { .. }
        | Compiled::IsNull(..)
        | Compiled::Not(..)
        | Compiled::Logic { .. } => true,
        Compiled::Binary { op, .. } => {
            matches!(op, B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge | B::In)
        }
        _ => false,
    }
}
