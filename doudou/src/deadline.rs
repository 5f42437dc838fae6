//! Deadlines for work that usually finishes at once (a handler's answer, a request body that
//! came with its head): the timer is only armed when the work first has to wait, so the common
//! case never touches the timer wheel. A client call keeps one for all its attempts: the timer
//! armed for the first is reset, not made anew, for the next.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::time::Sleep;

/// Now, on tokio's clock: what deadlines are measured from, so that a test that pauses time
/// moves them too (without tokio's `test-util` feature it is the system's monotonic clock).
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

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

    /// Moves the deadline to `at`; a timer already armed is reset rather than made anew.
    pub(crate) fn reset(&mut self, at: Instant) {
        self.at = at;
        if let Some(timer) = &mut self.timer {
            timer.as_mut().reset(tokio::time::Instant::from_std(at));
        }
    }

    /// `work`, given up when the deadline passes.
    pub(crate) fn limit<F: Future + Unpin>(&mut self, work: F) -> Limited<'_, F> {
        Limited { work, deadline: self }
    }

    /// Call when the guarded work is pending: arms the timer on the first call, and is ready
    /// once the deadline has passed.
    pub(crate) fn poll_passed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let at = tokio::time::Instant::from_std(self.at);
        self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at))).as_mut().poll(cx)
    }
}

/// Work with a deadline (see [`Deadline::limit`]): its output, or `Err(Elapsed)`.
pub(crate) struct Limited<'a, F> {
    work: F,
    deadline: &'a mut Deadline,
}

/// The deadline passed before the work was done.
#[derive(Debug)]
pub(crate) struct Elapsed;

impl<F: Future + Unpin> Future for Limited<'_, F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Poll::Ready(output) = Pin::new(&mut this.work).poll(cx) {
            return Poll::Ready(Ok(output));
        }
        this.deadline.poll_passed(cx).map(|()| Err(Elapsed))
    }
}
