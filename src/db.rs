//! A knowledge base: the log (ground truth) and the graph derived from it.
//!
//! Every write follows one path: each event is validated against the state so far, encoded
//! into the log's open storage transaction, and applied to the graph as pending; when the
//! storage commit (fsync) succeeds the pending state is sealed, and when anything fails the
//! graph rolls back and the storage transaction is dropped, so nothing of it remains.

use std::path::Path;

use crate::error::{CommitError, LogError, OpenError};
use crate::event::{Event, TxHeader, TxMeta};
use crate::graph::{Graph, View};
use crate::log::{Appender, Log, RedbLog};
use crate::time::{Timestamp, TxId};

/// A knowledge base on some log.
#[derive(Debug)]
pub struct Database<L: Log> {
    log: L,
    graph: Graph,
}

impl Database<RedbLog> {
    /// Opens (or creates) the knowledge base in a redb file and replays its log.
    ///
    /// # Errors
    /// When the file is refused or its log cannot be replayed.
    pub fn open_file(path: impl AsRef<Path>) -> Result<Database<RedbLog>, OpenError> {
        Database::open(RedbLog::open(path)?)
    }
}

impl<L: Log> Database<L> {
    /// Replays a log into a new graph.
    ///
    /// # Errors
    /// When the log cannot be read or replayed.
    pub fn open(log: L) -> Result<Database<L>, OpenError> {
        let graph = Graph::replay(&log, None)?;
        Ok(Database { log, graph })
    }

    /// The derived graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The log.
    pub fn log(&self) -> &L {
        &self.log
    }

    /// Gives the log back, dropping the graph.
    pub fn into_log(self) -> L {
        self.log
    }

    /// Closes the log as dropping it would, and leaves the graph's memory to the end of the
    /// process, for a process about to exit: freeing the graph allocation by allocation
    /// took 0.18 s after a scale-10 import of the shared workload, which the operating
    /// system does at once.
    pub fn close_for_exit(self) {
        let Database { log, graph } = self;
        drop(log);
        std::mem::forget(graph);
    }

    /// The latest state.
    pub fn view(&self) -> View<'_> {
        self.graph.view()
    }

    /// The last committed transaction.
    pub fn tx(&self) -> TxId {
        self.graph.tx()
    }

    /// Validates, writes durably and applies one transaction.
    ///
    /// # Errors
    /// When an event is refused or the log cannot write; nothing is written then.
    pub fn commit(&mut self, meta: TxMeta, events: Vec<Event>) -> Result<TxHeader, CommitError> {
        let mut headers = self.write(|w| {
            w.begin_tx(&meta, None)?;
            for e in events {
                w.append(e)?;
            }
            w.end_tx().map(|_| ())
        })?;
        headers
            .pop()
            .ok_or_else(|| LogError::Storage("no transaction was written".into()).into())
    }

    /// Writes many transactions in one storage transaction (bulk loading): all or none.
    ///
    /// # Errors
    /// As [`Database::commit`].
    pub fn commit_batch(
        &mut self,
        txs: impl IntoIterator<Item = (TxMeta, Vec<Event>)>,
    ) -> Result<Vec<TxHeader>, CommitError> {
        self.write(|w| {
            for (meta, events) in txs {
                w.begin_tx(&meta, None)?;
                for e in events {
                    w.append(e)?;
                }
                w.end_tx()?;
            }
            Ok(())
        })
    }

    /// Runs `f` with a [`Writer`]; commits what it wrote if it returns `Ok`, and rolls all
    /// of it back otherwise. Events stream through: a transaction of any size needs memory
    /// only for the graph it builds.
    ///
    /// # Errors
    /// The first error of `f`, of validation or of the log; nothing is written then.
    pub fn write<E>(
        &mut self,
        f: impl FnOnce(&mut Writer<'_, L::Appender<'_>>) -> Result<(), E>,
    ) -> Result<Vec<TxHeader>, E>
    where
        E: From<CommitError>,
    {
        // A write that panicked (in `f`, say) left pending state behind: take it back.
        self.graph.rollback();
        let appender = self.log.begin().map_err(CommitError::from)?;
        let mut writer = Writer {
            appender,
            graph: &mut self.graph,
            open: None,
            written: Vec::new(),
            failed: None,
            record: Vec::new(),
        };
        let outcome = f(&mut writer);
        let Writer {
            appender,
            graph,
            open,
            written,
            failed,
            ..
        } = writer;
        let outcome = outcome.and_then(|()| match (failed, open) {
            // `f` went on after an error: the log and the graph may disagree; write nothing.
            (Some(reason), _) => Err(CommitError::from(LogError::Storage(format!(
                "an earlier step of this write failed ({reason}); nothing was written"
            )))
            .into()),
            (None, Some((tx, _))) => Err(CommitError::from(LogError::Storage(format!(
                "transaction {tx} was begun and not ended"
            )))
            .into()),
            (None, None) => appender.commit().map_err(|e| CommitError::from(e).into()),
        });
        match outcome {
            Ok(()) => {
                graph.seal();
                Ok(written)
            }
            Err(e) => {
                graph.rollback();
                Err(e)
            }
        }
    }
}

