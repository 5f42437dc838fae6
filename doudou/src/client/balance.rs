//! Which instance a call goes to: the provider's balancer proposes one (smooth weighted round
//! robin for discovered services), and the client keeps it if it is idle; if it is ejected,
//! or working and clearly costlier than a second, random instance, it takes that one (the
//! power of two choices). An instance's cost is
//! its expected latency times its calls in flight plus one, the latency being the larger of
//! an average of its answers' latencies and how long it has been working without answering
//! anything (Linkerd's and Finagle's cost, with a stall counted as it grows).
//!
//! Outlier ejection: an instance that fails [`EJECT_AFTER`] calls in a row (no connection, no
//! answer in time, or a 5xx) is left out for [`BASE_EJECTION`] times the number of its
//! ejections in a row (at most [`MAX_EJECTION`]); then one call probes it (half-open): a
//! success brings it back, a failure ejects it again for longer. Instances are never all
//! ejected: when every candidate is out, the proposed one is called anyway.
//!
//! The cost catches what failures cannot yet: an instance that stalls (a frozen process, a
//! full node) holds its calls until they time out; within a few of its usual latencies its
//! cost passes the others' and the second choice takes the traffic, so only a few calls wait.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use super::metrics::ClientMetrics;
use crate::sd::Member;
use crate::sd::ServiceProvider;

/// Failures in a row that eject an instance.
pub(crate) const EJECT_AFTER: u32 = 5;
/// How long a first ejection lasts (go-doudou's breaker stays open 5 s).
pub(crate) const BASE_EJECTION: Duration = Duration::from_secs(5);
/// The shortest silence of a working instance that counts as a stall, in nanoseconds.
const STALL_FLOOR: u64 = 20_000_000;
/// The longest ejection.
pub(crate) const MAX_EJECTION: Duration = Duration::from_secs(60);

/// What the client knows of each instance it called, by base URL.
pub(crate) struct Instances {
    by_url: RwLock<FxHashMap<String, Arc<Health>>>,
    origin: Instant,
}

/// One instance as calls have found it.
#[derive(Default)]
pub(crate) struct Health {
    in_flight: AtomicU32,
    /// Nanoseconds after the origin of the last answer, or of the first call in flight when
    /// none was.
    progress: AtomicU64,
    /// The moving average of its answers' latencies, in nanoseconds (0 before the first).
    latency: AtomicU64,
    failures: AtomicU32,
    ejections: AtomicU32,
    /// Nanoseconds after the origin until which it is ejected; 0 when it is not.
    ejected_until: AtomicU64,
    /// A half-open probe is on its way.
    probing: AtomicBool,
    /// Its base URL taken apart once, so that a call parses only its own path and query.
    base: std::sync::OnceLock<Option<Base>>,
}

/// A base URL (`http://host:port/root`) in the parts a request's URI is made of.
pub(crate) struct Base {
    pub(crate) scheme: http::uri::Scheme,
    pub(crate) authority: http::uri::Authority,
    /// The root path, `""` or `/root`.
    pub(crate) root: String,
}

/// The instance chosen for one attempt; counts as in flight until finished or dropped.
pub(crate) struct Chosen {
    /// Its index in the instances it was chosen from.
    pub(crate) index: usize,
    health: Arc<Health>,
    sent: u64,
    finished: bool,
}

impl Chosen {
    /// The parts of `base_url` (the chosen instance's), or `None` if it is not an absolute URL.
    pub(crate) fn base(&self, base_url: &str) -> Option<&Base> {
        self.health
            .base
            .get_or_init(|| {
                let parts = http::Uri::try_from(base_url).ok()?.into_parts();
                let root = parts
                    .path_and_query
                    .map(|p| p.path().trim_end_matches('/').to_owned())
                    .unwrap_or_default();
                Some(Base { scheme: parts.scheme?, authority: parts.authority?, root })
            })
            .as_ref()
    }
}

impl Drop for Chosen {
    fn drop(&mut self) {
        self.health.in_flight.fetch_sub(1, Ordering::Relaxed);
        if !self.finished {
            // A call dropped by its caller says nothing of the instance; a probe must not
            // stay claimed forever.
            self.health.probing.store(false, Ordering::Relaxed);
        }
    }
}

impl Default for Instances {
    fn default() -> Self {
        Self { by_url: RwLock::default(), origin: Instant::now() }
    }
}

