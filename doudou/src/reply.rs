//! Responses: what a handler's `Result` becomes on the wire.

use http::header::{HeaderValue, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Response, StatusCode};
use serde::Serialize;

use crate::body::{self, Body, FileDownload};
use crate::Error;

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The response of an error: its status and `{"code", "message"}`.
pub fn error(err: &Error) -> Response<Body> {
    let mut resp = Response::new(Body::full(err.to_json()));
    *resp.status_mut() = err.status();
    resp.headers_mut().insert(CONTENT_TYPE, JSON);
    resp
}

/// `Ok(v)` -> 200 with `v` as JSON.
pub fn json<T: Serialize, E: Into<Error>>(result: Result<T, E>) -> Response<Body> {
    match result {
        Ok(value) => match serde_json::to_vec(&value) {
            Ok(bytes) => {
                let mut resp = Response::new(Body::full(bytes));
                resp.headers_mut().insert(CONTENT_TYPE, JSON);
                resp
            }
            Err(e) => error(&Error::internal(format!("cannot encode the response as JSON: {e}"))),
        },
        Err(e) => error(&e.into()),
    }
}

/// `Ok(())` -> 204 No Content.
pub fn empty<E: Into<Error>>(result: Result<(), E>) -> Response<Body> {
    match result {
        Ok(()) => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::NO_CONTENT;
            resp
        }
        Err(e) => error(&e.into()),
    }
}

/// `Ok(file)` -> 200 streaming the file as an attachment.
pub fn download<E: Into<Error>>(result: Result<FileDownload, E>) -> Response<Body> {
    match result {
        Ok(file) => {
            let (filename, content_type, len, body) = file.into_parts();
            let mut resp = Response::new(body);
            let headers = resp.headers_mut();
            let ct = HeaderValue::try_from(content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream"));
            headers.insert(CONTENT_TYPE, ct);
            if let Ok(v) = HeaderValue::try_from(body::content_disposition(&filename)) {
                headers.insert(CONTENT_DISPOSITION, v);
            }
            if let Some(len) = len {
                headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
            }
            resp
        }
        Err(e) => error(&e.into()),
    }
}
