//! Accepting and serving connections within bounds, so slow or idle
//! clients cannot take every slot (axum::serve has no such knobs):
//!
//! - at most `max_connections` at once, fewer when the open-file limit is
//!   low. At the cap the listener stops accepting; a connection that is
//!   waiting for a request (idle, or still sending its headers) is closed to
//!   make room for a new one, the one idle the longest first, so clients
//!   that send headers a byte at a time cannot lock everyone out. A
//!   connection with a request in progress (an event stream, a read of a
//!   large session) is never closed for room.
//! - a request's headers must arrive within `header_timeout` of the accept
//!   (for the first request) or of their first byte (for the next ones);
//! - a connection waiting for its next request is closed after
//!   `idle_timeout`, and so is one whose client stops reading a response
//!   for that long;
//! - request bodies are bounded in time where they are read
//!   (`body::read_body`, 408).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};

/// How many connections, and how long each may go without progress.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections served at once (lowered to fit the open-file limit).
    pub max_connections: usize,
    /// A request's headers must arrive within this of the accept (the first
    /// request) or of their first byte (the next ones).
    pub header_timeout: Duration,
    /// A request body must arrive within this, plus 1 s per 64 KiB received.
    pub body_timeout: Duration,
    /// A connection without a request, or whose client stopped reading the
    /// answer, is closed after this.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 512,
            header_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(30),
            // Longer than the daemon's pool keeps an idle connection (60 s),
            // so the client gives one up before we close it under it.
            idle_timeout: Duration::from_secs(75),
        }
    }
}

/// File descriptors kept for everything but connections: the database and
/// its reader connections, the runtime, standard streams.
const RESERVED_FDS: u64 = 64;
/// Connections allowed however low the open-file limit is.
const MIN_CONNECTIONS: usize = 8;
/// How long the accept loop waits for the connection it asked to close
/// before choosing another.
const EVICTION_WAIT: Duration = Duration::from_millis(200);

/// `max` lowered so that connections leave RESERVED_FDS of the open-file
/// limit free: running out of descriptors would fail requests (the
/// database opens files) rather than make clients wait.
pub fn connection_cap(max: usize) -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0
        && lim.rlim_cur != libc::RLIM_INFINITY
    {
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
        let soft = lim.rlim_cur as u64;
        soft
    } else {
        u64::MAX
    };
    let fits = soft.saturating_sub(RESERVED_FDS);
    max.min(usize::try_from(fits).unwrap_or(usize::MAX))
        .max(MIN_CONNECTIONS)
}

/// Milliseconds since the server started, never 0 (0 means "not set").
#[derive(Clone, Copy)]
struct Clock(Instant);

impl Clock {
    fn now(&self) -> u64 {
        self.0.elapsed().as_millis() as u64 + 1
    }

    fn at(&self, ms: u64) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.0 + Duration::from_millis(ms.saturating_sub(1)))
    }
}

/// What the accept loop and a connection's own task know of it.
struct Conn {
    clock: Clock,
    /// Requests being answered (their response not yet fully written).
    in_flight: AtomicUsize,
    /// Whether a request was received on it yet.
    served: AtomicBool,
    /// When it last had no request in flight (accept, end of a response).
    idle_since: AtomicU64,
    /// When the first byte of the next request arrived; 0: none yet.
    head_since: AtomicU64,
    /// Since when the client does not take what we write; 0: it does.
    write_blocked_since: AtomicU64,
    /// The accept loop asks it to close to make room.
    evict: AtomicBool,
    /// Any of the above changed.
    wake: Notify,
}

