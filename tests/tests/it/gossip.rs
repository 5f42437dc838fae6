//! Gossip registration and discovery: several real processes over 127.0.0.0/8.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use doudou_tests::{bin, free_port, get, poll, start, Proc};

/// A helloworld node with gossip on loopback.
pub(crate) fn node(
    name: &str,
    service: &str,
    seed: Option<std::net::SocketAddr>,
    extra: &[(&str, &str)],
) -> Proc {
    member("helloworld", name, service, seed, extra)
}

/// The greeter, calling the service `hello` through the cluster of `seed`.
pub(crate) fn greeter(seed: std::net::SocketAddr) -> Proc {
    greeter_with(seed, "greeter-1", &[])
}

/// The greeter named `name` in the cluster of `seed`, calling the service `hello`, with
/// `extra` variables.
pub(crate) fn greeter_with(seed: std::net::SocketAddr, name: &str, extra: &[(&str, &str)]) -> Proc {
    let mut envs = vec![("HELLOWORLD_SERVICE", "hello")];
    envs.extend_from_slice(extra);
    member("greeter", name, "greeter", Some(seed), &envs)
}

/// The example `bin` as the gossip member `name` of the service `service` on loopback.
pub(crate) fn member(
    bin_name: &str,
    name: &str,
    service: &str,
    seed: Option<std::net::SocketAddr>,
    extra: &[(&str, &str)],
) -> Proc {
    let seed = seed.map(|s| s.to_string()).unwrap_or_default();
    let mut envs: Vec<(&str, &str)> = vec![
        ("GDD_SERVICE_DISCOVERY_MODE", "memberlist"),
        ("GDD_MEM_HOST", "127.0.0.1"),
        ("GDD_MEM_PORT", "0"),
        ("GDD_MEM_NAME", name),
        ("GDD_SERVICE_NAME", service),
        ("GDD_MEM_SEED", &seed),
    ];
    envs.extend_from_slice(extra);
    start(&bin(bin_name), &envs, None).expect("the member starts")
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

fn wait_members(procs: &[&Proc], names: &[&str], limit: Duration) {
    let want = sorted(names);
    for p in procs {
        poll(limit, &format!("{want:?} in the registry of {}", p.addr), || {
            (p.registry_names() == want).then_some(())
        });
    }
}

/// Calls the greeter `n` times and counts who served.
fn spread(greeter: &Proc, n: usize) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for _ in 0..n {
        let r = get(greeter.addr, "/hello?name=it");
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        *counts.entry(r.json()["served_by"].as_str().unwrap_or_default().to_owned()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn a_cluster_forms_and_calls_spread_by_weight() {
    let seed = node("seed", "seed", None, &[]);
    let s = Some(seed.gossip_addr());
    let a = node("hello-a", "hello", s, &[]);
    let mut b = node("hello-b", "hello", s, &[]);
    let mut c = node("hello-c", "hello", s, &[]);
    let g = greeter(seed.gossip_addr());
    let all = ["seed", "hello-a", "hello-b", "hello-c", "greeter-1"];
    wait_members(&[&seed, &a, &b, &c, &g], &all, Duration::from_secs(15));

    let even = spread(&g, 300);
    assert_eq!(even.values().copied().collect::<Vec<_>>(), vec![100, 100, 100], "{even:?}");
    let registry = g.registry();
    let a_entry = registry.iter().find(|n| n["name"] == "hello-a").expect("hello-a listed");
    assert_eq!(a_entry["service"], "hello");
    assert_eq!(a_entry["base_url"], format!("http://{}", a.addr));
    assert_eq!(a_entry["status"], "alive");
    assert_eq!(a_entry["build"]["version"], "0.1.0");

    // Weighted: 1, 2, 3.
    let w2 = node("hello-w2", "hello", s, &[("GDD_WEIGHT", "2")]);
    let w3 = node("hello-w3", "hello", s, &[("GDD_WEIGHT", "3")]);
    // They leave gracefully: crash detection has its own test, and under a loaded machine its
    // timing would make this one about the detector rather than the weights.
    for leaving in [&mut b, &mut c] {
        leaving.signal("TERM");
        assert!(leaving.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()));
    }
    let all = ["seed", "hello-a", "hello-w2", "hello-w3", "greeter-1"];
    wait_members(&[&g], &all, Duration::from_secs(30));
    let weighted = spread(&g, 600);
    assert_eq!(weighted.get("hello-a"), Some(&100), "{weighted:?}");
    assert_eq!(weighted.get("hello-w2"), Some(&200), "{weighted:?}");
    assert_eq!(weighted.get("hello-w3"), Some(&300), "{weighted:?}");
    drop((w2, w3, a));
}

#[test]
fn sigterm_leaves_at_once_and_no_call_fails() {
    let seed = node("seed", "seed", None, &[]);
    let s = Some(seed.gossip_addr());
    let a = node("hello-a", "hello", s, &[]);
    let mut b = node("hello-b", "hello", s, &[]);
    let c = node("hello-c", "hello", s, &[]);
    let g = greeter(seed.gossip_addr());
    wait_members(&[&g], &["seed", "hello-a", "hello-b", "hello-c", "greeter-1"], Duration::from_secs(15));

    let addr = g.addr;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let caller = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut ok, mut failed) = (0, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = get(addr, "/hello?name=stream");
                if r.status == 200 {
                    ok += 1;
                } else {
                    failed.push(String::from_utf8_lossy(&r.body).into_owned());
                }
            }
            (ok, failed)
        })
    };
    poll(Duration::from_secs(5), "calls to flow", || (spread(&g, 3).len() >= 2).then_some(()));
    b.signal("TERM");
    let signalled = Instant::now();
    poll(Duration::from_secs(1), "hello-b to leave the greeter's registry within 1 s", || {
        (!g.registry_names().contains(&"hello-b".to_owned())).then_some(())
    });
    let gone_after = signalled.elapsed();
    assert!(b.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()));
    // Keep calling a while after it is gone.
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, failed) = caller.join().expect("caller thread");
    assert!(
        failed.is_empty(),
        "{} of {} calls failed: {:?}",
        failed.len(),
        ok + failed.len(),
        &failed[..failed.len().min(3)]
    );
    assert!(ok > 50, "only {ok} calls made");
    eprintln!("MEASURED leave: hello-b gone from the greeter's registry {gone_after:?} after SIGTERM; {ok} calls, none failed");
    drop((a, c));
}

