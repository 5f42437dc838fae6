//! The request as binding sees it: the path parameters the router matched, the query string,
//! and the body, read once (within `GDD_READ_TIMEOUT`, at most `GDD_MAX_BODY_SIZE`) and taken
//! apart by its media type: an urlencoded form or multipart text fields add to the query's
//! values, multipart files wait for their parameter, anything else is kept for the JSON body.
//! Every failure is a 400 (413 for a body too large) naming the parameter.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::HeaderMap;

use crate::body::UploadFile;
use crate::deadline::Deadline;
use crate::error::Error;
use crate::request_id::{GeneratedId, Scanned, X_REQUEST_ID};

/// The request as the generated handler sees it.
#[doc(hidden)]
pub struct Request {
    parts: http::request::Parts,
    body: Option<crate::body::Body>,
    /// What the body was, once read; the body itself when it was neither a form nor multipart.
    read_as: ReadAs,
    path_params: Vec<(String, String)>,
    params: Vec<(String, String)>,
    files: Vec<(String, UploadFile)>,
    remote_addr: SocketAddr,
    request_id: Option<GeneratedId>,
    /// Whether the headers may hold a `traceparent` (the server's scan says when they do not).
    may_have_traceparent: bool,
    limits: BodyLimits,
    /// When it must be answered (`GDD_WRITE_TIMEOUT` after it arrived).
    deadline: std::time::Instant,
}

/// What a request body may take: `GDD_MAX_BODY_SIZE`, `GDD_READ_TIMEOUT`,
/// `GDD_MAX_FORM_PARTS`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    pub(crate) max_size: u64,
    pub(crate) read_timeout: Duration,
    pub(crate) max_parts: usize,
}

/// What a parameter binds to from its values, read in order of appearance (a scalar `T`,
/// `Option<T>` or `Vec<T>`): the request hands them over without knowing how they bind.
#[doc(hidden)]
pub trait FromValues: Sized {
    /// Binds the parameter `name` from `values`.
    fn from_values<'a>(name: &str, values: impl Iterator<Item = Cow<'a, str>>) -> Result<Self, Error>;
}

impl Request {
    pub(crate) fn new(
        req: http::Request<crate::body::Body>,
        path_params: Vec<(String, String)>,
        remote_addr: SocketAddr,
        scanned: Scanned,
        limits: BodyLimits,
        deadline: std::time::Instant,
    ) -> Self {
        let (parts, body) = req.into_parts();
        Self {
            parts,
            body: Some(body),
            read_as: ReadAs::Nothing,
            path_params,
            // The query string is read where a parameter is bound, without copying it; this
            // holds only the fields of a form or multipart body.
            params: Vec::new(),
            files: Vec::new(),
            remote_addr,
            request_id: scanned.generated,
            may_have_traceparent: scanned.traceparent,
            limits,
            deadline,
        }
    }

