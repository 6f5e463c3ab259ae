//! The accept loop: HTTP/1 connections served by hyper within the server's limits.
//!
//! - **Connections**: at most `max_connections` open; when all are taken the loop stops
//!   accepting (new clients wait in the kernel's backlog) until one closes.
//! - **Headers**: from the first byte of a request to the end of its headers, `header_timeout`.
//! - **Idle**: a connection with no request in progress and no traffic for `idle_timeout` is
//!   closed (hyper's own header timer would also count idle time, so both are kept here).
//! - **Bodies**: every request body carries the `body_timeout` deadline (`web::limits`).
//! - **In flight**: at most `max_in_flight` requests are answered at once; the next one gets a
//!   JSON 503 with `Retry-After` at once, before any routing or reading.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::limits;
use crate::base::answer::AddonError;
use crate::base::settings::ServerLimits;

/// Seconds a shed request is told to wait before trying again.
const RETRY_AFTER_SECS: &str = "1";

/// File descriptors kept free of connections: the registry's pool, log files, DNS, the
/// Platform API client.
const RESERVED_FILES: u64 = 128;

/// How long a graceful shutdown waits for requests in progress before closing what is left.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

/// Serves `router` on `listener` within `limits` until `shutdown` resolves, then lets requests
/// in progress finish (within a grace period).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let max_connections = connection_cap(limits.max_connections);
    let connections = Arc::new(Semaphore::new(max_connections));
    let in_flight = Arc::new(InFlight { now: AtomicUsize::new(0), max: limits.max_in_flight });
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Timers are the watchdog's (below): hyper's header timer would also close idle
    // keep-alive connections after the (short) header timeout.
    builder.keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a moment rather than spin, and keep serving.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let watch = Arc::new(Watch::new());
        let io = TokioIo::new(Watched { inner: stream, watch: watch.clone() });
        let service = Service {
            router: router.clone(),
            in_flight: in_flight.clone(),
            watch: watch.clone(),
            body_timeout: limits.body_timeout,
        };
        let connection = graceful.watch(builder.serve_connection(io, service));
        let (header_timeout, idle_timeout) = (limits.header_timeout, limits.idle_timeout);
        tokio::spawn(async move {
            tokio::select! {
                _ = connection => {}
                why = watch.expired(header_timeout, idle_timeout) => {
                    tracing::debug!(why, "closed a connection");
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in progress after {SHUTDOWN_GRACE:?} were cut off");
    }
    Ok(())
}

/// The connection cap, kept below the process's open-file limit (raised toward its hard limit
/// first): a server out of descriptors cannot even open its database.
fn connection_cap(wanted: usize) -> usize {
    let files = raise_file_limit();
    let room = usize::try_from(files.saturating_sub(RESERVED_FILES).max(1)).unwrap_or(usize::MAX);
    if room < wanted {
        tracing::warn!(
            wanted,
            allowed = room,
            "the open-file limit allows fewer connections than ADDON_MAX_CONNECTIONS; raise `ulimit -n`"
        );
    }
    wanted.min(room)
}

#[cfg(unix)]
fn raise_file_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => soft,
        Err(_) => rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft),
    }
}

#[cfg(not(unix))]
fn raise_file_limit() -> u64 {
    u64::MAX
}

/// What the watchdog of one connection knows: when bytes last moved, whether a request's head
/// has started arriving, and whether a request is being answered.
struct Watch {
    born: Instant,
    /// Milliseconds since `born` of the last read or write.
    last_traffic: AtomicU64,
    /// Milliseconds since `born` of the first byte of a request head not yet complete;
    /// `NONE` when no head is arriving.
    head_started: AtomicU64,
    requests: AtomicUsize,
}

const NONE: u64 = u64::MAX;

