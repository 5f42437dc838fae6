//! The member list that gossip events keep and clients read: who is alive, suspect, dead or
//! left, and each service's instances as a shared snapshot.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::sd::{Member, MemberStatus};

/// The live members, by node name: written by gossip events, read by providers. Each
/// service's instances are also kept as a shared snapshot, rebuilt on change, so a client's
/// pick copies nothing.
#[derive(Debug, Default)]
pub struct Members {
    by_name: RwLock<BTreeMap<String, Member>>,
    by_service: RwLock<std::collections::HashMap<String, Arc<Vec<Member>>>>,
    /// How many members there are, for the suspect threshold.
    pub(super) count: Arc<std::sync::atomic::AtomicUsize>,
    /// When each member last showed it is alive (joined, updated, acknowledged a probe).
    pub(super) heard: Mutex<HashMap<String, Instant>>,
    /// Members removed by memberlist, kept for the registry a while, newest last.
    departed: Mutex<Vec<(Member, Instant)>>,
    probe_interval: Duration,
    probe_timeout: Duration,
    /// The shortest silence after which memberlist can declare a member dead (its minimum
    /// suspicion timeout, `GDD_MEM_SUSPICION_MULT` probe intervals).
    failure_silence: Duration,
    /// This node's name: alive as long as it can say so, and never probed.
    local: String,
    /// memberlist's health score of this node (0 healthy): its probe rounds stretch by it.
    pub(super) health: std::sync::atomic::AtomicUsize,
    /// Gossip addresses of members that joined, for [`Members::take_arrived`].
    arrived: Mutex<Vec<std::net::SocketAddr>>,
}

/// Members whose acknowledgement is overdue that a node pings itself, per probe interval
/// (see [`Members::overdue`]).
pub(super) const CONFIRMS_PER_INTERVAL: usize = 4;

impl Members {
    /// An empty member list of the node `local`, whose liveness is judged by memberlist's
    /// probe timing.
    pub(crate) fn new(
        local: &str,
        probe_interval: Duration,
        probe_timeout: Duration,
        suspicion_mult: usize,
    ) -> Self {
        let failure_silence =
            probe_interval.saturating_mul(u32::try_from(suspicion_mult).unwrap_or(u32::MAX));
        Self { probe_interval, probe_timeout, failure_silence, local: local.to_owned(), ..Self::default() }
    }

    /// Notes that `name` showed it is alive now.
    /// Only a member is noted: an acknowledgement that arrives after a member left would
    /// otherwise leave an entry that never ages out.
    pub(crate) fn heard_from(&self, name: &str) {
        if let Ok(mut heard) = self.heard.lock() {
            if let Some(at) = heard.get_mut(name) {
                *at = Instant::now();
            }
        }
    }

    /// How long a member may go without acknowledging a probe before it is suspect.
    ///
    /// memberlist probes one member per probe interval, round robin, so in a cluster of n it
    /// probes each only every n-1 intervals; and this node confirms the members most overdue
    /// itself, [`CONFIRMS_PER_INTERVAL`] an interval (see [`Members::overdue`]). A healthy
    /// member is thus acknowledged at least every `ceil((n-1)/(1+C))` intervals; two of those and
    /// two intervals of slack, stretched as memberlist stretches this node's probes while it is
    /// unwell (its health score), plus a probe timeout. Shorter than memberlist's own time to
    /// declare a member dead up to about 30 members; past that, a member may go from alive to
    /// dead without being seen suspect here.
    fn suspect_after(&self, members: usize) -> Duration {
        let others = members.saturating_sub(1).max(1);
        let rounds = others.div_ceil(1 + CONFIRMS_PER_INTERVAL);
        let intervals = u32::try_from(2 * rounds + 2).unwrap_or(u32::MAX);
        let health =
            u32::try_from(self.health.load(std::sync::atomic::Ordering::Relaxed)).unwrap_or(u32::MAX);
        self.probe_interval.saturating_mul(intervals).saturating_mul(health.saturating_add(1))
            + self.probe_timeout
    }

    fn status_of(
        &self,
        name: &str,
        heard: &HashMap<String, Instant>,
        suspect_after: Duration,
    ) -> MemberStatus {
        if name == self.local {
            return MemberStatus::Alive;
        }
        match heard.get(name) {
            Some(at) if !self.probe_interval.is_zero() && at.elapsed() > suspect_after => {
                MemberStatus::Suspect
            }
            _ => MemberStatus::Alive,
        }
    }

    /// The gossip address of the member `name`.
    pub(super) fn gossip_address(&self, name: &str) -> Option<std::net::SocketAddr> {
        self.by_name.read().ok()?.get(name)?.gossip_address.parse().ok()
    }

    /// The members (not this node) unheard of for more than two probe intervals, most overdue
    /// first, at most [`CONFIRMS_PER_INTERVAL`]: those this node pings itself now.
    pub(super) fn overdue(&self) -> Vec<String> {
        let Ok(heard) = self.heard.lock() else { return Vec::new() };
        let limit = self.probe_interval.saturating_mul(2);
        let mut late: Vec<(&String, Instant)> = heard
            .iter()
            .filter(|(name, at)| **name != self.local && at.elapsed() > limit)
            .map(|(n, at)| (n, *at))
            .collect();
        late.sort_by_key(|(_, at)| *at);
        late.into_iter().take(CONFIRMS_PER_INTERVAL).map(|(name, _)| name.clone()).collect()
    }

