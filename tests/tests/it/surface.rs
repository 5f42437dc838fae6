//! The HTTP surface a real API needs, in memory over helloworld: statuses and headers of
//! answers (201 and its Location, 202, a redirect, raw and text bodies, response headers and
//! cookies), header and cookie parameters, an extractor of the service's own with its security
//! scheme, and the client's form bodies. Each through HTTP, through the generated client, and
//! in the document.

use std::sync::{Arc, Mutex};

use doudou::body::Body;
use doudou::{Config, Server};
use helloworld::{
    helloworld_openapi, Caching, Caller, Hello, Helloworld, HelloworldClient, HelloworldServer, Job, NewUser,
    TenantView,
};
use http_body_util::BodyExt;
use serde_json::{json, Value};

fn service() -> doudou::InMemory {
    Server::new().service(HelloworldServer::new(Hello)).into_service(Config::defaults()).expect("routes")
}

/// What the service answers to `req`: status, headers and body.
async fn send(req: http::Request<Body>) -> (u16, http::HeaderMap, Vec<u8>) {
    let resp = service().call(req).await;
    let (parts, body) = resp.into_parts();
    (parts.status.as_u16(), parts.headers, body.collect().await.expect("body").to_bytes().to_vec())
}

/// The header `name` as text ("" when absent).
fn h<'a>(headers: &'a http::HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

fn get(target: &str) -> http::request::Builder {
    http::Request::builder().method("GET").uri(target)
}

/// What the generated client sent: method, target, content type, body.
type Sent = Arc<Mutex<Vec<(String, String, Option<String>, Vec<u8>, http::HeaderMap)>>>;

/// A client of helloworld in memory that records each request it sends.
fn recording_client() -> (HelloworldClient, Sent) {
    recording_client_with(|client| client)
}

