//! Distributed tracing with OpenTelemetry, configured by the standard `OTEL_*` variables.
//!
//! With `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set and
//! `OTEL_SDK_DISABLED` not `true`, every request is a server span continuing the caller's W3C
//! `traceparent`, and every generated-client call a client span whose context goes out in
//! `traceparent`. Spans are `tracing` spans of the target `doudou::span`, turned into
//! OpenTelemetry spans by tracing-opentelemetry and exported over OTLP/HTTP protobuf by the
//! SDK's batch processor: on a thread of its own, through a bounded queue, so a backend that is
//! down or slow never holds a request. The sampler is the SDK's, read from
//! `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG` (parent-based always-on by default).
//!
//! Without an endpoint nothing is set up and a request costs one header lookup: its
//! `traceparent` is passed on unchanged to the calls its handler makes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[cfg(feature = "otel")]
use std::sync::OnceLock;
use std::time::Duration;

use http::header::HeaderName;
#[cfg(feature = "otel")]
use http::header::HeaderValue;
use http::HeaderMap;
#[cfg(feature = "otel")]
use opentelemetry::propagation::TextMapPropagator;
#[cfg(feature = "otel")]
use opentelemetry::trace::TracerProvider as _;
#[cfg(feature = "otel")]
use opentelemetry_sdk::error::OTelSdkResult;
#[cfg(feature = "otel")]
use opentelemetry_sdk::propagation::TraceContextPropagator;
#[cfg(feature = "otel")]
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
#[cfg(feature = "otel")]
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C trace-context header.
pub(crate) const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// Its vendor companion, passed along with it.
pub(crate) const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The target of doudou's spans: what the OpenTelemetry layer exports (and the log does not
/// show: their attributes are for the backend).
pub(crate) const TARGET: &str = "doudou::span";
/// The target of the span beside each of those that carries its trace and span ids into the
/// log lines written inside it (and is not exported: the ids are the span's own, not
/// attributes).
pub(crate) const IDS_TARGET: &str = "doudou::ids";

/// A request's or a call's span and the span of its ids for the log, to be entered in that
/// order (see [`Traced::enter`]).
#[derive(Debug)]
pub(crate) struct Traced {
    /// Exported to the backend.
    pub(crate) span: tracing::Span,
    /// Shown by the log.
    ids: tracing::Span,
}

impl Traced {
    /// The two spans, as tracing-opentelemetry and the log see them.
    #[cfg(feature = "otel")]
    fn new(span: tracing::Span) -> Self {
        use opentelemetry::trace::TraceContextExt;
        let context = span.context();
        let ids = context.span().span_context().clone();
        let ids = if ids.is_valid() {
            tracing::info_span!(target: IDS_TARGET, "ids", trace_id = %ids.trace_id(), span_id = %ids.span_id())
        } else {
            tracing::Span::none()
        };
        Self { span, ids }
    }

    /// Without OpenTelemetry no span has ids.
    #[cfg(not(feature = "otel"))]
    fn new(span: tracing::Span) -> Self {
        Self { span, ids: tracing::Span::none() }
    }

    /// Enters the spans: the exported one innermost, so that `Span::current()` is that one.
    pub(crate) fn enter(&self) -> (tracing::span::Entered<'_>, tracing::span::Entered<'_>) {
        (self.ids.enter(), self.span.enter())
    }

    /// `future` inside the spans.
    pub(crate) fn instrument<F: std::future::Future>(
        self,
        future: F,
    ) -> tracing::instrument::Instrumented<tracing::instrument::Instrumented<F>> {
        use tracing::Instrument;
        future.instrument(self.span).instrument(self.ids)
    }
}

/// Whether spans are made (set once, when the subscriber with the OpenTelemetry layer was
/// installed).
static ENABLED: AtomicBool = AtomicBool::new(false);
#[cfg(feature = "otel")]
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();
/// Spans the backend did not take (export failed or timed out).
static LOST: AtomicU64 = AtomicU64::new(0);

