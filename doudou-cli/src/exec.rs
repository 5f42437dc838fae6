//! Running external programs: printed first, output streamed, failure stops the CLI.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::CliError;

/// Finds `program` on PATH.
pub(crate) fn find(program: &str, hint: &'static str) -> Result<PathBuf, CliError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
        .ok_or_else(|| CliError::MissingTool { program: program.to_owned(), hint })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
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
