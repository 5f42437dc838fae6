//! The default middleware around the routes, per request: request id, metrics, access log,
//! panic -> 500 and gzip, then the user's tower layers.

use std::any::Any;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::header::HeaderValue;
use http::Response;
use tower::Layer;
use tower_http::catch_panic::CatchPanic;
use tower_http::compression::{Compression, CompressionLayer};

use super::HttpService;
use crate::body::{Body, BoxError};
use crate::config::Config;
use crate::metrics::UNMATCHED;
use crate::metrics::{Metrics, RouteMetrics};
use crate::panics;
use crate::request_id::{valid_request_id, GeneratedId, RequestIds, Scanned, X_REQUEST_ID};
use crate::router::{RemoteAddr, RouteIndex, Router};
use crate::trace;
use crate::vocab::BoxFuture;

/// The default middleware around the routes, applied per request: request id, metrics,
/// access log, and gzip. Without user layers a request goes straight to the router, with no
/// tower service to clone or box; compression and user layers take the tower path.
#[derive(Clone)]
pub(crate) struct Stack(Arc<StackInner>);

struct StackInner {
    router: Router,
    gzip: Option<Compression<Router>>,
    layered: Option<CatchPanic<Compression<HttpService>, PanicTo500>>,
    log_requests: bool,
    ids: RequestIds,
    metrics: Option<RouteMetrics>,
    /// The address served, the `server.address` and `server.port` of request spans.
    listening: SocketAddr,
}

/// Whether an `Accept-Encoding` value may accept gzip: a quick look that sends the request
/// through the compression layer, which then reads the header properly (q-values and all).
fn may_accept_gzip(accept_encoding: &HeaderValue) -> bool {
    accept_encoding.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"gzip"))
}

/// Calls a tower stack (compression, user layers); the route comes back in an extension, or
/// is `matched` when a user layer answered by itself (a 401 is still the route's).
fn call_tower<S, B>(
    mut svc: S,
    req: http::Request<Body>,
    matched: Option<usize>,
) -> BoxFuture<(Response<Body>, Option<usize>)>
where
    S: tower::Service<http::Request<Body>, Response = Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let call = svc.call(req);
    Box::pin(async move {
        let resp = match call.await {
            Ok(resp) => resp.map(Body::new),
            Err(never) => match never {},
        };
        let route = resp.extensions().get::<RouteIndex>().map(|r| r.0).or(matched);
        (resp, route)
    })
}

impl Stack {
    pub(super) fn new(
        router: Router,
        layered: Option<HttpService>,
        config: &Config,
        metrics: Option<Arc<Metrics>>,
        listening: SocketAddr,
    ) -> Self {
        let compression = if config.enable_response_gzip {
            CompressionLayer::new()
        } else {
            CompressionLayer::new().no_gzip()
        };
        let layered = layered.map(|service| {
            tower::ServiceBuilder::new()
                .layer(tower_http::catch_panic::CatchPanicLayer::custom(PanicTo500))
                .layer(compression.clone())
                .service(service)
        });
        let gzip = config.enable_response_gzip.then(|| compression.layer(router.clone()));
        let metrics = metrics.map(|m| m.routes(router.templates()));
        Self(Arc::new(StackInner {
            router,
            gzip,
            layered,
            log_requests: config.log_req_enable,
            ids: RequestIds::new(),
            metrics,
            listening,
        }))
    }