#[test]
fn a_crashed_node_is_detected_with_default_settings() {
    let seed = node("seed", "seed", None, &[]);
    let s = Some(seed.gossip_addr());
    let a = node("hello-a", "hello", s, &[]);
    wait_members(&[&seed, &a], &["seed", "hello-a"], Duration::from_secs(15));
    let joining = Instant::now();
    let b = node("hello-b", "hello", s, &[]);
    wait_members(&[&seed, &a], &["seed", "hello-a", "hello-b"], Duration::from_secs(15));
    eprintln!("MEASURED join: process start to listed by the seed and a peer: {:?}", joining.elapsed());
    let killed = Instant::now();
    drop(b); // SIGKILL
    poll(Duration::from_secs(30), "the crash to be detected", || {
        (seed.registry_names() == sorted(&["seed", "hello-a"])
            && a.registry_names() == sorted(&["seed", "hello-a"]))
        .then_some(())
    });
    eprintln!("MEASURED crash detection (kill -9, default GDD_MEM_* settings): {:?}", killed.elapsed());
}

fn assert_refused(extra_seed: &[(&str, &str)], extra_node: &[(&str, &str)], node_host: &str) {
    let seed = node("seed", "seed", None, extra_seed);
    let seed_gossip = seed.gossip_addr();
    let mut envs = vec![("GDD_MEM_HOST", node_host), ("GDD_HOST", node_host)];
    envs.extend_from_slice(extra_node);
    let outsider = node("outsider", "hello", Some(seed_gossip), &envs);
    // Wait until the outsider has tried (and failed) to join, twice.
    poll(Duration::from_secs(15), "the outsider's join attempts", || {
        (outsider.output().matches("cannot join this seed").count() >= 2).then_some(())
    });
    assert_eq!(seed.registry_names(), vec!["seed"], "the seed must not list the outsider");
    assert_eq!(outsider.registry_names(), vec!["outsider"], "the outsider must not believe it joined");
}

