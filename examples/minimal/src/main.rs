//! The smallest doudou service: one model, one method, served on `GDD_PORT` (6060).
//!
//! `cargo run -p minimal`, then `curl 'localhost:6060/greeting?name=doudou'`.

use doudou::Error;

/// What the service answers.
#[doudou::model]
pub struct Greeting {
    /// The greeting itself.
    pub text: String,
}

/// Greets whoever asks.
#[doudou::service]
pub trait Greeter {
    /// `GET /greeting?name=...` (go-doudou's convention: `get_` is GET, the rest the path)
    async fn get_greeting(&self, name: String) -> Result<Greeting, Error>;
}

struct Polite;

impl Greeter for Polite {
    async fn get_greeting(&self, name: String) -> Result<Greeting, Error> {
        if name.is_empty() {
            return Err(Error::bad_request("name must not be empty"));
        }
        Ok(Greeting { text: format!("Hello, {name}!") })
    }
}

#[doudou::main]
async fn main() -> Result<(), doudou::StartError> {
    doudou::Server::new().service(GreeterServer::new(Polite)).run().await
}
