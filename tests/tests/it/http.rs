//! Every parameter kind, response kind and bad input, with a plain HTTP/1.1 client.

use doudou_tests::{bin, get, raw, start, Proc};

use crate::manage::get_auth;

fn helloworld(envs: &[(&str, &str)]) -> Proc {
    start(&bin("helloworld"), envs, None).expect("helloworld starts")
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

#[test]
fn query_scalar_and_json_response() {
    let svc = helloworld(&[]);
    let r = get(svc.addr, "/user?id=7");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"id":7,"name":"user-7","email":"user-7@example.com","active":true}"#
    );
}

#[test]
fn request_ids_are_generated_or_echoed() {
    let svc = helloworld(&[]);
    let a = get(svc.addr, "/user?id=1");
    let b = get(svc.addr, "/user?id=1");
    let (a, b) = (a.header("x-request-id").expect("generated"), b.header("x-request-id").expect("generated"));
    assert_ne!(a, b, "each request gets its own id");
    let r = raw(svc.addr, "GET", "/user?id=1", &[("X-Request-ID", "trace-abc-123")], b"");
    assert_eq!(r.header("x-request-id"), Some("trace-abc-123"));
    let r = get(svc.addr, "/nope");
    assert!(r.header("x-request-id").is_some(), "errors carry the id too");
    // The handler sees the same id in its headers, generated or given.
    let r = get(svc.addr, "/greet?name=Ann");
    assert_eq!(r.json()["request_id"].as_str(), r.header("x-request-id"));
    let r = raw(svc.addr, "GET", "/greet?name=Ann", &[("X-Request-ID", "trace-abc-124")], b"");
    assert_eq!(r.json()["request_id"], "trace-abc-124");
    let long = "x".repeat(200);
    let r = raw(svc.addr, "GET", "/greet?name=Ann", &[("X-Request-ID", long.as_str())], b"");
    let generated = r.header("x-request-id").expect("a generated id in place of an invalid one");
    assert_ne!(generated, long);
    assert_eq!(r.json()["request_id"].as_str(), Some(generated));
}

#[test]
fn missing_and_unparsable_scalars_are_400_naming_the_parameter() {
    let svc = helloworld(&[]);
    let r = get(svc.addr, "/user");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], 400);
    assert_eq!(r.message(), "missing parameter `id`");
    let r = get(svc.addr, "/user?id=abc");
    assert_eq!(r.status, 400);
    assert!(r.message().contains("`id`") && r.message().contains("abc"), "{}", r.message());
    let r = get(svc.addr, "/user?id=-1");
    assert_eq!(r.status, 400, "u64 rejects negatives");
}

#[test]
fn optional_and_repeated_scalars_headers_and_remote_address() {
    let svc = helloworld(&[]);
    let r =
        raw(svc.addr, "GET", "/greet?name=Ann&times=2&tags=a&tags=b%20c", &[("User-Agent", "it/1.0")], b"");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let g = r.json();
    assert_eq!(g["message"], "Hello, Ann! Hello, Ann!");
    assert_eq!(g["tags"], serde_json::json!(["a", "b c"]));
    assert_eq!(g["user_agent"], "it/1.0");
    assert_eq!(g["remote_ip"], "127.0.0.1");
    let g = get(svc.addr, "/greet?name=Bo").json();
    assert_eq!(g["message"], "Hello, Bo!");
    assert_eq!(g["tags"], serde_json::json!([]));
    let ten = get(svc.addr, "/greet?name=Bo&times=10").json();
    assert_eq!(ten["message"].as_str().map(|m| m.matches("Bo").count()), Some(10));
    let r = get(svc.addr, "/greet?name=Bo&times=x");
    assert_eq!(r.status, 400);
    assert!(r.message().contains("`times`"));
}

