//! The memberlist node: joins through seeds (retried in the background), gossips this node's
//! metadata, keeps [`Members`] current from join/leave/update events, leaves on shutdown.
//!
//! memberlist 0.8.5 traps handled here: `members()` keeps dead and left nodes for a while, so
//! the registry is driven by events and `online_members()`; a primary key alone leaves gossip in
//! plain text, so the encryption algorithm and both verify flags are set too; the CIDR policy
//! filters alive messages only, so an alive-delegate refuses outsiders on every node, a node
//! only counts as joined once a peer accepted it, and the guard of the TCP port (see `guard`)
//! closes outsiders' connections and bounds what any connection can make this node buffer; dropping the handle does not stop the
//! node, so shutdown leaves first and then shuts down; `dead_node_reclaim_time` lets a restarted
//! pod come back under its name with a new address.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use memberlist::delegate::{CompositeDelegate, VoidDelegate};
use memberlist::net::NetTransportOptions;
use memberlist::proto::MaybeResolvedAddress;
use memberlist::proto::{CIDRsPolicy, ChecksumAlgorithm, EncryptionAlgorithm, Label, NodeId, SecretKey};
use memberlist::tokio::{TokioNetTransport, TokioSocketAddrResolver};
use memberlist::{Memberlist, Options};
use sha2::Digest;
use tokio_util::sync::CancellationToken;

use super::guard::{Guarded, Rules};
use super::{Member, Members, Meta};
use crate::config::Config;
use crate::vocab::BuildInfo;

type Transport = TokioNetTransport<NodeId, TokioSocketAddrResolver, Guarded>;
type Delegate = CompositeDelegate<
    NodeId,
    SocketAddr,
    CidrGuard,
    VoidDelegate<NodeId, SocketAddr>,
    Events,
    CidrGuard,
    MetaSource,
    Acks,
>;

use super::delegates::{Acks, CidrGuard, Events, MetaSource};

/// The default gossip port.
pub(super) const DEFAULT_PORT: u16 = 7946;

/// Why gossip could not start or an operation on it failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GossipError {
    /// A setting cannot be used.
    #[error("{0}")]
    Config(String),
    /// memberlist refused to start (port in use, ...).
    #[error("cannot start gossip on {addr} (GDD_MEM_HOST/GDD_MEM_PORT): {message}")]
    Start {
        /// The gossip address.
        addr: SocketAddr,
        /// memberlist's reason.
        message: String,
    },
    /// Gossip is not running in this process.
    #[error("gossip is not running (GDD_SERVICE_DISCOVERY_MODE=none, or the server has not started)")]
    NotRunning,
    /// An update could not be broadcast.
    #[error("cannot gossip the update: {0}")]
    Update(String),
}

/// This node in the gossip cluster.
pub struct Gossip {
    list: Memberlist<Transport, Delegate>,
    members: Arc<Members>,
    meta: Arc<RwLock<Meta>>,
    name: String,
    advertise: SocketAddr,
    dead_timeout: Duration,
    stop: CancellationToken,
    /// Whether this node is in a cluster: a peer accepted it (or it has no seeds to join, and is
    /// the cluster). Until then its member list says nothing of who else there is.
    joined: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Gossip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gossip")
            .field("name", &self.name)
            .field("advertise", &self.advertise)
            .finish_non_exhaustive()
    }
}

/// `host[:port]` with the default gossip port.
fn with_port(seed: &str) -> String {
    let has_port = match seed.rsplit_once(':') {
        Some((host, port)) => !host.is_empty() && !host.ends_with(':') && port.parse::<u16>().is_ok(),
        None => false,
    };
    if has_port || seed.starts_with('[') && seed.contains("]:") {
        seed.to_owned()
    } else {
        format!("{seed}:{DEFAULT_PORT}")
    }
}

