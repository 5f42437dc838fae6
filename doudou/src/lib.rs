#![doc = include_str!("../../README.md")]

pub mod body;
pub mod client;
pub mod config;
mod conn;
mod deadline;
mod error;
mod fast_hash;
mod logging;
mod manage;
pub mod metrics;
pub mod openapi;
mod panics;
pub mod promsd;
pub mod registry;
pub mod reply;
pub mod request;
pub mod router;
pub mod sd;
pub mod server;
pub mod service;

pub use body::{FileDownload, UploadFile};
pub use client::{Client, FixedProvider, ServiceProvider};
pub use config::Config;
pub use doudou_macros::{model, service};
pub use error::Error;
pub use http::{HeaderMap, StatusCode};
pub use server::{serve, Running, Server, StartError};
pub use service::{BuildInfo, Route, Service, Verb};
pub use tracing;

/// What generated code needs, under paths that do not depend on the user's dependencies.
#[doc(hidden)]
pub mod __private {
    pub use crate::client::{Call, Client, Reply};
    pub use crate::openapi::ApiBuilder;
    pub use crate::reply;
    pub use crate::request::Request;
    pub use crate::service::{BoxFuture, Route, Service, Verb};
    pub use crate::{Error, FileDownload, UploadFile};
    pub use http::{HeaderMap, Method, Response};
    pub use schemars;
    pub use serde;
    pub use serde_json;
    pub type Body = crate::body::Body;

    /// The answer to a route index the service does not have (never happens with generated
    /// route tables).
    pub fn unknown_route() -> BoxFuture<Response<Body>> {
        Box::pin(::core::future::ready(crate::reply::error(&Error::not_found("unknown route"))))
    }

    /// The OpenAPI document of one service, titled after it, with the version of the crate
    /// that defined it (the macro passes `CARGO_PKG_VERSION`).
    pub fn openapi_doc(
        title: &str,
        version: &str,
        describe: impl FnOnce(&mut ApiBuilder),
    ) -> serde_json::Value {
        let mut api = ApiBuilder::new(title, version, "");
        describe(&mut api);
        api.finish()
    }
}
