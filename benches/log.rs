//! Log benchmarks on a synthetic 1,000,000-event knowledge base in a redb file.
//!
//! - `replay`: open the file and build the full projection (`Database::open_file`).
//! - `floor`: open the file and read + decode every event, building nothing: the lower bound
//!   any replay pays.
//! - `bulk_append`: write 1,000,000 events (~1,000 log transactions) into a fresh file in one
//!   `Database::write` call: validation, encoding, projection and one durable redb commit.
//! - `small_tx_latency`: one durable `Database::commit` of a node and an edge on a knowledge
//!   base that already holds some data.
//!
//! After `replay`, a memory report prints the resident memory (and the heap bytes, from a
//! counting allocator) before and after building one projection of the 1M-event log.
//!
//! The shared file is built once per process, in a temporary directory, and read warm (it is
//! in the page cache): `replay` and `floor` measure CPU, not the disk.
//!
//! Run with `cargo bench --bench log`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group};
use diplograph::event::{Event, Name, Names, Props, Target, TxHeader, TxMeta};
use diplograph::log::{Log, LogVisitor, RedbLog};
use diplograph::time::{Bound, Date, TxId, ValidTime};
use diplograph::value::Value;
use diplograph::{CommitError, Database, LogError};
use tempfile::TempDir;

/// Events in the big synthetic log.
const EVENTS: usize = 1_000_000;
/// Seed of the big synthetic log.
const SEED: u64 = 0x5eed_d1b1_06a4;
/// Events per log transaction.
const TX_EVENTS: usize = 1_000;
/// Source nodes, all added by the first transaction.
const SOURCES: usize = 50;
/// Log transactions per storage commit when building the shared file.
const BUILD_BATCH_TXS: usize = 200;

// ---------------------------------------------------------------------------------------------
// A deterministic generator.

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Never zero; mix the seed a little so nearby seeds diverge.
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() >> 32) as usize % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }

    fn year(&mut self) -> i32 {
        1950 + self.below(70) as i32
    }
}

const ACTOR_KINDS: &[&str] = &[
    "region",
    "province",
    "city",
    "state",
    "municipality",
    "county",
];
const AGREEMENT_KINDS: &[&str] = &["mou", "treaty", "declaration", "protocol", "partnership"];
const PLACES: &[&str] = &[
    "Quebec",
    "Flanders",
    "Catalonia",
    "Bavaria",
    "Wallonia",
    "Scotland",
    "Jalisco",
    "Ontario",
    "Lombardy",
    "Guangdong",
    "Kyoto",
    "Gauteng",
    "Sao Paulo",
    "Victoria",
    "Tyrol",
    "Alsace",
];
const ROLES: &[&str] = &["signatory", "party", "observer", "guarantor"];
const SCOPES: &[&str] = &["economic", "cultural", "education", "environment", "health"];
const CHANNELS: &[&str] = &["twinning", "delegation", "network", "joint-commission"];
const STAGES: &[&str] = &["signed", "ratified", "in_force", "suspended", "expired"];

fn source_key(i: usize) -> Name {
    Name::new(format!("src-{i:02}"))
}

fn year(y: i32) -> Date {
    Date::from_year(y).expect("a year in range")
}

/// `Y-M-D/..` or `Y1/Y2` (year precision), half and half.
fn valid_time(rng: &mut Rng, start: i32) -> ValidTime {
    if rng.below(2) == 0 {
        let day = Date::from_ymd(start, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32)
            .expect("a real day");
        ValidTime::since(day)
    } else {
        let end = start + rng.below(12) as i32;
        ValidTime::new(Bound::Date(year(start)), Bound::Date(year(end))).expect("ordered")
    }
}

/// One or two citation keys of the Source nodes.
fn cite(rng: &mut Rng, max: usize) -> Names {
    let n = 1 + rng.below(max);
    let first = rng.below(SOURCES);
    (0..n)
        .map(|k| source_key((first + k * 7) % SOURCES))
        .collect()
}

fn props(items: Vec<(&str, Value)>) -> Props {
    items.into_iter().map(|(k, v)| (Name::new(k), v)).collect()
}

