//! A listener that serves at most so many connections at once. One more is answered with a
//! `503` that says why, and closed, rather than left waiting in the backlog.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Counts of connections, for `/metrics`.
#[derive(Debug, Default)]
pub struct ConnectionCounters {
    /// Accepted and served.
    pub accepted: AtomicU64,
    /// Refused because the limit was reached.
    pub refused: AtomicU64,
}

/// A `TcpListener` with a cap on open connections.
pub struct ConnectionLimit {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    max: usize,
    counters: Arc<ConnectionCounters>,
}

impl ConnectionLimit {
    /// Wraps `listener`, allowing `max` connections at once.
    pub fn new(listener: TcpListener, max: usize) -> ConnectionLimit {
        ConnectionLimit {
            listener,
            permits: Arc::new(Semaphore::new(max)),
            max,
            counters: Arc::new(ConnectionCounters::default()),
        }
    }

    /// The counters this listener keeps.
    pub fn counters(&self) -> Arc<ConnectionCounters> {
        Arc::clone(&self.counters)
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.max - self.permits.available_permits()
    }
}

impl axum::serve::Listener for ConnectionLimit {
    type Io = Limited;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Limited, SocketAddr) {
        loop {
            let (stream, addr) = match self.listener.accept().await {
                Ok(pair) => pair,
                Err(_) => {
                    // Out of file descriptors and the like: wait a little, as axum does.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            match Arc::clone(&self.permits).try_acquire_owned() {
                Ok(permit) => {
                    self.counters.accepted.fetch_add(1, Ordering::Relaxed);
                    return (
                        Limited {
                            stream,
                            _permit: permit,
                        },
                        addr,
                    );
                }
                Err(_) => {
                    self.counters.refused.fetch_add(1, Ordering::Relaxed);
                    let max = self.max;
                    tokio::spawn(refuse(stream, max));
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// Tells a connection over the limit why it is closed.
async fn refuse(mut stream: TcpStream, max: usize) {
    let body = format!(
        "{{\"error\":{{\"kind\":\"limit\",\"message\":\"too many connections: this server \
         serves {max} at once; retry shortly\"}}}}"
    );
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        // Read the request's head first: a client that is answered before it has sent its
        // request takes the answer for a broken connection, not for what it says.
        let mut head = Vec::with_capacity(1024);
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// A connection holding its place under the limit until it closes.
pub struct Limited {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Limited {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Limited {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
