//! `init`: a new service crate rendered from embedded templates (minijinja), and the naming
//! rules shared with the other commands.

use std::path::{Path, PathBuf};

use minijinja::{context, Environment};

use crate::CliError;

/// The Rust toolchain the Dockerfile builds with.
const RUST_VERSION: &str = "1.95";

const TEMPLATES: &[(&str, &str)] = &[
    ("Cargo.toml.j2", include_str!("../templates/Cargo.toml.j2")),
    ("main.rs.j2", include_str!("../templates/main.rs.j2")),
    ("service.rs.j2", include_str!("../templates/service.rs.j2")),
    ("service_impl.rs.j2", include_str!("../templates/service_impl.rs.j2")),
    ("env.j2", include_str!("../templates/env.j2")),
    ("gitignore.j2", include_str!("../templates/gitignore.j2")),
    ("dockerignore.j2", include_str!("../templates/dockerignore.j2")),
    ("Dockerfile.j2", include_str!("../templates/Dockerfile.j2")),
    ("README.md.j2", include_str!("../templates/README.md.j2")),
    ("deployment.yaml.j2", include_str!("../templates/deployment.yaml.j2")),
    ("statefulset.yaml.j2", include_str!("../templates/statefulset.yaml.j2")),
    ("common_env.j2", include_str!("../templates/common_env.j2")),
    ("probes.j2", include_str!("../templates/probes.j2")),
];

fn environment() -> Result<Environment<'static>, CliError> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    for (name, source) in TEMPLATES {
        env.add_template(name, source).map_err(|e| CliError::Invalid(format!("template {name}: {e}")))?;
    }
    Ok(env)
}

fn render(env: &Environment<'_>, name: &str, ctx: &minijinja::Value) -> Result<String, CliError> {
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| CliError::Invalid(format!("rendering {name}: {e}")))
}

/// Checks a service name: what Kubernetes accepts as a name (RFC 1123 label), which also
/// makes a valid crate and image name.
pub(crate) fn validate_name(name: &str) -> Result<(), CliError> {
    let ok = !name.is_empty()
        && name.len() <= 52
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(CliError::Invalid(format!(
            "invalid service name {name:?}: use lowercase letters, digits and '-', starting with a letter, at most 52 characters (--name sets it)"
        )))
    }
}

/// Rust's keywords, strict and reserved, of every edition: cargo refuses them as package
/// names, and `Self` cannot name a trait.
const KEYWORDS: &[&str] = &[
    "Self", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do",
    "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self", "static",
    "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual",
    "where", "while", "yield",
];

/// The types and traits of Rust's prelude: a trait of one of these names would hide it from
/// the scaffolded modules, which use some (`Option`, `String`, `Result`).
const PRELUDE: &[&str] = &[
    "AsMut",
    "AsRef",
    "Box",
    "Clone",
    "Copy",
    "Default",
    "DoubleEndedIterator",
    "Drop",
    "Eq",
    "ExactSizeIterator",
    "Extend",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "FromIterator",
    "Into",
    "IntoIterator",
    "Iterator",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "Result",
    "Send",
    "Sized",
    "String",
    "Sync",
    "ToOwned",
    "ToString",
    "TryFrom",
    "TryInto",
    "Unpin",
    "Vec",
];

/// The names `src/service.rs` gives besides the trait's, with what they are.
const SERVICE_NAMES: &[(&str, &str)] = &[
    ("Greeting", "the struct src/service.rs defines"),
    ("Error", "doudou's error type, which src/service.rs imports"),
];

/// Names of binaries that would clash with cargo's directories in `target/debug/`.
const CARGO_DIRECTORIES: &[&str] = &["build", "deps", "examples", "incremental"];

/// The crates of Rust's standard library.
const STANDARD_CRATES: &[&str] = &["alloc", "core", "proc-macro", "std", "test"];

/// File names Windows reserves (a crate of that name cannot be checked out or built there).
const WINDOWS_RESERVED: &[&str] = &[
    "aux", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9", "con", "lpt1", "lpt2",
    "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9", "nul", "prn",
];

