//! Validation: the checks an event must pass before it is written to the log.
//!
//! Events are checked against the graph as it stands with everything applied so far,
//! including the earlier events of the same transaction (which are applied, pending, as
//! they pass). A refused event stops its whole transaction; nothing of it is written.

use super::apply::{Checked, Resolved};
use super::{Graph, View};
use crate::error::{EventError, Refusal};
use crate::event::{Event, Name, Props, Target};
use crate::time::{Date, TxId, ValidTime};

impl Graph {
    /// The view that validation sees: everything applied, committed or pending.
    fn pending_view(&self) -> View<'_> {
        View::new(self, self.head)
    }

    /// Checks one event of transaction `tx` against the current state, and hands on the
    /// nodes and edges it found for [`Graph::apply_checked`], which then need not look them
    /// up again.
    ///
    /// # Errors
    /// An [`EventError`] naming the event and why it is refused.
    pub fn validate(&self, tx: TxId, index: u32, event: &Event) -> Result<Checked, EventError> {
        self.check(tx, event).map_err(|reason| EventError {
            tx,
            index,
            summary: event.summary(),
            reason,
        })
    }

    fn check(&self, tx: TxId, event: &Event) -> Result<Checked, Refusal> {
        let view = self.pending_view();

        match event {
            Event::NodeAdded {
                id,
                labels,
                props,
                valid,
                sources,
            } => {
                check_id(id)?;
                let before = self.node_index(id);
                if before.is_some_and(|n| view.node_at(n).is_some()) {
                    return Err(Refusal::DuplicateNode(id.to_string()));
                }
                check_names("label", labels)?;
                check_props(props)?;
                check_valid(valid)?;
                if labels.iter().any(|l| l == "Source") {
                    let key = props
                        .iter()
                        .rev()
                        .find(|(k, _)| k == "key")
                        .and_then(|(_, v)| v.as_str())
                        .ok_or(Refusal::SourceWithoutKey)?;
                    if key.is_empty() {
                        return Err(Refusal::SourceWithoutKey);
                    }
                    if view.source_exists(key) {
                        return Err(Refusal::DuplicateSourceKey(key.to_owned()));
                    }
                }
                check_sources(&view, sources)?;
                Ok(Checked(Resolved::NewNode(before)))
            }
            Event::PropertiesSet {
                target,
                props,
                valid,
                sources,
            } => {
                let resolved = match target {
                    Target::Node(id) => {
                        let node = view
                            .node(id)
                            .ok_or_else(|| Refusal::UnknownNode(id.to_string()))?;
                        if node.has_label("Source") && props.iter().any(|(k, _)| k == "key") {
                            return Err(Refusal::BadValue {
                                key: "key".into(),
                                detail: "a Source's key cannot change (cite it by the old key, \
                                         or retract and re-add the Source)"
                                    .into(),
                            });
                        }
                        Resolved::Node(node.index())
                    }
                    Target::Edge(id) => Resolved::Edge(
                        view.edge(id)
                            .ok_or_else(|| Refusal::UnknownEdge(id.to_string()))?
                            .index(),
                    ),
                };
                check_props(props)?;
                check_valid(valid)?;
                check_sources(&view, sources)?;
                Ok(Checked(resolved))
            }
            Event::NodeEnded { id, end, sources } => {
                let node = view
                    .node(id)
                    .ok_or_else(|| Refusal::UnknownNode(id.to_string()))?;
                check_end(&node.valid(), end)?;
                check_sources(&view, sources)?;
                Ok(Checked(Resolved::Node(node.index())))
            }
            Event::EdgeAdded {
                id,
                rel_type,
                from,
                to,
                props,
                valid,
                sources,
            } => {
                check_id(id)?;
                let latest = self.edge_index(id);
                if latest.is_some_and(|e| view.edge_shown_from(e).is_some()) {
                    return Err(Refusal::DuplicateEdge(id.to_string()));
                }
                check_names("relationship type", std::slice::from_ref(rel_type))?;
                let [a, b] = [from, to].map(|end| view.node(end).map(|n| n.index()));
                let (Some(a), Some(b)) = (a, b) else {
                    let missing = if a.is_none() { from } else { to };
                    return Err(Refusal::UnknownNode(missing.to_string()));
                };
                check_props(props)?;
                check_valid(valid)?;
                check_sources(&view, sources)?;
                Ok(Checked(Resolved::NewEdge {
                    ends: (a, b),
                    latest,
                }))
            }
            Event::EdgeEnded { id, end, sources } => {
                let edge = view
                    .edge(id)
                    .ok_or_else(|| Refusal::UnknownEdge(id.to_string()))?;
                check_end(&edge.valid(), end)?;
                check_sources(&view, sources)?;
                Ok(Checked(Resolved::Edge(edge.index())))
            }
            Event::TxRetracted { tx: target, reason } => {
                if reason.trim().is_empty() {
                    return Err(Refusal::EmptyReason);
                }
                if target.0 == 0 || *target >= tx {
                    return Err(Refusal::UnknownTx(*target));
                }
                if !view.knows(*target) {
                    return Err(Refusal::AlreadyRetracted(*target));
                }
                Ok(Checked(Resolved::Nothing))
            }
        }
    }
}

