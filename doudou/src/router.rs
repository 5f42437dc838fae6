//! Routing: one `matchit` lookup from path to endpoint, then the verb, then the service's
//! own `match` on the route index.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use http::header::{HeaderValue, ALLOW};
use http::{Method, Response, StatusCode};

use crate::admission::Admission;
use crate::body::Body;
use crate::deadline::Deadline;
use crate::error::Error;
use crate::reply;
use crate::request::{bad_percent_encoding, percent_decode_strict, too_large, BodyLimits, Request};
use crate::request_id::Scanned;
use crate::service::Service;
use crate::vocab::{pieces, BoxFuture, Piece};
use rustc_hash::FxBuildHasher;

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

/// The index of the matched route among the router's, beside [`MatchedRoute`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouteIndex(pub(crate) usize);

/// The peer address of the connection, in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct RemoteAddr(pub SocketAddr);

/// A service to route to.
pub(crate) struct Mount {
    pub(crate) service: Arc<dyn Service>,
    /// A business service, the user's: mounted under the root path and admitted by the
    /// limits; the `/go-doudou/` routes are neither.
    pub(crate) business: bool,
}

struct Inner {
    /// Paths without parameters, looked up before the matcher: most routes are static.
    statics: HashMap<Box<str>, usize, FxBuildHasher>,
    matcher: matchit::Router<usize>,
    endpoints: Vec<Endpoint>,
    services: Vec<Arc<dyn Service>>,
    /// Whether each of `services` is a business service.
    business: Vec<bool>,
    admission: Option<Admission>,
    body_limits: BodyLimits,
    write_timeout: Duration,
}

/// The innermost tower service: dispatches to the generated handlers.
#[derive(Clone)]
pub(crate) struct Router {
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
    /// The routes of `mounts`, with the root path, body limit and timeouts of `config`.
    pub(crate) fn new(mounts: Vec<Mount>, config: &crate::config::Config) -> Result<Self, RouteError> {
        let root = config.route_root_path.as_str();
        let body_limits = BodyLimits {
            max_size: config.max_body_size,
            read_timeout: config.read_timeout,
            max_parts: config.max_form_parts,
        };
        let write_timeout = config.write_timeout;
        let mut matcher: matchit::Router<usize> = matchit::Router::new();
        let mut endpoints: Vec<Endpoint> = Vec::new();
        let mut services = Vec::new();
        let mut business = Vec::new();
        for (index, mount) in mounts.into_iter().enumerate() {
            for (route_index, route) in mount.service.routes().iter().enumerate() {
                let path = match (mount.business, route.path) {
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
                let mut allow: Vec<&str> = ep.verbs.iter().map(|(m, _)| m.as_str()).collect();
                // A GET route answers HEAD too (without a body), so HEAD is allowed.
                if allow.contains(&"GET") && !allow.contains(&"HEAD") {
                    allow.push("HEAD");
                }
                ep.allow = HeaderValue::try_from(allow.join(", ")).map_err(|e| err(e.to_string()))?;
            }
            services.push(mount.service);
            business.push(mount.business);
        }
        let statics = endpoints
            .iter()
            .enumerate()
            .filter(|(_, e)| pieces(&e.template).all(|p| matches!(p, Piece::Text(_))))
            .map(|(i, e)| (Box::from(e.template.as_ref()), i))
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                statics,
                matcher,
                endpoints,
                services,
                business,
                admission: Admission::new(&config.limits),
                body_limits,
                write_timeout,
            }),
        })
    }

    /// The route templates, by route index.
    pub(crate) fn templates(&self) -> Vec<Arc<str>> {
        self.inner.endpoints.iter().map(|e| e.template.clone()).collect()
    }

    /// The template of route number `index`.
    pub(crate) fn template(&self, index: usize) -> Option<&str> {
        self.inner.endpoints.get(index).map(|e| &*e.template)
    }

    /// The template of the route a path matches, if any (for naming a request's span before
    /// it is dispatched).
    pub(crate) fn template_of(&self, path: &str) -> Option<&str> {
        self.lookup(path).ok().and_then(|(endpoint, _)| self.template(endpoint))
    }

    /// The route a path matches and whether it is a business route (not one of the
    /// `/go-doudou/` management routes), if it matches one.
    pub(crate) fn route_of(&self, path: &str) -> Option<(usize, bool)> {
        let (endpoint, _) = self.lookup(path).ok()?;
        let business = self.inner.endpoints[endpoint]
            .verbs
            .first()
            .is_none_or(|(_, target)| self.inner.business[target.service]);
        Some((endpoint, business))
    }

    /// The endpoint a path matches, and its path parameters unless it is a static path.
    fn lookup<'p>(
        &self,
        path: &'p str,
    ) -> Result<(usize, Option<matchit::Params<'_, 'p>>), matchit::MatchError> {
        match self.inner.statics.get(path) {
            Some(&endpoint) => Ok((endpoint, None)),
            None => self.inner.matcher.at(path).map(|m| (*m.value, Some(m.params))),
        }
    }

    /// Routes one request. The future yields the response and the matched route's index.
    pub(crate) fn dispatch(
        &self,
        req: http::Request<Body>,
        remote: SocketAddr,
        started: Instant,
        scanned: Scanned,
    ) -> RouteFuture {
        let inner = &self.inner;
        let path = req.uri().path();
        let Ok((endpoint, params)) = self.lookup(path) else {
            let err = Error::not_found(format!("no route for {} {path}", req.method()));
            return RouteFuture::ready(reply::error(&err), None);
        };
        let route = Some(endpoint);
        let endpoint = &inner.endpoints[endpoint];
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
            return RouteFuture::ready(resp, route);
        };
        // The declared Content-Length, as hyper parsed it.
        if http_body::Body::size_hint(req.body()).lower() > inner.body_limits.max_size {
            return RouteFuture::ready(reply::error(&too_large(inner.body_limits.max_size)), route);
        }
        let mut decoded = Vec::new();
        for (name, value) in params.iter().flat_map(matchit::Params::iter) {
            let Some(value) = percent_decode_strict(value) else {
                return RouteFuture::ready(reply::error(&bad_percent_encoding(name)), route);
            };
            decoded.push((name.to_owned(), value.into_owned()));
        }
        let deadline = started + inner.write_timeout;
        let ctx = Request::new(req, decoded, remote, scanned, inner.body_limits, deadline);
        let mut call = inner.services[target.service].call(target.route, ctx);
        if let Some(admission) = inner.admission.as_ref().filter(|_| inner.business[target.service]) {
            call = match admission.admit(call) {
                Ok(admitted) => admitted,
                Err(refused) => return RouteFuture::ready(refused.into_response(), route),
            };
        }
        RouteFuture::call(call, route, deadline)
    }
}