/// The packages a scaffolded service depends on by name: those of its Cargo.toml, and the
/// proc-macro crate of doudou, a path package as doudou is when the service uses a checkout
/// (cargo's lock file cannot hold two path packages of one name and version).
fn dependency_names(env: &Environment<'_>) -> Result<Vec<String>, CliError> {
    let ctx = context! { crate_name => "service", doudou_dependency => "\"0.1\"" };
    let manifest = render(env, "Cargo.toml.j2", &ctx)?;
    let doc: toml::Table =
        manifest.parse().map_err(|e| CliError::Invalid(format!("template Cargo.toml.j2: {e}")))?;
    let mut names = vec!["doudou-macros".to_owned()];
    for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
        let Some(deps) = doc.get(table).and_then(toml::Value::as_table) else { continue };
        for (key, spec) in deps {
            names.push(key.replace('_', "-"));
            if let Some(package) = spec.get("package").and_then(toml::Value::as_str) {
                names.push(package.replace('_', "-"));
            }
        }
    }
    Ok(names)
}

/// Why a service name (valid by [`validate_name`]) would scaffold a crate that does not build,
/// if it would: cargo refuses it as a package or binary name, its trait's name is taken in the
/// scaffolded modules, or a crate the service depends on has it.
fn unbuildable(name: &str, dependencies: &[String]) -> Option<String> {
    let trait_name = camel(name);
    let why = if KEYWORDS.contains(&trait_name.as_str()) {
        format!("its trait would be named `{trait_name}`, a Rust keyword")
    } else if KEYWORDS.contains(&name) {
        format!("`{name}` is a Rust keyword, which cargo refuses as a package name")
    } else if let Some(dependency) = dependencies.iter().find(|d| *d == name) {
        format!("the service depends on the crate `{dependency}`, and its own package cannot share that name")
    } else if STANDARD_CRATES.contains(&name) {
        format!("`{name}` is a crate of Rust's standard library")
    } else if CARGO_DIRECTORIES.contains(&name) {
        format!("cargo refuses `{name}` as a binary name: it clashes with cargo's `target/debug/{name}` directory")
    } else if WINDOWS_RESERVED.contains(&name) {
        format!("`{name}` is a file name Windows reserves: the crate could not be checked out or built there")
    } else if let Some((_, what)) = SERVICE_NAMES.iter().find(|(taken, _)| *taken == trait_name) {
        format!("its trait would be named `{trait_name}`, the name of {what}")
    } else if PRELUDE.contains(&trait_name.as_str()) {
        format!(
            "its trait would be named `{trait_name}`, which would hide the `{trait_name}` of Rust's prelude"
        )
    } else {
        return None;
    };
    Some(why)
}

/// Refuses a service name (valid by [`validate_name`]) that would scaffold a crate that does
/// not build, saying why.
pub(crate) fn check_buildable(name: &str) -> Result<(), CliError> {
    let dependencies = dependency_names(&environment()?)?;
    match unbuildable(name, &dependencies) {
        Some(why) => Err(CliError::Invalid(format!(
            "{name:?} cannot be a service name: {why}; choose another name (--name sets it)"
        ))),
        None => Ok(()),
    }
}

