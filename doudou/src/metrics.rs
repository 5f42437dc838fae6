//! Prometheus metrics: requests by route template, method and status; build info; process;
//! and the calls this process's clients make (see the client's `metrics` module).
//!
//! Names follow Prometheus conventions (`_total` counters, `_seconds` histograms, base units) so
//! that `promtool check metrics` reports nothing. Routes are labelled by their *template*
//! (`/users/{id}`), never the raw path, so the number of series stays bounded; requests that
//! match no route share the label `unmatched`. A request is one histogram observation; the
//! request counter is read off the histogram's counts when scraped, so the two always agree.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Counter, MetricFamily, MetricType};
use prometheus::{Encoder, Histogram, HistogramOpts, HistogramVec, IntGauge, Opts, Registry, TextEncoder};

use crate::vocab::BuildInfo;
use rustc_hash::FxBuildHasher;

/// The metrics of one server.
pub struct Metrics {
    registry: Registry,
    durations: HistogramVec,
}

/// The duration histogram of one (route, method, status), which also counts its requests.
type Series = Histogram;

const REQUESTS_TOTAL: &str = "doudou_http_requests_total";
const REQUESTS_HELP: &str = "HTTP requests served, by route template, method and status.";
const LABELS: [&str; 3] = ["route", "method", "status"];

/// `doudou_http_requests_total`, taken from the duration histogram's counts at each scrape.
struct RequestCounter {
    durations: HistogramVec,
    desc: Desc,
}

impl Collector for RequestCounter {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let mut counted = Vec::new();
        for family in self.durations.collect() {
            for histogram in family.get_metric() {
                let mut counter = Counter::default();
                counter.set_value(histogram.get_histogram().get_sample_count() as f64);
                let mut metric = prometheus::proto::Metric::from_label(histogram.get_label().to_vec());
                metric.set_counter(counter);
                counted.push(metric);
            }
        }
        let mut family = MetricFamily::default();
        family.set_name(REQUESTS_TOTAL.to_owned());
        family.set_help(REQUESTS_HELP.to_owned());
        family.set_field_type(MetricType::COUNTER);
        family.set_metric(counted);
        vec![family]
    }
}

/// Slots per route in the table of 200s: one for each method code (1 to 7).
const METHOD_SLOTS: usize = 8;

fn method_code(method: &http::Method) -> Option<u8> {
    Some(match *method {
        http::Method::GET => 1,
        http::Method::POST => 2,
        http::Method::PUT => 3,
        http::Method::DELETE => 4,
        http::Method::PATCH => 5,
        http::Method::HEAD => 6,
        http::Method::OPTIONS => 7,
        _ => return None,
    })
}

/// The `method` label: one of the nine methods of RFC 9110 and PATCH, else `other`. A client
/// may send any token as a method; labelling by it would let anyone grow the series (and the
/// scrape, and memory) without bound.
fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::DELETE => "DELETE",
        http::Method::PATCH => "PATCH",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        http::Method::CONNECT => "CONNECT",
        http::Method::TRACE => "TRACE",
        _ => OTHER_METHOD,
    }
}

/// The `method` label of methods outside the standard ones.
const OTHER_METHOD: &str = "other";

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// The route label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

