//! The gossip cluster as a [`ServiceProvider`]: a service's instances by name.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::Gossip;
use crate::sd::{Balancer, Member, ServiceProvider, SmoothWeighted};

/// The instances of one service, by name, in a gossip cluster: the one given, or the process's
/// ambient cluster (see [`super::current`]). With neither, the first call joins the cluster
/// of `GDD_MEM_SEED` as a node that serves nothing ([`join`](super::join)), so that a program that
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
        self.cluster.clone().or_else(super::current)
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
            let config = match crate::config::Config::from_env() {
                Ok(config) if !config.mem.seeds.is_empty() => config,
                Ok(_) => return None,
                Err(e) => {
                    tracing::error!("cannot join the cluster to discover services: {e}");
                    return None;
                }
            };
            match super::join(&config).await {
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