struct GenState {
    rng: Rng,
    actors: Vec<Name>,
    agreements: Vec<(Name, i32)>,
    edges: Vec<Name>,
}

impl GenState {
    fn node(&mut self) -> Event {
        let rng = &mut self.rng;
        let y = rng.year();
        let valid = valid_time(rng, y);
        let sources = cite(rng, 2);
        // About 60% actors, 40% agreements, and at least one of each early on.
        let actor = if self.actors.is_empty() {
            true
        } else if self.agreements.is_empty() {
            false
        } else {
            rng.below(5) < 3
        };
        if actor {
            let n = self.actors.len();
            let id: Name = Name::new(format!("actor-{n}"));
            let place = rng.pick_str(PLACES);
            let kind = rng.pick_str(ACTOR_KINDS);
            self.actors.push(Name::clone(&id));
            Event::NodeAdded {
                id,
                labels: vec!["Actor".into()].into(),
                props: props(vec![
                    ("name", Value::str(&format!("{place} {kind} {n}"))),
                    ("kind", Value::str(kind)),
                    ("year", Value::Int(i64::from(y))),
                ]),
                valid,
                sources,
            }
        } else {
            let n = self.agreements.len();
            let id: Name = Name::new(format!("agr-{n}"));
            let kind = rng.pick_str(AGREEMENT_KINDS);
            let place = rng.pick_str(PLACES);
            self.agreements.push((Name::clone(&id), y));
            Event::NodeAdded {
                id,
                labels: vec!["Agreement".into()].into(),
                props: props(vec![
                    ("name", Value::str(&format!("{place} {kind} no. {n}"))),
                    ("kind", Value::str(kind)),
                    ("year", Value::Int(i64::from(y))),
                ]),
                valid,
                sources,
            }
        }
    }

    fn edge(&mut self) -> Event {
        let rng = &mut self.rng;
        let n = self.edges.len();
        let id: Name = Name::new(format!("e-{n}"));
        self.edges.push(Name::clone(&id));
        let y = rng.year();
        let valid = valid_time(rng, y);
        let sources = cite(rng, 1);
        let (rel_type, from, to, props) = match rng.below(20) {
            // 60%: an actor is party to an agreement.
            0..12 => (
                "PARTY_TO",
                Name::clone(rng.pick(&self.actors)),
                Name::clone(&rng.pick(&self.agreements).0),
                props(vec![("role", Value::str(rng.pick_str(ROLES)))]),
            ),
            // 25%: an agreement covers an actor (a territory), in some domain.
            12..17 => (
                "COVERS",
                Name::clone(&rng.pick(&self.agreements).0),
                Name::clone(rng.pick(&self.actors)),
                props(vec![
                    ("scope", Value::str(rng.pick_str(SCOPES))),
                    ("weight", Value::Int(1 + rng.below(10) as i64)),
                ]),
            ),
            // 15%: two actors cooperate.
            _ => (
                "COOPERATES_WITH",
                Name::clone(rng.pick(&self.actors)),
                Name::clone(rng.pick(&self.actors)),
                props(vec![
                    ("channel", Value::str(rng.pick_str(CHANNELS))),
                    ("since", Value::Int(i64::from(y))),
                ]),
            ),
        };
        Event::EdgeAdded {
            id,
            rel_type: Name::new(rel_type),
            from,
            to,
            props,
            valid,
            sources,
        }
    }

    fn set(&mut self) -> Event {
        let rng = &mut self.rng;
        let sources = cite(rng, 2);
        if rng.below(5) < 4 || self.edges.is_empty() {
            // An agreement reaches a stage, valid from a later year.
            let (id, y) = rng.pick(&self.agreements);
            Event::PropertiesSet {
                target: Target::Node(Name::clone(id)),
                props: props(vec![("stage", Value::str(rng.pick_str(STAGES)))]),
                valid: ValidTime::since(year(y + 1 + rng.below(6) as i32)),
                sources,
            }
        } else {
            let id = Name::clone(rng.pick(&self.edges));
            let y = rng.year();
            Event::PropertiesSet {
                target: Target::Edge(id),
                props: props(vec![("weight", Value::Int(1 + rng.below(10) as i64))]),
                valid: ValidTime::since(year(y)),
                sources,
            }
        }
    }
}

