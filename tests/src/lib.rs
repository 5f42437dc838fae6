//! Test harness: start an example service as a process on loopback, talk to it with a plain
//! HTTP/1.1 client, stop it. Every process started here is killed when its handle drops.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The path of a binary of this workspace, built by `cargo build` / `cargo test --workspace`.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/it-<hash> -> target/<profile>/<name>
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let path = dir.join(name);
    assert!(path.exists(), "{} is missing: run `cargo build --workspace --bins` first", path.display());
    path
}

/// A service process and the output it has printed so far.
pub struct Proc {
    child: Child,
    output: Arc<Mutex<String>>,
    /// The address its HTTP server announced.
    pub addr: SocketAddr,
}

/// How a process start went when it did not announce an address.
#[derive(Debug)]
pub struct Exited {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its standard output and error.
    pub output: String,
}

fn reader(stream: impl Read + Send + 'static, output: Arc<Mutex<String>>, lines: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Ok(mut out) = output.lock() {
                out.push_str(&line);
                out.push('\n');
            }
            let _ = lines.send(line);
        }
    });
}

/// Starts `bin` with `envs` (on top of a clean `GDD_*`-free environment) in `dir`, and waits
/// up to 20 s for "listening on http://ADDR". If it exits first, returns how.
pub fn start(bin: &Path, envs: &[(&str, &str)], dir: Option<&Path>) -> Result<Proc, Exited> {
    start_with(bin, envs, dir, |_| {})
}

