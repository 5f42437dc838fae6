//! `cargo run -p helloworld` serves the example on port 6060 (see `GDD_*` in the README).

fn main() {
    doudou::serve(helloworld::HelloworldServer::new(helloworld::Hello))
}
