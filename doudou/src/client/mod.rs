//! The HTTP client behind every generated `{Trait}Client`: it survives failing, stalled and
//! overloaded instances.
//!
//! A [`Client`] asks its [`ServiceProvider`] for the live instances of the service before each
//! attempt and chooses one (see the `balance` module: the provider's balancer, the power of two
//! choices over calls in flight, outlier ejection). Each attempt has a timeout
//! (`GDD_CLIENT_TIMEOUT`); a failed attempt is retried on another instance when that is safe
//! (no connection: any call; no answer in time or a broken connection: idempotent calls), at
//! most `GDD_RETRY_COUNT` times and within a retry budget (tower's `TpsBudget`: retries at
//! most 20% of calls, plus 10 a second), so that retries cannot multiply an overload. The
//! request id of the request being handled, if any, goes along as `X-Request-ID`. Non-2xx
//! answers come back as the server's [`Error`] (status, code, message).

mod balance;
mod call;
mod metrics;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::HeaderValue;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, Method, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tower::retry::budget::{Budget, TpsBudget};
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceExt};

pub use call::{Call, Reply};
pub(crate) use metrics::register as register_metrics;

use crate::body::{Body, BoxError};
use crate::registry::Member;
use crate::Error;
use metrics::{ClientMetrics, Outcome};

/// The instances of one service, and which of them the balancer proposes.
pub trait ServiceProvider: Send + Sync + 'static {
    /// The service's name, for metrics and error messages.
    fn name(&self) -> &str;

    /// The instances a call may go to now; empty when none is known.
    fn instances(&self) -> Arc<Vec<Member>>;

    /// The index in `instances` (never empty) of the instance the balancer proposes; the
    /// client takes another when this one is ejected or clearly busier.
    fn choose(&self, instances: &[Member]) -> usize {
        let _ = instances;
        0
    }

    /// Something to await before the first call, e.g. joining the cluster; `None` (the
    /// default) when the provider can answer at once.
    fn ready(&self) -> Option<futures_util::future::BoxFuture<'_, ()>> {
        None
    }
}

/// A provider of one fixed base URL.
#[derive(Debug, Clone)]
pub struct FixedProvider {
    instance: Arc<Vec<Member>>,
}

impl FixedProvider {
    /// Always `base_url` (a trailing `/` is ignored).
    pub fn new(base_url: impl Into<String>) -> Self {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        let member = Member::instance(&base_url, &base_url, base_url.clone(), 1);
        Self { instance: Arc::new(vec![member]) }
    }

    /// The base URL in the variable `var` (process environment or `.env` files), e.g.
    /// `FixedProvider::from_env("USERS_URL")` for a service outside the cluster.
    pub fn from_env(var: &'static str) -> Result<Self, crate::config::ConfigError> {
        let config = crate::Config::from_env()?;
        match config.var(var).map(str::trim) {
            Some(url) if url.starts_with("http://") => Ok(Self::new(url)),
            Some(other) => Err(crate::config::ConfigError::Invalid {
                var,
                value: other.to_owned(),
                expected: "a base URL such as http://users:6060",
            }),
            None => Err(crate::config::ConfigError::Missing { var }),
        }
    }
}

impl ServiceProvider for FixedProvider {
    fn name(&self) -> &str {
        self.instance.first().map_or("", |m| m.base_url.as_str())
    }

    fn instances(&self) -> Arc<Vec<Member>> {
        Arc::clone(&self.instance)
    }
}

/// What carries a client's requests: hyper over TCP, or any tower service (user layers
/// around it, or a router in memory).
#[derive(Clone)]
enum Transport {
    Hyper(hyper_util::client::legacy::Client<HttpConnector, Body>),
    Service(BoxCloneSyncService<http::Request<Body>, http::Response<Body>, BoxError>),
}

impl Transport {
    fn hyper() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Self::Hyper(hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector))
    }

    fn into_service(self) -> BoxCloneSyncService<http::Request<Body>, http::Response<Body>, BoxError> {
        match self {
            Self::Service(service) => service,
            Self::Hyper(client) => BoxCloneSyncService::new(tower::service_fn(move |req| {
                let call = client.request(req);
                async move { call.await.map(|resp| resp.map(Body::incoming)).map_err(BoxError::from) }
            })),
        }
    }

    /// Sends `req`. A named future rather than an `async fn`, which would keep `req` beside
    /// the response future for the whole call.
    fn call(&self, req: http::Request<Body>) -> Sending {
        match self {
            Self::Hyper(client) => Sending::Hyper(client.request(req)),
            Self::Service(service) => Sending::Service(Box::pin(service.clone().oneshot(req))),
        }
    }
}