    /// The value of the path parameter `name`, percent-decoded.
    pub(crate) fn path_value(&self, name: &str) -> Option<&str> {
        self.path_params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Binds `name` from its values in the query string and in the form or multipart fields,
    /// in order of appearance; a value `V` reads that is not percent-encoded right is the
    /// error, whatever `V` makes of it.
    pub(crate) fn bind_values<V: FromValues>(&self, name: &str) -> Result<V, Error> {
        let query = self.parts.uri.query().unwrap_or_default();
        let bad_encoding = std::cell::Cell::new(false);
        let from_query = query_values(query, name).map(|v| {
            v.unwrap_or_else(|BadEncoding| {
                bad_encoding.set(true);
                Cow::Borrowed("")
            })
        });
        let form = match &self.read_as {
            ReadAs::Form(form) => form.as_str(),
            _ => "",
        };
        let from_form = query_values(form, name).map(|v| {
            v.unwrap_or_else(|BadEncoding| {
                bad_encoding.set(true);
                Cow::Borrowed("")
            })
        });
        // Most requests have no form: their values come from the query string alone, without
        // the chain's cost at each value (a single-valued parameter asks for a second one).
        let bound = if form.is_empty() && self.params.is_empty() {
            V::from_values(name, from_query)
        } else {
            let from_fields =
                self.params.iter().filter(|(k, _)| k == name).map(|(_, v)| Cow::Borrowed(v.as_str()));
            V::from_values(name, from_query.chain(from_form).chain(from_fields))
        };
        if bad_encoding.get() {
            return Err(bad_percent_encoding(name));
        }
        bound
    }

    /// Binds the header parameter `name` from the values of that header; a parameter of
    /// several values (`list`) takes them from each line and, split at commas, within one
    /// (OpenAPI's `simple` style: `X-Ids: 1,2`).
    pub(crate) fn bind_header<V: FromValues>(&self, name: &str, list: bool) -> Result<V, Error> {
        let mut values = Vec::new();
        for value in self.parts.headers.get_all(name) {
            let text = value.to_str().map_err(|_| {
                Error::bad_request(format!("the header `{name}` is not text: send it in visible ASCII"))
            })?;
            if list {
                values.extend(text.split(',').map(str::trim).filter(|v| !v.is_empty()).map(Cow::Borrowed));
            } else {
                values.push(Cow::Borrowed(text));
            }
        }
        V::from_values(name, values.into_iter())
    }

    /// Binds the cookie parameter `name` from the `Cookie` headers, percent-decoded.
    pub(crate) fn bind_cookie<V: FromValues>(&self, name: &str) -> Result<V, Error> {
        V::from_values(name, self.cookie(name).into_iter())
    }

    /// The cookie `name`, percent-decoded. A browser sends a name twice when the cookie was set
    /// for two paths, the most specific first: that one is the value.
    pub(crate) fn cookie(&self, name: &str) -> Option<Cow<'_, str>> {
        let (_, value) = self.cookies().find(|(k, _)| *k == name)?;
        Some(crate::vocab::decode_cookie_value(value))
    }

    /// The cookies the client sent, `name=value` pairs of its `Cookie` headers.
    pub(crate) fn cookies(&self) -> impl Iterator<Item = (&str, &str)> {
        self.parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .map(|(k, v)| {
                let v = v.trim();
                // A quoted value (RFC 6265 allows one) without its quotes.
                let unquoted = v.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
                (k.trim(), unquoted.unwrap_or(v))
            })
    }

    /// The request's head, as the client sent it.
    pub(crate) fn parts(&self) -> &http::request::Parts {
        &self.parts
    }

    /// The request headers, with the `X-Request-ID` doudou generated when the client sent none.
    pub(crate) fn headers(&self) -> HeaderMap {
        let mut headers = self.parts.headers.clone();
        if let Some(id) = &self.request_id {
            headers.insert(X_REQUEST_ID, id.header_value());
        }
        headers
    }

    /// The request's id (generated, or sent by the client), for the calls its handler makes.
    pub(crate) fn current_id(&self) -> Option<crate::request_id::CurrentId> {
        use crate::request_id::CurrentId;
        match &self.request_id {
            Some(id) => Some(CurrentId::Generated(*id)),
            None => self.parts.headers.get(X_REQUEST_ID).cloned().map(CurrentId::Given),
        }
    }

    /// The caller's trace context to pass on unchanged, when this process does not trace.
    pub(crate) fn passed_trace(&self) -> Option<Box<(http::HeaderValue, Option<http::HeaderValue>)>> {
        if !self.may_have_traceparent || crate::trace::enabled() {
            return None;
        }
        let parent = self.parts.headers.get(crate::trace::TRACEPARENT)?;
        Some(Box::new((parent.clone(), self.parts.headers.get(crate::trace::TRACESTATE).cloned())))
    }

    /// One request header, as the client sent it.
    pub(crate) fn header(&self, name: impl http::header::AsHeaderName) -> Option<&http::HeaderValue> {
        self.parts.headers.get(name)
    }

    /// When the request must be answered.
    pub(crate) fn deadline(&self) -> std::time::Instant {
        self.deadline
    }

    /// The peer's address.
    pub(crate) fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// The media type of the body, without parameters.
    fn media_type(&self) -> Option<&[u8]> {
        let value = self.parts.headers.get(CONTENT_TYPE)?.as_bytes();
        Some(media_type_of(value))
    }

