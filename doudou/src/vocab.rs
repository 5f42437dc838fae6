//! The words every layer shares: verbs, routes, build information and the error body's
//! shape. A leaf: it imports nothing of the crate, so the server, the client, the document
//! and the registry can all speak of a route or a build without importing one another.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An HTTP verb a route answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// GET (also answers HEAD).
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
    /// HEAD.
    Head,
}

impl Verb {
    /// The `http` method of the verb.
    pub fn method(self) -> http::Method {
        match self {
            Self::Get => http::Method::GET,
            Self::Post => http::Method::POST,
            Self::Put => http::Method::PUT,
            Self::Patch => http::Method::PATCH,
            Self::Delete => http::Method::DELETE,
            Self::Head => http::Method::HEAD,
        }
    }

    /// Whether requests of this verb carry a body doudou reads (as Go's `ParseForm`: POST, PUT
    /// and PATCH): their scalar parameters can come in a form body.
    pub fn has_body(self) -> bool {
        matches!(self, Self::Post | Self::Put | Self::Patch)
    }

    /// The verb's name in upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
        }
    }
}

/// One route of a service: verb, path template (`/user/{id}`) and the trait method's name.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The verb.
    pub verb: Verb,
    /// The path template, relative to `GDD_ROUTE_ROOT_PATH`.
    pub path: &'static str,
    /// The Rust method name, also the OpenAPI `operationId`.
    pub operation: &'static str,
}

macro_rules! route_constructors {
    ($($name:ident => $verb:ident),*) => {
        impl Route {
            $(
                #[doc = concat!("A ", stringify!($verb), " route on `path` to the method `operation`.")]
                pub const fn $name(path: &'static str, operation: &'static str) -> Self {
                    Self { verb: Verb::$verb, path, operation }
                }
            )*
        }
    };
}
route_constructors!(get => Get, post => Post, put => Put, patch => Patch, delete => Delete, head => Head);

/// One piece of a route template such as `/user/{id}/files/{*rest}`: literal text, a parameter
/// (one path segment) or a catch-all (the rest of the path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Text matched as it is.
    Text(&'a str),
    /// `{name}`: one segment.
    Param(&'a str),
    /// `{*name}`: the rest of the path, slashes included.
    CatchAll(&'a str),
}

/// The pieces of `template`, in order: the one reading of the template syntax that the
/// client (filling it in), the document (naming it) and the router (telling a static path)
/// share. An unclosed `{` takes the rest of the template as the parameter's name.
pub(crate) fn pieces(template: &str) -> Pieces<'_> {
    Pieces { rest: template }
}

/// The iterator of [`pieces`].
pub(crate) struct Pieces<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        // Bytes rather than `str::find`, whose char searcher costs more than the short scan.
        match self.rest.bytes().position(|b| b == b'{') {
            Some(0) => {
                let end = self.rest.bytes().position(|b| b == b'}').unwrap_or(self.rest.len());
                let name = &self.rest[1..end];
                self.rest = self.rest.get(end + 1..).unwrap_or_default();
                Some(match name.strip_prefix('*') {
                    Some(name) => Piece::CatchAll(name),
                    None => Piece::Param(name),
                })
            }
            Some(start) => {
                let (text, rest) = self.rest.split_at(start);
                self.rest = rest;
                Some(Piece::Text(text))
            }
            None => Some(Piece::Text(std::mem::take(&mut self.rest))),
        }
    }
}

/// What a service was built from: its crate version and, when the build passed them in, the
/// git commit (`GDD_GIT_COMMIT`) and build time (`GDD_BUILD_TIME`), read at compile time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BuildInfo {
    /// The service crate's version.
    pub version: &'static str,
    /// The git commit, or "".
    pub git_commit: &'static str,
    /// The build time, or "".
    pub build_time: &'static str,
}

/// The JSON shape of an error response, as the server writes it, the client reads it and the
/// document describes it.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Error")]
pub(crate) struct ErrorBody {
    /// Application error code; the HTTP status unless the service chose another.
    pub(crate) code: i64,
    /// What went wrong, for a person.
    pub(crate) message: String,
    /// The request's invalid fields (a JSON path such as `address.zip`, or a parameter's
    /// name), each with what is wrong with it: answered with 400 when validation fails.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) fields: BTreeMap<String, Vec<String>>,
    /// The data of a business error (the fields of a `#[doudou::error]` variant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) data: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_reads_as_text_parameters_and_a_catch_all() {
        let read: Vec<_> = pieces("/user/{id}/files/{*rest}").collect();
        assert_eq!(
            read,
            [Piece::Text("/user/"), Piece::Param("id"), Piece::Text("/files/"), Piece::CatchAll("rest")]
        );
        assert_eq!(pieces("/health").collect::<Vec<_>>(), [Piece::Text("/health")]);
        assert_eq!(pieces("{a}{b}").collect::<Vec<_>>(), [Piece::Param("a"), Piece::Param("b")]);
        assert_eq!(pieces("/x/{open").collect::<Vec<_>>(), [Piece::Text("/x/"), Piece::Param("open")]);
        assert_eq!(pieces("").count(), 0);
    }
}

/// Characters a cookie value cannot hold as they are (RFC 6265's cookie-octet excludes
/// controls, space, `"`, `,`, `;`, `\` and non-ASCII), and `%`, which encodes them.
const NOT_COOKIE_OCTET: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b' ').add(b'"').add(b',').add(b';').add(b'\\').add(b'%');

/// `value` as a cookie can hold it: percent-encoded where it must be (the server's cookie
/// parameters decode it).
pub(crate) fn encode_cookie_value(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, NOT_COOKIE_OCTET).to_string()
}

/// A cookie value as it was before [`encode_cookie_value`].
pub(crate) fn decode_cookie_value(value: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::percent_decode_str(value).decode_utf8_lossy()
}

#[cfg(test)]
mod cookie_tests {
    use super::*;

    #[test]
    fn cookie_values_round_trip_through_their_encoding() {
        let odd = "a b;c,\"d\"%é";
        let encoded = encode_cookie_value(odd);
        assert!(!encoded.contains([' ', ';', ',', '"']), "{encoded}");
        assert_eq!(decode_cookie_value(&encoded), odd);
        assert_eq!(encode_cookie_value("plain-token_1.2"), "plain-token_1.2");
    }
}

/// `text` as a header value that every reader takes as text: visible ASCII, spaces and tabs
/// (`http` accepts other bytes, which `to_str` then refuses); `None` for anything else.
pub(crate) fn header_text(text: impl AsRef<str> + Into<bytes::Bytes>) -> Option<http::HeaderValue> {
    if !text.as_ref().bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) {
        return None;
    }
    http::HeaderValue::from_maybe_shared(text.into()).ok()
}
