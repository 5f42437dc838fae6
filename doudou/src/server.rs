//! The HTTP server: hyper connections, the default middleware stack and graceful shutdown.
//!
//! The stack, outermost first: `X-Request-ID` (taken from the request or generated, echoed in
//! the response), the access log (`GDD_LOG_REQ_ENABLE`), panic -> 500, gzip when accepted
//! (`GDD_ENABLE_RESPONSE_GZIP`), the user's tower layers, then the router. On SIGINT or SIGTERM
//! the server stops accepting, lets in-flight requests finish within `GDD_GRACE_TIMEOUT`, and
//! returns.

use std::any::Any;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{HeaderName, HeaderValue};
use http::Response;
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceExt};

use crate::body::{Body, BoxError};
use crate::config::DiscoveryMode;
use crate::config::{Config, ConfigError};
use crate::manage::{self, Manage};
use crate::metrics::UNMATCHED;
use crate::metrics::{Metrics, RouteMetrics};
use crate::registry::{self, ClusterView, Gossip, GossipError, LocalNode, Member};
use crate::router::{Mount, RemoteAddr, RouteError, RouteIndex, Router};
use crate::service::BoxFuture;
use crate::service::Service;
use crate::{logging, panics, reply, Error};
use tower_http::catch_panic::CatchPanic;
use tower_http::compression::{Compression, CompressionLayer};

/// The request-id header.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The HTTP service that user layers wrap.
pub type HttpService = BoxCloneSyncService<http::Request<Incoming>, Response<Body>, Infallible>;

type LayerFn = Box<dyn FnOnce(HttpService) -> HttpService + Send>;

/// Why a server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
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
    #[error(transparent)]
    Gossip(#[from] GossipError),
    /// The service refused to start, for the reason given.
    #[error("{0}")]
    Refused(String),
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

/// Shared state of a running server: readiness, for probes and shutdown.
#[derive(Debug, Default)]
pub struct ServerState {
    ready: AtomicBool,
}

impl ServerState {
    /// True while the server accepts work: after start, before shutdown begins.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}

/// A server that is listening; [`Running::wait`] serves until a signal or [`Running::shutdown`].
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    state: Arc<ServerState>,
    cluster: Option<Arc<Gossip>>,
}

impl Running {
    /// This server's gossip node, with `GDD_SERVICE_DISCOVERY_MODE=memberlist`: a handle for
    /// `Client::discover_in` when the process runs more than one server.
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
        self.mounts.push(Mount { service: Arc::new(service), prefixed: true });
        self
    }

    /// Wraps the routes in a tower layer (authentication, rate limits, CORS, ...). Layers
    /// run in the order added, the last added outermost, inside doudou's default stack.
    #[must_use]
    pub fn layer<L, S, B>(mut self, layer: L) -> Self
    where
        L: Layer<HttpService, Service = S> + Send + 'static,
        S: tower::Service<http::Request<Incoming>, Response = Response<B>> + Clone + Send + Sync + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.layers
            .push(Box::new(move |inner: HttpService| BoxCloneSyncService::new(Recover(layer.layer(inner)))));
        self
    }

    /// The business routes alone, handled in memory by [`Router::handle`]: for tests and
    /// benchmarks of services (no socket, no management routes, no middleware).
    pub fn into_router(self, config: &Config) -> Result<Router, StartError> {
        Ok(Router::new(self.mounts, config)?)
    }

    /// Loads the configuration, binds, serves until SIGINT or SIGTERM, drains and returns.
    pub async fn run(self) -> Result<(), StartError> {
        self.start().await?.wait().await;
        Ok(())
    }

    /// Loads the configuration and binds; serving goes on in the background.
    pub async fn start(self) -> Result<Running, StartError> {
        let config = match self.config {
            Some(c) => c,
            None => Config::from_env()?,
        };
        refuse_default_credentials_in_prod(&config)?;
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

        let services: Vec<Arc<dyn Service>> = self.mounts.iter().map(|m| m.service.clone()).collect();
        let build = services.first().map(|s| s.build_info()).unwrap_or_default();
        let state = Arc::new(ServerState::default());
        let metrics = if config.manage_enable {
            let metrics = Metrics::new(&config.service_name, &build)
                .map_err(|e| StartError::Refused(format!("cannot register the metrics: {e}")))?;
            Some(Arc::new(metrics))
        } else {
            None
        };
        let gossip = match config.discovery_mode {
            DiscoveryMode::Memberlist => Some(Gossip::start(&config, addr.port(), build).await?),
            DiscoveryMode::None => None,
        };
        if let Some(g) = &gossip {
            registry::install(g);
        }
        let cluster: Arc<dyn ClusterView> = match &gossip {
            Some(g) => g.clone(),
            None => Arc::new(LocalNode(Member::local(&config, addr, build))),
        };
        let manage = Manage::new(
            &config,
            metrics.clone(),
            manage::openapi_document(&config, &services),
            cluster,
            state.clone(),
        );
        let mut mounts = self.mounts;
        mounts.push(Mount { service: Arc::new(manage), prefixed: false });
        let router = Router::new(mounts, &config)?;
        let layered = (!self.layers.is_empty()).then(|| {
            let mut service = HttpService::new(router.clone());
            for layer in self.layers {
                service = layer(service);
            }
            service
        });
        let stop = CancellationToken::new();
        let stack = Stack::new(router, layered, &config, metrics);
        // Ready before the address is announced: whoever saw it may probe at once.
        state.ready.store(true, Ordering::Release);
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
        Ok(Running { addr, stop, task, state, cluster })
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
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the Tokio runtime: {e}");
            std::process::exit(1)
        }
    };
    match runtime.block_on(Server::new().service(service).run()) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
}

