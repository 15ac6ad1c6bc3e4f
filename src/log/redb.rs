//! The real log: one redb file per knowledge base.
//!
//! Tables:
//! - `meta`: `magic` = `diplograph-log`, `format` = the newest record format the file holds.
//! - `txs`: `tx → header record`.
//! - `events`: `(tx, index) → event record`.
//!
//! Every commit is durable (fsynced) before it returns. A file that is not redb, is redb but
//! not ours, or was written by a newer format is refused at open with a message.

use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};

use redb::{
    Database, DatabaseError, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    StorageBackend, TableDefinition, TableError, WriteTransaction,
};

use super::{Appender, Log, LogVisitor, next_timestamp, no_open_tx, tx_already_open};
use crate::error::LogError;
use crate::event::wire::{self, FORMAT_VERSION};
use crate::event::{Event, TxHeader, TxMeta};
use crate::time::{Timestamp, TxId};

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const TXS: TableDefinition<u64, &[u8]> = TableDefinition::new("txs");
const EVENTS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("events");

const MAGIC: &[u8] = b"diplograph-log";

/// Buffered event records are written to the table in batches of this many.
const FLUSH_EVENTS: usize = 16_384;
/// … or when they reach this many bytes, so a huge transaction stays bounded in memory.
const FLUSH_BYTES: usize = 8 << 20;

/// A log in a redb file.
pub struct RedbLog {
    // Dropped by hand, under a panic guard: see `Drop for RedbLog`.
    db: ManuallyDrop<Database>,
    path: PathBuf,
    head: TxId,
    last_recorded: Option<Timestamp>,
    /// Set when a commit failed: whether it reached the disk is unknown, so further writes
    /// are refused until the file is opened again (and replayed).
    poisoned: Option<String>,
}

impl std::fmt::Debug for RedbLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbLog")
            .field("path", &self.path)
            .field("head", &self.head)
            .finish()
    }
}

impl RedbLog {
    /// Opens the knowledge base at `path`, creating an empty one if the file does not exist.
    ///
    /// # Errors
    /// `NotAKnowledgeBase` for a file that is not redb or not ours, `NewerFormat` for one
    /// written by a newer diplograph, `Locked` when another process has it open.
    pub fn open(path: impl AsRef<Path>) -> Result<RedbLog, LogError> {
        let path = path.as_ref().to_path_buf();
        guard_panics(&path, || RedbLog::open_unguarded(path.clone()))
    }

    fn open_unguarded(path: PathBuf) -> Result<RedbLog, LogError> {
        // redb initializes an empty file; anything else must already be a database.
        let exists = std::fs::metadata(&path).is_ok_and(|m| m.len() > 0);
        let opened = if exists {
            builder().open(&path)
        } else {
            builder().create(&path)
        };
        let db = opened.map_err(|e| open_error(&path, e))?;
        RedbLog::init(db, path, !exists)
    }

    /// Opens (or creates, when empty) a knowledge base on a given storage backend: used to
    /// test crash consistency with a backend that fails on purpose.
    ///
    /// # Errors
    /// As [`RedbLog::open`].
    pub fn with_backend(backend: impl StorageBackend, name: &str) -> Result<RedbLog, LogError> {
        let path = PathBuf::from(name);
        guard_panics(&path, || {
            let db = builder()
                .create_with_backend(backend)
                .map_err(|e| open_error(&path, e))?;
            RedbLog::init(db, path.clone(), false)
        })
    }

