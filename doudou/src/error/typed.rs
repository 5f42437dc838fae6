//! Business errors as types: what a service method's `Err` can be, and how it crosses the wire.
//!
//! [`ServiceError`] is implemented by [`Error`] and by every enum marked `#[doudou::error]`.
//! Such a variant is answered with the status and business code its `#[error(status, code)]`
//! states, its `Display` as the message and its fields as the body's `data`; the generated
//! client reads the status and code back into the same variant. The one variant marked
//! `#[error(other)]` holds a plain [`Error`]: what a client gets for a transport failure, a
//! framework answer (400 invalid input, 429, 503) or a code its build does not know.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::Error;
use crate::openapi::Operation;

/// The error type of a service method: [`Error`], or an enum marked `#[doudou::error]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the error of a service method",
    label = "not `doudou::Error` or a #[doudou::error] enum",
    note = "return `Result<T, doudou::Error>`, or mark the error enum `#[doudou::error]` and give each variant `#[error(status = 404, code = 40401)]`"
)]
pub trait ServiceError: Sized + Send + 'static {
    /// The error as it is answered: status, business code, message and data.
    fn into_error(self) -> Error;
    /// The error an answer (or a failed call) stands for, as the generated client reads it.
    fn from_error(error: Error) -> Self;
    /// Adds the statuses this error is answered with to an operation's document.
    #[doc(hidden)]
    fn describe(_op: &mut Operation<'_>) {}
}

impl ServiceError for Error {
    fn into_error(self) -> Error {
        self
    }

    fn from_error(error: Error) -> Self {
        error
    }
}

/// Writes a variant's fields as the body's `data` object.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct DataWriter(Map<String, Value>);

impl DataWriter {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the field `name`. A value serde cannot encode (a map with non-string keys, say)
    /// is written as `null`: the error is still answered, with its status and message.
    #[must_use]
    pub fn field<T: Serialize + ?Sized>(mut self, name: &str, value: &T) -> Self {
        self.0.insert(name.to_owned(), serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }

    /// The error of a variant: `status` (checked by the macro to be 4xx or 5xx), `code`, the
    /// variant's `Display` as the message, and the fields written, if any.
    pub fn finish(self, status: u16, code: i64, message: String) -> Error {
        let status = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let error = Error::new(status, message).with_code(code);
        if self.0.is_empty() {
            error
        } else {
            error.with_data(Value::Object(self.0))
        }
    }
}

/// Reads a variant's fields back from an error's `data`.
#[doc(hidden)]
#[derive(Debug)]
pub struct DataReader<'a>(Option<&'a Map<String, Value>>);

impl<'a> DataReader<'a> {
    /// The data of `error`.
    pub fn new(error: &'a Error) -> Self {
        Self(error.data().and_then(Value::as_object))
    }

    /// The field `name`, or `None` when it is missing (and not an `Option`) or of another
    /// type: the client then answers the error as the `other` variant, unchanged.
    pub fn field<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        let value = self.0.and_then(|m| m.get(name)).cloned().unwrap_or(Value::Null);
        serde_json::from_value(value).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variants_fields_make_the_round_trip() {
        let error = DataWriter::new().field("existing_id", &7_u64).finish(409, 40901, "taken".into());
        assert_eq!((error.status().as_u16(), error.code(), error.message()), (409, 40901, "taken"));
        let back = Error::from_body(error.status(), &error.to_json());
        let reader = DataReader::new(&back);
        assert_eq!(reader.field::<u64>("existing_id"), Some(7));
        assert_eq!(reader.field::<Option<u64>>("absent"), Some(None));
        assert_eq!(reader.field::<u64>("absent"), None);
        assert_eq!(reader.field::<String>("existing_id"), None, "another type");
    }

    #[test]
    fn a_variant_without_fields_has_no_data() {
        let error = DataWriter::new().finish(404, 40401, "no such user".into());
        assert_eq!(error.data(), None);
        assert_eq!(
            String::from_utf8(error.to_json()).expect("utf-8"),
            r#"{"code":40401,"message":"no such user"}"#
        );
    }
}
