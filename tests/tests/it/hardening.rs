//! What an attack on a running service found (issue 12), each over a real process: bounded
//! metric labels, non-UTF-8 environments, panic floods, password guessing, production names,
//! redaction, misspelt variables, strict percent-decoding, the connection cap.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use doudou_tests::{basic, bin, get, pipelined, poll, raw, raw_from, start, start_with, Proc};

fn helloworld(envs: &[(&str, &str)]) -> Proc {
    start(&bin("helloworld"), envs, None).expect("helloworld starts")
}

fn scrape(svc: &Proc) -> String {
    let r =
        raw(svc.addr, "GET", "/go-doudou/prometheus", &[("Authorization", &basic("admin", "admin"))], b"");
    assert_eq!(r.status, 200);
    String::from_utf8_lossy(&r.body).into_owned()
}

#[test]
fn invented_methods_share_one_label_and_the_scrape_stays_small() {
    let svc = helloworld(&[]);
    let addr = svc.addr;
    let requests = (0..3000).map(|i| format!("Z{i:06} /user?id=1 HTTP/1.1\r\nHost: {addr}\r\n\r\n"));
    let answers = pipelined(addr, requests);
    assert_eq!(String::from_utf8_lossy(&answers).matches("HTTP/1.1 405").count(), 3000);
    let text = scrape(&svc);
    assert!(text.len() < 200_000, "the scrape grew to {} bytes", text.len());
    assert!(
        text.contains(r#"doudou_http_requests_total{method="other",route="/user",status="405"} 3000"#),
        "{}",
        &text[..text.len().min(4000)]
    );
    assert!(!text.contains("Z000001"));
}

#[test]
fn non_utf8_variables_are_ignored_unless_they_are_gdd_ones() {
    let bad = std::ffi::OsStr::from_bytes(b"ab\xff");
    let svc = start_with(&bin("helloworld"), &[], None, |cmd| {
        cmd.env("FOO", bad);
    })
    .expect("an unrelated non-UTF-8 variable does not stop start-up");
    assert_eq!(get(svc.addr, "/user?id=1").status, 200);
    drop(svc);

    let exited = start_with(&bin("helloworld"), &[], None, |cmd| {
        cmd.env("GDD_LOG_LEVEL", bad);
    })
    .err()
    .expect("a non-UTF-8 GDD_ value stops start-up");
    assert_eq!(exited.status.code(), Some(1), "a clear error, not a panic: {}", exited.output);
    assert!(exited.output.contains("GDD_LOG_LEVEL is not valid UTF-8"), "{}", exited.output);
}

#[test]
fn a_panic_flood_writes_a_bounded_log() {
    let svc = helloworld(&[]);
    let addr = svc.addr;
    let before = svc.output().len();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let requests = (0..1250).map(|_| format!("GET /panic HTTP/1.1\r\nHost: {addr}\r\n\r\n"));
                String::from_utf8_lossy(&pipelined(addr, requests)).matches("HTTP/1.1 500").count()
            })
        })
        .collect();
    let answered: usize = workers.into_iter().map(|w| w.join().expect("worker")).sum();
    assert_eq!(answered, 5000, "every panic answered 500");
    assert_eq!(get(svc.addr, "/user?id=1").status, 200, "still serving");
    // The summary of the suppressed panics comes when their second ends.
    poll(Duration::from_secs(5), "the flood summary", || {
        svc.output().contains("more panics in route /panic in the last second").then_some(())
    });
    let log = &svc.output()[before..];
    assert!(log.len() < 150_000, "5,000 panics wrote {} bytes of log", log.len());
    let lines = log.lines().filter(|l| l.contains("a handler panicked")).count();
    assert!((1..=100).contains(&lines), "{lines} panic lines");
    assert!(
        !log.contains("thread '"),
        "no panic-hook line besides the log line:\n{}",
        &log[..log.len().min(2000)]
    );
    let first = log.lines().find(|l| l.contains("a handler panicked")).unwrap_or_default();
    assert!(first.contains("get_panic panics on purpose") && first.contains("lib.rs"), "{first}");
}

