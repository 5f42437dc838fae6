//! Integration tests: the helloworld example as a real process, called over loopback.

mod architecture;
mod binding;
mod client;
mod contract;
mod gossip;
mod hardening;
mod http;
mod in_memory;
mod layers;
mod manage;
mod outside;
mod overload;
mod pipeline;
mod prometheus;
mod promsd;
mod resilience;
mod startup;
mod streams;
mod surface;
mod tracing;
