//! Load benchmark of the HTTP server: many clients at once against one knowledge base.
//!
//! The knowledge base is the query benchmark's generated graph (10,000 actors, 50,000
//! agreements with two parties and two sectors each; `benches/common/mod.rs`), written to a
//! redb file in a temporary directory, so writes are durable (fsynced) as in real use. The
//! server runs in this process, on its own tokio runtime, listening on `127.0.0.1:0` with a
//! write token and generous limits (256 connections). **It only ever talks to loopback**:
//! the clients connect to that address, with proxies switched off.
//!
//! 64 clients (tokio tasks on a second runtime, one `reqwest` client and keep-alive
//! connection each, plain HTTP/1.1) send requests back to back until the deadline: 60 s, or
//! `DIPLOGRAPH_LOAD_SECONDS`. Each request is drawn from this mix (per 1,000 requests),
//! with random actors as parameters, so the answers vary from request to request:
//!
//! | per 1,000 | request | |
//! |---:|---|---|
//! | 500 | `POST /query` one hop | an actor by name (`$name`) and its agreements |
//! | 300 | `POST /query` two hops | an actor's agreements and their other parties |
//! | 189 | `POST /query` `shortestPath` | between two random actors over `PARTY_TO` |
//! | 1 | `POST /query` aggregate | all 50,000 agreements counted by type |
//! | 10 | `POST /transactions` write | a node and an edge to an actor, `SOURCE "bench"` |
//!
//! so 99% reads and 1% writes. The aggregate is kept at 0.1%: it takes ~28 ms of a core
//! (the language benchmark), so at 1% and 5,000 queries/s it alone would need 1.4 of the 2
//! cores this runs on, and the benchmark would measure it rather than the server.
//!
//! Every request's latency (send to parsed body) and status are recorded. An error is a
//! non-200 status, a transport error (or the 30 s client timeout), or a body that does not
//! parse as the expected answer (`columns` and `rows` for a query; `tx` and 2 events for a
//! write). The report gives the duration, requests, queries/s, writes committed, errors,
//! latency percentiles overall, for queries, for writes and for each kind of request, the
//! server's own `elapsed_ms`, the time each kind of query takes to evaluate in process with
//! no load (measured before the server starts: the floor under the latencies; note that
//! `shortestPath` between random actors takes a few hundred µs, far more than the language
//! benchmark's one fixed pair), and the goals: no errors, ≥ 5,000 queries/s, p99 ≤ 50 ms
//! (all requests). After the clients stop, the server is shut down (its cancellation token)
//! and must hand back a knowledge base with one transaction per write committed. The exit
//! status is non-zero if anything failed.
//!
//! Run with `cargo bench --bench server`, or `DIPLOGRAPH_LOAD_SECONDS=5 cargo bench --bench
//! server` for a short run.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diplograph::Database;
use diplograph::server::{Config, Limits};
use serde_json::{Value as Json, json};
use tokio_util::sync::CancellationToken;

mod common;

/// Concurrent clients.
const CLIENTS: usize = 64;
/// The run's length unless `DIPLOGRAPH_LOAD_SECONDS` says otherwise.
const DEFAULT_SECONDS: f64 = 60.0;
/// The write token (at least `MIN_TOKEN_LEN` characters).
const TOKEN: &str = "load-benchmark-token-not-secret";
/// A request that takes longer is an error (and the run cannot hang).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The goals.
const GOAL_QPS: f64 = 5_000.0;
const GOAL_P99_MS: f64 = 50.0;

const ONE_HOP: &str =
    "MATCH (a:Actor {name: $name})-[:PARTY_TO]->(g:Agreement) RETURN g.title, g.type";
const TWO_HOP: &str = "MATCH (a:Actor {name: $name})-[:PARTY_TO]->(g:Agreement)<-[:PARTY_TO]-(p:Actor) \
                       RETURN p.name, g.type";
