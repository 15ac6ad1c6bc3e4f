//! Times replaying a knowledge base file and reading its log without building anything:
//! `cargo run --release --example replay -- FILE`. For profiling (`perf record`) the replay
//! path outside criterion; `DIPLOGRAPH_BENCH_COPY=FILE cargo bench --bench log -- memory`
//! keeps the benchmark's 1M-event log in FILE.

use std::time::Instant;

use diplograph::event::{Event, TxHeader};
use diplograph::log::{Log, LogVisitor, RedbLog};
use diplograph::{Database, LogError, TxId};

struct Count(u64);

impl LogVisitor for Count {
    type Error = LogError;
    fn begin_tx(&mut self, _: &TxHeader) -> Result<(), LogError> {
        Ok(())
    }
    fn event(&mut self, _: TxId, _: u32, e: Event) -> Result<(), LogError> {
        std::hint::black_box(e);
        self.0 += 1;
        Ok(())
    }
    fn end_tx(&mut self, _: &TxHeader) -> Result<(), LogError> {
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: replay FILE [floor|replay]")?;
    let what = std::env::args().nth(2).unwrap_or_else(|| "both".into());
    if what != "replay" {
        let started = Instant::now();
        let log = RedbLog::open(&path)?;
        let mut count = Count(0);
        log.scan(TxId(1), log.head(), &mut count)?;
        let t = started.elapsed();
        println!(
            "floor: {} events in {t:.2?} ({:.0} events/s)",
            count.0,
            count.0 as f64 / t.as_secs_f64()
        );
    }
    if what != "floor" {
        let started = Instant::now();
        let db = Database::open_file(&path)?;
        let t = started.elapsed();
        println!("replay: tx {} in {t:.2?}", db.tx());
        let usage = db.graph().memory_usage();
        let total: usize = usage.iter().map(|(_, b)| b).sum();
        for (what, bytes) in usage {
            println!("  {what:<28} {:>8.1} MB", bytes as f64 / 1e6);
        }
        println!(
            "  {:<28} {:>8.1} MB",
            "total (estimate)",
            total as f64 / 1e6
        );
        std::mem::forget(db); // dropping is not replay
    }
    Ok(())
}