    /// The file this log lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn init(db: Database, path: PathBuf, created: bool) -> Result<RedbLog, LogError> {
        let mut log = RedbLog {
            db: ManuallyDrop::new(db),
            path,
            head: TxId(0),
            last_recorded: None,
            poisoned: None,
        };
        let read = log.db.begin_read()?;
        let meta = match read.open_table(META) {
            Ok(t) => Some(t),
            Err(TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(log.foreign(format!("unreadable metadata ({e})"))),
        };
        match meta {
            None => {
                // A brand-new file, or a redb file with other tables in it.
                let empty = read.list_tables()?.next().is_none();
                if !(created || empty) {
                    return Err(log.foreign("it is a redb database with other tables".into()));
                }
                drop(read);
                log.write_meta()?;
            }
            Some(meta) => {
                let magic = meta.get("magic")?;
                if magic.as_ref().map(|m| m.value()) != Some(MAGIC) {
                    return Err(log.foreign("it is a redb database without our signature".into()));
                }
                let format = meta
                    .get("format")?
                    .and_then(|v| <[u8; 4]>::try_from(v.value()).ok())
                    .map(u32::from_le_bytes)
                    .ok_or_else(|| log.foreign("its format version is missing".into()))?;
                if format > u32::from(FORMAT_VERSION) {
                    return Err(LogError::NewerFormat {
                        path: log.path.clone(),
                        found: format,
                        supported: u32::from(FORMAT_VERSION),
                    });
                }
                let txs = read.open_table(TXS)?;
                if let Some((k, v)) = txs.last()? {
                    let tx = TxId(k.value());
                    let header = decode_header(tx, v.value())?;
                    log.head = tx;
                    log.last_recorded = Some(header.recorded_at);
                    let first = txs.first()?.map(|(k, _)| k.value());
                    if tx.0 != txs.len()? || first != Some(1) {
                        return Err(LogError::Corrupt {
                            tx,
                            index: None,
                            detail: format!("the log holds {} transactions", txs.len()?),
                        });
                    }
                }
            }
        }
        Ok(log)
    }

    fn write_meta(&mut self) -> Result<(), LogError> {
        let write = self.db.begin_write()?;
        {
            let mut meta = write.open_table(META)?;
            meta.insert("magic", MAGIC)?;
            meta.insert("format", &u32::from(FORMAT_VERSION).to_le_bytes()[..])?;
            write.open_table(TXS)?;
            write.open_table(EVENTS)?;
        }
        write.commit()?;
        Ok(())
    }

    fn foreign(&self, detail: String) -> LogError {
        LogError::NotAKnowledgeBase {
            path: self.path.clone(),
            detail,
        }
    }
}

/// The log is read in one sequential pass at start-up and then mostly appended to: a page
/// cache would only duplicate the projection in memory, so it is kept small.
const CACHE_BYTES: usize = 32 << 20;

fn builder() -> redb::Builder {
    let mut b = Database::builder();
    b.set_cache_size(CACHE_BYTES);
    b
}

impl Drop for RedbAppender<'_> {
    fn drop(&mut self) {
        if let Some(write) = self.write.take() {
            // An abort; on a damaged file the storage engine may panic doing it.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(write)));
        }
    }
}

impl Drop for RedbLog {
    fn drop(&mut self) {
        // SAFETY: `db` is not used after this, and dropped exactly once, here.
        let db = unsafe { ManuallyDrop::take(&mut self.db) };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(db)));
    }
}

/// redb panics on some kinds of damage ("malformed allocator state") instead of returning an
/// error. A damaged file is input we do not control, so every call into the storage engine
/// goes through this: a panic becomes the error `on_panic` makes of its message.
fn catch_engine_panic<T, E>(
    f: impl FnOnce() -> Result<T, E>,
    on_panic: impl FnOnce(String) -> E,
) -> Result<T, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|panic| Err(on_panic(panic_message(&panic))))
}

/// A storage operation on an open file.
fn storage_guard<T>(f: impl FnOnce() -> Result<T, LogError>) -> Result<T, LogError> {
    catch_engine_panic(f, |panic| {
        LogError::Storage(format!(
            "the storage engine failed ({panic}); the file may be damaged"
        ))
    })
}

