//! The networked server: HTTP + JSON on tokio and axum, for a research group sharing one
//! knowledge base.
//!
//! - `POST /query` — a read (query, `HISTORY`, `TIMELINE`, `DIFF`), optionally `at_tx`.
//! - `POST /transactions` — statements or events as one transaction; needs the bearer token.
//! - `GET /transactions?from=N` — every transaction from `N` on as server-sent events, then
//!   each new one as it commits (a catch-up subscription).
//! - `GET /schema`, `GET /health`, `GET /metrics` (Prometheus text).
//!
//! One `Database` behind a read-write lock: queries share it, a write holds it alone, so a
//! query sees the transaction current when it began and writes are serialized through the
//! one appender. Evaluation runs on tokio's blocking pool, never on the reactor.
//!
//! - [`routes`]: the handlers; [`stream`]: the event stream; [`limits`]: the listener that caps
//!   connections; [`metrics`]: counters and the Prometheus text.

mod limits;
mod metrics;
mod routes;
mod stream;

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::db::Database;
use crate::log::RedbLog;

pub use limits::ConnectionLimit;

/// What the server allows; each limit is a clear error when hit.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// Time allowed per query or write.
    pub timeout: Duration,
    /// Rows allowed per result.
    pub max_rows: usize,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body: 16 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            max_rows: 100_000,
            max_connections: 256,
        }
    }
}

/// The server's configuration.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The bearer token writes need; without one, writes are refused.
    pub token: Option<String>,
    /// The limits.
    pub limits: Limits,
}

/// The shortest token accepted: a guessable token is no protection.
pub const MIN_TOKEN_LEN: usize = 16;

/// What every handler shares.
pub(crate) struct Shared {
    kb: RwLock<Database<RedbLog>>,
    /// The latest committed transaction, for the event stream to wait on.
    head: watch::Sender<u64>,
    config: Config,
    metrics: metrics::Metrics,
    /// Cancelled when the server shuts down: event streams end, so shutdown can finish.
    shutdown: CancellationToken,
}

impl Shared {
    /// The knowledge base for reading (a poisoned lock is still consistent: a write that
    /// panicked was rolled back by `Database::write`).
    fn read(&self) -> RwLockReadGuard<'_, Database<RedbLog>> {
        self.kb
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Database<RedbLog>> {
        self.kb
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Serves `kb` on `listener` until `shutdown` is cancelled, then finishes the requests in
/// flight (writes included) and returns the knowledge base.
///
/// # Errors
/// When the listener fails.
pub async fn serve(
    kb: Database<RedbLog>,
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> std::io::Result<Database<RedbLog>> {
    let head = kb.tx().0;
    let limit = ConnectionLimit::new(listener, config.limits.max_connections);
    let metrics = metrics::Metrics::new(limit.counters());
    let shared = Arc::new(Shared {
        kb: RwLock::new(kb),
        head: watch::Sender::new(head),
        config,
        metrics,
        shutdown: shutdown.clone(),
    });
    let app = routes::router(Arc::clone(&shared));
    let signal = shutdown.clone();
    axum::serve(limit, app.into_make_service())
        .with_graceful_shutdown(async move { signal.cancelled().await })
        .await?;
    // Every connection has finished; the blocking tasks of their requests with them.
    let shared = wait_for_last(shared).await;
    Ok(shared
        .kb
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner))
}

/// The shared state once nothing else holds it (a write's blocking task may outlive its
/// connection by a moment).
async fn wait_for_last(mut shared: Arc<Shared>) -> Shared {
    loop {
        match Arc::try_unwrap(shared) {
            Ok(s) => return s,
            Err(again) => {
                shared = again;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
}

/// The runtime the server runs on: a worker thread per core, and a blocking pool (where
/// queries and writes are evaluated) of two threads per core. Evaluation is CPU-bound, so
/// more threads than that only switch contexts: under load, tokio's default pool grows to
/// a hundred threads on two cores, and the same load answers about a third slower. A
/// statement past the pool waits its turn; each is bounded by the time limit.
///
/// # Errors
/// When the operating system refuses the threads.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("diplograph-server")
        .max_blocking_threads(2 * cores)
        .build()
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn termination() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