impl Metrics {
    /// Registers the request, build and process metrics of `service`.
    pub fn new(service: &str, build: &BuildInfo) -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let durations = HistogramVec::new(
            HistogramOpts::new(
                "doudou_http_request_duration_seconds",
                "Time from receiving a request to having its response head, by route template, method and status.",
            )
            .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &LABELS,
        )?;
        let requests = RequestCounter {
            durations: durations.clone(),
            desc: Desc::new(
                REQUESTS_TOTAL.to_owned(),
                REQUESTS_HELP.to_owned(),
                LABELS.iter().map(|l| (*l).to_owned()).collect(),
                Default::default(),
            )?,
        };
        let info = IntGauge::with_opts(
            Opts::new("doudou_build_info", "Build information of the service; the value is always 1.")
                .const_label("service", service)
                .const_label("version", build.version)
                .const_label("git_commit", build.git_commit)
                .const_label("build_time", build.build_time)
                .const_label("doudou_version", env!("CARGO_PKG_VERSION")),
        )?;
        info.set(1);
        registry.register(Box::new(requests))?;
        registry.register(Box::new(durations.clone()))?;
        registry.register(Box::new(info))?;
        crate::client::register_metrics(&registry)?;
        registry.register(Box::new(SpansLost(prometheus::IntCounter::new(
            "doudou_trace_spans_lost_total",
            "Spans the OTLP backend did not take (it was down, slow or refused them).",
        )?)))?;
        #[cfg(feature = "gossip")]
        registry.register(Box::new(GossipRefused(prometheus::IntCounterVec::new(
            Opts::new(
                "doudou_gossip_refused_total",
                "Gossip connections, stream messages and packets refused, by reason.",
            ),
            &["reason"],
        )?)))?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(ProcessMetrics(
            prometheus::process_collector::ProcessCollector::for_self(),
        )))?;
        Ok(Self { registry, durations })
    }

    /// The series of a route template (`None`: unmatched), method and status.
    fn series(&self, route: Option<&str>, method: &http::Method, status: u16) -> Option<Series> {
        let digits = status_digits(status);
        let status = std::str::from_utf8(&digits).unwrap_or("000");
        let labels = [route.unwrap_or(UNMATCHED), method_label(method), status];
        self.durations.get_metric_with_label_values(&labels).ok()
    }

    /// Counts one request of `route` (a template; `None`: unmatched). This looks the series up
    /// by its labels each time; a server counts through [`RouteMetrics`], which keeps them.
    pub fn record(&self, route: Option<&str>, method: &http::Method, status: u16, elapsed: Duration) {
        if let Some(series) = self.series(route, method, status) {
            observe(&series, elapsed);
        }
    }

    /// The metrics of a router's routes, indexed like `templates`.
    #[doc(hidden)]
    pub fn routes(self: &Arc<Self>, templates: Vec<Arc<str>>) -> RouteMetrics {
        let ok = (0..templates.len() * METHOD_SLOTS).map(|_| OnceLock::new()).collect();
        RouteMetrics {
            metrics: self.clone(),
            templates: templates.into_boxed_slice(),
            ok,
            others: RwLock::new(HashMap::with_hasher(FxBuildHasher)),
        }
    }

    /// The text exposition format (version 0.0.4).
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 * 1024);
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

/// Reads the count of lost spans when scraped (the exporter counts them, on its own thread).
struct SpansLost(prometheus::IntCounter);

impl Collector for SpansLost {
    fn desc(&self) -> Vec<&Desc> {
        self.0.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.0.reset();
        self.0.inc_by(crate::trace::spans_lost());
        self.0.collect()
    }
}

/// Reads what the gossip guard refused when scraped (counted process-wide, as gossip runs
/// before and beside any server).
#[cfg(feature = "gossip")]
struct GossipRefused(prometheus::IntCounterVec);

#[cfg(feature = "gossip")]
impl Collector for GossipRefused {
    fn desc(&self) -> Vec<&Desc> {
        self.0.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        use crate::registry::guard::{refusals, Refusal};
        for why in Refusal::ALL {
            if let Ok(counter) = self.0.get_metric_with_label_values(&[why.label()]) {
                counter.reset();
                counter.inc_by(refusals(why));
            }
        }
        self.0.collect()
    }
}

/// The prometheus crate's process metrics, with `process_cpu_seconds_total` in fractions of a
/// second: the crate divides clock ticks by ticks per second in integers, so a service that
/// used 0.9 s of CPU reported 0 and `rate()` over it was a staircase.
#[cfg(target_os = "linux")]
struct ProcessMetrics(prometheus::process_collector::ProcessCollector);

#[cfg(target_os = "linux")]
impl Collector for ProcessMetrics {
    fn desc(&self) -> Vec<&Desc> {
        self.0.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let mut families = self.0.collect();
        let stat = procfs::process::Process::myself().and_then(|p| p.stat());
        if let Ok(stat) = stat {
            let seconds = (stat.utime + stat.stime) as f64 / procfs::ticks_per_second().max(1) as f64;
            for family in families.iter_mut().filter(|f| f.name() == "process_cpu_seconds_total") {
                for metric in family.mut_metric() {
                    let mut counter = Counter::default();
                    counter.set_value(seconds);
                    metric.set_counter(counter);
                }
            }
        }
        families
    }
}

fn observe(series: &Series, elapsed: Duration) {
    series.observe(elapsed.as_secs_f64());
}

/// The request metrics of one router, by route index, keeping each series once looked up. A
/// request answered 200 finds its series in a slot of its own (route, method) with one atomic
/// load; any other status takes a read lock and a hash lookup.
#[doc(hidden)]
pub struct RouteMetrics {
    metrics: Arc<Metrics>,
    templates: Box<[Arc<str>]>,
    /// `route * METHOD_SLOTS + method code`: the series of status 200.
    ok: Box<[OnceLock<Series>]>,
    /// `(route + 1 or 0 for unmatched, method code, status)`: the other series seen.
    others: RwLock<HashMap<(usize, u8, u16), Series, FxBuildHasher>>,
}

