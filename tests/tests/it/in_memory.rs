//! The whole request path without a process or a socket: helloworld served in memory
//! (`Server::into_service`), middleware, layers and the management routes included. What needs
//! the network (connections, gossip, real tools) stays in the process tests.

use doudou::body::Body;
use doudou::{Config, Server};
use helloworld::{helloworld_openapi, Hello, Helloworld, HelloworldClient, HelloworldServer, User};
use http_body_util::BodyExt;
use serde_json::{json, Value};

use crate::http::multipart;

fn service() -> doudou::InMemory {
    Server::new().service(HelloworldServer::new(Hello)).into_service(Config::defaults()).expect("routes")
}

/// Answers `method target` with an optional body and its content type: status and JSON body.
async fn call(method: &str, target: &str, body: Option<(&str, Vec<u8>)>) -> (u16, Value) {
    call_on(&service(), method, target, body).await
}

/// What `service` answers: status and JSON body.
async fn call_on(
    service: &doudou::InMemory,
    method: &str,
    target: &str,
    body: Option<(&str, Vec<u8>)>,
) -> (u16, Value) {
    let req = http::Request::builder().method(method).uri(target);
    let req = match body {
        Some((content_type, bytes)) => req.header("content-type", content_type).body(Body::full(bytes)),
        None => req.body(Body::empty()),
    };
    let resp = service.call(req.expect("request")).await;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON") };
    (status, value)
}

async fn get(target: &str) -> (u16, Value) {
    call("GET", target, None).await
}

#[tokio::test]
async fn a_catch_all_route_takes_the_rest_of_the_path() {
    assert_eq!(get("/static/css/site%20v2.css").await, (200, json!("css/site v2.css")));
    assert_eq!(get("/static/").await.0, 404, "a catch-all matches something");
    let doc = helloworld_openapi();
    let params = &doc["paths"]["/static/{rest}"]["get"]["parameters"];
    assert_eq!(
        params,
        &json!([{ "name": "rest", "in": "path", "required": true, "schema": { "type": "string" } }])
    );
    assert!(doc["paths"].get("/static/{*rest}").is_none());
}

#[tokio::test]
async fn scalars_are_bound_exactly_as_sent() {
    for (query, c) in [("c=%20", " "), ("c=%09", "\t"), ("c=+", " "), ("c=%C3%BC", "ü")] {
        let (status, body) = get(&format!("/scalars?{query}")).await;
        assert_eq!((status, body["c"].clone()), (200, json!(c)), "{query}");
    }
    for padded in ["small=%201", "small=1%20", "small=+1", "f=%201.5", "user=%207", "c=ab"] {
        let (status, body) = get(&format!("/scalars?{padded}")).await;
        assert_eq!(status, 400, "{padded} must be refused: {body}");
    }
    // An optional value left blank (an HTML form's empty input) is absent, as the document's
    // allowEmptyValue says.
    let (status, body) = get("/scalars?c=&small=&f=&user=").await;
    assert_eq!((status, body), (200, json!({ "c": null, "f": null, "small": null, "user": null })));
    let doc = helloworld_openapi();
    let params = doc["paths"]["/scalars"]["get"]["parameters"].as_array().cloned().unwrap_or_default();
    assert!(params.iter().all(|p| p["allowEmptyValue"] == true), "{params:?}");
    let (status, body) = get("/scalars?small=%2B1&user=7").await;
    assert_eq!((status, body["small"].clone(), body["user"].clone()), (200, json!(1), json!(7)));
}

#[tokio::test]
async fn numbers_out_of_range_or_not_finite_are_refused_naming_the_range() {
    for f in ["NaN", "nan", "inf", "-inf", "infinity", "1e400", "1e39"] {
        let (status, body) = get(&format!("/scalars?f={f}")).await;
        assert_eq!(status, 400, "{f}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| m.contains("expected a finite number")), "{body}");
    }
    let (status, body) = get("/scalars?small=200").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "invalid value \"200\" for parameter `small`: expected an integer from -128 to 127"
    );
    let (_, body) = get("/scalars?user=-1").await;
    assert!(body["message"].as_str().is_some_and(|m| m.contains("from 0 to 18446744073709551615")), "{body}");
}