pin_project_lite::pin_project! {
    /// A routed request: the handler's response within `GDD_WRITE_TIMEOUT`, a panic turned into
    /// a 500, and the matched route's index. The timer is only armed once the handler has
    /// to wait, so handlers that answer at once pay nothing for it. Small on purpose: it is
    /// moved into hyper's connection state for every request.
    pub(crate) struct RouteFuture {
        #[pin]
        call: futures_util::future::CatchUnwind<std::panic::AssertUnwindSafe<BoxFuture<Response<Body>>>>,
        deadline: Deadline,
        route: Option<usize>,
    }
}

impl RouteFuture {
    fn call(call: BoxFuture<Response<Body>>, route: Option<usize>, deadline: Instant) -> Self {
        Self {
            call: std::panic::AssertUnwindSafe(call).catch_unwind(),
            deadline: Deadline::new(deadline),
            route,
        }
    }

    /// An answer known without calling a handler (404, 405, 413).
    fn ready(resp: Response<Body>, route: Option<usize>) -> Self {
        Self::call(Box::pin(std::future::ready(resp)), route, crate::deadline::now())
    }
}

impl Future for RouteFuture {
    type Output = (Response<Body>, Option<usize>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let resp = match this.call.poll(cx) {
            Poll::Ready(Ok(resp)) => resp,
            // Caught here, not only by an outer layer, so the 500 keeps its route label.
            Poll::Ready(Err(panic)) => crate::panics::response(panic).map(Body::full),
            Poll::Pending => {
                std::task::ready!(this.deadline.poll_passed(cx));
                reply::error(&Error::unavailable("the handler did not answer within GDD_WRITE_TIMEOUT"))
            }
        };
        Poll::Ready((resp, *this.route))
    }
}

/// The router as a tower service, for user layers and compression: the peer address comes
/// from the request's extensions and the route template goes into the response's.
impl tower::Service<http::Request<Body>> for Router {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let remote =
            req.extensions().get::<RemoteAddr>().map_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)), |a| a.0);
        let routed = self.dispatch(req, remote, crate::deadline::now(), Scanned::UNKNOWN);
        // The route is known once dispatched: name it now rather than keep the router alive.
        let matched =
            routed.route.map(|r| (RouteIndex(r), MatchedRoute(self.inner.endpoints[r].template.clone())));
        Box::pin(async move {
            let (mut resp, _) = routed.await;
            if let Some((index, template)) = matched {
                resp.extensions_mut().insert(template);
                resp.extensions_mut().insert(index);
            }
            Ok(resp)
        })
    }
}
