//! Shared pieces of the baseline servers.

/// The port from `GDD_PORT`, as the doudou server reads it (default 6060).
pub fn port() -> u16 {
    std::env::var("GDD_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(6060)
}
