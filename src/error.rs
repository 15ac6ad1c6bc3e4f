//! Errors, one enum per boundary.
//!
//! Messages are lower case, say what was expected and what was found, and name where: a
//! transaction and event number, a file and line. Rendering for humans happens at the edge
//! (the binary); the engine only builds these values.

use std::path::PathBuf;

use thiserror::Error;

use crate::time::TxId;

/// A date, interval or timestamp that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TimeError {
    /// Not an EDTF date or interval.
    #[error(
        "`{text}` is not an EDTF date or interval (expected forms like `1985`, `2007-02`, \
         `2007-02-06`, `2000/2004`, `1985/..`)"
    )]
    BadDate {
        /// The offending text.
        text: String,
    },
    /// An interval whose end comes before its start.
    #[error("the interval `{text}` ends before it starts")]
    Reversed {
        /// The offending interval.
        text: String,
    },
    /// Not an RFC 3339 timestamp.
    #[error("`{text}` is not an RFC 3339 timestamp ({detail})")]
    BadTimestamp {
        /// The offending text.
        text: String,
        /// What the parser said.
        detail: String,
    },
}

/// The storage boundary: opening, reading and writing the event log.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LogError {
    /// The file exists but is not a diplograph knowledge base.
    #[error("`{path}` is not a diplograph knowledge base: {detail}")]
    NotAKnowledgeBase {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        detail: String,
    },
    /// The file was written by a newer diplograph.
    #[error(
        "`{path}` uses log format {found}, but this diplograph reads formats up to {supported}; \
         upgrade diplograph to open it"
    )]
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// Its format version.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// Another process holds the file.
    #[error("`{path}` is already open in another process; close it there first")]
    Locked {
        /// The file.
        path: PathBuf,
    },
    /// A record in the log cannot be decoded: the file is damaged.
    #[error("the log is damaged at tx {tx}{}: {detail}", index.map(|i| format!(", event {i}")).unwrap_or_default())]
    Corrupt {
        /// The transaction whose record is damaged.
        tx: TxId,
        /// The event, when an event record is damaged.
        index: Option<u32>,
        /// What went wrong.
        detail: String,
    },
    /// An event could not be encoded.
    #[error("cannot encode tx {tx}, event {index}: {detail}")]
    Encode {
        /// The transaction.
        tx: TxId,
        /// The event.
        index: u32,
        /// What the encoder said.
        detail: String,
    },
    /// The storage engine failed (I/O, disk full, …). Nothing of the failed write is kept.
    #[error("storage error: {0}")]
    Storage(String),
}

impl From<redb::Error> for LogError {
    fn from(e: redb::Error) -> Self {
        LogError::Storage(e.to_string())
    }
}

macro_rules! storage_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for LogError {
            fn from(e: $t) -> Self {
                LogError::Storage(e.to_string())
            }
        }
    )*};
}
storage_error_from!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

/// Why an event cannot be applied to the knowledge base.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Refusal {
    /// An id that is empty.
    #[error("the id is empty")]
    EmptyId,
    /// A label or relationship type that is empty.
    #[error("a {0} cannot be empty")]
    EmptyName(&'static str),
    /// A node id that is already in use.
    #[error("a node with id `{0}` already exists")]
    DuplicateNode(String),
    /// An edge id that is already in use.
    #[error("an edge with id `{0}` already exists")]
    DuplicateEdge(String),
    /// A reference to a node that does not exist.
    #[error("no node has id `{0}`")]
    UnknownNode(String),
    /// A reference to an edge that does not exist.
    #[error("no edge has id `{0}`")]
    UnknownEdge(String),
    /// A citation of a source key that no `Source` node carries.
    #[error("no Source node has key `{0}` (add the Source first, or cite an existing key)")]
    UnknownSource(String),
    /// A `Source` node without a string `key` property.
    #[error("a Source node needs a string property `key`")]
    SourceWithoutKey,
    /// A `Source` node whose key is already taken.
    #[error("a Source node with key `{0}` already exists")]
    DuplicateSourceKey(String),
    /// A bad valid time.
    #[error("{0}")]
    Time(#[from] TimeError),
    /// An end before the fact's start.
    #[error("the end `{end}` comes before the start of `{valid}`")]
    EndBeforeStart {
        /// The requested end.
        end: String,
        /// The fact's valid time.
        valid: String,
    },
    /// A property value that cannot be stored.
    #[error("property `{key}`: {detail}")]
    BadValue {
        /// The property.
        key: String,
        /// Why.
        detail: String,
    },
    /// A retraction of a transaction that does not exist (yet).
    #[error("there is no committed transaction {0} to retract")]
    UnknownTx(TxId),
    /// A retraction of a transaction already retracted.
    #[error("transaction {0} is already retracted")]
    AlreadyRetracted(TxId),
    /// A retraction without a reason.
    #[error("a retraction needs a reason")]
    EmptyReason,
}

/// An event that was refused: by validation before it was written, or, for a damaged or
/// foreign log, while replaying it.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("tx {tx}, event {index} ({summary}): {reason}")]
pub struct EventError {
    /// The transaction the event belongs to.
    pub tx: TxId,
    /// Its position in the transaction, from 0.
    pub index: u32,
    /// A short description of the event, such as ``edge_added `e1` ``.
    pub summary: String,
    /// Why it was refused.
    pub reason: Refusal,
}

/// The commit boundary: a transaction that was not committed. Nothing of it was written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CommitError {
    /// Validation refused an event.
    #[error("refused: {0}")]
    Refused(#[from] EventError),
    /// The log could not write it.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// The open boundary: a knowledge base that could not be loaded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The log could not be read.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The log holds an event that cannot be replayed.
    #[error("the log cannot be replayed: {0}")]
    Replay(#[from] EventError),
}

/// Reading or writing an interchange file (JSON Lines events, …).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum InterchangeError {
    /// A line that cannot be read.
    #[error("{file}:{line}: {detail}")]
    Line {
        /// The file (or `-` for standard input).
        file: String,
        /// The line number, from 1.
        line: u64,
        /// What is wrong with it.
        detail: String,
    },
    /// An I/O failure.
    #[error("{file}: {detail}")]
    Io {
        /// The file.
        file: String,
        /// What failed.
        detail: String,
    },
    /// The target knowledge base must be empty.
    #[error("the knowledge base already holds {0} transactions; import a log into an empty one")]
    NotEmpty(u64),
    /// The import was refused as a whole.
    #[error(transparent)]
    Commit(#[from] CommitError),
}