/// A deterministic synthetic log of exactly `n` events: one transaction of the Source nodes
/// (`min(n, 50)` events), then transactions of 1,000 events, about 35% `NodeAdded` (actors
/// and agreements), 55% `EdgeAdded` and 10% `PropertiesSet`. Every reference resolves, so
/// the whole log passes validation.
fn synthetic_events(n: usize, seed: u64) -> Vec<(TxMeta, Vec<Event>)> {
    let mut txs = Vec::with_capacity(n / TX_EVENTS + 2);
    let sources = n.min(SOURCES);
    txs.push((
        TxMeta {
            author: Some("bench".to_owned()),
            message: Some("sources".to_owned()),
        },
        (0..sources)
            .map(|i| {
                let key = source_key(i);
                Event::NodeAdded {
                    id: Name::new(&key),
                    labels: vec!["Source".into()].into(),
                    props: props(vec![
                        ("key", Value::str(&key)),
                        ("title", Value::str(&format!("Synthetic source number {i}"))),
                    ]),
                    valid: ValidTime::ALWAYS,
                    sources: Names::new(),
                }
            })
            .collect(),
    ));
    let mut g = GenState {
        rng: Rng::new(seed),
        actors: Vec::new(),
        agreements: Vec::new(),
        edges: Vec::new(),
    };
    let mut left = n - sources;
    while left > 0 {
        let size = left.min(TX_EVENTS);
        let mut events = Vec::with_capacity(size);
        for _ in 0..size {
            let r = g.rng.below(100);
            let event = if g.actors.is_empty() || g.agreements.is_empty() || r < 35 {
                g.node()
            } else if r < 90 {
                g.edge()
            } else {
                g.set()
            };
            events.push(event);
        }
        left -= size;
        txs.push((
            TxMeta {
                author: Some("bench".to_owned()),
                message: Some(format!("synthetic batch {}", txs.len())),
            },
            events,
        ));
    }
    let total: usize = txs.iter().map(|(_, e)| e.len()).sum();
    assert_eq!(total, n, "the generator made {total} events, not {n}");
    txs
}

// ---------------------------------------------------------------------------------------------
// The shared 1M-event file.

struct Fixture {
    dir: TempDir,
    path: PathBuf,
    head: TxId,
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

fn fixture() -> &'static Fixture {
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("kb.redb");
        let started = Instant::now();
        let txs = synthetic_events(EVENTS, SEED);
        let generated = started.elapsed();
        let tx_count = txs.len();
        let (mut nodes, mut edges, mut sets) = (0usize, 0usize, 0usize);
        for e in txs.iter().flat_map(|(_, events)| events) {
            match e {
                Event::NodeAdded { .. } => nodes += 1,
                Event::EdgeAdded { .. } => edges += 1,
                Event::PropertiesSet { .. } => sets += 1,
                _ => {}
            }
        }
        let mut db = Database::open_file(&path).expect("a fresh knowledge base");
        let mut txs = txs.into_iter();
        loop {
            let batch: Vec<_> = txs.by_ref().take(BUILD_BATCH_TXS).collect();
            if batch.is_empty() {
                break;
            }
            db.commit_batch(batch).expect("the synthetic log is valid");
        }
        let head = db.tx();
        assert_eq!(head.0 as usize, tx_count);
        drop(db);
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        // For profiling outside criterion (`examples/replay.rs`): keep a copy of the log.
        if let Some(copy) = std::env::var_os("DIPLOGRAPH_BENCH_COPY") {
            std::fs::copy(&path, &copy).expect("copying the synthetic log");
        }
        eprintln!(
            "fixture: {EVENTS} events ({nodes} nodes, {edges} edges, {sets} property sets) \
             in {tx_count} transactions; generated in {:.2?}, written in {:.2?}; \
             file {:.1} MB",
            generated,
            started.elapsed() - generated,
            size as f64 / 1e6
        );
        Fixture { dir, path, head }
    })
}

// ---------------------------------------------------------------------------------------------
// Benches.

