//! The error type of doudou services: an HTTP status, a numeric code and a message, with the
//! invalid fields of a request or the data of a business error when there are some.
//!
//! Handlers return `Result<T, doudou::Error>` (or a `#[doudou::error]` enum, see [`typed`]); an
//! `Err` becomes a response with the error's status and the JSON body
//! `{"code": <int>, "message": "<text>"}`, plus `"fields"` or `"data"` when set. The generated
//! client turns such a response back into the same error, so a caller sees what the callee said.

mod typed;

use std::collections::BTreeMap;
use std::fmt;

use http::StatusCode;
use serde::Serialize;

use crate::vocab::ErrorBody;

pub use typed::{DataReader, DataWriter, ServiceError};

/// An error with an HTTP status, a numeric code (the status by default) and a message.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    status: StatusCode,
    code: i64,
    message: String,
    /// Boxed: most errors have none, and an `Error` travels in every `Result`.
    details: Option<Box<Details>>,
}

/// What an error carries beyond its message.
#[derive(Clone, PartialEq, Eq, Default)]
struct Details {
    fields: BTreeMap<String, Vec<String>>,
    data: Option<serde_json::Value>,
}

impl Error {
    /// An error answered with `status`; its code is the status number.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, code: i64::from(status.as_u16()), message: message.into(), details: None }
    }

    /// 400 naming each invalid field with what is wrong with it; the message lists them too.
    /// Validation answers with it; a handler that checks more than the declared rules can too.
    pub fn invalid_fields(fields: BTreeMap<String, Vec<String>>) -> Self {
        let listed: Vec<String> =
            fields.iter().map(|(name, problems)| format!("{name}: {}", problems.join(", "))).collect();
        let mut error = Self::bad_request(format!("invalid request: {}", listed.join("; ")));
        error.details_mut().fields = fields;
        error
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

    /// Attaches data to the body's `data` (what a `#[doudou::error]` variant's fields become).
    #[must_use]
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.details_mut().data = Some(data);
        self
    }

    /// The invalid fields of a 400 answered by validation, by name; empty otherwise.
    pub fn fields(&self) -> &BTreeMap<String, Vec<String>> {
        static NONE: BTreeMap<String, Vec<String>> = BTreeMap::new();
        self.details.as_ref().map_or(&NONE, |d| &d.fields)
    }

    /// The body's `data`, if any.
    pub fn data(&self) -> Option<&serde_json::Value> {
        self.details.as_ref().and_then(|d| d.data.as_ref())
    }

    fn details_mut(&mut self) -> &mut Details {
        self.details.get_or_insert_with(Box::default)
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The numeric code of the body.
    pub fn code(&self) -> i64 {
        self.code
    }

    /// The same binding error naming the value a `kind` ("header", "cookie") rather than a
    /// parameter: "missing header `x-tenant`".
    pub(crate) fn naming_a(mut self, kind: &str) -> Self {
        self.message = self.message.replacen("parameter `", &format!("{kind} `"), 1);
        self
    }

    /// The message of the body.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn from_body(status: StatusCode, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(b) => {
                let details = (!b.fields.is_empty() || b.data.is_some())
                    .then(|| Box::new(Details { fields: b.fields, data: b.data }));
                Self { status, code: b.code, message: b.message, details }
            }
            Err(_) => Self::new(status, String::from_utf8_lossy(body).into_owned()),
        }
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Borrowed<'a> {
            code: i64,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            fields: Option<&'a BTreeMap<String, Vec<String>>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a serde_json::Value>,
        }
        let details = self.details.as_deref();
        let body = Borrowed {
            code: self.code,
            message: &self.message,
            fields: details.map(|d| &d.fields).filter(|f| !f.is_empty()),
            data: details.and_then(|d| d.data.as_ref()),
        };
        serde_json::to_vec(&body)
            .unwrap_or_else(|_| b"{\"code\":500,\"message\":\"unencodable error\"}".to_vec())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({} code={}: {}", self.status.as_u16(), self.code, self.message)?;
        if let Some(d) = &self.details {
            if !d.fields.is_empty() {
                write!(f, " fields={:?}", d.fields)?;
            }
            if let Some(data) = &d.data {
                write!(f, " data={data}")?;
            }
        }
        f.write_str(")")
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
