//! A helloworld instance whose `/whoami` answers go wrong after the response head, for the
//! tests of calls between services: a real gossip member that a greeter calls like any other.
//!
//! `MISBEHAVE` says how: `huge` (a 2 GiB `Content-Length`, zeros sent as fast as they go),
//! `endless` (a chunked body that never ends), `truncate` (half the JSON, then the connection
//! breaks), `drip` (the JSON at one byte a second), `garbage` (a 200 that is not JSON).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use doudou::body::Body;
use http_body::{Frame, SizeHint};

#[derive(Clone, Copy)]
enum Mode {
    Huge,
    Endless,
    Truncate,
    Drip,
    Garbage,
}

/// The body of a misbehaving answer.
struct Bad {
    mode: Mode,
    /// What is left to send: bytes of zeros (`huge`, `endless`) or of the JSON.
    left: Vec<u8>,
    sent: u64,
    tick: Option<Pin<Box<doudou::tokio::time::Sleep>>>,
}

const HUGE: u64 = 2 << 30;
const CHUNK: usize = 64 << 10;

impl http_body::Body for Bad {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match this.mode {
            Mode::Huge | Mode::Endless => {
                if matches!(this.mode, Mode::Huge) && this.sent >= HUGE {
                    return Poll::Ready(None);
                }
                this.sent += CHUNK as u64;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&[b' '; CHUNK])))))
            }
            Mode::Truncate => {
                if this.left.is_empty() {
                    return Poll::Ready(Some(Err(std::io::Error::other("cut off on purpose"))));
                }
                let half = this.left.len() / 2;
                let first: Vec<u8> = this.left.drain(..half.max(1)).collect();
                this.left.clear();
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(first)))))
            }
            Mode::Drip => {
                if this.left.is_empty() {
                    return Poll::Ready(None);
                }
                let tick = this
                    .tick
                    .get_or_insert_with(|| Box::pin(doudou::tokio::time::sleep(Duration::from_secs(1))));
                if tick.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.tick = None;
                let byte = this.left.remove(0);
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![byte])))))
            }
            Mode::Garbage => {
                let left = std::mem::take(&mut this.left);
                Poll::Ready((!left.is_empty()).then(|| Ok(Frame::data(Bytes::from(left)))))
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self.mode {
            Mode::Huge => SizeHint::with_exact(HUGE),
            Mode::Truncate | Mode::Drip => SizeHint::with_exact(self.left.len() as u64),
            Mode::Endless | Mode::Garbage => SizeHint::default(),
        }
    }
}

#[doudou::main]
async fn main() -> Result<(), doudou::StartError> {
    let mode = match std::env::var("MISBEHAVE").as_deref() {
        Ok("huge") => Mode::Huge,
        Ok("endless") => Mode::Endless,
        Ok("truncate") => Mode::Truncate,
        Ok("drip") => Mode::Drip,
        Ok("garbage") => Mode::Garbage,
        other => {
            eprintln!("error: MISBEHAVE must be huge, endless, truncate, drip or garbage, not {other:?}");
            std::process::exit(1)
        }
    };
    let misbehave = move |inner: doudou::server::HttpService| {
        tower::service_fn(move |req: http::Request<Body>| {
            let inner = inner.clone();
            async move {
                let whoami = req.uri().path() == "/whoami";
                let resp = tower::ServiceExt::oneshot(inner, req).await?;
                if !whoami || resp.status() != http::StatusCode::OK {
                    return Ok::<_, Infallible>(resp);
                }
                let (parts, _) = resp.into_parts();
                let json = br#"{"node":"misbehaving"}"#.to_vec();
                let left = match mode {
                    Mode::Garbage => b"<html>not json</html>".to_vec(),
                    _ => json,
                };
                Ok(http::Response::from_parts(parts, Body::new(Bad { mode, left, sent: 0, tick: None })))
            }
        })
    };
    doudou::Server::new()
        .service(helloworld::HelloworldServer::new(helloworld::Hello))
        .layer(tower::layer::layer_fn(misbehave))
        .run()
        .await
}