/// Opening a file.
fn guard_panics<T>(path: &Path, f: impl FnOnce() -> Result<T, LogError>) -> Result<T, LogError> {
    catch_engine_panic(f, |panic| LogError::NotAKnowledgeBase {
        path: path.to_path_buf(),
        detail: format!("it is damaged ({panic})"),
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the storage engine failed".to_owned())
}

fn open_error(path: &Path, e: DatabaseError) -> LogError {
    match e {
        DatabaseError::DatabaseAlreadyOpen => LogError::Locked {
            path: path.to_path_buf(),
        },
        DatabaseError::UpgradeRequired(v) => LogError::NotAKnowledgeBase {
            path: path.to_path_buf(),
            detail: format!("it uses the old redb file format {v}"),
        },
        other => LogError::NotAKnowledgeBase {
            path: path.to_path_buf(),
            detail: format!("it is not a readable redb file ({other})"),
        },
    }
}

fn decode_header(tx: TxId, bytes: &[u8]) -> Result<TxHeader, LogError> {
    wire::decode_header(tx, bytes).map_err(|detail| LogError::Corrupt {
        tx,
        index: None,
        detail,
    })
}

impl Log for RedbLog {
    type Appender<'a> = RedbAppender<'a>;

    fn head(&self) -> TxId {
        self.head
    }

    fn begin(&mut self) -> Result<RedbAppender<'_>, LogError> {
        if let Some(reason) = &self.poisoned {
            return Err(LogError::Storage(format!(
                "a commit failed earlier ({reason}); open the knowledge base again to see what \
                 reached the disk"
            )));
        }
        let write = storage_guard(|| Ok(self.db.begin_write()?))?;
        Ok(RedbAppender {
            next_tx: self.head.next(),
            last_recorded: self.last_recorded,
            log: self,
            write: Some(write),
            open: None,
            buffer: Vec::new(),
            buffer_bytes: 0,
        })
    }

    fn event_count_hint(&self) -> Option<u64> {
        storage_guard(|| {
            let read = self.db.begin_read()?;
            Ok(read.open_table(EVENTS)?.len()?)
        })
        .ok()
    }

    fn headers(&self, from: TxId, to: TxId) -> Result<Vec<TxHeader>, LogError> {
        storage_guard(|| {
            let read = self.db.begin_read()?;
            let txs = read.open_table(TXS)?;
            let mut out = Vec::new();
            for item in txs.range(from.0..=to.0)? {
                let (k, v) = item?;
                out.push(decode_header(TxId(k.value()), v.value())?);
            }
            Ok(out)
        })
    }

    fn scan<V: LogVisitor>(&self, from: TxId, to: TxId, visitor: &mut V) -> Result<(), V::Error> {
        // The transaction being read, to name it if the storage engine panics.
        let reading = std::cell::Cell::new(from);
        catch_engine_panic(
            || self.scan_unguarded(from, to, visitor, &reading),
            |panic| {
                corrupt(
                    reading.get(),
                    None,
                    &format!("the storage engine failed: {panic}"),
                )
                .into()
            },
        )
    }
}

impl RedbLog {
    fn scan_unguarded<V: LogVisitor>(
        &self,
        from: TxId,
        to: TxId,
        visitor: &mut V,
        reading: &std::cell::Cell<TxId>,
    ) -> Result<(), V::Error> {
        let read = self.db.begin_read().map_err(LogError::from)?;
        let txs = read.open_table(TXS).map_err(LogError::from)?;
        let events = read.open_table(EVENTS).map_err(LogError::from)?;
        // Walk both tables side by side: each header says how many events follow it.
        let mut event_iter = events
            .range((from.0, 0)..=(to.0, u32::MAX))
            .map_err(LogError::from)?;
        // Transactions count from 1 without gaps: anything else is damage.
        let mut expected_tx = Some(TxId(from.0.max(1)));
        for item in txs.range(from.0..=to.0).map_err(LogError::from)? {
            let (k, v) = item.map_err(LogError::from)?;
            let tx = TxId(k.value());
            reading.set(tx);
            if let Some(expected) = expected_tx
                && expected != tx
            {
                return Err(corrupt(expected, None, "transaction missing from the log").into());
            }
            expected_tx = Some(tx.next());
            let header = decode_header(tx, v.value())?;
            visitor.begin_tx(&header)?;
            for index in 0..header.event_count {
                let index = u32::try_from(index)
                    .map_err(|_| corrupt(tx, None, "more events than a transaction holds"))?;
                let (key, value) = match event_iter.next() {
                    Some(item) => item.map_err(LogError::from)?,
                    None => return Err(corrupt(tx, Some(index), "event record missing").into()),
                };
                if key.value() != (tx.0, index) {
                    return Err(corrupt(tx, Some(index), "event record missing").into());
                }
                let event = wire::decode_event(value.value())
                    .map_err(|detail| corrupt(tx, Some(index), &detail))?;
                visitor.event(tx, index, event)?;
            }
            visitor.end_tx(&header)?;
        }
        Ok(())
    }
}

fn corrupt(tx: TxId, index: Option<u32>, detail: &str) -> LogError {
    LogError::Corrupt {
        tx,
        index,
        detail: detail.to_owned(),
    }
}

/// One redb write transaction holding any number of log transactions.
pub struct RedbAppender<'a> {
    log: &'a mut RedbLog,
    /// `None` once committed; dropped under a panic guard otherwise (an abort).
    write: Option<WriteTransaction>,
    next_tx: TxId,
    last_recorded: Option<Timestamp>,
    open: Option<TxHeader>,
    buffer: Vec<((u64, u32), Vec<u8>)>,
    buffer_bytes: usize,
}

