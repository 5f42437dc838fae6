//! `cargo run -p helloworld` serves the example on port 6060 (the `GDD_*` settings: docs/src/configuration.md).

fn main() {
    doudou::serve(helloworld::HelloworldServer::new(helloworld::Hello))
}
