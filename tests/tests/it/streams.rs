//! Streams in memory: helloworld's ticker (Server-Sent Events) over HTTP and through the
//! generated client, resumed from `Last-Event-ID`, kept alive on idle, not cut by
//! `GDD_WRITE_TIMEOUT`, and described in the document; a stream that fails mid-way.

use std::time::Duration;

use doudou::body::Body;
use doudou::{Config, Event, EventStream, LastEventId, Server};
use helloworld::{helloworld_openapi, Hello, Helloworld, HelloworldClient, HelloworldServer, Tick};
use http_body_util::BodyExt;
use serde_json::json;

fn service(tweak: impl FnOnce(&mut Config)) -> doudou::InMemory {
    let mut config = Config::defaults();
    tweak(&mut config);
    Server::new().service(HelloworldServer::new(Hello)).into_service(config).expect("routes")
}

/// The answer to `GET target` (with `Last-Event-ID: last` if given): head and whole body.
async fn get(
    service: &doudou::InMemory,
    target: &str,
    last: Option<&str>,
) -> (http::response::Parts, String) {
    let mut req = http::Request::get(target);
    if let Some(last) = last {
        req = req.header("last-event-id", last);
    }
    let resp = service.call(req.body(Body::empty()).expect("request")).await;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    (parts, String::from_utf8(bytes.to_vec()).expect("UTF-8"))
}

#[tokio::test]
async fn a_ticker_answers_server_sent_events_and_resumes_after_the_last_id() {
    let ticker = service(|_| {});
    let (head, body) = get(&ticker, "/ticks?count=3&every_ms=0", None).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.headers["content-type"], "text/event-stream");
    assert_eq!(head.headers["cache-control"], "no-cache");
    assert_eq!(head.headers["x-accel-buffering"], "no");
    let event = |n: u64| format!("id: {n}\nevent: tick\ndata: {{\"n\":{n}}}\n\n");
    assert_eq!(body, format!("{}{}{}", event(1), event(2), event(3)));

    let (_, body) = get(&ticker, "/ticks?count=5&every_ms=0", Some("3")).await;
    assert_eq!(body, format!("{}{}", event(4), event(5)), "resumed after 3");
    let (head, body) = get(&ticker, "/ticks?count=5&every_ms=0", Some("three")).await;
    assert_eq!((head.status.as_u16(), body.contains("Last-Event-ID")), (400, true), "{body}");
}

#[tokio::test]
async fn the_generated_client_reads_the_typed_events() {
    let client =
        HelloworldClient::with_client(doudou::Client::new("http://ticker").transport(service(|_| {})));
    let mut ticks = client.get_ticks(Some(3), Some(0), LastEventId::default()).await.expect("a stream");
    let mut seen = Vec::new();
    while let Some(event) = ticks.next().await {
        let event = event.expect("an event");
        assert_eq!(
            (event.event_id(), event.event_name()),
            (Some(event.data().n.to_string().as_str()), Some("tick"))
        );
        seen.push(event.into_data());
    }
    assert_eq!(seen, [Tick { n: 1 }, Tick { n: 2 }, Tick { n: 3 }]);
    // The client sends the id it resumes from.
    let mut rest = client.get_ticks(Some(4), Some(0), LastEventId(Some("2".into()))).await.expect("a stream");
    let mut numbers = Vec::new();
    while let Some(event) = rest.next().await {
        numbers.push(event.expect("an event").data().n);
    }
    assert_eq!(numbers, [3, 4]);
}

#[tokio::test(start_paused = true)]
async fn an_idle_stream_is_kept_alive_and_the_write_timeout_does_not_cut_it() {
    let ticker = service(|c| c.write_timeout = Duration::from_secs(1));
    let req = http::Request::get("/ticks?count=2&every_ms=20000").body(Body::empty()).expect("request");
    let resp = ticker.call(req).await;
    let mut body = resp.into_body();
    let mut frames = Vec::new();
    let started = tokio::time::Instant::now();
    while let Some(frame) = body.frame().await {
        let data = frame.expect("a frame").into_data().expect("data");
        frames.push((started.elapsed().as_secs(), String::from_utf8(data.to_vec()).expect("UTF-8")));
    }
    // A keep-alive 15 s into each 20 s wait; both ticks, 40 s after a 1 s write timeout.
    let keep_alive = ": keep-alive\n\n".to_owned();
    assert_eq!(
        frames,
        [
            (15, keep_alive.clone()),
            (20, "id: 1\nevent: tick\ndata: {\"n\":1}\n\n".to_owned()),
            (35, keep_alive),
            (40, "id: 2\nevent: tick\ndata: {\"n\":2}\n\n".to_owned()),
        ]
    );
}

