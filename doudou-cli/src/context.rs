//! `context [DIR]`: the exact directory `push` hands to the container tool, complete enough to
//! build the service with no network and no checkout of doudou: the service's sources and
//! `Cargo.lock`, every registry dependency vendored (`cargo vendor`), every path dependency
//! (doudou's own crates among them) packaged by `cargo package`, which inlines what they
//! inherit from their workspace, and a `.cargo/config.toml` that points cargo at the vendored
//! sources. The Dockerfile builds it with `cargo build --release --offline --locked`.
//!
//! What the service's `.dockerignore` excludes stays out, as `docker build` in the service's
//! directory would leave it out, and so do `.env.local` and `.env.*.local` whatever it says.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::dockerignore::Filter;
use crate::{exec, scaffold, CliError};

/// Where `context` and `push` write the build context unless told otherwise.
pub(crate) const DEFAULT_DIR: &str = "target/doudou-context";

/// The file that marks a directory as written by `context`, so that it may be replaced.
const MARKER: &str = ".doudou-context";

/// Where packaged path dependencies go inside the context.
const CRATES: &str = "crates";

/// A path dependency of the service, found by `cargo metadata`.
struct PathPackage {
    name: String,
    version: String,
    manifest: PathBuf,
}

impl PathPackage {
    /// Its directory inside the context, relative to the context.
    fn dir(&self) -> String {
        format!("{CRATES}/{}-{}", self.name, self.version)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |source| CliError::Io { path: path.to_owned(), source }
}

/// Writes the build context of the service in the current directory to `dir`.
pub(crate) fn write(dir: &Path) -> Result<(), CliError> {
    let (svc, _) = scaffold::current_package()?;
    if !Path::new("Dockerfile").is_file() {
        return Err(CliError::Invalid(
            "no Dockerfile in this directory: doudou-cli init writes one (it never overwrites yours)"
                .to_owned(),
        ));
    }
    let ignore = Filter::load(Path::new("."))?;
    for needed in ["Cargo.toml", "Cargo.lock"] {
        if ignore.excludes(needed) {
            return Err(CliError::Invalid(format!(
                ".dockerignore excludes {needed}, which the image build needs: remove the line that matches it"
            )));
        }
    }
    let cargo = exec::cargo()?;
    if !Path::new("Cargo.lock").is_file() {
        exec::run(&cargo, "cargo", &["generate-lockfile".to_owned()])?;
    }
    prepare(dir)?;
    std::fs::create_dir_all(dir.join(CRATES)).map_err(io(dir))?;
    let packages = path_packages(&cargo)?;
    package(&cargo, &packages, dir)?;
    copy_sources(Path::new("."), dir, &ignore)?;
    let manifest = std::fs::read_to_string("Cargo.toml").map_err(io(Path::new("Cargo.toml")))?;
    let rewritten = rewrite_manifest(&manifest, &packages)?;
    std::fs::write(dir.join("Cargo.toml"), rewritten).map_err(io(&dir.join("Cargo.toml")))?;
    let vendor_args = ["vendor", "--locked", "--quiet", "--manifest-path"].map(str::to_owned);
    let mut args = vendor_args.to_vec();
    args.push(dir.join("Cargo.toml").display().to_string());
    args.push(dir.join("vendor").display().to_string());
    exec::run(&cargo, "cargo", &args)?;
    let config_dir = dir.join(".cargo");
    std::fs::create_dir_all(&config_dir).map_err(io(&config_dir))?;
    let config = "# Written by doudou-cli context: every dependency comes from this directory.\n\
        [source.crates-io]\nreplace-with = \"vendored-sources\"\n\n\
        [source.vendored-sources]\ndirectory = \"vendor\"\n\n\
        [net]\noffline = true\n";
    std::fs::write(config_dir.join("config.toml"), config).map_err(io(&config_dir))?;
    println!("wrote the build context of {svc} to {}", dir.display());
    Ok(())
}

/// Empties `dir`, refusing one that `context` did not write.
fn prepare(dir: &Path) -> Result<(), CliError> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
        if !empty && !dir.join(MARKER).is_file() {
            return Err(CliError::Invalid(format!(
                "{}: the directory exists and was not written by doudou-cli context; remove it or name another",
                dir.display()
            )));
        }
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    std::fs::write(dir.join(MARKER), "").map_err(io(dir))
}

