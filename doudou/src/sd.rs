//! Service discovery for clients: providers that pick the instance of each call.
//!
//! [`Discover`] follows a service name through the gossip registry, kept current by
//! join/leave/update events, with a [`Balancer`]: [`RoundRobin`] or nginx's smooth weighted
//! round robin ([`SmoothWeighted`], the default, weights from each node's `GDD_WEIGHT`).
//! [`crate::FixedProvider`] is the fixed-URL provider for calls outside the cluster.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::client::ServiceProvider;
use crate::registry::{self, Member};

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

/// The instances of one service, by name, through the gossip registry of this process.
#[derive(Debug)]
pub struct Discover<B = SmoothWeighted> {
    service: String,
    balancer: B,
}

impl Discover<SmoothWeighted> {
    /// Instances of `service` (its `GDD_SERVICE_NAME`), weighted.
    pub fn new(service: impl Into<String>) -> Self {
        Self::with_balancer(service, SmoothWeighted::default())
    }
}

impl<B: Balancer> Discover<B> {
    /// Instances of `service` picked by `balancer`.
    pub fn with_balancer(service: impl Into<String>, balancer: B) -> Self {
        Self { service: service.into(), balancer }
    }

    fn instances(&self) -> std::sync::Arc<Vec<Member>> {
        match registry::current() {
            Some(gossip) => gossip.members().of_service(&self.service),
            None => std::sync::Arc::default(),
        }
    }
}

impl<B: Balancer> ServiceProvider for Discover<B> {
    fn pick(&self) -> Option<String> {
        let instances = self.instances();
        if instances.is_empty() {
            return None;
        }
        let i = self.balancer.pick(&instances);
        instances.get(i).map(|m| m.base_url.clone())
    }

    fn count(&self) -> usize {
        self.instances().len()
    }

    fn describe(&self) -> String {
        format!("service {:?}", self.service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, weight: u32) -> Member {
        Member {
            name: name.into(),
            service: "svc".into(),
            gossip_address: String::new(),
            address: String::new(),
            base_url: format!("http://{name}"),
            weight,
            version: String::new(),
            git_commit: String::new(),
            build_time: String::new(),
            start_time: 0,
            status: crate::registry::ALIVE,
        }
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
