//! The generated `HelloworldClient` against the running example: the same calls, typed.

use doudou::{HeaderMap, StatusCode, UploadFile};
use doudou_tests::{bin, start, Proc};
use helloworld::{Helloworld, HelloworldClient, PageQuery, User};

fn helloworld() -> (Proc, HelloworldClient) {
    let svc = start(&bin("helloworld"), &[], None).expect("helloworld starts");
    let client = HelloworldClient::new(svc.base_url());
    (svc, client)
}

#[tokio::test]
async fn scalars_bodies_and_path_parameters() {
    let (_svc, client) = helloworld();
    assert_eq!(client.get_user(7).await.expect("get_user"), User::numbered(7));
    let page = client.page_users(PageQuery { page: 1, size: 2 }).await.expect("page_users");
    assert_eq!(page.items, vec![User::numbered(2), User::numbered(3)]);
    assert_eq!(client.add_users(vec![User::numbered(1), User::numbered(2)]).await.expect("bulk"), 2);
    assert_eq!(client.put_user(9, None).await.expect("put").name, "user-9");
    let zoe = User { id: 1, name: "Zoe".into(), email: "z@x".into(), active: false };
    assert_eq!(client.put_user(9, Some(zoe.clone())).await.expect("put"), User { id: 9, ..zoe });
    let post = client.user_post(7, "a/b c".into()).await.expect("user_post");
    assert_eq!((post.user_id, post.slug.as_str()), (7, "a/b c"), "path values are escaped");
    let user = client.sign_up("al".into(), "long-enough".into(), Some(3)).await.expect("sign_up");
    assert_eq!(user.email, "al@example.com");
}

#[tokio::test]
async fn options_vecs_and_headers() {
    let (_svc, client) = helloworld();
    let mut headers = HeaderMap::new();
    headers.insert("user-agent", "typed-client".parse().expect("header"));
    let remote = "10.9.8.7:1".parse().expect("addr");
    let g = client
        .get_greet("Ann".into(), Some(3), vec!["x".into(), "y".into()], headers, remote)
        .await
        .expect("greet");
    assert_eq!(g.message, "Hello, Ann! Hello, Ann! Hello, Ann!");
    assert_eq!(g.tags, vec!["x", "y"]);
    assert_eq!(g.user_agent.as_deref(), Some("typed-client"));
    assert_eq!(g.remote_ip, "127.0.0.1", "the server sees the real peer, not the argument");
}

#[tokio::test]
async fn errors_come_back_typed() {
    let (_svc, client) = helloworld();
    let err = client.get_user(0).await.expect_err("404");
    assert_eq!((err.status(), err.message()), (StatusCode::NOT_FOUND, "no user with id 0"));
    let err = client.get_fail(409).await.expect_err("409");
    assert_eq!((err.status(), err.code()), (StatusCode::CONFLICT, 1409));
    let err = client.sign_up("admin".into(), "whatever".into(), None).await.expect_err("409");
    assert_eq!((err.status(), err.code()), (StatusCode::CONFLICT, 4009));
    client.delete_user(4).await.expect("204 is Ok(())");
    let err = client.get_panic().await.expect_err("500");
    assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn upload_and_download() {
    let (_svc, client) = helloworld();
    let content: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let file = UploadFile::new("notes.txt", "text/plain", content.clone());
    let up = client.upload(file, Some("hi".into())).await.expect("upload");
    assert_eq!((up.filename.as_str(), up.size, up.note.as_deref()), ("notes.txt", 50_000, Some("hi")));
    assert_eq!(up.checksum, content.iter().map(|b| u64::from(*b)).sum::<u64>());

    let download = client.get_download("big.bin".into(), Some(300_000)).await.expect("download");
    assert_eq!(download.filename(), "big.bin");
    let bytes = download.bytes().await.expect("body");
    assert_eq!(bytes.len(), 300_000);
    assert!(bytes.iter().enumerate().all(|(i, b)| *b == i as u8));
}

#[tokio::test]
async fn an_unreachable_service_is_a_503_error() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    // The listener is dropped: nothing listens there any more.
    let client = HelloworldClient::new(format!("http://{addr}"));
    let err = client.get_user(1).await.expect_err("nobody listens");
    assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(err.message().contains(&addr.to_string()), "{}", err.message());
}

