//! What a method's `Ok` value becomes on the wire, described in the document and read back by
//! the client: `()` is 204 without a body, a [`FileDownload`] is streamed, any other model is
//! JSON.

use std::any::TypeId;
use std::future::Future;

use futures_util::FutureExt;
use http::Response;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::body::{Body, FileDownload};
use crate::client::{Call, Reply};
use crate::error::Error;
use crate::openapi::Operation;
use crate::reply;

/// What a service method can answer with.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be what a service method answers",
    label = "not a #[doudou::model]",
    note = "answer a #[doudou::model] type (or a std type of them) as JSON, `()` for 204 No Content, or `doudou::FileDownload` to stream a file"
)]
pub trait Answer: Sized + Send + 'static {
    /// The response to `result`.
    #[doc(hidden)]
    fn reply(result: Result<Self, Error>) -> Response<Body>;
    /// The success response in the document.
    #[doc(hidden)]
    fn describe(op: &mut Operation<'_>);
    /// The client's call, and its reading of a successful response.
    #[doc(hidden)]
    fn receive(call: Call<'_>) -> impl Future<Output = Result<Self, Error>> + Send + '_;
}

/// Whether `T` is `()`: answered 204 with no body rather than as JSON `null`. A constant once
/// compiled.
fn is_unit<T: 'static>() -> bool {
    TypeId::of::<T>() == TypeId::of::<()>()
}

impl<T: Serialize + DeserializeOwned + JsonSchema + Send + 'static> Answer for T {
    fn reply(result: Result<T, Error>) -> Response<Body> {
        if is_unit::<T>() {
            reply::empty(result.map(drop))
        } else {
            reply::json(result)
        }
    }

    fn describe(op: &mut Operation<'_>) {
        if is_unit::<T>() {
            op.empty_response();
        } else {
            op.json_response::<T>();
        }
    }

    fn receive(call: Call<'_>) -> impl Future<Output = Result<T, Error>> + Send + '_ {
        let decode: fn(&[u8]) -> Result<T, String> = if is_unit::<T>() {
            // `()` from the JSON that stands for it, whatever the body.
            |_| serde_json::from_slice(b"null").map_err(|e| e.to_string())
        } else {
            |bytes| serde_json::from_slice(bytes).map_err(|e| format!("is not the expected JSON: {e}"))
        };
        call.receive(decode)
    }
}

impl Answer for FileDownload {
    fn reply(result: Result<FileDownload, Error>) -> Response<Body> {
        reply::download(result)
    }

    fn describe(op: &mut Operation<'_>) {
        op.download_response();
    }

    fn receive(call: Call<'_>) -> impl Future<Output = Result<FileDownload, Error>> + Send + '_ {
        FutureExt::map(call.stream(), |sent| sent.and_then(Reply::download))
    }
}
