//! One call as generated clients build it (path and query values, headers, a JSON or multipart
//! body) and the answer they read back.

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_DISPOSITION, CONTENT_TYPE};
use http::{HeaderMap, Method};
use serde::Serialize;

use crate::body::{disposition_filename, Body, FileDownload, UploadFile};
use crate::error::Error;
use crate::vocab::{pieces, Piece};

/// One call under construction (used by generated clients).
#[doc(hidden)]
pub struct Call<'a> {
    pub(super) client: &'a super::Client,
    pub(super) method: Method,
    pub(super) template: &'static str,
    path_params: Vec<(&'static str, String)>,
    /// The query parameters, form-encoded (`a=1&b=x`).
    query: String,
    pub(super) headers: HeaderMap,
    pub(super) body: Option<(HeaderValue, Bytes)>,
    files: Vec<(&'static str, UploadFile)>,
    /// Whether the method takes files (its body is then multipart).
    takes_files: bool,
    /// The cookie parameters, `a=1; b=2`.
    cookies: String,
    /// Whether the scalars go in an urlencoded form body rather than the query string.
    scalars_in_body: bool,
    /// Whether a 3xx answer is the value (a redirect the method answers), not an error.
    pub(super) accepts_redirects: bool,
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
            query: String::new(),
            headers: HeaderMap::new(),
            body: None,
            files: Vec::new(),
            cookies: String::new(),
            takes_files: false,
            scalars_in_body: false,
            accepts_redirects: false,
            failed: None,
        }
    }

    /// A path parameter.
    pub(crate) fn path(&mut self, name: &'static str, write: impl FnOnce(&mut String)) {
        let mut text = String::new();
        write(&mut text);
        self.path_params.push((name, text));
    }

    /// A query parameter (a text field of the multipart body when the call sends files).
    pub(crate) fn query(&mut self, name: &'static str, write: impl FnOnce(&mut String)) {
        if !self.query.is_empty() {
            self.query.push('&');
        }
        push_encoded(&mut self.query, name);
        self.query.push('=');
        // Written in place, and encoded only if it must be: a number is sent as it is written.
        let start = self.query.len();
        write(&mut self.query);
        if !self.query.as_bytes()[start..].iter().copied().all(is_unreserved) {
            let raw = self.query.split_off(start);
            self.query.extend(form_urlencoded::byte_serialize(raw.as_bytes()));
        }
    }

    /// Sends the scalars in an urlencoded form body (a multipart one with files), as the
    /// document says of a POST, PUT or PATCH without a JSON body: a password or a token stays
    /// out of the URL, and so out of access logs and proxies.
    pub(crate) fn scalars_in_body(&mut self) {
        self.scalars_in_body = true;
    }

    /// A header parameter; a value a header cannot hold fails the call, saying so.
    pub(crate) fn header(&mut self, name: &'static str, write: impl FnOnce(&mut String)) {
        let mut text = String::new();
        write(&mut text);
        let header = http::header::HeaderName::from_bytes(name.as_bytes());
        let value = crate::vocab::header_text(text);
        match (header, value) {
            (Ok(header), Some(value)) => {
                self.headers.insert(header, value);
            }
            _ => {
                self.failed = Some(Error::bad_request(format!(
                    "the header `{name}` cannot hold its value: a header is visible ASCII"
                )))
            }
        }
    }

    /// A cookie parameter, its value percent-encoded where a cookie cannot hold it.
    pub(crate) fn cookie(&mut self, name: &'static str, write: impl FnOnce(&mut String)) {
        let mut text = String::new();
        write(&mut text);
        if !self.cookies.is_empty() {
            self.cookies.push_str("; ");
        }
        self.cookies.push_str(name);
        self.cookies.push('=');
        self.cookies.push_str(&crate::vocab::encode_cookie_value(&text));
    }

    /// The headers the call sends, for an extractor's `send`.
    pub(crate) fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// Headers to send along (those that describe the request they came with, its length and
    /// host, are left out: this call has its own).
    pub(crate) fn headers(&mut self, headers: &HeaderMap) {
        use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING};
        // A header the call's own parameters set is theirs: not sent twice.
        let own: Vec<_> = self.headers.keys().cloned().collect();
        for (k, v) in headers {
            if ![CONTENT_LENGTH, TRANSFER_ENCODING, HOST, CONTENT_TYPE].contains(k) && !own.contains(k) {
                self.headers.append(k.clone(), v.clone());
            }
        }
    }

    /// The call fails with `error` rather than being sent.
    pub(crate) fn fail(&mut self, error: Error) {
        self.failed.get_or_insert(error);
    }

    /// The method takes files: its body is multipart even when none is given.
    pub(crate) fn takes_files(&mut self) {
        self.takes_files = true;
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

    /// Turns the files (and the scalars beside them) into a multipart body, if there are files;
    /// otherwise the scalars into a form body, if they go in the body.
    ///
    /// Written here rather than with a multipart crate: the two encoders on crates.io
    /// (common-multipart-rfc7578, mpart-async) write a file name into the part's header as
    /// given, so a name with a quote or a line break (one a gateway passes on from its own
    /// client) would forge headers; both also bring rand 0.8 and thiserror 1 into the build.
    pub(super) fn encode_body(&mut self) {
        if !self.cookies.is_empty() {
            match HeaderValue::try_from(std::mem::take(&mut self.cookies)) {
                Ok(cookies) => {
                    self.headers.append(http::header::COOKIE, cookies);
                }
                Err(_) => self.failed = Some(Error::bad_request("the cookies cannot be sent as a header")),
            }
        }
        if self.files.is_empty() && !self.takes_files {
            if self.scalars_in_body && self.body.is_none() && !self.query.is_empty() {
                let form = std::mem::take(&mut self.query);
                self.body =
                    Some((HeaderValue::from_static("application/x-www-form-urlencoded"), form.into()));
            }
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
        for (name, value) in form_urlencoded::parse(std::mem::take(&mut self.query).as_bytes()) {
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
        for piece in pieces(self.template) {
            let (name, catch_all) = match piece {
                Piece::Text(text) => {
                    path.push_str(text);
                    continue;
                }
                Piece::Param(name) => (name, false),
                // A catch-all keeps its slashes; each segment is encoded.
                Piece::CatchAll(name) => (name, true),
            };
            if let Some((_, v)) = self.path_params.iter().find(|(k, _)| *k == name) {
                for (i, segment) in v.split('/').enumerate() {
                    if i > 0 {
                        path.push_str(if catch_all { "/" } else { "%2F" });
                    }
                    if segment.bytes().all(|b| b == b'.') && !segment.is_empty() {
                        // `.` and `..` as they are would be dot-segments, which a proxy
                        // normalizes into another path.
                        path.push_str(&"%2E".repeat(segment.len()));
                    } else {
                        path.extend(percent_encoding::utf8_percent_encode(segment, PATH_SEGMENT));
                    }
                }
            }
        }
        if !self.query.is_empty() {
            path.push('?');
            path.push_str(&self.query);
        }
        path
    }
}

/// A successful answer as a generated client reads it: its head and whole body, or (for an
/// answer that streams, a download) the response with its body still to read.
#[doc(hidden)]
pub enum Received<'a> {
    /// The head and the whole body.
    Whole(&'a http::response::Parts, &'a [u8]),
    /// The response, its body unread.
    Streamed(http::Response<Body>),
}

/// The body of `resp` as a streamed download (no timeout: a large file takes what it takes).
pub(crate) fn download(resp: http::Response<Body>) -> FileDownload {
    let headers = resp.headers();
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
    let len = http_body::Body::size_hint(resp.body()).exact();
    FileDownload::from_body(filename, content_type, len, resp.into_body())
}

/// What a path segment's value must have encoded: all but RFC 3986's unreserved characters
/// (`APPLE-1` is sent as it is, not as `APPLE%2D1`).
const PATH_SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Whether form encoding leaves `byte` as it is.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'*' | b'-' | b'.' | b'_')
}

/// Appends `text` form-encoded.
fn push_encoded(out: &mut String, text: &str) {
    if text.bytes().all(is_unreserved) {
        out.push_str(text);
    } else {
        out.extend(form_urlencoded::byte_serialize(text.as_bytes()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(template: &'static str, value: &str) -> String {
        let client = super::super::Client::new("http://127.0.0.1:1");
        let mut call = Call::new(&client, Method::GET, template);
        call.path("v", |out| out.push_str(value));
        call.uri("")
    }

    #[test]
    fn path_values_encode_only_what_they_must() {
        assert_eq!(path_of("/stock/{v}", "APPLE-1.b_c~d"), "/stock/APPLE-1.b_c~d");
        assert_eq!(path_of("/stock/{v}", "a b/ü"), "/stock/a%20b%2F%C3%BC");
        // Dot-segments would be normalized away by a proxy: they are encoded.
        assert_eq!(path_of("/stock/{v}", ".."), "/stock/%2E%2E");
        assert_eq!(path_of("/files/{*v}", "a/../admin"), "/files/a/%2E%2E/admin");
        assert_eq!(path_of("/files/{*v}", "a/.b/c."), "/files/a/.b/c.");
    }
}