    /// Starts handling one request. Everything before the handler is done here, at once, so
    /// the future hyper keeps per request holds only what the answer needs.
    ///
    /// Generic over the request's body so that a connection's request (hyper's body) becomes
    /// doudou's only where it goes on, not moved once more before (about 30 instructions).
    pub(crate) fn handle<B>(&self, mut req: http::Request<B>, remote: SocketAddr) -> Handled
    where
        Body: From<B>,
    {
        let started = crate::deadline::now();
        let stack = &*self.0;
        // One scan of the few header names, cheaper than two lookups by hash.
        let (mut given, mut gzip, mut traceparent) = (None, false, false);
        for (name, value) in req.headers() {
            if *name == X_REQUEST_ID {
                given = given.or(Some(value));
            } else if *name == http::header::ACCEPT_ENCODING {
                gzip = gzip || stack.gzip.is_some() && may_accept_gzip(value);
            } else if *name == trace::TRACEPARENT {
                traceparent = true;
            }
        }
        let given = given.filter(|v| valid_request_id(v)).cloned();
        // The handler sees a generated id in `Request::headers` (only if it asks for them),
        // user layers and compression in the request's headers.
        let generated = given.is_none().then(|| stack.ids.next());
        let tower_path = stack.layered.is_some() || gzip;
        if let (Some(id), true) = (&generated, tower_path) {
            req.headers_mut().insert(X_REQUEST_ID, id.clone());
        }
        let method = req.method().clone();
        let access_log = stack.log_requests.then(|| Box::new((req.uri().clone(), remote)));
        let span = trace::enabled().then(|| {
            let route = stack.router.template_of(req.uri().path());
            Box::new(trace::server_span(&method, route, req.headers(), remote, stack.listening))
        });
        // User layers wrap the business routes (and paths no route matches), never the
        // management routes: an authentication layer must not fail the probes.
        let layered =
            stack.layered.as_ref().map(|layered| (layered, stack.router.route_of(req.uri().path())));
        let routed = if let Some((layered, route)) =
            layered.filter(|(_, route)| route.is_none_or(|(_, business)| business))
        {
            req.extensions_mut().insert(RemoteAddr(remote));
            Routed::Tower { call: call_tower(layered.clone(), req.map(Body::from), route.map(|(r, _)| r)) }
        } else if let Some(gzip) = stack.gzip.as_ref().filter(|_| tower_path) {
            req.extensions_mut().insert(RemoteAddr(remote));
            Routed::Tower { call: call_tower(gzip.clone(), req.map(Body::from), None) }
        } else {
            let scanned = Scanned { generated: generated.as_ref().and_then(GeneratedId::of), traceparent };
            Routed::Direct { call: stack.router.dispatch(req.map(Body::from), remote, started, scanned) }
        };
        let id = given.or(generated);
        Handled { routed, stack: self.clone(), started, method, id, access_log, span }
    }
}

pin_project_lite::pin_project! {
    /// A request on its way through the stack; on completion it records the metrics, writes
    /// the access log line and sets `X-Request-ID` on the response.
    pub(crate) struct Handled {
        #[pin]
        routed: Routed,
        stack: Stack,
        started: Instant,
        method: http::Method,
        id: Option<HeaderValue>,
        access_log: Option<Box<(http::Uri, SocketAddr)>>,
        // The request's OpenTelemetry span, entered while the handler runs; boxed, and only
        // there when tracing is on.
        span: Option<Box<trace::Traced>>,
    }
}

pin_project_lite::pin_project! {
    #[project = RoutedProj]
    enum Routed {
        Direct { #[pin] call: crate::router::RouteFuture },
        Tower { call: BoxFuture<(Response<Body>, Option<usize>)> },
    }
}

impl std::future::Future for Handled {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.project();
        let routed = this.routed.project();
        let _entered = this.span.as_deref().map(trace::Traced::enter);
        let (mut resp, route) = std::task::ready!(panics::handling(|| match routed {
            RoutedProj::Direct { call } => call.poll(cx),
            RoutedProj::Tower { call } => call.as_mut().poll(cx),
        }));
        let stack = &*this.stack.0;
        if let Some(span) = this.span.as_deref() {
            trace::finish_server_span(span, resp.status().as_u16());
        }
        if let Some(panic) = resp.extensions_mut().remove::<panics::CaughtPanic>() {
            panics::report(route.and_then(|r| stack.router.template(r)).unwrap_or(UNMATCHED), &panic);
        }
        // On the clock `started` was read from: tokio's, paused in tests.
        let elapsed = crate::deadline::now().saturating_duration_since(*this.started);
        if let Some(metrics) = &stack.metrics {
            metrics.record(route, this.method, resp.status().as_u16(), elapsed);
        }
        if let Some(log) = this.access_log.take() {
            let (uri, remote) = *log;
            tracing::info!(
                target: "doudou::access",
                method = %this.method, %uri, route = route.and_then(|r| stack.router.template(r)).unwrap_or("-"),
                status = resp.status().as_u16(), micros = elapsed.as_micros() as u64,
                request_id = this.id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or_default(),
                remote = %remote, "request"
            );
        }
        if let Some(id) = this.id.take() {
            resp.headers_mut().insert(X_REQUEST_ID, id);
        }
        std::task::Poll::Ready(Ok(resp))
    }
}

/// A panicking handler answers 500 with the JSON error shape; the panic is logged.
#[derive(Clone, Copy)]
struct PanicTo500;

impl tower_http::catch_panic::ResponseForPanic for PanicTo500 {
    type ResponseBody = String;

    fn response_for_panic(&mut self, panic: Box<dyn Any + Send + 'static>) -> Response<String> {
        panics::response(panic)
    }
}
