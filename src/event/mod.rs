//! Domain events: past-tense facts about a property graph.
//!
//! A [`Transaction`] is what one statement (or one import) adds to the log: a header and its
//! events, applied atomically. Nothing is ever deleted or rewritten: ending a node is an event,
//! and so is a correction ([`Event::TxRetracted`]); the old state stays reachable by
//! transaction time.
//!
//! Only the types in [`wire`] are serialized; these domain types convert from and to them.

pub mod wire;

use std::fmt;

use crate::time::{Date, Timestamp, TxId, ValidTime};
use crate::value::Value;

/// A short name: a label, a property key, a relationship type, a citation key. Names up to
/// 23 bytes are stored inline, so decoding an event allocates little.
pub type Name = smol_str::SmolStr;

/// Labels or citation keys: usually one or two, so kept inline.
pub type Names = smallvec::SmallVec<[Name; 2]>;

/// Properties in the order they were given.
pub type Props = Vec<(Name, Value)>;

/// What an event about properties points at.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A node, by its external id.
    Node(Name),
    /// An edge, by its external id.
    Edge(Name),
}

/// One fact about the graph. Every fact but a retraction carries its valid time and the keys
/// of the `Source` nodes that support it.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A node came to be known, with a stable external id.
    NodeAdded {
        /// Stable external id, unique among live nodes.
        id: Name,
        /// Labels such as `Actor` or `Agreement`.
        labels: Names,
        /// Initial properties, valid over the node's valid time.
        props: Props,
        /// When the node existed in the world.
        valid: ValidTime,
        /// Citation keys of supporting sources.
        sources: Names,
    },
    /// Properties of a node or an edge took values over a valid time. Setting a value to
    /// null removes the property for that time.
    PropertiesSet {
        /// The node or edge.
        target: Target,
        /// The new values.
        props: Props,
        /// When they held.
        valid: ValidTime,
        /// Citation keys of supporting sources.
        sources: Names,
    },
    /// A node stopped existing in the world at a date (inclusive).
    NodeEnded {
        /// The node.
        id: Name,
        /// Its last valid date.
        end: Date,
        /// Citation keys of supporting sources.
        sources: Names,
    },
    /// A relationship came to be known.
    EdgeAdded {
        /// Stable external id, unique among live edges.
        id: Name,
        /// The relationship type, such as `PARTY_TO`.
        rel_type: Name,
        /// The source node's id.
        from: Name,
        /// The target node's id.
        to: Name,
        /// Initial properties.
        props: Props,
        /// When the relationship held.
        valid: ValidTime,
        /// Citation keys of supporting sources.
        sources: Names,
    },
    /// A relationship stopped holding at a date (inclusive).
    EdgeEnded {
        /// The edge.
        id: Name,
        /// Its last valid date.
        end: Date,
        /// Citation keys of supporting sources.
        sources: Names,
    },
    /// An earlier transaction was found wrong: its facts are hidden from views at this
    /// transaction and later, and stay visible to views before it.
    TxRetracted {
        /// The retracted transaction.
        tx: TxId,
        /// Why.
        reason: String,
    },
}

impl Event {
    /// The event's kind and subject, for messages: ``edge_added `e1` ``.
    pub fn summary(&self) -> String {
        match self {
            Event::NodeAdded { id, .. } => format!("node_added `{id}`"),
            Event::PropertiesSet {
                target: Target::Node(id),
                ..
            } => format!("properties_set on node `{id}`"),
            Event::PropertiesSet {
                target: Target::Edge(id),
                ..
            } => format!("properties_set on edge `{id}`"),
            Event::NodeEnded { id, .. } => format!("node_ended `{id}`"),
            Event::EdgeAdded { id, .. } => format!("edge_added `{id}`"),
            Event::EdgeEnded { id, .. } => format!("edge_ended `{id}`"),
            Event::TxRetracted { tx, .. } => format!("tx_retracted {tx}"),
        }
    }
}

/// What the writer says about a transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxMeta {
    /// Who wrote it.
    pub author: Option<String>,
    /// Why, in a sentence.
    pub message: Option<String>,
}

/// A committed transaction's header, as the log stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxHeader {
    /// Its number.
    pub tx: TxId,
    /// When it was recorded (UTC).
    pub recorded_at: Timestamp,
    /// Who wrote it and why.
    pub meta: TxMeta,
    /// How many events it holds.
    pub event_count: u64,
}

/// A whole transaction in memory: for small writes and tests. Large imports stream instead.
#[derive(Clone, Debug, PartialEq)]
pub struct Transaction {
    /// The header.
    pub header: TxHeader,
    /// The events, in order.
    pub events: Vec<Event>,
}

impl fmt::Display for TxHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tx {} at {} by {}: {} ({} events)",
            self.tx,
            self.recorded_at,
            self.meta.author.as_deref().unwrap_or("-"),
            self.meta.message.as_deref().unwrap_or("-"),
            self.event_count
        )
    }
}