const SHORTEST_PATH: &str = "MATCH p = shortestPath((a:Actor {name: $a})-[:PARTY_TO*]-(b:Actor {name: $b})) \
                             RETURN length(p)";
const AGGREGATE: &str = "MATCH (g:Agreement) RETURN g.type, count(*) AS n ORDER BY n DESC";
const WRITE: &str = "MATCH (a:Actor {name: $name}) \
                     CREATE (n:Note {id: $id, text: $text})-[:ABOUT]->(a) SOURCE \"bench\"";

/// The kinds of request, in the order of the report.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    OneHop,
    TwoHop,
    ShortestPath,
    Aggregate,
    Write,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::OneHop,
        Kind::TwoHop,
        Kind::ShortestPath,
        Kind::Aggregate,
        Kind::Write,
    ];

    /// The mix: how many of every 1,000 requests are of this kind.
    fn per_mille(self) -> usize {
        match self {
            Kind::OneHop => 500,
            Kind::TwoHop => 300,
            Kind::ShortestPath => 189,
            Kind::Aggregate => 1,
            Kind::Write => 10,
        }
    }

    fn draw(rng: &mut common::Rng) -> Kind {
        let mut n = rng.below(1000);
        for k in Kind::ALL {
            if n < k.per_mille() {
                return k;
            }
            n -= k.per_mille();
        }
        unreachable!("the mix adds up to 1,000")
    }

    fn name(self) -> &'static str {
        match self {
            Kind::OneHop => "one-hop",
            Kind::TwoHop => "two-hop",
            Kind::ShortestPath => "shortestPath",
            Kind::Aggregate => "aggregate",
            Kind::Write => "write",
        }
    }
}

/// One request's outcome.
struct Sample {
    kind: Kind,
    /// Send to parsed body, in microseconds.
    micros: u32,
    /// The server's own `elapsed_ms`, in microseconds, when the answer had one.
    server_micros: Option<u32>,
    /// Why it failed, if it did.
    error: Option<String>,
}

fn main() -> ExitCode {
    let seconds = match std::env::var("DIPLOGRAPH_LOAD_SECONDS") {
        Ok(s) => match s.trim().parse::<f64>() {
            Ok(n) if n > 0.0 && n.is_finite() => n,
            _ => {
                eprintln!(
                    "DIPLOGRAPH_LOAD_SECONDS must be a positive number of seconds, not {s:?}"
                );
                return ExitCode::FAILURE;
            }
        },
        Err(_) => DEFAULT_SECONDS,
    };

    // The knowledge base, in a redb file.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("load.redb");
    let started = Instant::now();
    let mut kb = Database::open_file(&path).expect("a new redb file");
    common::load(&mut kb);
    let first_tx = kb.tx().0;
    eprintln!(
        "built the graph ({} actors, {} agreements) in {} at tx {first_tx} in {:.1} s",
        common::ACTORS,
        common::AGREEMENTS,
        path.display(),
        started.elapsed().as_secs_f64()
    );
    let baseline = baseline(&kb);

    // The server, on its own runtime: the one `diplograph serve` runs on.
    let server_rt = diplograph::server::runtime().expect("the server's runtime");
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a loopback port");
    let addr = listener.local_addr().expect("the listener's address");
    assert!(
        addr.ip().is_loopback(),
        "the benchmark only talks to loopback"
    );
    let config = Config {
        token: Some(TOKEN.to_owned()),
        limits: Limits {
            max_body: 16 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            max_rows: 100_000,
            max_connections: 256,
        },
    };
    let shutdown = CancellationToken::new();
    let server = server_rt.spawn(diplograph::server::serve(
        kb,
        listener,
        config,
        shutdown.clone(),
    ));

    // The clients, on another.
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("client")
        .build()
        .expect("the clients' runtime");
    eprintln!("{CLIENTS} clients for {seconds} s against http://{addr} …");
    let started = Instant::now();
    let samples = client_rt.block_on(load(addr, Duration::from_secs_f64(seconds)));
    let duration = started.elapsed();

    // Shut the server down and take the knowledge base back.
    shutdown.cancel();
    let stopped = Instant::now();
    let served =
        server_rt.block_on(async { tokio::time::timeout(Duration::from_secs(60), server).await });
    let stop_time = stopped.elapsed();
    let last_tx = match served {
        Ok(Ok(Ok(kb))) => Ok(kb.tx().0),
        Ok(Ok(Err(e))) => Err(format!("serve failed: {e}")),
        Ok(Err(e)) => Err(format!("serve panicked: {e}")),
        Err(_) => Err("serve did not return within 60 s of the shutdown".to_owned()),
    };
    drop(client_rt);
    drop(server_rt);

    report(&samples, &baseline, duration, stop_time, first_tx, last_tx)
}

