//! A million Server-Sent Events: doudou's `EventStream` against a hand-written axum `Sse`
//! handler, both read by a raw reader, and doudou's generated client reading doudou
//! (`benches/sse.sh` runs them and reports the ratio and the memory).
//!
//!   sse-load doudou        serve `?count=` events at /ticks (port from GDD_PORT)
//!   sse-load axum          the same in axum (SSE_EVENTS events)
//!   sse-load read URL      read /ticks raw, counting the events
//!   sse-load client URL    read /ticks with the generated client
//!
//! Each reader prints `events seconds rss_start_kib rss_peak_kib`.

use std::convert::Infallible;
use std::time::Instant;

use doudou::{Event, EventStream, LastEventId};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One event's data.
#[doudou::model]
pub struct Tick {
    /// Its number.
    pub n: u64,
}

/// The streaming service.
#[doudou::service]
pub trait Ticker {
    /// `count` ticks as fast as they go.
    async fn get_ticks(&self, count: u64, last: LastEventId) -> Result<EventStream<Tick>, doudou::Error>;
}

struct Fast;

impl Ticker for Fast {
    async fn get_ticks(&self, count: u64, _last: LastEventId) -> Result<EventStream<Tick>, doudou::Error> {
        Ok(EventStream::new(futures_util::stream::iter(1..=count).map(|n| Event::new(Tick { n }))))
    }
}

/// Resident memory now and at its peak, KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn serve_axum(count: u64) -> std::io::Result<()> {
    use axum::response::sse::{Event as AxumEvent, Sse};
    let app = axum::Router::new().route(
        "/ticks",
        axum::routing::get(move || async move {
            let events = futures_util::stream::iter(1..=count)
                .map(|n| Ok::<_, Infallible>(AxumEvent::default().json_data(Tick { n }).unwrap_or_default()));
            Sse::new(events)
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", doudou_benches::port())).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}

/// Reads the answer to `GET /ticks` raw, counting `data:` lines.
async fn read_raw(url: &str, count: u64) -> std::io::Result<u64> {
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    let request =
        format!("GET /ticks?count={count} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut buffer = vec![0u8; 64 * 1024];
    let (mut events, mut carry) = (0u64, Vec::<u8>::new());
    loop {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Ok(events);
        }
        // `data:` split across two reads is found in the last bytes kept from the one before.
        carry.extend_from_slice(&buffer[..n]);
        events += carry.windows(5).filter(|w| *w == b"data:").count() as u64;
        let keep = carry.len().min(4);
        carry.drain(..carry.len() - keep);
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (mode, arg) = (args.get(1).map(String::as_str), args.get(2).cloned().unwrap_or_default());
    let count: u64 = std::env::var("SSE_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    match mode {
        Some("doudou") => doudou::Server::new().service(TickerServer::new(Fast)).run().await?,
        Some("axum") => serve_axum(count).await?,
        Some("read") => {
            let (start, _) = memory();
            let started = Instant::now();
            let events = read_raw(&arg, count).await?;
            println!("{events} {:.3} {start} {}", started.elapsed().as_secs_f64(), memory().1);
        }
        Some("client") => {
            let (start, _) = memory();
            let started = Instant::now();
            let client = TickerClient::new(arg);
            let mut ticks = client.get_ticks(count, LastEventId::default()).await?;
            let mut events = 0u64;
            while let Some(event) = ticks.next().await {
                event?;
                events += 1;
            }
            println!("{events} {:.3} {start} {}", started.elapsed().as_secs_f64(), memory().1);
        }
        _ => eprintln!("usage: sse-load doudou|axum N | read|client URL (SSE_EVENTS events)"),
    }
    Ok(())
}
