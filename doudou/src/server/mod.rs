//! The HTTP server: the builder ([`Server`]), a running server ([`Running`]) and why one
//! could not start ([`StartError`]).
//!
//! A request flows one way: `accept` takes a connection (at most `GDD_MAX_CONNECTIONS`),
//! `conn` serves it with hyper, `stack` runs the default middleware (request id, metrics,
//! access log, panic -> 500, gzip, the user's tower layers), then the router finds the
//! route and the service's handler binds the parameters and calls the method. On SIGINT or
//! SIGTERM (`shutdown`) the server stops accepting, lets in-flight requests finish within
//! `GDD_GRACE_TIMEOUT`, leaves the gossip cluster and returns.

mod accept;
mod conn;
mod shutdown;
mod stack;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use http::Response;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceExt};

use crate::body::{Body, BoxError};
#[cfg(feature = "gossip")]
use crate::config::DiscoveryMode;
use crate::config::{Config, ConfigError};
use crate::error::Error;
use crate::manage::{self, Manage};
use crate::metrics::Metrics;
#[cfg(feature = "gossip")]
use crate::registry::{self, Gossip, GossipError};
use crate::router::{Mount, Router};
use crate::sd::{ClusterView, LocalNode, Member};
use crate::service::Service;
use crate::{logging, panics, reply};
use accept::accept_loop;
use stack::Stack;

/// The HTTP service that user layers wrap: the business routes, requests with doudou's body.
pub type HttpService = BoxCloneSyncService<http::Request<Body>, Response<Body>, Infallible>;

type LayerFn = Box<dyn FnOnce(HttpService) -> HttpService + Send>;

/// Why a server could not start or stopped with an error.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration did not load.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Routes clash.
    #[error(transparent)]
    Route(#[from] RouteError),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr} (GDD_HOST/GDD_PORT): {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Gossip could not start.
    #[cfg(feature = "gossip")]
    #[error(transparent)]
    Gossip(#[from] GossipError),
    /// The service refused to start, for the reason given.
    #[error("{0}")]
    Refused(String),
}

/// Its message, not its structure: `fn main() -> Result<(), StartError>` prints a start-up
/// error with `Debug`, and the person reading it wants `GDD_PORT`'s problem, not the enum.
impl std::fmt::Debug for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Builds and runs a doudou HTTP server.
///
/// ```no_run
/// # async fn run(users: impl doudou::Service) -> Result<(), doudou::StartError> {
/// doudou::Server::new().service(users).run().await
/// # }
/// ```
pub struct Server {
    config: Option<Config>,
    mounts: Vec<Mount>,
    layers: Vec<LayerFn>,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("config", &self.config).finish_non_exhaustive()
    }
}

/// A server that is listening; [`Running::wait`] serves until a signal or [`Running::shutdown`].
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    state: Arc<ServerState>,
    #[cfg(feature = "gossip")]
    cluster: Option<Arc<Gossip>>,
}

impl Running {
    /// This server's gossip node, with `GDD_SERVICE_DISCOVERY_MODE=memberlist`: a handle for
    /// `Client::discover_in` when the process runs more than one server.
    #[cfg(feature = "gossip")]
    pub fn cluster(&self) -> Option<&Arc<Gossip>> {
        self.cluster.as_ref()
    }

    /// The address the server listens on (useful with `GDD_PORT=0`).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Readiness and other shared state.
    pub fn state(&self) -> &Arc<ServerState> {
        &self.state
    }

    /// Starts a graceful shutdown, as SIGTERM does, and waits for it to finish.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }

    /// Serves until SIGINT/SIGTERM (or [`Running::shutdown`] from elsewhere) and the drain end.
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

impl Server {
    /// A server that loads its configuration from the environment when it starts.
    pub fn new() -> Self {
        Self { config: None, mounts: Vec::new(), layers: Vec::new() }
    }

    /// Uses `config` instead of loading it from the environment.
    #[must_use]
    pub fn with_config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Serves the routes of `service` (a generated `{Trait}Server`) under `GDD_ROUTE_ROOT_PATH`.
    #[must_use]
    pub fn service(mut self, service: impl Service) -> Self {
        self.mounts.push(Mount { service: Arc::new(service), business: true });
        self
    }

    /// Wraps the routes in a tower layer (authentication, rate limits, CORS, ...). Layers
    /// run in the order added, the last added outermost, inside doudou's default stack.
    #[must_use]
    pub fn layer<L, S, B>(mut self, layer: L) -> Self
    where
        L: Layer<HttpService, Service = S> + Send + 'static,
        S: tower::Service<http::Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.layers
            .push(Box::new(move |inner: HttpService| BoxCloneSyncService::new(Recover(layer.layer(inner)))));
        self
    }

