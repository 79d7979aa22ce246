//! Connection limits: a cap on open connections, a deadline for each request head and a
//! deadline for an idle kept-alive connection's next request, so that silent or drip-fed
//! sockets are closed and cannot keep the server from answering.
//!
//! The listener holds one permit per open connection and stops accepting at the cap (new
//! clients wait in the kernel's backlog instead of taking the descriptors the server needs).
//! Each connection carries a [`Clock`] of what it is doing: waiting for a request head
//! (deadline: `header_timeout` from the first byte, or from the accept), serving a request (no
//! deadline: handlers bound themselves), idle between requests (deadline: `idle_timeout`), or
//! upgraded to a WebSocket (no deadline: the event streams ping and time out on their own). A
//! read that is pending past the deadline fails, which makes hyper close the connection.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// What a connection is doing, and since when.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for (the rest of) a request head since this instant.
    Head(Instant),
    /// The request with this number is being served.
    Busy(u64),
    /// The last response is done; waiting for the next request since this instant.
    Idle(Instant),
    /// Upgraded to a WebSocket.
    Upgraded,
}

/// The shared state of one connection: written by the request middleware, read by the socket.
#[derive(Debug)]
pub struct Clock {
    phase: Mutex<Phase>,
    requests: std::sync::atomic::AtomicU64,
    limits: Limits,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Clock {
    fn set(&self, phase: Phase) {
        *self.phase.lock().unwrap_or_else(|e| e.into_inner()) = phase;
    }

    fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When a read still pending must give up.
    fn deadline(&self) -> Option<Instant> {
        match self.phase() {
            Phase::Head(since) => Some(since + self.limits.header_timeout),
            Phase::Idle(since) => Some(since + self.limits.idle_timeout),
            Phase::Busy(_) | Phase::Upgraded => None,
        }
    }

    /// A request head was read: the connection is busy with request number N.
    fn start_request(&self) -> u64 {
        let n = self
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.set(Phase::Busy(n));
        n
    }

    /// Request N's response was handed to hyper: unless a later request started meanwhile,
    /// the connection now waits for the next one.
    fn finish_request(&self, n: u64) {
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        if let Phase::Busy(current) = *phase
            && current == n
        {
            *phase = Phase::Idle(Instant::now());
        }
    }

    /// Bytes arrived: on an idle connection they start the next request head.
    fn on_read(&self) {
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        if let Phase::Idle(_) = *phase {
            *phase = Phase::Head(Instant::now());
        }
    }
}

/// A TCP listener that stops accepting at `max` open connections and gives every connection
/// its deadlines.
pub struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    limits: Limits,
}

impl LimitedListener {
    pub fn new(inner: TcpListener, max: usize, limits: Limits) -> LimitedListener {
        LimitedListener {
            inner,
            permits: Arc::new(Semaphore::new(max.max(1))),
            limits,
        }
    }
}

impl Listener for LimitedListener {
    type Io = TimedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TimedStream, SocketAddr) {
        // The semaphore is never closed.
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the connection semaphore stays open");
        let (stream, addr) = Listener::accept(&mut self.inner).await;
        let _ = stream.set_nodelay(true);
        let clock = Arc::new(Clock {
            phase: Mutex::new(Phase::Head(Instant::now())),
            requests: Default::default(),
            limits: self.limits,
        });
        let io = TimedStream {
            inner: stream,
            clock,
            timer: None,
            _permit: permit,
        };
        (io, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A connection's socket: reads fail once the connection's deadline has passed.
pub struct TimedStream {
    inner: TcpStream,
    clock: Arc<Clock>,
    /// The armed deadline timer, for the deadline it was armed for.
    timer: Option<(Instant, Pin<Box<Sleep>>)>,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for TimedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        if let Poll::Ready(result) = Pin::new(&mut self.inner).poll_read(cx, buf) {
            if buf.filled().len() > before {
                self.clock.on_read();
            }
            return Poll::Ready(result);
        }
        let Some(deadline) = self.clock.deadline() else {
            self.timer = None;
            return Poll::Pending;
        };
        let timer = match &mut self.timer {
            Some((armed, timer)) if *armed == deadline => timer,
            slot => {
                &mut slot
                    .insert((deadline, Box::pin(tokio::time::sleep_until(deadline))))
                    .1
            }
        };
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client sent no request in time",
        )))
    }
}

impl AsyncWrite for TimedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// What a request learns of its connection: the peer's address and the connection's clock.
#[derive(Clone, Debug)]
pub struct Peer {
    pub addr: SocketAddr,
    clock: Arc<Clock>,
}

impl axum::extract::connect_info::Connected<IncomingStream<'_, LimitedListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, LimitedListener>) -> Peer {
        Peer {
            addr: *stream.remote_addr(),
            clock: stream.io().clock.clone(),
        }
    }
}

/// Marks the connection busy while a request is served, and exempts a connection upgraded to
/// a WebSocket from the deadlines.
pub async fn track(request: Request, next: Next) -> Response {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<Peer>>().cloned() else {
        return next.run(request).await;
    };
    let n = peer.clock.start_request();
    let mut response = next.run(request).await;
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        peer.clock.set(Phase::Upgraded);
    } else {
        // hyper drops the response's extensions once it has written the head; the bodies here
        // are small JSON, so that is when the connection is done with the request.
        response.extensions_mut().insert(Arc::new(IdleOnDrop {
            clock: peer.clock,
            request: n,
        }));
    }
    response
}

/// Turns the connection idle when dropped.
struct IdleOnDrop {
    clock: Arc<Clock>,
    request: u64,
}

impl Drop for IdleOnDrop {
    fn drop(&mut self) {
        self.clock.finish_request(self.request);
    }
}

/// The default cap on open connections: the descriptor limit less room for the database
/// pool, the log and the files the server opens.
pub fn default_max_connections() -> usize {
    const RESERVED: u64 = 64;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur
    } else {
        1024
    };
    soft.saturating_sub(RESERVED).clamp(16, 1_000_000) as usize
}
