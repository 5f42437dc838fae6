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