    fn is_json(&self) -> bool {
        let Some(value) = self.parts.headers.get(CONTENT_TYPE) else { return false };
        // What clients send nearly always, compared at once before taking the value apart.
        if value.as_bytes() == b"application/json" {
            return true;
        }
        let m = media_type_of(value.as_bytes());
        m.eq_ignore_ascii_case(b"application/json")
            || m.len() > 5 && m[m.len() - 5..].eq_ignore_ascii_case(b"+json")
    }

    /// The whole body, at most `GDD_MAX_BODY_SIZE`, within `GDD_READ_TIMEOUT`. A body that came
    /// in one piece (the usual small JSON body) is handed on as it is, without a copy or an
    /// allocation.
    async fn read_body(&mut self) -> Result<Bytes, Error> {
        let Some(mut body) = self.body.take() else { return Ok(Bytes::new()) };
        let limit = self.limits.max_size;
        let mut deadline = Deadline::new(crate::deadline::now() + self.limits.read_timeout);
        let mut first: Option<Bytes> = None;
        let mut rest: Option<bytes::BytesMut> = None;
        let mut read: u64 = 0;
        std::future::poll_fn(|cx| loop {
            let frame = match http_body::Body::poll_frame(std::pin::Pin::new(&mut body), cx) {
                Poll::Ready(frame) => frame,
                Poll::Pending => {
                    std::task::ready!(deadline.poll_passed(cx));
                    return Poll::Ready(Err(Error::new(
                        http::StatusCode::REQUEST_TIMEOUT,
                        "the request body did not arrive within GDD_READ_TIMEOUT",
                    )));
                }
            };
            let Some(frame) = frame else { return Poll::Ready(Ok(())) };
            let frame =
                frame.map_err(|e| Error::bad_request(format!("cannot read the request body: {e}")))?;
            let Ok(data) = frame.into_data() else { continue }; // trailers
            read += data.len() as u64;
            if read > limit {
                return Poll::Ready(Err(too_large(limit)));
            }
            match (&mut first, &mut rest) {
                (None, _) => first = Some(data),
                (Some(head), None) => {
                    let mut joined = bytes::BytesMut::with_capacity(head.len() + data.len());
                    joined.extend_from_slice(head);
                    joined.extend_from_slice(&data);
                    rest = Some(joined);
                }
                (Some(_), Some(joined)) => joined.extend_from_slice(&data),
            }
        })
        .await?;
        Ok(match (first, rest) {
            (_, Some(joined)) => joined.freeze(),
            (first, None) => first.unwrap_or_default(),
        })
    }

    /// Whether a body is still to be read: most GET requests have none, and then await nothing.
    pub(crate) fn has_body(&self) -> bool {
        matches!(&self.body, Some(body) if !http_body::Body::is_end_stream(body))
    }

    /// Reads the body and takes it apart by its media type. A JSON or raw body is read in
    /// place; forms, rarer and with bigger futures, are boxed.
    pub(crate) async fn load_body(&mut self) -> Result<(), Error> {
        let form = match self.media_type() {
            Some(m) if m.eq_ignore_ascii_case(b"application/x-www-form-urlencoded") => Form::Urlencoded,
            Some(m) if m.eq_ignore_ascii_case(b"multipart/form-data") => Form::Multipart,
            _ => {
                self.read_as = ReadAs::Raw(self.read_body().await?);
                return Ok(());
            }
        };
        Box::pin(self.load_form(form)).await
    }

    async fn load_form(&mut self, form: Form) -> Result<(), Error> {
        match form {
            Form::Urlencoded => {
                // Kept whole and read where a parameter is bound, as the query string is: split
                // into pairs up front, a body of `a&a&a...` took some 40 times its size.
                let body = self.read_body().await?;
                let fields = body.split(|&b| b == b'&').filter(|pair| !pair.is_empty()).count();
                if fields > self.limits.max_parts {
                    return Err(too_many_parts(self.limits.max_parts));
                }
                let form = String::from_utf8(body.to_vec()).map_err(|_| {
                    Error::bad_request("the form body is not UTF-8: percent-encode its bytes")
                })?;
                self.read_as = ReadAs::Form(form);
            }
            Form::Multipart => {
                self.read_multipart().await?;
                self.read_as = ReadAs::Multipart;
            }
        }
        Ok(())
    }