impl RedbAppender<'_> {
    fn flush(&mut self) -> Result<(), LogError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let write = self.write.as_ref().ok_or_else(no_open_tx)?;
        let buffer = &mut self.buffer;
        storage_guard(|| {
            let mut events = write.open_table(EVENTS)?;
            for (key, bytes) in buffer.drain(..) {
                events.insert(key, bytes.as_slice())?;
            }
            Ok(())
        })?;
        self.buffer_bytes = 0;
        Ok(())
    }
}

impl Appender for RedbAppender<'_> {
    fn begin_tx(
        &mut self,
        meta: &TxMeta,
        recorded_at: Option<Timestamp>,
    ) -> Result<TxId, LogError> {
        if let Some(open) = &self.open {
            return Err(tx_already_open(open.tx));
        }
        let tx = self.next_tx;
        let recorded_at = next_timestamp(self.last_recorded, recorded_at);
        self.last_recorded = Some(recorded_at);
        self.open = Some(TxHeader {
            tx,
            recorded_at,
            meta: meta.clone(),
            event_count: 0,
        });
        Ok(tx)
    }

    fn append(&mut self, event: &Event) -> Result<(), LogError> {
        let open = self.open.as_mut().ok_or_else(no_open_tx)?;
        let tx = open.tx;
        let index = u32::try_from(open.event_count).map_err(|_| LogError::Encode {
            tx,
            index: u32::MAX,
            detail: "a transaction holds at most 2^32 events".to_owned(),
        })?;
        let bytes =
            wire::encode_event(event).map_err(|detail| LogError::Encode { tx, index, detail })?;
        open.event_count += 1;
        self.buffer_bytes += bytes.len();
        self.buffer.push(((tx.0, index), bytes));
        if self.buffer.len() >= FLUSH_EVENTS || self.buffer_bytes >= FLUSH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn end_tx(&mut self) -> Result<TxHeader, LogError> {
        let open = self.open.take().ok_or_else(no_open_tx)?;
        let header = open;
        let bytes = wire::encode_header(&header).map_err(|detail| LogError::Encode {
            tx: header.tx,
            index: 0,
            detail,
        })?;
        let write = self.write.as_ref().ok_or_else(no_open_tx)?;
        storage_guard(|| {
            write
                .open_table(TXS)?
                .insert(header.tx.0, bytes.as_slice())?;
            Ok(())
        })?;
        self.next_tx = header.tx.next();
        Ok(header)
    }

    fn commit(mut self) -> Result<(), LogError> {
        if let Some(open) = &self.open {
            return Err(tx_already_open(open.tx));
        }
        self.flush()?;
        // Durability::Immediate is redb's default: commit returns after fsync.
        let write = self.write.take().ok_or_else(no_open_tx)?;
        if let Err(e) = storage_guard(|| Ok(write.commit()?)) {
            self.log.poisoned = Some(e.to_string());
            return Err(e);
        }
        self.log.head = TxId(self.next_tx.0 - 1);
        self.log.last_recorded = self.last_recorded;
        Ok(())
    }
}
