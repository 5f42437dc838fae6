#![doc = include_str!("../README.md")]

mod admission;
mod bind;
pub mod body;
pub mod client;
pub mod config;
mod deadline;
mod error;
mod host;
mod logging;
mod manage;
pub mod metrics;
mod openapi;
mod panics;
pub mod promsd;
#[cfg(feature = "gossip")]
pub mod registry;
mod reply;
mod request;
mod request_id;
mod router;
pub mod sd;
pub mod server;
pub mod service;
mod trace;
mod validate;
mod vocab;

pub use bind::{
    Answer, Bearer, Created, Event, EventStream, FromHead, FromParam, Head, HeadDoc, Html, LastEventId,
    MediaType, Model, OctetStream, PlainText, Raw, Redirect, SecurityScheme, SetCookie, Status, Text,
    WithHeaders,
};
pub use body::{FileDownload, UploadFile};
/// The `chrono` crate (doudou's `chrono` feature): its date-times bind as parameters and cross the wire in models.
#[cfg(feature = "chrono")]
pub use chrono;
pub use client::Client;
pub use config::Config;
pub use doudou_macros::{error, main, model, service, test};
pub use error::{Error, ServiceError};
/// The `http` crate doudou speaks (requests, responses, headers), for tests and layers.
pub use http;
pub use http::{HeaderMap, StatusCode};
/// The regular expressions of `#[validate(regex(path = "NAME"))]` rules (a `static NAME:
/// LazyLock<doudou::Regex>`); `regex(pattern = "...")` needs none.
#[cfg(feature = "validate")]
pub use regex::Regex;
pub use sd::{FixedProvider, ServiceProvider};
pub use server::{serve, InMemory, Running, Server, StartError};
pub use service::{BuildInfo, Route, Service, Verb};
/// The `time` crate (doudou's `time` feature): its date-times and dates bind as parameters.
#[cfg(feature = "time")]
pub use time;
pub use tokio;
pub use tracing;
/// The `uuid` crate (doudou's `uuid` feature, with `v4`): UUIDs bind as parameters and cross the wire in models.
#[cfg(feature = "uuid")]
pub use uuid;

/// What generated code needs, under paths that do not depend on the user's dependencies.
#[doc(hidden)]
pub mod __private {
    pub use crate::bind::{
        call, checked, returns, Binder, Binders, Checked, Endpoint, Extract, FromRequest, Handler, JsonBody,
        Kind, Method as ServiceMethod, NoBodyOnThisVerb, Operations, Scalar, ServiceResult, Values,
        ViaRequest, ViaScalar, MAX_PARAMS,
    };
    pub use crate::client::{Call, Client, Received};
    pub use crate::error::{DataReader, DataWriter};
    pub use crate::metrics::RouteMetrics;
    pub use crate::openapi::{ApiBuilder, Operation};
    pub use crate::request::Request;
    pub use crate::server::block_on;
    pub use crate::service::{BoxFuture, Route, Service, Verb};
    pub use crate::validate::{HasLength, InRange, Pattern, Report, Rule, Text};
    pub use crate::{Error, FileDownload, UploadFile};
    pub use http::{Method, Response};
    #[cfg(feature = "validate")]
    pub use regex::Regex;
    pub use schemars;
    pub use serde;
    pub use serde_json;
    pub type Body = crate::body::Body;

    /// The answer to a route index the service does not have (never happens with generated
    /// route tables).
    pub fn unknown_route() -> BoxFuture<Response<Body>> {
        Box::pin(::core::future::ready(crate::reply::error(&Error::not_found("unknown route"))))
    }

    /// What a service was built from (the macro passes the crate's version and the
    /// `GDD_GIT_COMMIT` and `GDD_BUILD_TIME` it was compiled with).
    pub fn build_info(
        version: &'static str,
        git_commit: Option<&'static str>,
        build_time: Option<&'static str>,
    ) -> crate::BuildInfo {
        crate::BuildInfo {
            version,
            git_commit: git_commit.unwrap_or(""),
            build_time: build_time.unwrap_or(""),
        }
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
