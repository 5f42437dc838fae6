//! The contract between `#[doudou::service]` and the runtime.
//!
//! The macro implements [`Service`] for `{Trait}Server<T>`: a table of routes and a `call` that
//! dispatches by index into that table, so routing is one lookup and one `match`.

use http::Response;

use crate::body::Body;
use crate::openapi::ApiBuilder;
use crate::request::Request;
pub use crate::vocab::{BoxFuture, BuildInfo, Route, Verb};

/// A set of routes served together: what `#[doudou::service]` generates as `{Trait}Server`.
/// Pass one to [`Server::service`](crate::Server::service) or [`serve`](crate::serve); the
/// macro implements it, you do not.
pub trait Service: Send + Sync + 'static {
    /// The trait's name.
    fn name(&self) -> &'static str;
    /// The routes, indexed by position.
    fn routes(&self) -> &'static [Route];
    /// Handles a request matched to `routes()[route]` (generated).
    #[doc(hidden)]
    fn call(&self, route: usize, req: Request) -> BoxFuture<Response<Body>>;
    /// Adds the routes' operations and schemas to an OpenAPI document (generated).
    #[doc(hidden)]
    fn describe(&self, api: &mut ApiBuilder);
    /// Build information of the crate that defined the service.
    fn build_info(&self) -> BuildInfo {
        BuildInfo::default()
    }
}