impl Conn {
    fn new(clock: Clock) -> Conn {
        Conn {
            clock,
            in_flight: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            idle_since: AtomicU64::new(clock.now()),
            head_since: AtomicU64::new(0),
            write_blocked_since: AtomicU64::new(0),
            evict: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    fn idle(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0
    }

    /// When it is to be closed for lack of progress, if ever.
    fn deadline(&self, limits: &Limits) -> Option<u64> {
        let ms = |d: Duration| d.as_millis() as u64;
        if !self.idle() {
            return match self.write_blocked_since.load(Ordering::SeqCst) {
                0 => None,
                since => Some(since + ms(limits.idle_timeout)),
            };
        }
        let head = self.head_since.load(Ordering::SeqCst);
        let idle = self.idle_since.load(Ordering::SeqCst);
        Some(if !self.served.load(Ordering::SeqCst) {
            // A new connection: its first request is due from the accept.
            idle + ms(limits.header_timeout)
        } else if head != 0 {
            head + ms(limits.header_timeout)
        } else {
            idle + ms(limits.idle_timeout)
        })
    }

    fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.served.store(true, Ordering::SeqCst);
        self.head_since.store(0, Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn end(&self) {
        self.idle_since.store(self.clock.now(), Ordering::SeqCst);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.wake.notify_one();
    }
}

/// The open connections, to choose one to close when at the cap.
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
}

impl Registry {
    fn conns(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self, conn: Arc<Conn>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.conns().insert(id, conn);
        id
    }

    /// Ask the connection idle the longest to close; false when every
    /// connection has a request in progress.
    fn evict_idlest(&self) -> bool {
        let conns = self.conns();
        let idlest = conns
            .values()
            .filter(|c| c.idle() && !c.evict.load(Ordering::SeqCst))
            .min_by_key(|c| c.idle_since.load(Ordering::SeqCst));
        match idlest {
            Some(c) => {
                c.evict.store(true, Ordering::SeqCst);
                c.wake.notify_one();
                true
            }
            None => false,
        }
    }

    /// A slot for one more connection: a free one, else one made by
    /// closing an idle connection, else the next one freed.
    async fn slot(&self, slots: &Arc<Semaphore>) -> OwnedSemaphorePermit {
        loop {
            if let Ok(permit) = slots.clone().try_acquire_owned() {
                return permit;
            }
            self.evict_idlest();
            let freed = tokio::time::timeout(EVICTION_WAIT, slots.clone().acquire_owned()).await;
            if let Ok(Ok(permit)) = freed {
                return permit;
            }
        }
    }
}

/// The socket, noting when request bytes arrive between requests and when
/// writes stall.
struct Watched {
    io: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            let c = &self.conn;
            if c.idle() && c.head_since.load(Ordering::SeqCst) == 0 {
                c.head_since.store(c.clock.now(), Ordering::SeqCst);
                c.wake.notify_one();
            }
        }
        polled
    }
}

