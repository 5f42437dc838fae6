//! Service discovery's seam: the instances of a service ([`Member`]), who provides them
//! ([`ServiceProvider`]) and which one a call takes ([`Balancer`]).
//!
//! [`FixedProvider`] is one fixed base URL, for calls outside any cluster; the gossip cluster's
//! provider is `registry::Discover` (the `gossip` feature). A balancer is
//! [`RoundRobin`] or nginx's smooth weighted round robin ([`SmoothWeighted`], the default,
//! weights from each node's `GDD_WEIGHT`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use serde::Serialize;

use crate::config::Config;
use crate::vocab::BuildInfo;

/// A member as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Unique node name.
    pub name: String,
    /// The service it runs.
    pub service: String,
    /// Gossip address, `ip:port`.
    pub gossip_address: String,
    /// HTTP address, `ip:port`.
    pub address: String,
    /// `http://ip:port/root`.
    pub base_url: String,
    /// Load-balancing weight.
    pub weight: u32,
    /// Crate version of the service.
    pub version: String,
    /// Git commit of the build.
    pub git_commit: String,
    /// Build time.
    pub build_time: String,
    /// Start time, seconds since the Unix epoch.
    pub start_time: u64,
    /// `alive`; `suspect` when this node's failure-detector probes of it have gone unanswered
    /// for longer than a probe round (it may be frozen, overloaded or cut off); `dead` or
    /// `left` once memberlist removed it, by failed probes or by its own leave message.
    pub status: MemberStatus,
}

impl Member {
    /// Whether it serves HTTP: false for a process that joined only to discover services.
    pub fn serves(&self) -> bool {
        !self.base_url.is_empty()
    }
}

/// What this node knows of a member's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    /// It answers probes.
    Alive,
    /// Its probes have gone unanswered for longer than a probe round (it may be frozen,
    /// overloaded or cut off).
    Suspect,
    /// Removed after failed probes.
    Dead,
    /// It left the cluster (it said so).
    Left,
}

impl MemberStatus {
    /// `alive`, `suspect`, `dead` or `left`, as `/go-doudou/registry` and Prometheus labels
    /// show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alive => "alive",
            Self::Suspect => "suspect",
            Self::Dead => "dead",
            Self::Left => "left",
        }
    }
}

impl Member {
    /// An instance of `service` known only by its name and base URL (a fixed URL, a test):
    /// no gossip address and no build details.
    pub(crate) fn instance(service: &str, name: &str, base_url: String, weight: u32) -> Self {
        Self {
            name: name.to_owned(),
            service: service.to_owned(),
            gossip_address: String::new(),
            address: String::new(),
            base_url,
            weight,
            version: String::new(),
            git_commit: String::new(),
            build_time: String::new(),
            start_time: 0,
            status: MemberStatus::Alive,
        }
    }
}

/// The instances of one service, and which of them the balancer proposes.
pub trait ServiceProvider: Send + Sync + 'static {
    /// The service's name, for metrics and error messages.
    fn name(&self) -> &str;

    /// The instances a call may go to now; empty when none is known.
    fn instances(&self) -> Arc<Vec<Member>>;

    /// The index in `instances` (never empty) of the instance the balancer proposes; the
    /// client takes another when this one is ejected or clearly busier.
    fn choose(&self, instances: &[Member]) -> usize {
        let _ = instances;
        0
    }

    /// Something to await before the first call, e.g. joining the cluster; `None` (the
    /// default) when the provider can answer at once.
    fn ready(&self) -> Option<BoxFuture<'_, ()>> {
        None
    }
}

/// A provider of one fixed base URL.
#[derive(Debug, Clone)]
pub struct FixedProvider {
    instance: Arc<Vec<Member>>,
}

impl FixedProvider {
    /// Always `base_url` (a trailing `/` is ignored).
    pub fn new(base_url: impl Into<String>) -> Self {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        let member = Member::instance(&base_url, &base_url, base_url.clone(), 1);
        Self { instance: Arc::new(vec![member]) }
    }

    /// The base URL in the variable `var` (process environment or `.env` files), e.g.
    /// `FixedProvider::from_env("USERS_URL")` for a service outside the cluster.
    pub fn from_env(var: &'static str) -> Result<Self, crate::config::ConfigError> {
        let config = crate::config::Config::from_env()?;
        match config.var(var).map(str::trim) {
            Some(url) if url.starts_with("http://") => Ok(Self::new(url)),
            Some(other) => Err(crate::config::ConfigError::Invalid {
                var,
                value: other.to_owned(),
                expected: "a base URL such as http://users:6060",
            }),
            None => Err(crate::config::ConfigError::Missing { var }),
        }
    }
}

impl ServiceProvider for FixedProvider {
    fn name(&self) -> &str {
        self.instance.first().map_or("", |m| m.base_url.as_str())
    }

    fn instances(&self) -> Arc<Vec<Member>> {
        Arc::clone(&self.instance)
    }
}

/// The instances of a service nothing can discover (a build without gossip): none.
#[cfg(not(feature = "gossip"))]
#[derive(Debug)]
pub(crate) struct Undiscovered(pub(crate) String);

#[cfg(not(feature = "gossip"))]
impl ServiceProvider for Undiscovered {
    fn name(&self) -> &str {
        &self.0
    }

    fn instances(&self) -> Arc<Vec<Member>> {
        Arc::default()
    }
}