impl Instances {
    /// `at` in nanoseconds after the origin (at least 1: 0 means "never").
    pub(crate) fn at(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX).max(1)
    }

    #[cfg(test)]
    fn now(&self) -> u64 {
        self.at(Instant::now())
    }

    fn health(&self, base_url: &str, alive: &[Member]) -> Arc<Health> {
        if let Some(h) = self.by_url.read().ok().and_then(|m| m.get(base_url).cloned()) {
            return h;
        }
        self.add(base_url, alive)
    }

    #[cold]
    fn add(&self, base_url: &str, alive: &[Member]) -> Arc<Health> {
        let Ok(mut map) = self.by_url.write() else { return Arc::default() };
        if map.len() > 2 * alive.len() + 16 {
            // Forget instances that are gone, so that a long-lived client does not grow.
            map.retain(|url, _| alive.iter().any(|m| m.base_url == *url));
        }
        Arc::clone(map.entry(base_url.to_owned()).or_default())
    }

    /// Chooses the instance of the next attempt, sent `now` (see [`Instances::at`]), among
    /// `alive`, leaving out those already `tried` by this call; `None` when every instance was
    /// tried.
    pub(crate) fn choose(
        &self,
        provider: &dyn ServiceProvider,
        alive: &[Member],
        tried: &[String],
        now: u64,
    ) -> Option<Chosen> {
        let untried: Vec<usize> = if tried.is_empty() {
            Vec::new()
        } else {
            (0..alive.len()).filter(|&i| !tried.contains(&alive[i].base_url)).collect()
        };
        if alive.is_empty() || (!tried.is_empty() && untried.is_empty()) {
            return None;
        }
        // The pool of this attempt: every instance, or on a retry those not tried yet.
        let (count, proposed_at) = match untried.as_slice() {
            [] => (alive.len(), provider.choose(alive) % alive.len()),
            some => (some.len(), fastrand::usize(..some.len())),
        };
        let at = |k: usize| if untried.is_empty() { k } else { untried[k] };
        let proposed = at(proposed_at);
        let proposed_health = self.health(&alive[proposed].base_url, alive);
        let mut best_admitted = proposed_health.admits(now) && !proposed_health.stalled(now);
        let mut best = (proposed, proposed_health);
        // An idle instance is called as proposed: the weights hold exactly while calls are
        // few, and only an instance that is working can be stalled.
        let busy = best.1.in_flight.load(Ordering::Relaxed) > 0;
        if count > 1 && (busy || !best_admitted) {
            let other = at((proposed_at + 1 + fastrand::usize(..count - 1)) % count);
            let other_health = self.health(&alive[other].base_url, alive);
            // Clearly: half the cost, so that instances that answer alike keep the balancer's
            // choice (and their weights).
            // An instance not heard from yet is taken to answer like the other.
            let known =
                best.1.latency.load(Ordering::Relaxed).max(other_health.latency.load(Ordering::Relaxed));
            let clearly_cheaper = other_health.cost(now, known).saturating_mul(2) < best.1.cost(now, known);
            if other_health.admits(now) && !other_health.stalled(now) && (!best_admitted || clearly_cheaper) {
                best = (other, other_health);
                best_admitted = true;
            }
        }
        if !best_admitted {
            // Both candidates are out: any instance still in?
            let start = fastrand::usize(..alive.len());
            for k in 0..alive.len() {
                let i = (start + k) % alive.len();
                if tried.contains(&alive[i].base_url) {
                    continue;
                }
                let health = self.health(&alive[i].base_url, alive);
                if health.admits(now) && !health.stalled(now) {
                    best = (i, health);
                    break;
                }
            }
        }
        let (index, health) = best;
        health.claim(now);
        if health.in_flight.fetch_add(1, Ordering::Relaxed) == 0 {
            health.progress.store(now, Ordering::Relaxed);
        }
        Some(Chosen { index, health, sent: now, finished: false })
    }

    /// Records how an attempt on `chosen` (at `base_url`) ended `now`: `answered` if a
    /// response came (whatever its status), `failed` for no connection, no answer in time or
    /// a 5xx.
    pub(crate) fn finish(
        &self,
        mut chosen: Chosen,
        base_url: &str,
        answered: bool,
        failed: bool,
        now: u64,
        metrics: &ClientMetrics,
    ) {
        chosen.finished = true;
        let health = &chosen.health;
        if answered {
            health.progress.store(now, Ordering::Relaxed);
            health.observe(now.saturating_sub(chosen.sent));
        }
        let was_ejected = health.ejected_until.load(Ordering::Relaxed) != 0;
        health.probing.store(false, Ordering::Relaxed);
        if !failed {
            health.failures.store(0, Ordering::Relaxed);
            if was_ejected {
                health.ejected_until.store(0, Ordering::Relaxed);
                health.ejections.store(0, Ordering::Relaxed);
                metrics.ejected(base_url, false);
                tracing::info!(instance = %base_url, "instance answers again: back in rotation");
            }
            return;
        }
        let failures = health.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures >= EJECT_AFTER {
            let ejections = health.ejections.fetch_add(1, Ordering::Relaxed) + 1;
            let time = BASE_EJECTION.saturating_mul(ejections).min(MAX_EJECTION);
            let until = now.saturating_add(u64::try_from(time.as_nanos()).unwrap_or(u64::MAX));
            health.ejected_until.store(until, Ordering::Relaxed);
            metrics.ejected(base_url, true);
            if !was_ejected {
                tracing::warn!(instance = %base_url, failures, ejected_for = ?time, "instance fails: ejected");
            }
        }
    }
}