/// A request on its way (see [`Transport::call`]).
enum Sending {
    Hyper(hyper_util::client::legacy::ResponseFuture),
    Service(futures_util::future::BoxFuture<'static, Result<http::Response<Body>, BoxError>>),
}

impl std::future::Future for Sending {
    type Output = Result<http::Response<Body>, BoxError>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.get_mut() {
            Self::Hyper(sending) => std::pin::Pin::new(sending)
                .poll(cx)
                .map(|answer| answer.map(|resp| resp.map(Body::incoming)).map_err(Into::into)),
            Self::Service(sending) => sending.as_mut().poll(cx),
        }
    }
}

/// Whether `error` says the connection could not be made (the request was not sent).
fn is_connect(error: &BoxError) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
    while let Some(e) = source {
        if let Some(hyper) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            return hyper.is_connect();
        }
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// The settings and state of a client, shared by its clones.
#[derive(Clone)]
struct Shared {
    provider: Arc<dyn ServiceProvider>,
    transport: Transport,
    timeout: Duration,
    retries: u32,
    budget: Arc<TpsBudget>,
    instances: Arc<balance::Instances>,
    metrics: Arc<ClientMetrics>,
}

/// The `GDD_CLIENT_TIMEOUT` and `GDD_RETRY_COUNT` of the environment, read once per process.
fn configured() -> &'static crate::config::ClientConfig {
    static CONFIG: std::sync::OnceLock<crate::config::ClientConfig> = std::sync::OnceLock::new();
    CONFIG.get_or_init(|| match crate::Config::from_env() {
        Ok(config) => config.client,
        Err(e) => {
            tracing::error!("clients use the default timeout and retries: {e}");
            crate::Config::defaults().client
        }
    })
}

/// An HTTP client of one service; cheap to clone (clones share their instances' state).
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("service", &self.shared.provider.name()).finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the service at `base_url`, e.g. `http://127.0.0.1:6060`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self::with_provider(FixedProvider::new(base_url))
    }

    /// A client of the instances of `service` (its `GDD_SERVICE_NAME`) in the gossip cluster,
    /// load-balanced by smooth weighted round robin.
    pub fn discover(service: impl Into<String>) -> Self {
        Self::with_provider(crate::sd::Discover::new(service))
    }

    /// A client of the instances of `service` in `cluster` (a handle from a server's
    /// [`Running`](crate::Running) or [`registry::join`](crate::registry::join)) rather than
    /// the process's ambient cluster.
    pub fn discover_in(cluster: Arc<crate::registry::Gossip>, service: impl Into<String>) -> Self {
        Self::with_provider(crate::sd::Discover::in_cluster(cluster, service))
    }

    /// A client of the instances `provider` gives, with the environment's timeout and retries.
    pub fn with_provider(provider: impl ServiceProvider) -> Self {
        let config = configured();
        let metrics = ClientMetrics::new(provider.name());
        Self {
            shared: Arc::new(Shared {
                provider: Arc::new(provider),
                transport: Transport::hyper(),
                timeout: config.timeout,
                retries: config.retries,
                budget: Arc::new(TpsBudget::default()),
                instances: Arc::default(),
                metrics,
            }),
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Shared)) -> Self {
        change(Arc::make_mut(&mut self.shared));
        self
    }

    /// This client with another timeout for each attempt of a call (instead of
    /// `GDD_CLIENT_TIMEOUT`); zero is taken as one millisecond.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with(|s| s.timeout = timeout.max(Duration::from_millis(1)))
    }

    /// This client with another number of retries (instead of `GDD_RETRY_COUNT`); 0 turns
    /// retries off.
    pub fn retries(self, retries: u32) -> Self {
        self.with(|s| s.retries = retries)
    }

    /// This client with `layer` around the requests it sends (each attempt passes through
    /// it): any tower layer whose service takes and gives `http` messages with doudou's
    /// [`Body`](crate::body::Body), e.g. one that adds a header or records a metric.
    pub fn layer<L>(self, layer: L) -> Self
    where
        L: Layer<BoxCloneSyncService<http::Request<Body>, http::Response<Body>, BoxError>>,
        L::Service: tower::Service<http::Request<Body>, Response = http::Response<Body>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower::Service<http::Request<Body>>>::Error: Into<BoxError>,
        <L::Service as tower::Service<http::Request<Body>>>::Future: Send + 'static,
    {
        self.with(|s| {
            let inner = s.transport.clone().into_service();
            let layered = layer.layer(inner).map_err(Into::into);
            s.transport = Transport::Service(BoxCloneSyncService::new(layered));
        })
    }

    /// This client sending its requests to `service` instead of over the network: a
    /// [`Router`](crate::router::Router) (from [`Server::into_router`](crate::Server::into_router))
    /// tests a service and its generated client in memory.
    pub fn transport<S>(self, service: S) -> Self
    where
        S: tower::Service<http::Request<Body>, Response = http::Response<Body>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
    {
        self.with(|s| s.transport = Transport::Service(BoxCloneSyncService::new(service.map_err(Into::into))))
    }

    pub(crate) fn call(&self, method: Method, template: &'static str) -> Call<'_> {
        Call::new(self, method, template)
    }
}

