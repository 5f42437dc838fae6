//! Server-Sent Events: a method answers a typed stream of events, [`EventStream<T>`], and the
//! generated client gets the same type back, a stream of the `T`s it reads.
//!
//! On the wire each event is `id`, `event`, `retry` and one `data` line of JSON; a comment
//! (`: keep-alive`) goes out after [`HEARTBEAT`] without an event, so that proxies and the
//! connection's idle timeout see the stream alive. The answer is not compressed and says
//! `Cache-Control: no-cache` and `X-Accel-Buffering: no` (nginx would buffer it otherwise).
//! `GDD_WRITE_TIMEOUT` bounds the method's answering with the stream, not the stream; when the
//! server shuts down, the stream ends cleanly at once rather than at `GDD_GRACE_TIMEOUT`.

use std::collections::VecDeque;
use std::future::Future as _;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, Response};
use http_body::Frame;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use super::head::{FromHead, Head, HeadDoc};
use super::Answer;
use crate::body::{Body, BoxError};
use crate::client::Received;
use crate::error::Error;
use crate::openapi::{Operation, Success};
use crate::validate::Model;

/// How long a stream may go without an event before a keep-alive comment is sent.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(15);

/// The largest event a client reads; a larger one ends its stream with an error.
const MAX_EVENT: usize = 8 << 20;

/// One event: its data, and optionally its id (what a client that reconnects sends back as
/// `Last-Event-ID`), its name (`event:`) and the retry delay it asks clients to wait.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<T> {
    data: T,
    id: Option<String>,
    name: Option<String>,
    retry: Option<Duration>,
}

impl<T> Event<T> {
    /// An event carrying `data`.
    pub fn new(data: T) -> Self {
        Self { data, id: None, name: None, retry: None }
    }

    /// With the id `id` (line breaks and NULs, which would end it, are left out).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(one_line(id.into()));
        self
    }

    /// Named `name` (an `EventSource` dispatches it to `addEventListener(name, ...)`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(one_line(name.into()));
        self
    }

    /// Asking clients to wait `retry` before reconnecting.
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The data, owned.
    pub fn into_data(self) -> T {
        self.data
    }

    /// The id, if it has one.
    pub fn event_id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The name, if it has one.
    pub fn event_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The retry delay it asks for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry
    }
}

fn one_line(text: String) -> String {
    if text.contains(['\n', '\r', '\0']) {
        text.replace(['\n', '\r', '\0'], "")
    } else {
        text
    }
}

/// A stream of typed events: what a method returns to answer Server-Sent Events, and what
/// the generated client gives back. Read it with [`next`](Self::next) or as a
/// [`Stream`](futures_util::Stream); an `Err` item (a broken connection, an event that is not a
/// `T`, the server's error) is the last.
pub struct EventStream<T> {
    events: Pin<Box<dyn Stream<Item = Result<Event<T>, Error>> + Send>>,
}

impl<T> std::fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

impl<T: Send + 'static> EventStream<T> {
    /// The events of `events`.
    pub fn new(events: impl Stream<Item = Event<T>> + Send + 'static) -> Self {
        Self { events: Box::pin(events.map(Ok)) }
    }

    /// The events of `events` until an `Err`, which is sent as an `error` event (its status,
    /// code and message, read back by the client as the error) and ends the stream.
    pub fn try_new(events: impl Stream<Item = Result<Event<T>, Error>> + Send + 'static) -> Self {
        Self { events: Box::pin(events) }
    }

    /// Events carrying each item of `data`, without ids.
    pub fn from_data(data: impl Stream<Item = T> + Send + 'static) -> Self {
        Self::new(data.map(Event::new))
    }

    /// The next event; `None` when the stream ended.
    pub async fn next(&mut self) -> Option<Result<Event<T>, Error>> {
        StreamExt::next(&mut self.events).await
    }
}

impl<T> Stream for EventStream<T> {
    type Item = Result<Event<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.events.as_mut().poll_next(cx)
    }
}

impl<T: Model> Answer for EventStream<T> {
    const STREAMED: bool = true;

    fn reply(result: Result<Self, Error>) -> Response<Body> {
        match result {
            Ok(stream) => {
                let mut resp = Response::new(Body::new(Encoder::new(stream.events)));
                let headers = resp.headers_mut();
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
                resp
            }
            Err(e) => crate::reply::error(&e),
        }
    }

