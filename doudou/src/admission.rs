//! Admission of business requests, so that an overloaded service sheds load instead of
//! queueing it without bound: a bulkhead (`GDD_MAX_INFLIGHT` handlers at once; more wait up to
//! `GDD_MAX_WAIT` for a place) and a rate limit (`GDD_RATE_LIMIT` requests a second on
//! average, bursts of `GDD_RATE_BURST`). A request either refuses is answered 429 with the
//! JSON error shape and `Retry-After` (in seconds, as HTTP wants it). The router admits only
//! the routes of the user's services: probes, metrics and the rest of `/go-doudou/` always
//! answer, so an overloaded instance is not restarted for being busy.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{HeaderValue, RETRY_AFTER};
use http::{Response, StatusCode};
use tokio::sync::Semaphore;

use crate::body::Body;
use crate::config::LimitsConfig;
use crate::error::Error;
use crate::reply;
use crate::vocab::BoxFuture;

/// The limits of one server; `None` from [`Admission::new`] when none is set.
pub(crate) struct Admission {
    bulkhead: Option<Bulkhead>,
    rate: Option<TokenBucket>,
}

struct Bulkhead {
    places: Arc<Semaphore>,
    max_wait: Duration,
    size: usize,
}

impl Admission {
    /// The limits `config` sets, or `None` when it sets none (then nothing is checked).
    pub(crate) fn new(config: &LimitsConfig) -> Option<Self> {
        let bulkhead = (config.max_inflight > 0).then(|| Bulkhead {
            places: Arc::new(Semaphore::new(config.max_inflight)),
            max_wait: config.max_wait,
            size: config.max_inflight,
        });
        let rate = (config.rate_limit > 0).then(|| TokenBucket::new(config.rate_limit, config.rate_burst));
        (bulkhead.is_some() || rate.is_some()).then_some(Self { bulkhead, rate })
    }

    /// Lets `handler` run when the limits allow it: at once, after waiting for a place in the
    /// bulkhead (the returned future waits), or never (the refusal to answer instead).
    pub(crate) fn admit(
        &self,
        handler: BoxFuture<Response<Body>>,
    ) -> Result<BoxFuture<Response<Body>>, Refused> {
        if let Some(rate) = &self.rate {
            rate.take().map_err(|wait| {
                Refused::new("the rate limit (GDD_RATE_LIMIT) is reached".to_owned(), wait)
            })?;
        }
        let Some(bulkhead) = &self.bulkhead else { return Ok(handler) };
        match Arc::clone(&bulkhead.places).try_acquire_owned() {
            Ok(place) => Ok(Box::pin(async move {
                let resp = handler.await;
                drop(place);
                resp
            })),
            Err(_) if bulkhead.max_wait.is_zero() => Err(bulkhead.full()),
            Err(_) => {
                let (places, max_wait, full) =
                    (Arc::clone(&bulkhead.places), bulkhead.max_wait, bulkhead.full());
                Ok(Box::pin(async move {
                    match tokio::time::timeout(max_wait, places.acquire_owned()).await {
                        Ok(Ok(place)) => {
                            let resp = handler.await;
                            drop(place);
                            resp
                        }
                        _ => full.into_response(),
                    }
                }))
            }
        }
    }
}

impl Bulkhead {
    fn full(&self) -> Refused {
        let message = format!(
            "{} requests are in progress, the most this instance takes (GDD_MAX_INFLIGHT)",
            self.size
        );
        Refused::new(message, Duration::from_secs(1))
    }
}

/// A request the limits refuse: 429 with what was reached and when to come back.
pub(crate) struct Refused {
    message: String,
    retry_after: Duration,
}

impl Refused {
    fn new(message: String, retry_after: Duration) -> Self {
        Self { message, retry_after }
    }

    pub(crate) fn into_response(self) -> Response<Body> {
        too_many(&self.message, self.retry_after)
    }
}

/// 429 with `Retry-After`: whole seconds, at least one.
fn too_many(message: &str, retry_after: Duration) -> Response<Body> {
    let mut resp = reply::error(&Error::new(StatusCode::TOO_MANY_REQUESTS, message));
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    resp.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    resp
}

/// A token bucket of `burst` tokens refilled at `rate` a second, kept as the generic cell rate
/// algorithm does: one atomic "theoretical arrival time" instead of a count and a clock, so
/// that taking a token is one compare-and-swap, without a lock or a timer task.
struct TokenBucket {
    start: Instant,
    /// Nanoseconds after `start` at which the bucket is full again.
    full_at: AtomicU64,
    /// Nanoseconds a token takes to come back.
    interval: u64,
    /// Nanoseconds of tokens the bucket holds beyond the one being taken.
    tolerance: u64,
}

impl TokenBucket {
    fn new(rate: u32, burst: u32) -> Self {
        let interval = 1_000_000_000 / u64::from(rate.max(1));
        let burst = u64::from(burst.max(1));
        Self {
            start: crate::deadline::now(),
            full_at: AtomicU64::new(0),
            interval,
            tolerance: interval * (burst - 1),
        }
    }

    /// Takes a token, or says how long until one is back.
    fn take(&self) -> Result<(), Duration> {
        // tokio's clock, so that a test that pauses time sees tokens come back.
        let elapsed = crate::deadline::now().saturating_duration_since(self.start);
        let now = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let mut full_at = self.full_at.load(Ordering::Relaxed);
        loop {
            let from = full_at.max(now);
            if from - now > self.tolerance {
                return Err(Duration::from_nanos(from - now - self.tolerance));
            }
            match self.full_at.compare_exchange_weak(
                full_at,
                from + self.interval,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(current) => full_at = current,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_gives_its_burst_then_one_token_per_interval() {
        let bucket = TokenBucket::new(1, 5);
        let taken = (0..20).filter(|_| bucket.take().is_ok()).count();
        assert_eq!(taken, 5, "a full bucket of 5 tokens, none back within microseconds");
        let wait = bucket.take().expect_err("empty");
        assert!(wait > Duration::from_millis(500) && wait <= Duration::from_secs(1), "{wait:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_come_back_one_per_interval() {
        let bucket = TokenBucket::new(4, 2);
        assert!(bucket.take().is_ok() && bucket.take().is_ok(), "the burst");
        assert_eq!(bucket.take(), Err(Duration::from_millis(250)), "then a token every 250 ms");
        tokio::time::advance(Duration::from_millis(249)).await;
        assert_eq!(bucket.take(), Err(Duration::from_millis(1)));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(bucket.take().is_ok());
        tokio::time::advance(Duration::from_secs(10)).await;
        let taken = (0..10).filter(|_| bucket.take().is_ok()).count();
        assert_eq!(taken, 2, "an idle bucket fills up to its burst, no more");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let header = |d| too_many("x", d).headers()[RETRY_AFTER].clone();
        assert_eq!(header(Duration::from_millis(1)), "1");
        assert_eq!(header(Duration::from_millis(1500)), "2");
        assert_eq!(header(Duration::from_secs(3)), "3");
    }
}
