//! Answers beyond 200-with-JSON: another status ([`Created`], [`Status`], [`Redirect`]),
//! response headers and cookies ([`WithHeaders`], [`SetCookie`]), and bodies of another media
//! type ([`Raw`], [`Text`]). Each is typed, so the handler, the generated client and the
//! document agree on what is answered: the client reads the status's value and its headers
//! back, the document lists the status, the headers and the media type.

use std::fmt;
use std::marker::PhantomData;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE, LOCATION};
use http::{Response, StatusCode};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use super::headers;
use super::Answer;
use crate::body::Body;
use crate::client::Received;
use crate::error::Error;
use crate::openapi::{Operation, Success};
use crate::reply;

/// `status` on a successful response; an error's keeps its own.
fn with_status(mut resp: Response<Body>, status: StatusCode) -> Response<Body> {
    if resp.status().is_success() {
        *resp.status_mut() = status;
    }
    resp
}

/// Sets `Location: location` on a successful response, or answers 500 if it cannot be a header.
fn with_location(mut resp: Response<Body>, location: &str) -> Response<Body> {
    match crate::vocab::header_text(location.to_owned()) {
        Some(value) => {
            resp.headers_mut().insert(LOCATION, value);
            resp
        }
        None => reply::error(&Error::internal(format!(
            "the answer's Location {location:?} is not visible ASCII: percent-encode it"
        ))),
    }
}

/// The `Location` of an answer the client reads.
fn location_of(received: &Received<'_>) -> Result<String, String> {
    let headers = match received {
        Received::Whole(parts, _) => &parts.headers,
        Received::Streamed(resp) => resp.headers(),
    };
    let value = headers.get(LOCATION).ok_or("has no Location header")?;
    value.to_str().map(str::to_owned).map_err(|_| "has a Location that is not text".into())
}

fn location_schema() -> serde_json::Value {
    json!({ "type": "string", "format": "uri-reference" })
}

/// The reason phrase of `code` (`Accepted`), or `otherwise`.
fn reason(code: u16, otherwise: &'static str) -> &'static str {
    StatusCode::from_u16(code).ok().and_then(|s| s.canonical_reason()).unwrap_or(otherwise)
}

/// 201 Created: the new resource `value`, and its URL in the `Location` header.
///
/// ```
/// # use doudou::Created;
/// # fn f(user: u64) -> Created<u64> {
/// Created::new(format!("/users/{user}"), user)
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created<T> {
    location: String,
    value: T,
}

impl<T> Created<T> {
    /// `value`, created at `location` (a path such as `/users/42`, or a URL).
    pub fn new(location: impl Into<String>, value: T) -> Self {
        Self { location: location.into(), value }
    }

    /// Where the resource was created.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The resource.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The resource, the location dropped.
    pub fn into_value(self) -> T {
        self.value
    }
}

impl<T: Answer> Answer for Created<T> {
    const STREAMED: bool = T::STREAMED;

    fn reply(result: Result<Self, Error>) -> Response<Body> {
        match result {
            Ok(Created { location, value }) => {
                let resp = with_status(T::reply(Ok(value)), StatusCode::CREATED);
                if resp.status() == StatusCode::CREATED {
                    with_location(resp, &location)
                } else {
                    resp
                }
            }
            Err(e) => T::reply(Err(e)),
        }
    }

    fn describe(op: &mut Operation<'_>) -> Success {
        T::describe(op).status(201, "Created").header(
            "Location",
            location_schema(),
            true,
            "Where the new resource is",
        )
    }

    fn read(received: Received<'_>) -> Result<Self, String> {
        let location = location_of(&received)?;
        Ok(Created { location, value: T::read(received)? })
    }
}

/// A status code as a type, for the compiler to check that a [`Status`] or a [`Redirect`] is
/// given one it can answer with.
#[doc(hidden)]
pub struct Code<const CODE: u16>;

/// A 2xx status a [`Status`] can answer with.
#[diagnostic::on_unimplemented(
    message = "`Status<{Self}>` is not a success status doudou answers with",
    label = "a 2xx status other than 204",
    note = "`Status` takes 200, 201, 202, 203, 206, 207, 208 or 226; answer `()` for 204 and `Redirect` for 3xx"
)]
#[doc(hidden)]
pub trait SuccessCode {}

/// A 3xx status a [`Redirect`] can answer with.
#[diagnostic::on_unimplemented(
    message = "`Redirect<{Self}>` is not a redirect status",
    label = "not 301, 302, 303, 307 or 308",
    note = "`Redirect` takes 301, 302, 303 (the default), 307 or 308"
)]
#[doc(hidden)]
pub trait RedirectCode {}

