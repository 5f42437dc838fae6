//! Start-up and shutdown: strict configuration, `.env` layering, graceful drain.

use std::time::{Duration, Instant};

use doudou_tests::{bin, get, start, temp_dir};

#[test]
fn an_invalid_port_stops_start_up_naming_the_variable() {
    let exited = start(&bin("helloworld"), &[("GDD_PORT", "abc")], None).err().expect("must not start");
    assert!(!exited.status.success());
    assert!(exited.output.contains("GDD_PORT") && exited.output.contains("\"abc\""), "{}", exited.output);
}

#[test]
fn an_invalid_duration_stops_start_up_naming_the_variable() {
    let exited =
        start(&bin("helloworld"), &[("GDD_GRACE_TIMEOUT", "soon")], None).err().expect("must not start");
    assert!(!exited.status.success());
    assert!(
        exited.output.contains("GDD_GRACE_TIMEOUT") && exited.output.contains("soon"),
        "{}",
        exited.output
    );
}

#[test]
fn dotenv_files_layer_and_the_process_environment_wins() {
    let dir = temp_dir("dotenv");
    std::fs::write(dir.join(".env"), "GDD_ROUTE_ROOT_PATH=/base\nGDD_MAX_BODY_SIZE=1KiB\n").expect("write");
    std::fs::write(dir.join(".env.dev"), "GDD_ROUTE_ROOT_PATH=/dev\n").expect("write");
    std::fs::write(dir.join(".env.local"), "GDD_ROUTE_ROOT_PATH=/local\n").expect("write");
    let svc = start(&bin("helloworld"), &[], Some(&dir)).expect("starts");
    assert_eq!(get(svc.addr, "/local/user?id=1").status, 200, ".env.local beats .env.dev and .env");
    assert_eq!(get(svc.addr, "/base/user?id=1").status, 404);
    drop(svc);

    let svc = start(&bin("helloworld"), &[("GDD_ROUTE_ROOT_PATH", "/proc")], Some(&dir)).expect("starts");
    assert_eq!(get(svc.addr, "/proc/user?id=1").status, 200, "the process environment beats every file");
    drop(svc);

    std::fs::write(dir.join(".env"), "GDD_PORT=not-a-port\n").expect("write");
    std::fs::remove_file(dir.join(".env.local")).expect("remove");
    let exited = start(&bin("helloworld"), &[("GDD_PORT", "")], Some(&dir)).err();
    // An empty process variable still wins over the file, and an empty port is invalid too.
    assert!(exited.is_some_and(|e| e.output.contains("GDD_PORT")));
}

fn sigterm_drains(signal: &str) {
    let mut svc = start(&bin("helloworld"), &[], None).expect("starts");
    let addr = svc.addr;
    let slow = std::thread::spawn(move || get(addr, "/slow?ms=1500"));
    // The handler logs when it starts sleeping: signal only once the request is in flight.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !svc.output().contains("sleeping 1500ms") {
        assert!(Instant::now() < deadline, "the slow request never started:\n{}", svc.output());
        std::thread::sleep(Duration::from_millis(10));
    }
    svc.signal(signal);
    let response = slow.join().expect("the slow request thread");
    assert_eq!(response.status, 200, "the in-flight request finishes");
    assert_eq!(response.json(), "slept 1500ms");
    let status = svc.wait_exit(Duration::from_secs(10)).expect("exits after draining");
    assert!(status.success(), "exit status {status:?}\n{}", svc.output());
    assert!(std::net::TcpStream::connect(addr).is_err(), "no longer accepting");
}

#[test]
fn sigterm_lets_in_flight_requests_finish_and_exits_0() {
    sigterm_drains("TERM");
}

#[test]
fn sigint_does_the_same() {
    sigterm_drains("INT");
}

#[test]
fn the_grace_timeout_bounds_the_drain() {
    let mut svc = start(&bin("helloworld"), &[("GDD_GRACE_TIMEOUT", "300ms")], None).expect("starts");
    let addr = svc.addr;
    let slow = std::thread::spawn(move || doudou_tests::raw(addr, "GET", "/slow?ms=10000", &[], b""));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !svc.output().contains("sleeping 10000ms") {
        assert!(Instant::now() < deadline, "the slow request never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let signalled = Instant::now();
    svc.signal("TERM");
    let status = svc.wait_exit(Duration::from_secs(5)).expect("exits once the grace timeout elapses");
    assert!(signalled.elapsed() < Duration::from_secs(3), "did not wait for the 10 s handler");
    assert!(status.success());
    drop(slow);
}

#[test]
fn a_start_up_error_returned_from_main_prints_as_its_message() {
    let exited = start(&bin("async_main"), &[("START", "run"), ("GDD_PORT", "abc")], None)
        .err()
        .expect("must not start");
    assert!(!exited.status.success());
    assert!(exited.output.contains("invalid value \"abc\" for GDD_PORT"), "{}", exited.output);
    assert!(!exited.output.contains("Config(Invalid"), "the message, not the enum: {}", exited.output);
}

#[test]
fn serve_inside_a_runtime_says_what_to_do_instead() {
    let exited = start(&bin("async_main"), &[("START", "serve")], None).err().expect("must not start");
    assert_eq!(exited.status.code(), Some(1), "{}", exited.output);
    assert!(exited.output.contains("Server::new().service(s).run().await"), "{}", exited.output);
    assert!(!exited.output.contains("panicked"), "{}", exited.output);
}
