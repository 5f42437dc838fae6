//! Scalar parameters: one value of the path, or the values under one name in the query string,
//! an urlencoded form or the text fields of a multipart body.
//!
//! A type is a scalar parameter when it implements [`FromParam`]; `Option<T>` and `Vec<T>` of
//! one follow (optional, and any number of `?id=1&id=2`). Values are bound exactly as sent:
//! nothing is trimmed, numbers out of their type's range or not finite are refused.

use std::borrow::Cow;
use std::fmt::{Display, Write as _};
use std::marker::PhantomData;

use serde_json::{json, Value};

use super::{Binder, NoBody};
use crate::client::Call;
use crate::error::Error;
use crate::openapi::Operation;
use crate::request::{FromValues, Request};

/// A type that binds from one path, query or form value: the numbers, `bool`, `char`,
/// `String`, and your own types.
///
/// To make your own type a parameter (an id newtype, an enum of sort orders), implement this
/// trait and [`Display`], which is what the generated client sends:
///
/// ```
/// use std::fmt;
///
/// struct UserId(u64);
///
/// impl fmt::Display for UserId {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         write!(f, "u{}", self.0)
///     }
/// }
///
/// impl doudou::FromParam for UserId {
///     const EXPECTED: &'static str = "a user id such as u42";
///     fn from_param(value: &str) -> Option<Self> {
///         value.strip_prefix('u')?.parse().ok().map(UserId)
///     }
///     fn schema() -> doudou::__private::serde_json::Value {
///         doudou::__private::serde_json::json!({ "type": "string", "pattern": "^u[0-9]+$" })
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a path, query, header or cookie parameter",
    label = "not a scalar parameter",
    note = "scalars are the numbers, bool, char and String; implement `doudou::FromParam` to make your own type one"
)]
pub trait FromParam: Display + Sized + Send + 'static {
    /// What a valid value looks like, for the 400 answer to an invalid one.
    const EXPECTED: &'static str;
    /// Parses one value exactly as it was sent (after percent-decoding); `None` refuses it.
    fn from_param(value: &str) -> Option<Self>;
    /// The JSON schema of one value in the OpenAPI document; a string by default.
    fn schema() -> Value {
        json!({ "type": "string" })
    }
    /// Appends the value as a client sends it, for `from_param` to parse back; its `Display`
    /// by default.
    fn write_param(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

macro_rules! integers {
    ($($t:ty => $format:literal, $expected:literal;)*) => {$(
        impl FromParam for $t {
            const EXPECTED: &'static str = $expected;
            fn from_param(value: &str) -> Option<Self> {
                value.parse().ok()
            }
            fn schema() -> Value {
                json!({ "type": "integer", "format": $format, "minimum": <$t>::MIN, "maximum": <$t>::MAX })
            }
            fn write_param(&self, out: &mut String) {
                out.push_str(itoa::Buffer::new().format(*self));
            }
        }
    )*};
}
integers! {
    u8 => "uint8", "an integer from 0 to 255";
    u16 => "uint16", "an integer from 0 to 65535";
    u32 => "uint32", "an integer from 0 to 4294967295";
    u64 => "uint64", "an integer from 0 to 18446744073709551615";
    usize => "uint64", "an integer from 0 to 18446744073709551615";
    i8 => "int8", "an integer from -128 to 127";
    i16 => "int16", "an integer from -32768 to 32767";
    i32 => "int32", "an integer from -2147483648 to 2147483647";
    i64 => "int64", "an integer from -9223372036854775808 to 9223372036854775807";
    isize => "int64", "an integer from -9223372036854775808 to 9223372036854775807";
}

// 128-bit integers are beyond what a JSON schema number states exactly: no bounds.
macro_rules! wide_integers {
    ($($t:ty => $format:literal, $expected:literal;)*) => {$(
        impl FromParam for $t {
            const EXPECTED: &'static str = $expected;
            fn from_param(value: &str) -> Option<Self> {
                value.parse().ok()
            }
            fn schema() -> Value {
                json!({ "type": "integer", "format": $format })
            }
        }
    )*};
}
wide_integers! {
    u128 => "uint128", "an integer from 0 to 340282366920938463463374607431768211455";
    i128 => "int128", "an integer from -170141183460469231731687303715884105728 to 170141183460469231731687303715884105727";
}

macro_rules! floats {
    ($($t:ty => $format:literal, $limit:expr, $expected:literal;)*) => {$(
        impl FromParam for $t {
            const EXPECTED: &'static str = $expected;
            // Rust parses "inf", "NaN" and "1e400" (as infinity); JSON has no such numbers, so the
            // answer would carry `null` and break the client. A value past the stated limit is
            // refused even where it would round down to the type's largest (`3.4028236e38` is
            // an `f32::MAX`), so that the document's bounds are exactly what binds.
            fn from_param(value: &str) -> Option<Self> {
                value.parse::<f64>().ok().filter(|v| v.is_finite() && v.abs() <= $limit)?;
                value.parse::<$t>().ok().filter(|v| v.is_finite())
            }
            fn schema() -> Value {
                json!({ "type": "number", "format": $format, "minimum": -($limit), "maximum": $limit })
            }
        }
    )*};
}
// The limits are the types' largest values as their `Display` writes them, so that what the
// generated client sends is within them.
floats! {
    f32 => "float", 3.4028235e38_f64, "a finite number within ±3.4028235e38";
    f64 => "double", f64::MAX, "a finite number within ±1.7976931348623157e308";
}

impl FromParam for bool {
    const EXPECTED: &'static str = "true or false";
    fn from_param(value: &str) -> Option<Self> {
        match value {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }
    fn schema() -> Value {
        json!({ "type": "boolean" })
    }
}

impl FromParam for char {
    const EXPECTED: &'static str = "exactly one character";
    fn from_param(value: &str) -> Option<Self> {
        value.parse().ok()
    }
    fn schema() -> Value {
        json!({ "type": "string", "minLength": 1, "maxLength": 1 })
    }
}

impl FromParam for String {
    const EXPECTED: &'static str = "text";
    fn from_param(value: &str) -> Option<Self> {
        Some(value.to_owned())
    }
    fn write_param(&self, out: &mut String) {
        out.push_str(self);
    }
}

/// How many values a scalar parameter takes: one (`T`), at most one (`Option<T>`), or any
/// number (`Vec<T>`).
#[doc(hidden)]
pub trait Values: FromValues + Send + 'static {
    /// The scalar.
    type One: FromParam;
    /// Whether a value must be given.
    const REQUIRED: bool;
    /// Whether several values can be given.
    const MULTIPLE: bool;
    /// Each value, for the client to send.
    fn each(&self, f: impl FnMut(&Self::One));
}

fn parse_one<T: FromParam>(name: &str, value: &str) -> Result<T, Error> {
    T::from_param(value).ok_or_else(|| {
        Error::bad_request(format!(
            "invalid value {value:?} for parameter `{name}`: expected {}",
            T::EXPECTED
        ))
    })
}

/// A single-valued parameter given more than once (`?flag=true&flag=false`): which one was
/// meant is anyone's guess, so neither is taken.
fn given_twice(name: &str) -> Error {
    Error::bad_request(format!("parameter `{name}` was given more than once; it takes one value"))
}

impl<T: FromParam> FromValues for T {
    fn from_values<'a>(name: &str, mut values: impl Iterator<Item = Cow<'a, str>>) -> Result<Self, Error> {
        let value = match values.next() {
            Some(v) => parse_one(name, &v)?,
            None => return Err(Error::bad_request(format!("missing parameter `{name}`"))),
        };
        match values.next() {
            Some(_) => Err(given_twice(name)),
            None => Ok(value),
        }
    }
}

