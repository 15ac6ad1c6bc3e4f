//! `GET /transactions?from=N`: the log as server-sent events, from transaction `N` (1 when
//! not given) to the latest, then each new transaction as it commits — a catch-up
//! subscription, so a replica or a notebook can follow the log.
//!
//! Each line of the JSON Lines export (`diplograph export-events`) is one event: a
//! transaction's header as `event: tx` with `id: <tx>`, then its events as `event: event`.
//! Concatenating the `data` of every event, one per line, gives a file that
//! `diplograph import-events` reads. A client that reconnects resumes from the last `id`
//! plus one (`from`, or the `Last-Event-ID` header).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use tokio::sync::watch;

use super::Shared;
use super::routes::ApiError;
use crate::time::TxId;

/// How many transactions are read from the log at a time.
const BATCH: u64 = 16;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StreamParams {
    from: Option<u64>,
}

pub(crate) async fn transactions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    params: Result<Query<StreamParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) =
        params.map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "request", r.body_text()))?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|last| last + 1);
    let from = params.from.or(resume).unwrap_or(1).max(1);
    let state = Follow {
        next: from,
        buffer: VecDeque::new(),
        head: shared.head.subscribe(),
        shared,
    };
    Ok(Sse::new(follow(state))
        .keep_alive(KeepAlive::default())
        .into_response())
}

struct Follow {
    shared: Arc<Shared>,
    /// The next transaction to read.
    next: u64,
    /// Lines read and not yet sent: (tx, line, is a header).
    buffer: VecDeque<(TxId, String, bool)>,
    head: watch::Receiver<u64>,
}

fn follow(state: Follow) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(state, |mut s| async move {
        loop {
            if s.shared.shutdown.is_cancelled() {
                return None;
            }
            if let Some((tx, line, header)) = s.buffer.pop_front() {
                let event = if header {
                    Event::default().event("tx").id(tx.0.to_string()).data(line)
                } else {
                    Event::default().event("event").data(line)
                };
                return Some((Ok(event), s));
            }
            let head = *s.head.borrow_and_update();
            if s.next <= head {
                let (from, to) = (s.next, head.min(s.next + BATCH - 1));
                let shared = Arc::clone(&s.shared);
                let read = tokio::task::spawn_blocking(move || {
                    let kb = shared.read();
                    crate::interchange::jsonl::transaction_lines(kb.log(), TxId(from), TxId(to))
                })
                .await;
                match read {
                    Ok(Ok(lines)) => {
                        let mut last = None;
                        for (tx, line) in lines {
                            let header = last != Some(tx);
                            last = Some(tx);
                            s.buffer.push_back((tx, line, header));
                        }
                        s.next = to + 1;
                    }
                    Ok(Err(e)) => {
                        let event = Event::default()
                            .event("error")
                            .data(format!("the log could not be read: {e}"));
                        s.next = u64::MAX;
                        return Some((Ok(event), s));
                    }
                    Err(_) => return None,
                }
                continue;
            }
            // Caught up: wait for the next commit, or the end.
            let shutdown = s.shared.shutdown.clone();
            tokio::select! {
                changed = s.head.changed() => if changed.is_err() { return None; },
                () = shutdown.cancelled() => return None,
            }
        }
    })
}
