//! Replay: rebuilding the graph from the log, the one part of the graph that reads it.
//!
//! Reading and decoding run on a second thread, handing events over in bounded chunks,
//! while the calling thread applies them; emptied chunks and property vectors go back to the
//! reader, since freeing memory another thread allocated is slow.

use std::sync::mpsc;

use super::Graph;
use crate::error::{EventError, LogError, OpenError};
use crate::event::{Event, Props, TxHeader};
use crate::log::{Log, LogVisitor};
use crate::time::TxId;

impl Graph {
    /// Rebuilds the graph from transactions `1..=to` of a log (all of it when `to` is `None`).
    ///
    /// Reading and decoding run on a second thread, handing events over in bounded chunks,
    /// while this one applies them: replay takes about as long as the slower of the two.
    ///
    /// # Errors
    /// When the log cannot be read, or holds an event that cannot apply (a damaged or
    /// foreign log; the log this engine writes is validated before it is written).
    pub fn replay<L: Log>(log: &L, to: Option<TxId>) -> Result<Graph, OpenError> {
        let to = to.unwrap_or(log.head());
        let mut graph = Graph::new();
        if let Some(events) = log.event_count_hint() {
            // Every node or edge is one event at least. Untouched capacity costs address
            // space, not memory, and spares the graph's vectors their copies as they grow.
            let n = usize::try_from(events).unwrap_or(0).min(1 << 26);
            graph.g.reserve_nodes(n);
            graph.g.reserve_edges(n);
        }
        std::thread::scope(|scope| {
            let (sender, receiver) = mpsc::sync_channel::<Vec<Replayed>>(CHUNKS_IN_FLIGHT);
            // Emptied chunks and property vectors go back to the reader, which allocated
            // them: freeing memory of another thread's allocator arena is slow.
            let (recycle, recycled) = mpsc::channel::<(Vec<Replayed>, Vec<Props>)>();
            let reader = scope.spawn(move || {
                let mut feeder = Feeder {
                    sender,
                    chunk: Vec::with_capacity(CHUNK),
                    recycled,
                    spare: Vec::new(),
                };
                log.scan(TxId(1), to, &mut feeder)?;
                feeder.flush()
            });
            let mut applied = Ok(());
            graph.spent = Some(Vec::new());
            'chunks: for mut chunk in receiver.iter() {
                for item in chunk.drain(..) {
                    if let Err(e) = graph.replay_one(item) {
                        applied = Err(e);
                        break 'chunks;
                    }
                }
                let spent = graph.spent.replace(Vec::new()).unwrap_or_default();
                // The reader may be done already; then these are simply dropped here.
                let _ = recycle.send((chunk, spent));
            }
            graph.spent = None;
            // Dropping the receiver stops the reader if it is still going: its next send fails.
            drop(receiver);
            let read = reader
                .join()
                .unwrap_or_else(|_| Err(LogError::Storage("the log reader failed".into())));
            applied?;
            read?;
            Ok(graph)
        })
    }

    fn replay_one(&mut self, item: Replayed) -> Result<(), EventError> {
        match item {
            Replayed::Begin(header) => self.begin_tx(header, false),
            Replayed::Event(tx, index, event) => self.apply(tx, index, event)?,
            // The header scanned at the start already has the final event count.
            Replayed::End => self.seal(),
        }
        Ok(())
    }
}

/// Events handed from the reader thread to the applying one.
enum Replayed {
    Begin(TxHeader),
    Event(TxId, u32, Event),
    End,
}

/// Items per chunk, and chunks in flight: bounds replay's memory whatever a transaction's size.
const CHUNK: usize = 1024;
const CHUNKS_IN_FLIGHT: usize = 16;

/// The reader side of replay: collects scanned items into chunks and sends them.
struct Feeder {
    sender: mpsc::SyncSender<Vec<Replayed>>,
    chunk: Vec<Replayed>,
    recycled: mpsc::Receiver<(Vec<Replayed>, Vec<Props>)>,
    spare: Vec<Vec<Replayed>>,
}

impl Feeder {
    fn push(&mut self, item: Replayed) -> Result<(), LogError> {
        self.chunk.push(item);
        if self.chunk.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), LogError> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        // Free what the applier handed back, and reuse its emptied chunks.
        while let Ok((chunk, spent)) = self.recycled.try_recv() {
            drop(spent);
            if self.spare.len() < 4 {
                self.spare.push(chunk);
            }
        }
        let next = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK));
        let chunk = std::mem::replace(&mut self.chunk, next);
        self.sender
            .send(chunk)
            .map_err(|_| LogError::Storage("replay stopped".into()))
    }
}

impl LogVisitor for Feeder {
    type Error = LogError;

    fn begin_tx(&mut self, header: &TxHeader) -> Result<(), LogError> {
        self.push(Replayed::Begin(header.clone()))
    }

    fn event(&mut self, tx: TxId, index: u32, event: Event) -> Result<(), LogError> {
        self.push(Replayed::Event(tx, index, event))
    }

    fn end_tx(&mut self, _header: &TxHeader) -> Result<(), LogError> {
        self.push(Replayed::End)
    }
}