impl Watched {
    fn note_write<T>(&self, polled: &Poll<std::io::Result<T>>) {
        let blocked = &self.conn.write_blocked_since;
        match polled {
            Poll::Pending => {
                if blocked.load(Ordering::SeqCst) == 0 {
                    blocked.store(self.conn.clock.now(), Ordering::SeqCst);
                    self.conn.wake.notify_one();
                }
            }
            Poll::Ready(_) => blocked.store(0, Ordering::SeqCst),
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.note_write(&polled);
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.note_write(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Ends the request's "in flight" time when its response body is dropped
/// (fully written, or the connection gone).
struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// A response body that keeps its request in flight until it is dropped.
struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The router as a hyper service of one connection.
#[derive(Clone)]
struct Service {
    app: Router,
    conn: Arc<Conn>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Service {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        self.conn.begin();
        let in_flight = InFlight(self.conn.clone());
        let mut app = self.app.clone();
        Box::pin(async move {
            std::future::poll_fn(|cx| {
                <Router as tower_service::Service<Request>>::poll_ready(&mut app, cx)
            })
            .await?;
            let res =
                <Router as tower_service::Service<Request>>::call(&mut app, req.map(Body::new))
                    .await?;
            Ok(res.map(|body| {
                Body::new(Tracked {
                    body,
                    _in_flight: in_flight,
                })
            }))
        })
    }
}

/// Serve one connection until it ends, times out, is evicted while idle,
/// or the server stops.
async fn connection(
    io: TcpStream,
    conn: Arc<Conn>,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let service = Service {
        app,
        conn: conn.clone(),
    };
    let io = TokioIo::new(Watched {
        io,
        conn: conn.clone(),
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.keep_alive(true);
    let mut served = pin!(http.serve_connection(io, service));
    let mut stopping = false;
    loop {
        let deadline = conn.deadline(&limits);
        let expire = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(conn.clock.at(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            done = served.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!("connection: {e}");
                }
                return;
            }
            _ = conn.wake.notified() => {}
            _ = expire => {}
            _ = stop.changed(), if !stopping => {
                stopping = true;
                served.as_mut().graceful_shutdown();
            }
        }
        let idle = conn.idle();
        if conn.evict.swap(false, Ordering::SeqCst) && idle {
            return;
        }
        if stopping && idle {
            return;
        }
        if conn
            .deadline(&limits)
            .is_some_and(|at| at <= conn.clock.now())
        {
            return;
        }
    }
}

/// Accept errors that concern one connection only.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Serve `app` on `listener` within `limits` until `shutdown` resolves;
/// then stop accepting, close idle connections, let requests in progress
/// finish (event streams end through the app's own shutdown signal), and
/// return once every connection is closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let cap = connection_cap(limits.max_connections);
    if cap < limits.max_connections {
        tracing::warn!(
            "serving at most {cap} connections at once (not {}): the open-file limit is low",
            limits.max_connections
        );
    }
    let slots = Arc::new(Semaphore::new(cap));
    let registry = Arc::new(Registry::default());
    let clock = Clock(Instant::now());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let (io, _) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors or memory: wait rather than
                    // spin, and make room if we can.
                    tracing::warn!("accepting a connection: {e}");
                    registry.evict_idlest();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = registry.slot(&slots) => permit,
        };
        let _ = io.set_nodelay(true);
        let conn = Arc::new(Conn::new(clock));
        let id = registry.add(conn.clone());
        let registry = registry.clone();
        let (app, limits, stop) = (app.clone(), limits.clone(), stop_rx.clone());
        tokio::spawn(async move {
            connection(io, conn, app, limits, stop).await;
            registry.conns().remove(&id);
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every slot free again: every connection closed.
    let _ = slots.acquire_many(cap as u32).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_for_the_database() {
        assert!(connection_cap(usize::MAX) >= MIN_CONNECTIONS);
        assert!(connection_cap(10) <= 10);
        assert_eq!(connection_cap(1), MIN_CONNECTIONS);
    }

    #[test]
    fn deadlines_follow_what_the_connection_is_doing() {
        let limits = Limits {
            max_connections: 1,
            header_timeout: Duration::from_secs(2),
            body_timeout: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(5),
        };
        let clock = Clock(Instant::now());
        let c = Conn::new(clock);
        let accepted = c.idle_since.load(Ordering::SeqCst);
        // New: its first request's headers are due, however late they start.
        assert_eq!(c.deadline(&limits), Some(accepted + 2000));
        c.head_since.store(accepted + 1500, Ordering::SeqCst);
        assert_eq!(c.deadline(&limits), Some(accepted + 2000));
        c.begin();
        assert_eq!(c.deadline(&limits), None);
        c.write_blocked_since.store(100, Ordering::SeqCst);
        assert_eq!(c.deadline(&limits), Some(5100));
        c.write_blocked_since.store(0, Ordering::SeqCst);
        c.end();
        // Kept alive between requests.
        let idle = c.idle_since.load(Ordering::SeqCst);
        assert_eq!(c.deadline(&limits), Some(idle + 5000));
        // The next request's first byte.
        c.head_since.store(idle + 10, Ordering::SeqCst);
        assert_eq!(c.deadline(&limits), Some(idle + 2010));
    }

    #[test]
    fn room_is_made_by_closing_the_idlest_connection_only() {
        let clock = Clock(Instant::now());
        let registry = Registry::default();
        let busy = Arc::new(Conn::new(clock));
        busy.begin();
        busy.idle_since.store(1, Ordering::SeqCst);
        let old = Arc::new(Conn::new(clock));
        old.idle_since.store(2, Ordering::SeqCst);
        let new = Arc::new(Conn::new(clock));
        new.idle_since.store(3, Ordering::SeqCst);
        for c in [&busy, &old, &new] {
            registry.add(c.clone());
        }
        assert!(registry.evict_idlest());
        assert!(old.evict.load(Ordering::SeqCst));
        assert!(registry.evict_idlest());
        assert!(new.evict.load(Ordering::SeqCst));
        assert!(
            !registry.evict_idlest(),
            "a busy connection is never closed for room"
        );
        assert!(!busy.evict.load(Ordering::SeqCst));
    }
}