/// Whether requests and calls are traced.
#[inline]
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Spans lost because the backend did not take them, for the metrics.
pub(crate) fn spans_lost() -> u64 {
    LOST.load(Ordering::Relaxed)
}

/// What the `OTEL_*` variables ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// `OTEL_SERVICE_NAME`, else `GDD_SERVICE_NAME`.
    pub(crate) service_name: String,
}

impl Settings {
    /// The settings when tracing is on: an endpoint set, the SDK not disabled.
    pub(crate) fn from_env(service_name: &str) -> Option<Self> {
        Self::from_vars(|name| std::env::var(name).ok(), service_name)
    }

    fn from_vars(get: impl Fn(&str) -> Option<String>, service_name: &str) -> Option<Self> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
            return None;
        }
        var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"))?;
        Some(Self { service_name: var("OTEL_SERVICE_NAME").unwrap_or_else(|| service_name.to_owned()) })
    }
}

/// Counts what the exporter could not deliver; the SDK's processor retries nothing.
#[cfg(feature = "otel")]
#[derive(Debug)]
struct Counted<E>(E);

#[cfg(feature = "otel")]
impl<E: SpanExporter> SpanExporter for Counted<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let len = batch.len() as u64;
        let result = self.0.export(batch).await;
        if let Err(e) = &result {
            LOST.fetch_add(len, Ordering::Relaxed);
            report_lost(len, e);
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.0.set_resource(resource);
    }
}

/// How often at most a line says that spans were lost.
#[cfg(feature = "otel")]
const LOST_REPORT_EVERY: Duration = Duration::from_secs(10);

/// Logs that `len` spans were lost, at most once per [`LOST_REPORT_EVERY`], with the count
/// since the last line: a backend that stays down writes a line every ten seconds, not one
/// per batch.
#[cfg(feature = "otel")]
fn report_lost(len: u64, error: &impl std::fmt::Display) {
    static UNREPORTED: std::sync::Mutex<(Option<std::time::Instant>, u64)> = std::sync::Mutex::new((None, 0));
    let Ok(mut unreported) = UNREPORTED.lock() else { return };
    unreported.1 += len;
    let now = std::time::Instant::now();
    if unreported.0.is_some_and(|last| now.duration_since(last) < LOST_REPORT_EVERY) {
        return;
    }
    let count = std::mem::take(&mut unreported.1);
    unreported.0 = Some(now);
    drop(unreported);
    tracing::warn!(
        count,
        error = %error,
        "{count} spans lost: the OTLP backend did not take them (counted in doudou_trace_spans_lost_total)"
    );
}

/// The OpenTelemetry layer for the subscriber, or why there is none.
#[cfg(feature = "otel")]
pub(crate) fn layer<S>(
    settings: &Settings,
) -> Result<tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::SdkTracer>, String>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| format!("cannot build the OTLP exporter: {e}"))?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(settings.service_name.clone());
    }
    let provider = SdkTracerProvider::builder()
        .with_resource(resource.build())
        .with_batch_exporter(Counted(exporter))
        .build();
    let tracer = provider.tracer("doudou");
    let _ = PROVIDER.set(provider);
    // Attributes of OpenTelemetry's HTTP conventions only: not where in doudou's source a span
    // was made, on which thread, nor how long it was polled.
    Ok(tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_target(false))
}

/// Turns spans on, once the layer is part of the installed subscriber.
#[cfg(feature = "otel")]
pub(crate) fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Exports what is queued, waiting at most `limit` (a backend that is down costs the wait, not
/// more): called when the server has drained. The flush runs on a thread of its own, not a
/// blocking task of the runtime, whose shutdown would wait for it.
#[cfg(feature = "otel")]
pub(crate) async fn flush(limit: Duration) {
    let Some(provider) = PROVIDER.get() else { return };
    if limit.is_zero() {
        tracing::warn!("no time left in GDD_GRACE_TIMEOUT to export the last spans");
        return;
    }
    let provider = provider.clone();
    let (done, flushed) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new().name("doudou-trace-flush".into()).spawn(move || {
        let _ = done.send(provider.force_flush());
    });
    if spawned.is_err() {
        return;
    }
    match tokio::time::timeout(limit, flushed).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "could not export the last spans"),
        Ok(Err(_)) | Err(_) => tracing::warn!(?limit, "the last spans were not exported in time"),
    }
}