impl Health {
    /// Expected latency times calls in flight plus one, in nanoseconds; `unknown` stands for
    /// the latency of an instance that has not answered yet.
    fn cost(&self, now: u64, unknown: u64) -> u64 {
        let in_flight = self.in_flight.load(Ordering::Relaxed);
        let stalled = match in_flight {
            0 => 0,
            _ => now.saturating_sub(self.progress.load(Ordering::Relaxed)),
        };
        let latency = match self.latency.load(Ordering::Relaxed) {
            0 => unknown,
            known => known,
        };
        let latency = latency.max(stalled);
        latency.saturating_mul(u64::from(in_flight) + 1)
    }

    /// Whether it has calls in flight and has answered none of them for far longer than it
    /// usually takes (four times its average latency, and at least 20 ms): a frozen process or
    /// a full node. It gets no more calls until it answers (unless every instance is stalled).
    fn stalled(&self, now: u64) -> bool {
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let usual = self.latency.load(Ordering::Relaxed).saturating_mul(4).max(STALL_FLOOR);
        now.saturating_sub(self.progress.load(Ordering::Relaxed)) > usual
    }

    /// Adds an answer's latency to the moving average (a fifth of the way to the sample).
    fn observe(&self, latency: u64) {
        let _ = self.latency.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |average| {
            Some(if average == 0 { latency } else { average - average / 5 + latency / 5 })
        });
    }

    /// Whether a call may go to it now: not ejected, or its ejection is over and no other
    /// call is probing it.
    fn admits(&self, now: u64) -> bool {
        match self.ejected_until.load(Ordering::Relaxed) {
            0 => true,
            until => now >= until && !self.probing.load(Ordering::Relaxed),
        }
    }

    /// Marks the probe of an instance whose ejection is over as taken.
    fn claim(&self, now: u64) {
        let until = self.ejected_until.load(Ordering::Relaxed);
        if until != 0 && now >= until {
            self.probing.store(true, Ordering::Relaxed);
        }
    }

    /// Calls in flight.
    #[cfg(test)]
    fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sd::FixedProvider;

    fn member(name: &str) -> Member {
        Member::instance("svc", name, format!("http://{name}"), 1)
    }

    /// A choice and the base URL it stands for.
    struct Picked {
        chosen: Chosen,
        base_url: String,
    }

    fn pick(
        instances: &Instances,
        provider: &dyn ServiceProvider,
        alive: &[Member],
        tried: &[String],
    ) -> Option<Picked> {
        let chosen = instances.choose(provider, alive, tried, instances.now())?;
        Some(Picked { base_url: alive[chosen.index].base_url.clone(), chosen })
    }

    fn done(instances: &Instances, picked: Picked, answered: bool, failed: bool, metrics: &ClientMetrics) {
        instances.finish(picked.chosen, &picked.base_url, answered, failed, instances.now(), metrics);
    }

    /// Proposes instance 0 every time.
    struct First;
    impl ServiceProvider for First {
        fn name(&self) -> &str {
            "svc"
        }
        fn instances(&self) -> Arc<Vec<Member>> {
            Arc::default()
        }
    }

    fn fail(instances: &Instances, alive: &[Member], url: &str, times: u32) {
        let metrics = ClientMetrics::new("svc");
        for _ in 0..times {
            let chosen = loop {
                let c = pick(instances, &First, alive, &[]).expect("an instance");
                if c.base_url == url {
                    break c;
                }
            };
            done(instances, chosen, false, true, &metrics);
        }
    }

    #[test]
    fn the_proposed_instance_is_kept_while_loads_are_even() {
        let alive = [member("a"), member("b"), member("c")];
        let instances = Instances::default();
        let metrics = ClientMetrics::new("svc");
        for _ in 0..100 {
            let chosen = pick(&instances, &First, &alive, &[]).expect("an instance");
            assert_eq!(chosen.base_url, "http://a");
            done(&instances, chosen, true, false, &metrics);
        }
    }

    #[test]
    fn a_stalled_instance_loses_the_traffic_to_the_second_choice() {
        let alive = [member("a"), member("b")];
        let origin = Instant::now().checked_sub(Duration::from_secs(1)).expect("a second of uptime");
        let instances = Instances { origin, ..Instances::default() };
        let metrics = ClientMetrics::new("svc");
        for url in ["http://a", "http://b"] {
            instances.health(url, &alive).observe(1_000_000); // both answer in 1 ms
        }
        let stuck = pick(&instances, &First, &alive, &[]).expect("a");
        assert_eq!(stuck.base_url, "http://a");
        // a has now worked 10 ms on that call without answering anything.
        let a = instances.health("http://a", &alive);
        a.progress.store(instances.now().saturating_sub(10_000_000), Ordering::Relaxed);
        for _ in 0..100 {
            let chosen = pick(&instances, &First, &alive, &[]).expect("an instance");
            assert_eq!(chosen.base_url, "http://b", "the balancer proposes a, which is stalled");
            done(&instances, chosen, true, false, &metrics);
        }
        assert_eq!(a.in_flight(), 1);
        drop(stuck);
        assert_eq!(a.in_flight(), 0, "a call dropped by its caller is no longer in flight");
    }

    #[test]
    fn five_failures_in_a_row_eject_until_a_probe_succeeds() {
        let alive = [member("a"), member("b")];
        let instances = Instances::default();
        fail(&instances, &alive, "http://a", EJECT_AFTER);
        for _ in 0..50 {
            let chosen = pick(&instances, &First, &alive, &[]).expect("an instance");
            assert_eq!(chosen.base_url, "http://b", "a is ejected");
        }
        // The ejection is over: one probe goes to a, and only one while it is on its way.
        instances.health("http://a", &alive).ejected_until.store(1, Ordering::Relaxed);
        let probe = pick(&instances, &First, &alive, &[]).expect("the probe");
        assert_eq!(probe.base_url, "http://a");
        for _ in 0..20 {
            assert_eq!(pick(&instances, &First, &alive, &[]).expect("b").base_url, "http://b");
        }
        done(&instances, probe, true, false, &ClientMetrics::new("svc"));
        assert_eq!(pick(&instances, &First, &alive, &[]).expect("a").base_url, "http://a", "back");
    }

    #[test]
    fn a_failed_probe_ejects_for_longer_and_a_lone_instance_is_still_called() {
        let alive = [member("a")];
        let instances = Instances::default();
        fail(&instances, &alive, "http://a", EJECT_AFTER);
        let first = instances.health("http://a", &alive).ejected_until.load(Ordering::Relaxed);
        let chosen = pick(&instances, &FixedProvider::new("http://a"), &alive, &[]).expect("still called");
        done(&instances, chosen, false, true, &ClientMetrics::new("svc"));
        let second = instances.health("http://a", &alive).ejected_until.load(Ordering::Relaxed);
        let longer = u64::try_from(BASE_EJECTION.as_nanos()).expect("fits") / 2;
        assert!(second > first + longer, "the second ejection lasts twice as long");
    }

    #[test]
    fn a_retry_goes_to_an_instance_not_yet_tried() {
        let alive = [member("a"), member("b"), member("c")];
        let instances = Instances::default();
        let tried = vec!["http://a".to_owned(), "http://c".to_owned()];
        for _ in 0..20 {
            assert_eq!(pick(&instances, &First, &alive, &tried).expect("b").base_url, "http://b");
        }
        let all: Vec<String> = alive.iter().map(|m| m.base_url.clone()).collect();
        assert!(pick(&instances, &First, &alive, &all).is_none());
    }
}
