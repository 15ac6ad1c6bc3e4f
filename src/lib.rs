//! diplograph: an event-sourced, bitemporal knowledge graph of paradiplomacy.
//!
//! Layout, in the order data flows:
//! - [`time`]: EDTF valid time and transaction time.
//! - [`value`], [`event`]: property values and the domain events; `event::wire` is the
//!   versioned, serialized form.
//! - [`log`]: the append-only event log (redb on disk, or memory), the single source of truth.
//! - [`graph`]: the projection rebuilt from the log, read through views that pin both times.
//! - [`db`]: a log and its graph together; the one write path (validate, append, apply).
//! - [`interchange`]: JSON Lines event export and import.
//! - [`cli`]: the commands behind the `diplograph` binary.
//!
//! See `ARCHITECTURE.md` for the invariants.

pub mod cli;
pub mod db;
pub mod error;
pub mod event;
pub mod graph;
pub mod interchange;
pub mod log;
pub mod query;
pub mod repl;
pub mod server;
pub mod time;
pub mod value;

pub use db::Database;
pub use error::{CommitError, EventError, LogError, OpenError, Refusal};
pub use event::{Event, Target, TxHeader, TxMeta};
pub use graph::{Graph, View};
pub use time::{Date, DayRange, Timestamp, TxId, ValidTime};
pub use value::Value;