#[test]
fn nodes_outside_the_allowed_cidrs_are_refused_on_both_sides() {
    let cidrs = [("GDD_MEM_CIDRS_ALLOWED", "127.0.0.1/32")];
    assert_refused(&cidrs, &cidrs, "127.0.0.2");
}

#[test]
fn a_wrong_secret_is_refused() {
    assert_refused(
        &[("GDD_MEM_SECRET", "right horse battery")],
        &[("GDD_MEM_SECRET", "wrong horse")],
        "127.0.0.1",
    );
}

#[test]
fn another_label_is_refused() {
    assert_refused(&[("GDD_MEM_LABEL", "blue")], &[("GDD_MEM_LABEL", "green")], "127.0.0.1");
}

#[test]
fn the_same_secret_and_label_join() {
    // State syncs every 100 ms: encrypted stream messages, with random nonces, through the
    // gossip port's guard.
    let opts =
        [("GDD_MEM_SECRET", "shared-secret"), ("GDD_MEM_LABEL", "blue"), ("GDD_MEM_SYNC_INTERVAL", "100ms")];
    let seed = node("seed", "seed", None, &opts);
    let member = node("member", "hello", Some(seed.gossip_addr()), &opts);
    wait_members(&[&seed, &member], &["seed", "member"], Duration::from_secs(15));
    std::thread::sleep(Duration::from_secs(3)); // some 30 state syncs
    for p in [&seed, &member] {
        assert_eq!(p.metric("doudou_gossip_refused_total", ""), 0, "no legitimate message refused");
    }
}

#[test]
fn an_unreachable_seed_is_retried_while_http_serves() {
    let port = free_port();
    let seed_addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let early = node("early", "hello", Some(seed_addr), &[]);
    assert_eq!(get(early.addr, "/user?id=1").status, 200, "HTTP serves without the seed");
    poll(Duration::from_secs(10), "a failed join attempt", || {
        early.output().contains("cannot join this seed").then_some(())
    });
    let port_text = port.to_string();
    let seed = node("seed", "seed", None, &[("GDD_MEM_PORT", &port_text)]);
    wait_members(&[&early, &seed], &["seed", "early"], Duration::from_secs(20));
}

// The blocking polls below take one worker; the others run the in-process node.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_weight_change_reaches_the_others() {
    let seed = node("seed", "seed", None, &[]);
    let mut config = doudou::Config::defaults();
    config.host = [127, 0, 0, 1].into();
    config.port = 0;
    config.service_name = "in-process".into();
    config.mem.host = "127.0.0.1".into();
    config.mem.port = 0;
    config.mem.name = "in-process".into();
    config.mem.seeds = vec![seed.gossip_addr().to_string()];
    let running = doudou::Server::new()
        .with_config(config)
        .service(helloworld::HelloworldServer::new(helloworld::Hello))
        .start()
        .await
        .expect("starts");
    let weight_seen = |want: u64| {
        let seed = &seed;
        move || seed.registry().iter().any(|n| n["name"] == "in-process" && n["weight"] == want).then_some(())
    };
    poll(Duration::from_secs(15), "the in-process node at weight 1", weight_seen(1));
    doudou::registry::set_weight(4).await.expect("gossips the weight");
    poll(Duration::from_secs(5), "weight 4 at the seed", weight_seen(4));
    running.shutdown().await;
    poll(Duration::from_secs(5), "the in-process node to leave", || {
        (seed.registry_names() == vec!["seed"]).then_some(())
    });
}

#[test]
fn twenty_nodes_converge() {
    let seed = node("node-00", "seed", None, &[]);
    let s = Some(seed.gossip_addr());
    let started = Instant::now();
    let names: Vec<String> = (1..20).map(|i| format!("node-{i:02}")).collect();
    let nodes: Vec<Proc> = names.iter().map(|n| node(n, "hello", s, &[])).collect();
    let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
    all.push("node-00");
    let mut procs: Vec<&Proc> = nodes.iter().collect();
    procs.push(&seed);
    wait_members(&procs, &all, Duration::from_secs(60));
    eprintln!("MEASURED convergence: 20 nodes started and all listing all 20 after {:?}", started.elapsed());
}