/// Turns a user layer's errors into 500 responses and its body into doudou's.
#[derive(Clone)]
struct Recover<S>(S);

impl<S, B> tower::Service<http::Request<Incoming>> for Recover<S>
where
    S: tower::Service<http::Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = crate::service::BoxFuture<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Incoming>) -> Self::Future {
        let svc = self.0.clone();
        Box::pin(async move {
            Ok(match svc.oneshot(req).await {
                Ok(resp) => resp.map(Body::new),
                Err(e) => reply::error(&Error::internal(e.into().to_string())),
            })
        })
    }
}

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
}

/// Whether an `Accept-Encoding` value may accept gzip: a quick look that sends the request
/// through the compression layer, which then reads the header properly (q-values and all).
fn may_accept_gzip(accept_encoding: &HeaderValue) -> bool {
    accept_encoding.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"gzip"))
}

/// Calls a tower stack (compression, user layers); the route comes back in an extension.
fn call_tower<S, B>(mut svc: S, req: http::Request<Incoming>) -> BoxFuture<(Response<Body>, Option<usize>)>
where
    S: tower::Service<http::Request<Incoming>, Response = Response<B>, Error = Infallible>,
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
        let route = resp.extensions().get::<RouteIndex>().map(|r| r.0);
        (resp, route)
    })
}

