//! Calls between services that survive failures (issue 15): three helloworld instances and a
//! greeter that calls them by name, real processes over loopback, with an open-loop load (a
//! call every 10 ms whether or not the previous ones answered, as real traffic arrives).

use std::time::Duration;

use doudou_tests::{basic, poll, raw, Load, Proc};

/// A helloworld instance of the service `hello` that logs each request (its id included).
fn node(name: &str, seed: Option<std::net::SocketAddr>, extra: &[(&str, &str)]) -> Proc {
    let mut envs = vec![("GDD_LOG_REQ_ENABLE", "true")];
    envs.extend_from_slice(extra);
    crate::gossip::node(name, "hello", seed, &envs)
}

/// Three helloworld instances (the first is the seed) and a greeter calling them.
struct Cluster {
    hello: Vec<Proc>,
    greeter: Proc,
}

impl Cluster {
    fn start(broken: Option<usize>) -> Self {
        let env = |i: usize| if broken == Some(i) { vec![("HELLOWORLD_BROKEN", "true")] } else { Vec::new() };
        let first = node("hello-0", None, &env(0));
        let seed = first.gossip_addr();
        let mut hello = vec![first];
        for i in 1..3 {
            hello.push(node(&format!("hello-{i}"), Some(seed), &env(i)));
        }
        let greeter = crate::gossip::greeter(seed);
        let cluster = Self { hello, greeter };
        cluster.wait_for_all_three();
        cluster
    }

    fn wait_for_all_three(&self) {
        poll(Duration::from_secs(15), "the greeter to see three helloworld instances", || {
            let names = self.greeter.registry_names();
            (names.iter().filter(|n| n.starts_with("hello-")).count() == 3).then_some(())
        });
    }
}

fn scrape(svc: &Proc) -> String {
    let r =
        raw(svc.addr, "GET", "/go-doudou/prometheus", &[("Authorization", &basic("admin", "admin"))], b"");
    String::from_utf8_lossy(&r.body).into_owned()
}

#[test]
fn a_frozen_instance_costs_few_calls_a_timeout_and_fails_none() {
    let cluster = Cluster::start(None);
    let frozen = &cluster.hello[1];
    let load = Load::run(cluster.greeter.addr, "/hello?name=load", 100, Duration::from_secs(20), || {
        std::thread::sleep(Duration::from_secs(5));
        frozen.signal("STOP");
        std::thread::sleep(Duration::from_secs(10));
        frozen.signal("CONT");
    });
    let (calls, failed, p99, max) = (load.results.len(), load.failed(), load.quantile(0.99), load.max());
    let slow = load.results.iter().filter(|(_, t)| *t > Duration::from_secs(1)).count();
    eprintln!(
        "MEASURED frozen instance (SIGSTOP 10 s of 20 s, 100 calls/s through the greeter): {failed} of {calls} failed, p50 {:?}, p99 {p99:?}, max {max:?}, {slow} calls over 1 s",
        load.quantile(0.5)
    );
    assert!(failed * 100 <= calls, "{failed} of {calls} calls failed");
    assert!(p99 <= Duration::from_secs(1), "p99 {p99:?}");
    // One attempt that timed out (GDD_CLIENT_TIMEOUT, 5 s) and a retry that answered.
    assert!(max < Duration::from_secs(6), "a call took {max:?}");
    let metrics = scrape(&cluster.greeter);
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("doudou_client_requests_total{") && l.contains(r#"outcome="success""#)),
        "the greeter's client calls are counted: {}",
        metrics.lines().filter(|l| l.contains("doudou_client")).collect::<Vec<_>>().join("\n")
    );
    assert!(metrics.contains("doudou_client_retries_total{"), "the retries after timeouts are counted");
    doudou_tests::assert_promtool_accepts(metrics.as_bytes());
}

#[test]
fn a_failing_instance_is_ejected_within_the_first_second() {
    let cluster = Cluster::start(Some(2));
    let load = Load::run(cluster.greeter.addr, "/hello?name=load", 100, Duration::from_secs(10), || {});
    let after_first_second = &load.results[100..];
    let failed = after_first_second.iter().filter(|(s, _)| *s != 200).count();
    eprintln!(
        "MEASURED failing instance (1 of 3 answers 500): {} of {} calls failed in all, {failed} of {} after the first second",
        load.failed(),
        load.results.len(),
        after_first_second.len()
    );
    assert!(failed * 100 <= after_first_second.len(), "{failed} of {} failed", after_first_second.len());
    let metrics = scrape(&cluster.greeter);
    let ejected = format!(
        r#"doudou_client_instance_ejected{{instance="http://{}",service="hello"}}"#,
        cluster.hello[2].addr
    );
    assert!(metrics.contains(&format!("{ejected} 1")), "{ejected} is 1 in:\n{metrics}");
}

