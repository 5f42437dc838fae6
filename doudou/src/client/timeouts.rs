//! The attempts' timeouts. Every attempt of a client's calls has the client's one timeout, so
//! their deadlines fall in the order the attempts start: a client keeps them in one queue in
//! that order, and one thread of the process (`doudou-timeouts`) sleeps until the first
//! deadline of any client and wakes the attempts that passed it. An attempt that ends only
//! marks its entry; ended entries leave the queue when they reach its front, and are reused.
//!
//! Why not `tokio::time::timeout`: it inserts each attempt in the runtime's timer wheel and
//! removes it again, under the wheel's lock, and a wheel with entries is consulted at every
//! park of the runtime. That was 1,330 of the 7,100 instructions a call cost beyond a bare
//! hyper client (callgrind, `benches/client.sh`'s client-load, one call in flight). A thread
//! rather than a task: it outlives any one runtime (a client may serve several in turn), and
//! it leaves the runtime's timer wheel empty.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;

/// The queue is compacted (ended attempts dropped from anywhere in it) when it reaches this
/// length, or twice its length after the last compaction: an attempt that waits long holds
/// the ended ones behind it.
const COMPACT_FROM: usize = 1024;
/// Ended entries kept for reuse, per client.
const SPARE: usize = 256;

/// The timeouts of one client's attempts.
pub(super) struct Timeouts {
    timeout: Duration,
    queue: Mutex<Queue>,
}

struct Queue {
    entries: VecDeque<Arc<Entry>>,
    compact_at: usize,
    spare: Vec<Arc<Entry>>,
}

/// One attempt's deadline.
struct Entry {
    at: Instant,
    state: AtomicU8,
    waker: AtomicWaker,
}

const WAITING: u8 = 0;
const ENDED: u8 = 1;
const EXPIRED: u8 = 2;

/// The attempt did not end within the timeout.
pub(super) struct Elapsed;

impl Timeouts {
    pub(super) fn new(timeout: Duration) -> Arc<Self> {
        let timeouts = Arc::new(Self {
            timeout,
            queue: Mutex::new(Queue {
                entries: VecDeque::new(),
                compact_at: COMPACT_FROM,
                spare: Vec::new(),
            }),
        });
        sweeper().add(&timeouts);
        timeouts
    }

    /// The timeout of each attempt.
    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `attempt`, given up at `deadline` (for an attempt started now, `now + timeout()`).
    pub(super) fn limit<F: Future>(&self, deadline: Instant, attempt: F) -> Limited<'_, F> {
        Limited { attempt, timeouts: self, deadline, entry: None }
    }

    /// Queues a deadline whose attempt `waker` wakes.
    fn enqueue(&self, at: Instant, waker: &Waker) -> Option<Arc<Entry>> {
        let (entry, first) = {
            let mut queue = self.queue.lock().ok()?;
            let queue = &mut *queue;
            while queue.entries.front().is_some_and(|e| e.state.load(Ordering::Acquire) != WAITING) {
                if let Some(mut ended) = queue.entries.pop_front() {
                    if queue.spare.len() < SPARE && Arc::get_mut(&mut ended).is_some() {
                        queue.spare.push(ended);
                    }
                }
            }
            if queue.entries.len() >= queue.compact_at {
                queue.entries.retain(|e| e.state.load(Ordering::Acquire) == WAITING);
                queue.compact_at = COMPACT_FROM.max(2 * queue.entries.len());
            }
            let fresh = || Arc::new(Entry { at, state: AtomicU8::new(WAITING), waker: AtomicWaker::new() });
            let first = queue.entries.is_empty();
            let mut entry = queue.spare.pop().unwrap_or_else(&fresh);
            match Arc::get_mut(&mut entry) {
                Some(reused) => {
                    reused.at = at;
                    *reused.state.get_mut() = WAITING;
                }
                None => entry = fresh(),
            }
            entry.waker.register(waker);
            queue.entries.push_back(Arc::clone(&entry));
            (entry, first)
        };
        // Behind another deadline, this one is no earlier (in order, as the module says): the
        // thread already wakes for that one.
        if first {
            sweeper().wake_by(at);
        }
        Some(entry)
    }

    /// Wakes the attempts whose deadline passed by `now`; the next deadline, if any.
    fn sweep(&self, now: Instant) -> Option<Instant> {
        let mut queue = self.queue.lock().ok()?;
        while let Some(front) = queue.entries.front() {
            if front.state.load(Ordering::Acquire) == WAITING && front.at > now {
                return Some(front.at);
            }
            if front.state.compare_exchange(WAITING, EXPIRED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                front.waker.wake();
            }
            queue.entries.pop_front();
        }
        None
    }
}

/// The thread that wakes the attempts of every client in the process.
struct Sweeper {
    clients: Mutex<Vec<Weak<Timeouts>>>,
    thread: std::thread::Thread,
    origin: Instant,
    /// When the thread wakes next, in nanoseconds after `origin`; `u64::MAX` while it sweeps or
    /// has nothing to wait for.
    wakes_at: AtomicU64,
}

fn sweeper() -> &'static Sweeper {
    static SWEEPER: OnceLock<Sweeper> = OnceLock::new();
    SWEEPER.get_or_init(|| {
        let thread = std::thread::Builder::new()
            .name("doudou-timeouts".into())
            .spawn(|| sweeper().run())
            .map(|handle| handle.thread().clone())
            // Without the thread attempts are not cut short; calls still work.
            .unwrap_or_else(|e| {
                tracing::error!("cannot start the client timeout thread: {e}");
                std::thread::current()
            });
        Sweeper {
            clients: Mutex::default(),
            thread,
            origin: Instant::now(),
            wakes_at: AtomicU64::new(u64::MAX),
        }
    })
}

