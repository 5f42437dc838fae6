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
use std::sync::OnceLock;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C trace-context header.
pub(crate) const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// Its vendor companion, passed along with it.
pub(crate) const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The target of doudou's spans: what the OpenTelemetry layer exports.
pub(crate) const TARGET: &str = "doudou::span";

/// Whether spans are made (set once, when the subscriber with the OpenTelemetry layer was
/// installed).
static ENABLED: AtomicBool = AtomicBool::new(false);
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
#[derive(Debug)]
struct Counted<E>(E);

impl<E: SpanExporter> SpanExporter for Counted<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let len = batch.len() as u64;
        let result = self.0.export(batch).await;
        if result.is_err() {
            LOST.fetch_add(len, Ordering::Relaxed);
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

/// The OpenTelemetry layer for the subscriber, or why there is none.
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
    Ok(tracing_opentelemetry::layer().with_tracer(tracer))
}

/// Turns spans on, once the layer is part of the installed subscriber.
pub(crate) fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Exports what is queued, waiting at most `limit` (a backend that is down costs the wait, not
/// more): called when the server has drained. The flush runs on a thread of its own, not a
/// blocking task of the runtime, whose shutdown would wait for it.
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

/// The server span of a request to `route` (a template; `None` when no route matches) whose
/// headers are `headers`, from `remote` to `listening`, continuing the caller's trace. Its name is final here: an
/// OpenTelemetry span takes no new name once started, which reading its ids does.
pub(crate) fn server_span(
    method: &http::Method,
    route: Option<&str>,
    headers: &HeaderMap,
    remote: std::net::SocketAddr,
    listening: std::net::SocketAddr,
) -> tracing::Span {
    let name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_string(),
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
        server.address = %listening.ip(),
        server.port = listening.port(),
        trace_id = tracing::field::Empty,
        span_id = tracing::field::Empty,
    );
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    let _ = span.set_parent(parent);
    record_ids(&span);
    span
}

/// Completes a server span with the response's status; a 5xx (a panic, a timeout) marks it
/// as an error.
pub(crate) fn finish_server_span(span: &tracing::Span, status: u16) {
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}

/// The client span of a call to `template`, a child of the current (server) span.
pub(crate) fn client_span(method: &http::Method, template: &'static str) -> tracing::Span {
    let span = tracing::info_span!(
        target: TARGET,
        "call",
        otel.name = %format_args!("{method} {template}"),
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        url.template = template,
        server.address = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        http.request.resend_count = tracing::field::Empty,
        doudou.instances_tried = tracing::field::Empty,
        trace_id = tracing::field::Empty,
        span_id = tracing::field::Empty,
    );
    record_ids(&span);
    span
}

/// Writes the span's trace and span ids into its fields: log lines inside it show them.
fn record_ids(span: &tracing::Span) {
    use opentelemetry::trace::TraceContextExt;
    let context = span.context();
    let ids = context.span().span_context().clone();
    if ids.is_valid() {
        span.record("trace_id", tracing::field::display(ids.trace_id()));
        span.record("span_id", tracing::field::display(ids.span_id()));
    }
}

/// Puts the context of `span` in an outgoing request's headers.
pub(crate) fn inject(span: &tracing::Span, headers: &mut HeaderMap) {
    TraceContextPropagator::new().inject_context(&span.context(), &mut HeaderInjector(headers));
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

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
