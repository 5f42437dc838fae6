//! Failed logins to the `/go-doudou/` routes: logged (rate-limited, with the remote address,
//! never the credentials) and throttled per remote address.
//!
//! After [`MAX_FAILURES`] wrong credentials in a row from one IP address, that address is
//! locked out for [`LOCKOUT`]: every protected route answers 429 with `Retry-After`, even to
//! the right credentials (else the lockout would tell a guesser which guess was right). A
//! correct login from the address resets its count; other addresses are not affected. A
//! request without an `Authorization` header is not a guess (browsers ask first) and is not
//! counted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::header::{HeaderValue, RETRY_AFTER};
use http::{Response, StatusCode};

use crate::body::Body;
use crate::error::Error;
use crate::reply;

/// Wrong credentials in a row from one address before it is locked out.
pub(crate) const MAX_FAILURES: u32 = 10;
/// How long a locked-out address gets 429.
pub(crate) const LOCKOUT: Duration = Duration::from_secs(60);
/// Addresses tracked at most; past it, those neither locked out nor recently failing go first.
const MAX_TRACKED: usize = 10_000;
/// Failure log lines written per second at most; the rest are counted into the next line.
const LOG_LINES_PER_SECOND: u32 = 5;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

#[derive(Debug)]
struct Log {
    window_start: Instant,
    lines: u32,
    unlogged: u64,
}

/// The failure counts of one management service.
#[derive(Debug)]
pub(crate) struct Guard {
    by_address: Mutex<HashMap<IpAddr, Failures>>,
    log: Mutex<Log>,
}

impl Default for Guard {
    fn default() -> Self {
        Self {
            by_address: Mutex::new(HashMap::new()),
            log: Mutex::new(Log { window_start: Instant::now(), lines: 0, unlogged: 0 }),
        }
    }
}

impl Guard {
    /// How long `ip` is still locked out, if it is.
    pub(crate) fn locked_out(&self, ip: IpAddr) -> Option<Duration> {
        let map = self.by_address.lock().ok()?;
        let until = map.get(&ip)?.locked_until?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// Counts a wrong login from `ip`; returns the lockout if this one started it.
    pub(crate) fn failed(&self, ip: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let (count, locked) = {
            let mut map = self.by_address.lock().ok()?;
            if map.len() >= MAX_TRACKED && !map.contains_key(&ip) {
                let locked = |f: &Failures| f.locked_until.is_some_and(|u| u > now);
                map.retain(|_, f| locked(f) || now.duration_since(f.last) < LOCKOUT);
                if map.len() >= MAX_TRACKED {
                    // Counts go first: a lockout stays however many other addresses arrive
                    // (clearing everything let a flood from many addresses free them all).
                    map.retain(|_, f| locked(f));
                }
                if map.len() >= MAX_TRACKED {
                    // As many addresses locked out as are tracked: this one is not counted.
                    return None;
                }
            }
            let entry = map.entry(ip).or_insert(Failures { count: 0, last: now, locked_until: None });
            if entry.locked_until.is_some_and(|u| u <= now) {
                // A lockout that ran out starts a fresh count.
                *entry = Failures { count: 0, last: now, locked_until: None };
            }
            entry.count += 1;
            entry.last = now;
            if entry.count >= MAX_FAILURES {
                entry.locked_until = Some(now + LOCKOUT);
            }
            (entry.count, entry.locked_until.is_some())
        };
        self.log_failure(ip, count, locked);
        locked.then_some(LOCKOUT)
    }

    /// A correct login from `ip` clears its count.
    pub(crate) fn succeeded(&self, ip: IpAddr) {
        if let Ok(mut map) = self.by_address.lock() {
            map.remove(&ip);
        }
    }

    fn log_failure(&self, ip: IpAddr, failures: u32, locked: bool) {
        let Ok(mut log) = self.log.lock() else { return };
        let now = Instant::now();
        if now.duration_since(log.window_start) >= Duration::from_secs(1) {
            log.window_start = now;
            log.lines = 0;
        }
        if log.lines >= LOG_LINES_PER_SECOND && !locked {
            log.unlogged += 1;
            return;
        }
        log.lines += 1;
        let unlogged = std::mem::take(&mut log.unlogged);
        drop(log);
        if locked {
            tracing::warn!(
                remote = %ip, failures, lockout_secs = LOCKOUT.as_secs(), unlogged_failures = unlogged,
                "failed login to the /go-doudou/ routes: address locked out"
            );
        } else {
            tracing::warn!(remote = %ip, failures, unlogged_failures = unlogged, "failed login to the /go-doudou/ routes");
        }
    }
}

/// 429 with `Retry-After` (whole seconds, rounded up) and the JSON error shape.
pub(crate) fn too_many_failures(wait: Duration) -> Response<Body> {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut resp = reply::error(&Error::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "too many failed logins from this address: try again in {seconds} s (locked out after \
             {MAX_FAILURES} wrong credentials in a row)"
        ),
    ));
    resp.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_locked_out_after_failures_in_a_row_and_others_are_not() {
        let guard = Guard::default();
        let guesser: IpAddr = [10, 0, 0, 1].into();
        let other: IpAddr = [10, 0, 0, 2].into();
        for _ in 1..MAX_FAILURES {
            assert_eq!(guard.failed(guesser), None);
        }
        assert!(guard.locked_out(guesser).is_none());
        assert_eq!(guard.failed(guesser), Some(LOCKOUT));
        assert!(guard.locked_out(guesser).is_some_and(|d| d <= LOCKOUT));
        assert!(guard.locked_out(other).is_none());
        // A success elsewhere resets only that address.
        guard.failed(other);
        guard.succeeded(other);
        assert!(guard.locked_out(guesser).is_some());
    }

    #[test]
    fn a_lockout_outlasts_a_flood_from_other_addresses() {
        let guard = Guard::default();
        let locked: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..MAX_FAILURES {
            guard.failed(locked);
        }
        assert!(guard.locked_out(locked).is_some());
        for i in 0..(MAX_TRACKED as u32 + 50) {
            guard.failed(IpAddr::from((0x0b00_0000 + i).to_be_bytes()));
        }
        assert!(guard.locked_out(locked).is_some(), "10,050 other addresses do not lift the lockout");
    }

    #[test]
    fn a_success_resets_the_count() {
        let guard = Guard::default();
        let ip: IpAddr = [10, 0, 0, 3].into();
        for _ in 0..3 {
            for _ in 1..MAX_FAILURES {
                assert_eq!(guard.failed(ip), None);
            }
            guard.succeeded(ip);
        }
        assert!(guard.locked_out(ip).is_none());
    }
}