#[test]
fn password_guessing_is_logged_and_throttled_per_address() {
    let svc = helloworld(&[("GDD_MANAGE_USER", "ops"), ("GDD_MANAGE_PASS", "right-password")]);
    let guesser: std::net::IpAddr = [127, 0, 0, 1].into();
    let colleague: std::net::IpAddr = [127, 0, 0, 2].into();
    let attempt = |from, pass: &str| {
        raw_from(from, svc.addr, "GET", "/go-doudou/config", &[("Authorization", &basic("ops", pass))])
    };
    let mut statuses = Vec::new();
    for i in 0..12 {
        let r = attempt(guesser, &format!("guess-{i}"));
        statuses.push(r.status);
        if r.status == 429 {
            let wait: u64 = r.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
            assert!((1..=60).contains(&wait), "{wait}");
            assert!(r.message().contains("too many failed logins"), "{}", r.message());
        }
    }
    assert_eq!(statuses[..9], [401; 9], "{statuses:?}");
    assert_eq!(statuses[9..], [429; 3], "locked out at the 10th wrong password: {statuses:?}");
    assert_eq!(
        attempt(guesser, "right-password").status,
        429,
        "the lockout holds for the right password too"
    );
    assert_eq!(attempt(colleague, "right-password").status, 200, "another address is not affected");
    assert_eq!(get(svc.addr, "/go-doudou/health").status, 200, "probes stay open");
    let log = poll(Duration::from_secs(5), "the failed-login log lines", || {
        let out = svc.output();
        out.contains("locked out").then_some(out)
    });
    assert!(log.contains("failed login") && log.contains("127.0.0.1"), "{log}");
    assert!(!log.contains("guess-"), "never the password: {log}");
}

#[test]
fn production_is_any_spelling_and_the_password_admin_is_refused() {
    for env in ["production", "PROD", "Prod"] {
        let exited = start(&bin("helloworld"), &[("GDD_ENV", env)], None).err().expect("refused");
        assert!(exited.output.contains("GDD_MANAGE_PASS"), "{env}: {}", exited.output);
    }
    let exited = start(
        &bin("helloworld"),
        &[("GDD_ENV", "prod"), ("GDD_MANAGE_USER", "ops"), ("GDD_MANAGE_PASS", "admin")],
        None,
    )
    .err()
    .expect("the password admin is refused whatever the user");
    assert!(!exited.status.success());
}