impl std::fmt::Debug for RouteMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteMetrics").field("routes", &self.templates).finish_non_exhaustive()
    }
}

/// At most this many cached series besides the 200s; past it, the registry is asked each time.
const MAX_CACHED_SERIES: usize = 4096;

impl RouteMetrics {
    /// Counts one request of route number `route` (`None`: unmatched, or not one of these).
    pub fn record(&self, route: Option<usize>, method: &http::Method, status: u16, elapsed: Duration) {
        let template = route.and_then(|r| self.templates.get(r));
        let route = template.and(route);
        let label = template.map(|t| &**t);
        let Some(code) = method_code(method) else {
            return self.metrics.record(label, method, status, elapsed);
        };
        if let (Some(route), 200) = (route, status) {
            let slot = &self.ok[route * METHOD_SLOTS + usize::from(code)];
            if let Some(series) = slot.get() {
                return observe(series, elapsed);
            }
            if let Some(series) = self.metrics.series(label, method, status) {
                observe(slot.get_or_init(|| series), elapsed);
            }
            return;
        }
        let key = (route.map_or(0, |r| r + 1), code, status);
        if let Some(series) = self.others.read().ok().as_ref().and_then(|s| s.get(&key)) {
            return observe(series, elapsed);
        }
        let Some(series) = self.metrics.series(label, method, status) else { return };
        observe(&series, elapsed);
        if let Ok(mut others) = self.others.write() {
            if others.len() < MAX_CACHED_SERIES {
                others.insert(key, series);
            }
        }
    }
}

fn status_digits(status: u16) -> [u8; 3] {
    let s = status.min(999);
    [b'0' + (s / 100) as u8, b'0' + (s / 10 % 10) as u8, b'0' + (s % 10) as u8]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_template() {
        let m = Arc::new(Metrics::new("svc", &BuildInfo::default()).expect("registers"));
        let routes = m.routes(vec![Arc::from("/"), Arc::from("/user/{id}")]);
        routes.record(Some(1), &http::Method::GET, 200, Duration::from_millis(3));
        routes.record(Some(1), &http::Method::GET, 200, Duration::from_millis(5));
        routes.record(Some(1), &http::Method::GET, 404, Duration::from_millis(1));
        routes.record(Some(1), &http::Method::GET, 404, Duration::from_millis(1));
        routes.record(Some(1), &http::Method::HEAD, 200, Duration::from_millis(1));
        routes.record(Some(0), &http::Method::POST, 201, Duration::from_millis(1));
        routes.record(Some(7), &http::Method::GET, 404, Duration::from_millis(1));
        routes.record(
            None,
            &http::Method::from_bytes(b"PURGE").expect("method"),
            404,
            Duration::from_millis(1),
        );
        m.record(Some("/user/{id}"), &http::Method::GET, 200, Duration::from_millis(1));
        let text = String::from_utf8(m.render()).expect("utf-8");
        assert!(
            text.contains(r#"doudou_http_requests_total{method="GET",route="/user/{id}",status="200"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"doudou_http_requests_total{method="GET",route="/user/{id}",status="404"} 2"#)
        );
        assert!(
            text.contains(r#"doudou_http_requests_total{method="HEAD",route="/user/{id}",status="200"} 1"#)
        );
        assert!(text.contains(r#"doudou_http_requests_total{method="POST",route="/",status="201"} 1"#));
        // A route number outside the table counts as unmatched.
        assert!(text.contains(r#"doudou_http_requests_total{method="GET",route="unmatched",status="404"} 1"#));
        assert!(
            text.contains(r#"doudou_http_requests_total{method="other",route="unmatched",status="404"} 1"#),
            "methods outside the standard ones share one label: {text}"
        );
        assert!(!text.contains("PURGE"));
        assert!(text.contains("# TYPE doudou_http_requests_total counter"), "{text}");
        assert!(text.contains("# HELP doudou_http_requests_total HTTP requests served"), "{text}");
        // The counter and the histogram's count are the same observations.
        assert!(text.contains(
            r#"doudou_http_request_duration_seconds_count{method="GET",route="/user/{id}",status="200"} 3"#
        ));
        assert!(text.contains("doudou_http_request_duration_seconds_bucket"));
        assert!(text.contains("doudou_build_info{"));
        #[cfg(target_os = "linux")]
        assert!(text.contains("process_resident_memory_bytes"));
    }
}