#[test]
fn json_body_and_its_bad_inputs() {
    let svc = helloworld(&[]);
    let r = raw(svc.addr, "POST", "/page/users", &[JSON], br#"{"page":2,"size":3}"#);
    assert_eq!(r.status, 200);
    let page = r.json();
    assert_eq!(page["total"], 1000);
    let ids: Vec<u64> =
        page["items"].as_array().expect("items").iter().map(|u| u["id"].as_u64().expect("id")).collect();
    assert_eq!(ids, vec![6, 7, 8]);

    let r = raw(svc.addr, "POST", "/page/users", &[JSON], br#"{"page":2,"size":"#);
    assert_eq!(r.status, 400);
    assert!(r.message().starts_with("invalid JSON body `query`"), "{}", r.message());

    let r = raw(svc.addr, "POST", "/page/users", &[JSON], br#"{"page":"two","size":3}"#);
    assert_eq!(r.status, 400);
    assert!(r.message().contains("`query`"));

    let r =
        raw(svc.addr, "POST", "/page/users", &[("Content-Type", "text/plain")], br#"{"page":2,"size":3}"#);
    assert_eq!(r.status, 400);
    assert!(r.message().contains("application/json"), "{}", r.message());

    let r = raw(svc.addr, "POST", "/page/users", &[JSON], b"");
    assert_eq!(r.status, 400);
    assert_eq!(r.message(), "missing JSON body `query`");
}

#[test]
fn optional_and_array_bodies() {
    let svc = helloworld(&[]);
    let r = raw(svc.addr, "PUT", "/user?id=5", &[], b"");
    assert_eq!(r.json()["name"], "user-5", "no body: the default");
    let body = br#"{"id":1,"name":"Zoe","email":"z@example.com","active":false}"#;
    let r = raw(svc.addr, "PUT", "/user?id=5", &[JSON], body);
    assert_eq!(r.json(), serde_json::json!({"id":5,"name":"Zoe","email":"z@example.com","active":false}));

    let users = br#"[{"id":1,"name":"a","email":"a@x","active":true},{"id":2,"name":"b","email":"b@x","active":true}]"#;
    let r = raw(svc.addr, "POST", "/users/bulk", &[JSON], users);
    assert_eq!((r.status, r.json()), (200, serde_json::json!(2)));
    let dup =
        br#"[{"id":4,"name":"a","email":"","active":true},{"id":4,"name":"b","email":"","active":true}]"#;
    let r = raw(svc.addr, "POST", "/users/bulk", &[JSON], dup);
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), "user id 4 appears twice");
}

#[test]
fn urlencoded_form_or_query() {
    let svc = helloworld(&[]);
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let r = raw(svc.addr, "POST", "/sign/up", &[form], b"username=al&password=secret-pw&age=30");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["email"], "al@example.com");
    let r = raw(svc.addr, "POST", "/sign/up?username=al&password=secret-pw", &[], b"");
    assert_eq!(r.status, 200);
    let r = raw(svc.addr, "POST", "/sign/up", &[form], b"username=admin&password=whatever");
    assert_eq!((r.status, r.json()["code"].as_i64()), (409, Some(4009)), "the service's own code");
    let r = raw(svc.addr, "POST", "/sign/up", &[form], b"username=al");
    assert_eq!(r.message(), "missing parameter `password`");
}

#[test]
fn path_parameters() {
    let svc = helloworld(&[]);
    let r = get(svc.addr, "/users/7/posts/hello%20world");
    assert_eq!(r.json(), serde_json::json!({"user_id": 7, "slug": "hello world"}));
    let r = get(svc.addr, "/users/seven/posts/x");
    assert_eq!(r.status, 400);
    assert!(r.message().contains("`id`") && r.message().contains("seven"));
}

pub(crate) fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "it-boundary-1234";
    let mut body = Vec::new();
    for (name, filename, content) in parts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
        );
        if let Some(f) = filename {
            body.extend_from_slice(format!("; filename=\"{f}\"\r\nContent-Type: text/plain").as_bytes());
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn multipart_upload() {
    let svc = helloworld(&[]);
    let content: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    let (ct, body) = multipart(&[("note", None, b"first"), ("file", Some("data.txt"), &content)]);
    let r = raw(svc.addr, "POST", "/upload", &[("Content-Type", &ct)], &body);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let up = r.json();
    assert_eq!(up["filename"], "data.txt");
    assert_eq!(up["content_type"], "text/plain");
    assert_eq!(up["size"], 10_000);
    assert_eq!(up["checksum"], content.iter().map(|b| u64::from(*b)).sum::<u64>());
    assert_eq!(up["note"], "first");

    let (ct, body) = multipart(&[("note", None, b"no file")]);
    let r = raw(svc.addr, "POST", "/upload", &[("Content-Type", &ct)], &body);
    assert_eq!((r.status, r.message()), (400, "missing file `file`".to_owned()));
    let (ct, body) = multipart(&[("file", Some("a.txt"), b"x"), ("surprise", None, b"?")]);
    let r = raw(svc.addr, "POST", "/upload", &[("Content-Type", &ct)], &body);
    assert_eq!(r.status, 400);
    assert!(r.message().contains("unexpected multipart field `surprise`"), "{}", r.message());
    let r = raw(svc.addr, "POST", "/upload", &[JSON], b"{}");
    assert_eq!(r.status, 400);
    assert!(r.message().contains("multipart/form-data"));
}

#[test]
fn streamed_download() {
    let svc = helloworld(&[]);
    let r = get(svc.addr, "/download?name=r%C3%A9sum%C3%A9.bin&size=200000");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"), "streamed, not buffered");
    let cd = r.header("content-disposition").expect("content-disposition");
    assert!(cd.starts_with("attachment;") && cd.contains("filename*=UTF-8''r%C3%A9sum%C3%A9%2Ebin"), "{cd}");
    assert_eq!(r.body.len(), 200_000);
    assert!(r.body.iter().enumerate().all(|(i, b)| *b == i as u8), "content intact");
}

#[test]
fn empty_success_is_204_and_errors_carry_status_and_code() {
    let svc = helloworld(&[]);
    let r = raw(svc.addr, "DELETE", "/user?id=3", &[], b"");
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    let r = raw(svc.addr, "DELETE", "/user?id=0", &[], b"");
    assert_eq!((r.status, r.message()), (404, "no user with id 0".to_owned()));
    let r = get(svc.addr, "/fail?status=418");
    assert_eq!(r.status, 418);
    assert_eq!(r.json(), serde_json::json!({"code": 1418, "message": "failed as asked with 418"}));
}

#[test]
fn unknown_path_and_wrong_verb() {
    let svc = helloworld(&[]);
    let r = get(svc.addr, "/no/such/thing");
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "no route for GET /no/such/thing");
    let r = raw(svc.addr, "POST", "/user?id=1", &[], b"");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, DELETE, PUT, HEAD"));
    assert!(r.message().contains("POST is not allowed on /user"), "{}", r.message());
    let r = raw(svc.addr, "HEAD", "/user?id=1", &[], b"");
    assert_eq!(r.status, 200, "HEAD answers where GET does");
}