macro_rules! codes {
    ($trait:ident: $($code:literal),*) => {$(impl $trait for Code<$code> {})*};
}
codes!(SuccessCode: 200, 201, 202, 203, 206, 207, 208, 226);
codes!(RedirectCode: 301, 302, 303, 307, 308);

/// A 2xx status of your choice (`Status<202, Job>` is 202 Accepted with a `Job`; `Status<202>`
/// has no body). Use [`Created`] for 201 (it carries the `Location`) and `()` for 204; 205
/// (which has no body) and any other status is a compile error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status<const CODE: u16, T = ()>(pub T);

impl<const CODE: u16, T: Answer> Answer for Status<CODE, T>
where
    Code<CODE>: SuccessCode,
{
    const STREAMED: bool = T::STREAMED;

    fn reply(result: Result<Self, Error>) -> Response<Body> {
        let resp = T::reply(result.map(|s| s.0));
        match StatusCode::from_u16(CODE) {
            Ok(status) => with_status(resp, status),
            Err(_) => resp,
        }
    }

    fn describe(op: &mut Operation<'_>) -> Success {
        let description = reason(CODE, "Success");
        let mut success = T::describe(op);
        // `()` describes itself as 204 without a body: the status is this one.
        success.status = CODE;
        success.description = description.to_owned();
        success
    }

    fn read(received: Received<'_>) -> Result<Self, String> {
        T::read(received).map(Status)
    }
}

/// A redirect to `location`: 303 See Other by default (after a POST, "see the result there"),
/// or `Redirect<301>`, `<302>`, `<307>`, `<308>`. The generated client does not follow it: it
/// returns the `Redirect`, whose [`location`](Redirect::location) says where to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect<const CODE: u16 = 303> {
    location: String,
}

impl<const CODE: u16> Redirect<CODE> {
    /// A redirect to `location` (a path such as `/orders/7`, or a URL).
    pub fn to(location: impl Into<String>) -> Self {
        Self { location: location.into() }
    }

    /// Where it redirects to.
    pub fn location(&self) -> &str {
        &self.location
    }
}

impl<const CODE: u16> Answer for Redirect<CODE>
where
    Code<CODE>: RedirectCode,
{
    const REDIRECT: bool = true;

    fn reply(result: Result<Self, Error>) -> Response<Body> {
        match result {
            Ok(redirect) => {
                let mut resp = Response::new(Body::empty());
                *resp.status_mut() = StatusCode::from_u16(CODE).unwrap_or(StatusCode::SEE_OTHER);
                with_location(resp, &redirect.location)
            }
            Err(e) => reply::error(&e),
        }
    }

    fn describe(_: &mut Operation<'_>) -> Success {
        let description = reason(CODE, "Redirect");
        Success::new(CODE, description).header("Location", location_schema(), true, "Where to go instead")
    }

    fn read(received: Received<'_>) -> Result<Self, String> {
        Ok(Self { location: location_of(&received)? })
    }
}

/// An answer with response headers: `value` (any answer) and `headers`, a struct whose fields
/// are the headers, named as serde names them (so `#[serde(rename_all = "kebab-case")]` makes
/// `cache_control` the `cache-control` header). A field is a header's text: a string, a
/// number, a `bool`, an `Option` of one (no header when `None`), or a `Vec` (the header once
/// per item, as `Set-Cookie` is sent). The client reads them back; the document lists them.
///
/// ```
/// #[doudou::model]
/// #[serde(rename_all = "kebab-case")]
/// pub struct Caching {
///     pub cache_control: String,
///     pub etag: String,
///     #[serde(default)]
///     pub set_cookie: Vec<doudou::SetCookie>,
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithHeaders<A, H> {
    /// The answer.
    pub value: A,
    /// Its headers.
    pub headers: H,
}

impl<A, H> WithHeaders<A, H> {
    /// `value` answered with `headers`.
    pub fn new(value: A, headers: H) -> Self {
        Self { value, headers }
    }
}

impl<A: Answer, H: Serialize + DeserializeOwned + JsonSchema + Send + 'static> Answer for WithHeaders<A, H> {
    const STREAMED: bool = A::STREAMED;
    const REDIRECT: bool = A::REDIRECT;

    fn reply(result: Result<Self, Error>) -> Response<Body> {
        match result {
            Ok(WithHeaders { value, headers }) => {
                let mut resp = A::reply(Ok(value));
                if !resp.status().is_client_error() && !resp.status().is_server_error() {
                    if let Err(e) = headers::write(&headers, resp.headers_mut()) {
                        return reply::error(&e);
                    }
                }
                resp
            }
            Err(e) => A::reply(Err(e)),
        }
    }

    fn describe(op: &mut Operation<'_>) -> Success {
        let mut success = A::describe(op);
        success.headers.extend(op.header_schemas::<H>());
        success
    }

    fn read(received: Received<'_>) -> Result<Self, String> {
        let found = match &received {
            Received::Whole(parts, _) => headers::read(&parts.headers),
            Received::Streamed(resp) => headers::read(resp.headers()),
        };
        let headers = found.map_err(|e| format!("has headers that do not fit: {e}"))?;
        Ok(WithHeaders { value: A::read(received)?, headers })
    }
}

