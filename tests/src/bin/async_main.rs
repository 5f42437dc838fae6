//! helloworld started from an async `main`, the two ways a user might (`START` says which):
//! `run` returns `Server::run`'s error from `main` (Rust prints it with `Debug`); `serve`
//! calls `doudou::serve` inside the runtime, which cannot start a runtime of its own.

use doudou::{Server, StartError};
use helloworld::{Hello, HelloworldServer};

fn main() -> Result<(), StartError> {
    let runtime = doudou::tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        match std::env::var("START").as_deref() {
            Ok("serve") => doudou::serve(HelloworldServer::new(Hello)),
            _ => Server::new().service(HelloworldServer::new(Hello)).run().await,
        }
    })
}
