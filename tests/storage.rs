//! The redb log: files that are not ours, newer, damaged or locked are refused with a message;
//! commits are fsynced before they are acknowledged; a crash at any write loses nothing
//! acknowledged and leaves nothing half-written.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use diplograph::graph::snapshot::Snapshot;
use diplograph::log::{Log, RedbLog};
use diplograph::{Database, LogError, OpenError, TxId, Value};
use redb::StorageBackend;

fn kb_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("kb.redb");
    let mut db = Database::open_file(&path).unwrap();
    db.commit(meta("sources"), vec![source("s1")]).unwrap();
    for i in 0..20 {
        db.commit(
            meta("nodes"),
            vec![node(
                &format!("n{i}"),
                "Actor",
                &[("name", Value::str("x"))],
                "2000/..",
                &["s1"],
            )],
        )
        .unwrap();
    }
    path
}

fn open_err(path: &std::path::Path) -> String {
    match Database::open_file(path) {
        Ok(_) => panic!("{} should be refused", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_new_file_becomes_an_empty_knowledge_base_that_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = kb_file(&dir);
    let db = Database::open_file(&path).unwrap();
    assert_eq!(db.tx(), TxId(21));
    assert_eq!(db.view().nodes().count(), 21);
}

#[test]
fn a_foreign_file_is_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    let text = "Banten, Incheon, 2007-02-06\n".repeat(200);
    std::fs::write(&path, &text).unwrap();
    let msg = open_err(&path);
    assert!(msg.contains("is not a diplograph knowledge base"), "{msg}");
    assert!(msg.contains("notes.txt"), "{msg}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "left as it was"
    );
}

#[test]
fn a_redb_file_of_another_program_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.redb");
    {
        let db = redb::Database::create(&path).unwrap();
        let w = db.begin_write().unwrap();
        {
            let mut t = w
                .open_table(redb::TableDefinition::<&str, u64>::new("inventory"))
                .unwrap();
            t.insert("apples", &3).unwrap();
        }
        w.commit().unwrap();
    }
    let msg = open_err(&path);
    assert!(msg.contains("redb database with other tables"), "{msg}");
}

#[test]
fn a_file_from_a_newer_diplograph_is_refused_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let path = kb_file(&dir);
    {
        let db = redb::Database::open(&path).unwrap();
        let w = db.begin_write().unwrap();
        {
            let mut meta = w
                .open_table(redb::TableDefinition::<&str, &[u8]>::new("meta"))
                .unwrap();
            meta.insert("format", &99u32.to_le_bytes()[..]).unwrap();
        }
        w.commit().unwrap();
    }
    match Database::open_file(&path) {
        Err(OpenError::Log(LogError::NewerFormat {
            found: 99,
            supported: 2,
            ..
        })) => {}
        other => panic!("expected NewerFormat, got {other:?}"),
    }
}

#[test]
fn a_file_open_elsewhere_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = kb_file(&dir);
    let _held = Database::open_file(&path).unwrap();
    let msg = open_err(&path);
    assert!(msg.contains("already open"), "{msg}");
}

#[test]
fn a_damaged_file_is_an_error_or_a_consistent_prefix_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = kb_file(&dir);
    let pristine = std::fs::read(&path).unwrap();
    let damaged = dir.path().join("damaged.redb");
    let mut outcomes = (0, 0);
    for offset in (0..pristine.len()).step_by(pristine.len() / 251 + 1) {
        let mut bytes = pristine.clone();
        for b in &mut bytes[offset..(offset + 64).min(pristine.len())] {
            *b ^= 0xA5;
        }
        std::fs::write(&damaged, &bytes).unwrap();
        // Open, read everything, try to write, close: errors are fine, panics are not.
        let result = std::panic::catch_unwind(|| {
            Database::open_file(&damaged).map(|mut db| {
                let tx = db.tx();
                let _ = diplograph::graph::snapshot::Stats::of(&db.view());
                let _ = db.commit(meta("after damage"), vec![source("s9")]);
                tx
            })
        });
        match result {
            Ok(Ok(tx)) => {
                assert!(tx <= TxId(21));
                outcomes.0 += 1;
            }
            Ok(Err(e)) => {
                assert!(!e.to_string().is_empty());
                outcomes.1 += 1;
            }
            Err(_) => panic!("opening a file damaged at byte {offset} panicked"),
        }
    }
    assert!(outcomes.1 > 0, "some damage must be detected: {outcomes:?}");
}

/// A redb backend on shared bytes, which can fail every write after a budget and counts
/// fsyncs. Dropping the database and reopening the bytes simulates a crash.
#[derive(Debug, Clone)]
struct SharedBackend {
    bytes: Arc<Mutex<Vec<u8>>>,
    budget: Arc<AtomicU64>,
    syncs: Arc<AtomicU64>,
}