impl<T: FromParam> Values for T {
    type One = T;
    const REQUIRED: bool = true;
    const MULTIPLE: bool = false;
    fn each(&self, mut f: impl FnMut(&T)) {
        f(self);
    }
}

/// An empty value of an optional scalar is `None` unless the type takes the empty text (a
/// `String` is `Some("")`): an HTML form sends `limit=` for an input left blank.
impl<T: FromParam> FromValues for Option<T> {
    fn from_values<'a>(name: &str, mut values: impl Iterator<Item = Cow<'a, str>>) -> Result<Self, Error> {
        let value = match values.next() {
            Some(v) if v.is_empty() => T::from_param(""),
            Some(v) => Some(parse_one(name, &v)?),
            None => return Ok(None),
        };
        match values.next() {
            Some(_) => Err(given_twice(name)),
            None => Ok(value),
        }
    }
}

impl<T: FromParam> Values for Option<T> {
    type One = T;
    const REQUIRED: bool = false;
    const MULTIPLE: bool = false;
    fn each(&self, f: impl FnMut(&T)) {
        self.iter().for_each(f);
    }
}

impl<T: FromParam> FromValues for Vec<T> {
    fn from_values<'a>(name: &str, values: impl Iterator<Item = Cow<'a, str>>) -> Result<Self, Error> {
        values.map(|v| parse_one(name, &v)).collect()
    }
}

impl<T: FromParam> Values for Vec<T> {
    type One = T;
    const REQUIRED: bool = false;
    const MULTIPLE: bool = true;
    fn each(&self, f: impl FnMut(&T)) {
        self.iter().for_each(f);
    }
}

/// Where a scalar parameter is read from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Path,
    /// The query string, or the fields of a form body.
    Query,
    Header,
    Cookie,
}

/// Binds a scalar parameter from the path, the query and form fields, a header or a cookie.
#[doc(hidden)]
pub struct Scalar<V> {
    name: &'static str,
    place: Place,
    values: PhantomData<fn() -> V>,
}

impl<V> Scalar<V> {
    pub(crate) const fn new(name: &'static str, place: Place) -> Self {
        Self { name, place, values: PhantomData }
    }
}

impl<V: Values> Binder for Scalar<V> {
    type Value = V;
    type Slot = NoBody;