fn camel(name: &str) -> String {
    name.split('-')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The files of a new service, by relative path.
pub(crate) fn files(
    svc: &str,
    doudou_dependency: &str,
    namespace: &str,
    image: &str,
) -> Result<Vec<(String, String)>, CliError> {
    let env = environment()?;
    let seeds = (0..3)
        .map(|i| format!("{svc}-{i}.{svc}-headless.{namespace}.svc.cluster.local"))
        .collect::<Vec<_>>()
        .join(",");
    let base = context! {
        svc => svc,
        crate_name => svc,
        trait_name => camel(svc),
        snake_name => svc.replace('-', "_"),
        doudou_dependency => doudou_dependency,
        namespace => namespace,
        rust_version => RUST_VERSION,
        image => image,
        seeds => seeds,
    };
    let common_env = render(&env, "common_env.j2", &base)?;
    let probes = render(&env, "probes.j2", &base)?;
    let manifests = context! { ..base.clone(), ..context! {
        common_env => common_env.trim_end(),
        probes => probes.trim_end(),
    }};
    let mut out = Vec::new();
    for (path, template, ctx) in [
        ("Cargo.toml".to_owned(), "Cargo.toml.j2", &base),
        ("src/main.rs".to_owned(), "main.rs.j2", &base),
        ("src/service.rs".to_owned(), "service.rs.j2", &base),
        ("src/service_impl.rs".to_owned(), "service_impl.rs.j2", &base),
        (".env".to_owned(), "env.j2", &base),
        (".gitignore".to_owned(), "gitignore.j2", &base),
        (".dockerignore".to_owned(), "dockerignore.j2", &base),
        ("Dockerfile".to_owned(), "Dockerfile.j2", &base),
        ("README.md".to_owned(), "README.md.j2", &base),
        (format!("{svc}_deployment.yaml"), "deployment.yaml.j2", &manifests),
        (format!("{svc}_statefulset.yaml"), "statefulset.yaml.j2", &manifests),
    ] {
        out.push((path, render(&env, template, ctx)?));
    }
    Ok(out)
}

/// The manifests alone (for `push` when they are missing).
pub(crate) fn manifest(svc: &str, kind: &str, image: &str) -> Result<String, CliError> {
    let wanted = format!("{svc}_{kind}.yaml");
    files(svc, "\"0.1\"", "default", image)?
        .into_iter()
        .find(|(path, _)| *path == wanted)
        .map(|(_, content)| content)
        .ok_or_else(|| CliError::Invalid(format!("no template for {wanted}")))
}

/// The image a fresh manifest names until `push` sets a real one.
pub(crate) fn placeholder_image(svc: &str) -> String {
    format!("{svc}:0.1.0")
}

/// `init DIR`.
pub(crate) fn init(
    dir: &Path,
    name: Option<&str>,
    doudou_path: Option<&Path>,
    namespace: &str,
) -> Result<(), CliError> {
    let svc = match name {
        Some(n) => n.to_owned(),
        None => dir.file_name().map(|n| n.to_string_lossy().into_owned()).ok_or_else(|| {
            CliError::Invalid(format!("{}: cannot name a service after it; pass --name", dir.display()))
        })?,
    };
    validate_name(&svc)?;
    check_buildable(&svc)?;
    validate_name(namespace).map_err(|_| CliError::Invalid(format!("invalid --namespace {namespace:?}")))?;
    // Installed from a checkout (`cargo install --path doudou-cli`), the CLI knows where the
    // doudou crate is; otherwise the service depends on the published version.
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../doudou");
    let doudou_path =
        doudou_path.or_else(|| checkout.join("Cargo.toml").is_file().then_some(checkout.as_path()));
    let dependency = match doudou_path {
        Some(p) => {
            let abs = p.canonicalize().map_err(|source| CliError::Io { path: p.to_owned(), source })?;
            if !abs.join("Cargo.toml").is_file() {
                return Err(CliError::Invalid(format!(
                    "--doudou-path {}: no Cargo.toml there; point it at the doudou crate (the `doudou/` directory of the repository)",
                    p.display()
                )));
            }
            format!("{{ path = {:?} }}", abs.display().to_string())
        }
        None => "\"0.1\"".to_owned(),
    };
    let files = files(&svc, &dependency, namespace, &placeholder_image(&svc))?;
    let mut created = Vec::new();
    let mut kept = Vec::new();
    for (rel, content) in files {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| CliError::Io { path: parent.to_owned(), source })?;
        }
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                std::io::Write::write_all(&mut f, content.as_bytes())
                    .map_err(|source| CliError::Io { path: path.clone(), source })?;
                created.push(rel);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => kept.push(rel),
            Err(source) => return Err(CliError::Io { path, source }),
        }
    }
    for f in &created {
        println!("created {}", dir.join(f).display());
    }
    for f in &kept {
        println!("kept {} (it exists; not overwritten)", dir.join(f).display());
    }
    println!("\ndoudou dependency: {dependency}");
    println!("{svc} is ready: cd {} && cargo run", dir.display());
    Ok(())
}

