//! Logging through `tracing`: human-readable lines with `GDD_ENV=dev`, JSON lines otherwise;
//! with OpenTelemetry on (see [`crate::trace`]), the same subscriber exports doudou's spans,
//! and every line written inside a request or a call shows its `trace_id` and `span_id`.

use tracing_subscriber::layer::SubscriberExt;
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
        // The request and call spans are seen by the log lines whatever the level, so that
        // a warning inside a request still carries its trace id (spans print no lines).
        if let Ok(directive) = format!("{}=trace", trace::TARGET).parse() {
            filter = filter.add_directive(directive);
        }
    }
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let fmt = tracing_subscriber::fmt::layer().with_ansi(ansi);
    let fmt = if config.is_dev() {
        fmt.compact().boxed()
    } else {
        fmt.json().flatten_event(true).with_current_span(tracing.is_some()).with_span_list(false).boxed()
    };
    let registry = tracing_subscriber::registry().with(fmt.with_filter(filter));
    let Some(settings) = tracing else {
        let _ = registry.try_init();
        return;
    };
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
