//! The load benchmark's servers and script: doudou's bench-server and the hyper and axum
//! baselines answer the same requests with the same bodies (so the benchmark compares like with
//! like), and `benches/load.sh` runs against all three and reports each of them.
//! A binary of its own: cargo runs test binaries one after another, so the load script's busy
//! seconds do not overlap the timing-sensitive tests of `it`.

use std::process::Command;

use doudou_tests::{bin, get, manifest_dir, raw, start, tool, Proc};

const JSON: (&str, &str) = ("Content-Type", "application/json");
const SERVERS: [&str; 3] = ["bench-server", "hyper-baseline", "axum-baseline"];

/// One test at a time: the load script's check for servers left running must not see the
/// other test's.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn post(p: &Proc, body: &str) -> doudou_tests::Response {
    raw(p.addr, "POST", "/page/users", &[JSON], body.as_bytes())
}

#[test]
fn the_benchmark_servers_answer_alike() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let servers: Vec<Proc> = SERVERS.iter().map(|n| start(&bin(n), &[], None).expect(n)).collect();
    let doudou = &servers[0];

    let user = get(doudou.addr, "/user?id=7");
    assert_eq!(user.status, 200);
    assert_eq!(
        user.json(),
        serde_json::json!({"id": 7, "name": "user-7", "email": "user-7@example.com", "active": true})
    );
    let page = post(doudou, r#"{"page":3,"size":10}"#);
    assert_eq!(page.status, 200);
    let page = page.json();
    assert_eq!(
        (page["page"].clone(), page["size"].clone(), page["total"].clone()),
        (3.into(), 10.into(), 1000.into())
    );
    let ids: Vec<u64> =
        page["items"].as_array().expect("items").iter().filter_map(|u| u["id"].as_u64()).collect();
    assert_eq!(ids, (30..40).collect::<Vec<u64>>());
    let capped = post(doudou, r#"{"page":0,"size":500}"#).json();
    assert_eq!(capped["items"].as_array().map(Vec::len), Some(100), "size is capped at 100");

    let bad = get(doudou.addr, "/user?id=seven");
    assert_eq!(
        (bad.status, bad.json()["code"].clone()),
        (400, 400.into()),
        "doudou names the problem in JSON"
    );

    // The baselines answer the same; their 400s only need the status (axum's is plain text).
    for (name, other) in SERVERS.iter().zip(&servers).skip(1) {
        for target in ["/user?id=7", "/user?id=0", "/user?id=18446744073709551615"] {
            let (a, b) = (get(doudou.addr, target), get(other.addr, target));
            assert_eq!((b.status, b.json()), (a.status, a.json()), "{name} GET {target}");
        }
        for body in [r#"{"page":3,"size":10}"#, r#"{"page":0,"size":500}"#, r#"{"page":7,"size":1}"#] {
            let (a, b) = (post(doudou, body), post(other, body));
            assert_eq!((b.status, b.json()), (a.status, a.json()), "{name} POST {body}");
        }
        for target in ["/user", "/user?id=seven", "/user?id=-1"] {
            let r = get(other.addr, target);
            assert_eq!((r.status, get(doudou.addr, target).status), (400, 400), "{name} GET {target}");
        }
        let r = post(other, "{\"page\":");
        assert_eq!((r.status, post(doudou, "{\"page\":").status), (400, 400), "{name}: bad JSON");
    }
}

/// Runs `benches/{script}` with `args` against the debug builds (`BENCH_BIN`): its output,
/// once it succeeded.
fn run_script(script: &str, args: &[&str]) -> String {
    let out = Command::new(manifest_dir().join("../benches").join(script))
        .args(args)
        .env("BENCH_BIN", bin("bench-server").parent().expect("target dir"))
        .output()
        .unwrap_or_else(|e| panic!("run benches/{script}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn the_load_script_measures_every_server() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    tool("wrk");
    // Debug builds and one short round: this checks the script, it measures nothing.
    let text = run_script("load.sh", &["1", "1", "8"]);
    for server in ["hyper", "axum", "doudou"] {
        for route in ["get", "post"] {
            let row = text
                .lines()
                .find(|l| l.split_whitespace().take(2).eq([server, route]))
                .unwrap_or_else(|| panic!("no {server} {route} row in:\n{text}"));
            let cols: Vec<&str> = row.split_whitespace().collect();
            let rps: f64 = cols[2].parse().expect("req/s");
            assert!(rps > 0.0, "{row}");
            let paired: f64 = cols[4].parse().expect("paired ratio to hyper");
            assert!(paired > 0.0, "{row}");
            if server == "hyper" {
                assert_eq!(paired, 1.0, "hyper's own rounds against themselves: {row}");
            }
            assert_eq!(cols.last(), Some(&"none"), "errors reported: {row}");
            let rss: u64 = cols[cols.len() - 2].parse().expect("peak RSS KiB");
            assert!(rss > 0, "{row}");
        }
    }
    for route in ["get", "post"] {
        let row = text
            .lines()
            .find(|l| l.split_whitespace().take(2).eq(["doudou/axum", route]))
            .unwrap_or_else(|| panic!("no doudou/axum {route} row in:\n{text}"));
        let ratio: f64 = row.split_whitespace().last().and_then(|c| c.parse().ok()).expect("ratio");
        assert!(ratio > 0.0, "{row}");
    }
    // The script stops the servers it started.
    let leftover = Command::new("pgrep").arg("-f").arg(bin("hyper-baseline")).output().expect("pgrep");
    assert!(
        leftover.stdout.is_empty(),
        "hyper-baseline still running: {}",
        String::from_utf8_lossy(&leftover.stdout)
    );
}

#[test]
fn the_client_script_compares_the_generated_client_with_hyper() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Debug builds and one short round: this checks the script, it measures nothing.
    let text = run_script("client.sh", &["1", "1", "4"]);
    for caller in ["hyper", "hyper-static", "doudou"] {
        let row = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(caller))
            .unwrap_or_else(|| panic!("no {caller} row in:\n{text}"));
        let calls: f64 = row.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("calls/s");
        assert!(calls > 0.0, "{row}");
    }
    let paired =
        text.lines().find_map(|l| l.strip_prefix("doudou / hyper, paired: ")).expect("the paired ratio");
    assert!(paired.trim().parse::<f64>().is_ok_and(|r| r > 0.0), "{paired}");
}

#[test]
fn the_sse_script_reads_every_event_from_both_servers() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Debug builds and a short stream: this checks the script (it refuses a short count), it
    // measures nothing.
    let text = run_script("sse.sh", &["20000", "1"]);
    for pair in ["axum <- read", "doudou <- read", "doudou <- client"] {
        let row =
            text.lines().find(|l| l.starts_with(pair)).unwrap_or_else(|| panic!("no {pair} row in:\n{text}"));
        let per_second: f64 =
            row[pair.len()..].split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("events/s");
        assert!(per_second > 0.0, "{row}");
    }
    assert!(text.contains("server resident memory growth: doudou"), "{text}");
}

#[test]
fn the_callgrind_script_counts_instructions_per_request() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    tool("valgrind");
    // Debug builds and a few requests: this checks the script, it measures nothing.
    let text = run_script("callgrind.sh", &["post", "5", "15"]);
    let per_request = text
        .lines()
        .find_map(|l| l.strip_prefix("post: ")?.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no count in:\n{text}"));
    assert!(per_request > 1000, "{text}");
}
