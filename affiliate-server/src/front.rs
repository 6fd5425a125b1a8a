//! The HTTP front: accepting connections under a cap, serving each with hyper's
//! HTTP/1.1, and the timeouts that keep idle, slow or silent clients from holding the
//! server.
//!
//! * A connection must deliver a request head within [`HEADER_TIMEOUT`] (10 s) of
//!   opening or of its head's first byte; between requests a kept-alive connection may
//!   stay idle for [`IDLE_TIMEOUT`] (60 s, longer than the usual load balancer's idle
//!   timeout, so the balancer closes first). Request bodies are read within 10 s
//!   (`http::json_body`).
//! * At most `max_connections` are open at once (shared by every worker). The process
//!   raises its soft open-files limit to the hard limit at start, and the cap never
//!   exceeds what that limit leaves room for (less [`RESERVED_FDS`]). A connection
//!   arriving at the cap is accepted into that reserve and makes room: idle
//!   connections (kept alive between requests, or opened and silent) close first, a
//!   few at a time ([`room_batch`]), so it is served at once; a connection answering a
//!   request is never closed for it. If no room is made within [`ROOM_WAIT`], the new
//!   connection is closed.
//! * On shutdown, listening stops, idle connections close, requests in flight finish,
//!   and whatever is still open after the grace period is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;

/// Longest wait for a request head, from a connection's start or its head's first byte.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a kept-alive connection may wait for its next request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest request head (and read buffer) of a connection: a 64 KiB link and its headers.
const MAX_HEAD_BYTES: usize = 96 * 1024;
/// File descriptors kept free of connections (the store, logs, the listening sockets).
const RESERVED_FDS: u64 = 128;
/// How long a connection accepted at the cap waits for room before it is closed.
pub const ROOM_WAIT: Duration = Duration::from_secs(1);
/// How often a connection's watchdog looks at it at most: the timeouts hold to within
/// this much, and a busy connection costs no wake-up per request.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// What every worker shares.
pub struct Front {
    slots: Arc<Semaphore>,
    grace: Duration,
    open: AtomicUsize,
    /// Idle connections still to close to make room.
    to_close: AtomicUsize,
    /// Wakes the connections when room is wanted.
    room_wanted: Notify,
    cap: usize,
}

/// How many idle connections close when one arrives at a cap of `cap`: 1 %, at least
/// one, so the next few arrivals find room at once.
#[must_use]
pub fn room_batch(cap: usize) -> usize {
    (cap / 100).max(1)
}

