//! The delegates memberlist calls back: who may join (CIDRs), membership events, probe
//! acknowledgements, and this node's metadata.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use memberlist::delegate::{AliveDelegate, EventDelegate, MergeDelegate, NodeDelegate, PingDelegate};
use memberlist::proto::{Meta as WireMeta, NodeId, NodeState};

use super::{Member, Members, Meta};

/// Refuses nodes outside `GDD_MEM_CIDRS_ALLOWED`, on whichever side learns of them; and
/// refuses to merge any state while this node itself is outside, because the peers' transport
/// drops its packets but still answers its join with their state.
#[derive(Clone)]
pub(super) struct CidrGuard {
    pub(super) allowed: Arc<Vec<ipnet::IpNet>>,
    pub(super) own: IpAddr,
    /// This node's name and gossip address: a peer's state listing another node under this
    /// name is refused (a name conflict, see [`Refused::NameTaken`]).
    pub(super) name: Arc<str>,
    pub(super) advertise: SocketAddr,
}

impl CidrGuard {
    fn allows(&self, ip: IpAddr) -> bool {
        self.allowed.is_empty() || self.allowed.iter().any(|net| net.contains(&ip))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0} is outside GDD_MEM_CIDRS_ALLOWED")]
pub(super) struct Outsider(SocketAddr);

/// Why this node refused a peer's state.
#[derive(Debug, thiserror::Error)]
pub(super) enum Refused {
    /// A node outside the allowed CIDRs.
    #[error(transparent)]
    Outsider(#[from] Outsider),
    /// Another live node has this node's name.
    #[error(
        "another node at {other} is named {name:?}: two processes share GDD_MEM_NAME (or this node's previous run is not yet declared dead); give each process its own GDD_MEM_NAME"
    )]
    NameTaken { name: String, other: SocketAddr },
}

impl AliveDelegate for CidrGuard {
    type Id = NodeId;
    type Address = SocketAddr;
    type Error = Outsider;

    async fn notify_alive(&self, peer: Arc<NodeState<NodeId, SocketAddr>>) -> Result<(), Outsider> {
        let addr = *peer.address();
        if self.allows(addr.ip()) {
            Ok(())
        } else {
            tracing::warn!(node = %peer.id(), %addr, "refusing a node outside GDD_MEM_CIDRS_ALLOWED");
            Err(Outsider(addr))
        }
    }
}

impl MergeDelegate for CidrGuard {
    type Id = NodeId;
    type Address = SocketAddr;
    type Error = Refused;

    async fn notify_merge(&self, peers: Arc<[NodeState<NodeId, SocketAddr>]>) -> Result<(), Refused> {
        if !self.allows(self.own) {
            tracing::error!(own = %self.own, "this node's gossip address is outside GDD_MEM_CIDRS_ALLOWED: no peer accepts it");
            return Err(Outsider(SocketAddr::new(self.own, 0)).into());
        }
        if let Some(twin) = peers.iter().find(|p| {
            p.id().as_ref() == &*self.name && *p.address() != self.advertise && p.state().is_alive()
        }) {
            return Err(Refused::NameTaken { name: self.name.to_string(), other: *twin.address() });
        }
        match peers.iter().find(|p| !self.allows(p.address().ip())) {
            Some(outsider) => {
                tracing::warn!(node = %outsider.id(), addr = %outsider.address(), "refusing to merge with a node outside GDD_MEM_CIDRS_ALLOWED");
                Err(Outsider(*outsider.address()).into())
            }
            None => Ok(()),
        }
    }
}

/// Keeps [`Members`] current.
pub(super) struct Events {
    pub(super) members: Arc<Members>,
}

impl Events {
    fn upsert(&self, node: &NodeState<NodeId, SocketAddr>) {
        match serde_json::from_slice::<Meta>(node.meta().as_bytes()) {
            Ok(meta) => self.members.upsert(Member::from_meta(node.id().to_string(), *node.address(), &meta)),
            Err(_) => tracing::debug!(node = %node.id(), "ignoring a member without doudou metadata"),
        }
    }
}

impl EventDelegate for Events {
    type Id = NodeId;
    type Address = SocketAddr;

    async fn notify_join(&self, node: Arc<NodeState<NodeId, SocketAddr>>) {
        tracing::info!(node = %node.id(), addr = %node.address(), "member joined");
        self.upsert(&node);
    }

    async fn notify_leave(&self, node: Arc<NodeState<NodeId, SocketAddr>>) {
        tracing::info!(node = %node.id(), addr = %node.address(), state = %node.state(), "member left");
        self.members.remove(node.id().as_ref());
    }

    async fn notify_update(&self, node: Arc<NodeState<NodeId, SocketAddr>>) {
        tracing::info!(node = %node.id(), "member updated");
        self.upsert(&node);
    }
}

/// Notes every acknowledged probe: memberlist 0.8.5 keeps a member's state (alive, suspect)
/// to itself, so a member is judged suspect by how long its probes have gone unanswered.
pub(super) struct Acks {
    pub(super) members: Arc<Members>,
}

impl PingDelegate for Acks {
    type Id = NodeId;
    type Address = SocketAddr;

    async fn ack_payload(&self) -> bytes::Bytes {
        bytes::Bytes::new()
    }

    async fn notify_ping_complete(
        &self,
        node: Arc<NodeState<NodeId, SocketAddr>>,
        _rtt: Duration,
        _payload: bytes::Bytes,
    ) {
        self.members.heard_from(node.id().as_ref());
    }
}

/// Serves this node's metadata to memberlist.
pub(super) struct MetaSource {
    pub(super) meta: Arc<RwLock<Meta>>,
}

impl NodeDelegate for MetaSource {
    async fn node_meta(&self, limit: usize) -> WireMeta {
        let bytes = self.meta.read().ok().and_then(|m| serde_json::to_vec(&*m).ok()).unwrap_or_default();
        if bytes.len() > limit {
            tracing::error!(len = bytes.len(), limit, "node metadata too large; gossiping none");
            return WireMeta::empty();
        }
        WireMeta::try_from(bytes).unwrap_or_else(|_| WireMeta::empty())
    }
}