impl SharedBackend {
    fn new(bytes: &Arc<Mutex<Vec<u8>>>, budget: u64) -> SharedBackend {
        SharedBackend {
            bytes: Arc::clone(bytes),
            budget: Arc::new(AtomicU64::new(budget)),
            syncs: Arc::new(AtomicU64::new(0)),
        }
    }

    fn charge(&self) -> std::io::Result<()> {
        let left = self.budget.load(Ordering::SeqCst);
        if left == 0 {
            return Err(std::io::Error::other("injected write failure"));
        }
        self.budget.store(left - 1, Ordering::SeqCst);
        Ok(())
    }
}

impl StorageBackend for SharedBackend {
    fn len(&self) -> std::io::Result<u64> {
        Ok(self.bytes.lock().unwrap().len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        let bytes = self.bytes.lock().unwrap();
        let start = offset as usize;
        let src = bytes
            .get(start..start + out.len())
            .ok_or_else(|| std::io::Error::other("read past the end"))?;
        out.copy_from_slice(src);
        Ok(())
    }

    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.charge()?;
        self.bytes.lock().unwrap().resize(len as usize, 0);
        Ok(())
    }

    fn sync_data(&self) -> std::io::Result<()> {
        self.charge()?;
        self.syncs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.charge()?;
        let mut bytes = self.bytes.lock().unwrap();
        let start = offset as usize;
        if bytes.len() < start + data.len() {
            bytes.resize(start + data.len(), 0);
        }
        bytes[start..start + data.len()].copy_from_slice(data);
        Ok(())
    }
}

fn batch(i: usize) -> Vec<diplograph::Event> {
    vec![
        node(
            &format!("a{i}"),
            "Actor",
            &[("name", Value::str("A"))],
            "2000/..",
            &["s1"],
        ),
        node(&format!("b{i}"), "Agreement", &[], "2007-02-06/..", &["s1"]),
        edge(
            &format!("e{i}"),
            "PARTY_TO",
            &format!("a{i}"),
            &format!("b{i}"),
            "../..",
            &[],
        ),
    ]
}

#[test]
fn every_commit_is_fsynced_before_it_is_acknowledged() {
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let backend = SharedBackend::new(&bytes, u64::MAX);
    let syncs = Arc::clone(&backend.syncs);
    let mut db = Database::open(RedbLog::with_backend(backend, "memory").unwrap()).unwrap();
    db.commit(meta("sources"), vec![source("s1")]).unwrap();
    for i in 0..5 {
        let before = syncs.load(Ordering::SeqCst);
        db.commit(meta("batch"), batch(i)).unwrap();
        assert!(
            syncs.load(Ordering::SeqCst) > before,
            "commit {i} returned without fsync"
        );
    }
}

#[test]
fn a_crash_at_any_write_keeps_every_acknowledged_transaction_and_no_partial_one() {
    let mut failures_seen = 0;
    for budget in 0..160 {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        {
            let log = RedbLog::with_backend(SharedBackend::new(&bytes, u64::MAX), "m").unwrap();
            let mut db = Database::open(log).unwrap();
            db.commit(meta("sources"), vec![source("s1")]).unwrap();
        }
        let mut acknowledged = Vec::new();
        let mut in_doubt = None;
        if let Ok(log) = RedbLog::with_backend(SharedBackend::new(&bytes, budget), "m")
            && let Ok(mut db) = Database::open(log)
        {
            acknowledged.push(Snapshot::of(&db.view()));
            for i in 0..6 {
                match db.commit(meta("batch"), batch(i)) {
                    Ok(_) => acknowledged.push(Snapshot::of(&db.view())),
                    Err(_) => {
                        // Not acknowledged: it may or may not have reached the disk.
                        let mut kb = Database::open(diplograph::log::MemoryLog::new()).unwrap();
                        kb.commit(meta("sources"), vec![source("s1")]).unwrap();
                        for j in 0..=i {
                            kb.commit(meta("batch"), batch(j)).unwrap();
                        }
                        in_doubt = Some(Snapshot::of(&kb.view()));
                        failures_seen += 1;
                        break;
                    }
                }
            }
        } // the crash: everything in memory is dropped
        let log = RedbLog::with_backend(SharedBackend::new(&bytes, u64::MAX), "m")
            .unwrap_or_else(|e| panic!("budget {budget}: cannot reopen after the crash: {e}"));
        let recovered = Snapshot::of(&Database::open(log).unwrap().view());
        let expected = acknowledged.last().cloned().unwrap_or_else(|| {
            let mut kb = Database::open(diplograph::log::MemoryLog::new()).unwrap();
            kb.commit(meta("sources"), vec![source("s1")]).unwrap();
            Snapshot::of(&kb.view())
        });
        assert!(
            recovered == expected || Some(&recovered) == in_doubt.as_ref(),
            "budget {budget}: recovered {} nodes, expected {}",
            recovered.nodes.len(),
            expected.nodes.len()
        );
    }
    assert!(
        failures_seen > 10,
        "the budget range must hit commits: {failures_seen}"
    );
}