    /// The whole server without a socket: every request takes the path it takes when served
    /// (request id, metrics, access log, panic -> 500, gzip, your layers, admission, the
    /// `/go-doudou/` routes, timeouts), in memory. For tests (with paused time, too) and
    /// benchmarks, and as a generated client's [`transport`](crate::Client::transport).
    /// Nothing is bound, no gossip runs and no subscriber is installed. `config` is the
    /// configuration served with (one set with [`Server::with_config`] is not used).
    pub fn into_service(self, config: Config) -> Result<InMemory, StartError> {
        refuse_default_credentials_in_prod(&config)?;
        panics::install_hook();
        let addr = SocketAddr::new(config.host, config.port);
        let build = self.build_info();
        let cluster = Arc::new(LocalNode(Member::local(&config, addr, build)));
        // The server's state (readiness) lives on in its `/go-doudou/` routes.
        let (stack, _) = self.assemble(&config, addr, cluster)?;
        Ok(InMemory { stack, peer: SocketAddr::from(([127, 0, 0, 1], 0)) })
    }

    fn build_info(&self) -> crate::vocab::BuildInfo {
        self.mounts.first().map(|m| m.service.build_info()).unwrap_or_default()
    }

    /// The request path of this server at `addr`: the services, the `/go-doudou/` routes
    /// (listing `cluster`), the user's layers and doudou's middleware; ready.
    fn assemble(
        self,
        config: &Config,
        addr: SocketAddr,
        cluster: Arc<dyn ClusterView>,
    ) -> Result<(Stack, Arc<ServerState>), StartError> {
        let services: Vec<Arc<dyn Service>> = self.mounts.iter().map(|m| m.service.clone()).collect();
        let build = self.build_info();
        let state = Arc::new(ServerState::default());
        let metrics = if config.manage_enable {
            let metrics = Metrics::new(&config.service_name, &build)
                .map_err(|e| StartError::Refused(format!("cannot register the metrics: {e}")))?;
            Some(Arc::new(metrics))
        } else {
            None
        };
        let manage = Manage::new(
            config,
            metrics.clone(),
            manage::openapi_document(config, &services),
            cluster,
            state.clone(),
        );
        let mut mounts = self.mounts;
        mounts.push(Mount { service: Arc::new(manage), business: false });
        let router = Router::new(mounts, config)?;
        let layered = (!self.layers.is_empty()).then(|| {
            let mut service = HttpService::new(router.clone());
            for layer in self.layers {
                service = layer(service);
            }
            service
        });
        let stack = Stack::new(router, layered, config, metrics, addr);
        state.ready.store(true, Ordering::Release);
        Ok((stack, state))
    }

    /// Loads the configuration, binds, serves until SIGINT or SIGTERM, drains and returns.
    pub async fn run(self) -> Result<(), StartError> {
        self.start().await?.wait().await;
        Ok(())
    }

    /// Loads the configuration and binds; serving goes on in the background.
    pub async fn start(mut self) -> Result<Running, StartError> {
        let config = match self.config.take() {
            Some(c) => c,
            None => Config::from_env()?,
        };
        refuse_default_credentials_in_prod(&config)?;
        #[cfg(not(feature = "gossip"))]
        if config.discovery_mode == crate::config::DiscoveryMode::Memberlist {
            return Err(StartError::Refused(
                "GDD_SERVICE_DISCOVERY_MODE is memberlist, but this build has no gossip (doudou's `gossip` \
                 feature is off): set it to none, or turn the feature on"
                    .to_owned(),
            ));
        }
        logging::init(&config);
        panics::install_hook();
        for (unknown, closest) in config.unknown_vars() {
            match closest {
                Some(known) => {
                    tracing::warn!("{unknown} is not a doudou setting and is ignored; did you mean {known}?")
                }
                None => tracing::warn!("{unknown} is not a doudou setting and is ignored"),
            }
        }
        let addr = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { addr, source })?;

