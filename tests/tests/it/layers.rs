//! The server in-process over sockets: connection timeouts and shutdown (user layers and the
//! rest of the request path are tested in memory, in `pipeline.rs`).

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use doudou::{Config, Server};
use doudou_tests::get;
use helloworld::{Hello, HelloworldServer};

fn config(tweak: impl FnOnce(&mut Config)) -> Config {
    let mut c = Config::defaults();
    c.host = [127, 0, 0, 1].into();
    c.port = 0;
    c.discovery_mode = doudou::config::DiscoveryMode::None;
    tweak(&mut c);
    c
}

/// helloworld in this process with `tweak`ed settings.
async fn start_hello(tweak: impl FnOnce(&mut Config)) -> doudou::Running {
    Server::new()
        .with_config(config(tweak))
        .service(HelloworldServer::new(Hello))
        .start()
        .await
        .expect("starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_arrive_in_time_is_408() {
    let running = start_hello(|c| c.read_timeout = Duration::from_millis(300)).await;
    let addr = running.local_addr();
    let reply = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let head = "POST /page/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"page\":";
        s.write_all(head.as_bytes()).expect("write");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    })
    .await
    .expect("request");
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("GDD_READ_TIMEOUT"), "{reply}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed() {
    let running = start_hello(|c| c.idle_timeout = Duration::from_millis(300)).await;
    let addr = running.local_addr();
    let closed_after = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        s.write_all(b"GET /user?id=1 HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).expect("the response");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        let idle_since = Instant::now();
        // Keep-alive: the server keeps the connection until it has been idle too long.
        let n = s.read(&mut buf).expect("EOF, not a read timeout");
        assert_eq!(n, 0, "the server closed the connection");
        idle_since.elapsed()
    })
    .await
    .expect("request");
    assert!(closed_after >= Duration::from_millis(250), "closed too early: {closed_after:?}");
    assert!(closed_after < Duration::from_secs(3), "closed too late: {closed_after:?}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_trickled_in_is_cut_off_after_the_idle_timeout() {
    let running = start_hello(|c| c.idle_timeout = Duration::from_millis(300)).await;
    let addr = running.local_addr();
    let (closed_after, answer) = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut writer = s.try_clone().expect("clone");
        let started = Instant::now();
        // One header line every 50 ms, the head never finished: a slowloris client.
        let trickle = std::thread::spawn(move || {
            let _ = writer.write_all(b"GET /user?id=1 HTTP/1.1\r\nHost: x\r\n");
            while started.elapsed() < Duration::from_secs(3) {
                if writer.write_all(b"X-Pad: 1\r\n").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let closed_after = started.elapsed();
        let _ = s.shutdown(std::net::Shutdown::Both);
        trickle.join().expect("writer");
        (closed_after, answer)
    })
    .await
    .expect("request");
    assert!(!answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
    assert!(closed_after >= Duration::from_millis(250), "closed too early: {closed_after:?}");
    assert!(closed_after < Duration::from_secs(2), "bytes trickling in kept it open: {closed_after:?}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_slower_than_the_idle_timeout_still_answers() {
    let running = start_hello(|c| c.idle_timeout = Duration::from_millis(200)).await;
    let addr = running.local_addr();
    let r = tokio::task::spawn_blocking(move || get(addr, "/slow?ms=900")).await.expect("request");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json(), "slept 900ms");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_from_code_turns_unready_and_stops() {
    let running = start_hello(|_| {}).await;
    let state = running.state().clone();
    assert!(state.is_ready());
    let addr = running.local_addr();
    running.shutdown().await;
    assert!(!state.is_ready());
    assert!(std::net::TcpStream::connect(addr).is_err());
}
