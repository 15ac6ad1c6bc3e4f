//! Times a Neo4j-CSV import of the shared benchmark's workload into a fresh redb file (or,
//! with `--memory`, into a log in memory):
//! `cargo run --release --example neo4j_import -- [--memory] [DIR [SCALE]]`.
//!
//! DIR holds the generator's files (actors.csv … cites.csv); without it, or when it has
//! none, the workload is generated there (a temporary directory by default) by
//! `../shared/bench/gen.py --seed 42 --scale SCALE` (1 by default). Without `python3` or
//! the generator it says why and exits successfully.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use diplograph::Database;
use diplograph::interchange::neo4j_csv::{ImportOptions, import};
use diplograph::log::MemoryLog;

const NODES: [(&str, &str); 5] = [
    ("Actor", "actors"),
    ("Agreement", "agreements"),
    ("Sector", "sectors"),
    ("Stage", "stages"),
    ("Source", "sources"),
];
const RELATIONSHIPS: [(&str, &str); 4] = [
    ("PARTY_TO", "party_to"),
    ("COVERS", "covers"),
    ("IN_STAGE", "in_stage"),
    ("CITES", "cites"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let memory = all.iter().any(|a| a == "--memory");
    let mut args = all.into_iter().filter(|a| a != "--memory");
    let temp = tempfile::TempDir::new()?;
    let dir = args
        .next()
        .map_or_else(|| temp.path().to_owned(), PathBuf::from);
    let scale = args.next().unwrap_or_else(|| "1".into());
    if !dir.join("actors.csv").exists() && !generate(&dir, &scale)? {
        return Ok(());
    }
    let file = |f: &str| dir.join(format!("{f}.csv"));
    let nodes: Vec<_> = NODES
        .iter()
        .map(|(l, f)| ((*l).to_owned(), file(f)))
        .collect();
    let rels: Vec<_> = RELATIONSHIPS
        .iter()
        .map(|(t, f)| ((*t).to_owned(), file(f)))
        .collect();
    let db_path = temp.path().join("import.redb");
    let started = Instant::now();
    if memory {
        let mut db = Database::open(MemoryLog::new())?;
        let summary = import(&mut db, &nodes, &rels, &ImportOptions::default())?;
        let took = started.elapsed().as_secs_f64();
        println!(
            "in memory: {} events in {took:.2} s: {:.0} events/s",
            summary.events(),
            summary.events() as f64 / took
        );
        return Ok(());
    }
    let mut db = Database::open_file(&db_path)?;
    let summary = import(&mut db, &nodes, &rels, &ImportOptions::default())?;
    let took = started.elapsed().as_secs_f64();
    let events = summary.events();
    println!(
        "imported {} nodes and {} relationships ({events} events, {:.1} MB of CSV) in {took:.2} s: \
         {:.0} events/s, {:.1} MB/s; the file is {:.1} MB",
        summary.nodes,
        summary.relationships,
        summary.bytes as f64 / 1e6,
        events as f64 / took,
        summary.bytes as f64 / 1e6 / took,
        std::fs::metadata(&db_path)?.len() as f64 / 1e6,
    );
    for (label, n) in &summary.labels {
        println!("  {label:12} {n:>10}");
    }
    for (t, n) in &summary.types {
        println!("  {t:12} {n:>10}");
    }
    drop(db);
    let started = Instant::now();
    let db = Database::open_file(&db_path)?;
    println!(
        "reopened (replayed) in {:.2} s: {} nodes",
        started.elapsed().as_secs_f64(),
        db.view().nodes().count()
    );
    Ok(())
}

/// Runs the shared generator into `dir`; `false` (with the reason printed) when it cannot.
fn generate(dir: &Path, scale: &str) -> Result<bool, Box<dyn std::error::Error>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen.py");
    if !script.exists() {
        println!("skipped: {} is not there", script.display());
        return Ok(false);
    }
    let started = Instant::now();
    let out = match Command::new("python3")
        .arg(&script)
        .args(["--scale", scale, "--seed", "42", "--out"])
        .arg(dir)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            println!("skipped: python3 cannot be run ({e})");
            return Ok(false);
        }
    };
    if !out.status.success() {
        return Err(format!("gen.py failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    println!(
        "generated scale {scale} in {:.1} s into {}",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(true)
}