#[test]
fn the_openapi_document_describes_every_route() {
    let doc = helloworld::helloworld_openapi();
    assert_eq!(doc["openapi"], "3.0.3");
    assert_eq!(doc["info"]["version"], "0.1.0", "the version of the crate that defined the service");
    let paths = doc["paths"].as_object().expect("paths");
    for (path, verb) in [
        ("/user", "get"),
        ("/user", "delete"),
        ("/user", "put"),
        ("/page/users", "post"),
        ("/users/bulk", "post"),
        ("/greet", "get"),
        ("/sign/up", "post"),
        ("/users/{id}/posts/{slug}", "get"),
        ("/upload", "post"),
        ("/download", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(verb)).is_some(), "{verb} {path} missing");
    }
    let get_user = &doc["paths"]["/user"]["get"];
    assert_eq!(get_user["summary"], "Fetch one user.");
    assert_eq!(get_user["parameters"][0]["name"], "id");
    assert_eq!(get_user["parameters"][0]["required"], true);
    assert_eq!(
        get_user["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/User"
    );
    let greet = &doc["paths"]["/greet"]["get"]["parameters"];
    let names: Vec<&str> =
        greet.as_array().expect("params").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["name", "times", "tags"], "headers and remote address are not parameters");
    assert_eq!(doc["components"]["schemas"]["User"]["properties"]["id"]["type"], "integer");
    assert!(doc["paths"]["/upload"]["post"]["requestBody"]["content"]["multipart/form-data"].is_object());
    assert!(doc["paths"]["/user"]["delete"]["responses"]["204"].is_object());
}

#[tokio::test]
async fn a_tower_layer_wraps_every_attempt_and_the_timeout_is_per_client() {
    let (svc, _) = helloworld();
    let tagged = tower::layer::layer_fn(|inner| {
        tower::util::MapRequest::new(inner, |mut req: http::Request<doudou::body::Body>| {
            req.headers_mut().insert("user-agent", http::HeaderValue::from_static("layered"));
            req
        })
    });
    let client = HelloworldClient::with_client(doudou::Client::new(svc.base_url()).layer(tagged));
    let remote = "127.0.0.1:1".parse().expect("addr");
    let g = client.get_greet("Ann".into(), None, vec![], HeaderMap::new(), remote).await.expect("greet");
    assert_eq!(g.user_agent.as_deref(), Some("layered"));

    let impatient = HelloworldClient::with_client(
        doudou::Client::new(svc.base_url()).timeout(std::time::Duration::from_millis(200)).retries(0),
    );
    let started = std::time::Instant::now();
    let err = impatient.get_slow(2000).await.expect_err("no answer within 200 ms");
    assert_eq!(err.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(err.message().contains("GDD_CLIENT_TIMEOUT"), "{}", err.message());
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1500),
        "gave up after {:?}",
        started.elapsed()
    );
}

/// Three instances that exist only in name: the transport below answers none of them.
struct ThreeInstances(std::sync::Arc<Vec<doudou::sd::Member>>);

impl doudou::ServiceProvider for ThreeInstances {
    fn name(&self) -> &str {
        "nowhere"
    }

    fn instances(&self) -> std::sync::Arc<Vec<doudou::sd::Member>> {
        std::sync::Arc::clone(&self.0)
    }
}

#[tokio::test]
async fn retries_stay_within_the_budget_when_every_instance_fails() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let members = ["a", "b", "c"].map(|n| doudou::sd::Member {
        name: n.into(),
        service: "nowhere".into(),
        gossip_address: String::new(),
        address: String::new(),
        base_url: format!("http://{n}.invalid"),
        weight: 1,
        version: String::new(),
        git_commit: String::new(),
        build_time: String::new(),
        start_time: 0,
        status: doudou::sd::MemberStatus::Alive,
    });
    let attempts = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&attempts);
    let broken = tower::service_fn(move |_req: http::Request<doudou::body::Body>| {
        counted.fetch_add(1, Ordering::Relaxed);
        async { Err::<http::Response<doudou::body::Body>, _>(std::io::Error::other("connection reset")) }
    });
    let client = HelloworldClient::with_client(
        doudou::Client::with_provider(ThreeInstances(std::sync::Arc::new(members.to_vec())))
            .transport(broken),
    );
    let calls = 1000;
    for _ in 0..calls {
        let err = client.get_user(7).await.expect_err("every instance fails");
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    let attempts = attempts.load(Ordering::Relaxed);
    eprintln!("MEASURED retry budget: {attempts} attempts for {calls} calls to three failing instances");
    // Without a budget, GDD_RETRY_COUNT (2) would make it 3,000 attempts. The budget allows 100
    // retries in reserve and one for every 5 calls: at most 1,300.
    assert!(attempts > calls, "idempotent calls are retried: {attempts}");
    assert!(attempts <= 1300, "{attempts} attempts for {calls} calls");
}