/// The service of the current directory: its Cargo.toml's package name.
pub(crate) fn current_service() -> Result<String, CliError> {
    current_package().map(|(name, _)| name)
}

/// The current directory's package: its name (the service's) and version.
pub(crate) fn current_package() -> Result<(String, String), CliError> {
    let path = PathBuf::from("Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => CliError::Invalid(
            "no Cargo.toml in this directory: run doudou-cli in the service's directory".to_owned(),
        ),
        _ => CliError::Io { path: path.clone(), source },
    })?;
    let doc: toml::Table = text.parse().map_err(|e| CliError::Invalid(format!("Cargo.toml: {e}")))?;
    let package = doc.get("package");
    let name = package
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .ok_or_else(|| CliError::Invalid("Cargo.toml has no [package] name".to_owned()))?;
    validate_name(name)?;
    let version = package.and_then(|p| p.get("version")).and_then(|v| v.as_str()).unwrap_or("0.1.0");
    Ok((name.to_owned(), version.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(camel("user-svc"), "UserSvc");
        assert_eq!(camel("hello"), "Hello");
        assert!(validate_name("user-svc").is_ok());
        for bad in ["User", "1svc", "svc-", "a_b", "", "Self"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_that_would_not_build() {
        let dependencies =
            dependency_names(&environment().expect("templates")).expect("the template's dependencies");
        assert!(dependencies.iter().any(|d| d == "doudou"), "{dependencies:?}");
        for (bad, why) in [
            ("self", "its trait would be named `Self`, a Rust keyword"),
            ("crate", "`crate` is a Rust keyword"),
            ("super", "`super` is a Rust keyword"),
            ("async", "`async` is a Rust keyword"),
            ("gen", "`gen` is a Rust keyword"),
            ("doudou", "the crate `doudou`"),
            ("doudou-macros", "the crate `doudou-macros`"),
            ("std", "standard library"),
            ("test", "standard library"),
            ("build", "`target/debug/build`"),
            ("nul", "Windows"),
            ("greeting", "`Greeting`, the name of the struct src/service.rs defines"),
            ("error", "`Error`, the name of doudou's error type"),
            ("option", "hide the `Option` of Rust's prelude"),
            ("fn-mut", "`FnMut`"),
        ] {
            let said = unbuildable(bad, &dependencies).unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(said.contains(why), "{bad}: {said}");
        }
        for good in
            ["selfie", "self-service", "crates", "doudou-shop", "greetings", "errors", "user-svc", "a"]
        {
            assert_eq!(unbuildable(good, &dependencies), None, "{good}");
        }
        let err = check_buildable("self").expect_err("refused").to_string();
        assert_eq!(
            err,
            "\"self\" cannot be a service name: its trait would be named `Self`, a Rust keyword; choose another name (--name sets it)"
        );
    }

    #[test]
    fn manifests_parse_as_yaml() {
        for (path, content) in files("orders", "\"0.1\"", "shop", "orders:0.1.0").expect("renders") {
            if path.ends_with(".yaml") {
                let docs: Vec<serde_yaml_ng::Value> = serde_yaml_ng::Deserializer::from_str(&content)
                    .map(serde::Deserialize::deserialize)
                    .collect::<Result<_, _>>()
                    .unwrap_or_else(|e| panic!("{path}: {e}\n{content}"));
                assert_eq!(
                    docs.len(),
                    4,
                    "{path}: the workload, its Service, PodDisruptionBudget and NetworkPolicy"
                );
                assert!(content.contains("orders-0.orders-headless.shop.svc.cluster.local"));
            }
        }
    }
}
