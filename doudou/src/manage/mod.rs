//! The built-in `/go-doudou/` routes: metrics, OpenAPI, doc, registry, config, Prometheus
//! http_sd targets (behind basic auth), and the health and readiness probes (open, for
//! Kubernetes).
//!
//! `GDD_MANAGE_ENABLE=false` leaves only the probes. Credentials are compared in constant time;
//! a missing or wrong one gets 401 with `WWW-Authenticate: Basic`. Wrong credentials are logged
//! and, after [`login::MAX_FAILURES`] in a row from one address, that address gets 429 with
//! `Retry-After` for [`login::LOCKOUT`] (see [`login`]).

mod login;

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{Response, StatusCode};

use crate::body::Body;
use crate::config::Config;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::openapi::ApiBuilder;
use crate::reply;
use crate::request::Request;
use crate::sd::ClusterView;
use crate::service::Service;
use crate::vocab::{BoxFuture, Route, Verb};
use std::sync::atomic::{AtomicBool, Ordering};

const fn get(path: &'static str, operation: &'static str) -> Route {
    Route { verb: Verb::Get, path, operation }
}

const PROBES: &[Route] = &[get("/go-doudou/health", "health"), get("/go-doudou/ready", "ready")];
const ALL: &[Route] = &[
    get("/go-doudou/health", "health"),
    get("/go-doudou/ready", "ready"),
    get("/go-doudou/prometheus", "prometheus"),
    get("/go-doudou/openapi.json", "openapi"),
    get("/go-doudou/doc", "doc"),
    get("/go-doudou/registry", "registry"),
    get("/go-doudou/config", "config"),
    get("/go-doudou/sd", "sd"),
];

const DOC_PAGE: &str = include_str!("doc.html");

/// The management service.
pub(crate) struct Manage {
    enabled: bool,
    credentials: Vec<u8>,
    metrics: Option<Arc<Metrics>>,
    openapi: Bytes,
    config: Bytes,
    cluster: Arc<dyn ClusterView>,
    state: Arc<ServerState>,
    logins: login::Guard,
}

impl Manage {
    pub(crate) fn new(
        config: &Config,
        metrics: Option<Arc<Metrics>>,
        openapi: Bytes,
        cluster: Arc<dyn ClusterView>,
        state: Arc<ServerState>,
    ) -> Self {
        Self {
            enabled: config.manage_enable,
            credentials: format!("{}:{}", config.manage_user, config.manage_pass).into_bytes(),
            metrics,
            openapi,
            config: Bytes::from(serde_json::to_vec_pretty(&config.redacted()).unwrap_or_default()),
            cluster,
            state,
            logins: login::Guard::default(),
        }
    }

    /// Checks the request's credentials, counting wrong ones against its address: the answer
    /// to send instead of the route's, if any.
    fn refusal(&self, req: &Request) -> Option<Response<Body>> {
        let ip = req.remote_addr().ip();
        if let Some(wait) = self.logins.locked_out(ip) {
            return Some(login::too_many_failures(wait));
        }
        let Some(value) = req.header(AUTHORIZATION) else { return Some(unauthorized()) };
        if self.credentials_match(value) {
            self.logins.succeeded(ip);
            return None;
        }
        Some(match self.logins.failed(ip) {
            Some(wait) => login::too_many_failures(wait),
            None => unauthorized(),
        })
    }

    fn credentials_match(&self, value: &HeaderValue) -> bool {
        let Ok(value) = value.to_str() else { return false };
        let Some((scheme, encoded)) = value.split_once(' ') else { return false };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(given) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        constant_time_eq(&given, &self.credentials)
    }

    fn answer(&self, operation: &str, req: &Request) -> Response<Body> {
        match operation {
            "health" => json(StatusCode::OK, Bytes::from_static(br#"{"status":"up"}"#)),
            "ready" if self.state.is_ready() => {
                json(StatusCode::OK, Bytes::from_static(br#"{"status":"ready"}"#))
            }
            "ready" => {
                reply::error(&Error::unavailable("not ready: the service is starting or shutting down"))
            }
            _ => self.refusal(req).unwrap_or_else(|| self.protected(operation)),
        }
    }

    fn protected(&self, operation: &str) -> Response<Body> {
        match operation {
            "prometheus" => {
                let text = self.metrics.as_ref().map(|m| m.render()).unwrap_or_default();
                with_type(StatusCode::OK, Bytes::from(text), "text/plain; version=0.0.4; charset=utf-8")
            }
            "openapi" => json(StatusCode::OK, self.openapi.clone()),
            "doc" => {
                with_type(StatusCode::OK, Bytes::from_static(DOC_PAGE.as_bytes()), "text/html; charset=utf-8")
            }
            "registry" => json(
                StatusCode::OK,
                Bytes::from(serde_json::to_vec(&self.cluster.nodes()).unwrap_or_default()),
            ),
            "config" => json(StatusCode::OK, self.config.clone()),
            "sd" => {
                let groups = crate::promsd::target_groups(&self.cluster.members());
                json(StatusCode::OK, Bytes::from(serde_json::to_vec(&groups).unwrap_or_default()))
            }
            _ => reply::error(&Error::not_found("unknown management route")),
        }
    }
}

fn unauthorized() -> Response<Body> {
    let mut resp = reply::error(&Error::unauthorized(
        "the /go-doudou/ routes need basic auth (GDD_MANAGE_USER / GDD_MANAGE_PASS)",
    ));
    resp.headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="go-doudou", charset="UTF-8""#));
    resp
}

fn with_type(status: StatusCode, bytes: Bytes, content_type: &'static str) -> Response<Body> {
    let mut resp = Response::new(Body::full(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn json(status: StatusCode, bytes: Bytes) -> Response<Body> {
    with_type(status, bytes, "application/json")
}

/// Equal contents, in time that depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

impl Service for Manage {
    fn name(&self) -> &'static str {
        "go-doudou"
    }

    fn routes(&self) -> &'static [Route] {
        if self.enabled {
            ALL
        } else {
            PROBES
        }
    }

    fn call(&self, route: usize, req: Request) -> BoxFuture<Response<Body>> {
        let operation = self.routes().get(route).map_or("", |r| r.operation);
        Box::pin(std::future::ready(self.answer(operation, &req)))
    }

    fn describe(&self, _api: &mut ApiBuilder) {}
}

/// Builds the merged OpenAPI document of the business services.
pub(crate) fn openapi_document(config: &Config, services: &[Arc<dyn Service>]) -> Bytes {
    let version = services.first().map_or("", |s| s.build_info().version);
    let mut api = ApiBuilder::new(
        &config.service_name,
        if version.is_empty() { "0.0.0" } else { version },
        &config.route_root_path,
    );
    for service in services {
        service.describe(&mut api);
    }
    Bytes::from(serde_json::to_vec_pretty(&api.finish()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn equality_is_exact() {
        assert!(constant_time_eq(b"admin:admin", b"admin:admin"));
        assert!(!constant_time_eq(b"admin:admin", b"admin:admiN"));
        assert!(!constant_time_eq(b"admin:admin", b"admin:admin2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}

/// Shared state of a running server: readiness, for probes and shutdown.
#[derive(Debug, Default)]
pub struct ServerState {
    pub(crate) ready: AtomicBool,
}

impl ServerState {
    /// True while the server accepts work: after start, before shutdown begins.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}
