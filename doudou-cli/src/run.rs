//! `run [--watch]`: the service of the current directory, built and started with its `.env`
//! (which doudou reads at start-up). With `--watch`, a change under `src/`, to `Cargo.toml`
//! or to a `.env*` file rebuilds it once the changes settle, and only a build that succeeds
//! replaces the running instance (SIGTERM, which drains it, then the new one starts); a
//! failed build prints the compiler's errors and leaves the old instance serving.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::{exec, scaffold, CliError};

/// How long the files must stay unchanged before a rebuild: an editor's save is often
/// several writes.
const SETTLE: Duration = Duration::from_millis(300);

/// How long a stopped instance may drain before it is killed (beyond doudou's own
/// `GDD_GRACE_TIMEOUT` and `GDD_SHUTDOWN_DELAY` defaults).
const DRAIN: Duration = Duration::from_secs(30);

/// `run` and `run --watch`.
pub(crate) fn run(watch: bool) -> Result<(), CliError> {
    let svc = scaffold::current_service()?;
    let cargo = exec::cargo()?;
    if !watch {
        return exec::run(&cargo, "cargo", &["run".to_owned()]);
    }
    let (wake, woken) = mpsc::channel::<Wake>();
    let stop = wake.clone();
    ctrlc::set_handler(move || {
        let _ = stop.send(Wake::Stop);
    })
    .map_err(|e| CliError::Invalid(format!("cannot handle SIGINT/SIGTERM: {e}")))?;
    let _watcher = watch_sources(wake)?;
    let mut running: Option<Child> = None;
    'serve: loop {
        println!("[doudou-cli] building {svc}");
        match build(&cargo, &svc)? {
            Some(binary) => {
                if let Some(old) = running.take() {
                    stop_instance(old);
                }
                let child = Command::new(&binary)
                    .spawn()
                    .map_err(|source| CliError::Io { path: binary.clone(), source })?;
                println!("[doudou-cli] started {svc} (pid {})", child.id());
                running = Some(child);
            }
            None if running.is_some() => {
                println!("[doudou-cli] the build failed: the running instance keeps serving")
            }
            None => println!("[doudou-cli] the build failed: waiting for a change"),
        }
        // A change, then quiet for SETTLE; a signal ends it all.
        match woken.recv() {
            Ok(Wake::Change) => {}
            Ok(Wake::Stop) | Err(_) => break 'serve,
        }
        loop {
            match woken.recv_timeout(SETTLE) {
                Ok(Wake::Change) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Ok(Wake::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break 'serve,
            }
        }
    }
    if let Some(child) = running.take() {
        stop_instance(child);
    }
    Ok(())
}

/// What wakes the watch loop.
enum Wake {
    /// A source file changed.
    Change,
    /// SIGINT or SIGTERM: stop the instance and exit.
    Stop,
}

/// Builds the service; its executable if the build succeeded. The compiler's messages go to
/// the terminal as cargo renders them.
fn build(cargo: &Path, svc: &str) -> Result<Option<PathBuf>, CliError> {
    let out = Command::new(cargo)
        .args(["build", "--message-format", "json-render-diagnostics"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|source| CliError::Io { path: cargo.to_owned(), source })?;
    if !out.status.success() {
        return Ok(None);
    }
    let binary = String::from_utf8_lossy(&out.stdout).lines().find_map(|line| {
        let msg: serde_json::Value = serde_json::from_str(line).ok()?;
        let is_bin = msg["target"]["kind"].as_array()?.iter().any(|k| k == "bin");
        (msg["reason"] == "compiler-artifact" && is_bin && msg["target"]["name"] == svc)
            .then(|| msg["executable"].as_str().map(PathBuf::from))
            .flatten()
    });
    binary.map(Some).ok_or_else(|| CliError::Invalid(format!("cargo build produced no binary named {svc}")))
}

/// SIGTERM, then waits for the instance to drain (killing it after [`DRAIN`]).
fn stop_instance(mut child: Child) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    println!("[doudou-cli] stopping pid {pid} (SIGTERM)");
    if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_err() {
        let _ = child.kill();
    }
    let deadline = std::time::Instant::now() + DRAIN;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => break,
            Ok(None) if std::time::Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Watches `src/` (recursively), `Cargo.toml` and `.env*`; each change wakes the loop.
fn watch_sources(events: mpsc::Sender<Wake>) -> Result<notify::RecommendedWatcher, CliError> {
    use notify::Watcher;
    let relevant = |path: &Path| {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        path.components().any(|c| c.as_os_str() == "src") || name == "Cargo.toml" || name.starts_with(".env")
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            let changes = !matches!(event.kind, notify::EventKind::Access(_));
            if changes && event.paths.iter().any(|p| relevant(p)) {
                let _ = events.send(Wake::Change);
            }
        }
    })
    .map_err(|e| CliError::Invalid(format!("cannot watch the sources: {e}")))?;
    let here = std::env::current_dir().map_err(|source| CliError::Io { path: ".".into(), source })?;
    watcher
        .watch(&here.join("src"), notify::RecursiveMode::Recursive)
        .and_then(|()| watcher.watch(&here, notify::RecursiveMode::NonRecursive))
        .map_err(|e| CliError::Invalid(format!("cannot watch {}: {e}", here.display())))?;
    Ok(watcher)
}
