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

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::server::Stack;

/// What the connection did since the watchdog last looked: written by the connection's own
/// task, read and reset every half timeout.
#[derive(Default)]
struct Activity(AtomicU8);

/// Nothing since the last look.
const QUIET: u8 = 0;
/// Response bytes went out.
const ACTIVE: u8 = 1;
/// A request started and no response byte has gone out since: its handler may be slow.
const HANDLING: u8 = 2;

/// Serves one accepted connection until the client closes it, it idles out, or `stop` is
/// cancelled (then in-flight requests finish first). `drain` is held until the connection ends.
pub(crate) fn serve(
    stream: TcpStream,
    remote: SocketAddr,
    stack: Stack,
    idle_timeout: Duration,
    stop: &CancellationToken,
    drain: mpsc::Sender<()>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::default());
    let marks = activity.clone();
    let service = hyper::service::service_fn(move |req| {
        marks.0.store(HANDLING, Ordering::Relaxed);
        stack.handle(req, remote)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(Watched { io: TokioIo::new(stream), activity: activity.clone() }, service);
    let closing = stop.child_token();
    let stop = stop.clone();
    if !idle_timeout.is_zero() {
        tokio::spawn(watch(activity.clone(), idle_timeout, closing.clone()));
    }
    tokio::spawn(async move {
        let _drain = drain;
        // Ends the watchdog with the connection.
        let _closing = closing.clone().drop_guard();
        tokio::pin!(conn);
        tokio::select! {
            biased;
            _ = conn.as_mut() => return,
            () = closing.cancelled() => {}
        }
        if !stop.is_cancelled() {
            // The watchdog's doing: the connection idled out.
            return;
        }
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    });
}

async fn watch(activity: Arc<Activity>, idle_timeout: Duration, closing: CancellationToken) {
    let mut quiet_looks = 0;
    loop {
        tokio::select! {
            () = closing.cancelled() => return,
            () = tokio::time::sleep(idle_timeout / 2) => {}
        }
        match activity.0.compare_exchange(ACTIVE, QUIET, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) | Err(HANDLING) => quiet_looks = 0,
            Err(_) => quiet_looks += 1,
        }
        if quiet_looks >= 2 {
            closing.cancel();
            return;
        }
    }
}

/// The connection's socket, marking the connection active whenever response bytes go out.
struct Watched {
    io: TokioIo<TcpStream>,
    activity: Arc<Activity>,
}

impl Watched {
    fn wrote(&self, written: &Poll<io::Result<usize>>) {
        if matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            self.activity.0.store(ACTIVE, Ordering::Relaxed);
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
