//! Panics while handling a request: a 500 with the JSON error shape, and a log that a crash
//! loop cannot flood.
//!
//! The standard panic hook prints a line for every panic, and the server logged another: 620k
//! panics in 30 s wrote 133 MB. While the server polls a request, doudou's hook only notes
//! where the panic happened, and the server writes one line for it. Past
//! [`LINES_PER_SECOND`] lines in a second, panics are counted per route instead and each
//! route gets one summary line when the second ends ("N more panics in route R in the last
//! second"). Panics anywhere else (the application's own threads and tasks) still go to the
//! hook that was installed before.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use http::header::{HeaderValue, CONTENT_TYPE};
use http::Response;

use crate::error::Error;

/// Lines, one per panic, written in a second before panics are only counted.
pub(crate) const LINES_PER_SECOND: u32 = 10;

const WINDOW: Duration = Duration::from_secs(1);

thread_local! {
    /// True while this thread polls a request on the server's behalf.
    static HANDLING: Cell<bool> = const { Cell::new(false) };
    /// Where the last panic of a request on this thread happened, for its log line.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A panic caught while handling a request, carried in the 500 response's extensions to where
/// the route is known and the panic is logged.
#[derive(Debug, Clone)]
pub(crate) struct CaughtPanic {
    message: String,
    location: Option<String>,
}

/// Installs doudou's panic hook in front of the current one, once per process.
pub(crate) fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if HANDLING.get() {
                let location = info.location().map(ToString::to_string);
                LOCATION.with_borrow_mut(|slot| *slot = location);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `poll` marked as request handling, so that a panic in it is left to [`report`].
pub(crate) fn handling<R>(poll: impl FnOnce() -> R) -> R {
    let was = HANDLING.replace(true);
    let result = poll();
    HANDLING.set(was);
    result
}

/// The 500 answer to a caught panic, carrying the panic for [`report`].
pub(crate) fn response(payload: Box<dyn Any + Send + 'static>) -> Response<String> {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic payload that is not a string)".to_owned());
    let location = LOCATION.with_borrow_mut(Option::take);
    let err = Error::internal("the handler panicked; see the service log");
    let mut resp = Response::new(String::from_utf8_lossy(&err.to_json()).into_owned());
    *resp.status_mut() = err.status();
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.extensions_mut().insert(CaughtPanic { message, location });
    resp
}

struct Flood {
    window_start: Instant,
    logged: u32,
    /// Panics not logged in the current window, by route.
    counted: BTreeMap<String, u64>,
    summary_scheduled: bool,
}

static FLOOD: Mutex<Option<Flood>> = Mutex::new(None);

/// Logs a panic caught in `route` (a template), or counts it once this second's lines are
/// spent.
pub(crate) fn report(route: &str, panic: &CaughtPanic) {
    let now = Instant::now();
    let Ok(mut guard) = FLOOD.lock() else { return };
    let flood = guard.get_or_insert_with(|| Flood {
        window_start: now,
        logged: 0,
        counted: BTreeMap::new(),
        summary_scheduled: false,
    });
    if now.duration_since(flood.window_start) >= WINDOW {
        summarise(&mut flood.counted);
        flood.window_start = now;
        flood.logged = 0;
    }
    if flood.logged < LINES_PER_SECOND {
        flood.logged += 1;
        drop(guard);
        tracing::error!(
            route,
            panic = %panic.message,
            location = panic.location.as_deref().unwrap_or("unknown"),
            "a handler panicked"
        );
        return;
    }
    *flood.counted.entry(route.to_owned()).or_default() += 1;
    if !flood.summary_scheduled {
        // The summary must come even if the flood stops: a timer writes it when the second ends.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            flood.summary_scheduled = true;
            let at = flood.window_start + WINDOW;
            runtime.spawn(async move {
                tokio::time::sleep_until(at.into()).await;
                if let Ok(mut guard) = FLOOD.lock() {
                    if let Some(flood) = guard.as_mut() {
                        summarise(&mut flood.counted);
                        flood.summary_scheduled = false;
                    }
                }
            });
        }
    }
}

fn summarise(counted: &mut BTreeMap<String, u64>) {
    for (route, count) in std::mem::take(counted) {
        tracing::error!(route = %route, count, "{count} more panics in route {route} in the last second");
    }
}
