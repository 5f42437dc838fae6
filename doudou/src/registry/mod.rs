//! The gossip cluster (memberlist, the `gossip` feature): every member, kept current by join,
//! leave and update events, and [`Discover`], the provider of a service's instances in it.
//!
//! Each node gossips a small metadata record (service name, HTTP port, root path, weight,
//! build info, start time). [`Discover`] turns the members into load-balanced providers.

mod delegates;
mod discover;
mod gossip;
pub(crate) mod guard;
mod members;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

pub use discover::Discover;
pub use gossip::{Gossip, GossipError};
pub use members::Members;

/// The machine's host name, or `localhost`.
pub fn hostname() -> String {
    crate::host::hostname()
}

use crate::config::Config;
pub use crate::sd::{ClusterView, LocalNode, Member, MemberStatus, NodeBuild, NodeInfo};
use crate::vocab::BuildInfo;

/// What a node gossips about itself (kept under memberlist's 512-byte limit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Meta {
    #[serde(rename = "s")]
    pub(crate) service: String,
    #[serde(rename = "p")]
    pub(crate) port: u16,
    #[serde(rename = "r", default, skip_serializing_if = "String::is_empty")]
    pub(crate) root: String,
    #[serde(rename = "w")]
    pub(crate) weight: u32,
    #[serde(rename = "v", default, skip_serializing_if = "String::is_empty")]
    pub(crate) version: String,
    #[serde(rename = "c", default, skip_serializing_if = "String::is_empty")]
    pub(crate) commit: String,
    #[serde(rename = "b", default, skip_serializing_if = "String::is_empty")]
    pub(crate) built: String,
    #[serde(rename = "t")]
    pub(crate) started: u64,
    /// Set just before the node leaves, so that peers record it as `left` and stop calling it
    /// even when the leave message itself comes late (memberlist does not tell a leave from a
    /// death).
    #[serde(rename = "l", default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) leaving: bool,
}

impl Meta {
    /// This node's record: its service, HTTP port, weight and build, started now.
    pub(crate) fn of(config: &Config, http_port: u16, build: BuildInfo) -> Self {
        Self {
            service: config.service_name.clone(),
            port: http_port,
            root: config.route_root_path.clone(),
            weight: config.weight,
            version: build.version.to_owned(),
            commit: build.git_commit.to_owned(),
            built: build.build_time.to_owned(),
            started: crate::host::started_now(),
            leaving: false,
        }
    }
}

impl Member {
    pub(crate) fn from_meta(name: String, gossip: SocketAddr, meta: &Meta) -> Self {
        // A node that serves nothing (a client that joined to discover) has no HTTP address.
        let (address, base_url) = match meta.port {
            0 => (String::new(), String::new()),
            port => {
                let address = SocketAddr::new(gossip.ip(), port).to_string();
                let base_url = format!("http://{address}{}", meta.root);
                (address, base_url)
            }
        };
        Self {
            name,
            service: meta.service.clone(),
            gossip_address: gossip.to_string(),
            base_url,
            address,
            // A member's own word: one that claimed a huge weight would take every call.
            weight: meta.weight.clamp(1, crate::config::MAX_WEIGHT),
            version: meta.version.clone(),
            git_commit: meta.commit.clone(),
            build_time: meta.built.clone(),
            start_time: meta.started,
            status: if meta.leaving { MemberStatus::Left } else { MemberStatus::Alive },
        }
    }
}

/// The cluster the process uses when nothing else is said: the gossip node of the first server
/// that started with gossip, or the one [`join`] started. Clients made with
/// `{Trait}Client::discover` look services up there.
static AMBIENT: RwLock<Option<Arc<Gossip>>> = RwLock::new(None);

/// The process's ambient cluster, if a server or [`join`] started one.
pub fn current() -> Option<Arc<Gossip>> {
    AMBIENT.read().ok().and_then(|g| g.clone())
}

/// Makes `gossip` the ambient cluster unless there already is one (a second server in the
/// process keeps its own node to itself).
pub(crate) fn install(gossip: &Arc<Gossip>) {
    if let Ok(mut slot) = AMBIENT.write() {
        slot.get_or_insert_with(|| gossip.clone());
    }
}

/// Forgets `gossip` as the ambient cluster, if it is.
pub(crate) fn uninstall(gossip: &Arc<Gossip>) {
    if let Ok(mut slot) = AMBIENT.write() {
        if slot.as_ref().is_some_and(|g| Arc::ptr_eq(g, gossip)) {
            *slot = None;
        }
    }
}

/// Joins the cluster of `config` (`GDD_MEM_SEED`, `GDD_MEM_*`) as a node that serves nothing,
/// for a process that only calls services, and makes it the ambient cluster unless there is one.
/// `{Trait}Client::discover` does this by itself on its first call when `GDD_MEM_SEED` is set;
/// call it to join earlier, or with another configuration. Its name is `GDD_MEM_NAME`, or the
/// host name with `-client-` and the process id.
pub async fn join(config: &Config) -> Result<Arc<Gossip>, GossipError> {
    let mut config = config.clone();
    if config.mem.name.is_empty() {
        config.mem.name = format!("{}-client-{}", crate::host::hostname(), std::process::id());
    }
    let gossip = Gossip::start(&config, 0, BuildInfo::default()).await?;
    install(&gossip);
    Ok(gossip)
}

/// This node's name in the cluster (`GDD_MEM_NAME`), when gossip runs.
pub fn this_node_name() -> Option<String> {
    current().map(|g| g.name().to_owned())
}

/// Changes this node's load-balancing weight and gossips it to the cluster.
pub async fn set_weight(weight: u32) -> Result<(), GossipError> {
    match current() {
        Some(g) => g.set_weight(weight).await,
        None => Err(GossipError::NotRunning),
    }
}

impl ClusterView for Gossip {
    fn members(&self) -> Vec<Member> {
        let mut all = Gossip::members(self).all();
        all.sort_by_key(|m| m.name != self.name());
        all
    }

    /// The live members, then those that died or left within `GDD_MEM_DEAD_TIMEOUT`.
    fn nodes(&self) -> Vec<NodeInfo> {
        let departed = Gossip::members(self).departed(self.dead_timeout());
        ClusterView::members(self).into_iter().chain(departed).map(NodeInfo::from).collect()
    }
}

#[cfg(test)]
mod tests;