    async fn read_multipart(&mut self) -> Result<(), Error> {
        let boundary = self
            .parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| multer::parse_boundary(v).ok())
            .ok_or_else(|| {
                Error::bad_request(
                    "a multipart/form-data body needs a boundary: multipart/form-data; boundary=...",
                )
            })?;
        let body = self.read_body().await?;
        let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
        let mut multipart = multer::Multipart::new(stream, boundary);
        let bad = |e: multer::Error| Error::bad_request(format!("malformed multipart body: {e}"));
        let mut fields = 0;
        while let Some(field) = multipart.next_field().await.map_err(bad)? {
            fields += 1;
            if fields > self.limits.max_parts {
                return Err(too_many_parts(self.limits.max_parts));
            }
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(str::to_owned) {
                // A file input left blank: no file, as a blank text input is no value.
                Some(filename) if filename.is_empty() => {
                    let bytes = field.bytes().await.map_err(bad)?;
                    if !bytes.is_empty() {
                        let file = UploadFile::new(filename, "application/octet-stream", bytes);
                        self.files.push((name, file));
                    }
                }
                Some(filename) => {
                    let content_type = field
                        .content_type()
                        .map_or_else(|| "application/octet-stream".to_owned(), ToString::to_string);
                    let bytes = field.bytes().await.map_err(bad)?;
                    self.files.push((name, UploadFile::new(filename, content_type, bytes)));
                }
                None => {
                    let text = field.text().await.map_err(bad)?;
                    self.params.push((name, text));
                }
            }
        }
        Ok(())
    }

    /// Whether the body was a multipart form.
    pub(crate) fn is_multipart(&self) -> bool {
        matches!(self.read_as, ReadAs::Multipart)
    }

    /// The uploaded files of the field `name`.
    pub(crate) fn take_files(&mut self, name: &str) -> Vec<UploadFile> {
        let (taken, kept) = std::mem::take(&mut self.files).into_iter().partition(|(k, _)| k == name);
        self.files = kept;
        taken.into_iter().map(|(_, f)| f).collect()
    }

    /// A multipart field no parameter is named after (the document declares no others).
    pub(crate) fn unexpected_field(&self, known: impl Fn(&str) -> bool) -> Option<Error> {
        if !self.is_multipart() {
            return None;
        }
        // Files no file parameter took: a scalar's name is the wrong kind of part.
        if let Some((name, _)) = self.files.iter().find(|(k, _)| known(k)) {
            return Some(file_where_text_is_expected(name));
        }
        let names = self.files.iter().map(|(k, _)| k).chain(self.params.iter().map(|(k, _)| k));
        names
            .filter(|name| !known(name))
            .map(|name| {
                Error::bad_request(format!(
                    "unexpected multipart field `{name}`: the method has no parameter of that name"
                ))
            })
            .next()
    }

    /// Why the scalar `name` did not bind, when it was sent as a file part.
    pub(crate) fn sent_as_file(&self, name: &str) -> Option<Error> {
        self.files.iter().any(|(k, _)| k == name).then(|| file_where_text_is_expected(name))
    }

    /// Why the file parameter `name` has no file, when it was sent as a text part.
    pub(crate) fn sent_as_text(&self, name: &str) -> Option<Error> {
        self.params.iter().any(|(k, _)| k == name).then(|| {
            Error::bad_request(format!(
                "the multipart field `{name}` is text, where the method takes a file: send it as a file part (Content-Disposition: form-data; name=\"{name}\"; filename=\"...\")"
            ))
        })
    }

    /// The JSON body for the parameter `name`: `None` when the request has none.
    pub(crate) fn take_json(&mut self, name: &str) -> Result<Option<Bytes>, Error> {
        let body = match &mut self.read_as {
            ReadAs::Nothing => return Ok(None),
            ReadAs::Form(_) | ReadAs::Multipart => {
                return Err(Error::bad_request(format!(
                    "the body `{name}` must be JSON, not a form: send Content-Type: application/json"
                )))
            }
            ReadAs::Raw(body) => std::mem::take(body),
        };
        if body.is_empty() {
            return Ok(None);
        }
        if !self.is_json() {
            return Err(Error::bad_request(format!(
                "the body `{name}` must be JSON: send Content-Type: application/json"
            )));
        }
        Ok(Some(body))
    }
}

