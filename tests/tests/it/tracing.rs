//! OpenTelemetry over real processes: greeter and helloworld export their spans to a real
//! trace backend, Arize Phoenix (installed by scripts/test.sh), which the test reads back.
//! One test, one Phoenix: it takes about 40 s to start.

use std::process::Command;
use std::time::{Duration, Instant};

use doudou_tests::{bin, free_port, get, poll, raw, start, temp_dir, tool, Daemon, Proc};
use serde_json::Value;

struct Phoenix {
    daemon: Daemon,
    port: u16,
}

impl Phoenix {
    fn start() -> Self {
        let (port, grpc) = (free_port(), free_port());
        let dir = temp_dir("phoenix");
        let mut cmd = Command::new(tool("phoenix"));
        cmd.arg("serve")
            .env("PHOENIX_WORKING_DIR", &dir)
            .env("PHOENIX_PORT", port.to_string())
            .env("PHOENIX_GRPC_PORT", grpc.to_string())
            .env("PHOENIX_HOST", "127.0.0.1")
            .env("PHOENIX_TELEMETRY_ENABLED", "false");
        let daemon = Daemon::spawn(cmd, dir.join("phoenix.log"));
        let phoenix = Self { daemon, port };
        let addr = phoenix.addr();
        poll(Duration::from_secs(240), "Phoenix to answer /healthz", || {
            (std::net::TcpStream::connect(addr).is_ok() && get(addr, "/healthz").status == 200).then_some(())
        });
        phoenix
    }

    fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The stored spans of `trace_id`.
    fn spans(&self, trace_id: &str) -> Vec<Value> {
        let r = get(self.addr(), "/v1/projects/default/spans?limit=1000");
        assert_eq!(r.status, 200, "{}\n{}", String::from_utf8_lossy(&r.body), self.daemon.output());
        r.json()["data"]
            .as_array()
            .map(|all| all.iter().filter(|s| s["context"]["trace_id"] == trace_id).cloned().collect())
            .unwrap_or_default()
    }

    /// Waits for the `n` spans of `trace_id`.
    fn wait_spans(&self, trace_id: &str, n: usize) -> Vec<Value> {
        poll(Duration::from_secs(20), &format!("{n} spans of trace {trace_id} in Phoenix"), || {
            let spans = self.spans(trace_id);
            (spans.len() >= n).then_some(spans)
        })
    }
}

/// The variables that make a service export to `phoenix` (quickly), log JSON lines with the
/// access log, and shut down within 3 s.
fn otel(endpoint: &str) -> [(&str, &str); 5] {
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("GDD_ENV", "test"),
        ("GDD_LOG_REQ_ENABLE", "true"),
        ("GDD_GRACE_TIMEOUT", "3s"),
    ]
}

fn span<'a>(spans: &'a [Value], name: &str, parent: Option<&str>) -> &'a Value {
    spans
        .iter()
        .find(|s| s["name"] == name && s["parent_id"].as_str() == parent)
        .unwrap_or_else(|| panic!("no span {name} with parent {parent:?} among {spans:#?}"))
}

fn id(span: &Value) -> &str {
    span["context"]["span_id"].as_str().expect("span_id")
}

/// Latencies of `n` sequential calls to the greeter, sorted.
fn latencies(greeter: &Proc, n: usize) -> Vec<Duration> {
    let mut all: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(get(greeter.addr, "/hello?name=t").status, 200);
            t.elapsed()
        })
        .collect();
    all.sort();
    all
}

