//! The middleware of the request path, in memory (`Server::into_service`): user layers, request
//! ids, metrics, gzip, panics and the write timeout, as a socket's requests meet them; time
//! paused where it matters.

use std::time::Duration;

use doudou::body::Body;
use doudou::{Config, InMemory, Server};
use helloworld::{Hello, HelloworldServer};
use http_body_util::BodyExt;

fn config(tweak: impl FnOnce(&mut Config)) -> Config {
    let mut config = Config::defaults();
    config.discovery_mode = doudou::config::DiscoveryMode::None;
    tweak(&mut config);
    config
}

fn hello(tweak: impl FnOnce(&mut Config)) -> InMemory {
    Server::new().service(HelloworldServer::new(Hello)).into_service(config(tweak)).expect("routes")
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: bytes::Bytes,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The lines of a Prometheus scrape that start with `family`.
    fn series(&self, family: &str) -> Vec<String> {
        self.text().lines().filter(|l| l.starts_with(family)).map(str::to_owned).collect()
    }
}

async fn send(service: &InMemory, target: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = http::Request::get(target);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = service.call(req.body(Body::empty()).expect("request")).await;
    let status = resp.status().as_u16();
    let (parts, body) = resp.into_parts();
    Answer { status, headers: parts.headers, body: body.collect().await.expect("body").to_bytes() }
}

async fn scrape(service: &InMemory) -> Answer {
    let auth = doudou_tests::basic("admin", "admin");
    send(service, "/go-doudou/prometheus", &[("authorization", &auth)]).await
}

/// A layer that refuses requests without `Authorization: Bearer let-me-in`, the way a user
/// would add authentication in front of every route.
fn bearer_auth(
    inner: doudou::server::HttpService,
) -> impl tower::Service<
    http::Request<Body>,
    Response = http::Response<Body>,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(move |req: http::Request<Body>| {
        let inner = inner.clone();
        async move {
            let allowed = req.headers().get("authorization").is_some_and(|v| v == "Bearer let-me-in");
            if !allowed {
                return Ok(doudou::Error::unauthorized("a bearer token is required").to_response());
            }
            tower::ServiceExt::oneshot(inner, req).await
        }
    })
}

#[doudou::test]
async fn user_layers_wrap_the_business_routes_and_their_answers_keep_the_route() {
    let service = Server::new()
        .service(HelloworldServer::new(Hello))
        .layer(tower::layer::layer_fn(bearer_auth))
        .layer(tower::util::MapResponseLayer::new(|mut resp: http::Response<Body>| {
            resp.headers_mut().insert("x-outer-layer", http::HeaderValue::from_static("seen"));
            resp
        }))
        .into_service(config(|_| {}))
        .expect("routes");
    let denied = send(&service, "/user?id=1", &[]).await;
    assert_eq!(denied.status, 401);
    assert!(denied.text().contains("a bearer token is required"), "{}", denied.text());
    assert_eq!(denied.headers["x-outer-layer"], "seen", "the last layer added is outermost");
    assert!(denied.headers.contains_key("x-request-id"), "doudou's middleware still wraps user layers");
    let allowed = send(&service, "/user?id=1", &[("authorization", "Bearer let-me-in")]).await;
    assert_eq!(allowed.status, 200);

    // The management routes keep their own stack: the probes answer without the token, and
    // the layer's 401 is counted under the route it refused.
    assert_eq!(send(&service, "/go-doudou/health", &[]).await.status, 200);
    assert_eq!(send(&service, "/go-doudou/ready", &[]).await.status, 200);
    let scrape = scrape(&service).await;
    assert_eq!(scrape.status, 200);
    let requests = scrape.series("doudou_http_requests_total");
    assert!(
        requests
            .iter()
            .any(|l| l == r#"doudou_http_requests_total{method="GET",route="/user",status="401"} 1"#),
        "{requests:#?}"
    );
}

#[doudou::test]
async fn every_answer_carries_a_request_id_and_a_valid_given_one_is_kept() {
    let service = hello(|_| {});
    let first = send(&service, "/user?id=1", &[]).await;
    let second = send(&service, "/user?id=1", &[]).await;
    let (a, b) = (&first.headers["x-request-id"], &second.headers["x-request-id"]);
    assert_ne!(a, b, "each request gets its own id");
    let given = send(&service, "/user?id=1", &[("x-request-id", "order-42")]).await;
    assert_eq!(given.headers["x-request-id"], "order-42");
    let invalid = send(&service, "/user?id=1", &[("x-request-id", "no spaces allowed")]).await;
    assert_ne!(invalid.headers["x-request-id"], "no spaces allowed", "an invalid id is replaced");
}

#[doudou::test]
async fn answers_are_gzipped_when_the_client_accepts_it_and_the_setting_allows() {
    let target = "/download?name=a.txt&size=4096";
    let zipped = send(&hello(|_| {}), target, &[("accept-encoding", "gzip")]).await;
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.headers.get("content-encoding").map(|v| v.to_str().ok()), Some(Some("gzip")));
    assert!(zipped.body.len() < 4096, "{} bytes", zipped.body.len());
    let plain = send(&hello(|_| {}), target, &[]).await;
    assert!(plain.headers.get("content-encoding").is_none());
    assert_eq!(plain.body.len(), 4096);
    let off = send(&hello(|c| c.enable_response_gzip = false), target, &[("accept-encoding", "gzip")]).await;
    assert!(off.headers.get("content-encoding").is_none(), "GDD_ENABLE_RESPONSE_GZIP=false");
}

#[doudou::test]
async fn a_panicking_handler_is_a_500_counted_under_its_route_and_the_server_goes_on() {
    let service = hello(|_| {});
    let panicked = send(&service, "/panic", &[]).await;
    assert_eq!(panicked.status, 500);
    assert_eq!(send(&service, "/user?id=1", &[]).await.status, 200);
    let requests = scrape(&service).await.series("doudou_http_requests_total");
    assert!(
        requests
            .iter()
            .any(|l| l == r#"doudou_http_requests_total{method="GET",route="/panic",status="500"} 1"#),
        "{requests:#?}"
    );
}

#[doudou::test(start_paused = true)]
async fn a_handler_slower_than_the_write_timeout_is_503_at_the_timeout() {
    let service = hello(|c| c.write_timeout = Duration::from_secs(2));
    let started = tokio::time::Instant::now();
    let slow = send(&service, "/slow?ms=60000", &[]).await;
    let waited = started.elapsed();
    assert_eq!(slow.status, 503, "{}", slow.text());
    assert!(slow.text().contains("GDD_WRITE_TIMEOUT"), "{}", slow.text());
    assert!(waited >= Duration::from_secs(2) && waited < Duration::from_millis(2100), "{waited:?}");
    let quick = send(&service, "/slow?ms=1500", &[]).await;
    assert_eq!((quick.status, quick.text()), (200, "\"slept 1500ms\"".to_owned()));
}
