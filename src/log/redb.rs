//! The real log: one redb file per knowledge base.
//!
//! Tables:
//! - `meta`: `magic` = `diplograph-log`; `format` = the newest layout the file holds (see
//!   [`LOG_FORMAT`]); `run_events` = how many events its runs hold (a hint for replay).
//! - `txs`: `tx → header record`.
//! - `runs`: `(tx, first index) → run`: a run of consecutive events of one transaction. A run
//!   is a version byte ([`RUN_VERSION`]), the number of events (u32, little-endian), then
//!   each event record prefixed by its length (u32, little-endian). This build writes here.
//! - `events`: `(tx, index) → event record`, one event per row: format 1 files, read still.
//!
//! Each event record is [`wire`]'s: its own version byte, then MessagePack. Storing a run of
//! them per row keeps the B-tree a few hundred times smaller than one row per event, which
//! cost more than a quarter of a bulk import's time.
//!
//! Every commit is durable (fsynced) before it returns. A file that is not redb, is redb but
//! not ours, or was written by a newer format is refused at open with a message.

use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};

use redb::{
    AccessGuard, Database, DatabaseError, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    StorageBackend, StorageError, TableDefinition, TableError, WriteTransaction,
};

use super::{Appender, Log, LogVisitor, next_timestamp, no_open_tx, tx_already_open};
use crate::error::LogError;
use crate::event::wire;
use crate::event::{TxHeader, TxMeta};
use crate::time::{Timestamp, TxId};

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const TXS: TableDefinition<u64, &[u8]> = TableDefinition::new("txs");
const EVENTS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("events");
const RUNS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("runs");

/// The file layout this build writes, kept in `meta` as `format`: 1 stored one event record
/// per row of `events`; 2 adds `runs`, where this build writes. Event records are version 1
/// ([`wire::FORMAT_VERSION`]) in both; a new record version needs a new format too. A file
/// written by format 1 is upgraded to 2 by the first commit that writes a run to it, so a
/// build that knows only format 1 refuses it instead of missing those events.
pub const LOG_FORMAT: u32 = 2;

/// The layout of a run record (its first byte).
pub const RUN_VERSION: u8 = 1;
/// A run is stored before it would outgrow this many bytes (an event larger than that is a
/// run of its own), and at the end of its transaction. Runs stored once they had passed
/// 64 KiB made the scale-1 workload's file 85 MB, runs kept just under it 51 MB (one row per
/// event: 68 MB); the key and a page header sit beside the value in redb's pages.
const RUN_BYTES: usize = (64 << 10) - 512;
/// The bytes before a run's first record: version and count.
const RUN_HEAD: usize = 5;

const MAGIC: &[u8] = b"diplograph-log";

