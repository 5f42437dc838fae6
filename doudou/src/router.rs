//! Routing: one `matchit` lookup from path to endpoint, then the verb, then the service's
//! own `match` on the route index.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::FutureExt;
use http::header::{HeaderValue, ALLOW, CONTENT_LENGTH};
use http::{Method, Response, StatusCode};
use hyper::body::Incoming;

use crate::body::Body;
use crate::request::{too_large, Request};
use crate::service::{BoxFuture, Service};
use crate::{reply, Error};

/// Where a request goes: a service and the index of its route.
#[derive(Clone, Copy)]
struct Target {
    service: usize,
    route: usize,
}

struct Endpoint {
    template: Arc<str>,
    verbs: Vec<(Method, Target)>,
    allow: HeaderValue,
}

/// The route template a request matched, in the response's extensions (for metrics and logs).
#[derive(Debug, Clone)]
pub struct MatchedRoute(pub Arc<str>);

/// The peer address of the connection, in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct RemoteAddr(pub SocketAddr);

/// A set of services registered at the same time: `(service, mounted under the root path?)`.
pub(crate) struct Mount {
    pub(crate) service: Arc<dyn Service>,
    pub(crate) prefixed: bool,
}

struct Inner {
    matcher: matchit::Router<usize>,
    endpoints: Vec<Endpoint>,
    services: Vec<Arc<dyn Service>>,
    max_body: u64,
    read_timeout: Duration,
    write_timeout: Duration,
}

/// The innermost tower service: dispatches to the generated handlers.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

/// Two services claim the same route, or a route is not a valid path template.
#[derive(Debug, thiserror::Error)]
#[error("cannot register {verb} {path} of {service}: {reason}")]
pub struct RouteError {
    verb: &'static str,
    path: String,
    service: &'static str,
    reason: String,
}

impl Router {
    pub(crate) fn new(
        mounts: Vec<Mount>,
        root: &str,
        max_body: u64,
        read_timeout: Duration,
        write_timeout: Duration,
    ) -> Result<Self, RouteError> {
        let mut matcher: matchit::Router<usize> = matchit::Router::new();
        let mut endpoints: Vec<Endpoint> = Vec::new();
        let mut services = Vec::new();
        for (index, mount) in mounts.into_iter().enumerate() {
            for (route_index, route) in mount.service.routes().iter().enumerate() {
                let path = match (mount.prefixed, route.path) {
                    (true, "/") if !root.is_empty() => root.to_owned(),
                    (true, p) => format!("{root}{p}"),
                    (false, p) => p.to_owned(),
                };
                let err = |reason: String| RouteError {
                    verb: route.verb.as_str(),
                    path: path.clone(),
                    service: mount.service.name(),
                    reason,
                };
                let target = Target { service: index, route: route_index };
                let method = route.verb.method();
                let endpoint = match matcher.at(&path) {
                    Ok(m) if endpoints[*m.value].template.as_ref() == path => *m.value,
                    _ => {
                        matcher.insert(path.clone(), endpoints.len()).map_err(|e| err(e.to_string()))?;
                        endpoints.push(Endpoint {
                            template: Arc::from(path.as_str()),
                            verbs: Vec::new(),
                            allow: HeaderValue::from_static(""),
                        });
                        endpoints.len() - 1
                    }
                };
                let ep = &mut endpoints[endpoint];
                if ep.verbs.iter().any(|(m, _)| *m == method) {
                    return Err(err("another route already answers this verb and path".into()));
                }
                ep.verbs.push((method, target));
                let allow: Vec<&str> = ep.verbs.iter().map(|(m, _)| m.as_str()).collect();
                ep.allow = HeaderValue::try_from(allow.join(", ")).map_err(|e| err(e.to_string()))?;
            }
            services.push(mount.service);
        }
        Ok(Self {
            inner: Arc::new(Inner { matcher, endpoints, services, max_body, read_timeout, write_timeout }),
        })
    }

    fn dispatch(&self, req: http::Request<Incoming>) -> BoxFuture<Response<Body>> {
        let inner = &self.inner;
        let path = req.uri().path();
        let Ok(found) = inner.matcher.at(path) else {
            let err = Error::not_found(format!("no route for {} {path}", req.method()));
            return Box::pin(std::future::ready(reply::error(&err)));
        };
        let endpoint = &inner.endpoints[*found.value];
        let method = req.method();
        let target = endpoint
            .verbs
            .iter()
            .find(|(m, _)| m == method)
            .or_else(|| {
                (method == Method::HEAD)
                    .then(|| endpoint.verbs.iter().find(|(m, _)| m == Method::GET))
                    .flatten()
            })
            .map(|(_, t)| *t);
        let Some(target) = target else {
            let err = Error::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!(
                    "{method} is not allowed on {path}; allowed: {}",
                    endpoint.allow.to_str().unwrap_or_default()
                ),
            );
            let mut resp = reply::error(&err);
            resp.headers_mut().insert(ALLOW, endpoint.allow.clone());
            resp.extensions_mut().insert(MatchedRoute(endpoint.template.clone()));
            return Box::pin(std::future::ready(resp));
        };
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > inner.max_body) {
            return Box::pin(std::future::ready(reply::error(&too_large(inner.max_body))));
        }
        let params = found
            .params
            .iter()
            .map(|(k, v)| {
                (k.to_owned(), percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
            })
            .collect();
        let remote =
            req.extensions().get::<RemoteAddr>().map_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)), |a| a.0);
        let template = MatchedRoute(endpoint.template.clone());
        let ctx = Request::new(req, params, remote, inner.max_body, inner.read_timeout);
        let call = inner.services[target.service].call(target.route, ctx);
        let write_timeout = inner.write_timeout;
        Box::pin(async move {
            // Caught here, not only by the outer layer, so the 500 keeps its route label.
            let guarded = std::panic::AssertUnwindSafe(call).catch_unwind();
            let mut resp = match tokio::time::timeout(write_timeout, guarded).await {
                Ok(Ok(resp)) => resp,
                Ok(Err(panic)) => crate::server::panic_response(panic).map(crate::body::full),
                Err(_) => {
                    reply::error(&Error::unavailable("the handler did not answer within GDD_WRITE_TIMEOUT"))
                }
            };
            resp.extensions_mut().insert(template);
            resp
        })
    }
}

impl tower::Service<http::Request<Incoming>> for Router {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = InfallibleFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Incoming>) -> Self::Future {
        InfallibleFuture(self.dispatch(req))
    }
}

/// The router's future: a response that cannot fail.
pub struct InfallibleFuture(BoxFuture<Response<Body>>);

impl Future for InfallibleFuture {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx).map(Ok)
    }
}
