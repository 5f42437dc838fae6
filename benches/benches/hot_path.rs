//! Criterion benchmarks of what doudou adds to a request, in memory (no socket): routing,
//! parameter binding, JSON in and out, error mapping, the metrics update, a load-balancer
//! pick, and dispatch in a service of 2 methods against one of 200.
//!   cargo bench -p doudou-benches --bench hot_path

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bench_server::{BenchImpl, BenchServer};
use criterion::{criterion_group, criterion_main, Criterion};
use doudou::body::Body;
use doudou::sd::{Balancer, RoundRobin, SmoothWeighted};
use doudou::{Config, Error, Server};
use http_body_util::BodyExt;

/// The server's whole request path in memory, as a socket's requests take it: request id,
/// metrics, routing, binding, the handler and JSON; no connection.
fn router(server: Server) -> doudou::InMemory {
    server.into_service(Config::defaults()).expect("routes")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

async fn roundtrip(router: &doudou::InMemory, req: http::Request<Body>) -> usize {
    let resp = router.call(req).await;
    resp.into_body().collect().await.map(|b| b.to_bytes().len()).unwrap_or(0)
}

fn request_path(c: &mut Criterion) {
    let rt = runtime();
    let r = router(Server::new().service(BenchServer::new(BenchImpl)));
    let mut group = c.benchmark_group("request_path");
    group.bench_function("get_user_query_to_json", |b| {
        b.iter(|| {
            let req = http::Request::get("/user?id=7").body(Body::empty()).expect("request");
            rt.block_on(roundtrip(&r, black_box(req)))
        })
    });
    group.bench_function("page_users_json_to_json", |b| {
        b.iter(|| {
            let req = http::Request::post("/page/users")
                .header("content-type", "application/json")
                .body(Body::full(&br#"{"page":3,"size":10}"#[..]))
                .expect("request");
            rt.block_on(roundtrip(&r, black_box(req)))
        })
    });
    group.bench_function("bad_scalar_to_400", |b| {
        b.iter(|| {
            let req = http::Request::get("/user?id=seven").body(Body::empty()).expect("request");
            rt.block_on(roundtrip(&r, black_box(req)))
        })
    });
    group.bench_function("unknown_path_to_404", |b| {
        b.iter(|| {
            let req = http::Request::get("/nope").body(Body::empty()).expect("request");
            rt.block_on(roundtrip(&r, black_box(req)))
        })
    });
    group.finish();
}

fn metrics(c: &mut Criterion) {
    let m = Arc::new(doudou::metrics::Metrics::new("bench", &doudou::BuildInfo::default()).expect("metrics"));
    let routes = m.routes(vec![Arc::from("/user"), Arc::from("/page/users")]);
    let mut group = c.benchmark_group("metrics_record");
    group.bench_function("ok", |b| {
        b.iter(|| routes.record(Some(0), &http::Method::GET, 200, black_box(Duration::from_micros(120))))
    });
    group.bench_function("bad_request", |b| {
        b.iter(|| routes.record(Some(0), &http::Method::GET, 400, black_box(Duration::from_micros(120))))
    });
    group.finish();
}

fn members(n: usize) -> Vec<doudou::sd::Member> {
    (0..n)
        .map(|i| doudou::sd::Member {
            name: format!("node-{i}"),
            service: "svc".into(),
            gossip_address: String::new(),
            address: format!("10.0.0.{i}:6060"),
            base_url: format!("http://10.0.0.{i}:6060"),
            weight: (i % 3 + 1) as u32,
            version: String::new(),
            git_commit: String::new(),
            build_time: String::new(),
            start_time: 0,
            status: doudou::sd::MemberStatus::Alive,
        })
        .collect()
}

fn balancers(c: &mut Criterion) {
    let mut group = c.benchmark_group("lb_pick");
    for n in [3, 50] {
        let instances = members(n);
        let rr = RoundRobin::default();
        group.bench_function(format!("round_robin_{n}"), |b| b.iter(|| rr.pick(black_box(&instances))));
        let swrr = SmoothWeighted::default();
        group.bench_function(format!("smooth_weighted_{n}"), |b| b.iter(|| swrr.pick(black_box(&instances))));
    }
    group.finish();
}

macro_rules! wide_service {
    ($trait:ident, $server:ident, $imp:ident; $($m:ident)*) => {
        #[doudou::service]
        trait $trait {
            $(async fn $m(&self, id: u64) -> Result<u64, Error>;)*
        }
        struct $imp;
        impl $trait for $imp {
            $(async fn $m(&self, id: u64) -> Result<u64, Error> { Ok(id) })*
        }
    };
}

wide_service!(Narrow, NarrowServer, NarrowImpl; get_m000 get_m001);
include!("support/wide_service_200.rs");

fn dispatch(c: &mut Criterion) {
    let rt = runtime();
    let narrow = router(Server::new().service(NarrowServer::new(NarrowImpl)));
    let wide = router(Server::new().service(WideServer::new(WideImpl)));
    let mut group = c.benchmark_group("dispatch");
    group.bench_function("methods_2_last_route", |b| {
        b.iter(|| {
            let req = http::Request::get("/m001?id=7").body(Body::empty()).expect("request");
            rt.block_on(roundtrip(&narrow, black_box(req)))
        })
    });
    group.bench_function("methods_200_last_route", |b| {
        b.iter(|| {
            let req = http::Request::get("/m199?id=7").body(Body::empty()).expect("request");
            rt.block_on(roundtrip(&wide, black_box(req)))
        })
    });
    group.finish();
}

criterion_group!(benches, request_path, metrics, balancers, dispatch);
criterion_main!(benches);
