//! `push`: build, tag `{repo}/{prefix}{service}:v{yyyyMMddHHmmss}`, push, and set the image in
//! both manifests.

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use crate::{context, exec, manifest, scaffold, CliError, Tool};

/// `yyyyMMddHHmmss` in UTC.
pub(crate) fn version_stamp(now: SystemTime) -> String {
    let stamp = time::macros::format_description!("[year][month][day][hour][minute][second]");
    time::OffsetDateTime::from(now).format(&stamp).unwrap_or_default()
}

fn git_commit() -> Option<String> {
    let out = Command::new("git").args(["rev-parse", "HEAD"]).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|c| !c.is_empty())
}

/// `push`.
pub(crate) fn push(repo: Option<&str>, prefix: &str, tool: Tool) -> Result<(), CliError> {
    let (svc, version) = scaffold::current_package()?;
    let image = format!("{prefix}{svc}");
    if !image.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c)) {
        return Err(CliError::Invalid(format!(
            "--pre {prefix:?}: the image name {image:?} must be lowercase letters, digits, '-', '_' or '.'"
        )));
    }
    let program = exec::find(
        tool.program(),
        "install it, or pick another tool with --tool or DOUDOU_CONTAINER_TOOL (docker, podman, buildah)",
    )?;
    let name = tool.program();
    let stamp = version_stamp(SystemTime::now());

    let mut build = vec!["build".to_owned()];
    // Tagged with the crate's version, as the fresh manifests name it.
    let local = format!("{image}:{version}");
    build.extend(["-t".to_owned(), local.clone()]);
    build.extend(["--build-arg".to_owned(), format!("GDD_BUILD_TIME={stamp}")]);
    if let Some(commit) = git_commit() {
        build.extend(["--build-arg".to_owned(), format!("GDD_GIT_COMMIT={commit}")]);
    }
    context::write(Path::new(context::DEFAULT_DIR))?;
    build.push(context::DEFAULT_DIR.to_owned());
    exec::run(&program, name, &build)?;

    let Some(repo) = repo.map(|r| r.trim_end_matches('/')).filter(|r| !r.is_empty()) else {
        eprintln!(
            "warning: no -r REPO: built {local} locally; nothing pushed and the manifests are unchanged"
        );
        return Ok(());
    };
    let tagged = format!("{repo}/{image}:v{stamp}");
    exec::run(&program, name, &["tag".to_owned(), local, tagged.clone()])?;
    exec::run(&program, name, &["push".to_owned(), tagged.clone()])?;
    for kind in ["deployment", "statefulset"] {
        manifest::update_file(Path::new(&format!("{svc}_{kind}.yaml")), &svc, kind, &tagged)?;
    }
    println!("pushed {tagged}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn stamps_are_utc_calendar_times() {
        assert_eq!(version_stamp(UNIX_EPOCH), "19700101000000");
        // 2026-11-26 04:14:57 UTC
        assert_eq!(
            version_stamp(UNIX_EPOCH + std::time::Duration::from_secs(1_795_666_497)),
            "20261126041457"
        );
        // A leap day.
        assert_eq!(version_stamp(UNIX_EPOCH + std::time::Duration::from_secs(951_782_400)), "20000229000000");
    }
}