impl Stack {
    fn new(
        router: Router,
        layered: Option<HttpService>,
        config: &Config,
        metrics: Option<Arc<Metrics>>,
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
        }))
    }

    /// Starts handling one request. Everything before the handler is done here, at once, so
    /// the future hyper keeps per request holds only what the answer needs.
    pub(crate) fn handle(&self, mut req: http::Request<Incoming>, remote: SocketAddr) -> Handled {
        let started = Instant::now();
        let stack = &*self.0;
        // One scan of the few header names, cheaper than two lookups by hash.
        let (mut given, mut gzip) = (None, false);
        for (name, value) in req.headers() {
            if *name == X_REQUEST_ID {
                given = given.or(Some(value));
            } else if *name == http::header::ACCEPT_ENCODING {
                gzip = gzip || stack.gzip.is_some() && may_accept_gzip(value);
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
        let routed = if let Some(layered) = &stack.layered {
            req.extensions_mut().insert(RemoteAddr(remote));
            Routed::Tower { call: call_tower(layered.clone(), req) }
        } else if let Some(gzip) = stack.gzip.as_ref().filter(|_| tower_path) {
            req.extensions_mut().insert(RemoteAddr(remote));
            Routed::Tower { call: call_tower(gzip.clone(), req) }
        } else {
            let generated = generated.as_ref().and_then(GeneratedId::of);
            Routed::Direct {
                call: stack.router.dispatch(req.map(Body::incoming), remote, started, generated),
            }
        };
        let id = given.or(generated);
        Handled { routed, stack: self.clone(), started, method, id, access_log }
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
        let (mut resp, route) = std::task::ready!(panics::handling(|| match routed {
            RoutedProj::Direct { call } => call.poll(cx),
            RoutedProj::Tower { call } => call.as_mut().poll(cx),
        }));
        let stack = &*this.stack.0;
        if let Some(panic) = resp.extensions_mut().remove::<panics::CaughtPanic>() {
            panics::report(route.and_then(|r| stack.router.template(r)).unwrap_or(UNMATCHED), &panic);
        }
        let elapsed = this.started.elapsed();
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

/// A generated request id by value: what the handler's `Request` keeps, so handing it over
/// touches no reference count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GeneratedId([u8; ID_LEN]);

impl GeneratedId {
    fn of(id: &HeaderValue) -> Option<Self> {
        id.as_bytes().try_into().ok().map(Self)
    }

    /// The id as a header value.
    pub(crate) fn header_value(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.0).unwrap_or(HeaderValue::from_static("unknown"))
    }
}

fn valid_request_id(v: &HeaderValue) -> bool {
    !v.is_empty() && v.len() <= 128 && v.as_bytes().iter().all(|b| b.is_ascii_graphic())
}

/// Request ids: a per-process random prefix and a counter, unique and cheap. Ids are written
/// 64 at a time into one buffer per thread, and each is a slice of it: a header value without
/// an allocation of its own.
struct RequestIds {
    /// The prefix, already in hex, and the separator.
    prefix: [u8; 17],
    counter: AtomicU64,
}

const IDS_PER_BATCH: u64 = 64;
const ID_LEN: usize = 33;

/// Ids written and not yet handed out, by the `RequestIds` (prefix) that wrote them.
#[derive(Default)]
struct IdBatch {
    prefix: [u8; 17],
    ids: bytes::Bytes,
}

thread_local! {
    static ID_BATCH: std::cell::RefCell<IdBatch> = std::cell::RefCell::new(IdBatch::default());
}

impl RequestIds {
    fn new() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
        );
        h.write_u32(std::process::id());
        let mut prefix = [b'-'; 17];
        write_hex(h.finish(), &mut prefix[..16]);
        Self { prefix, counter: AtomicU64::new(0) }
    }

    /// `{prefix:016x}-{n:016x}`.
    fn next(&self) -> HeaderValue {
        let id = ID_BATCH.with_borrow_mut(|batch| {
            if batch.prefix != self.prefix || batch.ids.is_empty() {
                *batch = self.batch();
            }
            batch.ids.split_to(ID_LEN)
        });
        HeaderValue::from_maybe_shared(id).unwrap_or(HeaderValue::from_static("unknown"))
    }

    fn batch(&self) -> IdBatch {
        let first = self.counter.fetch_add(IDS_PER_BATCH, Ordering::Relaxed);
        let mut ids = bytes::BytesMut::with_capacity(ID_LEN * IDS_PER_BATCH as usize);
        let mut id = [0u8; ID_LEN];
        id[..17].copy_from_slice(&self.prefix);
        for n in first..first + IDS_PER_BATCH {
            write_hex(n, &mut id[17..]);
            ids.extend_from_slice(&id);
        }
        IdBatch { prefix: self.prefix, ids: ids.freeze() }
    }
}