#[tokio::test]
async fn the_document_states_the_stream_and_its_event_schema() {
    let doc = helloworld_openapi();
    let ticks = &doc["paths"]["/ticks"]["get"];
    let stream = &ticks["responses"]["200"]["content"]["text/event-stream"];
    assert_eq!(stream["schema"]["type"], "string", "{ticks}");
    assert_eq!(stream["x-doudou-event"], json!({ "$ref": "#/components/schemas/Tick" }));
    let params = ticks["parameters"].as_array().cloned().unwrap_or_default();
    let last = params.iter().find(|p| p["name"] == "Last-Event-ID").expect("Last-Event-ID");
    assert_eq!((&last["in"], &last["required"]), (&json!("header"), &json!(false)));
}

/// Quotes that fail after the first.
#[doudou::model]
#[derive(Debug, PartialEq)]
pub(crate) struct Quote {
    pub(crate) price: u32,
}

#[doudou::service]
pub(crate) trait Quotes {
    async fn get_quotes(&self) -> Result<EventStream<Quote>, doudou::Error>;
}

struct Exchange;

impl Quotes for Exchange {
    async fn get_quotes(&self) -> Result<EventStream<Quote>, doudou::Error> {
        let events = futures_util::stream::iter([
            Ok(Event::new(Quote { price: 7 })),
            Err(doudou::Error::conflict("the market closed")),
            Ok(Event::new(Quote { price: 8 })),
        ]);
        Ok(EventStream::try_new(events))
    }
}

#[tokio::test]
async fn a_stream_that_fails_ends_with_the_error_the_client_reads_back() {
    let exchange =
        Server::new().service(QuotesServer::new(Exchange)).into_service(Config::defaults()).expect("routes");
    let (_, body) = get(&exchange, "/quotes", None).await;
    assert_eq!(
        body,
        "data: {\"price\":7}\n\nevent: error\ndata: {\"code\":409,\"message\":\"the market closed\"}\n\n"
    );
    let client = QuotesClient::with_client(doudou::Client::new("http://exchange").transport(exchange));
    let mut quotes = client.get_quotes().await.expect("a stream");
    assert_eq!(quotes.next().await.map(|e| e.map(Event::into_data).ok()), Some(Some(Quote { price: 7 })));
    let err = quotes.next().await.expect("an item").expect_err("the error");
    assert_eq!((err.status().as_u16(), err.message()), (409, "the market closed"));
    assert!(quotes.next().await.is_none(), "the error ends the stream");
}

#[test]
fn a_ticker_streams_over_a_real_connection_and_the_client_reads_it() {
    let svc = doudou_tests::start(&doudou_tests::bin("helloworld"), &[], None).expect("helloworld starts");
    let resp =
        doudou_tests::raw(svc.addr, "GET", "/ticks?count=3&every_ms=20", &[("Last-Event-ID", "1")], b"");
    assert_eq!((resp.status, resp.header("content-type")), (200, Some("text/event-stream")));
    let body = String::from_utf8(resp.body).expect("UTF-8");
    assert_eq!(body, "id: 2\nevent: tick\ndata: {\"n\":2}\n\nid: 3\nevent: tick\ndata: {\"n\":3}\n\n");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let numbers = runtime.block_on(async {
        let client = HelloworldClient::new(svc.base_url());
        let mut ticks = client.get_ticks(Some(3), Some(20), LastEventId::default()).await.expect("a stream");
        let mut numbers = Vec::new();
        while let Some(event) = ticks.next().await {
            numbers.push(event.expect("an event").data().n);
        }
        numbers
    });
    assert_eq!(numbers, [1, 2, 3]);
}

#[test]
fn sigterm_ends_an_open_stream_cleanly_and_the_process_exits_at_once() {
    use std::io::{Read, Write};
    let mut svc =
        doudou_tests::start(&doudou_tests::bin("helloworld"), &[("GDD_GRACE_TIMEOUT", "20s")], None)
            .expect("helloworld starts");
    let mut conn = std::net::TcpStream::connect(svc.addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
    conn.write_all(b"GET /ticks?count=100000&every_ms=100 HTTP/1.1\r\nHost: t\r\n\r\n").expect("request");
    // Read until the first event has arrived: the stream is open.
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&received).contains("data: ") {
        let n = conn.read(&mut chunk).expect("the stream's first event");
        assert!(n > 0, "closed before the first event");
        received.extend_from_slice(&chunk[..n]);
    }
    let signalled = std::time::Instant::now();
    svc.signal("TERM");
    // The rest of the answer ends with the last chunk of a clean end, not a cut connection.
    loop {
        let n = conn.read(&mut chunk).expect("the stream's end");
        if n == 0 {
            break;
        }
        received.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&received);
    assert!(text.ends_with("\r\n0\r\n\r\n"), "a clean end of the chunked answer: {text:?}");
    let status = svc.wait_exit(Duration::from_secs(15)).expect("exits");
    assert!(status.success(), "{status:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "not held to the 20 s grace: {:?}",
        signalled.elapsed()
    );
}