fn replay(c: &mut Criterion) {
    let fx = fixture();
    let mut group = c.benchmark_group("replay");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("open_file_1m_events", |b| {
        // Timed by hand so that dropping the projection is not measured.
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                let db = Database::open_file(&fx.path).expect("replay");
                total += started.elapsed();
                assert_eq!(db.tx(), fx.head);
                drop(black_box(db));
            }
            total
        });
    });
    group.finish();
}

/// Counts what a scan delivers, and nothing else.
#[derive(Default)]
struct Counter {
    txs: u64,
    events: u64,
}

impl LogVisitor for Counter {
    type Error = LogError;

    fn begin_tx(&mut self, header: &TxHeader) -> Result<(), LogError> {
        black_box(header);
        self.txs += 1;
        Ok(())
    }

    fn event(&mut self, _tx: TxId, _index: u32, event: Event) -> Result<(), LogError> {
        black_box(event);
        self.events += 1;
        Ok(())
    }

    fn end_tx(&mut self, _header: &TxHeader) -> Result<(), LogError> {
        Ok(())
    }
}

fn floor(c: &mut Criterion) {
    let fx = fixture();
    let mut group = c.benchmark_group("floor");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("scan_decode_1m_events", |b| {
        b.iter(|| {
            let log = RedbLog::open(&fx.path).expect("open");
            let mut counter = Counter::default();
            log.scan(TxId(1), log.head(), &mut counter).expect("scan");
            assert_eq!(counter.events as usize, EVENTS);
            assert_eq!(counter.txs, fx.head.0);
            counter.events
        });
    });
    group.finish();
}