/// [`start`], with `customize` applied to the command last (raw, non-UTF-8 variables, say).
pub fn start_with(
    bin: &Path,
    envs: &[(&str, &str)],
    dir: Option<&Path>,
    customize: impl FnOnce(&mut Command),
) -> Result<Proc, Exited> {
    let mut cmd = Command::new(bin);
    for (k, _) in std::env::vars() {
        if k.starts_with("GDD_") || k.starts_with("OTEL_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.env("GDD_HOST", "127.0.0.1").env("GDD_PORT", "0").env("GDD_SERVICE_DISCOVERY_MODE", "none");
    cmd.envs(envs.iter().copied());
    cmd.current_dir(dir.map_or_else(std::env::temp_dir, Path::to_path_buf));
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
    customize(&mut cmd);
    let mut child = cmd.spawn().expect("spawn the service");
    let output = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel();
    reader(child.stdout.take().expect("stdout"), output.clone(), tx.clone());
    reader(child.stderr.take().expect("stderr"), output.clone(), tx);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => {
                if let Some(addr) = announced_addr(&line) {
                    return Ok(Proc { child, output, addr });
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            // Let the readers drain what is left.
            std::thread::sleep(Duration::from_millis(50));
            let output = output.lock().map(|o| o.clone()).unwrap_or_default();
            return Err(Exited { status, output });
        }
        assert!(Instant::now() < deadline, "the service did not announce its address within 20s");
    }
}

fn announced_addr(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("listening on http://")? + "listening on http://".len()..];
    let end = rest.find(|c: char| c.is_whitespace() || c == '"' || c == '\u{1b}').unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A process's resident memory, from `/proc/PID/status`, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// `VmRSS`: resident now.
    pub now: u64,
    /// `VmHWM`: the peak since the process started.
    pub peak: u64,
}

impl Proc {
    /// Its resident memory now and at its peak.
    pub fn memory(&self) -> Memory {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc/PID/status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kib| kib * 1024)
                .unwrap_or_else(|| panic!("{name} in /proc/PID/status"))
        };
        Memory { now: field("VmRSS:"), peak: field("VmHWM:") }
    }

    /// The sum of the series of the metric `name` whose labels contain `label` (`""`: every
    /// series), from its `/go-doudou/prometheus` with the default credentials.
    pub fn metric(&self, name: &str, label: &str) -> u64 {
        let r = raw(
            self.addr,
            "GET",
            "/go-doudou/prometheus",
            &[("Authorization", &basic("admin", "admin"))],
            b"",
        );
        String::from_utf8_lossy(&r.body)
            .lines()
            .filter(|l| {
                l.strip_prefix(name).is_some_and(|rest| rest.starts_with(['{', ' '])) && l.contains(label)
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    /// `http://ADDR`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What it printed so far.
    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// Sends a signal by name (`TERM`, `INT`) through kill(1).
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id();
        let status = Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{signal} {pid}");
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response read by [`raw`].
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, by lower-case name (the last value of a repeated header).
    pub headers: BTreeMap<String, String>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    /// The `message` of a JSON error body.
    pub fn message(&self) -> String {
        self.json()["message"].as_str().unwrap_or_default().to_owned()
    }
}

/// Sends one request over a fresh connection, exactly as given apart from `Host`,
/// `Connection: close` and `Content-Length`, and reads the whole response.
pub fn raw(addr: SocketAddr, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    // A server may answer (413) before reading the body and close: a failed write is fine.
    let _ = stream.write_all(body);
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    parse_response(&bytes)
}

/// [`raw`] from the loopback source address `from` (such as 127.0.0.2): another client machine.
pub fn raw_from(
    from: std::net::IpAddr,
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> Response {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.bind(&SocketAddr::new(from, 0).into()).expect("bind the source address");
    socket.connect(&addr.into()).expect("connect");
    let mut stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    parse_response(&bytes)
}

/// Sends `requests` (complete request heads, in order) pipelined on one connection, the last
/// with `Connection: close`, and returns the raw bytes of every answer.
pub fn pipelined(addr: SocketAddr, requests: impl IntoIterator<Item = String>) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let mut all = String::new();
    for head in requests {
        all.push_str(&head);
    }
    all.push_str(&format!("GET /go-doudou/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"));
    let writer = {
        let mut stream = stream.try_clone().expect("clone");
        std::thread::spawn(move || {
            let _ = stream.write_all(all.as_bytes());
        })
    };
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let _ = writer.join();
    bytes
}

/// `GET` with no extra headers.
pub fn get(addr: SocketAddr, target: &str) -> Response {
    raw(addr, "GET", target, &[], b"")
}

fn parse_response(bytes: &[u8]) -> Response {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response head");
    let head = String::from_utf8_lossy(&bytes[..split]);
    let mut lines = head.lines();
    let status_line = lines.next().expect("status line");
    let status = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status");
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = bytes[split + 4..].to_vec();
    if headers.get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        body = dechunk(&body);
    }
    Response { status, headers, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

/// A fresh temporary directory for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("doudou-it-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// A tool the tests drive, from `PATH` (where `scripts/test.sh` installs it).
pub fn tool(name: &str) -> PathBuf {
    which::which(name).unwrap_or_else(|_| {
        panic!("`{name}` is not on PATH: run the tests through scripts/test.sh, which installs it")
    })
}

/// Asserts that `promtool check metrics` accepts the scrape `text` without a remark.
pub fn assert_promtool_accepts(text: &[u8]) {
    let file = temp_dir("promtool").join("metrics.txt");
    std::fs::write(&file, text).expect("write the scrape");
    let out = Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&file).expect("open the scrape"))
        .output()
        .expect("run promtool");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && report.trim().is_empty(), "promtool check metrics: {report}");
}

