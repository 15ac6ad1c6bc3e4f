//! The HTTP routes. Requests and responses are the server's wire types (JSON); errors are
//! `{"error": {"kind", "message", "line", "column"}}` with a status that says whose fault
//! it was:
//!
//! | status | when |
//! |---|---|
//! | 400 | malformed JSON, a syntax error, a bad parameter |
//! | 401 | a write without the right bearer token |
//! | 403 | a write sent to `/query`, any write when the server has no token, `LOAD CSV` |
//! | 408 | the statement ran out of its time budget |
//! | 413 | the request body is over the limit |
//! | 422 | it parses but fails: unknown names, a type error, too many rows, a refused write |
//! | 500 | the storage failed |
//! | 503 | too many connections (from the listener) |

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::{MIN_TOKEN_LEN, Shared};
use crate::event::TxMeta;
use crate::graph::schema::Schema;
use crate::query::ast::Statement;
use crate::query::format;
use crate::query::session::only_reads;
use crate::query::{Cause, ErrorKind, QueryError, Session, Val, parser};

/// The routes, with their body limit and metrics.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let max_body = shared.config.limits.max_body;
    Router::new()
        .route("/query", post(query))
        .route(
            "/transactions",
            post(transactions).get(super::stream::transactions),
        )
        .route("/schema", get(schema))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), observe))
        .with_state(shared)
}

/// Counts each request by route and status, with its duration.
async fn observe(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("other", |p| p.as_str());
    let route = format!("{} {path}", request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    shared.metrics.observe(
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// An error as the API gives it.
pub(crate) struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    at: Option<(usize, usize)>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            at: None,
        }
    }

    /// A query error, with its line and column in `source`.
    fn query(e: &QueryError, source: &str) -> ApiError {
        let (status, kind) = match e.kind {
            ErrorKind::Syntax => (StatusCode::BAD_REQUEST, "syntax"),
            ErrorKind::Semantic => (StatusCode::UNPROCESSABLE_ENTITY, "semantic"),
            ErrorKind::Runtime => (StatusCode::UNPROCESSABLE_ENTITY, "runtime"),
            ErrorKind::Budget if e.cause == Cause::TimeLimit => {
                (StatusCode::REQUEST_TIMEOUT, "timeout")
            }
            ErrorKind::Budget => (StatusCode::UNPROCESSABLE_ENTITY, "limit"),
            ErrorKind::Write if e.cause == Cause::Storage => {
                (StatusCode::INTERNAL_SERVER_ERROR, "storage")
            }
            ErrorKind::Write => (StatusCode::UNPROCESSABLE_ENTITY, "refused"),
        };
        ApiError {
            status,
            kind,
            message: e.message.clone(),
            at: e.line_column(source),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "kind": self.kind, "message": self.message });
        if let Some((line, column)) = self.at {
            error["line"] = json!(line);
            error["column"] = json!(column);
        }
        let mut response = (self.status, axum::Json(json!({ "error": error }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                "Bearer".parse().expect("a header"),
            );
        }
        response
    }
}

/// A body read as JSON of type `T`.
fn body_json<T: for<'de> Deserialize<'de>>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|r| {
        let status = r.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "the request body is over this server's limit (--max-body)".to_owned()
        } else {
            r.body_text()
        };
        ApiError::new(status, "request", message)
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "request", format!("the body: {e}")))
}

/// Runs blocking work (evaluation, the log) off the reactor.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| {
        Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the request failed inside the server (a bug: please report it)",
        ))
    })
}

/// `POST /query`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryRequest {
    query: String,
    #[serde(default)]
    params: serde_json::Map<String, Json>,
    at_tx: Option<u64>,
}

async fn query(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: QueryRequest = body_json(body)?;
    let started = Instant::now();
    let mut answer = blocking(move || run_query(&shared, &request)).await?;
    answer["elapsed_ms"] = json!(started.elapsed().as_secs_f64() * 1000.0);
    Ok(axum::Json(answer).into_response())
}

fn session(shared: &Shared, params: &serde_json::Map<String, Json>) -> Result<Session, ApiError> {
    let mut session = Session::new();
    session.timeout = Some(shared.config.limits.timeout);
    session.max_rows = shared.config.limits.max_rows;
    for (name, value) in params {
        let v = json_to_val(value).map_err(|m| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "request",
                format!("params.{name}: {m}"),
            )
        })?;
        session.params.insert(name.clone(), v);
    }
    Ok(session)
}

