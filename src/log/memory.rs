//! An in-memory log, for tests and fuzzing. It stores the same encoded records as the redb
//! log, so every test through it also exercises the wire format.

use super::{Appender, Log, LogVisitor, next_timestamp, no_open_tx, tx_already_open};
use crate::error::LogError;
use crate::event::wire;
use crate::event::{TxHeader, TxMeta};
use crate::time::{Timestamp, TxId};

/// One committed transaction: its header record and its event records.
#[derive(Clone, Debug)]
struct StoredTx {
    header: Vec<u8>,
    events: Vec<Vec<u8>>,
}

/// A log in memory. `MemoryLog::failing_after(n)` refuses every record write after the
/// first `n`, to test that a failed write leaves no trace.
#[derive(Clone, Debug, Default)]
pub struct MemoryLog {
    txs: Vec<StoredTx>,
    last_recorded: Option<Timestamp>,
    writes_left: Option<u64>,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> MemoryLog {
        MemoryLog::default()
    }

    /// An empty log whose storage fails after `writes` record writes (headers and events).
    pub fn failing_after(writes: u64) -> MemoryLog {
        MemoryLog {
            writes_left: Some(writes),
            ..MemoryLog::default()
        }
    }

    /// Lets writes succeed again (or fail after `writes` more).
    pub fn set_failing_after(&mut self, writes: Option<u64>) {
        self.writes_left = writes;
    }

    fn decode_header(&self, tx: TxId) -> Result<TxHeader, LogError> {
        let stored = &self.txs[usize::try_from(tx.0 - 1).unwrap_or(usize::MAX)];
        wire::decode_header(tx, &stored.header).map_err(|detail| LogError::Corrupt {
            tx,
            index: None,
            detail,
        })
    }

    fn clamp(&self, from: TxId, to: TxId) -> (u64, u64) {
        (from.0.max(1), to.0.min(self.head().0))
    }
}

/// Writes into a staging area; commit moves it into the log.
#[derive(Debug)]
pub struct MemoryAppender<'a> {
    log: &'a mut MemoryLog,
    staged: Vec<StoredTx>,
    open: Option<(TxHeader, Vec<Vec<u8>>)>,
    writes_left: Option<u64>,
    last_recorded: Option<Timestamp>,
}

impl MemoryAppender<'_> {
    fn charge_write(&mut self) -> Result<(), LogError> {
        match &mut self.writes_left {
            Some(0) => Err(LogError::Storage(
                "injected failure: write refused".to_owned(),
            )),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

impl Log for MemoryLog {
    type Appender<'a> = MemoryAppender<'a>;

    fn head(&self) -> TxId {
        TxId(self.txs.len() as u64)
    }

    fn begin(&mut self) -> Result<MemoryAppender<'_>, LogError> {
        Ok(MemoryAppender {
            writes_left: self.writes_left,
            last_recorded: self.last_recorded,
            log: self,
            staged: Vec::new(),
            open: None,
        })
    }

    fn headers(&self, from: TxId, to: TxId) -> Result<Vec<TxHeader>, LogError> {
        let (from, to) = self.clamp(from, to);
        (from..=to).map(|t| self.decode_header(TxId(t))).collect()
    }

    fn scan<V: LogVisitor>(&self, from: TxId, to: TxId, visitor: &mut V) -> Result<(), V::Error> {
        let (from, to) = self.clamp(from, to);
        for t in from..=to {
            let tx = TxId(t);
            let header = self.decode_header(tx)?;
            visitor.begin_tx(&header)?;
            let stored = &self.txs[(t - 1) as usize];
            for (i, bytes) in stored.events.iter().enumerate() {
                let index = i as u32;
                let event = wire::decode_event(bytes).map_err(|detail| LogError::Corrupt {
                    tx,
                    index: Some(index),
                    detail,
                })?;
                visitor.event(tx, index, event)?;
            }
            visitor.end_tx(&header)?;
        }
        Ok(())
    }
}

impl Appender for MemoryAppender<'_> {
    fn begin_tx(
        &mut self,
        meta: &TxMeta,
        recorded_at: Option<Timestamp>,
    ) -> Result<TxId, LogError> {
        if let Some((open, _)) = &self.open {
            return Err(tx_already_open(open.tx));
        }
        let tx = TxId(self.log.head().0 + self.staged.len() as u64 + 1);
        let recorded_at = next_timestamp(self.last_recorded, recorded_at);
        self.last_recorded = Some(recorded_at);
        let header = TxHeader {
            tx,
            recorded_at,
            meta: meta.clone(),
            event_count: 0,
        };
        self.open = Some((header, Vec::new()));
        Ok(tx)
    }

    fn append(&mut self, record: &[u8]) -> Result<(), LogError> {
        self.charge_write()?;
        let (open, events) = self.open.as_mut().ok_or_else(no_open_tx)?;
        events.push(record.to_vec());
        open.event_count += 1;
        Ok(())
    }

    fn end_tx(&mut self) -> Result<TxHeader, LogError> {
        self.charge_write()?;
        let (open, events) = self.open.take().ok_or_else(no_open_tx)?;
        let header = wire::encode_header(&open).map_err(|detail| LogError::Encode {
            tx: open.tx,
            index: 0,
            detail,
        })?;
        self.staged.push(StoredTx { header, events });
        Ok(open)
    }

    fn commit(self) -> Result<(), LogError> {
        if let Some((open, _)) = &self.open {
            return Err(tx_already_open(open.tx));
        }
        self.log.txs.extend(self.staged);
        self.log.writes_left = self.writes_left;
        self.log.last_recorded = self.last_recorded;
        Ok(())
    }
}
