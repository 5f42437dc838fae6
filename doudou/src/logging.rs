//! Logging through `tracing`: human-readable lines with `GDD_ENV=dev`, JSON lines otherwise;
//! with OpenTelemetry on (see [`crate::trace`]), the same subscriber exports doudou's spans,
//! and every line written inside a request or a call shows its `trace_id` and `span_id`.
//!
//! memberlist logs an error for every gossip packet it cannot decode, so a flood of junk on
//! the gossip port would become a flood of log (2.48 M packets wrote 469 MB in 20 s): its
//! warnings and errors are written at most [`GOSSIP_LINES_PER_SECOND`] a second, and the rest
//! counted and summed up in one line when the second ends.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::subscriber::Interest;
use tracing::{Level, Metadata};
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::layer::{Context, Filter, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::Config;
use crate::trace;

/// Installs the global subscriber once; later calls (and a subscriber the application
/// installed itself) are left alone. `RUST_LOG`, when set, refines `GDD_LOG_LEVEL`.
pub(crate) fn init(config: &Config) {
    let mut filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(config.log_level.as_str()));
    let tracing = trace::Settings::from_env(&config.service_name);
    if tracing.is_some() {
        // The spans of the ids are seen by the log lines whatever the level, so that a warning
        // inside a request still carries its trace id (spans print no lines); the request and
        // call spans are not: their attributes are for the backend, not for every line.
        for directive in [format!("{}=trace", trace::IDS_TARGET), format!("{}=off", trace::TARGET)] {
            if let Ok(directive) = directive.parse() {
                filter = filter.add_directive(directive);
            }
        }
    }
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let fmt = tracing_subscriber::fmt::layer().with_ansi(ansi);
    let fmt = if config.is_dev() {
        fmt.compact().boxed()
    } else {
        fmt.json().flatten_event(true).with_current_span(tracing.is_some()).with_span_list(false).boxed()
    };
    let registry = tracing_subscriber::registry().with(fmt.with_filter(filter.and(GossipFlood)));
    let Some(settings) = tracing else {
        let _ = registry.try_init();
        return;
    };
    #[cfg(not(feature = "otel"))]
    {
        let _ = registry.try_init();
        tracing::warn!(
            service = %settings.service_name,
            "OTEL_EXPORTER_OTLP_ENDPOINT is set, but this build cannot trace: doudou's `otel` feature is off"
        );
    }
    #[cfg(feature = "otel")]
    match trace::layer(&settings) {
        Ok(otel) => {
            let only_doudou =
                tracing_subscriber::filter::Targets::new().with_target(trace::TARGET, tracing::Level::TRACE);
            if registry.with(otel.with_filter(only_doudou)).try_init().is_ok() {
                trace::enable();
                tracing::info!(service = %settings.service_name, "exporting traces over OTLP");
            }
        }
        Err(e) => {
            let _ = registry.try_init();
            tracing::warn!("tracing is off: {e}");
        }
    }
}

/// memberlist's warning and error lines written in a second; more are counted.
pub(crate) const GOSSIP_LINES_PER_SECOND: u32 = 5;

/// The module where memberlist 0.8.5 logs each gossip packet it cannot decode or handle.
#[cfg(feature = "gossip")]
const PACKET_TARGET: &str = "memberlist_core::network::packet::listener";

fn is_gossip_warning(meta: &Metadata<'_>) -> bool {
    meta.is_event() && *meta.level() <= Level::WARN && meta.target().starts_with("memberlist")
}

/// Lets memberlist's warnings and errors through at [`GOSSIP_LINES_PER_SECOND`].
struct GossipFlood;

#[derive(Default)]
struct Window {
    start: Option<Instant>,
    written: u32,
    suppressed: u64,
    summary_scheduled: bool,
}

static WINDOW: Mutex<Window> =
    Mutex::new(Window { start: None, written: 0, suppressed: 0, summary_scheduled: false });
const SECOND: Duration = Duration::from_secs(1);

impl<S> Filter<S> for GossipFlood {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        if !is_gossip_warning(meta) {
            return true;
        }
        #[cfg(feature = "gossip")]
        if meta.target() == PACKET_TARGET && *meta.level() == Level::ERROR {
            crate::registry::guard::refused(crate::registry::guard::Refusal::Undecodable);
        }
        let now = Instant::now();
        let Ok(mut window) = WINDOW.lock() else { return false };
        if !matches!(window.start, Some(start) if now.duration_since(start) < SECOND) {
            summarise(&mut window);
            window.start = Some(now);
            window.written = 0;
        }
        if window.written < GOSSIP_LINES_PER_SECOND {
            window.written += 1;
            return true;
        }
        window.suppressed += 1;
        if !window.summary_scheduled {
            // The summary must come even if the flood stops: a timer writes it when the
            // second ends (memberlist logs from its tasks, on a runtime).
            if let (Ok(runtime), Some(start)) = (tokio::runtime::Handle::try_current(), window.start) {
                window.summary_scheduled = true;
                runtime.spawn(async move {
                    tokio::time::sleep_until((start + SECOND).into()).await;
                    if let Ok(mut window) = WINDOW.lock() {
                        summarise(&mut window);
                    }
                });
            }
        }
        false
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        // Asked at each event of memberlist's, so that each can be counted.
        if is_gossip_warning(meta) {
            Interest::sometimes()
        } else {
            Interest::always()
        }
    }
}

fn summarise(window: &mut Window) {
    window.summary_scheduled = false;
    let count = std::mem::take(&mut window.suppressed);
    if count > 0 {
        tracing::warn!(
            count,
            "{count} more gossip warnings and errors in the last second (undecodable packets are counted in doudou_gossip_refused_total)"
        );
    }
}