fn run_query(shared: &Shared, request: &QueryRequest) -> Result<Json, ApiError> {
    let source = request.query.as_str();
    let script = parser::parse_script(source).map_err(|e| ApiError::query(&e, source))?;
    let [statement] = script.statements.as_slice() else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "request",
            format!(
                "a query is one statement; this has {}",
                script.statements.len()
            ),
        ));
    };
    refuse_file_access(statement)?;
    if !only_reads(statement) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this statement writes: send it to POST /transactions, with the token",
        ));
    }
    let mut session = session(shared, &request.params)?;
    session.at = request.at_tx.map(crate::time::TxId);
    // The read lock is held for the whole evaluation: the query sees one transaction.
    let kb = shared.read();
    let outcome = session
        .read_statement(kb.graph(), source, statement)
        .map_err(|e| ApiError::query(&e, source))?;
    let mut answer = format::json(&outcome);
    if !outcome.warnings.is_empty() {
        answer["warnings"] = outcome
            .warnings
            .iter()
            .map(|w| {
                let (line, column) = crate::query::error::line_column(source, w.span.start);
                json!({ "message": w.message, "line": line, "column": column })
            })
            .collect();
    }
    Ok(answer)
}

/// `LOAD CSV` reads files on the server's machine: over HTTP that would hand any client
/// every file the server can read, so it is refused (send rows as statements or events).
fn refuse_file_access(statement: &Statement) -> Result<(), ApiError> {
    let query = match statement {
        Statement::Query(q) => q,
        Statement::Timeline(t) => &t.query,
        _ => return Ok(()),
    };
    if query
        .clauses
        .iter()
        .any(|c| matches!(c, crate::query::ast::Clause::LoadCsv { .. }))
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "LOAD CSV reads files on the server's machine and is not served over HTTP; \
             send the rows as statements or events, or load the file with `diplograph run`",
        ));
    }
    Ok(())
}

/// A JSON value as a parameter.
fn json_to_val(v: &Json) -> Result<Val, String> {
    Ok(match v {
        Json::Null => Val::Null,
        Json::Bool(b) => Val::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Val::Int(i),
            None => match n.as_f64() {
                Some(f) if f.is_finite() => Val::Float(f),
                _ => return Err(format!("{n} is not a 64-bit integer or a finite float")),
            },
        },
        Json::String(s) => Val::str(s),
        Json::Array(items) => Val::list(items.iter().map(json_to_val).collect::<Result<_, _>>()?),
        Json::Object(map) => {
            let m: BTreeMap<String, Val> = map
                .iter()
                .map(|(k, x)| Ok((k.clone(), json_to_val(x)?)))
                .collect::<Result<_, String>>()?;
            Val::Map(Arc::new(m))
        }
    })
}

/// `POST /transactions`: statements or events.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WriteRequest {
    statements: Option<String>,
    events: Option<Vec<Json>>,
    #[serde(default)]
    params: serde_json::Map<String, Json>,
    author: Option<String>,
    message: Option<String>,
}

/// Checks the bearer token before anything of the request is read.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    use sha2::Digest as _;
    let Some(token) = &shared.config.token else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this server takes no writes: start it with --token-file FILE or \
             DIPLOGRAPH_TOKEN set",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(given) = given else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "writes need the header `Authorization: Bearer <token>`",
        ));
    };
    // Digests compared, not the texts: how long the comparison takes tells nothing of
    // the token.
    if sha2::Sha256::digest(given.as_bytes()) != sha2::Sha256::digest(token.as_bytes()) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the bearer token is not this server's",
        ));
    }
    Ok(())
}

async fn transactions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let request: WriteRequest = body_json(body)?;
    let started = Instant::now();
    let notify = Arc::clone(&shared);
    let mut answer = blocking(move || run_write(&shared, request)).await?;
    if let Some(head) = answer["head"].as_u64() {
        notify.head.send_replace(head);
    }
    answer["elapsed_ms"] = json!(started.elapsed().as_secs_f64() * 1000.0);
    Ok((StatusCode::OK, axum::Json(answer)).into_response())
}

