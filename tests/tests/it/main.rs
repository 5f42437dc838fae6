//! Integration tests: the helloworld example as a real process, called over loopback.

mod client;
mod http;
mod layers;
mod manage;
mod prometheus;
mod startup;
