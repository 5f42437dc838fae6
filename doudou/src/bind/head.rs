//! Your own extractors: a parameter type that binds itself from the request head (an
//! authenticated caller, a tenant, a locale), says what it reads in the document (headers,
//! cookies, a security scheme) and what the generated client sends for it.
//!
//! Implement [`FromHead`] for the type and take it as a parameter of any method: the compiler
//! picks it as it picks every other kind. [`Bearer`] is one, built in.

use std::borrow::Cow;
use std::net::SocketAddr;

use http::header::AUTHORIZATION;
use http::{HeaderMap, Method, Uri};
use serde_json::{json, Value};

use super::body::FromRequest;
use super::NoBody;
use crate::client::Call;
use crate::error::Error;
use crate::openapi::Operation;
use crate::request::Request;

/// A parameter read from the request head, for your own types: an authenticated caller, a
/// tenant, a locale. `from_head` runs before the method; its `Err` is the answer (a 401 for
/// missing credentials, say), and the method does not run.
///
/// The same type is what the generated client takes for the parameter: [`send`](Self::send)
/// puts it back in the request's headers, so a service that received a caller can pass it on
/// to the next service as it is. Work that needs I/O (asking an identity provider) belongs in
/// a tower layer that puts its result in the request's extensions, where `from_head` finds it
/// ([`Head::extensions`]).
///
/// ```
/// use doudou::{Error, FromHead, Head, HeadDoc, HeaderMap, SecurityScheme};
///
/// /// Who calls, from `Authorization: Bearer <token>`.
/// pub struct Caller {
///     pub name: String,
///     token: String,
/// }
///
/// impl FromHead for Caller {
///     fn from_head(head: &Head<'_>) -> Result<Self, Error> {
///         let token = head.bearer_token().ok_or_else(|| Error::unauthorized("send Authorization: Bearer <token>"))?;
///         let name = token.strip_prefix("demo-").ok_or_else(|| Error::unauthorized("unknown token"))?;
///         Ok(Caller { name: name.to_owned(), token: token.to_owned() })
///     }
///
///     fn describe(doc: &mut HeadDoc<'_, '_>) {
///         doc.security("bearerAuth", SecurityScheme::bearer().format("demo-<name>"));
///     }
///
///     fn send(&self, headers: &mut HeaderMap) -> Result<(), Error> {
///         doudou::Bearer(self.token.clone()).send(headers)
///     }
/// }
/// ```
pub trait FromHead: Sized + Send + 'static {
    /// Reads it from the request head; `Err` answers the request instead of the method.
    fn from_head(head: &Head<'_>) -> Result<Self, Error>;

    /// States what it reads in the operation's document: the headers or cookies, and the
    /// security scheme it checks. Nothing by default.
    fn describe(_doc: &mut HeadDoc<'_, '_>) {}

    /// What the generated client sends for it, as headers; an `Err` fails the call (it is not
    /// sent). Nothing by default (credentials the client was given,
    /// [`Client::bearer`](crate::Client::bearer), go anyway).
    fn send(&self, _headers: &mut HeaderMap) -> Result<(), Error> {
        Ok(())
    }
}

/// The head of a request as an extractor reads it.
pub struct Head<'r> {
    request: &'r Request,
}

impl std::fmt::Debug for Head<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Head").field("uri", self.uri()).finish_non_exhaustive()
    }
}

impl<'r> Head<'r> {
    /// The request's method.
    pub fn method(&self) -> &'r Method {
        &self.request.parts().method
    }

    /// The request's target, path and query.
    pub fn uri(&self) -> &'r Uri {
        &self.request.parts().uri
    }

    /// All headers, as the client sent them.
    pub fn headers(&self) -> &'r HeaderMap {
        &self.request.parts().headers
    }

    /// The header `name` as text; `None` when absent or not text.
    pub fn header(&self, name: &str) -> Option<&'r str> {
        self.headers().get(name)?.to_str().ok()
    }

    /// The cookie `name`, percent-decoded.
    pub fn cookie(&self, name: &str) -> Option<Cow<'r, str>> {
        self.request.cookie(name)
    }

    /// The token of `Authorization: Bearer <token>`.
    pub fn bearer_token(&self) -> Option<&'r str> {
        let value = self.header(AUTHORIZATION.as_str())?;
        let (scheme, token) = value.split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
    }

    /// The user and password of `Authorization: Basic ...`.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        use base64::Engine as _;
        let value = self.header(AUTHORIZATION.as_str())?;
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }

    /// The request's extensions: what tower layers before the service put there (an
    /// authenticated identity, say).
    pub fn extensions(&self) -> &'r http::Extensions {
        &self.request.parts().extensions
    }

    /// The peer's address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.request.remote_addr()
    }
}