/// The same, its `doudou::Client` adjusted by `adjust`.
fn recording_client_with(adjust: impl FnOnce(doudou::Client) -> doudou::Client) -> (HelloworldClient, Sent) {
    let sent: Sent = Arc::default();
    let record = sent.clone();
    let inner = service();
    let transport = tower::service_fn(move |req: http::Request<Body>| {
        let (record, inner) = (record.clone(), inner.clone());
        async move {
            let (parts, body) = req.into_parts();
            let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let content_type =
                parts.headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
            record.lock().expect("record").push((
                parts.method.to_string(),
                parts.uri.to_string(),
                content_type,
                bytes.to_vec(),
                parts.headers.clone(),
            ));
            let resp = inner.call(http::Request::from_parts(parts, Body::full(bytes))).await;
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    let client =
        HelloworldClient::with_client(adjust(doudou::Client::new("http://in-memory").transport(transport)));
    (client, sent)
}

fn new_user(email: &str) -> NewUser {
    serde_json::from_value(json!({
        "name": "Cy", "email": email, "age": 40, "address": { "zip": "10115", "city": "Berlin" }
    }))
    .expect("a new user")
}

#[tokio::test]
async fn created_answers_201_with_its_location_over_http_and_through_the_client() {
    let body = serde_json::to_vec(&new_user("cy@example.org")).expect("json");
    let req = http::Request::builder()
        .method("POST")
        .uri("/users")
        .header("content-type", "application/json")
        .body(Body::full(body))
        .expect("request");
    let (status, headers, body) = send(req).await;
    let user: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, 201);
    assert_eq!(headers["location"], format!("/users/{}", user["id"]));

    let (client, _) = recording_client();
    let created = client.create_user(new_user("dee@example.org")).await.expect("created");
    assert_eq!(created.location(), format!("/users/{}", created.value().id));
    assert_eq!(created.value().email, "dee@example.org");

    let doc = helloworld_openapi();
    let responses = &doc["paths"]["/users"]["post"]["responses"];
    assert!(responses.get("200").is_none(), "{responses}");
    assert_eq!(responses["201"]["headers"]["Location"]["required"], true);
    assert!(responses["201"]["content"]["application/json"]["schema"]["$ref"].is_string());
}

#[tokio::test]
async fn status_redirect_raw_and_text_answers_are_what_they_say() {
    let (status, _, body) =
        send(http::Request::post("/jobs?task=rebuild").body(Body::empty()).expect("req")).await;
    assert_eq!(
        (status, serde_json::from_slice::<Value>(&body).expect("JSON")["task"].clone()),
        (202, json!("rebuild"))
    );

    let (status, headers, body) = send(get("/people/7").body(Body::empty()).expect("req")).await;
    assert_eq!((status, headers["location"].to_str().ok(), body.len()), (301, Some("/users/7"), 0));

    let (status, headers, body) = send(get("/users/7/avatar").body(Body::empty()).expect("req")).await;
    assert_eq!((status, h(&headers, "content-type")), (200, "image/svg+xml"));
    assert_eq!((h(&headers, "cache-control"), h(&headers, "etag")), ("public, max-age=3600", "\"avatar-7\""));
    assert!(body.starts_with(b"<svg"), "{}", String::from_utf8_lossy(&body));

    let (status, headers, body) = send(get("/motd").body(Body::empty()).expect("req")).await;
    assert_eq!(
        (status, h(&headers, "content-type"), body.as_slice()),
        (200, "text/plain; charset=utf-8", &b"Hello from doudou"[..])
    );

    // The generated client reads back each value, the redirect's location and the headers.
    let (client, _) = recording_client();
    let job = client.post_jobs("rebuild".into()).await.expect("accepted");
    assert_eq!(job.0, Job { id: job.0.id, task: "rebuild".into() });
    assert_eq!(client.people(7).await.expect("redirect").location(), "/users/7");
    let avatar = client.get_avatar(7).await.expect("avatar");
    assert_eq!(
        avatar.headers,
        Caching { cache_control: "public, max-age=3600".into(), etag: "\"avatar-7\"".into() }
    );
    assert!(avatar.value.bytes().starts_with(b"<svg"));
    assert_eq!(client.get_motd().await.expect("motd").as_str(), "Hello from doudou");

    let doc = helloworld_openapi();
    let paths = &doc["paths"];
    assert!(paths["/jobs"]["post"]["responses"]["202"]["content"]["application/json"].is_object());
    assert_eq!(paths["/people/{id}"]["get"]["responses"]["301"]["headers"]["Location"]["required"], true);
    let avatar = &paths["/users/{id}/avatar"]["get"]["responses"]["200"];
    assert_eq!(avatar["content"]["image/svg+xml"]["schema"], json!({ "type": "string", "format": "binary" }));
    assert_eq!(avatar["headers"]["cache-control"]["schema"]["type"], "string");
    assert_eq!(avatar["headers"]["etag"]["required"], true);
    assert!(paths["/motd"]["get"]["responses"]["200"]["content"]["text/plain"].is_object());
}

#[tokio::test]
async fn a_cookie_set_by_one_call_is_read_by_a_cookie_parameter() {
    let form = http::Request::post("/sign/in")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::full("username=ann+lee&password=pw"))
        .expect("req");
    let (status, headers, _) = send(form).await;
    assert_eq!(status, 204);
    let cookie = headers["set-cookie"].to_str().expect("text");
    assert_eq!(cookie, "session=ann%20lee; Path=/; Secure; HttpOnly; SameSite=Lax");

    // The cookie as a browser sends it back, beside the tenant headers.
    let req = get("/tenant")
        .header("x-tenant", "acme")
        .header("accept-language", "fr")
        .header("cookie", "theme=dark; session=ann%20lee")
        .body(Body::empty())
        .expect("req");
    let (status, _, body) = send(req).await;
    let view: TenantView = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, 200);
    assert_eq!(
        view,
        TenantView { tenant: "acme".into(), language: Some("fr".into()), session: Some("ann lee".into()) }
    );

    // A cookie set for two paths comes twice, the most specific first: that one is taken.
    let req = get("/tenant")
        .header("x-tenant", "acme")
        .header("cookie", "session=a; session=b")
        .body(Body::empty());
    let (status, _, body) = send(req.expect("req")).await;
    assert_eq!(
        (status, serde_json::from_slice::<Value>(&body).expect("JSON")["session"].clone()),
        (200, json!("a"))
    );

    // A required header that is missing is named as a header.
    let (status, _, body) = send(get("/tenant").body(Body::empty()).expect("req")).await;
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!((status, body["message"].as_str()), (400, Some("missing header `x-tenant`")));

    // Through the client: the sign-in's cookie comes back typed; the header and cookie
    // parameters are sent as such.
    let (client, sent) = recording_client();
    let session = client.sign_in("ann lee".into(), "pw".into()).await.expect("signed in");
    assert_eq!(
        (session.headers.set_cookie[0].name(), session.headers.set_cookie[0].value()),
        ("session", "ann lee".into())
    );
    let view = client.get_tenant("acme".into(), None, Some("ann lee".into())).await.expect("tenant");
    assert_eq!(view.session.as_deref(), Some("ann lee"));
    // A value a header cannot hold as text fails the call before it is sent.
    let refused = client.get_tenant("Zoë".into(), None, None).await.expect_err("not sent");
    assert!(refused.message().contains("header `x-tenant`"), "{refused}");
    let sent = sent.lock().expect("sent");
    assert_eq!(sent.len(), 2, "the refused call was not sent");
    let (_, target, _, _, headers) = &sent[1];
    assert_eq!(
        (target.as_str(), h(headers, "x-tenant"), h(headers, "cookie")),
        ("http://in-memory/tenant", "acme", "session=ann%20lee")
    );
    assert!(!headers.contains_key("accept-language"), "None is not sent");
    drop(sent);

    let doc = helloworld_openapi();
    let params = doc["paths"]["/tenant"]["get"]["parameters"].as_array().cloned().unwrap_or_default();
    let place = |name: &str| {
        params.iter().find(|p| p["name"] == name).map(|p| (p["in"].clone(), p["required"].clone()))
    };
    assert_eq!(place("x-tenant"), Some((json!("header"), json!(true))));
    assert_eq!(place("accept-language"), Some((json!("header"), json!(false))));
    assert_eq!(place("session"), Some((json!("cookie"), json!(false))));
    let sign_in = &doc["paths"]["/sign/in"]["post"]["responses"]["204"];
    assert!(sign_in["headers"]["set-cookie"].is_object(), "{sign_in}");
}