#[test]
fn an_empty_file_becomes_a_knowledge_base() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.redb");
    std::fs::File::create(&path).unwrap().flush().unwrap();
    let db = Database::open_file(&path).unwrap();
    assert_eq!(db.tx(), TxId(0));
    assert_eq!(db.log().head(), TxId(0));
}

/// One transaction bigger than a run (64 KiB of records) is stored as several runs inside
/// one redb write, replays as one transaction, and when its last event is refused, none of
/// its earlier runs survive.
#[test]
fn a_transaction_larger_than_a_run_lands_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.redb");
    let n = 40_000;
    {
        let mut db = Database::open_file(&path).unwrap();
        db.commit(meta("sources"), vec![source("s1")]).unwrap();
        let refused = db.write(|w| {
            w.begin_tx(&meta("too big, and wrong at the end"), None)?;
            for i in 0..n {
                w.append(node(&format!("n{i}"), "Actor", &[], "2000/..", &["s1"]))?;
            }
            w.append(edge("e", "T", "n0", "nowhere", "../..", &[]))?;
            w.end_tx().map(|_| ())
        });
        assert!(refused.is_err());
        assert_eq!(db.tx(), TxId(1));
        assert_eq!(db.view().nodes().count(), 1);
        db.write(|w| {
            w.begin_tx(&meta("big"), None)?;
            for i in 0..n {
                w.append(node(&format!("n{i}"), "Actor", &[], "2000/..", &["s1"]))?;
            }
            w.end_tx().map(|_| ())
        })
        .unwrap();
    }
    let db = Database::open_file(&path).unwrap();
    assert_eq!(db.tx(), TxId(2));
    assert_eq!(db.graph().headers()[1].event_count, n as u64);
    assert_eq!(db.view().nodes().count(), n + 1);
    for i in [0, 1, n / 2, n - 1] {
        assert!(db.view().node(&format!("n{i}")).is_some(), "n{i}");
    }
    drop(db);
    let firsts: Vec<u32> = raw_rows(&path, RUNS)
        .into_iter()
        .filter(|((tx, _), _)| *tx == 2)
        .map(|((_, first), _)| first)
        .collect();
    assert!(firsts.len() > 10, "{} runs", firsts.len());
    assert_eq!(firsts[0], 0);
    assert!(firsts.windows(2).all(|w| w[0] < w[1]));
    assert!(
        raw_rows(&path, EVENTS).is_empty(),
        "nothing is stored one by one"
    );
}

const RUNS: redb::TableDefinition<(u64, u32), &[u8]> = redb::TableDefinition::new("runs");
const EVENTS: redb::TableDefinition<(u64, u32), &[u8]> = redb::TableDefinition::new("events");

/// Every row of a table keyed by (tx, index), read with redb directly.
fn raw_rows(
    path: &std::path::Path,
    table: redb::TableDefinition<(u64, u32), &[u8]>,
) -> Vec<((u64, u32), Vec<u8>)> {
    use redb::{ReadableDatabase, ReadableTable};
    let db = redb::Database::open(path).unwrap();
    let read = db.begin_read().unwrap();
    let t = read.open_table(table).unwrap();
    t.iter()
        .unwrap()
        .map(|item| {
            let (k, v) = item.unwrap();
            (k.value(), v.value().to_vec())
        })
        .collect()
}

/// Replaces (or with `None`, deletes) one row of the runs table, with redb directly.
fn set_run(path: &std::path::Path, key: (u64, u32), bytes: Option<&[u8]>) {
    set_row(path, RUNS, key, bytes);
}

fn set_row(
    path: &std::path::Path,
    table: redb::TableDefinition<(u64, u32), &[u8]>,
    key: (u64, u32),
    bytes: Option<&[u8]>,
) {
    let db = redb::Database::open(path).unwrap();
    let w = db.begin_write().unwrap();
    {
        let mut t = w.open_table(table).unwrap();
        match bytes {
            Some(bytes) => t.insert(key, bytes).unwrap(),
            None => t.remove(key).unwrap(),
        };
    }
    w.commit().unwrap();
}