/// Writes transactions inside [`Database::write`].
pub struct Writer<'d, A: Appender> {
    appender: A,
    graph: &'d mut Graph,
    open: Option<(TxId, u32)>,
    written: Vec<TxHeader>,
    /// The first error, if any: after one, the writer refuses everything.
    failed: Option<String>,
    /// Where an event is encoded before it goes to the log.
    record: Vec<u8>,
}

/// Events with their stored records, encoded where they are made: a bulk import builds these
/// on its reading thread, so the writing thread only validates, stores and applies. Each
/// event and its record go in together, so they cannot disagree.
#[derive(Debug, Default)]
pub struct EncodedEvents {
    events: Vec<(Event, u64)>,
    bytes: Vec<u8>,
    /// Where each record ends in `bytes`.
    ends: Vec<usize>,
    /// The events' property vectors, emptied by applying them, to be freed by the thread
    /// that allocated them ([`EncodedEvents::recycle`]): freeing across threads is slow.
    spent: Vec<crate::event::Props>,
}

impl EncodedEvents {
    /// Room for `n` events.
    pub fn with_capacity(n: usize) -> EncodedEvents {
        EncodedEvents {
            events: Vec::with_capacity(n),
            bytes: Vec::with_capacity(n * 128),
            ends: Vec::with_capacity(n),
            spent: Vec::new(),
        }
    }

    /// Frees what applying the events left over (their emptied property vectors). Called by
    /// the thread that made the events, before it fills this again.
    pub fn recycle(&mut self) {
        self.spent.clear();
    }

    /// Encodes `event` and adds it, with a `tag` of the caller's (a line number, say) that
    /// [`Writer::append_encoded`] names when the event is refused.
    ///
    /// # Errors
    /// When the event cannot be encoded; nothing is added then.
    pub fn push(&mut self, event: Event, tag: u64) -> Result<(), String> {
        let mark = self.bytes.len();
        if let Err(e) = crate::event::wire::encode_event_into(&event, &mut self.bytes) {
            self.bytes.truncate(mark);
            return Err(e);
        }
        self.ends.push(self.bytes.len());
        self.events.push((event, tag));
        Ok(())
    }

    /// How many events it holds.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    fn clear(&mut self) {
        self.events.clear();
        self.bytes.clear();
        self.ends.clear();
    }
}