/// How long each kind of query takes to evaluate in this process, with no HTTP, no JSON and
/// no other request at the same time: the floor under the server's latencies.
fn baseline(kb: &Database<diplograph::log::RedbLog>) -> Vec<(Kind, Vec<u32>)> {
    use diplograph::query::ast::Statement;
    use diplograph::query::{Session, Val, parser};
    let mut rng = common::Rng(0x5851_f42d_4c95_7f2d);
    let mut out = Vec::new();
    for kind in Kind::ALL.into_iter().filter(|&k| k != Kind::Write) {
        let (text, runs) = match kind {
            Kind::OneHop => (ONE_HOP, 1000),
            Kind::TwoHop => (TWO_HOP, 1000),
            Kind::ShortestPath => (SHORTEST_PATH, 1000),
            _ => (AGGREGATE, 20),
        };
        let Ok(Statement::Query(q)) = parser::parse_statement(text) else {
            panic!("{} is a query", kind.name());
        };
        let mut micros = Vec::with_capacity(runs);
        for _ in 0..runs {
            let mut session = Session::new();
            for p in ["name", "a", "b"] {
                let actor = format!("Actor {}", rng.below(common::ACTORS));
                session.params.insert(p.to_owned(), Val::str(&actor));
            }
            let started = Instant::now();
            session
                .read(kb.graph(), text, &q)
                .expect("the benchmark's queries run");
            micros.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
        }
        out.push((kind, micros));
    }
    out
}

/// Runs the clients until `length` has passed; every sample of every client.
async fn load(addr: SocketAddr, length: Duration) -> Vec<Sample> {
    let base: Arc<str> = format!("http://{addr}").into();
    let deadline = Instant::now() + length;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| tokio::spawn(client(id, Arc::clone(&base), deadline)))
        .collect();
    let mut samples = Vec::new();
    for c in clients {
        samples.extend(c.await.expect("a client task panicked"));
    }
    samples
}