#[test]
fn kill_9_and_a_rolling_restart_fail_no_call() {
    let mut cluster = Cluster::start(None);
    let seed = cluster.hello[0].gossip_addr();
    let load = Load::run(cluster.greeter.addr, "/hello?name=load", 100, Duration::from_secs(12), || {
        std::thread::sleep(Duration::from_secs(1));
        let killed = cluster.hello.remove(2);
        drop(killed); // SIGKILL
                      // Rolling restart of the other two: each replaced by a new instance, then stopped.
        for generation in ["b", "c"] {
            let old = cluster.hello.remove(0);
            let seed = cluster.hello.first().map_or(seed, Proc::gossip_addr);
            let name = format!("hello-{generation}");
            let new = node(&name, Some(seed), &[]);
            poll(Duration::from_secs(20), "the greeter to see the new instance", || {
                cluster.greeter.registry().iter().any(|m| m["name"] == name.as_str()).then_some(())
            });
            let mut old = old;
            old.signal("TERM");
            assert!(old.wait_exit(Duration::from_secs(20)).is_some_and(|s| s.success()));
            cluster.hello.push(new);
        }
    });
    let failed: Vec<_> = load.results.iter().filter(|(s, _)| *s != 200).collect();
    eprintln!(
        "MEASURED kill -9 and rolling restart: {} of {} calls failed, p99 {:?}",
        failed.len(),
        load.results.len(),
        load.quantile(0.99)
    );
    assert!(failed.is_empty(), "{} calls failed: {:?}", failed.len(), &failed[..failed.len().min(5)]);
}

#[test]
fn the_callers_request_id_goes_to_the_callee() {
    let cluster = Cluster::start(None);
    let hello: Vec<_> = cluster.hello.iter().map(|p| p.output().len()).collect();
    let r = raw(cluster.greeter.addr, "GET", "/hello?name=traced", &[("X-Request-ID", "trace-me-42")], b"");
    assert_eq!(r.status, 200);
    poll(Duration::from_secs(5), "the callee to log the caller's request id", || {
        cluster
            .hello
            .iter()
            .zip(&hello)
            .any(|(p, from)| p.output()[*from..].contains("trace-me-42"))
            .then_some(())
    });
}

/// Two helloworld instances, one `misbehaving` one (`MISBEHAVE=mode`) and a greeter with
/// `greeter_env`, all of the service `hello`, ready.
fn with_a_misbehaving_instance(mode: &str, greeter_env: &[(&str, &str)]) -> (Vec<Proc>, Proc) {
    let first = node("hello-0", None, &[]);
    let seed = first.gossip_addr();
    let second = node("hello-1", Some(seed), &[]);
    let bad = crate::gossip::member("misbehaving", "hello-bad", "hello", Some(seed), &[("MISBEHAVE", mode)]);
    let greeter = crate::gossip::greeter_with(seed, "greeter-1", greeter_env);
    poll(Duration::from_secs(15), "the greeter to see three helloworld instances", || {
        let names = greeter.registry_names();
        (names.iter().filter(|n| n.starts_with("hello-")).count() == 3).then_some(())
    });
    (vec![first, second, bad], greeter)
}

/// `calls` calls through the greeter, one after another: the statuses that were not 200.
fn failed_calls(greeter: &Proc, calls: usize) -> Vec<u16> {
    (0..calls)
        .map(|_| raw(greeter.addr, "GET", "/hello?name=x", &[], b"").status)
        .filter(|s| *s != 200)
        .collect()
}