#[tokio::test]
async fn an_extractor_of_the_services_own_authenticates_and_is_in_the_document() {
    let (status, _, body) = send(get("/me").body(Body::empty()).expect("req")).await;
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, 401, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("Authorization: Bearer")), "{body}");
    let (status, _, body) =
        send(get("/me").header("authorization", "Bearer demo-ann").body(Body::empty()).expect("req")).await;
    assert_eq!((status, body.as_slice()), (200, &b"\"ann\""[..]));

    // The client sends the caller it is given, or the credentials it was given once.
    let (client, _) = recording_client();
    assert_eq!(client.get_me(Caller::named("bo")).await.expect("me"), "bo");
    let (client, sent) = recording_client_with(|c| c.bearer("demo-cy").expect("a token"));
    assert_eq!(client.get_user(1).await.expect("user").id, 1);
    assert_eq!(client.get_me(Caller::named("bo")).await.expect("me"), "bo", "the parameter's own wins");
    assert_eq!(sent.lock().expect("sent")[0].4["authorization"], "Bearer demo-cy");
    // A caller whose token cannot be sent fails the call: the client's own token does not go
    // in its place.
    let refused = client.get_me(Caller::named("line\nbreak")).await.expect_err("not sent");
    assert_eq!((refused.status().as_u16(), sent.lock().expect("sent").len()), (400, 2), "{refused}");
    let refused = doudou::Client::new("http://in-memory").bearer("line\nbreak").expect_err("not a header");
    assert!(refused.message().contains("authorization"), "{refused}");

    let doc = helloworld_openapi();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"],
        json!({ "type": "http", "scheme": "bearer", "bearerFormat": "demo-<name>" })
    );
    let me = &doc["paths"]["/me"]["get"];
    assert_eq!(me["security"], json!([{ "bearerAuth": [] }]));
    assert!(me["responses"]["401"].is_object(), "{me}");
    assert!(doc["paths"]["/user"]["get"].get("security").is_none());
}