/// A log in a redb file.
pub struct RedbLog {
    // Dropped by hand, under a panic guard: see `Drop for RedbLog`.
    db: ManuallyDrop<Database>,
    path: PathBuf,
    head: TxId,
    last_recorded: Option<Timestamp>,
    /// The layout the file declares (`meta.format`).
    format: u32,
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
            format: LOG_FORMAT,
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
                if format > LOG_FORMAT {
                    return Err(LogError::NewerFormat {
                        path: log.path.clone(),
                        found: format,
                        supported: LOG_FORMAT,
                    });
                }
                log.format = format;
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
            meta.insert("format", &LOG_FORMAT.to_le_bytes()[..])?;
            write.open_table(TXS)?;
            write.open_table(EVENTS)?;
            write.open_table(RUNS)?;
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
            run: Vec::new(),
            run_first: 0,
            run_events: 0,
        })
    }

    fn event_count_hint(&self) -> Option<u64> {
        storage_guard(|| {
            let read = self.db.begin_read()?;
            let singles = read.open_table(EVENTS)?.len()?;
            let in_runs = read_u64(&read.open_table(META)?, "run_events")?;
            Ok(singles.saturating_add(in_runs.unwrap_or(0)))
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
        // A format 1 file has no runs until its first commit by this build.
        let runs = match read.open_table(RUNS) {
            Ok(t) => Some(t),
            Err(TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(LogError::from(e).into()),
        };
        let keys = (from.0, 0)..=(to.0, u32::MAX);
        // Walk the tables side by side: each header says how many events follow it, and
        // each of them is in a run starting at its index or alone in `events`.
        let mut singles = events
            .range(keys.clone())
            .map_err(LogError::from)?
            .peekable();
        let mut runs = match &runs {
            Some(t) => Some(t.range(keys).map_err(LogError::from)?.peekable()),
            None => None,
        };
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
            let count = u32::try_from(header.event_count)
                .map_err(|_| corrupt(tx, None, "more events than a transaction holds"))?;
            let mut index = 0u32;
            while index < count {
                let run = runs.as_mut().and_then(|runs| {
                    runs.next_if(|item| {
                        item.as_ref()
                            .map_or(true, |(key, _)| key.value() == (tx.0, index))
                    })
                });
                if let Some(item) = run {
                    let (_, value) = item.map_err(LogError::from)?;
                    index = read_run(tx, index, count, value.value(), visitor)?;
                    continue;
                }
                let (key, value) = match singles.next() {
                    Some(item) => item.map_err(LogError::from)?,
                    None => return Err(corrupt(tx, Some(index), "event record missing").into()),
                };
                if key.value() != (tx.0, index) {
                    return Err(corrupt(tx, Some(index), "event record missing").into());
                }
                let event = wire::decode_event(value.value())
                    .map_err(|detail| corrupt(tx, Some(index), &detail))?;
                visitor.event(tx, index, event)?;
                index += 1;
            }
            // A record left after the header's count is damage of this transaction.
            let stray =
                index_in(tx, singles.peek()).or_else(|| index_in(tx, runs.as_mut()?.peek()));
            if let Some(at) = stray {
                return Err(corrupt(
                    tx,
                    Some(at),
                    &format!("a record beyond the transaction's {count} events"),
                )
                .into());
            }
            visitor.end_tx(&header)?;
        }
        Ok(())
    }
}

/// A row of `runs` or `events`, as their iterators give it.
type Row<'a> = Result<(AccessGuard<'a, (u64, u32)>, AccessGuard<'a, &'static [u8]>), StorageError>;

/// The index of the row an iterator gives next, if that row belongs to `tx`.
fn index_in(tx: TxId, next: Option<&Row<'_>>) -> Option<u32> {
    let (key, _) = next?.as_ref().ok()?;
    let (t, index) = key.value();
    (t == tx.0).then_some(index)
}

/// Hands the events of a run starting at `first` in a transaction of `count` events to
/// `visitor`, and returns the index after its last.
fn read_run<V: LogVisitor>(
    tx: TxId,
    first: u32,
    count: u32,
    bytes: &[u8],
    visitor: &mut V,
) -> Result<u32, V::Error> {
    let damaged =
        |index: u32, detail: &str| -> V::Error { corrupt(tx, Some(index), detail).into() };
    let (&version, rest) = bytes
        .split_first()
        .ok_or_else(|| damaged(first, "empty run of events"))?;
    if version != RUN_VERSION {
        let detail = if version > RUN_VERSION {
            format!("run format {version} is newer than this build reads (up to {RUN_VERSION})")
        } else {
            format!("unknown run format {version} (this build reads format {RUN_VERSION})")
        };
        return Err(damaged(first, &detail));
    }
    let (n, mut rest) = split_u32(rest).ok_or_else(|| damaged(first, "run of events cut short"))?;
    let end = first
        .checked_add(n)
        .filter(|&end| n > 0 && end <= count)
        .ok_or_else(|| {
            damaged(
                first,
                &format!("a run of {n} events at index {first} of a transaction of {count}"),
            )
        })?;
    for index in first..end {
        let (len, after) =
            split_u32(rest).ok_or_else(|| damaged(index, "run of events cut short"))?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > after.len() {
            return Err(damaged(index, "run of events cut short"));
        }
        let (record, after) = after.split_at(len);
        let event = wire::decode_event(record).map_err(|detail| damaged(index, &detail))?;
        visitor.event(tx, index, event)?;
        rest = after;
    }
    if !rest.is_empty() {
        return Err(damaged(end - 1, "bytes after the last event of a run"));
    }
    Ok(end)
}

