//! One call as generated clients build it (path and query values, headers, a JSON or multipart
//! body) and the answer they read back.

use std::future::Future;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_DISPOSITION, CONTENT_TYPE};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::body::{disposition_filename, Body, FileDownload, UploadFile};
use crate::Error;

/// One call under construction (used by generated clients).
#[doc(hidden)]
pub struct Call<'a> {
    pub(super) client: &'a super::Client,
    pub(super) method: Method,
    pub(super) template: &'static str,
    path_params: Vec<(&'static str, String)>,
    query: Vec<(&'static str, String)>,
    pub(super) headers: HeaderMap,
    pub(super) body: Option<(HeaderValue, Bytes)>,
    files: Vec<(&'static str, UploadFile)>,
    /// Why the call cannot be sent (a body that cannot be encoded), answered by `send`.
    pub(super) failed: Option<Error>,
}

impl<'a> Call<'a> {
    pub(super) fn new(client: &'a super::Client, method: Method, template: &'static str) -> Self {
        Call {
            client,
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

    /// A path parameter.
    pub(crate) fn path(&mut self, name: &'static str, value: String) {
        self.path_params.push((name, value));
    }

    /// A query parameter (a text field of the multipart body when the call sends files).
    pub(crate) fn query(&mut self, name: &'static str, value: String) {
        self.query.push((name, value));
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

    /// Turns the files (and the scalars beside them) into a multipart body, if there are files.
    ///
    /// Written here rather than with a multipart crate: the two encoders on crates.io
    /// (common-multipart-rfc7578, mpart-async) write a file name into the part's header as
    /// given, so a name with a quote or a line break (one a gateway passes on from its own
    /// client) would forge headers; both also bring rand 0.8 and thiserror 1 into the build.
    pub(super) fn encode_files(&mut self) {
        if self.files.is_empty() {
            return;
        }
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

    /// The URI of the call on the instance at `base`.
    pub(super) fn uri(&self, base: &str) -> String {
        let mut path = String::with_capacity(base.len() + self.template.len() + 32);
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
            let start = path.len();
            form_urlencoded::Serializer::for_suffix(&mut path, start)
                .extend_pairs(self.query.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
        }
        path
    }
}

/// A successful answer (used by generated clients). Its body must arrive within what is left
/// of the attempt's timeout.
#[doc(hidden)]
pub struct Reply {
    pub(super) resp: http::Response<Body>,
    pub(super) deadline: tokio::time::Instant,
}

impl Reply {
    pub(super) async fn bytes(self) -> Result<Bytes, Error> {
        let mut collect = self.resp.into_body().collect();
        // A small body usually came with the head: then no timer is armed for it (and the
        // rare timer is boxed, so that it takes no room in every call's future).
        let at_once =
            std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut collect).poll(cx)))
                .await;
        let collected =
            match at_once {
                std::task::Poll::Ready(collected) => collected,
                std::task::Poll::Pending => {
                    match Box::pin(tokio::time::timeout_at(self.deadline, collect)).await {
                        Ok(collected) => collected,
                        Err(_) => return Err(Error::new(
                            StatusCode::GATEWAY_TIMEOUT,
                            "the response body did not arrive within the client timeout (GDD_CLIENT_TIMEOUT)",
                        )),
                    }
                }
            };
        collected
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

    /// The body as a streamed download (no timeout: a large file takes what it takes).
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
        Ok(FileDownload::from_body(filename, content_type, len, self.resp.into_body()))
    }
}
