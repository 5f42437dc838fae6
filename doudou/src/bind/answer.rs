//! What a method's `Ok` value becomes on the wire, described in the document and read back by
//! the client: `()` is 204 without a body, a [`FileDownload`] is streamed, any other model is
//! JSON; the types of [`responses`](super::responses) choose the status, headers and media type.

use http::Response;

use crate::body::{Body, FileDownload};
use crate::client::Received;
use crate::error::Error;
use crate::openapi::{Operation, Success};
use crate::reply;
use crate::validate::Model;

/// What a service method can answer with.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be what a service method answers",
    label = "not a #[doudou::model]",
    note = "answer a #[doudou::model] type (or a std type of them) as JSON, `()` for 204 No Content, `doudou::Raw`/`doudou::Text` for a body of another media type, or `doudou::FileDownload` to stream a file; `Status<CODE, T>` takes a 2xx status other than 204, `Redirect<CODE>` 301, 302, 303, 307 or 308"
)]
pub trait Answer: Sized + Send + 'static {
    /// Whether the client streams the body rather than reading it whole.
    #[doc(hidden)]
    const STREAMED: bool = false;
    /// Whether a 3xx answer is this value (a redirect) rather than an error.
    #[doc(hidden)]
    const REDIRECT: bool = false;
    /// The response to `result`.
    #[doc(hidden)]
    fn reply(result: Result<Self, Error>) -> Response<Body>;
    /// The success response in the document.
    #[doc(hidden)]
    fn describe(op: &mut Operation<'_>) -> Success;
    /// The client's reading of a successful answer; `Err` says what is wrong with it, after
    /// "the response".
    #[doc(hidden)]
    fn read(received: Received<'_>) -> Result<Self, String>;
}

impl<T: Model> Answer for T {
    fn reply(result: Result<T, Error>) -> Response<Body> {
        reply::json(result)
    }

    fn describe(op: &mut Operation<'_>) -> Success {
        op.json_success::<T>()
    }

    fn read(received: Received<'_>) -> Result<T, String> {
        match received {
            Received::Whole(_, bytes) => {
                serde_json::from_slice(bytes).map_err(|e| format!("is not the expected JSON: {e}"))
            }
            Received::Streamed(_) => Err("was streamed, not read whole".into()),
        }
    }
}

/// 204 No Content.
impl Answer for () {
    fn reply(result: Result<(), Error>) -> Response<Body> {
        reply::empty(result)
    }

    fn describe(_: &mut Operation<'_>) -> Success {
        Success::new(204, "No Content")
    }

    fn read(_: Received<'_>) -> Result<(), String> {
        Ok(())
    }
}

impl Answer for FileDownload {
    const STREAMED: bool = true;

    fn reply(result: Result<FileDownload, Error>) -> Response<Body> {
        reply::download(result)
    }

    fn describe(_: &mut Operation<'_>) -> Success {
        Success::new(200, "The file, as an attachment")
            .content("application/octet-stream", serde_json::json!({ "type": "string", "format": "binary" }))
            .header("Content-Disposition", serde_json::json!({ "type": "string" }), true, "")
    }

    fn read(received: Received<'_>) -> Result<FileDownload, String> {
        match received {
            Received::Streamed(resp) => Ok(crate::client::download(resp)),
            Received::Whole(..) => Err("was read whole, not streamed".into()),
        }
    }
}
