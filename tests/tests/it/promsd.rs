//! Prometheus service discovery: prometheus-sd as the seed writes file_sd targets, every node
//! serves http_sd targets, and a real Prometheus scrapes what both say.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use doudou_tests::{
    basic, bin, get, manifest_dir, poll, raw, start, temp_dir, tool, Daemon, Proc, SEED_SCRAPE_CONFIG,
};

fn gossip_envs<'a>(name: &'a str, service: &'a str, seed: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("GDD_SERVICE_DISCOVERY_MODE", "memberlist"),
        ("GDD_MEM_HOST", "127.0.0.1"),
        ("GDD_MEM_PORT", "0"),
        ("GDD_MEM_NAME", name),
        ("GDD_SERVICE_NAME", service),
        ("GDD_MEM_SEED", seed),
    ]
}

fn prometheus_sd(out: &Path) -> Proc {
    let out = out.display().to_string();
    let mut envs = gossip_envs("sd-0", "prometheus-sd", "");
    envs.extend([
        ("PROM_SD_OUT", out.as_str()),
        ("PROM_REFRESH_INTERVAL", "300ms"),
        ("RUST_LOG", "info,prometheus_sd=debug"),
    ]);
    start(&bin("prometheus-sd"), &envs, None).expect("prometheus-sd starts")
}

fn read_groups(file: &Path) -> Option<Vec<serde_json::Value>> {
    let text = std::fs::read_to_string(file).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?.as_array().cloned()
}

fn services_in(groups: &[serde_json::Value]) -> Vec<String> {
    let mut s: Vec<String> =
        groups.iter().filter_map(|g| g["labels"]["service_id"].as_str().map(str::to_owned)).collect();
    s.sort();
    s
}

