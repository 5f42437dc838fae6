//! One attempt's exchange: the request sent, the answer's head received and, unless the caller
//! streams it, its body read whole, at most `GDD_CLIENT_MAX_BODY_SIZE` bytes.
//!
//! The body is part of the attempt: a body that breaks off, dribbles past the attempt's
//! timeout or is larger than the limit fails the attempt (and counts against the instance)
//! before anything reaches the caller, so an idempotent call can still go to another instance.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::Collect;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::transport::Sending;
use crate::body::{Body, BoxError};

/// What an exchange gave.
pub(super) enum Exchanged {
    /// The head and the whole body.
    Whole(http::response::Parts, Bytes),
    /// A 2xx answer whose body the caller streams (a download).
    Streaming(http::Response<Body>),
}

/// Why an exchange failed.
pub(super) enum Broken {
    /// No answer: the connection could not be made or broke before the head.
    Transport(BoxError),
    /// The head came, the body did not: it broke off.
    Body(BoxError),
    /// The body is larger than the limit (said by its `Content-Length`, or seen while reading).
    TooLarge,
}

/// The exchange of one attempt (see the module documentation). A named future: the attempt's
/// deadline needs an `Unpin` one, and boxing an `async` block would cost an allocation a call.
pub(super) struct Exchange {
    state: State,
    limit: u64,
    stream_success: bool,
}

// The body's state is the larger, but every call that reads a body passes through it: boxing
// it would cost an allocation a call to save room that the head's state leaves unused anyway.
#[allow(clippy::large_enum_variant)]
enum State {
    Head(Sending),
    Body(Option<http::response::Parts>, Collect<Limited<Body>>),
    Done,
}

impl Exchange {
    /// `sending`'s exchange; a 2xx body is left unread when `stream_success`.
    pub(super) fn new(sending: Sending, limit: u64, stream_success: bool) -> Self {
        Self { state: State::Head(sending), limit, stream_success }
    }
}

impl Future for Exchange {
    type Output = Result<Exchanged, Broken>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Head(sending) => {
                    let resp = match ready!(Pin::new(sending).poll(cx)) {
                        Ok(resp) => resp,
                        Err(e) => {
                            this.state = State::Done;
                            return Poll::Ready(Err(Broken::Transport(e)));
                        }
                    };
                    if this.stream_success && resp.status().is_success() {
                        this.state = State::Done;
                        return Poll::Ready(Ok(Exchanged::Streaming(resp)));
                    }
                    let (parts, body) = resp.into_parts();
                    // Refused on its declared length, before a byte of it is read.
                    if http_body::Body::size_hint(&body).lower() > this.limit {
                        this.state = State::Done;
                        return Poll::Ready(Err(Broken::TooLarge));
                    }
                    let limit = usize::try_from(this.limit).unwrap_or(usize::MAX);
                    this.state = State::Body(Some(parts), Limited::new(body, limit).collect());
                }
                State::Body(parts, collect) => {
                    let collected = ready!(Pin::new(collect).poll(cx));
                    let parts = parts.take();
                    this.state = State::Done;
                    return Poll::Ready(match (collected, parts) {
                        (Ok(collected), Some(parts)) => Ok(Exchanged::Whole(parts, collected.to_bytes())),
                        (Err(e), _) if e.is::<LengthLimitError>() => Err(Broken::TooLarge),
                        (Err(e), _) => Err(Broken::Body(e)),
                        (Ok(_), None) => Err(Broken::Body("the answer was read twice".into())),
                    });
                }
                State::Done => return Poll::Ready(Err(Broken::Body("the answer was read twice".into()))),
            }
        }
    }
}