        let build = self.build_info();
        #[cfg(feature = "gossip")]
        let gossip = match config.discovery_mode {
            DiscoveryMode::Memberlist => Some(Gossip::start(&config, addr.port(), build).await?),
            DiscoveryMode::None => None,
        };
        #[cfg(feature = "gossip")]
        if let Some(g) = &gossip {
            registry::install(g);
        }
        #[cfg(feature = "gossip")]
        let cluster: Arc<dyn ClusterView> = match &gossip {
            Some(g) => g.clone(),
            None => Arc::new(LocalNode(Member::local(&config, addr, build))),
        };
        #[cfg(not(feature = "gossip"))]
        let (gossip, cluster): (accept::Announced, Arc<dyn ClusterView>) =
            ((), Arc::new(LocalNode(Member::local(&config, addr, build))));
        let assembled = self.assemble(&config, addr, cluster);
        // A server that cannot start leaves the cluster it joined.
        #[cfg(feature = "gossip")]
        if let (Err(_), Some(g)) = (&assembled, &gossip) {
            g.shutdown().await;
            registry::uninstall(g);
        }
        let (stack, state) = assembled?;
        let stop = CancellationToken::new();
        #[cfg(feature = "gossip")]
        let cluster = gossip.clone();
        let task = tokio::spawn(accept_loop(
            listener,
            stack,
            Arc::new(config.clone()),
            state.clone(),
            stop.clone(),
            gossip,
        ));
        tracing::info!(service = %config.service_name, env = %config.env, "listening on http://{addr}");
        Ok(Running {
            addr,
            stop,
            task,
            state,
            #[cfg(feature = "gossip")]
            cluster,
        })
    }
}

/// The seed document says never to keep admin/admin; in production (`GDD_ENV` prod or
/// production, any case) doudou refuses the password `admin`, whatever the user, and an empty one.
fn refuse_default_credentials_in_prod(config: &Config) -> Result<(), StartError> {
    let weak = config.manage_pass.is_empty() || config.manage_pass == "admin";
    if config.is_production() && config.manage_enable && weak {
        return Err(StartError::Refused(format!(
            "GDD_ENV={} with the default (or an empty) management password: set GDD_MANAGE_USER and \
             GDD_MANAGE_PASS to your own credentials, or set GDD_MANAGE_ENABLE=false",
            config.env
        )));
    }
    Ok(())
}

/// Runs `service` with the configuration of the environment: for `fn main`.
///
/// Builds a Tokio runtime, serves until SIGINT or SIGTERM, and exits the process: 0 after a
/// clean shutdown, 1 with the reason on standard error if the service cannot start.
pub fn serve(service: impl Service) -> ! {
    match block_on(Server::new().service(service).run()) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
}

/// Runs `future` to completion on a new multi-threaded Tokio runtime: for [`serve`] and
/// `#[doudou::main]`. A runtime that cannot start exits the process with 1 and the reason.
#[doc(hidden)]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    if tokio::runtime::Handle::try_current().is_ok() {
        eprintln!(
            "error: doudou::serve (or #[doudou::main]) starts a Tokio runtime of its own, and this code \
             already runs inside one: in an async main, serve with `Server::new().service(s).run().await`"
        );
        std::process::exit(1);
    }
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(future),
        Err(e) => {
            eprintln!("error: cannot start the Tokio runtime: {e}");
            std::process::exit(1)
        }
    }
}

/// Turns a user layer's errors into 500 responses and its body into doudou's.
#[derive(Clone)]
struct Recover<S>(S);

impl<S, B> tower::Service<http::Request<Body>> for Recover<S>
where
    S: tower::Service<http::Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = crate::vocab::BoxFuture<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let svc = self.0.clone();
        Box::pin(async move {
            Ok(match svc.oneshot(req).await {
                Ok(resp) => resp.map(Body::new),
                Err(e) => reply::error(&Error::internal(e.into().to_string())),
            })
        })
    }
}

pub use crate::manage::ServerState;
/// What user layers can read: the peer address in a request's extensions, the route template in a
/// response's, and why the routes of a server could not be built.
pub use crate::router::{MatchedRoute, RemoteAddr, RouteError};

/// A server's whole request path in memory, from [`Server::into_service`]: what a request
/// sent to it meets is what it meets on a socket, from the peer `127.0.0.1`. Cheap to clone.
#[derive(Clone)]
pub struct InMemory {
    stack: Stack,
    peer: SocketAddr,
}

impl std::fmt::Debug for InMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemory").field("peer", &self.peer).finish_non_exhaustive()
    }
}

impl InMemory {
    /// Handles `req` as the server would.
    ///
    /// ```
    /// # doudou::tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(async {
    /// let service = doudou::Server::new().into_service(doudou::Config::defaults())?;
    /// let req = doudou::http::Request::get("/go-doudou/health").body(doudou::body::Body::empty())?;
    /// assert_eq!(service.call(req).await.status(), 200);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).expect("the example");
    /// ```
    pub async fn call(&self, req: http::Request<Body>) -> Response<Body> {
        match self.stack.handle(req, self.peer).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        }
    }
}

impl tower::Service<http::Request<Body>> for InMemory {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = crate::vocab::BoxFuture<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        Box::pin(self.stack.handle(req, self.peer))
    }
}