/// The seeds' addresses but `own`; a seed that does not resolve is a warning while this node
/// is `alone`, and a debug line once it is in a cluster (a scaled-down StatefulSet's pod).
async fn resolve_seeds(seeds: &[String], own: SocketAddr, alone: bool) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for seed in seeds {
        match tokio::net::lookup_host(with_port(seed)).await {
            Ok(addrs) => out.extend(addrs.filter(|a| a.is_ipv4() && *a != own)),
            Err(e) if alone => tracing::warn!(seed = %seed, error = %e, "cannot resolve seed (GDD_MEM_SEED)"),
            Err(e) => tracing::debug!(seed = %seed, error = %e, "cannot resolve seed (GDD_MEM_SEED)"),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The advertised gossip IP: `GDD_MEM_HOST` (with `.suffix` appended to the host name), else
/// a specific `GDD_HOST`, else the first private IP.
async fn advertise_ip(config: &Config) -> Result<IpAddr, GossipError> {
    let host = config.mem.host.trim();
    if host.is_empty() {
        return Ok(crate::host::advertised_http_host(config.host));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip);
    }
    let name =
        if host.starts_with('.') { format!("{}{host}", crate::host::hostname()) } else { host.to_owned() };
    let resolved =
        tokio::net::lookup_host((name.as_str(), 0)).await.map(|mut addrs| addrs.find(SocketAddr::is_ipv4));
    match resolved {
        Ok(found) => found
            .map(|a| a.ip())
            .ok_or_else(|| GossipError::Config(format!("GDD_MEM_HOST: {name} has no IPv4 address"))),
        Err(e) => {
            let fallback = crate::host::advertised_http_host(config.host);
            tracing::warn!(host = %name, error = %e, %fallback, "cannot resolve GDD_MEM_HOST; advertising the first private IP");
            Ok(fallback)
        }
    }
}

fn free_port(ip: IpAddr) -> Result<u16, GossipError> {
    // TCP and UDP must both be free on the port memberlist binds.
    for _ in 0..20 {
        let tcp = std::net::TcpListener::bind((ip, 0))
            .map_err(|e| GossipError::Config(format!("GDD_MEM_PORT=0: {e}")))?;
        let port = tcp.local_addr().map_err(|e| GossipError::Config(e.to_string()))?.port();
        if std::net::UdpSocket::bind((ip, port)).is_ok() {
            return Ok(port);
        }
    }
    Err(GossipError::Config("GDD_MEM_PORT=0: no port free for both TCP and UDP".to_owned()))
}

impl Gossip {
    /// Starts the node for a server whose HTTP port is `http_port`, and joins the seeds in the
    /// background.
    pub(crate) async fn start(
        config: &Config,
        http_port: u16,
        build: BuildInfo,
    ) -> Result<Arc<Self>, GossipError> {
        let mem = &config.mem;
        // By default the host name and the HTTP port: unique among the processes of one host,
        // and as stable across restarts as the host name (a StatefulSet's pod).
        let name = if mem.name.is_empty() {
            format!("{}-{http_port}", crate::host::hostname())
        } else {
            mem.name.clone()
        };
        let id =
            NodeId::new(&name).map_err(|e| GossipError::Config(format!("GDD_MEM_NAME={name:?}: {e}")))?;
        let ip = advertise_ip(config).await?;
        let port = if mem.port == 0 { free_port(ip)? } else { mem.port };
        let advertise = SocketAddr::new(ip, port);
        let bind =
            if ip.is_loopback() { advertise } else { SocketAddr::new(IpAddr::from([0, 0, 0, 0]), port) };

        if mem.secret.is_empty() && config.is_production() {
            tracing::warn!(
                "GDD_ENV={} and no GDD_MEM_SECRET: gossip is plain text and open, so anyone who reaches \
                 GDD_MEM_PORT can list the members, join, announce instances of any service and take \
                 their calls; set GDD_MEM_SECRET (the same on every member), and GDD_MEM_CIDRS_ALLOWED",
                config.env
            );
        }
        let meta = Meta::of(config, http_port, build);
        let size = serde_json::to_vec(&meta).map(|v| v.len()).unwrap_or(usize::MAX);
        if size > memberlist::META_MAX_SIZE {
            return Err(GossipError::Config(format!(
                "the node metadata takes {size} bytes, over memberlist's {}: shorten GDD_SERVICE_NAME or GDD_ROUTE_ROOT_PATH",
                memberlist::META_MAX_SIZE
            )));
        }
        let meta = Arc::new(RwLock::new(meta));
        let members =
            Arc::new(Members::new(&name, mem.probe_interval, mem.probe_timeout, mem.suspicion_mult));

        let rules = Arc::new(Rules::new(mem.cidrs_allowed.clone(), Arc::clone(&members.count)));
        let mut transport =
            NetTransportOptions::<NodeId, TokioSocketAddrResolver, Guarded>::with_stream_layer_options(
                id, rules,
            )
            .with_advertise_address(advertise);
        transport.add_bind_address(bind);
        if !mem.cidrs_allowed.is_empty() {
            let mut policy = CIDRsPolicy::new();
            for net in &mem.cidrs_allowed {
                policy.add(*net);
            }
            transport = transport.with_cidrs_policy(policy);
        }

        let mut options = Options::lan()
            .with_timeout(mem.tcp_timeout)
            .with_push_pull_interval(mem.sync_interval)
            .with_probe_interval(mem.probe_interval)
            .with_probe_timeout(mem.probe_timeout)
            .with_suspicion_mult(mem.suspicion_mult)
            .with_gossip_nodes(mem.gossip_nodes)
            .with_gossip_interval(mem.gossip_interval)
            .with_gossip_to_the_dead_time(mem.dead_timeout)
            .with_dead_node_reclaim_time(mem.reclaim_timeout)
            .with_checksum_algo(ChecksumAlgorithm::Crc32);
        if !mem.label.is_empty() {
            let label = Label::try_from(mem.label.as_str())
                .map_err(|e| GossipError::Config(format!("GDD_MEM_LABEL={:?}: {e}", mem.label)))?;
            options = options.with_label(label);
        }
        if !mem.secret.is_empty() {
            let key: [u8; 32] = sha2::Sha256::digest(mem.secret.as_bytes()).into();
            options = options
                .with_primary_key(SecretKey::Aes256(key))
                .with_encryption_algo(EncryptionAlgorithm::default())
                .with_gossip_verify_incoming(true)
                .with_gossip_verify_outgoing(true);
        }

        let guard = CidrGuard {
            allowed: Arc::new(mem.cidrs_allowed.clone()),
            own: ip,
            name: Arc::from(name.as_str()),
            advertise,
        };
        let delegate = CompositeDelegate::new()
            .with_alive_delegate(guard.clone())
            .with_merge_delegate(guard)
            .with_event_delegate(Events { members: members.clone() })
            .with_node_delegate(MetaSource { meta: meta.clone() })
            .with_ping_delegate(Acks { members: members.clone() });
        let list = Memberlist::with_delegate(delegate, transport, options)
            .await
            .map_err(|e| GossipError::Start { addr: advertise, message: e.to_string() })?;

        let gossip = Arc::new(Self {
            list,
            members,
            meta,
            name,
            advertise,
            dead_timeout: mem.dead_timeout,
            stop: CancellationToken::new(),
            joined: tokio::sync::watch::Sender::new(mem.seeds.is_empty()),
        });
        if let Ok(m) = gossip.meta.read() {
            gossip.members.upsert(Member::from_meta(gossip.name.clone(), advertise, &m));
        }
        tracing::info!(node = %gossip.name, gossip = %advertise, seeds = ?mem.seeds, "gossip started");
        if !mem.seeds.is_empty() {
            tokio::spawn(join_seeds(gossip.clone(), mem.seeds.clone()));
        }
        if !mem.probe_interval.is_zero() {
            tokio::spawn(confirm_overdue(gossip.clone(), mem.probe_interval, mem.probe_timeout));
        }
        Ok(gossip)
    }

    /// Whether this node is in a cluster yet (see [`Gossip::joined`]).
    pub fn has_joined(&self) -> bool {
        *self.joined.borrow()
    }

    /// Waits until this node is in a cluster: a peer accepted it, or it has no seeds.
    pub async fn joined(&self) {
        let mut joined = self.joined.subscribe();
        let _ = joined.wait_for(|j| *j).await;
    }

    /// This node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// This node's advertised gossip address.
    pub fn advertise_address(&self) -> SocketAddr {
        self.advertise
    }

    /// The live members.
    pub fn members(&self) -> &Arc<Members> {
        &self.members
    }

    /// How long departed members stay listed (`GDD_MEM_DEAD_TIMEOUT`).
    pub(crate) fn dead_timeout(&self) -> Duration {
        self.dead_timeout
    }

    /// How many nodes memberlist considers online, this one included.
    pub async fn online_count(&self) -> usize {
        self.list.num_online_members().await
    }

    /// Changes this node's weight and gossips it.
    pub async fn set_weight(&self, weight: u32) -> Result<(), GossipError> {
        if !(1..=crate::config::MAX_WEIGHT).contains(&weight) {
            return Err(GossipError::Update(format!("a weight is from 1 to {}", crate::config::MAX_WEIGHT)));
        }
        if let Ok(mut m) = self.meta.write() {
            m.weight = weight;
            self.members.upsert(Member::from_meta(self.name.clone(), self.advertise, &m));
        }
        self.list.update_node(Duration::from_secs(5)).await.map_err(|e| GossipError::Update(e.to_string()))
    }

    /// Broadcasts that this node leaves, waiting up to `timeout` for the message to go out.
    pub(crate) async fn leave(&self, timeout: Duration) {
        self.stop.cancel();
        // Peers that see this update record the node as `left` and stop calling it at once,
        // whatever happens to the leave message after it.
        if let Ok(mut m) = self.meta.write() {
            m.leaving = true;
        }
        if let Err(e) = self.list.update_node(timeout / 2).await {
            tracing::debug!(error = %e, "announcing the leave");
        }
        match self.list.leave(timeout).await {
            Ok(_) => tracing::info!("left the gossip cluster"),
            Err(e) => tracing::warn!(error = %e, "leaving the gossip cluster"),
        }
    }

    /// Stops the node (after [`Gossip::leave`]).
    pub(crate) async fn shutdown(&self) {
        self.stop.cancel();
        if let Err(e) = self.list.shutdown().await {
            tracing::warn!(error = %e, "stopping gossip");
        }
    }
}

/// Joins the seeds until a peer accepts this node; then, every few seconds, joins again any
/// seed that is not an alive member: a seed that restarted alone, or the other side of a
/// partition that healed (memberlist itself never contacts a member it declared dead again,
/// so two sides of a partition longer than `GDD_MEM_DEAD_TIMEOUT` would stay apart). HTTP
/// serves meanwhile.
async fn join_seeds(gossip: Arc<Gossip>, seeds: Vec<String>) {
    let mut backoff = Duration::from_millis(200);
    let mut in_cluster = false;
    loop {
        let online: Vec<SocketAddr> =
            gossip.list.online_members().await.iter().map(|m| *m.address()).collect();
        let alone = online.len() <= 1;
        // A seed that came back (restarted, or unfrozen, and refuted its death) is joined too:
        // its refutation makes it a member again here, but it learns this side's members only
        // from a state sync.
        let arrived = gossip.members.take_arrived();
        let missing: Vec<SocketAddr> = resolve_seeds(&seeds, gossip.advertise, alone)
            .await
            .into_iter()
            .filter(|seed| alone || !online.contains(seed) || in_cluster && arrived.contains(seed))
            .collect();
        let mut joined = Vec::new();
        // One seed at a time: join_many's future is not Send in memberlist 0.8.5.
        for addr in &missing {
            match gossip.list.join(MaybeResolvedAddress::resolved(*addr)).await {
                Ok(a) => joined.push(a),
                Err(e) if e.to_string().contains("GDD_MEM_NAME") => {
                    tracing::error!(seed = %addr, error = %e, "cannot join the cluster: name conflict; retrying")
                }
                Err(e) if alone => {
                    tracing::warn!(seed = %addr, error = %e, "cannot join this seed; retrying")
                }
                Err(e) => tracing::debug!(seed = %addr, error = %e, "a seed is still out of reach"),
            }
        }
        if !joined.is_empty() {
            if in_cluster {
                tracing::info!(seeds = ?joined, "joined seeds that were apart from the cluster");
            } else {
                tracing::info!(seeds = ?joined, "joined the cluster");
            }
        }
        in_cluster = in_cluster || !alone || !joined.is_empty();
        if in_cluster {
            gossip.joined.send_if_modified(|j| !std::mem::replace(j, true));
        }
        if !alone {
            backoff = REJOIN_EVERY;
        }
        tokio::select! {
            () = gossip.stop.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(REJOIN_EVERY);
    }
}

/// How often a node in a cluster joins again the seeds that are not members.
const REJOIN_EVERY: Duration = Duration::from_secs(5);

/// Every probe interval, pings the members whose acknowledgement is most overdue (a few, see
/// [`Members::overdue`]) and notes memberlist's health score, so that a member's status does
/// not wait for memberlist's round robin to come back to it.
async fn confirm_overdue(gossip: Arc<Gossip>, interval: Duration, timeout: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = gossip.stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        gossip.members.health.store(gossip.list.health_score(), std::sync::atomic::Ordering::Relaxed);
        let overdue = gossip.members.overdue();
        let pings = overdue.into_iter().filter_map(|name| {
            let addr = gossip.members.gossip_address(&name)?;
            let id = NodeId::new(&name).ok()?;
            let list = &gossip.list;
            let members = &gossip.members;
            Some(async move {
                let ping = list.ping(memberlist::proto::Node::new(id, addr));
                // At most an interval: a member that does not answer must not slow the rounds.
                if let Ok(Ok(_)) = tokio::time::timeout(timeout.min(interval), ping).await {
                    members.heard_from(&name);
                }
            })
        });
        futures_util::future::join_all(pings).await;
    }
}

#[cfg(test)]
mod tests {
    use super::with_port;

    #[test]
    fn seeds_get_the_default_port() {
        assert_eq!(with_port("10.0.0.1"), "10.0.0.1:7946");
        assert_eq!(with_port("10.0.0.1:8000"), "10.0.0.1:8000");
        assert_eq!(
            with_port("seed-0.seed.default.svc.cluster.local"),
            "seed-0.seed.default.svc.cluster.local:7946"
        );
        assert_eq!(with_port("seed:7000"), "seed:7000");
    }
}