    fn changed(&self, map: &BTreeMap<String, Member>) {
        self.count.store(map.len(), std::sync::atomic::Ordering::Relaxed);
        let mut grouped: std::collections::HashMap<String, Vec<Member>> = std::collections::HashMap::new();
        for m in map.values().filter(|m| m.serves()) {
            grouped.entry(m.service.clone()).or_default().push(m.clone());
        }
        if let Ok(mut by_service) = self.by_service.write() {
            *by_service = grouped.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        }
    }

    /// Records a member's latest metadata; one that announced it is leaving goes straight to
    /// the departed, `left`.
    pub(crate) fn upsert(&self, member: Member) {
        if member.status == MemberStatus::Left {
            self.depart(member);
            return;
        }
        if let Ok(mut heard) = self.heard.lock() {
            heard.insert(member.name.clone(), Instant::now());
        }
        if let Ok(mut departed) = self.departed.lock() {
            departed.retain(|(m, _)| m.name != member.name);
        }
        let gossip_address = member.gossip_address.parse().ok();
        if let Ok(mut map) = self.by_name.write() {
            let new = map.insert(member.name.clone(), member).is_none();
            self.changed(&map);
            if let (true, Some(addr), Ok(mut arrived)) = (new, gossip_address, self.arrived.lock()) {
                // Read only by a node with seeds: bounded for the others.
                if arrived.len() >= MAX_DEPARTED {
                    arrived.remove(0);
                }
                arrived.push(addr);
            }
        }
    }

    /// The gossip addresses of the members that joined (or came back) since the last call.
    pub(super) fn take_arrived(&self) -> Vec<std::net::SocketAddr> {
        self.arrived.lock().map(|mut a| std::mem::take(&mut *a)).unwrap_or_default()
    }

    /// Removes a member memberlist declared dead or gone: `dead` if it had stopped answering
    /// probes before, `left` if it was answering until it went (a leave message).
    ///
    /// memberlist 0.8.5 does not say which: the node state it hands the event is the one the
    /// member joined with. A doudou node announces that it is leaving first (see
    /// [`Meta::leaving`](super::Meta)), so it is usually departed already. For a node whose
    /// announcement did not arrive: memberlist can only declare a member dead after suspecting
    /// it for at least its minimum suspicion timeout, so a member heard from more recently than
    /// that left. (Not exact: Lifeguard stretches this node's probe rounds while it is unwell,
    /// so a healthy member may go unheard longer, which is why nodes announce.)
    pub(crate) fn remove(&self, name: &str) {
        let Some(mut member) = self.by_name.read().ok().and_then(|map| map.get(name).cloned()) else {
            if let Ok(mut heard) = self.heard.lock() {
                heard.remove(name);
            }
            return;
        };
        let heard = self.heard.lock().ok().and_then(|h| h.get(name).copied());
        member.status = match heard {
            Some(at) if at.elapsed() < self.failure_silence => MemberStatus::Left,
            _ => MemberStatus::Dead,
        };
        self.depart(member);
    }

    fn depart(&self, member: Member) {
        if let Ok(mut map) = self.by_name.write() {
            if map.remove(&member.name).is_some() {
                self.changed(&map);
            }
        }
        if let Ok(mut heard) = self.heard.lock() {
            heard.remove(&member.name);
        }
        if let Ok(mut departed) = self.departed.lock() {
            departed.retain(|(m, _)| m.name != member.name);
            departed.push((member, Instant::now()));
            if departed.len() > MAX_DEPARTED {
                departed.remove(0);
            }
        }
    }

    /// Every live member, `alive` or `suspect`.
    pub fn all(&self) -> Vec<Member> {
        let Ok(map) = self.by_name.read() else { return Vec::new() };
        let suspect_after = self.suspect_after(map.len());
        let heard = self.heard.lock().map(|h| h.clone()).unwrap_or_default();
        map.values()
            .map(|m| Member { status: self.status_of(&m.name, &heard, suspect_after), ..m.clone() })
            .collect()
    }

    /// The members removed within `keep`, `dead` or `left`.
    pub fn departed(&self, keep: Duration) -> Vec<Member> {
        let Ok(mut departed) = self.departed.lock() else { return Vec::new() };
        departed.retain(|(_, at)| at.elapsed() <= keep);
        departed.iter().map(|(m, _)| m.clone()).collect()
    }

    /// The live members running `service`, sorted by node name.
    pub fn of_service(&self, service: &str) -> Arc<Vec<Member>> {
        self.by_service.read().ok().and_then(|m| m.get(service).cloned()).unwrap_or_default()
    }

    /// The members running `service` that are not suspect, or all of them when every one is
    /// (a blip on this node's network should not stop its calls).
    pub fn answering(&self, service: &str) -> Arc<Vec<Member>> {
        let all = self.of_service(service);
        if self.probe_interval.is_zero() || all.is_empty() {
            return all;
        }
        let suspect_after = self.suspect_after(self.count.load(std::sync::atomic::Ordering::Relaxed));
        let Ok(heard) = self.heard.lock() else { return all };
        let suspect = |m: &Member| {
            m.name != self.local && heard.get(&m.name).is_some_and(|at| at.elapsed() > suspect_after)
        };
        if !all.iter().any(suspect) || all.iter().all(suspect) {
            return all;
        }
        Arc::new(all.iter().filter(|m| !suspect(m)).cloned().collect())
    }
}

/// Departed members kept for the registry at most.
const MAX_DEPARTED: usize = 256;
