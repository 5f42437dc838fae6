//! Prometheus metrics: requests by route template, method and status; build info; process.
//!
//! Names follow Prometheus conventions (`_total` counters, `_seconds` histograms, base units) so
//! that `promtool check metrics` reports nothing. Routes are labelled by their *template*
//! (`/users/{id}`), never the raw path, so the number of series stays bounded; requests that
//! match no route share the label `unmatched`.

use std::time::Duration;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::fast_hash::BuildFastHasher;
use crate::service::BuildInfo;

/// The metrics of one server.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    durations: HistogramVec,
    /// The series of each (route, method, status) seen, so a request costs one read lock and
    /// two atomic updates rather than label hashing in the registry.
    series: RwLock<HashMap<SeriesKey, (IntCounter, Histogram), BuildFastHasher>>,
}

/// A route template (by the address of its interned string), a method and a status.
type SeriesKey = (usize, u8, u16);

/// At most this many cached series; past it, the registry is asked each time.
const MAX_CACHED_SERIES: usize = 4096;

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
        let labels = ["route", "method", "status"];
        let requests = IntCounterVec::new(
            Opts::new(
                "doudou_http_requests_total",
                "HTTP requests served, by route template, method and status.",
            ),
            &labels,
        )?;
        let durations = HistogramVec::new(
            HistogramOpts::new(
                "doudou_http_request_duration_seconds",
                "Time from receiving a request to having its response head, by route template, method and status.",
            )
            .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &labels,
        )?;
        let info = IntGauge::with_opts(
            Opts::new("doudou_build_info", "Build information of the service; the value is always 1.")
                .const_label("service", service)
                .const_label("version", build.version)
                .const_label("git_commit", build.git_commit)
                .const_label("build_time", build.build_time)
                .const_label("doudou_version", env!("CARGO_PKG_VERSION")),
        )?;
        info.set(1);
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(durations.clone()))?;
        registry.register(Box::new(info))?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;
        Ok(Self { registry, requests, durations, series: RwLock::new(HashMap::with_hasher(BuildFastHasher)) })
    }

    /// Counts one request of `route` (a template interned by the router; `None`: unmatched).
    pub fn record(&self, route: Option<&Arc<str>>, method: &http::Method, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let key = method_code(method)
            .map(|m| (route.map_or(0, |r| Arc::as_ptr(r).cast::<u8>() as usize), m, status));
        if let Some(key) = key {
            if let Some((count, time)) = self.series.read().ok().as_ref().and_then(|s| s.get(&key)) {
                count.inc();
                time.observe(secs);
                return;
            }
        }
        let digits = status_digits(status);
        let status = std::str::from_utf8(&digits).unwrap_or("000");
        let labels = [route.map_or(UNMATCHED, |r| &**r), method.as_str(), status];
        let (Ok(count), Ok(time)) = (
            self.requests.get_metric_with_label_values(&labels),
            self.durations.get_metric_with_label_values(&labels),
        ) else {
            return;
        };
        count.inc();
        time.observe(secs);
        if let (Some(key), Ok(mut series)) = (key, self.series.write()) {
            if series.len() < MAX_CACHED_SERIES {
                series.insert(key, (count, time));
            }
        }
    }

    /// The text exposition format (version 0.0.4).
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 * 1024);
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
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
        let m = Metrics::new("svc", &BuildInfo::default()).expect("registers");
        let route: Arc<str> = Arc::from("/user/{id}");
        m.record(Some(&route), &http::Method::GET, 200, Duration::from_millis(3));
        m.record(Some(&route), &http::Method::GET, 200, Duration::from_millis(5));
        m.record(Some(&route), &http::Method::GET, 404, Duration::from_millis(1));
        m.record(None, &http::Method::from_bytes(b"PURGE").expect("method"), 404, Duration::from_millis(1));
        let text = String::from_utf8(m.render()).expect("utf-8");
        assert!(
            text.contains(r#"doudou_http_requests_total{method="GET",route="/user/{id}",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"doudou_http_requests_total{method="GET",route="/user/{id}",status="404"} 1"#)
        );
        assert!(
            text.contains(r#"doudou_http_requests_total{method="PURGE",route="unmatched",status="404"} 1"#)
        );
        assert!(text.contains("doudou_http_request_duration_seconds_bucket"));
        assert!(text.contains("doudou_build_info{"));
        #[cfg(target_os = "linux")]
        assert!(text.contains("process_resident_memory_bytes"));
    }
}
