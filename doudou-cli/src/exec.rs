//! Running external programs: printed first, output streamed, failure stops the CLI.

use std::path::{Path, PathBuf};
use std::process::Command;

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
    let line =
        std::iter::once(name.to_owned()).chain(args.iter().map(|a| quote(a))).collect::<Vec<_>>().join(" ");
    println!("$ {line}");
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|source| CliError::Io { path: program.to_owned(), source })?;
    if status.success() {
        Ok(())
    } else {
        Err(CliError::CommandFailed { command: line, status })
    }
}

fn quote(arg: &str) -> String {
    if !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c)) {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
