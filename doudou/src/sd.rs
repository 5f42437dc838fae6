//! Service discovery for clients: providers that pick the instance of each call.
//!
//! [`Discover`] follows a service name through a gossip cluster (a handle, or the process's
//! ambient one, joined on first use by a process that serves nothing), kept current by
//! join/leave/update events, with a [`Balancer`]: [`RoundRobin`] or nginx's smooth weighted
//! round robin ([`SmoothWeighted`], the default, weights from each node's `GDD_WEIGHT`).
//! [`crate::FixedProvider`] is the fixed-URL provider for calls outside the cluster.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::client::ServiceProvider;
use crate::registry::{self, Gossip, Member};

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

/// The instances of one service, by name, in a gossip cluster: the one given, or the process's
/// ambient cluster (see [`registry::current`]). With neither, the first call joins the cluster
/// of `GDD_MEM_SEED` as a node that serves nothing ([`registry::join`]), so that a program that
/// only calls services needs no setup.
#[derive(Debug)]
pub struct Discover<B = SmoothWeighted> {
    service: String,
    balancer: B,
    cluster: Option<Arc<Gossip>>,
}

impl Discover<SmoothWeighted> {
    /// Instances of `service` (its `GDD_SERVICE_NAME`), weighted.
    pub fn new(service: impl Into<String>) -> Self {
        Self::with_balancer(service, SmoothWeighted::default())
    }

    /// Instances of `service` in `cluster` rather than the ambient one, weighted.
    pub fn in_cluster(cluster: Arc<Gossip>, service: impl Into<String>) -> Self {
        Self { cluster: Some(cluster), ..Self::new(service) }
    }
}

impl<B: Balancer> Discover<B> {
    /// Instances of `service` picked by `balancer`.
    pub fn with_balancer(service: impl Into<String>, balancer: B) -> Self {
        Self { service: service.into(), balancer, cluster: None }
    }

    fn cluster(&self) -> Option<Arc<Gossip>> {
        self.cluster.clone().or_else(registry::current)
    }

    fn of_service(&self) -> Arc<Vec<Member>> {
        self.cluster().map(|gossip| gossip.members().of_service(&self.service)).unwrap_or_default()
    }
}

/// How long a call waits for this node to join its cluster (a seed that is slow to answer);
/// once joined, a service without instances is answered at once.
const FIRST_SIGHT: Duration = Duration::from_secs(5);

/// Joins the cluster of the environment's `GDD_MEM_SEED` once per process; `None` when it is
/// unset or the join failed (logged).
async fn join_from_env() -> Option<Arc<Gossip>> {
    static JOINED: tokio::sync::OnceCell<Option<Arc<Gossip>>> = tokio::sync::OnceCell::const_new();
    JOINED
        .get_or_init(|| async {
            let config = match crate::Config::from_env() {
                Ok(config) if !config.mem.seeds.is_empty() => config,
                Ok(_) => return None,
                Err(e) => {
                    tracing::error!("cannot join the cluster to discover services: {e}");
                    return None;
                }
            };
            match registry::join(&config).await {
                Ok(gossip) => Some(gossip),
                Err(e) => {
                    tracing::error!("cannot join the cluster of GDD_MEM_SEED to discover services: {e}");
                    None
                }
            }
        })
        .await
        .clone()
}

impl<B: Balancer> ServiceProvider for Discover<B> {
    fn name(&self) -> &str {
        &self.service
    }

    /// The live instances, less those gossip suspects (unless that would leave none).
    fn instances(&self) -> Arc<Vec<Member>> {
        self.cluster().map(|gossip| gossip.members().answering(&self.service)).unwrap_or_default()
    }

    fn choose(&self, instances: &[Member]) -> usize {
        self.balancer.pick(instances)
    }

    fn ready(&self) -> Option<BoxFuture<'_, ()>> {
        if !self.of_service().is_empty() || self.cluster().is_some_and(|c| c.has_joined()) {
            // Once in the cluster, its member list is complete: no instance means none.
            return None;
        }
        Some(Box::pin(async move {
            let cluster = match self.cluster() {
                Some(cluster) => cluster,
                None => match join_from_env().await {
                    Some(cluster) => cluster,
                    None => return,
                },
            };
            let _ = tokio::time::timeout(FIRST_SIGHT, cluster.joined()).await;
        }))
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