#[tokio::test]
async fn the_client_sends_post_scalars_as_a_form_body_and_get_scalars_in_the_query() {
    let (client, sent) = recording_client();
    client.sign_up("ann".into(), "broken & lost".into(), Some(30)).await.expect("signed up");
    client.get_user(7).await.expect("user");
    client.create_user(new_user("eve@example.org")).await.expect("created");
    let sent = sent.lock().expect("sent").clone();
    let (method, target, content_type, body, _) = &sent[0];
    assert_eq!((method.as_str(), target.as_str()), ("POST", "http://in-memory/sign/up"), "no query string");
    assert_eq!(content_type.as_deref(), Some("application/x-www-form-urlencoded"));
    assert_eq!(String::from_utf8_lossy(body), "username=ann&password=broken+%26+lost&age=30");
    assert_eq!(sent[1].1, "http://in-memory/user?id=7");
    assert_eq!(sent[2].2.as_deref(), Some("application/json"), "a JSON body stays JSON");

    let doc = helloworld_openapi();
    let sign_up = &doc["paths"]["/sign/up"]["post"];
    assert!(sign_up.get("parameters").is_none(), "{sign_up}");
    let form = &sign_up["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    assert_eq!(form["required"], json!(["username", "password"]));
    // An optional number left blank in a form is absent: the schema takes "" too.
    let age = &form["properties"]["age"]["anyOf"];
    assert_eq!((&age[0]["type"], &age[1]), (&json!("integer"), &json!({ "type": "string", "maxLength": 0 })));
    // The server still takes them from the query string, as go-doudou's does.
    let (status, _, _) =
        send(http::Request::post("/sign/up?username=bo&password=x").body(Body::empty()).expect("req")).await;
    assert_eq!(status, 200);
}

/// A shape, tagged by `kind` on the wire.
#[doudou::model]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Shape {
    Circle { radius: u32 },
    Square { side: u32 },
}

/// A field whose wire name is `$ref`, which is data, not a reference.
#[doudou::model]
pub(crate) struct Pointer {
    #[serde(rename = "$ref")]
    pub(crate) target: String,
    pub(crate) note: Option<String>,
}

#[doudou::service]
pub(crate) trait Shapes {
    /// The shape of `id`, if there is one.
    async fn get_shape(&self, id: u64) -> Result<Option<Shape>, doudou::Error>;

    /// A pointer.
    async fn get_pointer(&self) -> Result<Pointer, doudou::Error>;
}

#[tokio::test]
async fn the_document_says_what_openapi_3_0_readers_need() {
    let doc = shapes_openapi();
    assert_eq!(doc["servers"], json!([{ "url": "/" }]));
    let answer = &doc["paths"]["/shape"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    // `nullable` beside a `$ref` is ignored by 3.0 readers: the reference is in an `allOf`.
    assert_eq!(answer, &json!({ "allOf": [{ "$ref": "#/components/schemas/Shape" }], "nullable": true }));
    let shape = &doc["components"]["schemas"]["Shape"];
    let radius = &shape["oneOf"][0]["properties"]["radius"];
    assert_eq!(
        (radius["minimum"].as_u64(), radius["maximum"].as_u64()),
        (Some(0), Some(u64::from(u32::MAX)))
    );
    assert!(radius["minimum"].is_u64(), "an integer's bound is an integer: {radius}");
    let pointer = &doc["components"]["schemas"]["Pointer"]["properties"];
    assert_eq!(pointer["$ref"]["type"], "string", "a property named $ref stays: {pointer}");
}

#[tokio::test]
async fn a_part_of_the_wrong_kind_is_a_400_that_says_what_was_sent_and_expected() {
    let upload = |parts: &[(&str, Option<&str>, &[u8])]| {
        let (content_type, body) = crate::http::multipart(parts);
        http::Request::post("/upload")
            .header("content-type", content_type)
            .body(Body::full(body))
            .expect("req")
    };
    // Text where the file is expected.
    let (status, _, body) = send(upload(&[("file", None, b"not a file")])).await;
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("`file` is text, where the method takes a file")),
        "{body}"
    );
    // A file where a text value is expected.
    let (status, _, body) =
        send(upload(&[("file", Some("a.txt"), b"x"), ("note", Some("n.txt"), b"y")])).await;
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("`note` is a file, where the method takes a text value")),
        "{body}"
    );
    // Each of the right kind.
    let (status, _, _) = send(upload(&[("file", Some("a.txt"), b"x"), ("note", None, b"y")])).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_single_valued_parameter_given_twice_is_refused_and_a_list_takes_both() {
    let (status, _, body) = send(get("/user?id=1&id=2").body(Body::empty()).expect("req")).await;
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("parameter `id` was given more than once; it takes one value"))
    );
    // Once in the query and once in the form is twice too.
    let form = http::Request::post("/sign/up?username=ann")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::full("username=bo&password=x"))
        .expect("req");
    assert_eq!(send(form).await.0, 400);
    let (status, _, body) = send(get("/greet?name=a&tags=x&tags=y").body(Body::empty()).expect("req")).await;
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, 200, "{body}");
}

/// A booking: dates, times and ids of the crates doudou's features bring.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Booking {
    pub(crate) id: doudou::uuid::Uuid,
    pub(crate) at: doudou::chrono::DateTime<doudou::chrono::Utc>,
    pub(crate) day: doudou::chrono::NaiveDate,
    /// `time` has no schema of its own: described as the string it is written as.
    #[serde(with = "doudou::time::serde::rfc3339")]
    #[schemars(with = "String")]
    pub(crate) confirmed: doudou::time::OffsetDateTime,
}