/// How one attempt ended.
enum Attempt {
    Answered(http::Response<Body>),
    TimedOut,
    Failed(BoxError),
}

/// How a call ended, before an error answer's body is read.
enum Ended {
    Reply(Reply),
    /// A non-2xx answer: its body says why.
    Refused(Reply),
    Failed(Error),
}

/// A call ready to go: what each attempt sends. Only this lives across the attempts' awaits
/// (the call under construction, its parameters and the request builder do not), which keeps
/// the future a generated method returns small: it is moved each time it is polled from a new
/// place, and every byte of it is copied then.
struct Outgoing<'a> {
    shared: &'a Shared,
    method: Method,
    template: &'static str,
    /// The path and query after an instance's base URL.
    path: String,
    headers: HeaderMap,
    body: Option<(HeaderValue, Bytes)>,
}

impl<'a> Call<'a> {
    /// Sends the call; a non-2xx answer becomes the server's error. See the module
    /// documentation for timeouts, retries and the choice of instance.
    pub(crate) fn send(mut self) -> impl std::future::Future<Output = Result<Reply, Error>> + Send + 'a {
        let failed = self.failed.take();
        self.encode_files();
        let mut headers = std::mem::take(&mut self.headers);
        if !headers.contains_key(crate::request_id::X_REQUEST_ID) {
            if let Some(id) = crate::request_id::current() {
                headers.insert(crate::request_id::X_REQUEST_ID, id);
            }
        }
        let outgoing = Outgoing {
            shared: &self.client.shared,
            path: self.uri(""),
            method: self.method,
            template: self.template,
            headers,
            body: self.body,
        };
        // `outgoing` is only borrowed here: moving it into a local would store it twice.
        async move {
            match failed {
                Some(e) => Err(e),
                None => outgoing.send().await,
            }
        }
    }
}