    fn describe(op: &mut Operation<'_>) -> Success {
        let event = op.schema::<T>();
        Success::new(200, "A stream of Server-Sent Events")
            .content(
                "text/event-stream",
                json!({
                    "type": "string",
                    "description": "Server-Sent Events: each event's `data` is one line of JSON, of the schema in x-doudou-event; an `error` event ({code, message}) ends the stream"
                }),
            )
            .media_extension("x-doudou-event", event)
    }

    fn read(received: Received<'_>) -> Result<Self, String> {
        let Received::Streamed(resp) = received else { return Err("was read whole, not streamed".into()) };
        let media = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !media.starts_with("text/event-stream") {
            return Err(format!("is {media:?}, not text/event-stream"));
        }
        Ok(Self { events: Box::pin(Decoder::<T>::new(resp.into_body())) })
    }
}

pin_project_lite::pin_project! {
    /// The events of a stream as the body of the answer, with keep-alive comments when idle.
    struct Encoder<T> {
        events: Pin<Box<dyn Stream<Item = Result<Event<T>, Error>> + Send>>,
        #[pin]
        idle: tokio::time::Sleep,
        ended: bool,
    }
}

impl<T> Encoder<T> {
    fn new(events: Pin<Box<dyn Stream<Item = Result<Event<T>, Error>> + Send>>) -> Self {
        Self { events, idle: tokio::time::sleep(HEARTBEAT), ended: false }
    }
}

/// The most bytes of events sent as one chunk.
const BATCH: usize = 16 * 1024;

/// Appends one event, as its lines, to `out`.
fn encode<T: Serialize>(event: &Event<T>, out: &mut Vec<u8>) -> Result<(), Error> {
    use std::io::Write as _;
    let mark = out.len();
    let mut lines = || -> std::io::Result<()> {
        if let Some(id) = &event.id {
            writeln!(out, "id: {id}")?;
        }
        if let Some(name) = &event.name {
            writeln!(out, "event: {name}")?;
        }
        if let Some(retry) = event.retry {
            writeln!(out, "retry: {}", retry.as_millis())?;
        }
        out.extend_from_slice(b"data: ");
        serde_json::to_writer(&mut *out, &event.data).map_err(std::io::Error::other)?;
        out.extend_from_slice(b"\n\n");
        Ok(())
    };
    lines().map_err(|e| {
        out.truncate(mark);
        Error::internal(format!("cannot encode an event as JSON: {e}"))
    })
}

/// The `error` event that ends a stream.
fn error_event(error: &Error) -> Bytes {
    let mut out = b"event: error\ndata: ".to_vec();
    out.extend_from_slice(&error.to_json());
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

impl<T: Serialize> http_body::Body for Encoder<T> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        // The server is shutting down: a clean end, for clients to reconnect elsewhere.
        if *this.ended || crate::body::connection_draining() {
            return Poll::Ready(None);
        }
        // The events ready now go out together, up to BATCH bytes: one chunk (and one write)
        // for many events when the stream runs fast, without waiting for any.
        let mut batch: Option<Vec<u8>> = None;
        loop {
            match this.events.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(event))) => {
                    let out = batch.get_or_insert_with(Vec::new);
                    if let Err(e) = encode(&event, out) {
                        *this.ended = true;
                        out.extend_from_slice(&error_event(&e));
                        break;
                    }
                    if out.len() >= BATCH {
                        break;
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    *this.ended = true;
                    batch.get_or_insert_with(Vec::new).extend_from_slice(&error_event(&e));
                    break;
                }
                Poll::Ready(None) => {
                    *this.ended = true;
                    break;
                }
                Poll::Pending if batch.is_some() => break,
                Poll::Pending => {
                    std::task::ready!(this.idle.as_mut().poll(cx));
                    this.idle.as_mut().reset(tokio::time::Instant::now() + HEARTBEAT);
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b": keep-alive\n\n")))));
                }
            }
        }
        match batch {
            Some(bytes) => {
                this.idle.as_mut().reset(tokio::time::Instant::now() + HEARTBEAT);
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(bytes)))))
            }
            None => Poll::Ready(None),
        }
    }
}