/// The path packages the service depends on, directly or not.
fn path_packages(cargo: &Path) -> Result<Vec<PathPackage>, CliError> {
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .output()
        .map_err(io(cargo))?;
    if !out.status.success() {
        return Err(CliError::Invalid(format!(
            "cargo metadata failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| CliError::Invalid(format!("cargo metadata: {e}")))?;
    let root = meta["resolve"]["root"].as_str().unwrap_or_default();
    let mut found = Vec::new();
    for p in meta["packages"].as_array().into_iter().flatten() {
        if p["source"].is_null() && p["id"].as_str() != Some(root) {
            let text = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
            found.push(PathPackage {
                name: text("name"),
                version: text("version"),
                manifest: PathBuf::from(text("manifest_path")),
            });
        }
    }
    Ok(found)
}

/// `cargo package`s the path packages (by workspace, so that they find each other) and
/// unpacks them into the context's `crates/`.
fn package(cargo: &Path, packages: &[PathPackage], dir: &Path) -> Result<(), CliError> {
    let mut by_workspace: BTreeMap<PathBuf, Vec<&PathPackage>> = BTreeMap::new();
    for p in packages {
        let out = std::process::Command::new(cargo)
            .args(["locate-project", "--workspace", "--message-format", "plain", "--manifest-path"])
            .arg(&p.manifest)
            .output()
            .map_err(io(cargo))?;
        let workspace = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        by_workspace.entry(workspace).or_default().push(p);
    }
    let target = Path::new("target/doudou-package");
    for (workspace, members) in by_workspace {
        let mut args = ["package", "--no-verify", "--allow-dirty", "--quiet", "--manifest-path"]
            .map(str::to_owned)
            .to_vec();
        args.push(workspace.display().to_string());
        args.extend(["--target-dir".to_owned(), target.display().to_string()]);
        for p in &members {
            args.extend(["--package".to_owned(), format!("{}@{}", p.name, p.version)]);
        }
        exec::run(cargo, "cargo", &args)?;
        for p in members {
            let archive = target.join("package").join(format!("{}-{}.crate", p.name, p.version));
            let file = std::fs::File::open(&archive).map_err(io(&archive))?;
            tar::Archive::new(flate2::read::GzDecoder::new(file))
                .unpack(dir.join(CRATES))
                .map_err(io(&archive))?;
        }
    }
    Ok(())
}

/// The line the context's `.env` holds when no `.env` file of the service may enter it.
const EMPTY_ENV: &str =
    "# Written by doudou-cli context: no .env file of the service is in the build context \
    (none exists, or .dockerignore excludes them); the Dockerfile's `COPY .env* /app/` needs one.\n";

/// Copies from the service's directory `from` what the image build reads (sources, lock file,
/// `.env` and `.env.*` files, Dockerfile) but what `ignore` excludes. The Dockerfile is copied
/// even if excluded, as `docker build` reads it all the same. When no `.env` file is copied,
/// an empty one (a comment) stands in: a `COPY .env* /app/` that matches nothing fails.
fn copy_sources(from: &Path, dir: &Path, ignore: &Filter) -> Result<(), CliError> {
    let mut env_files = 0;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_env = name == ".env" || name.starts_with(".env.");
        let path = entry.path();
        if name == "Dockerfile" {
            std::fs::copy(&path, dir.join(&name)).map_err(io(&path))?;
        } else if is_env || matches!(name.as_str(), "Cargo.lock" | "build.rs" | "src") {
            let copied = copy_tree(&path, &dir.join(&name), &name, ignore)?;
            if is_env {
                env_files += copied;
            }
        }
    }
    if env_files == 0 {
        let path = dir.join(".env");
        std::fs::write(&path, EMPTY_ENV).map_err(io(&path))?;
    }
    Ok(())
}

/// Copies the file or directory `from` to `to`, but what `ignore` excludes; `rel` is `from`'s
/// path in the context (`/`-separated). Returns how many files it copied.
fn copy_tree(from: &Path, to: &Path, rel: &str, ignore: &Filter) -> Result<usize, CliError> {
    if from.is_dir() {
        if !ignore.excludes(rel) {
            std::fs::create_dir_all(to).map_err(io(to))?;
        }
        // Into excluded directories too: an exception (`!`) may bring back files in them.
        let mut copied = 0;
        for entry in std::fs::read_dir(from).map_err(io(from))? {
            let entry = entry.map_err(io(from))?;
            let name = entry.file_name();
            let rel = format!("{rel}/{}", name.to_string_lossy());
            copied += copy_tree(&entry.path(), &to.join(&name), &rel, ignore)?;
        }
        Ok(copied)
    } else if ignore.excludes(rel) {
        Ok(0)
    } else {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::copy(from, to).map_err(io(from))?;
        Ok(1)
    }
}

/// The service's manifest with each path dependency pointing into the context's `crates/`,
/// and the path packages it reaches only through others patched in from there.
fn rewrite_manifest(text: &str, packages: &[PathPackage]) -> Result<String, CliError> {
    let mut doc: toml::Table = text.parse().map_err(|e| CliError::Invalid(format!("Cargo.toml: {e}")))?;
    let find = |name: &str| packages.iter().find(|p| p.name == name);
    let mut direct = BTreeSet::new();
    for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
        let Some(deps) = doc.get_mut(table).and_then(toml::Value::as_table_mut) else { continue };
        for (key, spec) in deps.iter_mut() {
            let Some(spec) = spec.as_table_mut() else { continue };
            if !spec.contains_key("path") {
                continue;
            }
            let name = spec.get("package").and_then(toml::Value::as_str).unwrap_or(key).to_owned();
            let Some(package) = find(&name) else {
                // A dev-dependency cargo metadata did not list: not needed to build.
                continue;
            };
            spec.insert("path".to_owned(), toml::Value::String(package.dir()));
            direct.insert(name);
        }
    }
    // The packaged crates lie inside the context: without this they would become members of
    // its workspace, and their dev-dependencies part of the lock file.
    let workspace = doc.entry("workspace").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(workspace) = workspace.as_table_mut() {
        workspace.insert("exclude".to_owned(), toml::Value::Array(vec![CRATES.into()]));
    }
    let mut patches = toml::Table::new();
    for p in packages.iter().filter(|p| !direct.contains(&p.name)) {
        let mut spec = toml::Table::new();
        spec.insert("path".to_owned(), toml::Value::String(p.dir()));
        patches.insert(p.name.clone(), toml::Value::Table(spec));
    }
    if !patches.is_empty() {
        let patch = doc.entry("patch").or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(patch) = patch.as_table_mut() else {
            return Err(CliError::Invalid("Cargo.toml: [patch] is not a table".to_owned()));
        };
        let crates_io = patch.entry("crates-io").or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(crates_io) = crates_io.as_table_mut() {
            crates_io.extend(patches);
        }
    }
    Ok(format!("# Written by doudou-cli context from the service's Cargo.toml.\n{doc}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service directory holding `files` (each containing its own path) and, if given, a
    /// `.dockerignore`; copied by `copy_sources` into a fresh context: (service, context).
    fn copied(tag: &str, files: &[&str], dockerignore: Option<&str>) -> (PathBuf, PathBuf) {
        let root = std::env::temp_dir().join(format!("doudou-cli-unit-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let (from, to) = (root.join("svc"), root.join("context"));
        for f in files {
            let path = from.join(f);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("dir");
            std::fs::write(&path, f).expect("write");
        }
        if let Some(text) = dockerignore {
            std::fs::write(from.join(".dockerignore"), text).expect("write");
        }
        std::fs::create_dir_all(&to).expect("dir");
        let ignore = Filter::load(&from).expect("reads .dockerignore");
        copy_sources(&from, &to, &ignore).expect("copies");
        (from, to)
    }

    const SERVICE: &[&str] = &[
        "Cargo.lock",
        "Dockerfile",
        "README.md",
        "src/main.rs",
        "src/drafts/idea.rs",
        ".env",
        ".env.prod",
        ".env.local",
        ".env.prod.local",
        ".envrc",
    ];

    #[test]
    fn without_a_dockerignore_local_env_files_stay_out() {
        let (from, to) = copied("no-dockerignore", SERVICE, None);
        for f in ["Cargo.lock", "Dockerfile", "src/main.rs", "src/drafts/idea.rs", ".env", ".env.prod"] {
            assert_eq!(std::fs::read_to_string(to.join(f)).ok().as_deref(), Some(f), "{f} is copied");
        }
        for f in [".env.local", ".env.prod.local", ".envrc", "README.md"] {
            assert!(!to.join(f).exists(), "{f} is not copied");
        }
        let _ = std::fs::remove_dir_all(from.parent().expect("root"));
    }

    #[test]
    fn what_the_dockerignore_excludes_stays_out() {
        let ignore = "src/drafts\n!src/drafts/keep.rs\n.env.prod\n!.env.local\nDockerfile\n";
        let mut files = SERVICE.to_vec();
        files.push("src/drafts/keep.rs");
        let (from, to) = copied("dockerignore", &files, Some(ignore));
        for f in ["Cargo.lock", "Dockerfile", "src/main.rs", "src/drafts/keep.rs", ".env"] {
            assert!(to.join(f).is_file(), "{f} is copied");
        }
        for f in ["src/drafts/idea.rs", ".env.prod", ".env.local", ".env.prod.local", ".dockerignore"] {
            assert!(!to.join(f).exists(), "{f} is not copied");
        }
        let _ = std::fs::remove_dir_all(from.parent().expect("root"));
    }

    #[test]
    fn an_empty_env_stands_in_when_no_env_file_may_enter() {
        let (from, to) =
            copied("no-env", &["Dockerfile", "src/main.rs", ".env", ".env.local"], Some(".env\n"));
        let env = std::fs::read_to_string(to.join(".env")).expect("a .env");
        assert_eq!(env, EMPTY_ENV);
        assert!(env.lines().all(|l| l.starts_with('#')), "only a comment: {env}");
        assert!(!to.join(".env.local").exists());
        let _ = std::fs::remove_dir_all(from.parent().expect("root"));
    }
}
