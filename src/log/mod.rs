//! The event log: the single source of truth.
//!
//! The [`Log`] trait is all the rest of the engine knows of storage. [`RedbLog`] is the real
//! one (one redb file per knowledge base); [`MemoryLog`] keeps encoded records in memory for
//! tests and fuzzing, and can be told to fail after a number of writes.
//!
//! Writing goes through an [`Appender`]: it opens one storage transaction, takes any number of
//! log transactions, each with any number of events, and makes them durable together on
//! [`Appender::commit`]. Dropping it without committing writes nothing. Events are stored one
//! record each, keyed by `(tx, index)`, so neither writing nor reading a transaction needs the
//! whole of it in memory.

mod memory;
mod redb;

pub use self::memory::MemoryLog;
pub use self::redb::RedbLog;

use crate::error::LogError;
use crate::event::{Event, TxHeader, TxMeta};
use crate::time::{Timestamp, TxId};

/// An append-only, durable sequence of transactions.
pub trait Log: Send + Sync {
    /// The writer type, borrowing the log for as long as it lives.
    type Appender<'a>: Appender
    where
        Self: 'a;

    /// The last committed transaction (`TxId(0)` when the log is empty).
    fn head(&self) -> TxId;

    /// Starts writing. The first transaction begun gets `head + 1`.
    ///
    /// # Errors
    /// When the storage cannot start a write.
    fn begin(&mut self) -> Result<Self::Appender<'_>, LogError>;

    /// Reads the headers of transactions `from..=to`, in order.
    ///
    /// # Errors
    /// When the storage fails or a record is damaged.
    fn headers(&self, from: TxId, to: TxId) -> Result<Vec<TxHeader>, LogError>;

    /// How many events the log holds, if the storage knows it cheaply (a sizing hint: replay
    /// reserves room for the graph up front instead of growing it step by step).
    fn event_count_hint(&self) -> Option<u64> {
        None
    }

    /// Streams transactions `from..=to`, in order: each header, then its events one at a time.
    ///
    /// # Errors
    /// When the storage fails, a record is damaged (`LogError::Corrupt`), or the visitor
    /// returns an error, which stops the scan.
    fn scan<V: LogVisitor>(&self, from: TxId, to: TxId, visitor: &mut V) -> Result<(), V::Error>;
}

/// Receives a scan of the log.
pub trait LogVisitor {
    /// The visitor's error; storage errors convert into it.
    type Error: From<LogError>;

    /// A transaction begins; its events follow.
    ///
    /// # Errors
    /// Stops the scan.
    fn begin_tx(&mut self, header: &TxHeader) -> Result<(), Self::Error>;

    /// One event of the current transaction.
    ///
    /// # Errors
    /// Stops the scan.
    fn event(&mut self, tx: TxId, index: u32, event: Event) -> Result<(), Self::Error>;

    /// The current transaction's events are all delivered.
    ///
    /// # Errors
    /// Stops the scan.
    fn end_tx(&mut self, header: &TxHeader) -> Result<(), Self::Error>;
}

/// Writes transactions; nothing is visible or durable until [`Appender::commit`].
pub trait Appender {
    /// Begins the next transaction and returns its number. `recorded_at` is the clock's
    /// time when `None` (never earlier than the previous transaction's), or kept as given
    /// when restoring a log.
    ///
    /// # Errors
    /// When a transaction is already open.
    fn begin_tx(&mut self, meta: &TxMeta, recorded_at: Option<Timestamp>)
    -> Result<TxId, LogError>;

    /// Appends one event to the open transaction: its stored record, as
    /// [`wire::encode_event`](crate::event::wire::encode_event) makes it (the writer encodes,
    /// so that a bulk import can encode on the thread that makes its events).
    ///
    /// # Errors
    /// When no transaction is open, or the storage fails.
    fn append(&mut self, record: &[u8]) -> Result<(), LogError>;

    /// Closes the open transaction and returns its header.
    ///
    /// # Errors
    /// When no transaction is open, or the storage fails.
    fn end_tx(&mut self) -> Result<TxHeader, LogError>;

    /// Makes every transaction ended so far durable, at once.
    ///
    /// # Errors
    /// When a transaction is still open, or the storage fails; then nothing of this
    /// appender is kept.
    fn commit(self) -> Result<(), LogError>;
}

/// The clock for `recorded_at`: never goes back, so transaction time is ordered.
pub(crate) fn next_timestamp(previous: Option<Timestamp>, given: Option<Timestamp>) -> Timestamp {
    match given {
        Some(t) => t,
        None => {
            let now = Timestamp::now();
            match previous {
                Some(p) if p >= now => Timestamp::from_unix_nanos(p.unix_nanos().saturating_add(1)),
                _ => now,
            }
        }
    }
}

pub(crate) fn no_open_tx() -> LogError {
    LogError::Storage("no transaction is open (begin_tx first)".to_owned())
}

pub(crate) fn tx_already_open(tx: TxId) -> LogError {
    LogError::Storage(format!("transaction {tx} is still open (end_tx first)"))
}