#[test]
fn oversized_bodies_get_413() {
    let svc = helloworld(&[("GDD_MAX_BODY_SIZE", "1KiB")]);
    let big = format!(r#"{{"page":1,"size":2,"pad":"{}"}}"#, "x".repeat(2048));
    let r = raw(svc.addr, "POST", "/page/users", &[JSON], big.as_bytes());
    assert_eq!(r.status, 413);
    assert!(r.message().contains("GDD_MAX_BODY_SIZE"));
    // Without Content-Length, the limit applies while reading.
    let chunk = format!("{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
    let r = raw(svc.addr, "POST", "/page/users", &[JSON, ("Transfer-Encoding", "chunked")], chunk.as_bytes());
    assert_eq!(r.status, 413);
    let r = raw(svc.addr, "POST", "/page/users", &[JSON], br#"{"page":1,"size":2}"#);
    assert_eq!(r.status, 200, "bodies under the limit pass");
    // A body in several chunks is joined; small chunks that add up past the limit are refused.
    let chunked = |parts: &[&str]| {
        let mut body: String = parts.iter().map(|p| format!("{:x}\r\n{p}\r\n", p.len())).collect();
        body.push_str("0\r\n\r\n");
        raw(svc.addr, "POST", "/page/users", &[JSON, ("Transfer-Encoding", "chunked")], body.as_bytes())
    };
    let r = chunked(&[r#"{"page":"#, r#"4,"si"#, r#"ze":3}"#]);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["items"][0]["id"], 12);
    let pad = "x".repeat(400);
    let r = chunked(&[r#"{"page":1,"size":2,"pad":""#, &pad, &pad, &pad, r#""}"#]);
    assert_eq!(r.status, 413);
}

#[test]
fn a_panicking_handler_is_500_and_the_server_keeps_serving() {
    let svc = helloworld(&[]);
    let r = get(svc.addr, "/panic");
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["code"], 500);
    assert!(r.message().contains("panicked"));
    assert_eq!(get(svc.addr, "/user?id=2").status, 200);
    // The log line comes through a pipe and a reader thread: wait for it, boundedly.
    doudou_tests::poll(std::time::Duration::from_secs(10), "the panic's log line", || {
        svc.output().contains("get_panic panics on purpose").then_some(())
    });
}

#[test]
fn gzip_when_accepted_and_configurable() {
    let svc = helloworld(&[]);
    let body = br#"{"page":0,"size":100}"#;
    let r = raw(svc.addr, "POST", "/page/users", &[JSON, ("Accept-Encoding", "gzip")], body);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(&r.body[..2], &[0x1f, 0x8b], "a gzip stream");
    let r = raw(svc.addr, "POST", "/page/users", &[JSON], body);
    assert_eq!(r.header("content-encoding"), None);
    // The compressed answer went through the compression layer and still counts by its route.
    let metrics = get_auth(&svc, "/go-doudou/prometheus", "admin", "admin");
    let text = String::from_utf8_lossy(&metrics.body);
    let series = r#"doudou_http_requests_total{method="POST",route="/page/users",status="200"} 2"#;
    assert!(text.contains(series), "{text}");
    let svc = helloworld(&[("GDD_ENABLE_RESPONSE_GZIP", "false")]);
    let r = raw(svc.addr, "POST", "/page/users", &[JSON, ("Accept-Encoding", "gzip")], body);
    assert_eq!(r.header("content-encoding"), None);
}

#[test]
fn route_root_path_prefixes_business_routes() {
    let svc = helloworld(&[("GDD_ROUTE_ROOT_PATH", "/api/v1")]);
    assert_eq!(get(svc.addr, "/api/v1/user?id=1").status, 200);
    assert_eq!(get(svc.addr, "/user?id=1").status, 404);
}

#[test]
fn slow_handlers_hit_the_write_timeout() {
    let svc = helloworld(&[("GDD_WRITE_TIMEOUT", "200ms")]);
    let r = get(svc.addr, "/slow?ms=5000");
    assert_eq!(r.status, 503);
    assert!(r.message().contains("GDD_WRITE_TIMEOUT"));
    assert_eq!(get(svc.addr, "/slow?ms=1").status, 200);
}

#[test]
fn access_log_when_enabled() {
    let svc = helloworld(&[("GDD_LOG_REQ_ENABLE", "true"), ("GDD_ENV", "test")]);
    let r = raw(svc.addr, "GET", "/users/3/posts/x", &[("X-Request-ID", "log-me-42")], b"");
    assert_eq!(r.status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let line = loop {
        if let Some(l) = svc.output().lines().find(|l| l.contains("log-me-42")).map(str::to_owned) {
            break l;
        }
        assert!(std::time::Instant::now() < deadline, "no access log line:\n{}", svc.output());
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let entry: serde_json::Value = serde_json::from_str(&line).expect("JSON log lines outside dev");
    assert_eq!(entry["route"], "/users/{id}/posts/{slug}");
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["method"], "GET");
}