/// One client: requests back to back, one at a time, until the deadline.
async fn client(id: usize, base: Arc<str>, deadline: Instant) -> Vec<Sample> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("an HTTP client");
    let query_url = format!("{base}/query");
    let write_url = format!("{base}/transactions");
    let mut rng = common::Rng(0x2545_f491_4f6c_dd1d ^ ((id as u64 + 1) * 0x9e37_79b9_7f4a_7c15));
    let mut samples = Vec::with_capacity(1 << 14);
    let mut writes = 0usize;
    let actor = |rng: &mut common::Rng| format!("Actor {}", rng.below(common::ACTORS));
    while Instant::now() < deadline {
        let kind = Kind::draw(&mut rng);
        let request = match kind {
            Kind::OneHop => http
                .post(&query_url)
                .json(&json!({ "query": ONE_HOP, "params": { "name": actor(&mut rng) } })),
            Kind::TwoHop => http
                .post(&query_url)
                .json(&json!({ "query": TWO_HOP, "params": { "name": actor(&mut rng) } })),
            Kind::ShortestPath => http.post(&query_url).json(&json!({
                "query": SHORTEST_PATH,
                "params": { "a": actor(&mut rng), "b": actor(&mut rng) },
            })),
            Kind::Aggregate => http.post(&query_url).json(&json!({ "query": AGGREGATE })),
            Kind::Write => {
                writes += 1;
                http.post(&write_url).bearer_auth(TOKEN).json(&json!({
                    "statements": WRITE,
                    "params": {
                        "name": actor(&mut rng),
                        "id": format!("load-{id}-{writes}"),
                        "text": format!("note {writes} of client {id}"),
                    },
                    "author": format!("load client {id}"),
                }))
            }
        };
        let sent = Instant::now();
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status();
                match response.bytes().await {
                    Ok(body) => check(kind, status, &body),
                    Err(e) => Err(format!("reading the body: {}", transport(&e))),
                }
            }
            Err(e) => Err(transport(&e)),
        };
        let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
        let (server_micros, error) = match outcome {
            Ok(elapsed) => (elapsed, None),
            Err(e) => (None, Some(e)),
        };
        samples.push(Sample {
            kind,
            micros,
            server_micros,
            error,
        });
    }
    samples
}

/// A transport error, briefly.
fn transport(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    };
    format!("transport ({what}): {e}")
}

/// Checks an answer; the server's `elapsed_ms` (as µs) if it is right.
fn check(kind: Kind, status: reqwest::StatusCode, body: &[u8]) -> Result<Option<u32>, String> {
    let text = || String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    if status != reqwest::StatusCode::OK {
        return Err(format!("status {status}: {}", text()));
    }
    let answer: Json = serde_json::from_slice(body)
        .map_err(|e| format!("a body that is not JSON ({e}): {}", text()))?;
    let fine = match kind {
        Kind::Write => answer["tx"].is_u64() && answer["events"].as_u64() == Some(2),
        _ => answer["columns"].is_array() && answer["rows"].is_array() && answer["tx"].is_u64(),
    };
    if !fine {
        return Err(format!("an unexpected answer: {}", text()));
    }
    Ok(answer["elapsed_ms"]
        .as_f64()
        .map(|ms| (ms * 1000.0).round() as u32))
}