/// The media type of a [`Raw`] or [`Text`] body, declared once as a type so that the document
/// states it: `struct Png; impl doudou::MediaType for Png { const MEDIA_TYPE: &'static str =
/// "image/png"; }`.
pub trait MediaType: Send + Sync + 'static {
    /// The media type, e.g. `image/png`.
    const MEDIA_TYPE: &'static str;
}

/// `application/octet-stream`: bytes of no stated kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OctetStream;
impl MediaType for OctetStream {
    const MEDIA_TYPE: &'static str = "application/octet-stream";
}

/// `text/plain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlainText;
impl MediaType for PlainText {
    const MEDIA_TYPE: &'static str = "text/plain";
}

/// `text/html`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Html;
impl MediaType for Html {
    const MEDIA_TYPE: &'static str = "text/html";
}

/// A body of bytes answered as they are, of the media type `M` (`application/octet-stream`
/// unless said): an image, a PDF, a CSV export. (`Vec<u8>` answers a JSON array of numbers.)
pub struct Raw<M = OctetStream> {
    bytes: Bytes,
    media: PhantomData<fn() -> M>,
}

impl<M> Raw<M> {
    /// The body `bytes`.
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Self { bytes: bytes.into(), media: PhantomData }
    }

    /// The bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The bytes, owned.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }
}

impl<M> fmt::Debug for Raw<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Raw").field("len", &self.bytes.len()).finish()
    }
}

impl<M> Clone for Raw<M> {
    fn clone(&self) -> Self {
        Self::new(self.bytes.clone())
    }
}

impl<M> PartialEq for Raw<M> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

fn body_of<M: MediaType>(bytes: Bytes, charset: bool) -> Response<Body> {
    let mut resp = Response::new(Body::full(bytes));
    let media = if charset { format!("{}; charset=utf-8", M::MEDIA_TYPE) } else { M::MEDIA_TYPE.to_owned() };
    let value = HeaderValue::try_from(media).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    resp.headers_mut().insert(CONTENT_TYPE, value);
    resp
}

fn whole<'r>(received: &'r Received<'_>) -> Result<&'r [u8], String> {
    match received {
        Received::Whole(_, bytes) => Ok(bytes),
        Received::Streamed(_) => Err("was streamed, not read whole".into()),
    }
}

impl<M: MediaType> Answer for Raw<M> {
    fn reply(result: Result<Self, Error>) -> Response<Body> {
        match result {
            Ok(raw) => body_of::<M>(raw.bytes, false),
            Err(e) => reply::error(&e),
        }
    }

    fn describe(_: &mut Operation<'_>) -> Success {
        Success::new(200, "OK").content(M::MEDIA_TYPE, json!({ "type": "string", "format": "binary" }))
    }

    fn read(received: Received<'_>) -> Result<Self, String> {
        whole(&received).map(|bytes| Self::new(Bytes::copy_from_slice(bytes)))
    }
}

/// Text answered as it is, of the media type `M` (`text/plain` unless said), in UTF-8.
pub struct Text<M = PlainText> {
    text: String,
    media: PhantomData<fn() -> M>,
}

impl<M> Text<M> {
    /// The body `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), media: PhantomData }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.text
    }
}

impl<M> fmt::Debug for Text<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Text").field(&self.text).finish()
    }
}

impl<M> Clone for Text<M> {
    fn clone(&self) -> Self {
        Self::new(self.text.clone())
    }
}

impl<M> PartialEq for Text<M> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl<M: MediaType> Answer for Text<M> {
    fn reply(result: Result<Self, Error>) -> Response<Body> {
        match result {
            Ok(text) => body_of::<M>(Bytes::from(text.text), true),
            Err(e) => reply::error(&e),
        }
    }

    fn describe(_: &mut Operation<'_>) -> Success {
        Success::new(200, "OK").content(M::MEDIA_TYPE, json!({ "type": "string" }))
    }

    fn read(received: Received<'_>) -> Result<Self, String> {
        let bytes = whole(&received)?;
        let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_owned())?;
        Ok(Self::new(text))
    }
}

/// A cookie to set, for a `set-cookie` field of [`WithHeaders`]' headers. Safe by default:
/// `HttpOnly` (scripts cannot read it), `Secure` (sent over HTTPS only; browsers accept it from
/// `http://localhost` too) and `SameSite=Lax`, each of which can be relaxed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    name: String,
    value: String,
    path: Option<String>,
    domain: Option<String>,
    max_age: Option<u64>,
    http_only: bool,
    secure: bool,
    same_site: Option<&'static str>,
}