#[test]
fn the_config_dump_redacts_by_the_broader_rule() {
    let svc = helloworld(&[
        ("GDD_DB_DSN", "postgres://app:dsnpass123@db/app"),
        ("GDD_REDIS_PWD", "redis-pw-1"),
        ("GDD_JWT_CREDENTIALS", "jwt-cred-1"),
        ("GDD_AUTH", "auth-val-1"),
        ("GDD_UPSTREAM_URL", "https://bob:url-pw-1@api.example.com/v1"),
    ]);
    let r = raw(svc.addr, "GET", "/go-doudou/config", &[("Authorization", &basic("admin", "admin"))], b"");
    let text = String::from_utf8_lossy(&r.body).into_owned();
    for secret in ["dsnpass123", "redis-pw-1", "jwt-cred-1", "auth-val-1", "url-pw-1"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(r.json()["GDD_UPSTREAM_URL"], "https://bob:******@api.example.com/v1");
}

#[test]
fn a_misspelt_variable_is_named_with_a_suggestion() {
    let svc = helloworld(&[("GDD_PROT", "7000")]);
    let out = svc.output();
    assert!(
        out.contains("GDD_PROT is not a doudou setting") && out.contains("did you mean GDD_PORT?"),
        "{out}"
    );
}

#[test]
fn bad_percent_encoding_is_refused_naming_the_parameter() {
    let svc = helloworld(&[]);
    for target in ["/users/7/posts/%ff%fe", "/users/7/posts/%zz", "/users/7/posts/a%2"] {
        let r = get(svc.addr, target);
        assert_eq!(r.status, 400, "{target}");
        assert!(
            r.message().contains("percent-encoding") && r.message().contains("`slug`"),
            "{}",
            r.message()
        );
    }
    let r = get(svc.addr, "/users/7/posts/caf%C3%A9");
    assert_eq!(
        (r.status, r.json()["slug"].as_str()),
        (200, Some("café")),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let r = get(svc.addr, "/user?id=%zz");
    assert_eq!(r.status, 400);
    assert!(r.message().contains("`id`"), "{}", r.message());
}

#[test]
fn connections_past_the_cap_wait_until_one_closes() {
    let svc = helloworld(&[("GDD_MAX_CONNECTIONS", "3")]);
    let mut held: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut s = TcpStream::connect(svc.addr).expect("connect");
            // A request answered proves the connection was accepted and is being served.
            write!(s, "GET /go-doudou/health HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
            let mut buf = [0u8; 512];
            assert!(s.read(&mut buf).expect("answer") > 0);
            s
        })
        .collect();
    let mut waiting = TcpStream::connect(svc.addr).expect("the kernel still accepts into the backlog");
    write!(waiting, "GET /go-doudou/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("write");
    waiting.set_read_timeout(Some(Duration::from_millis(700))).expect("timeout");
    let mut buf = Vec::new();
    assert!(waiting.read_to_end(&mut buf).is_err() && buf.is_empty(), "served past GDD_MAX_CONNECTIONS");
    poll(Duration::from_secs(5), "the cap logged", || {
        svc.output().contains("GDD_MAX_CONNECTIONS reached").then_some(())
    });
    held.pop();
    waiting.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    waiting.read_to_end(&mut buf).expect("answered once a connection closed");
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf));
}

#[test]
fn cpu_seconds_are_reported_in_fractions() {
    let svc = helloworld(&[]);
    let addr = svc.addr;
    // Some work, so that the process has used CPU time worth a few clock ticks.
    pipelined(addr, (0..3000).map(|_| format!("GET /user?id=1 HTTP/1.1\r\nHost: {addr}\r\n\r\n")));
    let text = scrape(&svc);
    let line = text.lines().find(|l| l.starts_with("process_cpu_seconds_total ")).expect("the CPU counter");
    let seconds: f64 = line["process_cpu_seconds_total ".len()..].parse().expect("a number");
    // Well under a second of CPU: whole seconds said 0.
    assert!(seconds > 0.0 && seconds.fract() != 0.0, "{line}");
}

/// A gossip node of helloworld with `extra` settings, alone in its cluster.
fn gossip_node(extra: &[(&str, &str)]) -> Proc {
    crate::gossip::node("bombed", "hello", None, extra)
}

/// Connects to the gossip port and declares a compound message of 0x7FFFFFFF bytes, then sends
/// data for `secs` seconds or until the node closes the connection: the bytes it took.
fn declare_two_gibibytes(addr: std::net::SocketAddr, secs: u64) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let Ok(mut conn) = TcpStream::connect(addr) else { return 0 };
        let _ = conn.set_write_timeout(Some(Duration::from_secs(1)));
        if conn.write_all(&[0x01, 0x01, 0x7f, 0xff, 0xff, 0xff]).is_err() {
            return 0;
        }
        let chunk = vec![0x42u8; 64 << 10];
        let until = std::time::Instant::now() + Duration::from_secs(secs);
        let mut sent = 0;
        while std::time::Instant::now() < until {
            match conn.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        sent
    })
}