fn bulk_append(c: &mut Criterion) {
    let mut group = c.benchmark_group("bulk_append");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(40))
        .throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("one_write_1m_events", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let db = Database::open_file(dir.path().join("kb.redb")).expect("fresh");
                (dir, db, synthetic_events(EVENTS, SEED))
            },
            |(dir, mut db, txs)| {
                let headers = db
                    .write(|w| {
                        for (meta, events) in txs {
                            w.begin_tx(&meta, None)?;
                            for e in events {
                                w.append(e)?;
                            }
                            w.end_tx()?;
                        }
                        Ok::<(), CommitError>(())
                    })
                    .expect("the synthetic log is valid");
                assert_eq!(headers.len(), EVENTS.div_ceil(TX_EVENTS) + 1);
                // Dropped (graph, file, directory) outside the measurement.
                (db, dir)
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn small_tx_latency(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut db = Database::open_file(dir.path().join("kb.redb")).expect("fresh");
    db.commit_batch(synthetic_events(20_000, SEED ^ 1))
        .expect("the synthetic log is valid");
    let agreement = "agr-0";
    assert!(db.view().node(agreement).is_some());
    let meta = TxMeta {
        author: Some("bench".to_owned()),
        message: Some("one small transaction".to_owned()),
    };
    let valid = ValidTime::since(Date::from_ymd(2007, 2, 6).expect("a real day"));
    let mut next = 0u64;

    let mut group = c.benchmark_group("small_tx_latency");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("commit_node_and_edge", |b| {
        b.iter(|| {
            next += 1;
            let node: Name = Name::new(format!("latency-actor-{next}"));
            let events = vec![
                Event::NodeAdded {
                    id: Name::clone(&node),
                    labels: vec!["Actor".into()].into(),
                    props: props(vec![
                        ("name", Value::str(&format!("Latency actor {next}"))),
                        ("kind", Value::str("city")),
                        ("year", Value::Int(2007)),
                    ]),
                    valid,
                    sources: vec![source_key(0)].into(),
                },
                Event::EdgeAdded {
                    id: Name::new(format!("latency-edge-{next}")),
                    rel_type: Name::new("PARTY_TO"),
                    from: node,
                    to: Name::new(agreement),
                    props: props(vec![("role", Value::str("signatory"))]),
                    valid,
                    sources: vec![source_key(1)].into(),
                },
            ];
            db.commit(meta.clone(), events)
                .expect("a valid transaction")
        });
    });
    group.finish();
    eprintln!(
        "small_tx_latency: {next} transactions committed on a knowledge base of 20000 events"
    );
}

// ---------------------------------------------------------------------------------------------
// Memory.

/// The system allocator, counting live heap bytes while `TRACKING` is on.
struct CountingAlloc;

static TRACKING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn track(delta: isize) {
    let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && TRACKING.load(Ordering::Relaxed) {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() && TRACKING.load(Ordering::Relaxed) {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) };
        if TRACKING.load(Ordering::Relaxed) {
            track(-(layout.size() as isize));
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && TRACKING.load(Ordering::Relaxed) {
            track(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Returns the allocator's free pages to the system (glibc only).
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: glibc's malloc_trim takes a byte count and only releases free memory.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// A field of `/proc/self/status` in kB (`VmRSS`, `VmHWM`).
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

fn mb_kb(kb: Option<u64>) -> String {
    kb.map_or_else(|| "?".to_owned(), |kb| format!("{:.0}", kb as f64 / 1024.0))
}

fn mb_bytes(bytes: isize) -> String {
    format!("{:.0}", bytes as f64 / (1024.0 * 1024.0))
}

/// Resident memory around one projection of the 1M-event log, in this process.
fn memory_report(_c: &mut Criterion) {
    if !wanted("replay/memory") {
        return;
    }
    let fx = fixture();
    // Earlier projections were dropped, but the allocator may still hold their pages: hand
    // them back so that "before" is a baseline and the new projection cannot hide in them.
    trim_heap();
    // Resetting the high-water mark makes VmHWM the peak of this projection, not of the
    // process (Linux 4.0+); without it, the peak printed is the process's.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kb("VmRSS");
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    TRACKING.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let db = Database::open_file(&fx.path).expect("replay");
    let took = started.elapsed();
    TRACKING.store(false, Ordering::Relaxed);
    let after = status_kb("VmRSS");
    let peak = status_kb("VmHWM");
    let (live, heap_peak) = (LIVE.load(Ordering::Relaxed), PEAK.load(Ordering::Relaxed));
    eprintln!(
        "memory: projection of {EVENTS} events: rss before {} MB, after {} MB, peak {} MB{}; \
         heap +{} MB held, +{} MB peak while building ({:.2?}; {} nodes, {} edges)",
        mb_kb(before),
        mb_kb(after),
        mb_kb(peak),
        if reset { "" } else { " (process peak)" },
        mb_bytes(live),
        mb_bytes(heap_peak),
        took,
        db.graph().view().nodes().count(),
        db.graph().view().edges().count(),
    );
    drop(db);
    fresh_process_peak(&fx.path);
}

/// Peak resident memory of a fresh `diplograph stats` process on the 1M-event log: what a user
/// opening that knowledge base pays, without this process's allocator history. Uses GNU time
/// (`/usr/bin/time`); skipped with a message where it is missing.
fn fresh_process_peak(path: &Path) {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        eprintln!("memory: fresh process: skipped, /usr/bin/time is not installed");
        return;
    }
    let out = std::process::Command::new(time)
        .args(["-f", "%M %e"])
        .arg(env!("CARGO_BIN_EXE_diplograph"))
        .arg("--db")
        .arg(path)
        .arg("stats")
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let stderr = String::from_utf8_lossy(&o.stderr);
            let last = stderr.lines().last().unwrap_or("");
            let mut parts = last.split_whitespace();
            let kb: f64 = parts
                .next()
                .and_then(|k| k.parse().ok())
                .unwrap_or(f64::NAN);
            let secs = parts.next().unwrap_or("?");
            eprintln!(
                "memory: fresh `diplograph stats` on the {EVENTS}-event log: peak rss {:.0} MB, {secs} s wall",
                kb / 1024.0
            );
        }
        Ok(o) => eprintln!(
            "memory: fresh process failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => eprintln!("memory: fresh process could not run: {e}"),
    }
}

/// Whether a criterion filter given on the command line (if any) lets `name` run. A rough
/// substring match: enough to skip the memory report when one group is asked for.
fn wanted(name: &str) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--list") {
        return false;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

criterion_group!(
    benches,
    replay,
    memory_report,
    floor,
    bulk_append,
    small_tx_latency
);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if let Some(fx) = FIXTURE.get() {
        remove(fx.dir.path());
    }
}

fn remove(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir) {
        eprintln!("could not remove {}: {e}", dir.display());
    }
}