fn active_targets(prom: std::net::SocketAddr, job: &str) -> Vec<(String, String)> {
    let r = get(prom, "/api/v1/targets?state=active");
    if r.status != 200 {
        return Vec::new();
    }
    let mut out: Vec<(String, String)> = r.json()["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|t| t["labels"]["job"] == job)
        .map(|t| {
            (
                t["labels"]["service_id"].as_str().unwrap_or("").to_owned(),
                t["health"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn start_prometheus(dir: &Path, sd_addr: std::net::SocketAddr) -> (Daemon, std::net::SocketAddr) {
    let config = format!(
        r#"{SEED_SCRAPE_CONFIG}  - job_name: "doudou-http-sd"
    basic_auth:
      username: admin
      password: admin
    metrics_path: /go-doudou/prometheus
    http_sd_configs:
      - url: http://{sd_addr}/go-doudou/sd
        refresh_interval: 1s
        basic_auth:
          username: admin
          password: admin
"#
    );
    doudou_tests::start_prometheus(dir, &config)
}

#[test]
fn file_sd_and_http_sd_drive_a_real_prometheus() {
    let dir = temp_dir("promsd");
    let sd_dir: PathBuf = dir.join("sd");
    let file = sd_dir.join("go-doudou.json");
    let sd = prometheus_sd(&sd_dir);
    let seed = sd.gossip_addr().to_string();
    let alpha =
        start(&bin("helloworld"), &gossip_envs("alpha-0", "alpha", &seed), None).expect("alpha starts");
    let mut greeter_envs = gossip_envs("greeter-0", "greeter", &seed);
    greeter_envs.push(("HELLOWORLD_SERVICE", "alpha"));
    let mut greeter = start(&bin("greeter"), &greeter_envs, None).expect("greeter starts");

    // A reader that checks every version of the file it sees is whole JSON.
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, torn) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let reader = {
        let (stop, reads, torn, file) = (stop.clone(), reads.clone(), torn.clone(), file.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(text) = std::fs::read_to_string(&file) {
                    reads.fetch_add(1, Ordering::Relaxed);
                    if serde_json::from_str::<serde_json::Value>(&text).is_err() {
                        torn.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };

    let groups = poll(Duration::from_secs(20), "three targets in the file", || {
        read_groups(&file).filter(|g| services_in(g) == ["alpha", "greeter", "prometheus-sd"])
    });
    let alpha_group = groups.iter().find(|g| g["labels"]["service_id"] == "alpha").expect("alpha");
    assert_eq!(alpha_group["targets"], serde_json::json!([alpha.addr.to_string()]));
    assert_eq!(alpha_group["labels"]["hostname"], "alpha-0");
    assert_eq!(alpha_group["labels"]["base_url"], format!("http://{}", alpha.addr));
    assert_eq!(alpha_group["labels"]["version"], "0.1.0");
    assert_eq!(alpha_group["labels"]["__meta_doudou_weight"], "1");

    // http_sd: the same groups, from any node, behind basic auth.
    let auth = basic("admin", "admin");
    assert_eq!(get(sd.addr, "/go-doudou/sd").status, 401);
    // alpha learns of greeter by gossip, possibly a moment after the seed did.
    poll(Duration::from_secs(10), "all three in alpha's http_sd answer", || {
        let http_sd = raw(alpha.addr, "GET", "/go-doudou/sd", &[("Authorization", &auth)], b"").json();
        (services_in(http_sd.as_array()?) == ["alpha", "greeter", "prometheus-sd"]).then_some(())
    });

    // Untouched while nothing changes: three refreshes later, still the same inode and mtime.
    let meta = |p: &Path| {
        let m = std::fs::metadata(p).expect("metadata");
        (std::os::unix::fs::MetadataExt::ino(&m), m.modified().expect("mtime"))
    };
    let before = meta(&file);
    let unchanged_now = sd.output().matches("targets unchanged").count();
    poll(Duration::from_secs(10), "three more refreshes", || {
        (sd.output().matches("targets unchanged").count() >= unchanged_now + 3).then_some(())
    });
    assert_eq!(meta(&file), before, "an unchanged file is not rewritten");

    let prom_dir = dir.clone();
    let (prom, prom_addr) = start_prometheus(&prom_dir, sd.addr);
    let all_up = vec![
        ("alpha".to_owned(), "up".to_owned()),
        ("greeter".to_owned(), "up".to_owned()),
        ("prometheus-sd".to_owned(), "up".to_owned()),
    ];
    for job in ["go-doudou-wordcloud", "doudou-http-sd"] {
        poll(Duration::from_secs(30), &format!("every target of {job} up"), || {
            (active_targets(prom_addr, job) == all_up).then_some(())
        });
    }

    // A service leaves: gone from the file, the http_sd answer and Prometheus.
    greeter.signal("TERM");
    assert!(greeter.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()));
    poll(Duration::from_secs(10), "greeter gone from the file", || {
        read_groups(&file).filter(|g| services_in(g) == ["alpha", "prometheus-sd"])
    });
    poll(Duration::from_secs(10), "greeter gone from http_sd", || {
        let r = raw(sd.addr, "GET", "/go-doudou/sd", &[("Authorization", &auth)], b"").json();
        (services_in(r.as_array()?) == ["alpha", "prometheus-sd"]).then_some(())
    });
    let two_up = vec![("alpha".to_owned(), "up".to_owned()), ("prometheus-sd".to_owned(), "up".to_owned())];
    for job in ["go-doudou-wordcloud", "doudou-http-sd"] {
        poll(Duration::from_secs(30), &format!("greeter gone from {job}"), || {
            (active_targets(prom_addr, job) == two_up).then_some(())
        });
    }

    stop.store(true, Ordering::Relaxed);
    reader.join().expect("reader");
    assert!(reads.load(Ordering::Relaxed) > 10, "the reader read the file");
    assert_eq!(torn.load(Ordering::Relaxed), 0, "a reader saw a partial file");
    drop((prom, alpha));
}

#[test]
fn an_unwritable_out_dir_is_reported_and_http_keeps_serving() {
    let sd = prometheus_sd(Path::new("/proc/doudou-cannot-create"));
    poll(Duration::from_secs(10), "the error in the log", || {
        sd.output().contains("cannot create /proc/doudou-cannot-create (PROM_SD_OUT)").then_some(())
    });
    assert_eq!(get(sd.addr, "/go-doudou/health").status, 200);
    let targets = get(sd.addr, "/targets");
    assert_eq!(targets.status, 200);
    assert_eq!(targets.json().as_array().map(Vec::len), Some(1), "itself");
}

#[test]
fn an_invalid_refresh_interval_stops_start_up() {
    let exited =
        start(&bin("prometheus-sd"), &[("PROM_REFRESH_INTERVAL", "often")], None).err().expect("refuses");
    assert!(!exited.status.success());
    assert!(
        exited.output.contains("PROM_REFRESH_INTERVAL") && exited.output.contains("often"),
        "{}",
        exited.output
    );
}

#[test]
fn promtool_accepts_the_books_config() {
    let readme = std::fs::read_to_string(manifest_dir().join("../docs/src/management.md"))
        .expect("docs/src/management.md");
    let marker = "# prometheus.yml: file_sd and http_sd";
    let start = readme.find(marker).expect("the book's Prometheus SD config block");
    let block = &readme[start..];
    let block = &block[..block.find("```").expect("end of the block")];
    let dir = temp_dir("readme-config");
    std::fs::write(dir.join("prometheus.yml"), block).expect("write");
    let out = Command::new(tool("promtool"))
        .args(["check", "config"])
        .arg(dir.join("prometheus.yml"))
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
