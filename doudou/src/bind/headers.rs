//! A struct of headers to and from a `HeaderMap`: each field a header named as serde names it,
//! its value the field's text (a `Vec` is the header once per item, `None` no header). The
//! reading side parses each value for the type the field asks for (`"60"` for a `u32`), as
//! headers are text.

use http::header::HeaderName;
use http::HeaderMap;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;

/// Adds the fields of `headers` to `out`.
pub(crate) fn write<H: Serialize>(headers: &H, out: &mut HeaderMap) -> Result<(), Error> {
    let bad = |why: String| Error::internal(format!("cannot send the answer's headers: {why}"));
    let Value::Object(fields) = serde_json::to_value(headers).map_err(|e| bad(e.to_string()))? else {
        return Err(bad("the headers are not a struct of fields".into()));
    };
    for (name, value) in fields {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("`{name}` is not a header name")))?;
        let values = match value {
            Value::Null => continue,
            Value::Array(items) => items,
            one => vec![one],
        };
        for (i, value) in values.into_iter().enumerate() {
            let text = match value {
                Value::String(text) => text,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => return Err(bad(format!("the header `{name}` cannot be {other}"))),
            };
            let value = crate::vocab::header_text(text)
                .ok_or_else(|| bad(format!("the value of `{name}` is not visible ASCII")))?;
            // The struct's value replaces one the answer had (a `content-type`, say); its
            // further items add to it.
            if i == 0 {
                out.insert(header.clone(), value);
            } else {
                out.append(header.clone(), value);
            }
        }
    }
    Ok(())
}

/// The struct of headers `H` read from `headers`.
pub(crate) fn read<H: DeserializeOwned>(headers: &HeaderMap) -> Result<H, de::value::Error> {
    H::deserialize(Headers(headers))
}

/// A `HeaderMap` as a struct's deserializer: a field is present when its header is.
struct Headers<'h>(&'h HeaderMap);

impl<'de> de::Deserializer<'de> for Headers<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("headers are read into a struct of fields"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let mut present = Vec::new();
        for field in fields {
            let values: Vec<String> = self
                .0
                .get_all(*field)
                .iter()
                .map(|v| {
                    v.to_str()
                        .map(str::to_owned)
                        .map_err(|_| de::Error::custom(format!("the header `{field}` is not text")))
                })
                .collect::<Result<_, Self::Error>>()?;
            if !values.is_empty() {
                present.push((*field, Texts(values)));
            }
        }
        visitor.visit_map(de::value::MapDeserializer::new(present.into_iter()))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The values of one header, as the field it fills asks for them.
struct Texts(Vec<String>);

impl<'de> IntoDeserializer<'de, de::value::Error> for Texts {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl Texts {
    fn one(&self) -> &str {
        self.0.first().map_or("", String::as_str)
    }

    fn parse<T: std::str::FromStr>(&self, what: &str) -> Result<T, de::value::Error> {
        self.one().parse().map_err(|_| de::Error::custom(format!("{:?} is not {what}", self.one())))
    }
}

macro_rules! parsed {
    ($($method:ident => $visit:ident, $t:ty, $what:literal;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            visitor.$visit(self.parse::<$t>($what)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Texts {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0.len() {
            1 => visitor.visit_string(self.0.into_iter().next().unwrap_or_default()),
            _ => self.deserialize_seq(visitor),
        }
    }

    parsed! {
        deserialize_bool => visit_bool, bool, "true or false";
        deserialize_i8 => visit_i8, i8, "an integer";
        deserialize_i16 => visit_i16, i16, "an integer";
        deserialize_i32 => visit_i32, i32, "an integer";
        deserialize_i64 => visit_i64, i64, "an integer";
        deserialize_u8 => visit_u8, u8, "an integer";
        deserialize_u16 => visit_u16, u16, "an integer";
        deserialize_u32 => visit_u32, u32, "an integer";
        deserialize_u64 => visit_u64, u64, "an integer";
        deserialize_f32 => visit_f32, f32, "a number";
        deserialize_f64 => visit_f64, f64, "a number";
        deserialize_char => visit_char, char, "one character";
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    // A header sent twice (by a proxy, say) where one is expected: the first is the value.
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_string(self.0.into_iter().next().unwrap_or_default())
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let each = self.0.into_iter().map(|v| Texts(vec![v]));
        visitor.visit_seq(de::value::SeqDeserializer::new(each))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_enum(self.one().to_owned().into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        i128 u128 bytes byte_buf unit unit_struct tuple tuple_struct map struct
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    #[serde(rename_all = "kebab-case")]
    struct Caching {
        cache_control: String,
        max_age: u32,
        fresh: bool,
        etag: Option<String>,
        #[serde(default)]
        set_cookie: Vec<String>,
    }

    #[test]
    fn a_struct_of_headers_goes_out_and_comes_back() {
        let sent = Caching {
            cache_control: "max-age=60".into(),
            max_age: 60,
            fresh: true,
            etag: None,
            set_cookie: vec!["a=1".into(), "b=2".into()],
        };
        let mut map = HeaderMap::new();
        write(&sent, &mut map).expect("written");
        assert_eq!(map["max-age"], "60");
        assert!(!map.contains_key("etag"));
        assert_eq!(map.get_all("set-cookie").iter().count(), 2);
        assert_eq!(read::<Caching>(&map).expect("read"), sent);
    }

    #[test]
    fn a_header_that_does_not_parse_says_which() {
        let mut map = HeaderMap::new();
        map.insert("cache-control", HeaderValue::from_static("no-store"));
        map.insert("max-age", HeaderValue::from_static("soon"));
        map.insert("fresh", HeaderValue::from_static("true"));
        let err = read::<Caching>(&map).expect_err("not a number").to_string();
        assert!(err.contains("\"soon\" is not an integer"), "{err}");
    }
}