fn set_run_count(run: &mut [u8], count: u32) {
    run[1..RUN_HEAD].copy_from_slice(&count.to_le_bytes());
}

fn split_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*head), rest))
}

fn read_u64(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<u64>, LogError> {
    Ok(meta
        .get(key)?
        .and_then(|v| <[u8; 8]>::try_from(v.value()).ok())
        .map(u64::from_le_bytes))
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
    /// The open transaction's run being filled, and the index of its first event.
    run: Vec<u8>,
    run_first: u32,
    /// Events stored in runs by this write transaction.
    run_events: u64,
}

impl RedbAppender<'_> {
    /// Stores the run being filled, if it holds any event.
    fn store_run(&mut self, tx: TxId) -> Result<(), LogError> {
        if self.run.is_empty() {
            return Ok(());
        }
        let write = self.write.as_ref().ok_or_else(no_open_tx)?;
        let (run, first) = (&self.run, self.run_first);
        storage_guard(|| {
            write
                .open_table(RUNS)?
                .insert((tx.0, first), run.as_slice())?;
            Ok(())
        })?;
        self.run.clear();
        Ok(())
    }

    /// Upgrades a format 1 file and counts the events stored in runs, within the write.
    fn update_meta(&self, write: &WriteTransaction) -> Result<(), LogError> {
        if self.run_events == 0 {
            return Ok(());
        }
        let mut meta = write.open_table(META)?;
        let before = read_u64(&meta, "run_events")?.unwrap_or(0);
        let after = before.saturating_add(self.run_events);
        meta.insert("run_events", &after.to_le_bytes()[..])?;
        if self.log.format < LOG_FORMAT {
            meta.insert("format", &LOG_FORMAT.to_le_bytes()[..])?;
        }
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

    fn append(&mut self, record: &[u8]) -> Result<(), LogError> {
        let open = self.open.as_mut().ok_or_else(no_open_tx)?;
        let tx = open.tx;
        let index = u32::try_from(open.event_count)
            .ok()
            .filter(|&i| i < u32::MAX)
            .ok_or_else(|| LogError::Encode {
                tx,
                index: u32::MAX,
                detail: "a transaction holds fewer than 2^32 events".to_owned(),
            })?;
        let len = u32::try_from(record.len()).map_err(|_| LogError::Encode {
            tx,
            index,
            detail: "an event of 4 GiB or more".to_owned(),
        })?;
        let run = &mut self.run;
        if run.is_empty() {
            run.extend_from_slice(&[RUN_VERSION, 0, 0, 0, 0]);
            self.run_first = index;
        }
        let at = run.len();
        run.extend_from_slice(&len.to_le_bytes());
        run.extend_from_slice(record);
        open.event_count += 1;
        self.run_events += 1;
        if run.len() > RUN_BYTES && index > self.run_first {
            // Too big with this event: store the run without it, which starts the next.
            let last = run.split_off(at);
            set_run_count(run, index - self.run_first);
            self.store_run(tx)?;
            self.run.extend_from_slice(&[RUN_VERSION, 0, 0, 0, 0]);
            self.run.extend_from_slice(&last);
            self.run_first = index;
        }
        set_run_count(&mut self.run, index - self.run_first + 1);
        Ok(())
    }

    fn end_tx(&mut self) -> Result<TxHeader, LogError> {
        let tx = self.open.as_ref().ok_or_else(no_open_tx)?.tx;
        self.store_run(tx)?;
        let header = self.open.take().ok_or_else(no_open_tx)?;
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
        // Durability::Immediate is redb's default: commit returns after fsync.
        let write = self.write.take().ok_or_else(no_open_tx)?;
        let committed = storage_guard(|| {
            self.update_meta(&write)?;
            Ok(write.commit()?)
        });
        if let Err(e) = committed {
            self.log.poisoned = Some(e.to_string());
            return Err(e);
        }
        self.log.head = TxId(self.next_tx.0 - 1);
        self.log.last_recorded = self.last_recorded;
        if self.run_events > 0 {
            self.log.format = LOG_FORMAT;
        }
        Ok(())
    }
}