impl Graph {
    /// Checks what applying event `index` of transaction `tx` restored: a retraction of a
    /// retraction brings facts back, and they must not clash with facts added meanwhile
    /// (two `Source` nodes with one key). Called after the event is applied (pending).
    ///
    /// # Errors
    /// The clash, naming the event.
    pub fn check_restored(&self, tx: TxId, index: u32, event: &Event) -> Result<(), EventError> {
        if !matches!(event, Event::TxRetracted { .. }) {
            return Ok(());
        }
        let view = self.pending_view();
        let mut keys: Vec<&str> = view
            .nodes_with_label("Source")
            .filter_map(|n| n.property("key").and_then(|v| v.as_str()))
            .collect();
        keys.sort_unstable();
        match keys.windows(2).find(|w| w[0] == w[1]) {
            Some(w) => Err(EventError {
                tx,
                index,
                summary: event.summary(),
                reason: Refusal::DuplicateSourceKey(w[0].to_owned()),
            }),
            None => Ok(()),
        }
    }
}

fn check_id(id: &str) -> Result<(), Refusal> {
    if id.trim().is_empty() {
        return Err(Refusal::EmptyId);
    }
    Ok(())
}

fn check_names(what: &'static str, names: &[Name]) -> Result<(), Refusal> {
    match names.iter().find(|n| n.trim().is_empty()) {
        Some(_) => Err(Refusal::EmptyName(what)),
        None => Ok(()),
    }
}

fn check_props(props: &Props) -> Result<(), Refusal> {
    for (i, (key, value)) in props.iter().enumerate() {
        if key.is_empty() {
            return Err(Refusal::BadValue {
                key: key.to_string(),
                detail: "a property name cannot be empty".into(),
            });
        }
        if props[..i].iter().any(|(k, _)| k == key) {
            return Err(Refusal::BadValue {
                key: key.to_string(),
                detail: "given twice".into(),
            });
        }
        value.check_storable().map_err(|detail| Refusal::BadValue {
            key: key.to_string(),
            detail,
        })?;
    }
    Ok(())
}

fn check_valid(valid: &ValidTime) -> Result<(), Refusal> {
    // Events built in code bypass the parser; check the order again.
    ValidTime::new(valid.from, valid.to)?;
    Ok(())
}

fn check_end(valid: &ValidTime, end: &Date) -> Result<(), Refusal> {
    if end.last_day() < valid.first_day() {
        return Err(Refusal::EndBeforeStart {
            end: end.to_string(),
            valid: valid.to_string(),
        });
    }
    Ok(())
}

fn check_sources(view: &View<'_>, sources: &[Name]) -> Result<(), Refusal> {
    match sources.iter().find(|key| !view.source_exists(key)) {
        Some(key) => Err(Refusal::UnknownSource(key.to_string())),
        None => Ok(()),
    }
}