/// The events of a `text/event-stream` body, as the client reads them.
struct Decoder<T> {
    body: Body,
    buffer: Vec<u8>,
    ready: VecDeque<Result<Event<T>, Error>>,
    done: bool,
    data: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Decoder<T> {
    fn new(body: Body) -> Self {
        Self { body, buffer: Vec::new(), ready: VecDeque::new(), done: false, data: PhantomData }
    }

    /// Takes the complete events out of the buffer (the bytes read are dropped once, at the
    /// end: a frame holds thousands of small events).
    fn parse(&mut self) {
        let mut start = 0;
        while let Some(len) = self.buffer[start..].windows(2).position(|w| w == b"\n\n") {
            let block = &self.buffer[start..start + len];
            start += len + 2;
            let event = match decode_event::<T>(block) {
                Some(Ok(event)) => event,
                Some(Err(e)) => {
                    self.ready.push_back(Err(e));
                    self.done = true;
                    break;
                }
                None => continue,
            };
            self.ready.push_back(Ok(event));
        }
        self.buffer.drain(..start);
    }
}

/// One event's lines: `None` for one without data (a keep-alive comment), `Err` for the
/// server's `error` event or data that is not a `T`.
fn decode_event<T: DeserializeOwned>(block: &[u8]) -> Option<Result<Event<T>, Error>> {
    let text = String::from_utf8_lossy(block);
    let (mut data, mut id, mut name, mut retry) = (None::<std::borrow::Cow<'_, str>>, None, None, None);
    for line in text.split('\n') {
        if line.starts_with(':') {
            continue; // a comment: a keep-alive
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => match &mut data {
                Some(data) => {
                    let joined = data.to_mut();
                    joined.push('\n');
                    joined.push_str(value);
                }
                None => data = Some(std::borrow::Cow::Borrowed(value)),
            },
            "id" => id = Some(value.to_owned()),
            "event" => name = Some(value.to_owned()),
            "retry" => retry = value.parse().ok().map(Duration::from_millis),
            _ => {}
        }
    }
    let data = data?;
    if name.as_deref() == Some("error") {
        let status = serde_json::from_str::<serde_json::Value>(&data)
            .ok()
            .and_then(|v| v["code"].as_u64())
            .and_then(|c| u16::try_from(c).ok())
            .and_then(|c| http::StatusCode::from_u16(c).ok())
            .filter(|s| s.is_client_error() || s.is_server_error())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        return Some(Err(Error::from_body(status, data.as_bytes())));
    }
    Some(match serde_json::from_str::<T>(&data) {
        Ok(value) => Ok(Event { data: value, id, name, retry }),
        Err(e) => Err(Error::new(
            http::StatusCode::BAD_GATEWAY,
            format!("an event of the stream is not the expected JSON: {e}"),
        )),
    })
}

// Nothing of a decoder is pinned: its events are only moved in and out of its queue.
impl<T> Unpin for Decoder<T> {}

impl<T: DeserializeOwned> Stream for Decoder<T> {
    type Item = Result<Event<T>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.ready.pop_front() {
                return Poll::Ready(Some(event));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match std::task::ready!(http_body::Body::poll_frame(Pin::new(&mut this.body), cx)) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        // `\r\n` and `\n` end lines alike.
                        this.buffer.extend(data.iter().copied().filter(|b| *b != b'\r'));
                        this.parse();
                        if this.buffer.len() > MAX_EVENT {
                            this.ready.push_back(Err(Error::new(
                                http::StatusCode::BAD_GATEWAY,
                                "an event of the stream is larger than 8 MiB",
                            )));
                            this.done = true;
                        }
                    }
                }
                Some(Err(e)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::unavailable(format!(
                        "the event stream broke off: {e}"
                    )))));
                }
                None => this.done = true,
            }
        }
    }
}

/// The `Last-Event-ID` a reconnecting client sends: the id of the last event it received,
/// for the method to resume after it. The generated client sends it when given one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastEventId(pub Option<String>);

impl FromHead for LastEventId {
    fn from_head(head: &Head<'_>) -> Result<Self, Error> {
        Ok(Self(head.header("last-event-id").map(str::to_owned)))
    }

    fn describe(doc: &mut HeadDoc<'_, '_>) {
        doc.header("Last-Event-ID", false, "The id of the last event received, to resume after it");
    }

    fn send(&self, headers: &mut HeaderMap) -> Result<(), Error> {
        if let Some(id) = &self.0 {
            let value = HeaderValue::try_from(one_line(id.clone()))
                .map_err(|_| Error::bad_request("the last event id is not visible ASCII"))?;
            headers.insert("last-event-id", value);
        }
        Ok(())
    }
}
