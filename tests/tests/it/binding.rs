//! Parameter binding over real HTTP, each case through a raw request (what curl sends) and
//! through the generated client: catch-all routes, values bound exactly as sent, bodies that
//! are `null`, multipart text fields, type aliases.

use doudou::StatusCode;
use doudou_tests::{bin, get, raw, start, Proc};
use helloworld::{Helloworld, HelloworldClient, Scalars, User};
use serde_json::json;

use crate::http::multipart;
use crate::manage::get_auth;

fn helloworld() -> (Proc, HelloworldClient) {
    let svc = start(&bin("helloworld"), &[], None).expect("helloworld starts");
    let client = HelloworldClient::new(svc.base_url());
    (svc, client)
}

#[tokio::test]
async fn a_catch_all_route_takes_the_rest_of_the_path_slashes_included() {
    let (svc, client) = helloworld();
    let r = get(svc.addr, "/static/css/site%20v2.css");
    assert_eq!((r.status, r.json()), (200, json!("css/site v2.css")));
    for rest in ["css/a b/c.css", "one", "a/%2F/ü?#"] {
        assert_eq!(client.get_static(rest.into()).await.expect("get_static"), rest, "{rest}");
    }
    // The document names the parameter `{rest}` (the router's `{*rest}` is not OpenAPI).
    let doc = get_auth(&svc, "/go-doudou/openapi.json", "admin", "admin").json();
    let params = &doc["paths"]["/static/{rest}"]["get"]["parameters"];
    assert_eq!(
        params,
        &json!([{ "name": "rest", "in": "path", "required": true, "schema": { "type": "string" } }])
    );
    assert!(doc["paths"].get("/static/{*rest}").is_none());
}

#[tokio::test]
async fn scalars_are_bound_exactly_as_sent() {
    let (svc, client) = helloworld();
    for (query, c) in [("c=%20", " "), ("c=%09", "\t"), ("c=+", " "), ("c=%C3%BC", "ü")] {
        let r = get(svc.addr, &format!("/scalars?{query}"));
        assert_eq!((r.status, r.json()["c"].clone()), (200, json!(c)), "{query}");
    }
    for c in [' ', '\t', '&', '='] {
        let got = client.get_scalars(Some(c), None, None, None).await.expect("client char");
        assert_eq!(got.c, Some(c));
    }
    for padded in ["small=%201", "small=1%20", "small=+1", "f=%201.5", "user=%207", "c=ab", "c="] {
        let r = get(svc.addr, &format!("/scalars?{padded}"));
        assert_eq!(r.status, 400, "{padded} must be refused: {}", String::from_utf8_lossy(&r.body));
    }
    let r = get(svc.addr, "/scalars?small=%2B1&user=7");
    assert_eq!((r.status, r.json()["small"].clone(), r.json()["user"].clone()), (200, json!(1), json!(7)));
}

#[tokio::test]
async fn numbers_out_of_range_or_not_finite_are_refused_naming_the_range() {
    let (svc, client) = helloworld();
    for f in ["NaN", "nan", "inf", "-inf", "infinity", "1e400", "1e39"] {
        let r = get(svc.addr, &format!("/scalars?f={f}"));
        assert_eq!(r.status, 400, "{f}: {}", String::from_utf8_lossy(&r.body));
        assert!(r.message().contains("expected a finite number"), "{}", r.message());
    }
    let r = get(svc.addr, "/scalars?small=200");
    assert_eq!(
        (r.status, r.message()),
        (400, "invalid value \"200\" for parameter `small`: expected an integer from -128 to 127".to_owned())
    );
    let r = get(svc.addr, "/scalars?user=-1");
    assert!(r.message().contains("expected an integer from 0 to 18446744073709551615"), "{}", r.message());
    // What the server accepts, the client reads back: no `null` where a float was.
    let got = client.get_scalars(None, Some(3.4e38), Some(-128), Some(u64::MAX)).await.expect("client");
    assert_eq!(got, Scalars { c: None, f: Some(3.4e38), small: Some(-128), user: Some(u64::MAX) });
}

#[tokio::test]
async fn an_optional_body_of_null_is_none() {
    let (svc, client) = helloworld();
    let json = [("Content-Type", "application/json")];
    for body in [&b"null"[..], b" null ", b""] {
        let r = raw(svc.addr, "PUT", "/user?id=3", &json, body);
        assert_eq!(
            (r.status, r.json()["name"].clone()),
            (200, json!("user-3")),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    let r =
        raw(svc.addr, "PUT", "/user?id=3", &json, br#"{"id":1,"name":"Zoe","email":"z@x","active":true}"#);
    assert_eq!(r.json()["name"], "Zoe");
    // A required body still refuses `null`.
    let r = raw(svc.addr, "POST", "/page/users", &json, b"null");
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(client.put_user(4, None).await.expect("put_user None").name, "user-4");
}

#[tokio::test]
async fn multipart_text_fields_bind_scalars_without_a_file() {
    let (svc, client) = helloworld();
    let (ct, body) =
        multipart(&[("username", None, b"ann"), ("password", None, b"long-enough"), ("age", None, b"30")]);
    let r = raw(svc.addr, "POST", "/sign/up", &[("Content-Type", &ct)], &body);
    assert_eq!(
        (r.status, r.json()["name"].clone()),
        (200, json!("ann")),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let (ct, body) =
        multipart(&[("username", None, b"ann"), ("password", None, b"long-enough"), ("age", None, b"300")]);
    let r = raw(svc.addr, "POST", "/sign/up", &[("Content-Type", &ct)], &body);
    assert_eq!(r.status, 400);
    assert!(r.message().contains("`age`: expected an integer from 0 to 255"), "{}", r.message());
    // The document puts an upload's scalars in its multipart schema, where the client sends them.
    let doc = get_auth(&svc, "/go-doudou/openapi.json", "admin", "admin").json();
    let upload = &doc["paths"]["/upload"]["post"];
    let schema = &upload["requestBody"]["content"]["multipart/form-data"]["schema"];
    assert_eq!(schema["properties"]["note"], json!({ "type": "string" }));
    assert_eq!(schema["required"], json!(["file"]));
    assert!(upload.get("parameters").is_none(), "no query parameters beside the form: {upload}");
    let file = doudou::UploadFile::new("n.txt", "text/plain", &b"abc"[..]);
    let up = client.upload(file, Some("sent in the form".into())).await.expect("upload");
    assert_eq!(up.note.as_deref(), Some("sent in the form"));
}

#[tokio::test]
async fn a_type_alias_is_the_scalar_it_names() {
    let (svc, client) = helloworld();
    let doc = get_auth(&svc, "/go-doudou/openapi.json", "admin", "admin").json();
    let params = &doc["paths"]["/scalars"]["get"]["parameters"];
    let user =
        params.as_array().and_then(|p| p.iter().find(|p| p["name"] == "user")).expect("user parameter");
    assert_eq!((user["in"].clone(), user["schema"]["type"].clone()), (json!("query"), json!("integer")));
    assert_eq!(client.get_scalars(None, None, None, Some(42)).await.expect("alias").user, Some(42));
    let err = client.get_user(0).await.expect_err("404");
    assert_eq!(err.status(), StatusCode::NOT_FOUND);
    assert_eq!(client.get_user(7).await.expect("user"), User::numbered(7));
}
