//! One client connection: hyper's HTTP/1 state machine, the idle timeout and graceful close.
//!
//! `GDD_IDLE_TIMEOUT` is kept by a watchdog task per connection rather than by hyper's header
//! timer, which allocates and registers a timer for every request (about a tenth of the
//! instructions a small request costs). The connection notes when a request starts and when
//! response bytes go out; the watchdog looks every half timeout and closes a connection that
//! was quiet, with no request waiting for its answer, at two looks in a row: after between 1
//! and 1.5 idle timeouts. Bytes received do not count, so a request head trickled in byte by
//! byte is cut off as hyper's header timer would; a response stream that sends nothing for
//! that long is closed too.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::task::AtomicWaker;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::stack::Stack;

/// What the connection's task and its watchdog share.
#[derive(Default)]
struct Shared {
    /// What the connection did since the watchdog last looked: written by the connection's
    /// task, read and reset every half timeout.
    activity: AtomicU8,
    /// What the watchdog asks of the connection's task: 0 (nothing) until `DRAIN` or `CLOSE`.
    order: AtomicU8,
    /// Wakes the connection's task for an order.
    waker: AtomicWaker,
}

/// Nothing since the last look.
const QUIET: u8 = 0;
/// Response bytes went out.
const ACTIVE: u8 = 1;
/// A request started and no response byte has gone out since: its handler may be slow.
const HANDLING: u8 = 2;

/// Finish the request in flight and close (shutdown).
const DRAIN: u8 = 1;
/// Close now (idle timeout).
const CLOSE: u8 = 2;

impl Shared {
    fn order(&self, order: u8) {
        self.order.store(order, Ordering::Release);
        self.waker.wake();
    }
}

/// Serves one accepted connection until the client closes it, it idles out, or `stop` is
/// cancelled (then in-flight requests finish first). `held` (the shutdown drain's sender and
/// the connection's permit under `GDD_MAX_CONNECTIONS`) is held until the connection ends.
///
/// Shutdown reaches the connection through its watchdog, so the connection's task polls no
/// cancellation future each time it wakes; it registers its waker when the waker changes.
pub(crate) fn serve(
    stream: TcpStream,
    remote: SocketAddr,
    stack: Stack,
    idle_timeout: Duration,
    stop: &CancellationToken,
    held: (mpsc::Sender<()>, tokio::sync::OwnedSemaphorePermit),
) {
    let _ = stream.set_nodelay(true);
    let shared = Arc::new(Shared::default());
    let marks = shared.clone();
    let service = hyper::service::service_fn(move |req| {
        marks.activity.store(HANDLING, Ordering::Relaxed);
        stack.handle(req, remote)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(Watched { io: TokioIo::new(stream), shared: shared.clone() }, service);
    let (ended, watch_ends) = oneshot::channel::<()>();
    tokio::spawn(watch(shared.clone(), idle_timeout, stop.clone(), watch_ends));
    tokio::spawn(async move {
        let _held = held;
        let _ended = ended;
        let mut conn = std::pin::pin!(conn);
        let mut draining = false;
        // The task's waker, as last registered: registering costs two atomic operations, and
        // the waker of a spawned task stays the same from one poll to the next.
        let mut registered: Option<std::task::Waker> = None;
        std::future::poll_fn(|cx| {
            if !draining {
                if !registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    shared.waker.register(cx.waker());
                    registered = Some(cx.waker().clone());
                }
                match shared.order.load(Ordering::Acquire) {
                    CLOSE => return Poll::Ready(()),
                    DRAIN => {
                        draining = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    _ => {}
                }
            }
            if !draining {
                return conn.as_mut().poll(cx).map(|_| ());
            }
            // A draining connection tells the bodies it polls, so that an endless stream ends.
            crate::body::set_connection_draining(true);
            let polled = conn.as_mut().poll(cx).map(|_| ());
            crate::body::set_connection_draining(false);
            polled
        })
        .await;
    });
}

/// Orders the connection closed when it idles out and drained when `stop` is cancelled; ends
/// with the connection.
async fn watch(
    shared: Arc<Shared>,
    idle_timeout: Duration,
    stop: CancellationToken,
    mut ended: oneshot::Receiver<()>,
) {
    let mut quiet_looks = 0;
    loop {
        tokio::select! {
            biased;
            _ = &mut ended => return,
            () = stop.cancelled() => return shared.order(DRAIN),
            () = tokio::time::sleep(idle_timeout / 2), if !idle_timeout.is_zero() => {}
        }
        match shared.activity.compare_exchange(ACTIVE, QUIET, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) | Err(HANDLING) => quiet_looks = 0,
            Err(_) => quiet_looks += 1,
        }
        if quiet_looks >= 2 {
            return shared.order(CLOSE);
        }
    }
}

/// The connection's socket, marking the connection active whenever response bytes go out.
struct Watched {
    io: TokioIo<TcpStream>,
    shared: Arc<Shared>,
}

impl Watched {
    fn wrote(&self, written: &Poll<io::Result<usize>>) {
        if matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            self.shared.activity.store(ACTIVE, Ordering::Relaxed);
        }
    }
}

impl Read for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote(&written);
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.wrote(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
