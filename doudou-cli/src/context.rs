//! `context [DIR]`: the exact directory `push` hands to the container tool, complete enough to
//! build the service with no network and no checkout of doudou: the service's sources and
//! `Cargo.lock`, every registry dependency vendored (`cargo vendor`), every path dependency
//! (doudou's own crates among them) packaged by `cargo package`, which inlines what they
//! inherit from their workspace, and a `.cargo/config.toml` that points cargo at the vendored
//! sources. The Dockerfile builds it with `cargo build --release --offline --locked`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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
    let cargo = exec::cargo()?;
    if !Path::new("Cargo.lock").is_file() {
        exec::run(&cargo, "cargo", &["generate-lockfile".to_owned()])?;
    }
    prepare(dir)?;
    std::fs::create_dir_all(dir.join(CRATES)).map_err(io(dir))?;
    let packages = path_packages(&cargo)?;
    package(&cargo, &packages, dir)?;
    copy_sources(dir)?;
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

/// Copies what the image build reads from the service: sources, lock file, `.env*`, Dockerfile.
fn copy_sources(dir: &Path) -> Result<(), CliError> {
    for entry in std::fs::read_dir(".").map_err(io(Path::new(".")))? {
        let entry = entry.map_err(io(Path::new(".")))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let wanted = matches!(name.as_str(), "Cargo.lock" | "Dockerfile" | "build.rs" | "src")
            || name.starts_with(".env");
        if wanted {
            copy_tree(&entry.path(), &dir.join(&name))?;
        }
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), CliError> {
    if from.is_dir() {
        std::fs::create_dir_all(to).map_err(io(to))?;
        for entry in std::fs::read_dir(from).map_err(io(from))? {
            let entry = entry.map_err(io(from))?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(from, to).map(drop).map_err(io(from))
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
