//! The HTTP server against a real socket on 127.0.0.1:0, with the bundled dataset in a redb
//! file: every endpoint; writes refused without the token (nothing written) and accepted
//! with it; each limit (body size, query time, result rows, connections) a clear error;
//! the event stream catching up and then following; a query pinned to `at_tx`; and a
//! shutdown while a write is in flight, which finishes it and keeps it.

use std::path::PathBuf;
use std::time::Duration;

use diplograph::Database;
use diplograph::log::RedbLog;
use diplograph::server::{Config, Limits};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "a-test-token-of-some-length";

struct Server {
    base: String,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<Database<RedbLog>>>,
    path: PathBuf,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Server {
    async fn start(config: Config) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kb.redb");
        let mut kb = Database::open_file(&path).unwrap();
        diplograph::cli::load_bundled(&mut kb).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(diplograph::server::serve(
            kb,
            listener,
            config,
            shutdown.clone(),
        ));
        Server {
            base,
            shutdown,
            task,
            path,
            _dir: dir,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
        }
    }

    async fn writable() -> Server {
        Server::start(Config {
            token: Some(TOKEN.to_owned()),
            ..Config::default()
        })
        .await
    }

    async fn post(&self, route: &str, body: Value, token: Option<&str>) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{route}", self.base)).json(&body);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn get(&self, route: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{route}", self.base))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn query(&self, q: &str) -> (u16, Value) {
        self.post("/query", json!({ "query": q }), None).await
    }

    async fn stop(self) -> Database<RedbLog> {
        self.shutdown.cancel();
        let kb = self.task.await.unwrap().unwrap();
        drop(self._dir);
        kb
    }
}