#[test]
fn the_registry_shows_suspect_dead_and_left_as_memberlist_sees_them() {
    // Fast probes; a suspect has 20 rounds (4 s) to refute before memberlist declares it dead,
    // so that a poll slowed down by a loaded machine still sees the suspect state.
    let fast = [
        ("GDD_MEM_PROBE_INTERVAL", "200ms"),
        ("GDD_MEM_PROBE_TIMEOUT", "100ms"),
        ("GDD_MEM_SUSPICION_MULT", "20"),
    ];
    let a = node("state-a", "hello", None, &fast);
    let s = Some(a.gossip_addr());
    let b = node("state-b", "hello", s, &fast);
    let mut c = node("state-c", "hello", s, &fast);
    wait_members(&[&a, &b, &c], &["state-a", "state-b", "state-c"], Duration::from_secs(15));
    let status_of = |name: &str| {
        let registry = a.registry();
        registry
            .iter()
            .find(|n| n["name"] == name)
            .map(|n| n["status"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(status_of("state-b").as_deref(), Some("alive"));
    let auth = doudou_tests::basic("admin", "admin");
    let sd = doudou_tests::raw(a.addr, "GET", "/go-doudou/sd", &[("Authorization", &auth)], b"").json();
    assert!(sd.as_array().is_some_and(|g| g.iter().all(|g| g["labels"]["status"] == "alive")), "{sd}");

    // Frozen, as a stuck process or a full node would be.
    b.signal("STOP");
    let started = Instant::now();
    poll(Duration::from_secs(10), "state-b suspect", || (status_of("state-b")? == "suspect").then_some(()));
    let suspected_after = started.elapsed();
    poll(Duration::from_secs(30), "state-b dead", || (status_of("state-b")? == "dead").then_some(()));
    assert!(suspected_after < Duration::from_secs(5), "suspect only after {suspected_after:?}");
    b.signal("CONT");

    c.signal("TERM");
    assert!(c.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()));
    let mut seen = Vec::new();
    let left = std::iter::repeat_with(|| {
        let status = status_of("state-c");
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        std::thread::sleep(Duration::from_millis(100));
        status
    })
    .take(100)
    .any(|s| s.as_deref() == Some("left"));
    assert!(left, "state-c went {seen:?}; a's log:\n{}\nc's log:\n{}", a.output(), c.output());
    let sd = doudou_tests::raw(a.addr, "GET", "/go-doudou/sd", &[("Authorization", &auth)], b"").json();
    let names: Vec<&str> = sd
        .as_array()
        .map(|g| g.iter().filter_map(|g| g["labels"]["hostname"].as_str()).collect())
        .unwrap_or_default();
    assert!(!names.contains(&"state-c"), "departed nodes are no Prometheus targets: {names:?}");
}

/// The status `observer` lists for `name`, if it lists it.
fn status_in(observer: &Proc, name: &str) -> Option<String> {
    observer
        .registry()
        .iter()
        .find(|n| n["name"] == name)
        .map(|n| n["status"].as_str().unwrap_or_default().to_owned())
}

/// Samples `observer`'s registry for `span`: the statuses other than `alive` it listed.
fn not_alive_during(observer: &Proc, span: Duration) -> Vec<(String, String)> {
    let until = Instant::now() + span;
    let mut seen = Vec::new();
    while Instant::now() < until {
        for n in observer.registry() {
            if n["status"] != "alive" {
                seen.push((n["name"].as_str().unwrap_or_default().to_owned(), n["status"].to_string()));
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    seen
}

#[test]
fn a_node_is_alive_in_its_own_list_however_long_it_runs() {
    let alone = node("alone", "hello", None, &[]);
    // It used to list itself suspect after 2.5 s, and then its clients never called it.
    let seen = not_alive_during(&alone, Duration::from_secs(5));
    assert!(seen.is_empty(), "{seen:?}");
}

#[test]
fn thirty_members_suspect_no_healthy_one_and_a_frozen_one_before_it_dies() {
    let seed = node("m-00", "hello", None, &[]);
    let s = Some(seed.gossip_addr());
    let names: Vec<String> = (1..30).map(|i| format!("m-{i:02}")).collect();
    let nodes: Vec<Proc> = names.iter().map(|n| node(n, "hello", s, &[])).collect();
    let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
    all.push("m-00");
    wait_members(&[&seed, &nodes[28]], &all, Duration::from_secs(60));
    let seen = not_alive_during(&seed, Duration::from_secs(6));
    assert!(seen.is_empty(), "healthy members listed as {seen:?}");

    let frozen = &nodes[14];
    frozen.signal("STOP");
    let started = Instant::now();
    let mut statuses: Vec<(Duration, Option<String>)> = Vec::new();
    while started.elapsed() < Duration::from_secs(60) {
        let status = status_in(&seed, "m-15");
        if statuses.last().map(|(_, s)| s) != Some(&status) {
            statuses.push((started.elapsed(), status.clone()));
        }
        if status.as_deref() == Some("dead") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    frozen.signal("CONT");
    eprintln!("MEASURED 30 members, one frozen (SIGSTOP), as its seed lists it: {statuses:?}");
    let order: Vec<Option<&str>> = statuses.iter().map(|(_, s)| s.as_deref()).collect();
    assert_eq!(order, [Some("alive"), Some("suspect"), Some("dead")], "{statuses:?}");
}

/// Waits until each of `procs` lists `names`; else fails showing what each lists and logged.
fn wait_healed(procs: &[&Proc], names: &[&str], limit: Duration) {
    let want = sorted(names);
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if procs.iter().all(|p| p.registry_names() == want) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let seen: Vec<String> = procs
        .iter()
        .map(|p| format!("{} lists {:?}; its log:\n{}", p.addr, p.registry_names(), p.output()))
        .collect();
    panic!("not all list {want:?} after {limit:?}:\n{}", seen.join("\n"));
}

#[test]
fn a_restarted_seed_and_a_node_back_from_a_long_freeze_are_merged_back() {
    let port = free_port().to_string();
    let fixed = [("GDD_MEM_PORT", port.as_str()), ("GDD_MEM_DEAD_TIMEOUT", "2s")];
    let mut seed = node("heal-seed", "hello", None, &fixed);
    let s = seed.gossip_addr();
    let a = node("heal-a", "hello", Some(s), &[("GDD_MEM_DEAD_TIMEOUT", "2s")]);
    let b = node("heal-b", "hello", Some(s), &[("GDD_MEM_DEAD_TIMEOUT", "2s")]);
    let all = ["heal-a", "heal-b", "heal-seed"];
    wait_members(&[&seed, &a, &b], &all, Duration::from_secs(15));

    // Killed and started again on its port: alone, with no seed of its own to join.
    seed.signal("KILL");
    let _ = seed.wait_exit(Duration::from_secs(5));
    poll(Duration::from_secs(20), "the seed gone", || {
        (a.registry_names() == ["heal-a", "heal-b"]).then_some(())
    });
    let seed = node("heal-seed", "hello", None, &fixed);
    let back = Instant::now();
    wait_healed(&[&seed, &a, &b], &all, Duration::from_secs(10));
    eprintln!("MEASURED a restarted seed listed by all after {:?}", back.elapsed());

    // Frozen past the time the others gossip to the dead: both sides think the other gone.
    seed.signal("STOP");
    poll(Duration::from_secs(30), "the frozen seed dropped", || {
        (a.registry_names() == ["heal-a", "heal-b"]).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3)); // past GDD_MEM_DEAD_TIMEOUT: no more gossip to it
    seed.signal("CONT");
    let back = Instant::now();
    wait_healed(&[&seed, &a, &b], &all, Duration::from_secs(10));
    eprintln!("MEASURED a node back from a freeze listed by all after {:?}", back.elapsed());
}

#[test]
fn two_processes_on_one_host_get_their_own_names_and_a_shared_name_is_refused() {
    let first = member("helloworld", "", "hello", None, &[]);
    let s = Some(first.gossip_addr());
    let second = member("helloworld", "", "hello", s, &[]);
    let host = doudou::registry::hostname();
    let names = sorted(&[
        format!("{host}-{}", first.addr.port()).as_str(),
        format!("{host}-{}", second.addr.port()).as_str(),
    ]);
    let want: Vec<&str> = names.iter().map(String::as_str).collect();
    wait_members(&[&first, &second], &want, Duration::from_secs(15));

    let twin = node(&names[0], "hello", s, &[]);
    poll(Duration::from_secs(15), "the conflict reported", || {
        twin.output().contains("GDD_MEM_NAME").then_some(())
    });
    assert!(!twin.output().contains("joined the cluster"), "{}", twin.output());
}