impl Watch {
    fn new() -> Self {
        Self {
            born: Instant::now(),
            last_traffic: AtomicU64::new(0),
            head_started: AtomicU64::new(NONE),
            requests: AtomicUsize::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn read(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let now = self.now();
        self.last_traffic.store(now, Ordering::Relaxed);
        if self.requests.load(Ordering::Acquire) == 0 {
            let _ = self.head_started.compare_exchange(NONE, now, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    fn wrote(&self) {
        self.last_traffic.store(self.now(), Ordering::Relaxed);
    }

    fn request_started(&self) {
        self.requests.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(NONE, Ordering::Release);
    }

    fn request_ended(&self) {
        self.last_traffic.store(self.now(), Ordering::Relaxed);
        self.requests.fetch_sub(1, Ordering::AcqRel);
    }

    /// Resolves when the connection has outlived a limit, naming which.
    ///
    /// Nothing wakes the watchdog when a head starts or a request ends (that would be two wake-ups
    /// of another task for every request). It looks at least once per the shorter limit instead,
    /// which is exact: whatever starts after a look (a head, an idle spell) is due no earlier
    /// than one limit later, so no later than the next look, which then sleeps until it is due.
    async fn expired(&self, header_timeout: Duration, idle_timeout: Duration) -> &'static str {
        let (header_ms, idle_ms) = (millis(header_timeout), millis(idle_timeout));
        loop {
            let now = self.now();
            // At least a millisecond apart: limits set below that in code must not spin.
            let mut next = now.saturating_add(header_ms.min(idle_ms).max(1));
            if self.requests.load(Ordering::Acquire) == 0 {
                let head = self.head_started.load(Ordering::Acquire);
                if head != NONE {
                    let due = head.saturating_add(header_ms);
                    if now >= due {
                        return "the request headers did not arrive in time";
                    }
                    next = next.min(due);
                }
                let due = self.last_traffic.load(Ordering::Relaxed).saturating_add(idle_ms);
                if now >= due {
                    return "idle";
                }
                next = next.min(due);
            }
            tokio::time::sleep_until(self.born + Duration::from_millis(next)).await;
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(NONE - 1)
}

/// A TCP stream that tells its watchdog about traffic.
struct Watched {
    inner: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            self.watch.read(buf.filled().len() - before);
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(_)) = result {
            self.watch.wrote();
        }
        result
    }

    // Passed on, so that hyper writes an answer's head and body with one `writev` rather than
    // copying them into one buffer first.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(_)) = result {
            self.watch.wrote();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// One connection's requests into the router: counted for the watchdog, capped in flight, and
/// their bodies given the deadline.
#[derive(Clone)]
struct Service {
    router: Router,
    in_flight: Arc<InFlight>,
    watch: Arc<Watch>,
    body_timeout: Duration,
}

/// Marks a request as ended when its answer is ready or the connection drops it.
struct RequestGuard(Arc<Watch>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

impl hyper::service::Service<hyper::Request<Incoming>> for Service {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Self::Error>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        self.watch.request_started();
        let guard = RequestGuard(self.watch.clone());
        let Some(permit) = InFlight::enter(&self.in_flight) else {
            drop(guard);
            return Box::pin(async { Ok(shed()) });
        };
        let request: Request = request.map(|body| limits::with_deadline(body, self.body_timeout));
        let mut router = self.router.clone();
        Box::pin(async move {
            let response = tower::Service::call(&mut router, request).await;
            drop(permit);
            drop(guard);
            response
        })
    }
}

/// How many requests are being answered, across connections, and how many may be.
struct InFlight {
    now: AtomicUsize,
    max: usize,
}

/// One request's place among those in flight, given back when it is dropped.
struct InFlightPermit(Arc<InFlight>);

impl InFlight {
    /// A place, unless all `max` are taken. (An atomic count: a semaphore's release takes a lock.)
    fn enter(this: &Arc<Self>) -> Option<InFlightPermit> {
        if this.now.fetch_add(1, Ordering::AcqRel) >= this.max {
            this.now.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(InFlightPermit(this.clone()))
    }
}

impl Drop for InFlightPermit {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The answer when too many requests are in flight: JSON 503, try again in a second. The
/// connection is closed after it, so a flood also loses its connections.
fn shed() -> Response {
    let mut response = AddonError::overloaded().into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
