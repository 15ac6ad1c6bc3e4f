//! The shared benchmark's queries (`benches/workload/queries.dgq`) give the peers' answers:
//! at scale 0.01, `../shared/bench/peers.py` loads the generated workload with
//! `diplograph import`, runs the file with `run --timing`, asks each query with
//! `query --format json`, and compares every answer with networkx's (its reference,
//! `answers.json`). Skipped, with the reason printed, without `../shared`, Python or networkx.

use std::path::Path;
use std::process::Command;

#[test]
fn the_workload_queries_answer_as_the_peers_do() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bench = root.join("../shared/bench");
    if !bench.join("peers.py").exists() {
        println!(
            "skipped: {} is absent (checked out without ../shared)",
            bench.display()
        );
        return;
    }
    let networkx = Command::new("python3")
        .args(["-c", "import networkx"])
        .output();
    if !networkx.is_ok_and(|o| o.status.success()) {
        println!("skipped: python3 with networkx is needed for the reference answers");
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let generated = Command::new("python3")
        .arg(bench.join("gen.py"))
        .args(["--scale", "0.01", "--seed", "42", "--out"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let compared = Command::new("python3")
        .arg(bench.join("peers.py"))
        .arg("--data")
        .arg(data.path())
        .args(["--peers", "networkx", "--runs", "1", "--project"])
        .arg(env!("CARGO_BIN_EXE_diplograph"))
        .current_dir(root)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&compared.stdout);
    let err = String::from_utf8_lossy(&compared.stderr);
    assert!(compared.status.success(), "{out}\n{err}");
    assert!(out.contains("ANSWERS: all peers agree"), "{out}\n{err}");
    assert!(!out.contains("MISMATCH"), "{out}");
    assert!(
        out.contains("\n| project |"),
        "the project was measured: {out}"
    );
}