const BANTEN: &str = r#"MATCH (b:Actor {name: $name})-[:PARTY_TO]->(a:Agreement)
RETURN a.title ORDER BY a.title"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_answers_with_columns_rows_tx_time_and_pin() {
    let s = Server::writable().await;
    let (status, body) = s
        .post(
            "/query",
            json!({ "query": BANTEN, "params": { "name": "Banten" } }),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["columns"], json!(["a.title"]));
    assert_eq!(body["rows"].as_array().unwrap().len(), 4, "{body}");
    assert_eq!(body["rows"][0][0], "LoI Banten–Incheon");
    assert_eq!(body["tx"], 30);
    assert!(body["elapsed_ms"].as_f64().unwrap() > 0.0);
    assert!(
        body["pin"]["query"]
            .as_str()
            .unwrap()
            .starts_with("AT TX 30 MATCH")
    );
    // HISTORY, TIMELINE and DIFF are reads too.
    let (status, body) = s.query("DIFF AT TX 28, TX 30").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["columns"][1], "change");
    let (status, body) = s
        .query("TIMELINE 2006 .. 2008 MATCH (:Actor {name: \"Banten\"})-[:PARTY_TO]->(a) WHERE valid_from(a) IS NOT NULL RETURN count(a) AS n")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rows"], json!([["2006", 0], ["2007", 1], ["2008", 1]]));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_with_line_column_and_the_right_status() {
    let s = Server::writable().await;
    let (status, body) = s.query("MATCH (a:Actor {name: \"Banten\"}\nRETURN a").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["kind"], "syntax");
    assert_eq!(
        (
            body["error"]["line"].clone(),
            body["error"]["column"].clone()
        ),
        (json!(2), json!(1))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expected `)`")
    );
    let (status, body) = s.query("RETURN nosuch(1)").await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = s.query("MATCH (a:Actor) RETURN a.name - 1").await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (422, Some("runtime")),
        "{body}"
    );
    let (status, body) = s.query("RETURN $missing").await;
    assert_eq!(status, 422, "{body}");
    // Writes do not go through /query, even with the token.
    let (status, body) = s
        .post(
            "/query",
            json!({ "query": "CREATE (:Actor {name: \"x\"}) SOURCE \"syuryansyah2024\"" }),
            Some(TOKEN),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    for bad in [
        json!({"qury": "RETURN 1"}),
        json!("RETURN 1"),
        json!({"query": 5}),
    ] {
        let (status, body) = s.post("/query", bad, None).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["kind"], "request");
    }
    let (status, text) = s.get("/nowhere").await;
    assert_eq!(status, 404);
    assert!(text.contains("POST /query"), "{text}");
    let (status, _) = s.query("MATCH (a:Actor) RETURN count(a)").await;
    assert_eq!(status, 200, "the server goes on after errors");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_the_token_and_nothing_is_written_without_it() {
    let s = Server::writable().await;
    let write = json!({
        "statements": "CREATE (:Actor {id: \"pandeglang\", name: \"Pandeglang\"}) SOURCE \"syuryansyah2024\"",
        "author": "a tester"
    });
    let (status, body) = s.post("/transactions", write.clone(), None).await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (401, Some("unauthorized")),
        "{body}"
    );
    let (status, _) = s
        .post(
            "/transactions",
            write.clone(),
            Some("a-wrong-token-of-length"),
        )
        .await;
    assert_eq!(status, 401);
    let count = "MATCH (a:Actor {id: \"pandeglang\"}) RETURN count(a)";
    assert_eq!(s.query(count).await.1["rows"], json!([[0]]));
    let (_, health) = s.get("/health").await;
    assert!(health.contains("\"tx\":30"), "{health}");

    let (status, body) = s.post("/transactions", write, Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tx"], 31);
    assert_eq!(s.query(count).await.1["rows"], json!([[1]]));
    let (_, log) = s.query("HISTORY (a:Actor {id: \"pandeglang\"})").await;
    assert_eq!(log["rows"][0][3], "a tester", "{log}");

    // Several statements are one transaction: all of it, or (on an error) none.
    let two = json!({ "statements":
        "MATCH (a:Actor {id: \"pandeglang\"}) SET a.kind = \"regency\" SOURCE \"syuryansyah2024\";
         MATCH (a:Actor {id: \"pandeglang\"}), (b:Actor {id: \"banten\"}) CREATE (a)-[:PART_OF]->(b) SOURCE \"syuryansyah2024\"" });
    let (status, body) = s.post("/transactions", two, Some(TOKEN)).await;
    assert_eq!((status, body["tx"].clone()), (200, json!(32)), "{body}");
    let refused = json!({ "statements":
        "MATCH (a:Actor {id: \"pandeglang\"}) SET a.kind = \"city\" SOURCE \"syuryansyah2024\";
         CREATE (:Actor {id: \"banten\"}) SOURCE \"syuryansyah2024\"" });
    let (status, body) = s.post("/transactions", refused, Some(TOKEN)).await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (422, Some("refused")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{body}"
    );
    let kind = s
        .query("MATCH (a:Actor {id: \"pandeglang\"}) RETURN a.kind")
        .await
        .1;
    assert_eq!(
        kind["rows"],
        json!([["regency"]]),
        "nothing of the refused one"
    );

    // Events, as the JSON Lines export writes them.
    let events = json!({ "events": [
        {"node_added": {"id": "serang", "labels": ["Actor"], "props": {"name": "Serang"},
                        "valid": "2007/..", "sources": ["syuryansyah2024"]}}
    ], "message": "from a script" });
    let (status, body) = s.post("/transactions", events, Some(TOKEN)).await;
    assert_eq!((status, body["tx"].clone()), (200, json!(33)), "{body}");
    let bad = json!({ "events": [{"node_added": {"id": "x"}}] });
    let (status, body) = s.post("/transactions", bad, Some(TOKEN)).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("events[0]"),
        "{body}"
    );
    let kb = s.stop().await;
    assert_eq!(kb.tx().0, 33);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_a_token_takes_no_writes() {
    let s = Server::start(Config::default()).await;
    let write = json!({ "statements": "CREATE (:Actor {name: \"x\"}) SOURCE \"syuryansyah2024\"" });
    let (status, body) = s.post("/transactions", write.clone(), Some(TOKEN)).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--token-file"),
        "{body}"
    );
    let (status, _) = s.post("/transactions", write, None).await;
    assert_eq!(status, 403);
    let (_, health) = s.get("/health").await;
    assert!(health.contains("\"writes\":false"), "{health}");
    assert_eq!(s.stop().await.tx().0, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_health_and_metrics() {
    let s = Server::writable().await;
    let (status, text) = s.get("/schema").await;
    assert_eq!(status, 200);
    let schema: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["tx"], 30);
    let agreement = schema["labels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["label"] == "Agreement")
        .unwrap();
    assert_eq!(agreement["count"], 10);
    assert!(
        agreement["keys"]
            .as_array()
            .unwrap()
            .contains(&json!("stage"))
    );
    assert!(
        schema["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| { r["from"] == "Actor" && r["type"] == "PARTY_TO" && r["to"] == "Agreement" })
    );
    let (status, health) = s.get("/health").await;
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(
        (health["status"].as_str(), health["tx"].as_u64()),
        (Some("ok"), Some(30))
    );
    s.query("RETURN 1").await;
    s.query("RETURN (").await;
    let (status, metrics) = s.get("/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "diplograph_http_requests_total{route=\"POST /query\",status=\"200\"} 1",
        "diplograph_http_requests_total{route=\"POST /query\",status=\"400\"} 1",
        "diplograph_head_tx 30",
        "diplograph_nodes 140",
        "diplograph_edges 159",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line:?} in\n{metrics}"
        );
    }
    assert!(
        metrics.contains("diplograph_request_duration_seconds_bucket"),
        "{metrics}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_tx_reads_a_past_state() {
    let s = Server::writable().await;
    let programmes =
        "MATCH (p:Programme)-[:PART_OF]->(:Agreement {id: \"yogyakarta-kyoto\"}) RETURN count(p)";
    let (_, now) = s.query(programmes).await;
    let (status, then) = s
        .post("/query", json!({ "query": programmes, "at_tx": 28 }), None)
        .await;
    assert_eq!(status, 200, "{then}");
    // Before the correction (tx 29) the JIBB was filed under Yogyakarta–Kyoto.
    assert_eq!(now["rows"], json!([[4]]));
    assert_eq!(then["rows"], json!([[5]]));
    assert_eq!(then["tx"], 28);
    assert!(
        then["pin"]["query"]
            .as_str()
            .unwrap()
            .starts_with("AT TX 28 ")
    );
    let (status, body) = s
        .post("/query", json!({ "query": programmes, "at_tx": 99 }), None)
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has 30 transactions")
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_its_time_is_stopped_with_408() {
    let s = Server::start(Config {
        limits: Limits {
            timeout: Duration::from_millis(300),
            ..Limits::default()
        },
        ..Config::default()
    })
    .await;
    let started = std::time::Instant::now();
    let (status, body) = s
        .query("MATCH (a)-[*1..12]-(b {name: \"nobody\"}) RETURN count(*)")
        .await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (408, Some("timeout")),
        "{body}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_clear_errors() {
    let s = Server::start(Config {
        token: Some(TOKEN.to_owned()),
        limits: Limits {
            max_body: 1000,
            timeout: Duration::from_secs(30),
            max_rows: 50,
            max_connections: 4,
        },
    })
    .await;
    let big = "x".repeat(2000);
    let (status, body) = s
        .post(
            "/query",
            json!({ "query": format!("RETURN \"{big}\"") }),
            None,
        )
        .await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--max-body"),
        "{body}"
    );
    let (status, body) = s.query("MATCH (a) RETURN a").await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (422, Some("limit")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than 50 rows")
    );
    // Connections: hold four open (event streams), the fifth is told why it is refused.
    let mut held = Vec::new();
    for _ in 0..4 {
        let r = s
            .http
            .get(format!("{}/transactions?from=30", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        held.push(r);
    }
    // A fresh client, so it cannot reuse a pooled connection.
    let fresh = reqwest::Client::new();
    let r = fresh
        .get(format!("{}/health", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let text = r.text().await.unwrap();
    assert!(text.contains("too many connections"), "{text}");
    drop(held);
    // Once they close, the server serves again.
    let mut served = false;
    for _ in 0..50 {
        let r = reqwest::Client::new()
            .get(format!("{}/health", s.base))
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served);
    s.stop().await;
}

/// Reads server-sent events until `n` transactions' headers have arrived; returns their
/// ids and header lines, and the event lines seen meanwhile.
async fn read_stream<S, B>(
    response: &mut S,
    buffer: &mut String,
    n: usize,
) -> (Vec<u64>, Vec<String>, Vec<String>)
where
    S: futures_util::Stream<Item = reqwest::Result<B>> + Unpin,
    B: AsRef<[u8]>,
{
    let (mut ids, mut headers, mut events) = (Vec::new(), Vec::new(), Vec::new());
    while ids.len() < n {
        if let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let id = event.lines().find_map(|l| l.strip_prefix("id: "));
            let data = event.lines().find_map(|l| l.strip_prefix("data: "));
            match (id, data) {
                (Some(id), Some(d)) => {
                    ids.push(id.parse().unwrap());
                    headers.push(d.to_owned());
                }
                (None, Some(d)) => events.push(d.to_owned()),
                _ => {}
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.next())
            .await
            .expect("the stream sends within 10 s")
            .expect("the stream is open")
            .unwrap();
        buffer.push_str(std::str::from_utf8(chunk.as_ref()).unwrap());
    }
    (ids, headers, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_catches_up_then_follows_new_transactions() {
    let s = Server::writable().await;
    let response = s
        .http
        .get(format!("{}/transactions?from=25", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = response.bytes_stream();
    let mut buffer = String::new();
    let (ids, headers, _) = read_stream(&mut body, &mut buffer, 6).await;
    assert_eq!(ids, [25, 26, 27, 28, 29, 30]);
    let first: Value = serde_json::from_str(&headers[0]).unwrap();
    assert_eq!(first["tx"], 25);
    // Now a write: it arrives on the open stream.
    let write = json!({ "statements": "CREATE (:Actor {id: \"serang\", name: \"Serang\"}) SOURCE \"syuryansyah2024\"" });
    let (status, _) = s.post("/transactions", write, Some(TOKEN)).await;
    assert_eq!(status, 200);
    let (ids, headers, _) = read_stream(&mut body, &mut buffer, 1).await;
    assert_eq!(ids, [31]);
    let header: Value = serde_json::from_str(&headers[0]).unwrap();
    assert_eq!(header["events"], 1);
    // Its event follows its header.
    while !buffer.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(
        buffer.starts_with(
            "event: event\ndata: {\"tx\":31,\"event\":{\"node_added\":{\"id\":\"serang\""
        ),
        "{buffer}"
    );
    let (status, text) = s.get("/transactions?from=x").await;
    assert_eq!(status, 400, "{text}");
    // Shutting down ends open streams, so it completes.
    tokio::time::timeout(Duration::from_secs(10), s.stop())
        .await
        .expect("shutdown ends the stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_while_a_write_is_in_flight_finishes_and_keeps_it() {
    let s = Server::writable().await;
    let path = s.path.clone();
    // A write that takes a while: 100,000 nodes in one transaction.
    let write = json!({ "statements":
        "UNWIND range(1, 100000) AS i CREATE (:Actor {id: \"bulk-\" + i, name: \"n\" + i}) SOURCE \"syuryansyah2024\"" });
    let http = s.http.clone();
    let url = format!("{}/transactions", s.base);
    let in_flight = tokio::spawn(async move {
        let r = http
            .post(url)
            .bearer_auth(TOKEN)
            .json(&write)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    });
    // Let the request reach the server, then ask it to stop.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !in_flight.is_finished(),
        "the write is still in flight when shutdown begins"
    );
    s.shutdown.cancel();
    let (status, body) = in_flight.await.unwrap();
    let kb = s.task.await.unwrap().unwrap();
    assert_eq!(status, 200, "the write in flight was answered: {body}");
    assert_eq!(body["tx"], 31);
    assert_eq!(kb.tx().0, 31);
    drop(kb);
    // Acknowledged means on disk: the file, opened again, has it.
    let reopened = Database::open_file(&path).unwrap();
    assert_eq!(reopened.tx().0, 31);
    assert!(reopened.view().node("bulk-100000").is_some());
    // And new connections after the stop are refused.
    drop(reopened);
    drop(s._dir);
}