/// Without OpenTelemetry there is nothing to export.
#[cfg(not(feature = "otel"))]
pub(crate) async fn flush(_limit: Duration) {}

/// The server span of a request to `route` (a template; `None` when no route matches) whose
/// headers are `headers`, from `remote` to `listening`, continuing the caller's trace. Its name is final here: an
/// OpenTelemetry span takes no new name once started, which reading its ids does.
pub(crate) fn server_span(
    method: &http::Method,
    route: Option<&str>,
    headers: &HeaderMap,
    remote: std::net::SocketAddr,
    listening: std::net::SocketAddr,
) -> Traced {
    let name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_string(),
    };
    // The host the client asked for (OpenTelemetry's `server.address`), not the bind address.
    let asked = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<http::uri::Authority>().ok());
    let (address, port) = match &asked {
        Some(authority) => (authority.host().to_owned(), authority.port_u16().unwrap_or(listening.port())),
        None => (listening.ip().to_string(), listening.port()),
    };
    let span = tracing::info_span!(
        target: TARGET,
        "request",
        otel.name = name,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        http.route = route,
        http.response.status_code = tracing::field::Empty,
        client.address = %remote.ip(),
        client.port = remote.port(),
        server.address = address,
        server.port = port,
    );
    #[cfg(feature = "otel")]
    let _ = span.set_parent(TraceContextPropagator::new().extract(&HeaderExtractor(headers)));
    Traced::new(span)
}

/// Completes a server span with the response's status; a 5xx (a panic, a timeout) marks it
/// as an error.
pub(crate) fn finish_server_span(traced: &Traced, status: u16) {
    let span = &traced.span;
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}

/// The client span of a call to `template`, a child of the current (server) span.
pub(crate) fn client_span(method: &http::Method, template: &'static str) -> Traced {
    let span = tracing::info_span!(
        target: TARGET,
        "call",
        otel.name = %format_args!("{method} {template}"),
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        url.template = template,
        server.address = tracing::field::Empty,
        server.port = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        http.request.resend_count = tracing::field::Empty,
        doudou.instances_tried = tracing::field::Empty,
    );
    Traced::new(span)
}

/// Puts the context of `span` in an outgoing request's headers.
pub(crate) fn inject(span: &tracing::Span, headers: &mut HeaderMap) {
    #[cfg(not(feature = "otel"))]
    let _ = (span, headers);
    #[cfg(feature = "otel")]
    TraceContextPropagator::new().inject_context(&span.context(), &mut HeaderInjector(headers));
}

#[cfg(feature = "otel")]
struct HeaderExtractor<'a>(&'a HeaderMap);

#[cfg(feature = "otel")]
impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

#[cfg(feature = "otel")]
struct HeaderInjector<'a>(&'a mut HeaderMap);

#[cfg(feature = "otel")]
impl opentelemetry::propagation::Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(key), HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_turns_tracing_on_and_the_sdk_switch_off() {
        let with = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
            Settings::from_vars(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()), "users")
                .map(|s| s.service_name)
        };
        assert_eq!(with(&[]), None, "no endpoint");
        assert_eq!(with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]), None, "a blank endpoint");
        assert_eq!(with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")]), Some("users".into()));
        assert_eq!(
            with(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://h/v1/traces")]),
            Some("users".into())
        );
        let named = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h"), ("OTEL_SERVICE_NAME", "users-eu")];
        assert_eq!(with(&named), Some("users-eu".into()));
        assert_eq!(with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h"), ("OTEL_SDK_DISABLED", "TRUE")]), None);
    }
}