/// What an extractor tells the document about itself.
pub struct HeadDoc<'o, 'b> {
    op: &'o mut Operation<'b>,
}

impl std::fmt::Debug for HeadDoc<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadDoc").finish_non_exhaustive()
    }
}

impl HeadDoc<'_, '_> {
    /// It reads the header `name` (a string).
    pub fn header(&mut self, name: &str, required: bool, description: &str) -> &mut Self {
        self.op.head_param("header", name, required, description);
        self
    }

    /// It reads the cookie `name` (a string).
    pub fn cookie(&mut self, name: &str, required: bool, description: &str) -> &mut Self {
        self.op.head_param("cookie", name, required, description);
        self
    }

    /// It checks the credentials of `scheme`, which the document names `name` (one name per
    /// scheme across the services of a server): the operation requires it, and may answer 401.
    pub fn security(&mut self, name: &str, scheme: SecurityScheme) -> &mut Self {
        self.op.security(name, scheme.0);
        self
    }
}

/// A security scheme of the document (OpenAPI's `securitySchemes`).
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityScheme(Value);

impl SecurityScheme {
    /// `Authorization: Bearer <token>`.
    pub fn bearer() -> Self {
        Self(json!({ "type": "http", "scheme": "bearer" }))
    }

    /// `Authorization: Basic <base64 of user:password>`.
    pub fn basic() -> Self {
        Self(json!({ "type": "http", "scheme": "basic" }))
    }

    /// An API key in the header `name`.
    pub fn api_key_header(name: &str) -> Self {
        Self(json!({ "type": "apiKey", "in": "header", "name": name }))
    }

    /// An API key in the cookie `name`.
    pub fn api_key_cookie(name: &str) -> Self {
        Self(json!({ "type": "apiKey", "in": "cookie", "name": name }))
    }

    /// An API key in the query parameter `name` (it ends up in access logs: prefer a header).
    pub fn api_key_query(name: &str) -> Self {
        Self(json!({ "type": "apiKey", "in": "query", "name": name }))
    }

    /// With a hint of the bearer token's format (`JWT`).
    pub fn format(mut self, format: &str) -> Self {
        self.0["bearerFormat"] = json!(format);
        self
    }

    /// With a description.
    pub fn description(mut self, description: &str) -> Self {
        self.0["description"] = json!(description);
        self
    }
}

/// The token of `Authorization: Bearer <token>`, unchecked: a request without one is answered
/// 401, the method checks the token (or wrap it in your own [`FromHead`] type that does). The
/// generated client sends it; the document names the scheme `bearerAuth`.
#[derive(Clone, PartialEq, Eq)]
pub struct Bearer(pub String);

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bearer(<redacted>)")
    }
}

impl FromHead for Bearer {
    fn from_head(head: &Head<'_>) -> Result<Self, Error> {
        head.bearer_token()
            .map(|token| Bearer(token.to_owned()))
            .ok_or_else(|| Error::unauthorized("missing credentials: send Authorization: Bearer <token>"))
    }

    fn describe(doc: &mut HeadDoc<'_, '_>) {
        doc.security("bearerAuth", SecurityScheme::bearer());
    }

    /// `Authorization: Bearer <token>`, marked sensitive; a token a header cannot hold fails
    /// the call.
    fn send(&self, headers: &mut HeaderMap) -> Result<(), Error> {
        let mut value = crate::vocab::header_text(format!("Bearer {}", self.0))
            .ok_or_else(|| Error::bad_request("the bearer token is not visible ASCII: it cannot be sent"))?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
        Ok(())
    }
}

impl<T: FromHead> FromRequest for T {
    type Slot = NoBody;

    fn from_request(req: &mut Request, _: &str) -> Result<Self, Error> {
        T::from_head(&Head { request: req })
    }

    fn describe(op: &mut Operation<'_>, _: &str) {
        T::describe(&mut HeadDoc { op });
    }

    fn send(self, call: &mut Call<'_>, _: &'static str) {
        if let Err(e) = FromHead::send(&self, call.headers_mut()) {
            call.fail(e);
        }
    }
}
