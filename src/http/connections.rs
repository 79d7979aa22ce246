//! Connection limits: a cap on open connections, a deadline for each request head and a
//! deadline for an idle kept-alive connection's next request, so that silent or drip-fed
//! sockets are closed and cannot keep the server from answering.
//!
//! The listener holds one permit per open connection. At the cap, a new connection takes the
//! place of an idle or silent one (see `LimitedListener`); the cap keeps the descriptors the
//! server needs (database, files) free.
//! Each connection carries a [`Clock`] of what it is doing: waiting for a request head
//! (deadline: `header_timeout` from the first byte, or from the accept), serving a request (no
//! deadline: handlers bound themselves), idle between requests (deadline: `idle_timeout`), or
//! upgraded to a WebSocket (no deadline: the event streams ping and time out on their own). A
//! read that is pending past the deadline fails, which makes hyper close the connection.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use futures_util::task::AtomicWaker;
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
    /// The connection's task, parked on a read: a new deadline must wake it to be armed.
    reader: AtomicWaker,
    /// Closed to make room for a new connection.
    evicted: std::sync::atomic::AtomicBool,
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
            drop(phase);
            self.wake_reader();
        }
    }

    fn wake_reader(&self) {
        self.reader.wake();
    }

    /// How willing this connection is to be closed for a new one, and since when: an idle
    /// kept-alive connection first, then one still waiting for its request head; never one
    /// serving a request or a stream.
    fn eviction_rank(&self) -> Option<(u8, Instant)> {
        if self.evicted.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        match self.phase() {
            Phase::Idle(since) => Some((0, since)),
            Phase::Head(since) => Some((1, since)),
            Phase::Busy(_) | Phase::Upgraded => None,
        }
    }

    fn evict(&self) {
        self.evicted
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.wake_reader();
    }

    /// Bytes arrived: on an idle connection they start the next request head.
    fn on_read(&self) {
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        if let Phase::Idle(_) = *phase {
            *phase = Phase::Head(Instant::now());
        }
    }
}

/// A TCP listener that holds at most `max` open connections and gives every connection its
/// deadlines. At the cap, a new connection takes the place of the one that has been idle, or
/// waiting for its request head, the longest (so a crowd of silent sockets cannot keep anyone
/// else out); when every connection is serving a request or a stream, it waits for one to end.
pub struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    max: usize,
    limits: Limits,
    /// The open connections' clocks (and some of closed ones, pruned now and then).
    open: Vec<Weak<Clock>>,
}

impl LimitedListener {
    pub fn new(inner: TcpListener, max: usize, limits: Limits) -> LimitedListener {
        let max = max.max(1);
        LimitedListener {
            inner,
            permits: Arc::new(Semaphore::new(max)),
            max,
            limits,
            open: Vec::new(),
        }
    }

    /// A place for one more connection, making one if need be.
    async fn place(&mut self) -> OwnedSemaphorePermit {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return permit;
        }
        self.open.retain(|clock| clock.strong_count() > 0);
        let victim = self
            .open
            .iter()
            .filter_map(Weak::upgrade)
            .filter_map(|clock| clock.eviction_rank().map(|rank| (rank, clock)))
            .min_by_key(|(rank, _)| *rank);
        if let Some((_, clock)) = victim {
            clock.evict();
        }
        // The semaphore is never closed.
        self.permits
            .clone()
            .acquire_owned()
            .await
            .expect("the connection semaphore stays open")
    }
}

impl Listener for LimitedListener {
    type Io = TimedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TimedStream, SocketAddr) {
        let (stream, addr) = Listener::accept(&mut self.inner).await;
        let permit = self.place().await;
        let _ = stream.set_nodelay(true);
        let clock = Arc::new(Clock {
            phase: Mutex::new(Phase::Head(Instant::now())),
            requests: Default::default(),
            reader: AtomicWaker::new(),
            evicted: Default::default(),
            limits: self.limits,
        });
        if self.open.len() >= 2 * self.max {
            self.open.retain(|clock| clock.strong_count() > 0);
        }
        self.open.push(Arc::downgrade(&clock));
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
        // The waker is stored before the eviction flag is read, and `evict` sets the flag before
        // it takes the waker: either this read sees the flag, or `evict` wakes this task.
        self.clock.reader.register(cx.waker());
        if self
            .clock
            .evicted
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "closed to make room for a new connection",
            )));
        }
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