#[tokio::test]
async fn an_optional_body_of_null_is_none_and_a_required_one_is_not() {
    for body in [&b"null"[..], b" null ", b""] {
        let (status, user) = call("PUT", "/user?id=3", Some(("application/json", body.to_vec()))).await;
        assert_eq!(
            (status, user["name"].clone()),
            (200, json!("user-3")),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    let zoe = br#"{"id":1,"name":"Zoe","email":"z@x","active":true}"#.to_vec();
    assert_eq!(call("PUT", "/user?id=3", Some(("application/json", zoe))).await.1["name"], "Zoe");
    let (status, _) = call("POST", "/page/users", Some(("application/json", b"null".to_vec()))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn multipart_text_fields_bind_scalars_without_a_file() {
    let (ct, body) =
        multipart(&[("username", None, b"ann"), ("password", None, b"long-enough"), ("age", None, b"30")]);
    let (status, user) = call("POST", "/sign/up", Some((&ct, body))).await;
    assert_eq!((status, user["name"].clone()), (200, json!("ann")), "{user}");
    let (ct, body) =
        multipart(&[("username", None, b"ann"), ("password", None, b"long-enough"), ("age", None, b"300")]);
    let (status, err) = call("POST", "/sign/up", Some((&ct, body))).await;
    assert_eq!(status, 400);
    assert!(
        err["message"].as_str().is_some_and(|m| m.contains("`age`: expected an integer from 0 to 255")),
        "{err}"
    );
    // The document puts an upload's scalars in its multipart schema.
    let doc = helloworld_openapi();
    let upload = &doc["paths"]["/upload"]["post"];
    let schema = &upload["requestBody"]["content"]["multipart/form-data"]["schema"];
    assert_eq!(schema["properties"]["note"], json!({ "type": "string" }));
    assert_eq!(schema["required"], json!(["file"]));
    assert!(upload.get("parameters").is_none(), "no query parameters beside the form: {upload}");
}

#[tokio::test]
async fn a_type_alias_is_the_scalar_it_names() {
    let doc = helloworld_openapi();
    let params = &doc["paths"]["/scalars"]["get"]["parameters"];
    let user =
        params.as_array().and_then(|p| p.iter().find(|p| p["name"] == "user")).expect("user parameter");
    assert_eq!((user["in"].clone(), user["schema"]["type"].clone()), (json!("query"), json!("integer")));
    assert_eq!(get("/scalars?user=42").await.1["user"], 42);
}

#[tokio::test]
async fn the_generated_client_calls_the_router_in_memory() {
    let client = HelloworldClient::with_client(doudou::Client::new("http://in-memory").transport(service()));
    assert_eq!(client.get_user(7).await.expect("get_user"), User::numbered(7));
    let err = client.get_user(0).await.expect_err("404");
    assert_eq!((err.status().as_u16(), err.message()), (404, "no user with id 0"));
    assert_eq!(client.get_static("a/b c.css".into()).await.expect("catch-all"), "a/b c.css");
}

/// A parcel's weights, in a model with a camelCase wire name.
#[doudou::model]
#[serde(rename_all = "camelCase")]
pub(crate) struct Parcel {
    pub(crate) weight_kg: f32,
    pub(crate) legs: Vec<f32>,
    pub(crate) volume: Option<f32>,
    /// Checked when present, with `&String`, as the validator crate's custom rules are.
    #[validate(custom(function = "not_blank"))]
    pub(crate) note: Option<String>,
}

// `&String`: the rule hands the value inside the `Option<String>`, as it is.
#[allow(clippy::ptr_arg)]
fn not_blank(text: &String) -> Result<(), &'static str> {
    if text.trim().is_empty() {
        return Err("must not be blank");
    }
    Ok(())
}

#[doudou::service]
pub(crate) trait Parcels {
    async fn post_parcel(&self, parcel: Parcel) -> Result<Parcel, doudou::Error>;
}

struct Depot;

impl Parcels for Depot {
    async fn post_parcel(&self, parcel: Parcel) -> Result<Parcel, doudou::Error> {
        Ok(parcel)
    }
}

#[tokio::test]
async fn a_json_number_beyond_f32s_range_is_refused_naming_its_path() {
    let router =
        Server::new().service(ParcelsServer::new(Depot)).into_service(Config::defaults()).expect("routes");
    let post =
        |body: &'static str| call_on(&router, "POST", "/parcel", Some(("application/json", body.into())));
    let (status, body) = post(r#"{"weightKg": 1e39, "legs": [1, -1e39], "volume": 3e38}"#).await;
    assert_eq!(status, 400, "{body}");
    let fields = body["fields"].as_object().expect("fields");
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["legs[1]", "weightKg"], "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("weightKg: must be a number from")),
        "{body}"
    );
    let (status, body) = post(r#"{"weightKg": 3.4e38, "legs": [], "volume": null}"#).await;
    assert_eq!((status, body["weightKg"].as_f64().is_some()), (200, true), "{body}");
    // A custom rule on an Option checks what is inside, and passes an absent value.
    let (status, body) = post(r#"{"weightKg": 1, "legs": [], "note": "  "}"#).await;
    assert_eq!((status, body["fields"]["note"].clone()), (400, json!(["must not be blank"])), "{body}");
    let (status, body) = post(r#"{"weightKg": 1, "legs": [], "note": "fragile"}"#).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_wrong_verb_is_405_and_allow_lists_head_beside_get() {
    let req = http::Request::post("/scalars").body(Body::empty()).expect("request");
    let resp = service().call(req).await;
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "GET, HEAD");
    let head = http::Request::head("/scalars").body(Body::empty()).expect("request");
    assert_eq!(service().call(head).await.status(), 200, "HEAD is answered as it is allowed");
}

/// What `Catalog::get_kind` answers: the parameters as bound.
#[doudou::model]
pub(crate) struct Listing {
    pub kind: String,
    pub page_size: u32,
    pub reference: Option<String>,
}

/// Parameters named on the wire otherwise than in Rust: a keyword (`type`, `ref`) and
/// go-doudou's camelCase (`pageSize`).
#[doudou::service]
pub(crate) trait Catalog {
    #[get("/kind/{type}")]
    async fn get_kind(
        &self,
        r#type: String,
        #[doudou(name = "pageSize")]
        #[allow(non_snake_case)]
        pageSize: u32,
        r#ref: Option<String>,
    ) -> Result<Listing, doudou::Error>;
}

struct Shelf;

impl Catalog for Shelf {
    #[allow(non_snake_case)]
    async fn get_kind(
        &self,
        r#type: String,
        pageSize: u32,
        r#ref: Option<String>,
    ) -> Result<Listing, doudou::Error> {
        Ok(Listing { kind: r#type, page_size: pageSize, reference: r#ref })
    }
}

#[tokio::test]
async fn parameters_bind_by_their_wire_names_in_server_client_and_document() {
    let service =
        Server::new().service(CatalogServer::new(Shelf)).into_service(Config::defaults()).expect("routes");
    let (status, body) = call_on(&service, "GET", "/kind/book?pageSize=20&ref=shelf-3", None).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "kind": "book", "page_size": 20, "reference": "shelf-3" }));

    let client = CatalogClient::with_client(doudou::Client::new("http://catalog").transport(service));
    let listing = client.get_kind("film".to_owned(), 5, None).await.expect("call");
    assert_eq!((listing.kind.as_str(), listing.page_size, listing.reference), ("film", 5, None));

    let doc = catalog_openapi();
    let op = &doc["paths"]["/kind/{type}"]["get"];
    let names: Vec<&str> =
        op["parameters"].as_array().expect("parameters").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["type", "pageSize", "ref"], "{op}");
}

/// What `Pages::get_page` answers.
#[doudou::model]
pub(crate) struct Paged {
    pub page_size: u32,
    pub sort_by: Option<String>,
    pub id: u64,
}

/// go-doudou's camelCase for every parameter at once.
#[doudou::service(rename_all = "camelCase")]
pub(crate) trait Pages {
    #[get("/pages/{pageId}")]
    async fn get_page(
        &self,
        page_id: u64,
        page_size: u32,
        sort_by: Option<String>,
    ) -> Result<Paged, doudou::Error>;
}

struct Book;

impl Pages for Book {
    async fn get_page(
        &self,
        page_id: u64,
        page_size: u32,
        sort_by: Option<String>,
    ) -> Result<Paged, doudou::Error> {
        Ok(Paged { page_size, sort_by, id: page_id })
    }
}

#[tokio::test]
async fn a_service_wide_rename_names_every_parameter() {
    let service =
        Server::new().service(PagesServer::new(Book)).into_service(Config::defaults()).expect("routes");
    let (status, body) = call_on(&service, "GET", "/pages/9?pageSize=3&sortBy=title", None).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "page_size": 3, "sort_by": "title", "id": 9 }));
    let (status, _) = call_on(&service, "GET", "/pages/9?page_size=3", None).await;
    assert_eq!(status, 400, "the Rust name is not the wire name");

    let client = PagesClient::with_client(doudou::Client::new("http://pages").transport(service));
    let paged = client.get_page(4, 10, Some("date".to_owned())).await.expect("call");
    assert_eq!((paged.id, paged.page_size, paged.sort_by.as_deref()), (4, 10, Some("date")));
    let doc = pages_openapi();
    let op = &doc["paths"]["/pages/{pageId}"]["get"];
    let names: Vec<&str> =
        op["parameters"].as_array().expect("parameters").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["pageId", "pageSize", "sortBy"], "{op}");
}