fn file_where_text_is_expected(name: &str) -> Error {
    Error::bad_request(format!(
        "the multipart field `{name}` is a file, where the method takes a text value: send it without a filename"
    ))
}

/// The forms a body can be sent as.
#[derive(Clone, Copy)]
enum Form {
    Urlencoded,
    Multipart,
}

/// What a request's body turned out to be.
#[derive(Debug)]
enum ReadAs {
    /// No body, or not read yet.
    Nothing,
    /// An urlencoded form: its fields are values, found where a parameter is bound.
    Form(String),
    /// A multipart form: text fields are values, files wait for their parameter.
    Multipart,
    /// Anything else, kept as it came until the JSON body takes it.
    Raw(Bytes),
}

/// A `Content-Type` value's media type: without parameters or surrounding spaces.
fn media_type_of(value: &[u8]) -> &[u8] {
    let end = value.iter().position(|&b| b == b';').unwrap_or(value.len());
    value[..end].trim_ascii()
}

/// Percent-decodes `s` strictly: every `%` starts two hex digits and the bytes decoded are
/// UTF-8; else `None`, so that a bad value is refused rather than bound as something the
/// client did not send (`%ff` as U+FFFD, `%zz` as itself).
pub(crate) fn percent_decode_strict(s: &str) -> Option<Cow<'_, str>> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(at) = bytes[i..].iter().position(|&b| b == b'%') {
        let hex = bytes.get(i + at + 1..i + at + 3)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        i += at + 3;
    }
    percent_encoding::percent_decode_str(s).decode_utf8().ok()
}

/// A query value whose percent-encoding is invalid.
struct BadEncoding;

/// The values of `name` in a query string, decoded only where they need it (`%` or `+`).
fn query_values<'a>(
    query: &'a str,
    name: &'a str,
) -> impl Iterator<Item = Result<Cow<'a, str>, BadEncoding>> + 'a {
    let needs_decoding = |s: &str| s.bytes().any(|b| b == b'%' || b == b'+');
    let decode = move |s: &'a str| -> Result<Cow<'a, str>, BadEncoding> {
        if needs_decoding(s) {
            let spaced = s.replace('+', " ");
            percent_decode_strict(&spaced).map(|d| Cow::Owned(d.into_owned())).ok_or(BadEncoding)
        } else {
            Ok(Cow::Borrowed(s))
        }
    };
    // Split by bytes ('&' and '=' are ASCII, so every piece is still UTF-8): cheaper than a
    // string pattern for these short strings.
    let mut rest = Some(query);
    let pairs = std::iter::from_fn(move || {
        let unread = rest?;
        match unread.bytes().position(|b| b == b'&') {
            Some(amp) => {
                rest = Some(&unread[amp + 1..]);
                Some(&unread[..amp])
            }
            None => {
                rest = None;
                Some(unread)
            }
        }
    });
    pairs.filter(|pair| !pair.is_empty()).filter_map(move |pair| {
        let (key, value) = match pair.bytes().position(|b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, ""),
        };
        (key == name || needs_decoding(key) && decode(key).is_ok_and(|k| k == name)).then(|| decode(value))
    })
}

pub(crate) fn bad_percent_encoding(name: &str) -> Error {
    Error::bad_request(format!(
        "invalid percent-encoding in parameter `{name}`: each % must start two hex digits and the \
         decoded bytes must be UTF-8"
    ))
}

fn too_many_parts(limit: usize) -> Error {
    Error::new(
        http::StatusCode::PAYLOAD_TOO_LARGE,
        format!("the form has more than GDD_MAX_FORM_PARTS ({limit}) fields"),
    )
}

pub(crate) fn too_large(limit: u64) -> Error {
    Error::new(
        http::StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than GDD_MAX_BODY_SIZE ({limit} bytes)"),
    )
}

#[cfg(test)]
mod tests;
