//! The request as handlers bind it: JSON recognised by media type, query values decoded lazily and strictly.

use super::*;

fn with_content_type(value: &'static str) -> Request {
    let req = http::Request::post("/x")
        .header(CONTENT_TYPE, value)
        .body(crate::body::Body::full(&b"{}"[..]))
        .expect("request");
    Request::new(
        req,
        Vec::new(),
        ([127, 0, 0, 1], 1).into(),
        crate::request_id::Scanned::UNKNOWN,
        BodyLimits { max_size: 1024, read_timeout: Duration::from_secs(1), max_parts: 1000 },
        std::time::Instant::now() + Duration::from_secs(1),
    )
}

#[test]
fn json_bodies_are_recognised_by_media_type() {
    for json in [
        "application/json",
        "application/json; charset=utf-8",
        "  Application/JSON ;charset=utf-8",
        "application/problem+json",
        "application/vnd.api+JSON; v=2",
    ] {
        assert!(with_content_type(json).is_json(), "{json}");
    }
    for other in ["text/plain", "application/jsonx", "application/x-www-form-urlencoded", "json", ""] {
        assert!(!with_content_type(other).is_json(), "{other}");
    }
}

#[test]
fn query_values_decode_only_when_needed() {
    let q = "id=7&name=a%20b&name=c+d&x=&%69d=8&empty";
    let values = |name| query_values(q, name).map(|v| v.ok()).collect::<Option<Vec<_>>>();
    let ids = values("id").expect("valid");
    assert_eq!(ids, vec![Cow::Borrowed("7"), Cow::<str>::Owned("8".into())]);
    assert!(matches!(ids[0], Cow::Borrowed(_)));
    assert_eq!(values("name"), Some(vec![Cow::Borrowed("a b"), Cow::Borrowed("c d")]));
    assert_eq!(values("x"), Some(vec![Cow::Borrowed("")]));
    assert_eq!(values("empty"), Some(vec![Cow::Borrowed("")]));
    assert_eq!(query_values(q, "nope").count(), 0);
}

#[test]
fn percent_decoding_is_strict() {
    assert_eq!(percent_decode_strict("a%20b%C3%A9").as_deref(), Some("a bé"));
    assert_eq!(percent_decode_strict("plain").as_deref(), Some("plain"));
    for bad in ["%ff%fe", "%zz", "%", "a%2", "%C3"] {
        assert_eq!(percent_decode_strict(bad), None, "{bad}");
    }
    assert!(query_values("x=%zz", "x").all(|v| v.is_err()));
}
