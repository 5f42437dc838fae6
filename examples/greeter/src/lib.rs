//! The greeter example: a service that calls another service (helloworld) by its name. The
//! instances of helloworld are found through gossip and picked by smooth weighted round robin;
//! a call that cannot connect is retried on another instance.

use doudou::Error;
use helloworld::{Helloworld, HelloworldClient};

/// A greeting and who helped make it.
#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Greeting {
    /// The greeting.
    pub message: String,
    /// The helloworld node that answered.
    pub served_by: String,
}

/// The greeter service.
#[doudou::service]
pub trait Greeter {
    /// Greets `name`, asking a helloworld instance who it is.
    async fn get_hello(&self, name: String) -> Result<Greeting, Error>;
}

/// The implementation: a client of helloworld by service name.
#[derive(Debug, Clone)]
pub struct GreeterImpl {
    helloworld: HelloworldClient,
}

impl GreeterImpl {
    /// Calls the instances of the service named `helloworld_service`.
    pub fn new(helloworld_service: &str) -> Self {
        Self { helloworld: HelloworldClient::discover(helloworld_service) }
    }
}

impl Greeter for GreeterImpl {
    async fn get_hello(&self, name: String) -> Result<Greeting, Error> {
        let who = self.helloworld.get_whoami().await?;
        Ok(Greeting { message: format!("Hello, {name}!"), served_by: who.node })
    }
}