/// The nearest-rank percentile `p` of sorted latencies (not empty), in milliseconds.
fn percentile(sorted: &[u32], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

/// One line of the latency table.
fn row(name: &str, mut micros: Vec<u32>) -> (String, f64) {
    if micros.is_empty() {
        return (format!("  {name:<22}{:>9}{:>36}", 0, "-"), f64::NAN);
    }
    micros.sort_unstable();
    let p99 = percentile(&micros, 99.0);
    let line = format!(
        "  {name:<22}{:>9}{:>9.2}{:>9.2}{:>9.2}{:>9.2}",
        micros.len(),
        percentile(&micros, 50.0),
        percentile(&micros, 90.0),
        p99,
        f64::from(micros[micros.len() - 1]) / 1000.0,
    );
    (line, p99)
}

/// A whole number with thousands separators: `12,345`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.round());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mark(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

/// Prints the report; failure if there were errors or the server did not stop right.
fn report(
    samples: &[Sample],
    baseline: &[(Kind, Vec<u32>)],
    duration: Duration,
    stop_time: Duration,
    first_tx: u64,
    last_tx: Result<u64, String>,
) -> ExitCode {
    let secs = duration.as_secs_f64();
    let ok = |s: &&Sample| s.error.is_none();
    let queries = samples
        .iter()
        .filter(|s| s.kind != Kind::Write)
        .filter(ok)
        .count();
    let writes = samples
        .iter()
        .filter(|s| s.kind == Kind::Write)
        .filter(ok)
        .count();
    let errors: Vec<&Sample> = samples.iter().filter(|s| s.error.is_some()).collect();
    let qps = queries as f64 / secs;

    println!();
    println!(
        "diplograph server under load: {CLIENTS} clients, {} actors, {} agreements, redb",
        thousands(common::ACTORS as f64),
        thousands(common::AGREEMENTS as f64)
    );
    println!("duration          {secs:.2} s");
    println!(
        "requests          {} ({}/s)",
        thousands(samples.len() as f64),
        thousands(samples.len() as f64 / secs)
    );
    println!(
        "queries answered  {} ({}/s)",
        thousands(queries as f64),
        thousands(qps)
    );
    println!(
        "writes committed  {} ({:.1}/s)",
        thousands(writes as f64),
        writes as f64 / secs
    );
    println!("errors            {}", thousands(errors.len() as f64));
    let mut by_error: BTreeMap<&str, (Kind, usize)> = BTreeMap::new();
    for s in &errors {
        let e = s.error.as_deref().unwrap_or_default();
        by_error.entry(e).or_insert((s.kind, 0)).1 += 1;
    }
    for (e, (kind, n)) in by_error.iter().take(10) {
        println!("  {n} × {}: {e}", kind.name());
    }

    println!();
    println!(
        "latency (ms)            {:>9}{:>9}{:>9}{:>9}{:>9}",
        "count", "p50", "p90", "p99", "max"
    );
    let all = |pick: &dyn Fn(&Sample) -> bool| -> Vec<u32> {
        samples
            .iter()
            .filter(|s| pick(s))
            .map(|s| s.micros)
            .collect()
    };
    let (line, p99_all) = row("all requests", all(&|_| true));
    println!("{line}");
    println!("{}", row("queries", all(&|s| s.kind != Kind::Write)).0);
    println!("{}", row("writes", all(&|s| s.kind == Kind::Write)).0);
    for kind in Kind::ALL.into_iter().filter(|&k| k != Kind::Write) {
        println!(
            "{}",
            row(&format!("  {}", kind.name()), all(&|s| s.kind == kind)).0
        );
    }
    let server = |pick: &dyn Fn(&Sample) -> bool| -> Vec<u32> {
        samples
            .iter()
            .filter(|s| pick(s))
            .filter_map(|s| s.server_micros)
            .collect()
    };
    println!("evaluation alone, in process, one at a time (before the load):");
    for (kind, micros) in baseline {
        println!("{}", row(&format!("  {}", kind.name()), micros.clone()).0);
    }
    println!("server's elapsed_ms (from the parsed request to the answer, before encoding):");
    println!("{}", row("queries", server(&|s| s.kind != Kind::Write)).0);
    println!("{}", row("writes", server(&|s| s.kind == Kind::Write)).0);

    println!();
    let stopped = match &last_tx {
        Ok(tx) => {
            let expected = first_tx + writes as u64;
            let fine = *tx == expected;
            println!(
                "shutdown          {:.0} ms; the knowledge base is at tx {tx} ({} {expected})",
                stop_time.as_secs_f64() * 1000.0,
                if fine {
                    "as expected:"
                } else {
                    "NOT the expected"
                }
            );
            fine
        }
        Err(e) => {
            println!("shutdown          FAILED: {e}");
            false
        }
    };
    println!("goals");
    let goals = [
        (
            "no errors".to_owned(),
            errors.is_empty(),
            thousands(errors.len() as f64),
        ),
        (
            format!("≥ {} queries/s", thousands(GOAL_QPS)),
            qps >= GOAL_QPS,
            format!("{}/s", thousands(qps)),
        ),
        (
            format!("p99 ≤ {GOAL_P99_MS:.0} ms (all requests)"),
            p99_all <= GOAL_P99_MS,
            format!("{p99_all:.2} ms"),
        ),
    ];
    for (goal, met, figure) in goals {
        println!("  {goal:<28}{:<9}({figure})", mark(met));
    }
    if errors.is_empty() && stopped {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