#[test]
fn a_peer_declaring_a_huge_gossip_message_gets_no_memory() {
    const MIB: u64 = 1 << 20;
    let node = gossip_node(&[]);
    let gossip = node.gossip_addr();
    let idle = node.memory().now;
    let attackers: Vec<_> = (0..3).map(|_| declare_two_gibibytes(gossip, 4)).collect();
    let sent: usize = attackers.into_iter().map(|a| a.join().expect("attacker")).sum();
    let memory = node.memory();
    eprintln!(
        "MEASURED 3 gossip connections declaring 2 GiB each: {} MiB sent before the node closed them; peak resident memory {} MiB over {} MiB idle",
        sent as u64 / MIB,
        memory.peak.saturating_sub(idle) / MIB,
        idle / MIB
    );
    assert!(memory.peak < idle + 100 * MIB, "peak {} MiB, idle {} MiB", memory.peak / MIB, idle / MIB);
    assert_eq!(get(node.addr, "/user?id=1").status, 200, "still serving");
    assert!(gossip_refused(&node, "message_too_large") >= 3, "the refused messages are counted");
}

/// Whether the node has closed `conn` (sending it nothing): a read that does not wait sees the
/// end of the stream or a reset rather than no data yet.
fn closed(mut conn: &TcpStream) -> bool {
    conn.set_nonblocking(true).expect("non-blocking");
    let mut byte = [0u8; 1];
    match conn.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

/// The value of `doudou_gossip_refused_total` for `reason` on `node`.
fn gossip_refused(node: &Proc, reason: &str) -> u64 {
    node.metric("doudou_gossip_refused_total", &format!(r#"reason="{reason}""#))
}

#[test]
fn gossip_connections_from_outside_the_allow_list_or_over_the_cap_are_closed() {
    let outside = gossip_node(&[("GDD_MEM_CIDRS_ALLOWED", "10.99.0.0/16")]);
    let conn = TcpStream::connect(outside.gossip_addr()).expect("connects");
    poll(Duration::from_secs(5), "the outsider's connection refused", || {
        (gossip_refused(&outside, "outsider") == 1).then_some(())
    });
    assert!(closed(&conn), "a connection from 127.0.0.1 outside 10.99.0.0/16 is closed at accept");

    let node = gossip_node(&[]);
    let gossip = node.gossip_addr();
    let conns: Vec<TcpStream> = (0..40).map(|_| TcpStream::connect(gossip).expect("connects")).collect();
    // Sent nothing, the node would keep a connection until its GDD_MEM_TCP_TIMEOUT (10 s);
    // past 16 from one address, it closes them at accept.
    poll(Duration::from_secs(5), "the connections over the cap refused", || {
        (gossip_refused(&node, "too_many_connections") == 24).then_some(())
    });
    let refused = conns.iter().filter(|c| closed(c)).count();
    assert_eq!(refused, 40 - 16, "16 connections from one address stay open, the others are closed");
}

#[test]
fn form_bombs_are_refused_naming_the_limit_without_amplifying() {
    const MIB: u64 = 1 << 20;
    let svc = helloworld(&[]);
    let form = |body: &[u8]| {
        raw(svc.addr, "POST", "/sign/up", &[("Content-Type", "application/x-www-form-urlencoded")], body)
    };
    // A form of 1,000 fields (GDD_MAX_FORM_PARTS) is bound; one more is refused.
    let mut fields: Vec<String> = (0..997).map(|i| format!("x{i}=1")).collect();
    fields.extend(["username=ann".to_owned(), "password=secret-1".to_owned(), "age=30".to_owned()]);
    let ok = form(fields.join("&").as_bytes());
    assert_eq!(ok.status, 200, "{}", ok.message());
    fields.push("one=more".to_owned());
    let over = form(fields.join("&").as_bytes());
    assert_eq!(over.status, 413);
    assert!(over.message().contains("GDD_MAX_FORM_PARTS (1000)"), "{}", over.message());

    // 16 bodies of `a&a&a...` at once, each just under GDD_MAX_BODY_SIZE.
    let bomb = "a&".repeat((4 << 20) / 2 - 16).into_bytes();
    let idle = svc.memory().now;
    let addr = svc.addr;
    let senders: Vec<_> = (0..16)
        .map(|_| {
            let bomb = bomb.clone();
            std::thread::spawn(move || {
                raw(addr, "POST", "/sign/up", &[("Content-Type", "application/x-www-form-urlencoded")], &bomb)
                    .status
            })
        })
        .collect();
    let statuses: Vec<u16> = senders.into_iter().map(|s| s.join().expect("sender")).collect();
    let memory = svc.memory();
    eprintln!(
        "MEASURED 16 urlencoded bombs of 4 MiB at once: peak resident memory {} MiB over {} MiB idle",
        memory.peak.saturating_sub(idle) / MIB,
        idle / MIB
    );
    assert!(statuses.iter().all(|s| *s == 413), "{statuses:?}");
    // The bodies themselves are 64 MiB; splitting them into pairs took 355 MiB more.
    assert!(memory.peak < idle + 100 * MIB, "peak {} MiB, idle {} MiB", memory.peak / MIB, idle / MIB);

    // Multipart: 2,000 parts are refused at the 1,001st.
    let mut multipart = String::new();
    for i in 0..2000 {
        multipart.push_str(&format!(
            "--XX\r\nContent-Disposition: form-data; name=\"f{i}\"; filename=\"f\"\r\n\r\nx\r\n"
        ));
    }
    multipart.push_str("--XX--\r\n");
    let r = raw(
        svc.addr,
        "POST",
        "/upload",
        &[("Content-Type", "multipart/form-data; boundary=XX")],
        multipart.as_bytes(),
    );
    assert_eq!(r.status, 413);
    assert!(r.message().contains("GDD_MAX_FORM_PARTS"), "{}", r.message());
}

#[test]
fn a_get_route_does_not_read_a_body() {
    let svc = helloworld(&[]);
    let r = raw(
        svc.addr,
        "GET",
        "/user?id=1",
        &[("Content-Type", "multipart/form-data; boundary=XX")],
        b"not multipart at all",
    );
    assert_eq!(r.status, 200, "{}", r.message());
    assert_eq!(r.json()["id"], 1);
}

#[test]
fn production_gossip_without_a_secret_is_warned_about() {
    let prod = [("GDD_ENV", "prod"), ("GDD_MANAGE_USER", "ops"), ("GDD_MANAGE_PASS", "not-admin-1")];
    let open = gossip_node(&prod);
    poll(Duration::from_secs(5), "the warning", || open.output().contains("no GDD_MEM_SECRET").then_some(()));
    assert!(open.output().contains("set GDD_MEM_SECRET"), "{}", open.output());

    let mut with_secret = prod.to_vec();
    with_secret.push(("GDD_MEM_SECRET", "a shared secret"));
    let closed = gossip_node(&with_secret);
    closed.gossip_addr();
    assert!(!closed.output().contains("no GDD_MEM_SECRET"), "{}", closed.output());
}

#[test]
fn a_flood_of_junk_gossip_packets_writes_a_bounded_log_and_is_counted() {
    let node = gossip_node(&[]);
    let gossip = node.gossip_addr();
    let before = node.output().len();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("a UDP socket");
    for i in 0..20_000u32 {
        let _ = socket.send_to(format!("junk {i} that is no gossip message").as_bytes(), gossip);
    }
    let counted = poll(Duration::from_secs(10), "the junk packets counted", || {
        let n = gossip_refused(&node, "undecodable_packet");
        (n >= 1000).then_some(n)
    });
    poll(Duration::from_secs(5), "the flood summary", || {
        node.output().contains("more gossip warnings and errors in the last second").then_some(())
    });
    let written = node.output().len() - before;
    eprintln!(
        "MEASURED 20,000 junk gossip packets: {counted} counted as undecodable, {written} bytes of log"
    );
    assert!(written < 50_000, "the junk wrote {written} bytes of log");
}
