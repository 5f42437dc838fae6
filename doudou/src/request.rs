//! Parameter binding: what the generated handlers read from a request.
//!
//! Scalars come from the query string, from an urlencoded form body or from multipart text
//! fields; path parameters bind by name; one JSON body; uploaded files. Every failure is a
//! 400 (413 for a body over `GDD_MAX_BODY_SIZE`) naming the parameter, before user code runs.

use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::CONTENT_TYPE;
use http::HeaderMap;
use serde::de::DeserializeOwned;

use crate::body::UploadFile;
use crate::deadline::Deadline;
use crate::server::{GeneratedId, X_REQUEST_ID};
use crate::Error;

/// A scalar that can be parsed from one query, form or path value.
pub trait FromParam: Sized {
    /// What the value should look like, for error messages.
    const EXPECTED: &'static str;
    /// Parses one value.
    fn from_param(value: &str) -> Option<Self>;
}

macro_rules! from_param {
    ($expected:literal: $($t:ty),*) => {$(
        impl FromParam for $t {
            const EXPECTED: &'static str = $expected;
            fn from_param(value: &str) -> Option<Self> { value.trim_ascii().parse().ok() }
        }
    )*};
}
from_param!("an unsigned integer": u8, u16, u32, u64, u128, usize);
from_param!("an integer": i8, i16, i32, i64, i128, isize);
from_param!("a number": f32, f64);
from_param!("a single character": char);

impl FromParam for bool {
    const EXPECTED: &'static str = "true or false";
    fn from_param(value: &str) -> Option<Self> {
        match value {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }
}

impl FromParam for String {
    const EXPECTED: &'static str = "text";
    fn from_param(value: &str) -> Option<Self> {
        Some(value.to_owned())
    }
}

/// A parameter bound from all values given under one name: a scalar (required), an
/// `Option` of one (optional) or a `Vec` of them (any number, `?id=1&id=2`).
pub trait FromParams: Sized {
    /// Binds `name` from its `values`, in order of appearance.
    fn from_params<'a>(name: &str, values: impl Iterator<Item = Cow<'a, str>>) -> Result<Self, Error>;
}

fn parse_one<T: FromParam>(name: &str, value: &str) -> Result<T, Error> {
    T::from_param(value).ok_or_else(|| {
        Error::bad_request(format!(
            "invalid value {value:?} for parameter `{name}`: expected {}",
            T::EXPECTED
        ))
    })
}

impl<T: FromParam> FromParams for T {
    fn from_params<'a>(name: &str, mut values: impl Iterator<Item = Cow<'a, str>>) -> Result<Self, Error> {
        match values.next() {
            Some(v) => parse_one(name, &v),
            None => Err(Error::bad_request(format!("missing parameter `{name}`"))),
        }
    }
}

impl<T: FromParam> FromParams for Option<T> {
    fn from_params<'a>(name: &str, mut values: impl Iterator<Item = Cow<'a, str>>) -> Result<Self, Error> {
        values.next().map(|v| parse_one(name, &v)).transpose()
    }
}

impl<T: FromParam> FromParams for Vec<T> {
    fn from_params<'a>(name: &str, values: impl Iterator<Item = Cow<'a, str>>) -> Result<Self, Error> {
        values.map(|v| parse_one(name, &v)).collect()
    }
}

/// The generated client's side of [`FromParams`]: the values to send under one name.
pub trait ToParams {
    /// Appends each value of `self` under `name`.
    fn to_params(&self, name: &str, out: &mut Vec<(String, String)>);
}

macro_rules! to_param {
    ($($t:ty),*) => {$(
        impl ToParams for $t {
            fn to_params(&self, name: &str, out: &mut Vec<(String, String)>) {
                out.push((name.to_owned(), self.to_string()));
            }
        }
    )*};
}
to_param!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, char, bool, String);

impl<T: ToParams> ToParams for Option<T> {
    fn to_params(&self, name: &str, out: &mut Vec<(String, String)>) {
        if let Some(v) = self {
            v.to_params(name, out);
        }
    }
}

impl<T: ToParams> ToParams for Vec<T> {
    fn to_params(&self, name: &str, out: &mut Vec<(String, String)>) {
        for v in self {
            v.to_params(name, out);
        }
    }
}

/// The request as the generated handler sees it.
#[doc(hidden)]
pub struct Request {
    parts: http::request::Parts,
    body: Option<crate::body::Body>,
    path_params: Vec<(String, String)>,
    params: Vec<(String, String)>,
    files: Vec<(String, UploadFile)>,
    remote_addr: SocketAddr,
    request_id: Option<GeneratedId>,
    max_body: u64,
    read_timeout: Duration,
}

