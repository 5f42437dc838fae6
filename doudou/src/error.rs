//! The one error type of doudou services: an HTTP status, a numeric code and a message.
//!
//! Handlers return `Result<T, doudou::Error>`; an `Err` becomes a response with the error's
//! status and the JSON body `{"code": <int>, "message": "<text>"}`. The generated client turns
//! such a response back into the same `Error`, so a caller sees what the callee said.

use std::fmt;

use http::StatusCode;
use serde::{Deserialize, Serialize};

/// An error with an HTTP status, a numeric code (the status by default) and a message.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    status: StatusCode,
    code: i64,
    message: String,
}

/// The JSON shape of an error response.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Error")]
pub(crate) struct ErrorBody {
    /// Application error code; the HTTP status unless the service chose another.
    pub(crate) code: i64,
    /// What went wrong, for a person.
    pub(crate) message: String,
}

impl Error {
    /// An error answered with `status`; its code is the status number.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, code: i64::from(status.as_u16()), message: message.into() }
    }

    /// The response doudou answers with for this error: its status and the JSON body
    /// `{"code", "message"}`. For your own tower layers, so that they answer like doudou.
    pub fn to_response(&self) -> http::Response<crate::body::Body> {
        crate::reply::error(self)
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 409 Conflict.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 500 Internal Server Error, the status of any error that does not choose one.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// 503 Service Unavailable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// Replaces the numeric code sent in the body (the status stays).
    #[must_use]
    pub fn with_code(mut self, code: i64) -> Self {
        self.code = code;
        self
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The numeric code of the body.
    pub fn code(&self) -> i64 {
        self.code
    }

    /// The message of the body.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn from_body(status: StatusCode, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(b) => Self { status, code: b.code, message: b.message },
            Err(_) => Self::new(status, String::from_utf8_lossy(body).into_owned()),
        }
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&ErrorBody { code: self.code, message: self.message.clone() })
            .unwrap_or_else(|_| b"{\"code\":500,\"message\":\"unencodable error\"}".to_vec())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({} code={}: {})", self.status.as_u16(), self.code, self.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => Self::not_found(e.to_string()),
            std::io::ErrorKind::PermissionDenied => Self::forbidden(e.to_string()),
            _ => Self::internal(e.to_string()),
        }
    }
}