/// A helper process (Prometheus, a validator) killed when dropped; its output goes to a file.
pub struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Starts `cmd` with its output in `log`.
    pub fn spawn(mut cmd: Command, log: PathBuf) -> Self {
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = cmd.stdout(out).stderr(err).stdin(Stdio::null()).spawn().expect("spawn helper");
        Self { child, log }
    }

    /// What it printed.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends it `signal` (`STOP`, `CONT`, `TERM`, ...).
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args([&format!("-{signal}"), &pid]).status().is_ok_and(|s| s.success());
        assert!(ok, "kill -{signal} {pid}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls `probe` every 100 ms until it returns `Some`, for at most `limit`.
pub fn poll<T>(limit: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `Authorization: Basic ...` for `user:pass`.
pub fn basic(user: &str, pass: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

impl Proc {
    /// The gossip address the node announced ("gossip started ... gossip=IP:PORT", or its JSON
    /// line), waiting up to 10 s for it.
    pub fn gossip_addr(&self) -> SocketAddr {
        poll(Duration::from_secs(10), "the gossip address", || {
            let out = self.output();
            let line = out.lines().find(|l| l.contains("gossip started"))?;
            // `gossip=IP:PORT` in human lines, `"gossip":"IP:PORT"` in JSON ones.
            let (at, key) =
                ["gossip=", "\"gossip\":\""].iter().find_map(|k| line.find(k).map(|at| (at, k.len())))?;
            let rest = &line[at + key..];
            let end = rest.find(|c: char| c.is_whitespace() || c == '"' || c == ',').unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
    }

    /// The names of the live (`alive` or `suspect`) nodes in its `/go-doudou/registry`
    /// (default credentials), sorted.
    pub fn registry_names(&self) -> Vec<String> {
        let r =
            raw(self.addr, "GET", "/go-doudou/registry", &[("Authorization", &basic("admin", "admin"))], b"");
        if r.status != 200 {
            return Vec::new();
        }
        let mut names: Vec<String> = r
            .json()
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|n| n["status"] == "alive" || n["status"] == "suspect")
                    .filter_map(|n| n["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Its `/go-doudou/registry` entries.
    pub fn registry(&self) -> Vec<serde_json::Value> {
        let r =
            raw(self.addr, "GET", "/go-doudou/registry", &[("Authorization", &basic("admin", "admin"))], b"");
        r.json().as_array().cloned().unwrap_or_default()
    }
}

/// Starts a real Prometheus on a free loopback port with `config` as `dir/prometheus.yml`
/// (checked by `promtool check config` first) and storage in `dir/data`; waits until ready.
pub fn start_prometheus(dir: &Path, config: &str) -> (Daemon, SocketAddr) {
    let file = dir.join("prometheus.yml");
    std::fs::write(&file, config).expect("write prometheus.yml");
    let check =
        Command::new(tool("promtool")).args(["check", "config"]).arg(&file).output().expect("promtool");
    assert!(check.status.success(), "promtool check config: {}", String::from_utf8_lossy(&check.stdout));
    let port = free_port();
    let mut cmd = Command::new(tool("prometheus"));
    cmd.current_dir(dir)
        .arg(format!("--config.file={}", file.display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"));
    let prom = Daemon::spawn(cmd, dir.join("prometheus.log"));
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    poll(Duration::from_secs(30), "Prometheus to be ready", || {
        TcpStream::connect(addr).ok().and_then(|_| (get(addr, "/-/ready").status == 200).then_some(()))
    });
    (prom, addr)
}

/// The global section and the deployment guide's scrape job, unchanged but for a 1 s interval
/// (so tests wait seconds, not minutes); tests append their own jobs.
pub const SEED_SCRAPE_CONFIG: &str = r#"global:
  scrape_interval: 1s
  evaluation_interval: 1s

scrape_configs:
  - job_name: "go-doudou-wordcloud"
    basic_auth:
      username: admin
      password: admin
    metrics_path: /go-doudou/prometheus
    file_sd_configs:
      - files:
          - sd/go-doudou.json
"#;

/// This crate's directory, read when the test runs: a test binary reused from another checkout
/// through a shared target directory must still read this checkout's files.
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), Into::into)
}

/// The answers of an open-loop load: status and latency of each call, in the order sent.
pub struct Load {
    /// Status (0: no answer) and latency of each call.
    pub results: Vec<(u16, Duration)>,
}

impl Load {
    /// `rate` calls a second of `target` on `addr` for `length`, each timed from the moment it
    /// was due (so a call that waited for a free worker counts its wait); `during` runs
    /// meanwhile, from the start.
    pub fn run(
        addr: SocketAddr,
        target: &'static str,
        rate: u32,
        length: Duration,
        during: impl FnOnce(),
    ) -> Self {
        Self::run_with(rate, length, during, move || get(addr, target).status)
    }

    /// [`Load::run`] with any call that gives a status (0 for no answer).
    pub fn run_with(
        rate: u32,
        length: Duration,
        during: impl FnOnce(),
        call: impl Fn() -> u16 + Send + Sync + 'static,
    ) -> Self {
        let call = Arc::new(call);
        let (due_tx, due_rx) = mpsc::channel::<(usize, Instant)>();
        let due_rx = Arc::new(Mutex::new(due_rx));
        let (done_tx, done_rx) = mpsc::channel::<(usize, u16, Duration)>();
        let workers: Vec<_> = (0..64)
            .map(|_| {
                let (due_rx, done_tx, call) = (Arc::clone(&due_rx), done_tx.clone(), Arc::clone(&call));
                std::thread::spawn(move || loop {
                    let next = due_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((i, due))) = next else { return };
                    let status = call();
                    let _ = done_tx.send((i, status, due.elapsed()));
                })
            })
            .collect();
        drop(done_tx);
        let calls = (f64::from(rate) * length.as_secs_f64()) as usize;
        let interval = Duration::from_secs(1) / rate;
        let pacer = std::thread::spawn(move || {
            let start = Instant::now();
            for i in 0..calls {
                let due = start + interval * i as u32;
                // Pacing an open-loop load: each call leaves at its time.
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                if due_tx.send((i, due)).is_err() {
                    return;
                }
            }
        });
        during();
        pacer.join().expect("pacer");
        let mut results = vec![(0, Duration::ZERO); calls];
        for (i, status, took) in done_rx {
            results[i] = (status, took);
        }
        for w in workers {
            w.join().expect("worker");
        }
        Self { results }
    }

    /// Calls not answered 200.
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|(s, _)| *s != 200).count()
    }

    /// The latency below which a share `q` of the calls answered.
    pub fn quantile(&self, q: f64) -> Duration {
        let mut took: Vec<Duration> = self.results.iter().map(|(_, t)| *t).collect();
        took.sort();
        took[((took.len() as f64 * q) as usize).min(took.len() - 1)]
    }

    /// The longest call.
    pub fn max(&self) -> Duration {
        self.results.iter().map(|(_, t)| *t).max().unwrap_or_default()
    }
}

/// The book's chapters, so that `cargo test --doc -p doudou-tests` compiles and runs their Rust samples.
#[cfg(doctest)]
mod book {
    #[doc = include_str!("../../docs/src/introduction.md")]
    mod introduction {}
    #[doc = include_str!("../../docs/src/services.md")]
    mod services {}
    #[doc = include_str!("../../docs/src/client.md")]
    mod client {}
    #[doc = include_str!("../../docs/src/streaming.md")]
    mod streaming {}
    #[doc = include_str!("../../docs/src/testing.md")]
    mod testing {}
    #[doc = include_str!("../../docs/src/configuration.md")]
    mod configuration {}
    #[doc = include_str!("../../docs/src/microservices.md")]
    mod microservices {}
    #[doc = include_str!("../../docs/src/resilience.md")]
    mod resilience {}
    #[doc = include_str!("../../docs/src/tracing.md")]
    mod tracing {}
    #[doc = include_str!("../../docs/src/management.md")]
    mod management {}
    #[doc = include_str!("../../docs/src/deployment.md")]
    mod deployment {}
    #[doc = include_str!("../../docs/src/shutdown.md")]
    mod shutdown {}
    #[doc = include_str!("../../docs/src/performance.md")]
    mod performance {}
}