impl Request {
    pub(crate) fn new(
        req: http::Request<crate::body::Body>,
        path_params: Vec<(String, String)>,
        remote_addr: SocketAddr,
        request_id: Option<GeneratedId>,
        max_body: u64,
        read_timeout: Duration,
    ) -> Self {
        let (parts, body) = req.into_parts();
        Self {
            parts,
            body: Some(body),
            path_params,
            // The query string is read where a parameter is bound, without copying it; this
            // holds only the fields of a form or multipart body.
            params: Vec::new(),
            files: Vec::new(),
            remote_addr,
            request_id,
            max_body,
            read_timeout,
        }
    }

    /// A path parameter.
    pub fn path<T: FromParam>(&self, name: &str) -> Result<T, Error> {
        let value = self
            .path_params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| Error::bad_request(format!("missing path parameter `{name}`")))?;
        parse_one(name, value)
    }

    /// A query, form or multipart-text parameter.
    pub fn param<T: FromParams>(&self, name: &str) -> Result<T, Error> {
        let query = self.parts.uri.query().unwrap_or_default();
        let bad_encoding = std::cell::Cell::new(false);
        let from_query = query_values(query, name).map(|v| {
            v.unwrap_or_else(|BadEncoding| {
                bad_encoding.set(true);
                Cow::Borrowed("")
            })
        });
        let from_body = self.params.iter().filter(|(k, _)| k == name).map(|(_, v)| Cow::Borrowed(v.as_str()));
        let bound = T::from_params(name, from_query.chain(from_body));
        if bad_encoding.get() {
            return Err(bad_percent_encoding(name));
        }
        bound
    }

    /// The request headers, with the `X-Request-ID` doudou generated when the client sent none.
    pub fn headers(&self) -> HeaderMap {
        let mut headers = self.parts.headers.clone();
        if let Some(id) = &self.request_id {
            headers.insert(X_REQUEST_ID, id.header_value());
        }
        headers
    }

    /// One request header, as the client sent it.
    pub(crate) fn header(&self, name: impl http::header::AsHeaderName) -> Option<&http::HeaderValue> {
        self.parts.headers.get(name)
    }

    /// The peer's address.
    pub fn remote_addr(&self) -> SocketAddr {
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
        let limit = self.max_body;
        let mut deadline = Deadline::new(std::time::Instant::now() + self.read_timeout);
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

    /// Adds the fields of an `application/x-www-form-urlencoded` body to the parameters;
    /// any other body is left unread.
    pub fn load_form(&mut self) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        let has_body = self.body.as_ref().is_some_and(|b| !http_body::Body::is_end_stream(b));
        let is_form = has_body
            && self
                .media_type()
                .is_some_and(|m| m.eq_ignore_ascii_case(b"application/x-www-form-urlencoded"));
        // Forms are rare on the routes that accept them (most send a query string), so their
        // reading is boxed and the handler future that awaits this stays small.
        let reading: Option<BoxFuture<'_, Result<(), Error>>> = is_form.then(|| {
            Box::pin(async move {
                let body = self.read_body().await?;
                self.params.extend(form_urlencoded::parse(&body).into_owned());
                Ok(())
            }) as BoxFuture<'_, _>
        });
        async move {
            match reading {
                Some(reading) => reading.await,
                None => Ok(()),
            }
        }
    }

    /// Reads a `multipart/form-data` body: files by field name, text fields as parameters.
    /// A field not in `fields` is refused, as the document declares no others.
    pub fn load_multipart<'a>(&'a mut self, fields: &'a [&'a str]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.read_multipart(fields))
    }

    async fn read_multipart(&mut self, fields: &[&str]) -> Result<(), Error> {
        let boundary = self
            .parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| multer::parse_boundary(v).ok())
            .ok_or_else(|| {
                Error::bad_request(
                    "expected a multipart/form-data body (Content-Type: multipart/form-data; boundary=...)",
                )
            })?;
        let body = self.read_body().await?;
        let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
        let mut multipart = multer::Multipart::new(stream, boundary);
        let bad = |e: multer::Error| Error::bad_request(format!("malformed multipart body: {e}"));
        while let Some(field) = multipart.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            if !fields.contains(&name.as_str()) {
                return Err(Error::bad_request(format!(
                    "unexpected multipart field `{name}`; expected one of: {}",
                    fields.join(", ")
                )));
            }
            match field.file_name().map(str::to_owned) {
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

    fn take_files(&mut self, name: &str) -> Vec<UploadFile> {
        let (taken, kept) = std::mem::take(&mut self.files).into_iter().partition(|(k, _)| k == name);
        self.files = kept;
        taken.into_iter().map(|(_, f)| f).collect()
    }

    /// A required uploaded file.
    pub fn file(&mut self, name: &str) -> Result<UploadFile, Error> {
        self.file_opt(name)?.ok_or_else(|| Error::bad_request(format!("missing file `{name}`")))
    }

    /// An optional uploaded file.
    pub fn file_opt(&mut self, name: &str) -> Result<Option<UploadFile>, Error> {
        let mut files = self.take_files(name);
        if files.len() > 1 {
            return Err(Error::bad_request(format!("expected one file `{name}`, got {}", files.len())));
        }
        Ok(files.pop())
    }

    /// Every uploaded file of a field.
    pub fn files(&mut self, name: &str) -> Result<Vec<UploadFile>, Error> {
        Ok(self.take_files(name))
    }

    async fn json_bytes(&mut self, name: &str) -> Result<Option<Bytes>, Error> {
        let is_json = self.is_json();
        let body = self.read_body().await?;
        if body.is_empty() {
            return Ok(None);
        }
        if !is_json {
            return Err(Error::bad_request(format!(
                "the body `{name}` must be JSON: send Content-Type: application/json"
            )));
        }
        Ok(Some(body))
    }

    /// A required JSON body.
    pub async fn json<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, Error> {
        self.json_opt(name).await?.ok_or_else(|| Error::bad_request(format!("missing JSON body `{name}`")))
    }

    /// An optional JSON body: an empty body is `None`.
    pub async fn json_opt<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, Error> {
        let Some(body) = self.json_bytes(name).await? else { return Ok(None) };
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| Error::bad_request(format!("invalid JSON body `{name}`: {e}")))
    }
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

