//! What carries a client's requests (hyper, or any tower service) and how to tell a failed
//! connection from a failed request.

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tower::util::BoxCloneSyncService;
use tower::ServiceExt;

use crate::body::{Body, BoxError};

/// What carries a client's requests: hyper over TCP, or any tower service (user layers
/// around it, or a router in memory).
#[derive(Clone)]
pub(super) enum Transport {
    Hyper(hyper_util::client::legacy::Client<HttpConnector, Body>),
    Service(BoxCloneSyncService<http::Request<Body>, http::Response<Body>, BoxError>),
}

impl Transport {
    pub(super) fn hyper() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Self::Hyper(hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector))
    }

    pub(super) fn into_service(
        self,
    ) -> BoxCloneSyncService<http::Request<Body>, http::Response<Body>, BoxError> {
        match self {
            Self::Service(service) => service,
            Self::Hyper(client) => BoxCloneSyncService::new(tower::service_fn(move |req| {
                let call = client.request(req);
                async move { call.await.map(|resp| resp.map(Body::from)).map_err(BoxError::from) }
            })),
        }
    }

    /// Sends `req`. A named future rather than an `async fn`, which would keep `req` beside
    /// the response future for the whole call.
    pub(super) fn call(&self, req: http::Request<Body>) -> Sending {
        match self {
            Self::Hyper(client) => Sending::Hyper(client.request(req)),
            Self::Service(service) => Sending::Service(Box::pin(service.clone().oneshot(req))),
        }
    }
}

/// A request on its way (see [`Transport::call`]).
pub(super) enum Sending {
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
                .map(|answer| answer.map(|resp| resp.map(Body::from)).map_err(Into::into)),
            Self::Service(sending) => sending.as_mut().poll(cx),
        }
    }
}

/// Whether `error` says the connection could not be made (the request was not sent).
pub(super) fn is_connect(error: &BoxError) -> bool {
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