impl<A: Appender> Writer<'_, A> {
    fn check(&self) -> Result<(), CommitError> {
        match &self.failed {
            Some(reason) => Err(LogError::Storage(format!(
                "an earlier step of this write failed ({reason})"
            ))
            .into()),
            None => Ok(()),
        }
    }

    fn note<T>(&mut self, result: Result<T, CommitError>) -> Result<T, CommitError> {
        if let Err(e) = &result
            && self.failed.is_none()
        {
            self.failed = Some(e.to_string());
        }
        result
    }

    /// Begins a transaction. `recorded_at` is kept as given when restoring a log.
    ///
    /// # Errors
    /// When the log cannot begin one (another is open).
    pub fn begin_tx(
        &mut self,
        meta: &TxMeta,
        recorded_at: Option<Timestamp>,
    ) -> Result<TxId, CommitError> {
        self.check()?;
        let result = self
            .appender
            .begin_tx(meta, recorded_at)
            .map_err(CommitError::from);
        let tx = self.note(result)?;
        let header = TxHeader {
            tx,
            recorded_at: recorded_at.unwrap_or_else(Timestamp::now),
            meta: meta.clone(),
            event_count: 0,
        };
        self.graph.begin_tx(header, true);
        self.open = Some((tx, 0));
        Ok(tx)
    }

    /// Validates, writes and applies one event of the open transaction.
    ///
    /// # Errors
    /// When the event is refused or the log fails.
    pub fn append(&mut self, event: Event) -> Result<(), CommitError> {
        self.check()?;
        let result = self.append_unchecked(event);
        self.note(result)
    }

    /// Validates, writes and applies events with their records, in order, and empties
    /// `events` (keeping its room, to be filled again).
    ///
    /// # Errors
    /// At the first event refused, or when the log fails: that event's tag, and why.
    pub fn append_encoded(&mut self, events: &mut EncodedEvents) -> Result<(), (u64, CommitError)> {
        let mut start = 0;
        let mut result = Ok(());
        let spent = self.graph.spent.replace(std::mem::take(&mut events.spent));
        for ((event, tag), end) in events.events.drain(..).zip(&events.ends) {
            let record = &events.bytes[start..*end];
            start = *end;
            if let Err(e) = self.check().and_then(|()| {
                let r = self.append_record(event, record);
                self.note(r)
            }) {
                result = Err((tag, e));
                break;
            }
        }
        events.spent = std::mem::replace(&mut self.graph.spent, spent).unwrap_or_default();
        events.clear();
        result
    }

    fn append_unchecked(&mut self, event: Event) -> Result<(), CommitError> {
        let (tx, index) = self
            .open
            .ok_or_else(|| LogError::Storage("no transaction is open".into()))?;
        let mut record = std::mem::take(&mut self.record);
        record.clear();
        let result = match crate::event::wire::encode_event_into(&event, &mut record) {
            Ok(()) => self.append_record(event, &record),
            Err(detail) => Err(LogError::Encode { tx, index, detail }.into()),
        };
        self.record = record;
        result
    }

    /// Validates `event`, writes its `record` and applies it.
    fn append_record(&mut self, event: Event, record: &[u8]) -> Result<(), CommitError> {
        let (tx, index) = self
            .open
            .ok_or_else(|| LogError::Storage("no transaction is open".into()))?;
        let checked = self.graph.validate(tx, index, &event)?;
        self.appender.append(record)?;
        let restores = matches!(event, Event::TxRetracted { .. }).then(|| event.clone());
        self.graph.apply_checked(tx, event, checked);
        if let Some(event) = restores {
            self.graph.check_restored(tx, index, &event)?;
        }
        self.open = Some((tx, index + 1));
        Ok(())
    }

    /// Ends the open transaction.
    ///
    /// # Errors
    /// When the log fails.
    pub fn end_tx(&mut self) -> Result<TxHeader, CommitError> {
        self.check()?;
        let result = self.appender.end_tx().map_err(CommitError::from);
        let header = self.note(result)?;
        self.graph.end_tx(header.clone());
        self.open = None;
        self.written.push(header.clone());
        Ok(header)
    }

    /// The graph with everything written so far applied (pending).
    pub fn graph(&self) -> &Graph {
        self.graph
    }

    /// Makes room for about `nodes` more nodes and `edges` more edges, so that a bulk
    /// write grows its tables once instead of doubling them again and again.
    pub fn reserve(&mut self, nodes: usize, edges: usize) {
        self.graph.reserve(nodes, edges);
    }
}