#[test]
fn an_instance_answering_a_huge_or_endless_body_costs_no_memory_and_no_call() {
    const MIB: u64 = 1 << 20;
    for mode in ["huge", "endless"] {
        let (hello, greeter) = with_a_misbehaving_instance(mode, &[]);
        let idle = greeter.memory().now;
        let failed = failed_calls(&greeter, 60);
        let memory = greeter.memory();
        let attempts = hello[2].metric("doudou_http_requests_total", r#"route="/whoami""#);
        eprintln!(
            "MEASURED {mode} body (1 of 3 instances): {} of 60 calls failed, {attempts} attempts on it; the greeter's peak resident memory {} MiB over {} MiB idle",
            failed.len(),
            memory.peak.saturating_sub(idle) / MIB,
            idle / MIB
        );
        assert!(failed.is_empty(), "{mode}: calls failed with {failed:?}");
        assert!(attempts >= 1, "{mode}: the bad instance was called");
        assert!(
            memory.peak < idle + 100 * MIB,
            "{mode}: peak {} MiB, idle {} MiB",
            memory.peak / MIB,
            idle / MIB
        );
        assert!(greeter.metric("doudou_client_retries_total", "") >= 1, "{mode}: its calls were retried");
    }
}

#[test]
fn a_body_that_breaks_dribbles_or_is_not_json_is_retried_elsewhere() {
    for mode in ["truncate", "garbage", "drip"] {
        // A short timeout, so that the dribbling instance costs the test little time.
        let (hello, greeter) = with_a_misbehaving_instance(mode, &[("GDD_CLIENT_TIMEOUT", "1s")]);
        let failed = failed_calls(&greeter, 60);
        let attempts = hello[2].metric("doudou_http_requests_total", r#"route="/whoami""#);
        let retries = greeter.metric("doudou_client_retries_total", "");
        eprintln!(
            "MEASURED {mode} body (1 of 3 instances): {} of 60 calls failed, {attempts} attempts on it, {retries} retries",
            failed.len()
        );
        assert!(failed.is_empty(), "{mode}: calls failed with {failed:?}");
        assert!(
            attempts >= 1 && retries >= attempts.min(5),
            "{mode}: {attempts} attempts, {retries} retries"
        );
        // Ejected after a few failures: most calls never meet it.
        assert!(attempts <= 10, "{mode}: {attempts} attempts went to the bad instance");
    }
}

/// `n` helloworld instances (the first is the seed) and a greeter with `greeter_env`, in one
/// cluster.
fn instances_and_greeter(n: usize, greeter_env: &[(&str, &str)]) -> (Vec<Proc>, Proc) {
    let seed = node("hello-0", None, &[]);
    let s = seed.gossip_addr();
    let mut hello = vec![seed];
    for i in 1..n {
        hello.push(node(&format!("hello-{i}"), Some(s), &[]));
    }
    let greeter = crate::gossip::greeter_with(s, "greeter-1", greeter_env);
    poll(Duration::from_secs(15), "the greeter in the cluster", || {
        (greeter.registry_names().len() == n + 1).then_some(())
    });
    (hello, greeter)
}

/// A call through the greeter: status, message and how long it took.
fn timed_call(greeter: &Proc) -> (u16, String, Duration) {
    let started = std::time::Instant::now();
    let r = raw(greeter.addr, "GET", "/hello?name=x", &[], b"");
    (r.status, r.message(), started.elapsed())
}

#[test]
fn a_service_without_instances_is_answered_at_once() {
    let (_hello, greeter) = instances_and_greeter(1, &[("HELLOWORLD_SERVICE", "absent")]);
    for _ in 0..3 {
        let (status, message, took) = timed_call(&greeter);
        assert_eq!(status, 503, "{message}");
        assert!(message.contains(r#"no instance of service "absent""#), "{message}");
        // It used to wait 5 s for an instance to appear, on every call.
        assert!(took < Duration::from_secs(1), "took {took:?}");
    }
}

#[test]
fn a_call_ends_within_its_total_timeout_and_within_the_request_that_makes_it() {
    let total = [("GDD_CLIENT_TIMEOUT", "1s"), ("GDD_CLIENT_TOTAL_TIMEOUT", "1500ms")];
    let (hello, greeter) = instances_and_greeter(2, &total);
    for frozen in &hello {
        frozen.signal("STOP");
    }
    // A try of 1 s on one instance, then the retry on the other cut at 1.5 s in all.
    let (status, message, took) = timed_call(&greeter);
    eprintln!("MEASURED a call to two frozen instances, 1 s a try, 1.5 s in all: {status} after {took:?}");
    assert_eq!(status, 504, "{message}");
    assert!(message.contains("GDD_CLIENT_TOTAL_TIMEOUT"), "{message}");
    assert!(took >= Duration::from_millis(1400) && took < Duration::from_millis(2500), "took {took:?}");
    for frozen in &hello {
        frozen.signal("CONT");
    }
    drop((hello, greeter));

    // The request's own GDD_WRITE_TIMEOUT is shorter than one try: the call ends with it, and
    // the handler passes the callee's timeout on rather than the server answering 503.
    let (hello, greeter) = instances_and_greeter(1, &[("GDD_WRITE_TIMEOUT", "1s")]);
    hello[0].signal("STOP");
    let (status, message, took) = timed_call(&greeter);
    eprintln!("MEASURED a call inside a request of 1 s to a frozen instance: {status} after {took:?}");
    assert_eq!(status, 504, "{message}");
    assert!(message.contains("the time left of the request being handled (GDD_WRITE_TIMEOUT)"), "{message}");
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    hello[0].signal("CONT");
}
