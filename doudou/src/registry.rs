//! The cluster as the service sees it: its own node, and (with gossip) every member.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::Serialize;

use crate::config::Config;
use crate::service::BuildInfo;

/// One member of the cluster, as `/go-doudou/registry` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    /// Unique node name.
    pub name: String,
    /// The service it runs (`GDD_SERVICE_NAME`).
    pub service: String,
    /// Its advertised HTTP address, `host:port`.
    pub address: String,
    /// `http://host:port/root`, what clients call.
    pub base_url: String,
    /// `up`, `suspect`, `left` or `down`.
    pub status: String,
    /// Load-balancing weight.
    pub weight: u32,
    /// Build information.
    pub build: BuildInfo,
}

/// Where the cluster's members come from.
pub trait ClusterView: Send + Sync + 'static {
    /// The members, this node first.
    fn nodes(&self) -> Vec<NodeInfo>;
}

/// A cluster of one: this node.
#[derive(Debug, Clone)]
pub struct LocalNode(pub NodeInfo);

impl ClusterView for LocalNode {
    fn nodes(&self) -> Vec<NodeInfo> {
        vec![self.0.clone()]
    }
}

impl NodeInfo {
    /// This process's node, serving HTTP on `bound`.
    pub fn local(config: &Config, bound: SocketAddr, build: BuildInfo) -> Self {
        let host = advertised_http_host(bound.ip());
        let address = SocketAddr::new(host, bound.port()).to_string();
        Self {
            name: hostname(),
            service: config.service_name.clone(),
            base_url: format!("http://{address}{}", config.route_root_path),
            address,
            status: "up".to_owned(),
            weight: config.weight,
            build,
        }
    }
}

/// The machine's host name, or `localhost`.
pub fn hostname() -> String {
    hostname::get().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "localhost".to_owned())
}

/// The address peers reach us at: the bound address if specific, else the first private IPv4
/// of an interface, else the first non-loopback one, else loopback.
pub fn advertised_http_host(bound: IpAddr) -> IpAddr {
    if !bound.is_unspecified() {
        return bound;
    }
    first_private_ip().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The first private IPv4 address of this machine's interfaces (else any non-loopback one).
pub fn first_private_ip() -> Option<IpAddr> {
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