impl Sweeper {
    fn add(&self, timeouts: &Arc<Timeouts>) {
        if let Ok(mut clients) = self.clients.lock() {
            clients.retain(|c| c.strong_count() > 0);
            clients.push(Arc::downgrade(timeouts));
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// Makes sure the thread wakes by `at`.
    fn wake_by(&self, at: Instant) {
        if self.nanos(at) < self.wakes_at.load(Ordering::SeqCst) {
            self.thread.unpark();
        }
    }

    fn run(&self) {
        loop {
            // Set before looking at the queues: a deadline queued from here on unparks the
            // thread, and a parked thread that was unparked returns at once.
            self.wakes_at.store(u64::MAX, Ordering::SeqCst);
            let now = Instant::now();
            let clients: Vec<Arc<Timeouts>> = match self.clients.lock() {
                Ok(clients) => clients.iter().filter_map(Weak::upgrade).collect(),
                Err(_) => return,
            };
            let next = clients.iter().filter_map(|c| c.sweep(now)).min();
            drop(clients);
            match next {
                Some(at) => {
                    self.wakes_at.store(self.nanos(at), Ordering::SeqCst);
                    std::thread::park_timeout(at.saturating_duration_since(Instant::now()));
                }
                None => std::thread::park(),
            }
        }
    }
}

/// An attempt with a deadline (see [`Timeouts::limit`]).
pub(super) struct Limited<'a, F> {
    attempt: F,
    timeouts: &'a Timeouts,
    deadline: Instant,
    entry: Option<Arc<Entry>>,
}

impl<F: Future + Unpin> Future for Limited<'_, F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Poll::Ready(output) = Pin::new(&mut this.attempt).poll(cx) {
            if let Some(entry) = this.entry.take() {
                entry.state.store(ENDED, Ordering::Release);
            }
            return Poll::Ready(Ok(output));
        }
        match &this.entry {
            None => this.entry = this.timeouts.enqueue(this.deadline, cx.waker()),
            Some(entry) => {
                entry.waker.register(cx.waker());
                if entry.state.load(Ordering::Acquire) == EXPIRED {
                    return Poll::Ready(Err(Elapsed));
                }
            }
        }
        Poll::Pending
    }
}

impl<F> Drop for Limited<'_, F> {
    fn drop(&mut self) {
        if let Some(entry) = &self.entry {
            let _ = entry.state.compare_exchange(WAITING, ENDED, Ordering::AcqRel, Ordering::Acquire);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_attempt_that_answers_in_time_is_not_cut() {
        let timeouts = Timeouts::new(Duration::from_millis(200));
        let answer = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            7
        };
        let at = Instant::now() + timeouts.timeout();
        assert!(matches!(timeouts.limit(at, Box::pin(answer)).await, Ok(7)));
    }

    #[tokio::test]
    async fn attempts_that_do_not_answer_end_at_their_deadlines_in_order() {
        // Two clients with different timeouts: the thread waits for the earlier deadline.
        let long = Timeouts::new(Duration::from_secs(30));
        let mut waiting_long =
            Box::pin(long.limit(Instant::now() + long.timeout(), std::future::pending::<()>()));
        assert!(futures_util::poll!(waiting_long.as_mut()).is_pending());
        let timeouts = Timeouts::new(Duration::from_millis(100));
        let started = Instant::now();
        let mut waiting = Vec::new();
        for i in 0..3u64 {
            let at = Instant::now() + timeouts.timeout();
            let attempt = timeouts.limit(at, std::future::pending::<()>());
            waiting.push(async move { (i, attempt.await.is_err(), Instant::now()) });
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        let ended = futures_util::future::join_all(waiting).await;
        for (i, elapsed, at) in ended {
            assert!(elapsed, "attempt {i} was given up");
            let due = started + Duration::from_millis(100 + 30 * i);
            assert!(at >= due, "attempt {i} ended before its deadline");
            assert!(at < due + Duration::from_millis(80), "attempt {i} ended {:?} late", at - due);
        }
    }

    #[tokio::test]
    async fn ended_attempts_do_not_pile_up_behind_a_waiting_one() {
        let timeouts = Timeouts::new(Duration::from_secs(30));
        let mut stuck =
            Box::pin(timeouts.limit(Instant::now() + timeouts.timeout(), std::future::pending::<()>()));
        assert!(futures_util::poll!(stuck.as_mut()).is_pending());
        for _ in 0..10 * COMPACT_FROM {
            let yielded = Box::pin(tokio::task::yield_now());
            let mut once = Box::pin(timeouts.limit(Instant::now() + timeouts.timeout(), yielded));
            while futures_util::poll!(once.as_mut()).is_pending() {}
        }
        let queued = timeouts.queue.lock().map(|q| q.entries.len()).unwrap_or(usize::MAX);
        assert!(queued <= COMPACT_FROM + 1, "{queued} entries queued");
    }

    #[test]
    fn attempts_are_cut_on_one_runtime_after_another() {
        let timeouts = Timeouts::new(Duration::from_millis(50));
        for _ in 0..2 {
            let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
            runtime.block_on(async {
                let started = Instant::now();
                let at = started + timeouts.timeout();
                assert!(timeouts.limit(at, std::future::pending::<()>()).await.is_err());
                assert!(started.elapsed() < Duration::from_secs(1));
            });
        }
    }
}