    fn name(&self) -> &'static str {
        self.name
    }

    fn bind(&self, req: &mut Request) -> Result<V, Error> {
        match self.place {
            Place::Query => req.bind_values(self.name).map_err(|e| match req.sent_as_file(self.name) {
                Some(kind) if e.message().starts_with("missing parameter") => kind,
                _ => e,
            }),
            Place::Path => {
                V::from_values(self.name, req.path_value(self.name).map(Cow::Borrowed).into_iter())
            }
            Place::Header => req.bind_header(self.name, V::MULTIPLE).map_err(|e| e.naming_a("header")),
            Place::Cookie => req.bind_cookie(self.name).map_err(|e| e.naming_a("cookie")),
        }
    }

    fn describe(&self, op: &mut Operation<'_>) {
        let place = match self.place {
            Place::Path => "path",
            Place::Query => "query",
            Place::Header => "header",
            Place::Cookie => "cookie",
        };
        op.scalar(self.name, place, V::One::schema(), V::REQUIRED, V::MULTIPLE);
        if !V::REQUIRED && !V::MULTIPLE && V::One::from_param("").is_none() {
            op.empty_is_absent(self.name);
        }
    }

    fn send(&self, value: V, call: &mut Call<'_>) {
        match self.place {
            Place::Path => value.each(|v| call.path(self.name, |out| v.write_param(out))),
            Place::Query => value.each(|v| call.query(self.name, |out| v.write_param(out))),
            // One line, the values joined as OpenAPI's `simple` style writes them.
            Place::Header => {
                let mut first = true;
                let mut line = String::new();
                value.each(|v| {
                    if !std::mem::take(&mut first) {
                        line.push(',');
                    }
                    v.write_param(&mut line);
                });
                if !first {
                    call.header(self.name, |out| out.push_str(&line));
                }
            }
            Place::Cookie => value.each(|v| call.cookie(self.name, |out| v.write_param(out))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind<V: Values>(values: &[&str]) -> Result<V, Error> {
        V::from_values("p", values.iter().map(|v| Cow::Borrowed(*v)))
    }

    #[test]
    fn values_bind_exactly_as_sent() {
        assert_eq!(bind::<char>(&[" "]).ok(), Some(' '));
        assert_eq!(bind::<char>(&["\t"]).ok(), Some('\t'));
        assert!(bind::<char>(&["ab"]).is_err() && bind::<char>(&[""]).is_err());
        assert_eq!(bind::<i32>(&["+1"]).ok(), Some(1));
        for padded in [" 1", "1 ", "+1 ", "\t1"] {
            assert!(bind::<i32>(&[padded]).is_err(), "{padded:?}");
        }
        assert_eq!(bind::<String>(&["  two  "]).ok().as_deref(), Some("  two  "));
    }

    #[test]
    fn numbers_out_of_range_or_not_finite_are_refused_naming_the_range() {
        for bad in ["NaN", "inf", "-inf", "infinity", "1e400"] {
            assert!(bind::<f64>(&[bad]).is_err(), "{bad}");
        }
        assert!(bind::<f32>(&["1e39"]).is_err());
        assert!(bind::<f32>(&["3.402823466385289e38"]).is_ok(), "f32::MAX as an f64 writes it");
        assert!(bind::<f32>(&["3.4028235e38"]).is_ok(), "f32::MAX as it displays");
        assert!(bind::<f32>(&["3.40282351e38"]).is_err(), "past the stated maximum, though it rounds to it");
        assert_eq!(bind::<f32>(&["1.5"]).ok(), Some(1.5));
        let err = bind::<i8>(&["200"]).expect_err("out of range");
        assert_eq!(
            err.message(),
            "invalid value \"200\" for parameter `p`: expected an integer from -128 to 127"
        );
    }

    #[test]
    fn options_and_vecs_take_any_number() {
        assert_eq!(bind::<Vec<u64>>(&["7", "8"]).ok(), Some(vec![7, 8]));
        assert_eq!(bind::<Option<u64>>(&[]).ok(), Some(None));
        assert_eq!(bind::<Option<u64>>(&[""]).ok(), Some(None), "a blank form input");
        assert_eq!(bind::<Option<String>>(&[""]).ok(), Some(Some(String::new())));
        assert!(bind::<u64>(&[""]).is_err(), "a required one is still refused");
        for twice in [bind::<bool>(&["true", "false"]).map(drop), bind::<Option<u64>>(&["1", "2"]).map(drop)]
        {
            let err = twice.expect_err("given twice");
            assert_eq!(err.message(), "parameter `p` was given more than once; it takes one value");
        }
        assert_eq!(bind::<u64>(&[]).expect_err("missing").message(), "missing parameter `p`");
        assert_eq!(bind::<bool>(&["1"]).ok(), Some(true));
    }

    #[test]
    fn schemas_state_the_ranges() {
        assert_eq!(u8::schema()["maximum"], 255);
        assert_eq!(i64::schema()["minimum"], i64::MIN);
        assert_eq!(char::schema()["maxLength"], 1);
    }
}
