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
//! answers come back as the server's [`Error`](crate::error::Error) (status, code, message).

mod attempts;
mod balance;
mod call;
mod exchange;
mod metrics;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use tower::retry::budget::TpsBudget;
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceExt};

pub(crate) use call::download;
pub use call::{Call, Received};
pub(crate) use metrics::register as register_metrics;

use crate::body::{Body, BoxError};
use crate::config::ClientConfig;
use crate::sd::{FixedProvider, ServiceProvider};
use metrics::ClientMetrics;
use transport::Transport;

/// The settings and state of a client, shared by its clones.
#[derive(Clone)]
struct Shared {
    provider: Arc<dyn ServiceProvider>,
    transport: Transport,
    /// How long one attempt may wait for its answer (`GDD_CLIENT_TIMEOUT`).
    timeout: Duration,
    /// How long a call may take, its retries included (`GDD_CLIENT_TOTAL_TIMEOUT`).
    total_timeout: Duration,
    retries: u32,
    /// The largest answer body read whole (`GDD_CLIENT_MAX_BODY_SIZE`).
    max_body: u64,
    budget: Arc<TpsBudget>,
    /// Headers every call sends unless it sets them itself (credentials, say).
    headers: http::HeaderMap,
    instances: Arc<balance::Instances>,
    metrics: Arc<ClientMetrics>,
}

/// The client settings of the process environment (`GDD_CLIENT_*`, `GDD_RETRY_COUNT`), read
/// once per process: what a client has until [`Client::with_config`] says otherwise.
fn from_environment() -> &'static ClientConfig {
    static CONFIG: std::sync::OnceLock<ClientConfig> = std::sync::OnceLock::new();
    CONFIG.get_or_init(|| match crate::config::Config::from_env() {
        Ok(config) => config.client,
        Err(e) => {
            tracing::error!("clients use the default timeout and retries: {e}");
            crate::config::Config::defaults().client
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
    #[cfg(feature = "gossip")]
    pub fn discover(service: impl Into<String>) -> Self {
        Self::with_provider(crate::registry::Discover::new(service))
    }

    /// Without doudou's `gossip` feature there is no cluster to discover `service` in: the
    /// client's calls fail with 503 (no instance available), and making one says why. Use
    /// [`Client::new`] with the service's URL instead.
    #[cfg(not(feature = "gossip"))]
    pub fn discover(service: impl Into<String>) -> Self {
        let service = service.into();
        tracing::warn!(
            %service,
            "this build has no gossip (doudou's `gossip` feature is off): a discovering client finds no instance; give it the service's URL"
        );
        Self::with_provider(crate::sd::Undiscovered(service))
    }

    /// A client of the instances of `service` in `cluster` (a handle from a server's
    /// [`Running`](crate::Running) or [`registry::join`](crate::registry::join)) rather than
    /// the process's ambient cluster.
    #[cfg(feature = "gossip")]
    pub fn discover_in(cluster: Arc<crate::registry::Gossip>, service: impl Into<String>) -> Self {
        Self::with_provider(crate::registry::Discover::in_cluster(cluster, service))
    }

    /// A client of the instances `provider` gives. Like every constructor, it takes its
    /// timeouts, retries and body limit from the process environment (`GDD_CLIENT_TIMEOUT`,
    /// `GDD_CLIENT_TOTAL_TIMEOUT`, `GDD_RETRY_COUNT`, `GDD_CLIENT_MAX_BODY_SIZE`, read once per
    /// process); [`Client::with_config`] gives it those of a [`Config`](crate::Config) instead.
    pub fn with_provider(provider: impl ServiceProvider) -> Self {
        let config = from_environment();
        let metrics = ClientMetrics::new(provider.name());
        Self {
            shared: Arc::new(Shared {
                provider: Arc::new(provider),
                transport: Transport::hyper(),
                timeout: config.timeout,
                total_timeout: config.total_timeout,
                retries: config.retries,
                max_body: config.max_body_size,
                budget: Arc::new(TpsBudget::default()),
                headers: http::HeaderMap::new(),
                instances: Arc::default(),
                metrics,
            }),
        }
    }

    /// This client with the settings of `config` (a loaded or built [`Config`](crate::Config)'s
    /// `client`) rather than the environment's: for a program that decides its configuration
    /// itself, and for tests.
    pub fn with_config(self, config: &ClientConfig) -> Self {
        self.with(|s| {
            s.timeout = config.timeout.max(Duration::from_millis(1));
            s.total_timeout = config.total_timeout.max(Duration::from_millis(1));
            s.retries = config.retries;
            s.max_body = config.max_body_size;
        })
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

    /// This client with another limit on a whole call, its retries included (instead of
    /// `GDD_CLIENT_TOTAL_TIMEOUT`); zero is taken as one millisecond.
    pub fn total_timeout(self, timeout: Duration) -> Self {
        self.with(|s| s.total_timeout = timeout.max(Duration::from_millis(1)))
    }

    /// This client with another number of retries (instead of `GDD_RETRY_COUNT`); 0 turns
    /// retries off.
    pub fn retries(self, retries: u32) -> Self {
        self.with(|s| s.retries = retries)
    }

    /// This client reading answer bodies of at most `bytes` (instead of
    /// `GDD_CLIENT_MAX_BODY_SIZE`); a larger one fails the attempt with 502. Downloads stream
    /// and are not limited.
    pub fn max_body_size(self, bytes: u64) -> Self {
        self.with(|s| s.max_body = bytes)
    }

    /// This client sending `Authorization: Bearer <token>` with every call (a call whose
    /// parameters put an `Authorization` header of their own sends that one instead). A token a
    /// header cannot hold is refused here, naming the problem.
    pub fn bearer(self, token: &str) -> Result<Self, crate::error::Error> {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// This client sending the header `name: value` with every call (a call whose parameters
    /// set that header sends theirs instead): an API key, a tenant. Values are marked
    /// sensitive, so they are not logged.
    pub fn header(self, name: &str, value: &str) -> Result<Self, crate::error::Error> {
        let name = http::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| crate::error::Error::bad_request(format!("`{name}` is not a header name")))?;
        let mut value = crate::vocab::header_text(value.to_owned()).ok_or_else(|| {
            crate::error::Error::bad_request(format!("the value of the header `{name}` is not visible ASCII"))
        })?;
        value.set_sensitive(true);
        Ok(self.with(|s| {
            s.headers.insert(name, value);
        }))
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
    /// server in memory ([`Server::into_service`](crate::Server::into_service))
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
