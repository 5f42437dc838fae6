//! Responses: what a handler's `Result` becomes on the wire.

use http::header::{HeaderValue, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Response, StatusCode};
use serde::Serialize;

use crate::body::{self, Body, FileDownload};
use crate::error::Error;

impl Error {
    /// The response doudou answers with for this error: its status and the JSON body
    /// `{"code", "message"}`. For your own tower layers, so that they answer like doudou.
    pub fn to_response(&self) -> Response<Body> {
        error(self)
    }
}

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The response of an error: its status and `{"code", "message"}`.
pub(crate) fn error(err: &Error) -> Response<Body> {
    let mut resp = Response::new(Body::full(err.to_json()));
    *resp.status_mut() = err.status();
    resp.headers_mut().insert(CONTENT_TYPE, JSON);
    resp
}

/// Where a JSON answer is written to start with: most answers fit, so they are written without
/// regrowing the buffer (from serde_json's 128 bytes a 1 KiB answer regrows three times, each a
/// new allocation and a copy). The buffer lives only until the answer is written.
const JSON_BUFFER: usize = 1024;

/// `Ok(v)` -> 200 with `v` as JSON.
pub(crate) fn json<T: Serialize, E: Into<Error>>(result: Result<T, E>) -> Response<Body> {
    match result {
        Ok(value) => match to_json(&value) {
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

fn to_json<T: Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut buffer = Vec::with_capacity(JSON_BUFFER);
    serde_json::to_writer(&mut buffer, value)?;
    Ok(buffer)
}

/// `Ok(())` -> 204 No Content.
pub(crate) fn empty<E: Into<Error>>(result: Result<(), E>) -> Response<Body> {
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
pub(crate) fn download<E: Into<Error>>(result: Result<FileDownload, E>) -> Response<Body> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_answers_of_any_size_are_whole() {
        for len in [0, 10, JSON_BUFFER, 5 * JSON_BUFFER] {
            let value = "x".repeat(len);
            let resp = json::<_, Error>(Ok(vec![value.clone()]));
            assert_eq!(resp.headers()[CONTENT_TYPE], "application/json");
            let (_, body) = resp.into_parts();
            let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            let bytes = runtime.block_on(http_body_util::BodyExt::collect(body)).expect("body").to_bytes();
            assert_eq!(bytes, serde_json::to_vec(&[value]).expect("json"), "{len}");
        }
    }
}
