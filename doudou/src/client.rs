//! The HTTP client behind every generated `{Trait}Client`.
//!
//! A [`Client`] asks a [`ServiceProvider`] for the base URL of an instance before each call.
//! [`FixedProvider`] always answers one URL; the gossip registry provides load-balanced ones.
//! Non-2xx answers come back as the server's [`Error`] (status, code, message).

use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_DISPOSITION, CONTENT_TYPE};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::body::{disposition_filename, Body, FileDownload, UploadFile};
use crate::Error;

/// Picks the instance a call goes to.
pub trait ServiceProvider: Send + Sync + 'static {
    /// The base URL (`http://host:port/root`) of the instance for the next call, or `None`
    /// when no instance is known.
    fn pick(&self) -> Option<String>;

    /// How many instances there are to choose from (bounds the retries on other instances).
    fn count(&self) -> usize {
        1
    }

    /// Something to await before the first pick, e.g. joining the cluster; `None` (the
    /// default) when the provider can pick at once.
    fn ready(&self) -> Option<futures_util::future::BoxFuture<'_, ()>> {
        None
    }

    /// What the provider stands for, for error messages.
    fn describe(&self) -> String {
        "the service".to_owned()
    }
}

/// A provider of one fixed base URL.
#[derive(Debug, Clone)]
pub struct FixedProvider {
    base_url: String,
}

impl FixedProvider {
    /// Always `base_url` (a trailing `/` is ignored).
    pub fn new(base_url: impl Into<String>) -> Self {
        Self { base_url: base_url.into().trim_end_matches('/').to_owned() }
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
    fn pick(&self) -> Option<String> {
        Some(self.base_url.clone())
    }
}

/// An HTTP client bound to a provider of instances; cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: hyper_util::client::legacy::Client<HttpConnector, Body>,
    provider: Arc<dyn ServiceProvider>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
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

