//! Running external programs: printed first, output streamed, failure stops the CLI.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use crate::CliError;

/// Finds `program` on PATH (an executable file).
pub(crate) fn find(program: &str, hint: &'static str) -> Result<PathBuf, CliError> {
    which::which(program).map_err(|_| CliError::MissingTool { program: program.to_owned(), hint })
}

/// The cargo to run: the one that runs us, if any (`cargo run`, tests), else cargo on PATH.
pub(crate) fn cargo() -> Result<PathBuf, CliError> {
    match std::env::var_os("CARGO") {
        Some(cargo) => Ok(PathBuf::from(cargo)),
        None => find("cargo", "install Rust (https://rustup.rs): the service is built with cargo"),
    }
}

/// Prints `$ program args...`, runs it with inherited output, and fails with its status.
pub(crate) fn run(program: &Path, name: &str, args: &[String]) -> Result<(), CliError> {
    let line = announce(name, args);
    let status = Command::new(program).args(args).status().map_err(failed(program))?;
    check(line, status)
}

/// As [`run`], with `input` written to the program's stdin: for what must not appear on a
/// command line (where `ps` shows it) nor be printed.
pub(crate) fn run_with_input(
    program: &Path,
    name: &str,
    args: &[String],
    input: &[u8],
) -> Result<(), CliError> {
    let line = announce(name, args);
    let mut child =
        Command::new(program).args(args).stdin(Stdio::piped()).spawn().map_err(failed(program))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A program that exits without reading its input is judged by its status alone.
        let written = match stdin.write_all(input) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        };
        if let Err(e) = written {
            let _ = child.kill();
            let _ = child.wait();
            return Err(failed(program)(e));
        }
        // Dropped here: the program reads the end of its input.
    }
    let status = child.wait().map_err(failed(program))?;
    check(line, status)
}

/// As [`run`], but returns what the program wrote to stdout instead of showing it.
pub(crate) fn output(program: &Path, name: &str, args: &[String]) -> Result<String, CliError> {
    let line = announce(name, args);
    let out = Command::new(program).args(args).stderr(Stdio::inherit()).output().map_err(failed(program))?;
    check(line, out.status)?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Prints the command line, and returns it.
fn announce(name: &str, args: &[String]) -> String {
    let line =
        std::iter::once(name.to_owned()).chain(args.iter().map(|a| quote(a))).collect::<Vec<_>>().join(" ");
    println!("$ {line}");
    line
}

fn failed(program: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |source| CliError::Io { path: program.to_owned(), source }
}

fn check(command: String, status: ExitStatus) -> Result<(), CliError> {
    if status.success() {
        Ok(())
    } else {
        Err(CliError::CommandFailed { command, status })
    }
}

fn quote(arg: &str) -> String {
    if !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c)) {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