impl Member {
    /// This process as a member, serving HTTP on `bound`, as `/go-doudou/registry` shows it
    /// when gossip is off.
    pub fn local(config: &Config, bound: SocketAddr, build: BuildInfo) -> Self {
        let address = SocketAddr::new(crate::host::advertised_http_host(bound.ip()), bound.port());
        Self {
            name: crate::host::hostname(),
            service: config.service_name.clone(),
            gossip_address: String::new(),
            address: address.to_string(),
            base_url: format!("http://{address}{}", config.route_root_path),
            weight: config.weight,
            version: build.version.to_owned(),
            git_commit: build.git_commit.to_owned(),
            build_time: build.build_time.to_owned(),
            start_time: crate::host::started_now(),
            status: MemberStatus::Alive,
        }
    }
}

/// Where the cluster's members come from.
pub trait ClusterView: Send + Sync + 'static {
    /// The live members, this node first.
    fn members(&self) -> Vec<Member>;

    /// The members as `/go-doudou/registry` lists them.
    fn nodes(&self) -> Vec<NodeInfo> {
        self.members().into_iter().map(NodeInfo::from).collect()
    }
}

/// A cluster of one: this node.
#[derive(Debug, Clone)]
pub struct LocalNode(pub Member);

impl ClusterView for LocalNode {
    fn members(&self) -> Vec<Member> {
        vec![self.0.clone()]
    }
}

impl From<Member> for NodeInfo {
    fn from(m: Member) -> Self {
        Self {
            name: m.name,
            service: m.service,
            address: m.address,
            base_url: m.base_url,
            status: m.status.as_str().to_owned(),
            weight: m.weight,
            build: NodeBuild {
                version: m.version,
                git_commit: m.git_commit,
                build_time: m.build_time,
                start_time: m.start_time,
            },
        }
    }
}

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
    /// memberlist's state of the node: `alive`, `suspect`, `dead` or `left` (see [`Member::status`]).
    pub status: String,
    /// Load-balancing weight.
    pub weight: u32,
    /// Build information.
    pub build: NodeBuild,
}

/// Build information of a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeBuild {
    /// The service crate's version.
    pub version: String,
    /// The git commit, or "".
    pub git_commit: String,
    /// The build time, or "".
    pub build_time: String,
    /// When the node started, seconds since the Unix epoch.
    pub start_time: u64,
}

/// Chooses one of the live instances of a service.
pub trait Balancer: Send + Sync + 'static {
    /// The index in `instances` (never empty) of the next pick.
    fn pick(&self, instances: &[Member]) -> usize;
}

/// Each instance in turn.
#[derive(Debug, Default)]
pub struct RoundRobin {
    next: AtomicUsize,
}

impl Balancer for RoundRobin {
    fn pick(&self, instances: &[Member]) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % instances.len()
    }
}

/// nginx's smooth weighted round robin: over any window of `sum(weights)` picks each instance
/// gets exactly its weight, interleaved rather than in bursts.
#[derive(Debug, Default)]
pub struct SmoothWeighted {
    /// The instance names of the last pick and their current weights, index for index.
    state: Mutex<(Vec<String>, Vec<i64>)>,
}

impl Balancer for SmoothWeighted {
    fn pick(&self, instances: &[Member]) -> usize {
        let Ok(mut state) = self.state.lock() else { return 0 };
        let (names, current) = &mut *state;
        let same = names.len() == instances.len() && names.iter().zip(instances).all(|(n, m)| *n == m.name);
        if !same {
            // The instances changed: keep the current weights of those that remain.
            let kept: HashMap<&str, i64> =
                names.iter().map(String::as_str).zip(current.iter().copied()).collect();
            let fresh: Vec<i64> =
                instances.iter().map(|m| kept.get(m.name.as_str()).copied().unwrap_or(0)).collect();
            *current = fresh;
            *names = instances.iter().map(|m| m.name.clone()).collect();
        }
        let mut total = 0;
        let mut best = 0;
        for (i, m) in instances.iter().enumerate() {
            let weight = i64::from(m.weight.max(1));
            total += weight;
            current[i] += weight;
            if current[i] > current[best] {
                best = i;
            }
        }
        current[best] -= total;
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, weight: u32) -> Member {
        Member::instance("svc", name, format!("http://{name}"), weight)
    }

    fn counts(b: &dyn Balancer, instances: &[Member], picks: usize) -> Vec<usize> {
        let mut counts = vec![0; instances.len()];
        for _ in 0..picks {
            counts[b.pick(instances)] += 1;
        }
        counts
    }

    #[test]
    fn round_robin_is_even() {
        let instances = [member("a", 1), member("b", 5), member("c", 1)];
        assert_eq!(counts(&RoundRobin::default(), &instances, 300), vec![100, 100, 100]);
    }

    #[test]
    fn smooth_weighted_follows_weights_and_interleaves() {
        let instances = [member("a", 5), member("b", 1), member("c", 1)];
        let b = SmoothWeighted::default();
        let seq: String = (0..7).map(|_| ["a", "b", "c"][b.pick(&instances)]).collect();
        assert_eq!(seq, "aabacaa", "nginx's sequence for weights 5,1,1");
        assert_eq!(counts(&b, &instances, 7000), vec![5000, 1000, 1000]);
    }

    #[test]
    fn smooth_weighted_adapts_when_instances_change() {
        let b = SmoothWeighted::default();
        let three = [member("a", 1), member("b", 2), member("c", 3)];
        let _ = counts(&b, &three, 5);
        let two = [member("a", 1), member("c", 3)];
        assert_eq!(counts(&b, &two, 400), vec![100, 300]);
    }
}
