//! `cargo run -p greeter`: serves the greeter, calling the service named by `HELLOWORLD_SERVICE`
//! (default `helloworld`) through gossip. See the book's Microservices chapter (docs/src/microservices.md).

fn main() {
    let target = std::env::var("HELLOWORLD_SERVICE").unwrap_or_else(|_| "helloworld".to_owned());
    doudou::serve(greeter::GreeterServer::new(greeter::GreeterImpl::new(&target)))
}