/// A run is a version byte, a count, then length-prefixed records. Each way of damaging one
/// is refused at open, naming the transaction and the event, and leaves every record as it was.
#[test]
fn a_damaged_run_is_refused_naming_its_transaction_and_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = kb_file(&dir);
    {
        let mut db = Database::open_file(&path).unwrap();
        let five = (0..5)
            .map(|i| node(&format!("m{i}"), "Actor", &[], "2000/..", &["s1"]))
            .collect();
        db.commit(meta("five"), five).unwrap();
    }
    let (key, pristine) = raw_rows(&path, RUNS).pop().unwrap();
    assert_eq!(key, (22, 0), "the last run is the five events of tx 22");
    assert_eq!(pristine[0], 1, "run version");
    assert_eq!(pristine[1..5], 5u32.to_le_bytes());
    // Where each record starts, after its 4-byte length.
    let mut starts = Vec::new();
    let mut at = 5;
    while at < pristine.len() {
        let len = u32::from_le_bytes(pristine[at..at + 4].try_into().unwrap()) as usize;
        starts.push(at + 4);
        at += 4 + len;
    }
    assert_eq!(starts.len(), 5);
    assert_eq!(at, pristine.len());
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = pristine.clone();
        f(&mut bytes);
        Some(bytes)
    };
    let cases: [(&str, Option<Vec<u8>>, u32, &str); 10] = [
        (
            "newer version",
            with(&|b| b[0] = 9),
            0,
            "run format 9 is newer",
        ),
        ("empty", Some(Vec::new()), 0, "empty run"),
        ("count too big", with(&|b| b[1] = 6), 0, "a run of 6 events"),
        ("count zero", with(&|b| b[1] = 0), 0, "a run of 0 events"),
        ("count too small", with(&|b| b[1] = 3), 2, "bytes after"),
        (
            "cut short",
            with(&|b| b.truncate(b.len() - 3)),
            4,
            "cut short",
        ),
        (
            "cut in a length",
            with(&|b| b.truncate(starts[2] - 2)),
            2,
            "cut short",
        ),
        ("a byte too many", with(&|b| b.push(0)), 4, "bytes after"),
        (
            "bad record",
            with(&|b| b[starts[3]] = 77),
            3,
            "record format 77",
        ),
        ("missing", None, 0, "event record missing"),
    ];
    for (what, bytes, index, detail) in cases {
        let damaged = dir.path().join("damaged.redb");
        std::fs::copy(&path, &damaged).unwrap();
        set_run(&damaged, key, bytes.as_deref());
        let before = (raw_rows(&damaged, RUNS), raw_rows(&damaged, EVENTS));
        match Database::open_file(&damaged) {
            Err(OpenError::Log(LogError::Corrupt {
                tx,
                index: i,
                detail: d,
            })) => {
                assert_eq!((tx, i), (TxId(22), Some(index)), "{what}: {d}");
                assert!(d.contains(detail), "{what}: {d}");
            }
            Err(e) => panic!("{what}: expected Corrupt, got {e}"),
            Ok(_) => panic!("{what}: opened"),
        }
        let after = (raw_rows(&damaged, RUNS), raw_rows(&damaged, EVENTS));
        assert!(after == before, "{what}: a record changed");
    }
    // A record past the header's count (a run or a single event) is this transaction's
    // damage, not reported as the next one's.
    let one_event = pristine[starts[0]..starts[1] - 4].to_vec();
    let mut run = vec![1, 1, 0, 0, 0];
    run.extend_from_slice(&(one_event.len() as u32).to_le_bytes());
    run.extend_from_slice(&one_event);
    let whole = {
        let damaged = dir.path().join("whole.redb");
        std::fs::copy(&path, &damaged).unwrap();
        set_run(&damaged, (21, 1), Some(&run));
        damaged
    };
    for (what, table, bytes, at) in [
        ("a run beyond", RUNS, &run, (22, 5)),
        ("a single beyond", EVENTS, &one_event, (22, 5)),
    ] {
        let damaged = dir.path().join("beyond.redb");
        std::fs::copy(&path, &damaged).unwrap();
        set_row(&damaged, table, at, Some(bytes));
        match Database::open_file(&damaged) {
            Err(OpenError::Log(LogError::Corrupt { tx, index, detail })) => {
                assert_eq!((tx, index), (TxId(22), Some(5)), "{what}: {detail}");
                assert!(
                    detail.contains("beyond the transaction's 5 events"),
                    "{detail}"
                );
            }
            other => panic!("{what}: expected Corrupt, got {:?}", other.map(|_| ())),
        }
    }
    // A run of tx 21 (one event) after its only one: named as tx 21's.
    match Database::open_file(&whole) {
        Err(OpenError::Log(LogError::Corrupt { tx, index, .. })) => {
            assert_eq!((tx, index), (TxId(21), Some(1)));
        }
        other => panic!("expected Corrupt, got {:?}", other.map(|_| ())),
    }
}