fn run_write(shared: &Shared, request: WriteRequest) -> Result<Json, ApiError> {
    let meta = TxMeta {
        author: request.author.clone(),
        message: request.message.clone(),
    };
    match (&request.statements, &request.events) {
        (Some(source), None) => {
            let source = source.as_str();
            let script = parser::parse_script(source).map_err(|e| ApiError::query(&e, source))?;
            if script.statements.is_empty() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "request",
                    "`statements` holds no statement",
                ));
            }
            if script.statements.iter().any(|s| {
                matches!(
                    s,
                    Statement::Begin(_) | Statement::Commit(_) | Statement::Rollback(_)
                )
            }) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "request",
                    "a request is one transaction already: leave out BEGIN, COMMIT and ROLLBACK",
                ));
            }
            for statement in &script.statements {
                refuse_file_access(statement)?;
            }
            let mut session = session(shared, &request.params)?;
            session.author = meta.author;
            let mut kb = shared.write();
            // Several statements are one group: queued, then written together at COMMIT.
            let several = script.statements.len() > 1;
            let nowhere = crate::query::ast::Span::new(0, 0);
            if several {
                session
                    .execute(&mut kb, source, &Statement::Begin(nowhere))
                    .map_err(|e| ApiError::query(&e, source))?;
            }
            let mut written = Vec::new();
            for statement in &script.statements {
                let outcome = session
                    .execute(&mut kb, source, statement)
                    .map_err(|e| ApiError::query(&e, source))?;
                written.extend(outcome.written);
            }
            if several {
                let outcome = session
                    .execute(&mut kb, source, &Statement::Commit(nowhere))
                    .map_err(|e| ApiError::query(&e, source))?;
                written.extend(outcome.written);
            }
            let head = kb.tx().0;
            let events: u64 = written.iter().map(|h| h.event_count).sum();
            Ok(json!({
                "tx": written.last().map_or(head, |h| h.tx.0),
                "written": written.iter().map(|h| h.tx.0).collect::<Vec<_>>(),
                "events": events,
                "head": head,
            }))
        }
        (None, Some(values)) => {
            let events = crate::interchange::jsonl::events_from_json(values)
                .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "request", m))?;
            if events.is_empty() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "request",
                    "`events` is empty",
                ));
            }
            let mut kb = shared.write();
            let header = kb.commit(meta, events).map_err(|e| {
                let status = match e {
                    crate::error::CommitError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                let kind = if status == StatusCode::UNPROCESSABLE_ENTITY {
                    "refused"
                } else {
                    "storage"
                };
                ApiError::new(status, kind, e.to_string())
            })?;
            Ok(json!({
                "tx": header.tx.0,
                "written": [header.tx.0],
                "events": header.event_count,
                "head": kb.tx().0,
            }))
        }
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "request",
            "give either `statements` (text of the language) or `events` (a list), not both",
        )),
    }
}

/// `GET /schema`.
async fn schema(State(shared): State<Arc<Shared>>) -> Result<Response, ApiError> {
    let answer = blocking(move || {
        let kb = shared.read();
        let s = Schema::of(&kb.view());
        let labels: Vec<Json> = s
            .labels
            .iter()
            .map(|(l, (n, keys))| json!({ "label": l, "count": n, "keys": keys }))
            .collect();
        let relationships: Vec<Json> = s
            .patterns
            .iter()
            .map(|((from, t, to), (n, keys))| {
                json!({ "from": from, "type": t, "to": to, "count": n, "keys": keys })
            })
            .collect();
        Ok(json!({ "tx": s.tx.0, "labels": labels, "relationships": relationships }))
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

/// `GET /health`.
async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let head = *shared.head.borrow();
    axum::Json(json!({
        "status": "ok",
        "tx": head,
        "version": env!("CARGO_PKG_VERSION"),
        "writes": shared.config.token.as_ref().is_some_and(|t| t.len() >= MIN_TOKEN_LEN),
    }))
    .into_response()
}

/// `GET /metrics`.
async fn metrics(State(shared): State<Arc<Shared>>) -> Result<Response, ApiError> {
    let text = blocking(move || {
        let kb = shared.read();
        let stats = crate::graph::snapshot::Stats::of(&kb.view());
        Ok(shared.metrics.render(kb.tx().0, stats.nodes, stats.edges))
    })
    .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route: POST /query, POST /transactions, GET /transactions?from=N, \
         GET /schema, GET /health, GET /metrics",
    )
}
