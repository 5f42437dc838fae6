//! Logging through `tracing`: human-readable lines with `GDD_ENV=dev`, JSON lines otherwise.

use tracing_subscriber::EnvFilter;

use crate::config::Config;

/// Installs the global subscriber once; later calls (and a subscriber the application
/// installed itself) are left alone. `RUST_LOG`, when set, refines `GDD_LOG_LEVEL`.
pub(crate) fn init(config: &Config) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(config.log_level.as_str()));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi);
    let _ = if config.is_dev() {
        builder.compact().try_init()
    } else {
        builder.json().flatten_event(true).with_current_span(false).try_init()
    };
}
