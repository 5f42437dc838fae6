//! Strict parsing of each kind of value: a value that does not parse names its variable.

use super::*;

pub(super) fn parse_mem<'a>(get: &impl Fn(&str) -> &'a str) -> Result<MemConfig, ConfigError> {
    let list = |v: &'a str| v.split(',').map(str::trim).filter(|s| !s.is_empty());
    let count = |var: &'static str| {
        parse(var, get(var), "a positive integer", |v| v.parse::<usize>().ok().filter(|n| *n >= 1))
    };
    let cidrs = get("GDD_MEM_CIDRS_ALLOWED");
    let label = get("GDD_MEM_LABEL");
    if label.len() > 255 {
        return Err(ConfigError::Invalid {
            var: "GDD_MEM_LABEL",
            value: label.to_owned(),
            expected: "at most 255 bytes",
        });
    }
    let name = get("GDD_MEM_NAME");
    if name.len() > 255 {
        return Err(ConfigError::Invalid {
            var: "GDD_MEM_NAME",
            value: name.to_owned(),
            expected: "at most 255 bytes",
        });
    }
    Ok(MemConfig {
        seeds: list(get("GDD_MEM_SEED")).map(str::to_owned).collect(),
        name: name.to_owned(),
        host: get("GDD_MEM_HOST").to_owned(),
        port: parse("GDD_MEM_PORT", get("GDD_MEM_PORT"), "a port number 0-65535", |v| v.parse().ok())?,
        cidrs_allowed: list(cidrs)
            .map(|c| {
                c.parse::<ipnet::IpNet>().or_else(|_| c.parse::<IpAddr>().map(ipnet::IpNet::from)).map_err(
                    |_| ConfigError::Invalid {
                        var: "GDD_MEM_CIDRS_ALLOWED",
                        value: c.to_owned(),
                        expected: "comma-separated networks such as 10.0.0.0/8,192.168.1.0/24",
                    },
                )
            })
            .collect::<Result<_, _>>()?,
        secret: get("GDD_MEM_SECRET").to_owned(),
        label: label.to_owned(),
        dead_timeout: parse_duration("GDD_MEM_DEAD_TIMEOUT", get("GDD_MEM_DEAD_TIMEOUT"))?,
        sync_interval: parse_interval("GDD_MEM_SYNC_INTERVAL", get("GDD_MEM_SYNC_INTERVAL"))?,
        reclaim_timeout: parse_duration("GDD_MEM_RECLAIM_TIMEOUT", get("GDD_MEM_RECLAIM_TIMEOUT"))?,
        probe_interval: parse_interval("GDD_MEM_PROBE_INTERVAL", get("GDD_MEM_PROBE_INTERVAL"))?,
        probe_timeout: parse_interval("GDD_MEM_PROBE_TIMEOUT", get("GDD_MEM_PROBE_TIMEOUT"))?,
        suspicion_mult: count("GDD_MEM_SUSPICION_MULT")?,
        gossip_nodes: count("GDD_MEM_GOSSIP_NODES")?,
        gossip_interval: parse_interval("GDD_MEM_GOSSIP_INTERVAL", get("GDD_MEM_GOSSIP_INTERVAL"))?,
        tcp_timeout: parse_interval("GDD_MEM_TCP_TIMEOUT", get("GDD_MEM_TCP_TIMEOUT"))?,
    })
}

pub(super) fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "doudou".to_owned())
}

pub(super) fn parse<T>(
    var: &'static str,
    value: &str,
    expected: &'static str,
    f: impl FnOnce(&str) -> Option<T>,
) -> Result<T, ConfigError> {
    f(value).ok_or_else(|| ConfigError::Invalid { var, value: value.to_owned(), expected })
}

pub(super) fn parse_bool(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    parse(var, value, "true or false", |v| match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    })
}

pub(super) fn parse_duration(var: &'static str, value: &str) -> Result<Duration, ConfigError> {
    parse(var, value, "a duration such as 15s, 500ms or 1m", |v| humantime::parse_duration(v).ok())
}

/// A period of a repeated action: zero would make it spin.
pub(super) fn parse_interval(var: &'static str, value: &str) -> Result<Duration, ConfigError> {
    parse(var, value, "a duration above zero such as 200ms or 1s", |v| {
        humantime::parse_duration(v).ok().filter(|d| !d.is_zero())
    })
}

pub(super) fn parse_host(value: &str) -> Result<IpAddr, ConfigError> {
    parse("GDD_HOST", value, "an IP address, localhost, or empty for all interfaces", |v| match v {
        "" => Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        "localhost" => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        v => v.parse().ok(),
    })
}

pub(super) fn parse_root_path(value: &str) -> Result<String, ConfigError> {
    parse("GDD_ROUTE_ROOT_PATH", value, "empty or a path starting with /", |v| {
        let v = v.trim_end_matches('/');
        (v.is_empty() || (v.starts_with('/') && !v.contains(['{', '}', '*', '?', '#']))).then(|| v.to_owned())
    })
}

/// Parses `4MiB`, `512KiB`, `10MB`, `1048576` (bytes).
pub(super) fn parse_size(value: &str) -> Option<u64> {
    let split = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
    let (digits, unit) = value.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}
