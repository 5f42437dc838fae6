//! A server that sheds overload (issue 15): the bulkhead and the rate limit answer 429 with
//! `Retry-After` at once, over a real process, while the probes keep answering.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use doudou_tests::{basic, bin, get, pipelined, raw, start, Proc, Response};

fn helloworld(envs: &[(&str, &str)]) -> Proc {
    start(&bin("helloworld"), envs, None).expect("helloworld starts")
}

/// `n` requests for `target` sent at once, each on its own connection: each answer with the
/// time it took.
fn at_once(svc: &Proc, n: usize, target: &'static str) -> Vec<(Response, Duration)> {
    let barrier = Arc::new(Barrier::new(n));
    let addr = svc.addr;
    let workers: Vec<_> = (0..n)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let sent = Instant::now();
                let resp = get(addr, target);
                (resp, sent.elapsed())
            })
        })
        .collect();
    workers.into_iter().map(|w| w.join().expect("worker")).collect()
}

fn scrape(svc: &Proc) -> String {
    let r =
        raw(svc.addr, "GET", "/go-doudou/prometheus", &[("Authorization", &basic("admin", "admin"))], b"");
    String::from_utf8_lossy(&r.body).into_owned()
}

#[test]
fn the_bulkhead_serves_its_size_and_refuses_the_rest_at_once() {
    let svc = helloworld(&[("GDD_MAX_INFLIGHT", "8")]);
    let addr = svc.addr;
    let probes = std::thread::spawn(move || {
        // While the eight slow requests hold every place, the probes still answer.
        std::thread::sleep(Duration::from_millis(300));
        (get(addr, "/go-doudou/health").status, get(addr, "/go-doudou/ready").status)
    });
    let answers = at_once(&svc, 40, "/slow?ms=1500");
    assert_eq!(probes.join().expect("probes"), (200, 200));
    let served = answers.iter().filter(|(r, _)| r.status == 200).count();
    let refused: Vec<_> = answers.iter().filter(|(r, _)| r.status == 429).collect();
    assert_eq!(
        (served, refused.len()),
        (8, 32),
        "{:?}",
        answers.iter().map(|(r, _)| r.status).collect::<Vec<_>>()
    );
    let slowest_refusal = refused.iter().map(|(_, took)| *took).max().unwrap_or_default();
    assert!(slowest_refusal < Duration::from_millis(100), "a refusal took {slowest_refusal:?}");
    for (resp, _) in &refused {
        assert_eq!(resp.header("retry-after"), Some("1"));
        assert_eq!(resp.json()["code"], 429);
        assert!(resp.message().contains("GDD_MAX_INFLIGHT"), "{}", resp.message());
    }
    let text = scrape(&svc);
    assert!(
        text.contains(r#"doudou_http_requests_total{method="GET",route="/slow",status="429"} 32"#),
        "the refusals are counted: {}",
        text.lines().filter(|l| l.contains("requests_total")).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn a_request_waits_up_to_max_wait_for_a_place() {
    let svc = helloworld(&[("GDD_MAX_INFLIGHT", "4"), ("GDD_MAX_WAIT", "3s")]);
    let answers = at_once(&svc, 8, "/slow?ms=400");
    assert!(
        answers.iter().all(|(r, _)| r.status == 200),
        "{:?}",
        answers.iter().map(|(r, _)| r.status).collect::<Vec<_>>()
    );
    let waited = answers.iter().filter(|(_, took)| *took >= Duration::from_millis(800)).count();
    assert_eq!(
        waited,
        4,
        "four ran at once, four waited for them: {:?}",
        answers.iter().map(|(_, t)| t).collect::<Vec<_>>()
    );

    let svc = helloworld(&[("GDD_MAX_INFLIGHT", "1"), ("GDD_MAX_WAIT", "200ms")]);
    let answers = at_once(&svc, 2, "/slow?ms=1000");
    let statuses: Vec<u16> = answers.iter().map(|(r, _)| r.status).collect();
    assert!(statuses.contains(&200) && statuses.contains(&429), "{statuses:?}");
    let (_, refused_after) = answers.iter().find(|(r, _)| r.status == 429).expect("one refused");
    assert!(*refused_after >= Duration::from_millis(200), "refused only after waiting: {refused_after:?}");
    assert!(
        *refused_after < Duration::from_millis(900),
        "refused before the place came free: {refused_after:?}"
    );
}

#[test]
fn the_rate_limit_lets_a_burst_through_then_refuses_with_retry_after() {
    let svc = helloworld(&[("GDD_RATE_LIMIT", "50"), ("GDD_RATE_BURST", "50")]);
    let addr = svc.addr;
    let requests = (0..200).map(|_| format!("GET /user?id=1 HTTP/1.1\r\nHost: {addr}\r\n\r\n"));
    let answers = String::from_utf8_lossy(&pipelined(addr, requests)).into_owned();
    let ok = answers.matches("HTTP/1.1 200").count() - 1; // the health check that ends the batch
    let refused = answers.matches("HTTP/1.1 429").count();
    assert_eq!(ok + refused, 200);
    assert!(ok >= 50, "the burst of 50 went through: {ok}");
    assert!(refused >= 50, "at least 50 of 200 back-to-back requests refused: {refused}");
    assert!(answers.contains("retry-after: 1\r\n"), "Retry-After on refusals");
    assert!(answers.contains("GDD_RATE_LIMIT"), "the refusal names the limit");
    assert_eq!(get(addr, "/go-doudou/health").status, 200, "the probes are not limited");
    assert_eq!(get(addr, "/go-doudou/health").status, 200);
}

#[test]
fn an_invalid_limit_stops_start_up_naming_the_variable() {
    let exited = start(&bin("helloworld"), &[("GDD_MAX_INFLIGHT", "-1")], None).err().expect("refused");
    assert!(exited.output.contains("GDD_MAX_INFLIGHT"), "{}", exited.output);
    let exited = start(&bin("helloworld"), &[("GDD_RATE_LIMIT", "lots")], None).err().expect("refused");
    assert!(exited.output.contains("GDD_RATE_LIMIT"), "{}", exited.output);
}

/// `GET /pool?ms=40` with a 1 s deadline, the caller's patience: 0 when no answer came in time.
fn pool_call(addr: std::net::SocketAddr) -> u16 {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else { return 0 };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let head = format!("GET /pool?ms=40 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(head.as_bytes()).is_err() {
        return 0;
    }
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let status = String::from_utf8_lossy(&bytes).split_whitespace().nth(1).and_then(|s| s.parse().ok());
    status.unwrap_or(0)
}

/// Offers three times the capacity of helloworld's pool (4 connections held 40 ms: 100 calls a
/// second) for 4 s: goodput (200s a second within the caller's 1 s of when the call was due)
/// and the p99 of the calls answered 200.
fn at_three_times_capacity(envs: &[(&str, &str)]) -> (f64, Duration, usize) {
    let svc = helloworld(envs);
    let addr = svc.addr;
    let length = Duration::from_secs(4);
    let load = doudou_tests::Load::run_with(300, length, || {}, move || pool_call(addr));
    let mut answered: Vec<Duration> =
        load.results.iter().filter(|(s, _)| *s == 200).map(|(_, t)| *t).collect();
    let refused = load.results.iter().filter(|(s, _)| *s == 429).count();
    answered.sort();
    let good = answered.iter().filter(|t| **t <= Duration::from_secs(1)).count();
    let p99 = answered.get(answered.len() * 99 / 100).or(answered.last()).copied().unwrap_or_default();
    (good as f64 / length.as_secs_f64(), p99, refused)
}

#[test]
fn at_three_times_capacity_the_limits_keep_goodput_and_bound_latency() {
    let (limited, limited_p99, refused) =
        at_three_times_capacity(&[("GDD_MAX_INFLIGHT", "4"), ("GDD_MAX_WAIT", "50ms")]);
    let (unlimited, unlimited_p99, _) = at_three_times_capacity(&[]);
    eprintln!(
        "MEASURED 3x capacity (300 calls/s offered, capacity 100/s, 1 s patience): with GDD_MAX_INFLIGHT=4 GDD_MAX_WAIT=50ms goodput {limited:.0}/s, p99 {limited_p99:?}, {refused} refused; without limits goodput {unlimited:.0}/s, p99 {unlimited_p99:?}"
    );
    assert!(limited >= 80.0, "goodput {limited:.0}/s, below 80% of the capacity of 100/s");
    assert!(limited_p99 < Duration::from_millis(500), "admitted calls' p99 {limited_p99:?}");
}
