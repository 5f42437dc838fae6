//! The settings of resilience: how a server sheds overload and how its clients call others.

use std::time::Duration;

use super::values::{parse, parse_duration, parse_interval, parse_size};
use super::ConfigError;

/// The admission limits of business requests (the `/go-doudou/` routes are never limited);
/// 0 turns a limit off, and both are off by default.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LimitsConfig {
    /// `GDD_MAX_INFLIGHT`: business requests handled at once; more get 429.
    pub max_inflight: usize,
    /// `GDD_MAX_WAIT`: how long a request may wait for a place before its 429.
    pub max_wait: Duration,
    /// `GDD_RATE_LIMIT`: business requests a second, on average; more get 429.
    pub rate_limit: u32,
    /// `GDD_RATE_BURST`: requests let through at once above the average (default: the rate).
    pub rate_burst: u32,
}

/// How generated clients call other services (each client can override them).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// `GDD_CLIENT_TIMEOUT`: how long one attempt of a call may take to get its answer.
    pub timeout: Duration,
    /// `GDD_CLIENT_TOTAL_TIMEOUT`: how long a call may take, its retries included.
    pub total_timeout: Duration,
    /// `GDD_RETRY_COUNT`: retries of a call after a failure it is safe to retry.
    pub retries: u32,
    /// `GDD_CLIENT_MAX_BODY_SIZE`: the largest answer body a call reads (downloads stream);
    /// `GDD_MAX_BODY_SIZE` unless set.
    pub max_body_size: u64,
}

pub(super) fn parse_limits<'a>(get: &impl Fn(&str) -> &'a str) -> Result<LimitsConfig, ConfigError> {
    fn limit<T: std::str::FromStr>(var: &'static str, value: &str) -> Result<T, ConfigError> {
        parse(var, value, "0 (off) or a positive integer", |v| v.parse().ok())
    }
    let rate_limit = limit("GDD_RATE_LIMIT", get("GDD_RATE_LIMIT"))?;
    Ok(LimitsConfig {
        max_inflight: limit("GDD_MAX_INFLIGHT", get("GDD_MAX_INFLIGHT"))?,
        max_wait: parse_duration("GDD_MAX_WAIT", get("GDD_MAX_WAIT"))?,
        rate_limit,
        rate_burst: match limit("GDD_RATE_BURST", get("GDD_RATE_BURST"))? {
            0 => rate_limit,
            burst => burst,
        },
    })
}

/// What a size setting looks like.
pub(super) const SIZE: &str = "a size such as 4MiB, 512KiB or 1048576";

pub(super) fn parse_client<'a>(get: &impl Fn(&str) -> &'a str) -> Result<ClientConfig, ConfigError> {
    Ok(ClientConfig {
        timeout: parse_interval("GDD_CLIENT_TIMEOUT", get("GDD_CLIENT_TIMEOUT"))?,
        total_timeout: parse_interval("GDD_CLIENT_TOTAL_TIMEOUT", get("GDD_CLIENT_TOTAL_TIMEOUT"))?,
        retries: parse("GDD_RETRY_COUNT", get("GDD_RETRY_COUNT"), "0 or a positive integer", |v| {
            v.parse().ok()
        })?,
        // Unset, it is the server's own limit: what a service accepts, its clients read.
        max_body_size: match get("GDD_CLIENT_MAX_BODY_SIZE") {
            "" => parse("GDD_MAX_BODY_SIZE", get("GDD_MAX_BODY_SIZE"), SIZE, parse_size)?,
            size => parse("GDD_CLIENT_MAX_BODY_SIZE", size, SIZE, parse_size)?,
        },
    })
}