impl Front {
    /// A front for at most `max_connections` open connections (lowered to what the
    /// open-files limit allows, which is raised first) and `grace` to finish at
    /// shutdown. Returns it with the cap in force.
    pub fn new(max_connections: usize, grace: Duration) -> (Arc<Front>, usize) {
        let cap = max_connections.min(open_files_room());
        let front = Front {
            slots: Arc::new(Semaphore::new(cap)),
            grace,
            open: AtomicUsize::new(0),
            to_close: AtomicUsize::new(0),
            room_wanted: Notify::new(),
            cap,
        };
        (Arc::new(front), cap)
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// A permit for a connection just accepted; at the cap, asks idle connections to
    /// close and waits up to [`ROOM_WAIT`] for one of them. `None`: no room.
    async fn room(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if let Ok(p) = self.slots.clone().try_acquire_owned() {
            return Some(p);
        }
        self.to_close.store(room_batch(self.cap), Ordering::Release);
        self.room_wanted.notify_waiters();
        tokio::time::timeout(ROOM_WAIT, self.slots.clone().acquire_owned())
            .await
            .ok()?
            .ok()
    }

    /// Whether an idle connection should close now to make room (claiming one of the
    /// closes asked for).
    fn close_for_room(&self) -> bool {
        self.to_close
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// Raises the soft open-files limit to the hard one and returns how many connections
/// it leaves room for.
fn open_files_room() -> usize {
    #[cfg(unix)]
    {
        let soft = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
        usize::try_from(soft.saturating_sub(RESERVED_FDS).max(16)).unwrap_or(usize::MAX)
    }
    #[cfg(not(unix))]
    {
        usize::MAX
    }
}

/// Serves `listener` with `service` until `stop` turns true, then lets its
/// connections finish for the grace period.
pub async fn serve<S>(
    listener: TcpListener,
    service: S,
    front: Arc<Front>,
    stop: watch::Receiver<bool>,
) where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let live = Arc::new(());
    let mut stopping = stop.clone();
    loop {
        // Accepted first, then given room: at the cap, a new connection (in the
        // descriptors the cap keeps in reserve) makes idle ones close.
        let stream = tokio::select! {
            biased;
            _ = stopping.wait_for(|s| *s) => break,
            r = listener.accept() => match r {
                Ok((stream, addr)) => (stream, addr),
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let permit = tokio::select! {
            biased;
            _ = stopping.wait_for(|s| *s) => break,
            p = front.room() => match p {
                Some(p) => p,
                None => {
                    tracing::warn!("no room for a new connection: every connection is busy");
                    continue;
                }
            },
        };
        let (stream, addr) = stream;
        let _ = stream.set_nodelay(true);
        let (service, stop, front, live) =
            (service.clone(), stop.clone(), front.clone(), live.clone());
        front.open.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            connection(stream, addr.ip(), service, stop, &front).await;
            front.open.fetch_sub(1, Ordering::Relaxed);
            drop((permit, live));
        });
    }
    drop(listener);
    // Connections finish (idle ones close at once) within the grace period.
    let deadline = Instant::now() + front.grace;
    while Arc::strong_count(&live) > 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One connection: hyper's HTTP/1.1 under the header and idle timeouts.
async fn connection<S>(
    stream: TcpStream,
    peer: std::net::IpAddr,
    service: S,
    mut stop: watch::Receiver<bool>,
    front: &Front,
) where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    use tower::ServiceExt as _;
    let state = Arc::new(ConnState::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        state: state.clone(),
    });
    let requests = state.clone();
    let hyper_service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let busy = requests.begin();
        let mut req = req.map(axum::body::Body::new);
        // Where it came from, for the wrong-key throttle of the API (not on the
        // click path: an extension is an allocation).
        let path = req.uri().path();
        if path.contains("/v1/") || path.ends_with("/metrics") {
            req.extensions_mut().insert(crate::throttle::Peer(peer));
        }
        let call = service.clone().oneshot(req);
        async move {
            let resp = call.await;
            drop(busy);
            resp
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .keep_alive(true)
        .max_buf_size(MAX_HEAD_BYTES)
        .header_read_timeout(None);
    let conn = builder.serve_connection(io, hyper_service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended");
                }
                return;
            }
            () = state.expired() => {
                tracing::debug!("connection timed out");
                return;
            }
            () = front.room_wanted.notified() => {
                if state.idle() && front.close_for_room() {
                    tracing::debug!("idle connection closed to make room");
                    return;
                }
            }
            _ = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// A connection's timing, shared by its reader, its requests and its watchdog.
struct ConnState {
    /// When it was opened.
    base: Instant,
    /// Requests being answered.
    busy: AtomicUsize,
    /// Milliseconds after `base` when the next request head began (its first byte,
    /// or the connection's start); `u64::MAX` when none has begun.
    head_since: AtomicU64,
    /// Milliseconds after `base` of the last answer.
    idle_since: AtomicU64,
    /// Whether any byte arrived yet.
    spoke: std::sync::atomic::AtomicBool,
}

const NONE: u64 = u64::MAX;

impl ConnState {
    fn new() -> ConnState {
        ConnState {
            base: Instant::now(),
            busy: AtomicUsize::new(0),
            // A new connection owes its first head.
            head_since: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            spoke: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    /// A request began (its head was read).
    fn begin(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(NONE, Ordering::Release);
        Busy(self.clone())
    }

    /// Whether nothing is under way: no request being answered and no head begun (kept
    /// alive between requests, or opened and silent).
    fn idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0
            && (self.head_since.load(Ordering::Acquire) == NONE
                || !self.spoke.load(Ordering::Acquire))
    }

    /// Bytes arrived: between requests, they start the next head.
    fn read_some(&self) {
        if !self.spoke.load(Ordering::Relaxed) {
            self.spoke.store(true, Ordering::Release);
        }
        if self.busy.load(Ordering::Acquire) == 0 && self.head_since.load(Ordering::Relaxed) == NONE
        {
            let _ = self.head_since.compare_exchange(
                NONE,
                self.now(),
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }

    /// When the connection must be closed if nothing changes, as an `Instant`.
    fn deadline(&self) -> Instant {
        let ms = |m: u64| self.base + Duration::from_millis(m);
        if self.busy.load(Ordering::Acquire) > 0 {
            // Answering: no deadline; look again soon (a head may follow).
            return Instant::now() + WATCH_EVERY;
        }
        match self.head_since.load(Ordering::Acquire) {
            NONE => ms(self.idle_since.load(Ordering::Acquire)) + IDLE_TIMEOUT,
            since => ms(since) + HEADER_TIMEOUT,
        }
    }

    /// Resolves when the connection has been silent, or slow with a head, too long.
    /// Looks at the connection at most every [`WATCH_EVERY`], never per request.
    async fn expired(&self) {
        loop {
            let deadline = self.deadline();
            let now = Instant::now();
            if deadline <= now {
                return;
            }
            tokio::time::sleep_until(deadline.min(now + WATCH_EVERY)).await;
        }
    }
}

/// A request being answered; when dropped, the connection is idle again.
struct Busy(Arc<ConnState>);

impl Drop for Busy {
    fn drop(&mut self) {
        let s = &self.0;
        s.idle_since.store(s.now(), Ordering::Release);
        s.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The socket, telling the connection's state when bytes arrive.
struct Watched {
    inner: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.state.read_some();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
