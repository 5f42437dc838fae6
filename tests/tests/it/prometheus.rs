//! A real Prometheus server scrapes the example with the seed document's scrape config.

use std::time::Duration;

use doudou_tests::{bin, get, poll, start, start_prometheus, temp_dir, SEED_SCRAPE_CONFIG};

/// The seed document's job, unchanged but for the job name and the target file; a second job
/// with a wrong password must be refused.
fn prometheus_yml() -> String {
    format!(
        r#"{SEED_SCRAPE_CONFIG}  - job_name: "wrong-password"
    basic_auth:
      username: admin
      password: not-the-password
    metrics_path: /go-doudou/prometheus
    file_sd_configs:
      - files:
          - sd/go-doudou.json
"#
    )
}

fn api(addr: std::net::SocketAddr, query: &str) -> serde_json::Value {
    let r = get(addr, query);
    if r.status != 200 {
        return serde_json::Value::Null;
    }
    r.json()
}

#[test]
fn prometheus_scrapes_the_service_with_the_seed_config() {
    let svc = start(&bin("helloworld"), &[], None).expect("helloworld starts");
    let dir = temp_dir("prometheus");
    std::fs::create_dir_all(dir.join("sd")).expect("sd dir");
    std::fs::write(
        dir.join("sd/go-doudou.json"),
        serde_json::json!([{ "targets": [svc.addr.to_string()], "labels": { "service": "helloworld" } }])
            .to_string(),
    )
    .expect("write targets");
    let (prom, prom_addr) = start_prometheus(&dir, &prometheus_yml());

    for id in 1..=7 {
        assert_eq!(get(svc.addr, &format!("/user?id={id}")).status, 200);
    }

    let targets = poll(Duration::from_secs(30), "both jobs to be scraped", || {
        let t = api(prom_addr, "/api/v1/targets?state=active");
        let active = t["data"]["activeTargets"].as_array()?.clone();
        let health = |job: &str| {
            active
                .iter()
                .find(|a| a["labels"]["job"] == job)
                .and_then(|a| a["health"].as_str().map(str::to_owned))
        };
        match (health("go-doudou-wordcloud")?.as_str(), health("wrong-password")?.as_str()) {
            ("up", "down") => Some(active),
            _ => None,
        }
    });
    let refused = targets.iter().find(|a| a["labels"]["job"] == "wrong-password").expect("second job");
    assert!(refused["lastError"].as_str().is_some_and(|e| e.contains("401")), "{refused}");
    let ok = targets.iter().find(|a| a["labels"]["job"] == "go-doudou-wordcloud").expect("first job");
    assert_eq!(ok["labels"]["service"], "helloworld", "labels from the file_sd file");

    let query = "/api/v1/query?query=doudou_http_requests_total%7Bjob%3D%22go-doudou-wordcloud%22%2Croute%3D%22%2Fuser%22%2Cmethod%3D%22GET%22%2Cstatus%3D%22200%22%7D";
    let value = poll(Duration::from_secs(30), "the request counter to reach 7", || {
        let v = api(prom_addr, query);
        let value = v["data"]["result"][0]["value"][1].as_str()?.to_owned();
        (value == "7").then_some(value)
    });
    assert_eq!(value, "7");
    drop(prom);
}
