//! This machine as peers see it: its host name, the address they reach it at, and its clock.

use std::net::{IpAddr, Ipv4Addr};

/// The machine's host name, or `localhost`.
pub(crate) fn hostname() -> String {
    hostname::get().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "localhost".to_owned())
}

/// Now, in seconds since the Unix epoch: the start time a node gives itself.
pub(crate) fn started_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The address peers reach us at: the bound address if specific, else the first private IPv4
/// of an interface, else the first non-loopback one, else loopback.
pub(crate) fn advertised_http_host(bound: IpAddr) -> IpAddr {
    if !bound.is_unspecified() {
        return bound;
    }
    first_private_ip().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The first private IPv4 address of this machine's interfaces (else any non-loopback one).
pub(crate) fn first_private_ip() -> Option<IpAddr> {
    let addrs: Vec<IpAddr> = if_addrs::get_if_addrs()
        .ok()?
        .into_iter()
        .map(|i| i.ip())
        .filter(|ip| ip.is_ipv4() && !ip.is_loopback())
        .collect();
    addrs
        .iter()
        .copied()
        .find(|ip| matches!(ip, IpAddr::V4(v4) if v4.is_private()))
        .or_else(|| addrs.first().copied())
}
