//! `cargo run --release -p bench-server`: the benchmark's doudou service on GDD_PORT.

fn main() {
    doudou::serve(bench_server::BenchServer::new(bench_server::BenchImpl))
}
