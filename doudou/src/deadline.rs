//! Deadlines for work that usually finishes at once (a handler's answer, a request body that
//! came with its head): the timer is only armed when the work first has to wait, so the common
//! case never touches the timer wheel.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::time::Sleep;

/// A deadline, armed lazily.
pub(crate) struct Deadline {
    at: Instant,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Deadline {
    /// A deadline at `at`; nothing is registered yet.
    pub(crate) fn new(at: Instant) -> Self {
        Self { at, timer: None }
    }

    /// Call when the guarded work is pending: arms the timer on the first call, and is ready
    /// once the deadline has passed.
    pub(crate) fn poll_passed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let at = tokio::time::Instant::from_std(self.at);
        self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at))).as_mut().poll(cx)
    }
}