impl SetCookie {
    /// The cookie `name=value`; a value with characters a cookie cannot hold (spaces, `;`,
    /// `,`, quotes, non-ASCII) is percent-encoded, as the generated client's cookie
    /// parameters decode it.
    pub fn new(name: impl Into<String>, value: impl AsRef<str>) -> Self {
        let name: String = name.into();
        Self {
            // A name is a token: what could end it (`=`, `;`, spaces) is encoded.
            name: crate::vocab::encode_cookie_value(&name).replace('=', "%3D"),
            value: crate::vocab::encode_cookie_value(value.as_ref()),
            path: None,
            domain: None,
            max_age: None,
            http_only: true,
            secure: true,
            same_site: Some("Lax"),
        }
    }

    /// Sent only under `path` (a `;` or a control character, which would start another
    /// attribute, is left out).
    pub fn path(mut self, path: impl AsRef<str>) -> Self {
        self.path = Some(attribute_value(path.as_ref()));
        self
    }

    /// Sent to `domain` and its subdomains (a `;` or a control character is left out).
    pub fn domain(mut self, domain: impl AsRef<str>) -> Self {
        self.domain = Some(attribute_value(domain.as_ref()));
        self
    }

    /// Kept for `max_age`; zero removes the cookie.
    pub fn max_age(mut self, max_age: std::time::Duration) -> Self {
        self.max_age = Some(max_age.as_secs());
        self
    }

    /// Readable by the page's scripts (no `HttpOnly`).
    pub fn readable_by_scripts(mut self) -> Self {
        self.http_only = false;
        self
    }

    /// Sent over plain HTTP too (no `Secure`).
    pub fn insecure(mut self) -> Self {
        self.secure = false;
        self
    }

    /// `SameSite=Strict`: not sent on any request from another site.
    pub fn same_site_strict(mut self) -> Self {
        self.same_site = Some("Strict");
        self
    }

    /// `SameSite=None` (which browsers take only with `Secure`): sent on requests from other
    /// sites too.
    pub fn same_site_none(mut self) -> Self {
        self.same_site = Some("None");
        self
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cookie's value, percent-decoded.
    pub fn value(&self) -> String {
        crate::vocab::decode_cookie_value(&self.value).into_owned()
    }
}

/// `value` without what would end a cookie attribute or could not be sent.
fn attribute_value(value: &str) -> String {
    value.chars().filter(|c| *c != ';' && c.is_ascii() && !c.is_ascii_control()).collect()
}

impl fmt::Display for SetCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name, self.value)?;
        if let Some(path) = &self.path {
            write!(f, "; Path={path}")?;
        }
        if let Some(domain) = &self.domain {
            write!(f, "; Domain={domain}")?;
        }
        if let Some(max_age) = self.max_age {
            write!(f, "; Max-Age={max_age}")?;
        }
        if self.secure {
            f.write_str("; Secure")?;
        }
        if self.http_only {
            f.write_str("; HttpOnly")?;
        }
        if let Some(same_site) = self.same_site {
            write!(f, "; SameSite={same_site}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for SetCookie {
    type Err = String;

    fn from_str(header: &str) -> Result<Self, String> {
        let mut attributes = header.split(';').map(str::trim);
        let (name, value) = attributes
            .next()
            .and_then(|pair| pair.split_once('='))
            .ok_or_else(|| format!("{header:?} is not a Set-Cookie value (name=value; ...)"))?;
        let mut cookie = SetCookie {
            name: name.trim().to_owned(),
            value: value.trim().to_owned(),
            path: None,
            domain: None,
            max_age: None,
            http_only: false,
            secure: false,
            same_site: None,
        };
        for attribute in attributes {
            let (key, value) = attribute.split_once('=').unwrap_or((attribute, ""));
            match key.to_ascii_lowercase().as_str() {
                "path" => cookie.path = Some(value.to_owned()),
                "domain" => cookie.domain = Some(value.to_owned()),
                "max-age" => cookie.max_age = value.parse().ok(),
                "secure" => cookie.secure = true,
                "httponly" => cookie.http_only = true,
                "samesite" => {
                    cookie.same_site =
                        ["Strict", "Lax", "None"].into_iter().find(|s| s.eq_ignore_ascii_case(value))
                }
                _ => {}
            }
        }
        Ok(cookie)
    }
}

impl Serialize for SetCookie {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SetCookie {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for SetCookie {
    fn schema_name() -> String {
        "SetCookie".into()
    }

    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            metadata: Some(Box::new(schemars::schema::Metadata {
                description: Some("A cookie: name=value; attributes".into()),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}