fn write_hex(n: u64, out: &mut [u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in n.to_be_bytes().iter().enumerate() {
        out[2 * i] = HEX[usize::from(byte >> 4)];
        out[2 * i + 1] = HEX[usize::from(byte & 0xf)];
    }
}

async fn accept_loop(
    listener: TcpListener,
    stack: Stack,
    config: Arc<Config>,
    state: Arc<ServerState>,
    stop: CancellationToken,
    gossip: Option<Arc<Gossip>>,
) {
    let (drain_tx, mut drain_rx) = mpsc::channel::<()>(1);
    let shutdown = shutdown_signal(stop.clone());
    tokio::pin!(shutdown);
    let shutdown_delay = config.shutdown_delay;
    let mut shutdown_delay_ends: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    // One permit per connection served: past GDD_MAX_CONNECTIONS, new connections wait in the
    // kernel's listen backlog until one closes.
    let connections = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    let mut limit_logged: Option<Instant> = None;
    loop {
        let next = async {
            let permit = match connections.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    if !matches!(limit_logged, Some(at) if at.elapsed() < Duration::from_secs(1)) {
                        tracing::warn!(
                            limit = config.max_connections,
                            "GDD_MAX_CONNECTIONS reached: new connections wait until one closes"
                        );
                        limit_logged = Some(Instant::now());
                    }
                    match connections.clone().acquire_owned().await {
                        Ok(permit) => permit,
                        Err(_) => std::future::pending().await,
                    }
                }
            };
            (permit, listener.accept().await)
        };
        let (permit, stream, remote) = tokio::select! {
            (permit, accepted) = next => match accepted {
                Ok((stream, remote)) => (permit, stream, remote),
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown, if shutdown_delay_ends.is_none() => {
                state.ready.store(false, Ordering::Release);
                // Peers stop routing here before the listener closes.
                if let Some(gossip) = &gossip {
                    gossip.leave(config.grace_timeout.min(Duration::from_secs(3))).await;
                }
                if shutdown_delay.is_zero() {
                    break;
                }
                tracing::info!(delay = ?shutdown_delay, "not ready; still serving for GDD_SHUTDOWN_DELAY");
                shutdown_delay_ends = Some(Box::pin(tokio::time::sleep(shutdown_delay)));
                continue;
            }
            () = async {
                match shutdown_delay_ends.as_mut() {
                    Some(delay) => delay.await,
                    None => std::future::pending().await,
                }
            } => break,
        };
        crate::conn::serve(
            stream,
            remote,
            stack.clone(),
            config.idle_timeout,
            &stop,
            (drain_tx.clone(), permit),
        );
    }
    state.ready.store(false, Ordering::Release);
    drop(listener);
    stop.cancel();
    drop(drain_tx);
    let grace = config.grace_timeout;
    tracing::info!(grace = ?grace, "shutting down: draining in-flight requests");
    match tokio::time::timeout(grace, drain_rx.recv()).await {
        Ok(_) => tracing::info!("drained; bye"),
        Err(_) => tracing::warn!("GDD_GRACE_TIMEOUT ({grace:?}) elapsed with requests still in flight"),
    }
    if let Some(gossip) = gossip {
        gossip.shutdown().await;
        registry::uninstall(&gossip);
    }
}

/// Resolves on SIGINT, SIGTERM or a programmatic stop; then tells every connection to close.
async fn shutdown_signal(stop: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
        () = stop.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_unique_and_shaped_prefix_dash_counter() {
        let ids = RequestIds::new();
        let other = RequestIds::new();
        let mut seen = std::collections::HashSet::new();
        for i in 0..200u64 {
            // Interleaved with another server's ids on the same thread.
            let id = ids.next();
            let theirs = other.next();
            let id = id.to_str().expect("ascii");
            assert_eq!(id.len(), ID_LEN, "{id}");
            let (prefix, counter) = id.split_once('-').expect("prefix-counter");
            assert_eq!(prefix.len(), 16);
            assert!(prefix.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
            assert!(u64::from_str_radix(counter, 16).expect("hex counter") >= i);
            assert_ne!(theirs.to_str().ok(), Some(id));
            assert!(seen.insert(id.to_owned()), "{id} twice");
        }
    }
}