#[test]
fn one_trace_across_services_in_phoenix_and_requests_unharmed_when_it_hangs() {
    let phoenix = Phoenix::start();
    let endpoint = phoenix.endpoint();
    let seed = crate::gossip::node("hello-a", "hello", None, &otel(&endpoint));
    let greeter = crate::gossip::greeter_with(seed.gossip_addr(), "greeter-1", &otel(&endpoint));
    poll(Duration::from_secs(15), "the greeter to reach helloworld", || {
        (get(greeter.addr, "/hello?name=warm").status == 200).then_some(())
    });

    // The caller's trace is continued: greeter's server span is the caller's child, the
    // client span greeter's, helloworld's server span the client span's.
    let (trace, caller) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let traceparent = format!("00-{trace}-{caller}-01");
    let r = raw(greeter.addr, "GET", "/hello?name=Ann", &[("traceparent", &traceparent)], b"");
    assert_eq!(r.status, 200);
    let spans = phoenix.wait_spans(trace, 3);
    let server = span(&spans, "GET /hello", Some(caller));
    let client = span(&spans, "GET /whoami", Some(id(server)));
    let callee = spans
        .iter()
        .find(|s| s["parent_id"].as_str() == Some(id(client)))
        .unwrap_or_else(|| panic!("helloworld's span, a child of the client span: {spans:#?}"));
    assert_eq!(callee["name"], "GET /whoami");
    assert_eq!(callee["attributes"]["http.route"], "/whoami", "{callee}");
    assert_eq!(
        callee["attributes"]["server.port"].to_string().trim_matches('"'),
        seed.addr.port().to_string()
    );
    assert_eq!(client["attributes"]["url.template"], "/whoami", "{client}");
    // OpenTelemetry's HTTP conventions: a host and a port number, on both sides.
    assert_eq!(client["attributes"]["server.address"], "127.0.0.1", "{client}");
    assert_eq!(
        client["attributes"]["server.port"].to_string().trim_matches('"'),
        seed.addr.port().to_string(),
        "{client}"
    );
    assert_eq!(
        callee["attributes"]["server.address"], "127.0.0.1",
        "the host asked for, not 0.0.0.0: {callee}"
    );
    // Nothing but those: no source location of the build machine, no thread, no poll times,
    // no copies of the span's own ids.
    for span in [server, client, callee] {
        let names: Vec<&String> =
            span["attributes"].as_object().map(|a| a.keys().collect()).unwrap_or_default();
        for name in &names {
            assert!(
                !["code.", "thread.", "busy_ns", "idle_ns", "trace_id", "span_id", "target"]
                    .iter()
                    .any(|unwanted| name.starts_with(unwanted)),
                "{name} in {span}"
            );
        }
    }
    assert_eq!(server["attributes"]["http.route"], "/hello");
    assert_eq!(server["attributes"]["http.response.status_code"].to_string().trim_matches('"'), "200");

    // Without a traceparent the greeter starts a trace, which spans both services the same way.
    let r = get(greeter.addr, "/hello?name=Bo");
    assert_eq!(r.status, 200);
    let root = poll(Duration::from_secs(20), "the greeter's new root span in Phoenix", || {
        let r = get(phoenix.addr(), "/v1/projects/default/spans?limit=1000");
        r.json()["data"].as_array().and_then(|all| {
            all.iter()
                .find(|s| {
                    s["name"] == "GET /hello" && s["parent_id"].is_null() && s["context"]["trace_id"] != ""
                })
                .cloned()
        })
    });
    let new_trace = root["context"]["trace_id"].as_str().expect("trace id").to_owned();
    assert_ne!(new_trace, trace);
    let spans = phoenix.wait_spans(&new_trace, 3);
    let client = span(&spans, "GET /whoami", Some(id(&root)));
    assert!(spans.iter().any(|s| s["parent_id"].as_str() == Some(id(client))), "{spans:#?}");

    // A 5xx marks the server span as an error.
    let failing = "0af7651916cd43dd8448eb211c80319c";
    let r = raw(
        seed.addr,
        "GET",
        "/fail?status=503",
        &[("traceparent", &format!("00-{failing}-b7ad6b7169203331-01"))],
        b"",
    );
    assert_eq!(r.status, 503);
    let spans = phoenix.wait_spans(failing, 1);
    assert_eq!(spans[0]["status_code"], "ERROR", "{:#?}", spans[0]);

    // Log lines written while handling a request carry its trace and span ids, and so does the
    // access log line, next to the request id.
    let logged = "5b8efff798038103d269b633813fc60c";
    let r = raw(
        seed.addr,
        "GET",
        "/slow?ms=1",
        &[("traceparent", &format!("00-{logged}-eee19b7ec3c1b174-01"))],
        b"",
    );
    assert_eq!(r.status, 200);
    let request_id = r.header("x-request-id").expect("request id").to_owned();
    let spans = phoenix.wait_spans(logged, 1);
    let span_id = id(&spans[0]).to_owned();
    let lines: Vec<Value> = poll(Duration::from_secs(5), "the handler's log lines", || {
        let lines: Vec<Value> = seed
            .output()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["span"]["trace_id"] == logged)
            .collect();
        (lines.len() >= 2).then_some(lines)
    });
    let handler = lines.iter().find(|l| l["message"] == "sleeping 1ms").expect("the handler's line");
    assert_eq!(handler["span"]["span_id"], span_id.as_str(), "{handler}");
    let access = lines.iter().find(|l| l["target"] == "doudou::access").expect("the access log line");
    assert_eq!(
        (&access["request_id"], &access["span"]["span_id"]),
        (&Value::from(request_id), &Value::from(span_id))
    );

    // Human lines show the ids in the span prefix.
    let mut human_envs = otel(&endpoint).to_vec();
    human_envs.push(("GDD_ENV", "dev"));
    let human = start(&bin("helloworld"), &human_envs, None).expect("starts");
    let shown = "6e0c63257de34c926f9efcd03927272e";
    let r = raw(
        human.addr,
        "GET",
        "/slow?ms=2",
        &[("traceparent", &format!("00-{shown}-eee19b7ec3c1b174-01"))],
        b"",
    );
    assert_eq!(r.status, 200);
    let line = poll(Duration::from_secs(5), "the human line with the trace id", || {
        human
            .output()
            .lines()
            .find(|l| l.contains("sleeping 2ms") && l.contains(&format!("trace_id={shown}")))
            .map(str::to_owned)
    });
    // The ids, not every attribute of the request's span.
    assert!(!line.contains("http.route") && !line.contains("client.address"), "{line}");

    // The sampler follows the caller's decision (parent-based by default): an unsampled
    // traceparent is not recorded, while the sampled request after it is.
    let (unsampled, sampled) = ("11111111111111111111111111111111", "22222222222222222222222222222222");
    for (trace, flags) in [(unsampled, "00"), (sampled, "01")] {
        let parent = format!("00-{trace}-eee19b7ec3c1b174-{flags}");
        assert_eq!(raw(human.addr, "GET", "/user?id=1", &[("traceparent", &parent)], b"").status, 200);
    }
    phoenix.wait_spans(sampled, 1);
    assert!(phoenix.spans(unsampled).is_empty(), "an unsampled trace was recorded");
    drop(human);

    // A greeter that does not trace passes the caller's traceparent on unchanged: helloworld's
    // span is then the caller's child.
    let plain = crate::gossip::greeter_with(seed.gossip_addr(), "greeter-plain", &[]);
    let passed = "a1a2a3a4a5a6a7a8b1b2b3b4b5b6b7b8";
    let r = poll(Duration::from_secs(15), "the untraced greeter to reach helloworld", || {
        let r = raw(
            plain.addr,
            "GET",
            "/hello?name=P",
            &[("traceparent", &format!("00-{passed}-c1c2c3c4c5c6c7c8-01"))],
            b"",
        );
        (r.status == 200).then_some(r)
    });
    assert_eq!(r.status, 200);
    let spans = phoenix.wait_spans(passed, 1);
    assert!(
        spans.iter().all(|s| s["parent_id"] == "c1c2c3c4c5c6c7c8"),
        "only helloworld's spans, the caller's children: {spans:#?}"
    );
    drop(plain);

    // Phoenix frozen (SIGSTOP: it accepts connections and never answers, the worst a backend
    // can do): exports hang until their timeout, on the exporter's thread; requests do not
    // notice. Absolute bounds, far below the exporter's 10 s timeout, so that a busy machine
    // does not fail the test.
    let up = latencies(&greeter, 200);
    phoenix.daemon.signal("STOP");
    let down = latencies(&greeter, 400);
    let p99 = |all: &[Duration]| all[all.len() * 99 / 100];
    eprintln!(
        "MEASURED greeter with Phoenix up: p50 {:?} p99 {:?} max {:?}; frozen: p50 {:?} p99 {:?} max {:?}",
        up[up.len() / 2],
        p99(&up),
        up[up.len() - 1],
        down[down.len() / 2],
        p99(&down),
        down[down.len() - 1]
    );
    assert!(
        down[down.len() / 2] < Duration::from_millis(50),
        "p50 with Phoenix frozen: {:?}",
        down[down.len() / 2]
    );
    assert!(
        down[down.len() - 1] < Duration::from_secs(1),
        "max with Phoenix frozen: {:?}",
        down[down.len() - 1]
    );

    // The spans the frozen backend does not take are logged, with their count (the exporter
    // gives up on a batch after OTEL_EXPORTER_OTLP_TIMEOUT, 10 s by default), and counted.
    let lost = poll(Duration::from_secs(20), "the lost spans logged", || {
        greeter
            .output()
            .lines()
            .find(|l| l.contains("spans lost: the OTLP backend did not take them"))
            .map(str::to_owned)
    });
    let lines = greeter.output().matches("spans lost: the OTLP backend").count();
    eprintln!("MEASURED frozen backend: {lines} line(s) of lost spans, the first: {lost}");
    assert!(lines <= 3, "the lost spans are logged at most every 10 s: {lines} lines");
    assert!(greeter.metric("doudou_trace_spans_lost_total", "") > 0, "the lost spans are counted");

    // Shutdown still ends within the grace period (3 s, and a moment to exit): the last spans
    // are given what is left of it, not the exporter's timeout.
    let mut greeter = greeter;
    let asked = Instant::now();
    greeter.signal("TERM");
    let status = greeter.wait_exit(Duration::from_secs(6)).expect("the greeter exits");
    assert!(status.success());
    eprintln!("MEASURED greeter exit with Phoenix frozen: {:?} after SIGTERM", asked.elapsed());
    assert!(asked.elapsed() < Duration::from_secs(4), "{:?}", asked.elapsed());
    drop(phoenix);
}