    /// A client of the instances `provider` picks.
    pub fn with_provider(provider: impl ServiceProvider) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
        Self { http, provider: Arc::new(provider) }
    }

    pub(crate) fn call(&self, method: Method, template: &'static str) -> Call<'_> {
        Call {
            client: self,
            method,
            template,
            path_params: Vec::new(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            files: Vec::new(),
            failed: None,
        }
    }
}

/// One call under construction (used by generated clients).
#[doc(hidden)]
pub struct Call<'a> {
    client: &'a Client,
    method: Method,
    template: &'static str,
    path_params: Vec<(&'static str, String)>,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<(HeaderValue, Bytes)>,
    files: Vec<(&'static str, UploadFile)>,
    /// Why the call cannot be sent (a body that cannot be encoded), answered by `send`.
    failed: Option<Error>,
}

impl Call<'_> {
    /// A path parameter.
    pub(crate) fn path(&mut self, name: &'static str, value: String) {
        self.path_params.push((name, value));
    }

    /// A query parameter (a text field of the multipart body when the call sends files).
    pub(crate) fn query(&mut self, name: &'static str, value: String) {
        self.query.push((name.to_owned(), value));
    }

    /// Headers to send along.
    pub(crate) fn headers(&mut self, headers: &HeaderMap) {
        for (k, v) in headers {
            self.headers.append(k.clone(), v.clone());
        }
    }

    /// The JSON body.
    pub(crate) fn json<T: Serialize>(&mut self, value: &T) {
        match serde_json::to_vec(value) {
            Ok(bytes) => self.body = Some((HeaderValue::from_static("application/json"), Bytes::from(bytes))),
            Err(e) => self.failed = Some(Error::bad_request(format!("cannot encode the body: {e}"))),
        }
    }

    /// A file of a multipart body.
    pub(crate) fn file(&mut self, name: &'static str, file: UploadFile) {
        self.files.push((name, file));
    }

    fn multipart(&mut self) {
        let boundary = {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(self.files.len());
            format!("doudou-boundary-{:016x}{:016x}", h.finish(), h.finish().rotate_left(17))
        };
        let mut out = Vec::new();
        // The scalars go in the body, where the document puts them for an upload. Their names
        // are the method's parameter names (Rust identifiers): nothing to escape.
        for (name, value) in self.query.drain(..) {
            out.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (name, file) in self.files.drain(..) {
            let filename = file.filename().replace(['"', '\r', '\n'], "_");
            out.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {}\r\n\r\n",
                    file.content_type()
                )
                .as_bytes(),
            );
            out.extend_from_slice(file.bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let ct = HeaderValue::try_from(format!("multipart/form-data; boundary={boundary}"))
            .unwrap_or(HeaderValue::from_static("multipart/form-data"));
        self.body = Some((ct, Bytes::from(out)));
    }

    fn uri(&self, base: &str) -> String {
        let mut path = String::with_capacity(base.len() + self.template.len());
        path.push_str(base);
        let mut rest = self.template;
        while let Some(start) = rest.find('{') {
            path.push_str(&rest[..start]);
            let end = rest[start..].find('}').map_or(rest.len(), |e| start + e);
            let name = &rest[start + 1..end];
            // A catch-all (`{*rest}`) keeps its slashes; each segment is encoded.
            let (name, catch_all) = match name.strip_prefix('*') {
                Some(name) => (name, true),
                None => (name, false),
            };
            if let Some((_, v)) = self.path_params.iter().find(|(k, _)| *k == name) {
                for (i, segment) in v.split('/').enumerate() {
                    if i > 0 {
                        path.push_str(if catch_all { "/" } else { "%2F" });
                    }
                    path.extend(percent_encoding::utf8_percent_encode(
                        segment,
                        percent_encoding::NON_ALPHANUMERIC,
                    ));
                }
            }
            rest = rest.get(end + 1..).unwrap_or_default();
        }
        path.push_str(rest);
        if !self.query.is_empty() {
            path.push('?');
            path.push_str(&serde_urlencoded::to_string(&self.query).unwrap_or_default());
        }
        path
    }

    /// Sends the call; a non-2xx answer becomes the server's error. A call that cannot connect
    /// is retried on another instance; an idempotent call (GET, HEAD, PUT, DELETE) is also
    /// retried after other transport failures; a call that got an answer never is.
    pub(crate) async fn send(mut self) -> Result<Reply, Error> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if !self.files.is_empty() {
            self.multipart();
        }
        let provider = &self.client.provider;
        if let Some(ready) = provider.ready() {
            ready.await;
        }
        let attempts = provider.count().clamp(1, 3);
        let idempotent = matches!(self.method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE);
        let headers = std::mem::take(&mut self.headers);
        let body = self.body.take();
        let mut last = None;
        for _ in 0..attempts {
            let base = provider.pick().ok_or_else(|| {
                Error::unavailable(format!("no instance of {} is available", provider.describe()))
            })?;
            let uri = self.uri(&base);
            let mut builder = http::Request::builder().method(self.method.clone()).uri(&uri);
            if let Some(h) = builder.headers_mut() {
                h.clone_from(&headers);
            }
            let req_body = match &body {
                Some((ct, bytes)) => {
                    builder = builder.header(CONTENT_TYPE, ct);
                    Body::full(bytes.clone())
                }
                None => Body::empty(),
            };
            let req = builder
                .body(req_body)
                .map_err(|e| Error::bad_request(format!("cannot build a request to {uri}: {e}")))?;
            match self.client.http.request(req).await {
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_success() {
                        return Ok(Reply { resp });
                    }
                    let bytes = resp.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
                    return Err(Error::from_body(status, &bytes));
                }
                Err(e) => {
                    let retry = e.is_connect() || idempotent;
                    tracing::debug!(%uri, error = %e, retry, "call failed");
                    last = Some(Error::unavailable(format!("cannot call {} {uri}: {e}", self.method)));
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::unavailable("the call was not attempted")))
    }
}

/// A successful answer (used by generated clients).
#[doc(hidden)]
pub struct Reply {
    resp: http::Response<hyper::body::Incoming>,
}

impl Reply {
    async fn bytes(self) -> Result<Bytes, Error> {
        self.resp
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes())
            .map_err(|e| Error::unavailable(format!("the response broke off: {e}")))
    }

    /// The body as JSON of `T`.
    pub(crate) async fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(StatusCode::BAD_GATEWAY, format!("the response is not the expected JSON: {e}"))
        })
    }

    /// No body expected.
    pub(crate) async fn empty(self) -> Result<(), Error> {
        self.bytes().await.map(|_| ())
    }

    /// The body as a streamed download.
    pub(crate) fn download(self) -> Result<FileDownload, Error> {
        let headers = self.resp.headers();
        let filename = headers
            .get(CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .and_then(disposition_filename)
            .unwrap_or_default();
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let len = http_body::Body::size_hint(self.resp.body()).exact();
        let body = Body::new(self.resp.into_body());
        Ok(FileDownload::from_body(filename, content_type, len, body))
    }
}