impl Outgoing<'_> {
    async fn send(&self) -> Result<Reply, Error> {
        let shared = self.shared;
        let provider = &*shared.provider;
        if let Some(ready) = provider.ready() {
            ready.await;
        }
        let started = Instant::now();
        let idempotent = matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        shared.budget.deposit();
        let mut tried: Vec<String> = Vec::new();
        let mut last = None;
        // One clock read before each attempt and one after: they time the attempt, place its
        // deadline and date what the balancer learns.
        let mut sent = started;
        let mut done = started;
        let (ended, outcome) = loop {
            let alive = provider.instances();
            let Some(chosen) = shared.instances.choose(provider, &alive, &tried, shared.instances.at(sent))
            else {
                // Every instance was tried: the last failure says why.
                let (err, outcome) = last.take().unwrap_or_else(|| {
                    let err = Error::unavailable(format!(
                        "no instance of service {:?} is available",
                        provider.name()
                    ));
                    (err, Outcome::NoInstance)
                });
                break (Ended::Failed(err), outcome);
            };
            let base_url = alive[chosen.index].base_url.as_str();
            let req = match self.request(chosen.base(base_url), base_url) {
                Ok(req) => req,
                Err(e) => break (Ended::Failed(e), Outcome::Transport),
            };
            let deadline = tokio::time::Instant::from_std(sent) + shared.timeout;
            let attempt = match tokio::time::timeout_at(deadline, shared.transport.call(req)).await {
                Ok(Ok(resp)) => Attempt::Answered(resp),
                Ok(Err(e)) => Attempt::Failed(e),
                Err(_) => Attempt::TimedOut,
            };
            done = Instant::now();
            let at = shared.instances.at(done);
            let (retry, err, outcome) = match attempt {
                Attempt::Answered(resp) => {
                    let status = resp.status();
                    let failed = status.is_server_error();
                    shared.instances.finish(chosen, base_url, true, failed, at, &shared.metrics);
                    let reply = Reply { resp, deadline };
                    if status.is_success() {
                        break (Ended::Reply(reply), Outcome::Success);
                    }
                    break (
                        Ended::Refused(reply),
                        if failed { Outcome::ServerError } else { Outcome::ClientError },
                    );
                }
                Attempt::TimedOut => {
                    shared.instances.finish(chosen, base_url, false, true, at, &shared.metrics);
                    tried.push(base_url.to_owned());
                    let err = Error::new(
                        StatusCode::GATEWAY_TIMEOUT,
                        format!(
                            "{} {base_url}{} did not answer within {:?} (GDD_CLIENT_TIMEOUT)",
                            self.method, self.path, shared.timeout
                        ),
                    );
                    (idempotent, err, Outcome::Timeout)
                }
                Attempt::Failed(e) => {
                    shared.instances.finish(chosen, base_url, false, true, at, &shared.metrics);
                    tried.push(base_url.to_owned());
                    let retry = idempotent || is_connect(&e);
                    tracing::debug!(uri = %format_args!("{base_url}{}", self.path), error = %e, retry, "call failed");
                    let err = Error::unavailable(format!(
                        "cannot call {} {base_url}{}: {e}",
                        self.method, self.path
                    ));
                    (retry, err, Outcome::Transport)
                }
            };
            if !retry || tried.len() > shared.retries as usize || !shared.budget.withdraw() {
                break (Ended::Failed(err), outcome);
            }
            last = Some((err, outcome));
            shared.metrics.retry(self.template);
            sent = done;
        };
        let result = match ended {
            Ended::Reply(reply) => Ok(reply),
            Ended::Refused(reply) => {
                let status = reply.resp.status();
                Err(Error::from_body(status, &reply.bytes().await.unwrap_or_default()))
            }
            Ended::Failed(err) => Err(err),
        };
        shared.metrics.call(self.template, outcome, done.saturating_duration_since(started));
        result
    }

    /// The request of one attempt to the instance at `base_url` (parsed as `base`, if it
    /// could be).
    fn request(&self, base: Option<&balance::Base>, base_url: &str) -> Result<http::Request<Body>, Error> {
        let uri = match base {
            Some(base) => {
                let mut path = String::with_capacity(base.root.len() + self.path.len());
                path.push_str(&base.root);
                path.push_str(&self.path);
                http::uri::PathAndQuery::from_maybe_shared(Bytes::from(path))
                    .map_err(http::Error::from)
                    .and_then(|path| {
                        let mut parts = http::uri::Parts::default();
                        parts.scheme = Some(base.scheme.clone());
                        parts.authority = Some(base.authority.clone());
                        parts.path_and_query = Some(path);
                        http::Uri::from_parts(parts).map_err(http::Error::from)
                    })
            }
            None => http::Uri::try_from(format!("{base_url}{}", self.path)).map_err(http::Error::from),
        };
        let built = uri.and_then(|uri| {
            let mut builder = http::Request::builder().method(self.method.clone()).uri(uri);
            if let Some(h) = builder.headers_mut() {
                h.clone_from(&self.headers);
            }
            match &self.body {
                Some((ct, bytes)) => builder.header(CONTENT_TYPE, ct).body(Body::full(bytes.clone())),
                None => builder.body(Body::empty()),
            }
        });
        built.map_err(|e| {
            Error::bad_request(format!("cannot build a request to {base_url}{}: {e}", self.path))
        })
    }
}