pub(crate) fn too_large(limit: u64) -> Error {
    Error::new(
        http::StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than GDD_MAX_BODY_SIZE ({limit} bytes)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_content_type(value: &'static str) -> Request {
        let req = http::Request::post("/x")
            .header(CONTENT_TYPE, value)
            .body(crate::body::Body::full(&b"{}"[..]))
            .expect("request");
        Request::new(req, Vec::new(), ([127, 0, 0, 1], 1).into(), None, 1024, Duration::from_secs(1))
    }

    #[test]
    fn json_bodies_are_recognised_by_media_type() {
        for json in [
            "application/json",
            "application/json; charset=utf-8",
            "  Application/JSON ;charset=utf-8",
            "application/problem+json",
            "application/vnd.api+JSON; v=2",
        ] {
            assert!(with_content_type(json).is_json(), "{json}");
        }
        for other in ["text/plain", "application/jsonx", "application/x-www-form-urlencoded", "json", ""] {
            assert!(!with_content_type(other).is_json(), "{other}");
        }
    }

    #[test]
    fn query_values_decode_only_when_needed() {
        let q = "id=7&name=a%20b&name=c+d&x=&%69d=8&empty";
        let values = |name| query_values(q, name).map(|v| v.ok()).collect::<Option<Vec<_>>>();
        let ids = values("id").expect("valid");
        assert_eq!(ids, vec![Cow::Borrowed("7"), Cow::<str>::Owned("8".into())]);
        assert!(matches!(ids[0], Cow::Borrowed(_)));
        assert_eq!(values("name"), Some(vec![Cow::Borrowed("a b"), Cow::Borrowed("c d")]));
        assert_eq!(values("x"), Some(vec![Cow::Borrowed("")]));
        assert_eq!(values("empty"), Some(vec![Cow::Borrowed("")]));
        assert_eq!(query_values(q, "nope").count(), 0);
    }

    #[test]
    fn percent_decoding_is_strict() {
        assert_eq!(percent_decode_strict("a%20b%C3%A9").as_deref(), Some("a bé"));
        assert_eq!(percent_decode_strict("plain").as_deref(), Some("plain"));
        for bad in ["%ff%fe", "%zz", "%", "a%2", "%C3"] {
            assert_eq!(percent_decode_strict(bad), None, "{bad}");
        }
        assert!(query_values("x=%zz", "x").all(|v| v.is_err()));
    }

    #[test]
    fn scalars_options_and_vecs_bind() {
        let vals = || ["7", "8"].into_iter().map(Cow::Borrowed);
        assert_eq!(u64::from_params("id", vals()).ok(), Some(7));
        assert_eq!(Vec::<u64>::from_params("id", vals()).ok(), Some(vec![7, 8]));
        assert_eq!(Option::<u64>::from_params("id", std::iter::empty()).ok(), Some(None));
        let missing = u64::from_params("id", std::iter::empty()).expect_err("missing");
        assert_eq!(missing.message(), "missing parameter `id`");
        let bad = u64::from_params("id", std::iter::once(Cow::Borrowed("abc"))).expect_err("bad");
        assert_eq!(bad.status(), http::StatusCode::BAD_REQUEST);
        assert!(bad.message().contains("`id`") && bad.message().contains("abc"));
        assert_eq!(bool::from_params("on", std::iter::once(Cow::Borrowed("1"))).ok(), Some(true));
    }
}
