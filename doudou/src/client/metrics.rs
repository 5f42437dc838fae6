//! The client's metrics, on the Prometheus endpoint of every server in the process: calls by
//! service, route template and outcome (a counter and a duration histogram), retries, and
//! which instances are ejected. The series live in one process-wide set, so that a client
//! made before the server (the usual order) is counted all the same.

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};
use rustc_hash::FxHashMap;

/// How a call ended, the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Outcome {
    /// A 2xx answer.
    Success,
    /// A 4xx answer: the caller's mistake, not the instance's.
    ClientError,
    /// A 5xx answer.
    ServerError,
    /// No answer within the timeout.
    Timeout,
    /// No connection, or it broke.
    Transport,
    /// An answer whose body broke off, was too large, or was not what the method returns.
    BadResponse,
    /// No instance to call.
    NoInstance,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::ClientError => "client_error",
            Self::ServerError => "server_error",
            Self::Timeout => "timeout",
            Self::Transport => "transport_error",
            Self::BadResponse => "bad_response",
            Self::NoInstance => "no_instance",
        }
    }
}

struct Families {
    calls: IntCounterVec,
    durations: HistogramVec,
    retries: IntCounterVec,
    ejected: IntGaugeVec,
}

fn families() -> Option<&'static Families> {
    static FAMILIES: OnceLock<Option<Families>> = OnceLock::new();
    FAMILIES
        .get_or_init(|| {
            let labels = ["service", "route", "outcome"];
            let made = (|| -> Result<Families, prometheus::Error> {
                Ok(Families {
                    calls: IntCounterVec::new(
                        Opts::new("doudou_client_requests_total", "Calls made by clients, by service, route template and outcome."),
                        &labels,
                    )?,
                    durations: HistogramVec::new(
                        HistogramOpts::new(
                            "doudou_client_request_duration_seconds",
                            "Time of a client call, retries included, by service, route template and outcome.",
                        )
                        .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
                        &labels,
                    )?,
                    retries: IntCounterVec::new(
                        Opts::new("doudou_client_retries_total", "Attempts of client calls beyond the first, by service and route template."),
                        &["service", "route"],
                    )?,
                    ejected: IntGaugeVec::new(
                        Opts::new("doudou_client_instance_ejected", "1 while a client leaves the instance out after failures, else 0."),
                        &["service", "instance"],
                    )?,
                })
            })();
            made.map_err(|e| tracing::error!("cannot create the client metrics: {e}")).ok()
        })
        .as_ref()
}

/// Adds the client series to a server's registry.
pub(crate) fn register(registry: &Registry) -> Result<(), prometheus::Error> {
    if let Some(f) = families() {
        registry.register(Box::new(f.calls.clone()))?;
        registry.register(Box::new(f.durations.clone()))?;
        registry.register(Box::new(f.retries.clone()))?;
        registry.register(Box::new(f.ejected.clone()))?;
    }
    Ok(())
}

type Series = (prometheus::IntCounter, prometheus::Histogram);

/// The series of one client's service, cached by route and outcome so that a call does not
/// hash its labels.
pub(crate) struct ClientMetrics {
    service: String,
    series: RwLock<FxHashMap<(&'static str, Outcome), Series>>,
}

impl ClientMetrics {
    pub(crate) fn new(service: &str) -> Arc<Self> {
        Arc::new(Self { service: service.to_owned(), series: RwLock::default() })
    }

    /// Counts a call to `route` that ended with `outcome` after `elapsed`.
    pub(crate) fn call(&self, route: &'static str, outcome: Outcome, elapsed: Duration) {
        if let Ok(cached) = self.series.read() {
            if let Some((calls, durations)) = cached.get(&(route, outcome)) {
                calls.inc();
                durations.observe(elapsed.as_secs_f64());
                return;
            }
        }
        let Some(f) = families() else { return };
        let labels = [self.service.as_str(), route, outcome.label()];
        let (calls, durations) = (f.calls.with_label_values(&labels), f.durations.with_label_values(&labels));
        calls.inc();
        durations.observe(elapsed.as_secs_f64());
        if let Ok(mut m) = self.series.write() {
            m.insert((route, outcome), (calls, durations));
        }
    }

    /// Counts a retry of a call to `route`.
    pub(crate) fn retry(&self, route: &'static str) {
        if let Some(f) = families() {
            f.retries.with_label_values(&[self.service.as_str(), route]).inc();
        }
    }

    /// Shows `instance` as ejected or back.
    pub(crate) fn ejected(&self, instance: &str, ejected: bool) {
        if let Some(f) = families() {
            f.ejected.with_label_values(&[self.service.as_str(), instance]).set(i64::from(ejected));
        }
    }
}
