//! Dates, times and UUIDs as scalar parameters (the `chrono`, `time` and `uuid` features):
//! RFC 3339 date-times and ISO 8601 dates, as the document states them (`format: date-time`,
//! `date`, `uuid`).

#[cfg(any(feature = "chrono", feature = "time", feature = "uuid"))]
use serde_json::{json, Value};

#[cfg(any(feature = "chrono", feature = "time", feature = "uuid"))]
use super::FromParam;

/// Whether `value` is exactly `YYYY-MM-DD` (digits and dashes in place).
#[cfg(any(feature = "chrono", feature = "time"))]
fn is_iso_date(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 10
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() })
}

#[cfg(feature = "chrono")]
mod chrono_types {
    use super::*;
    use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

    /// `2026-12-08T10:00:00Z`, any offset taken and converted to UTC.
    impl FromParam for DateTime<Utc> {
        const EXPECTED: &'static str = "an RFC 3339 date-time such as 2026-12-08T10:00:00Z";
        fn from_param(value: &str) -> Option<Self> {
            DateTime::parse_from_rfc3339(value).ok().map(|t| t.with_timezone(&Utc))
        }
        fn schema() -> Value {
            json!({ "type": "string", "format": "date-time" })
        }
        fn write_param(&self, out: &mut String) {
            out.push_str(&self.to_rfc3339());
        }
    }

    /// `2026-12-08T11:00:00+01:00`, its offset kept.
    impl FromParam for DateTime<FixedOffset> {
        const EXPECTED: &'static str = "an RFC 3339 date-time such as 2026-12-08T10:00:00+01:00";
        fn from_param(value: &str) -> Option<Self> {
            DateTime::parse_from_rfc3339(value).ok()
        }
        fn schema() -> Value {
            json!({ "type": "string", "format": "date-time" })
        }
        fn write_param(&self, out: &mut String) {
            out.push_str(&self.to_rfc3339());
        }
    }

    /// `2026-12-08`.
    impl FromParam for NaiveDate {
        const EXPECTED: &'static str = "a date such as 2026-12-08";
        fn from_param(value: &str) -> Option<Self> {
            // Exactly `YYYY-MM-DD`: chrono's parser would also take spaces, signs and `2026-1-8`.
            super::is_iso_date(value).then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())?
        }
        fn schema() -> Value {
            json!({ "type": "string", "format": "date" })
        }
    }

    impl crate::validate::Model for DateTime<Utc> {}
    impl crate::validate::Model for DateTime<FixedOffset> {}
    impl crate::validate::Model for NaiveDate {}
}

#[cfg(feature = "time")]
mod time_types {
    use super::*;
    use time::format_description::well_known::Rfc3339;
    use time::{Date, OffsetDateTime};

    /// `2026-12-08T10:00:00Z`.
    impl FromParam for OffsetDateTime {
        const EXPECTED: &'static str = "an RFC 3339 date-time such as 2026-12-08T10:00:00Z";
        fn from_param(value: &str) -> Option<Self> {
            OffsetDateTime::parse(value, &Rfc3339).ok()
        }
        fn schema() -> Value {
            json!({ "type": "string", "format": "date-time" })
        }
        // One RFC 3339 cannot write (a year past 9999) goes as `Display` writes it, for the
        // server to refuse by name rather than receive an empty value.
        fn write_param(&self, out: &mut String) {
            match self.format(&Rfc3339) {
                Ok(text) => out.push_str(&text),
                Err(_) => out.push_str(&self.to_string()),
            }
        }
    }

    /// `2026-12-08`.
    impl FromParam for Date {
        const EXPECTED: &'static str = "a date such as 2026-12-08";
        fn from_param(value: &str) -> Option<Self> {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            super::is_iso_date(value).then(|| Date::parse(value, format).ok())?
        }
        fn schema() -> Value {
            json!({ "type": "string", "format": "date" })
        }
        fn write_param(&self, out: &mut String) {
            match self.format(time::macros::format_description!("[year]-[month]-[day]")) {
                Ok(text) => out.push_str(&text),
                Err(_) => out.push_str(&self.to_string()),
            }
        }
    }
}

#[cfg(feature = "uuid")]
mod uuid_types {
    use super::*;
    use uuid::Uuid;

    /// `67e55044-10b1-426f-9247-bb680e5fe0c8`, in any of the forms the `uuid` crate reads.
    impl FromParam for Uuid {
        const EXPECTED: &'static str = "a UUID such as 67e55044-10b1-426f-9247-bb680e5fe0c8";
        fn from_param(value: &str) -> Option<Self> {
            Uuid::parse_str(value).ok()
        }
        fn schema() -> Value {
            json!({ "type": "string", "format": "uuid" })
        }
    }

    impl crate::validate::Model for Uuid {}
}
