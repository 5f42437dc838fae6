//! `client-load URL MODE SECONDS CONCURRENCY`: calls `GET URL/user?id=7` from CONCURRENCY
//! tasks on one thread for SECONDS and prints the calls a second. MODE `doudou` calls through
//! the generated `BenchClient` (timeouts, retry budget, instance choice, metrics); `hyper`
//! sends the same requests with a bare hyper client and decodes the same JSON, writing each
//! call's URI from its id as the generated client does; `hyper-static` sends one URI parsed
//! before the run (a lower bound no caller with a parameter gets). See `benches/client.sh`.

use std::time::{Duration, Instant};

use bench_server::{Bench, BenchClient, User};
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, mode, seconds, concurrency] = args.as_slice() else {
        eprintln!("usage: client-load URL doudou|hyper SECONDS CONCURRENCY");
        std::process::exit(2);
    };
    let length = Duration::from_secs_f64(seconds.parse().unwrap_or(3.0));
    let concurrency: usize = concurrency.parse().unwrap_or(16);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let Ok(runtime) = runtime else {
        eprintln!("cannot start the runtime");
        std::process::exit(1);
    };
    let (calls, failures) = runtime.block_on(async {
        let deadline = Instant::now() + length;
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let caller = Caller::new(mode, url);
            tasks.push(tokio::spawn(async move {
                let (mut calls, mut failures) = (0u64, 0u64);
                while Instant::now() < deadline {
                    match caller.call().await {
                        Some(user) if user.id == 7 => calls += 1,
                        _ => failures += 1,
                    }
                }
                (calls, failures)
            }));
        }
        let mut total = (0, 0);
        for t in tasks {
            let (c, f) = t.await.unwrap_or_default();
            total = (total.0 + c, total.1 + f);
        }
        total
    });
    println!("{:.0} calls/s, {failures} failed", calls as f64 / length.as_secs_f64());
}

#[derive(Clone)]
enum Caller {
    Doudou(BenchClient),
    Hyper(HyperClient, String),
    HyperStatic(HyperClient, http::Uri),
}

type HyperClient = hyper_util::client::legacy::Client<HttpConnector, http_body_util::Empty<bytes::Bytes>>;

impl Caller {
    fn new(mode: &str, url: &str) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
        match mode {
            "hyper" => Self::Hyper(client, url.to_owned()),
            "hyper-static" => {
                Self::HyperStatic(client, format!("{url}/user?id=7").parse().unwrap_or_default())
            }
            _ => Self::Doudou(BenchClient::new(url)),
        }
    }

    async fn call(&self) -> Option<User> {
        match self {
            Self::Doudou(client) => client.get_user(7).await.ok(),
            Self::Hyper(client, base) => {
                let id: u64 = 7;
                Self::hyper_call(client, format!("{base}/user?id={id}").parse().ok()?).await
            }
            Self::HyperStatic(client, uri) => Self::hyper_call(client, uri.clone()).await,
        }
    }

    async fn hyper_call(client: &HyperClient, uri: http::Uri) -> Option<User> {
        let resp = client.get(uri).await.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let bytes = resp.into_body().collect().await.ok()?.to_bytes();
        serde_json::from_slice(&bytes).ok()
    }
}