#[doudou::service]
pub(crate) trait Bookings {
    async fn get_booking(
        &self,
        id: doudou::uuid::Uuid,
        at: doudou::chrono::DateTime<doudou::chrono::Utc>,
        day: doudou::chrono::NaiveDate,
        confirmed: doudou::time::OffsetDateTime,
        on: Option<doudou::time::Date>,
    ) -> Result<Booking, doudou::Error>;
}

struct Desk;

impl Bookings for Desk {
    async fn get_booking(
        &self,
        id: doudou::uuid::Uuid,
        at: doudou::chrono::DateTime<doudou::chrono::Utc>,
        day: doudou::chrono::NaiveDate,
        confirmed: doudou::time::OffsetDateTime,
        on: Option<doudou::time::Date>,
    ) -> Result<Booking, doudou::Error> {
        let day = on.map_or(day, |on| day.with_year(on.year()).unwrap_or(day));
        Ok(Booking { id, at, day, confirmed })
    }
}

use doudou::chrono::Datelike as _;

#[tokio::test]
async fn dates_times_and_uuids_bind_cross_the_wire_and_are_described() {
    let desk =
        Server::new().service(BookingsServer::new(Desk)).into_service(Config::defaults()).expect("routes");
    let target = "/booking?id=67e55044-10b1-426f-9247-bb680e5fe0c8&at=2026-12-08T11:00:00%2B01:00&day=2026-12-08&confirmed=2026-12-01T09:30:00Z";
    let resp = desk.call(get(target).body(Body::empty()).expect("req")).await;
    let (status, body) = (resp.status(), resp.into_body().collect().await.expect("body").to_bytes());
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["at"], "2026-12-08T10:00:00Z", "converted to UTC");
    assert_eq!((&body["day"], &body["confirmed"]), (&json!("2026-12-08"), &json!("2026-12-01T09:30:00Z")));
    let resp =
        desk.call(get("/booking?id=nope&at=x&day=y&confirmed=z").body(Body::empty()).expect("req")).await;
    let body: Value =
        serde_json::from_slice(&resp.into_body().collect().await.expect("body").to_bytes()).expect("JSON");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("expected a UUID")), "{body}");
    // A date is exactly YYYY-MM-DD, as everything else binds exactly as sent.
    for loose in ["2026-1-8", "%202026-12-08", "%2B2026-12-08"] {
        let target = format!("/booking?id=67e55044-10b1-426f-9247-bb680e5fe0c8&at=2026-12-08T10:00:00Z&day={loose}&confirmed=2026-12-01T09:30:00Z");
        let resp = desk.call(get(&target).body(Body::empty()).expect("req")).await;
        assert_eq!(resp.status(), 400, "{loose}");
    }

    let client = BookingsClient::with_client(doudou::Client::new("http://desk").transport(desk));
    let at = doudou::chrono::DateTime::parse_from_rfc3339("2026-12-08T10:00:00Z").expect("at").to_utc();
    let day = doudou::chrono::NaiveDate::from_ymd_opt(2026, 12, 8).expect("day");
    let confirmed = doudou::time::OffsetDateTime::from_unix_timestamp(1_796_000_000).expect("time");
    let on = doudou::time::Date::from_calendar_date(2027, doudou::time::Month::January, 2).expect("date");
    let id = doudou::uuid::Uuid::new_v4();
    let booking = client.get_booking(id, at, day, confirmed, Some(on)).await.expect("booking");
    assert_eq!(booking, Booking { id, at, day: day.with_year(2027).expect("2027"), confirmed });

    let doc = bookings_openapi();
    let params = doc["paths"]["/booking"]["get"]["parameters"].as_array().cloned().unwrap_or_default();
    let format =
        |name: &str| params.iter().find(|p| p["name"] == name).map(|p| p["schema"]["format"].clone());
    assert_eq!(format("id"), Some(json!("uuid")));
    assert_eq!(format("at"), Some(json!("date-time")));
    assert_eq!(format("on"), Some(json!("date")));
    let booking = &doc["components"]["schemas"]["Booking"]["properties"];
    assert_eq!((&booking["id"]["format"], &booking["at"]["format"]), (&json!("uuid"), &json!("date-time")));
}
