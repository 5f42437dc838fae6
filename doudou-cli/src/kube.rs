//! `deploy` and `shutdown`: kubectl apply / delete of a manifest. Before applying, `deploy`
//! creates the Secret the workloads take their gossip key (`GDD_MEM_SECRET`) from when it is
//! missing, with a random key; an existing one is never replaced, as every member of a cluster
//! needs the same key.

use std::path::{Path, PathBuf};

use crate::manifest::{self, SecretRef};
use crate::{exec, scaffold, CliError};

/// The variable the gossip key is read from.
const GOSSIP_SECRET: &str = "GDD_MEM_SECRET";

/// The manifest to act on, FILE defaulting to `<service>_statefulset.yaml`, and kubectl.
fn manifest_and_kubectl(file: Option<PathBuf>) -> Result<(PathBuf, PathBuf), CliError> {
    let file = match file {
        Some(f) => f,
        None => PathBuf::from(format!("{}_statefulset.yaml", scaffold::current_service()?)),
    };
    if !file.is_file() {
        return Err(CliError::Invalid(format!(
            "{} does not exist: pass the manifest with -k FILE (doudou-cli init and push write <service>_statefulset.yaml and <service>_deployment.yaml)",
            file.display()
        )));
    }
    let kubectl = exec::find("kubectl", "install kubectl and point it at your cluster")?;
    Ok((file, kubectl))
}

/// `deploy`: the gossip Secrets the manifest's workloads need, then `kubectl apply -f FILE`.
pub(crate) fn deploy(file: Option<PathBuf>) -> Result<(), CliError> {
    let (file, kubectl) = manifest_and_kubectl(file)?;
    let text =
        std::fs::read_to_string(&file).map_err(|source| CliError::Io { path: file.clone(), source })?;
    for secret in manifest::secret_refs(&text, GOSSIP_SECRET) {
        ensure_secret(&kubectl, &secret)?;
    }
    exec::run(&kubectl, "kubectl", &["apply".to_owned(), "-f".to_owned(), file.display().to_string()])
}

/// `shutdown`: `kubectl delete -f FILE`. The gossip Secret stays, for the next deploy.
pub(crate) fn shutdown(file: Option<PathBuf>) -> Result<(), CliError> {
    let (file, kubectl) = manifest_and_kubectl(file)?;
    exec::run(&kubectl, "kubectl", &["delete".to_owned(), "-f".to_owned(), file.display().to_string()])
}

/// Creates the Secret `secret` names, its key a random one, unless it exists. The value goes
/// to kubectl on stdin (never on a command line), with `create`, which fails rather than
/// replace a Secret made meanwhile, and unlike `apply` keeps no copy in an annotation.
fn ensure_secret(kubectl: &Path, secret: &SecretRef) -> Result<(), CliError> {
    let mut get = vec!["get".to_owned(), "secret".to_owned(), secret.name.clone()];
    if let Some(namespace) = &secret.namespace {
        get.extend(["--namespace".to_owned(), namespace.clone()]);
    }
    get.extend(["--ignore-not-found", "--output", "name"].map(str::to_owned));
    // Found: `secret/NAME`; missing: nothing; any other failure stops the deploy.
    if !exec::output(kubectl, "kubectl", &get)?.trim().is_empty() {
        println!("Secret {} exists: its {} is kept", secret.name, secret.key);
        return Ok(());
    }
    let mut object = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret.name,
            "labels": { "app.kubernetes.io/managed-by": "doudou-cli" }
        },
        "type": "Opaque",
        "stringData": {}
    });
    if let Some(namespace) = &secret.namespace {
        object["metadata"]["namespace"] = serde_json::Value::String(namespace.clone());
    }
    object["stringData"][secret.key.as_str()] = serde_json::Value::String(random_key()?);
    println!("Secret {} is missing: creating it with a random {} (32 bytes)", secret.name, secret.key);
    let args = ["create", "-f", "-"].map(str::to_owned);
    exec::run_with_input(kubectl, "kubectl", &args, object.to_string().as_bytes())
}

/// 32 random bytes from the operating system, in hex: doudou hashes `GDD_MEM_SECRET` (any
/// string) with SHA-256 into its AES-256 key.
fn random_key() -> Result<String, CliError> {
    use std::io::Read;
    let path = Path::new("/dev/urandom");
    let mut bytes = [0u8; 32];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|source| CliError::Io { path: path.to_owned(), source })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_are_32_bytes_and_differ() {
        let (a, b) = (random_key().expect("a key"), random_key().expect("a key"));
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
