//! `deploy` and `shutdown`: kubectl apply / delete of a manifest.

use std::path::PathBuf;

use crate::{exec, scaffold, CliError};

/// `kubectl {verb} -f FILE`, FILE defaulting to `<service>_statefulset.yaml`.
pub(crate) fn run(verb: &str, file: Option<PathBuf>) -> Result<(), CliError> {
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
    exec::run(&kubectl, "kubectl", &[verb.to_owned(), "-f".to_owned(), file.display().to_string()])
}
