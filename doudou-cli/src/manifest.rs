//! Setting the image of a manifest structurally: the YAML is parsed, the containers of the
//! Deployment or StatefulSet get the new image, and everything else is written back as it was.

use serde::Deserialize;
use serde_yaml::Value;

use crate::CliError;

/// Returns `text` with the image of the workload's container named `container` (or of its
/// only container) set to `image`.
pub(crate) fn set_image(text: &str, container: &str, image: &str) -> Result<String, String> {
    let mut docs: Vec<Value> = serde_yaml::Deserializer::from_str(text)
        .map(Value::deserialize)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mut changed = 0;
    for doc in &mut docs {
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
        if !matches!(kind, "Deployment" | "StatefulSet") {
            continue;
        }
        let Some(containers) = doc
            .get_mut("spec")
            .and_then(|s| s.get_mut("template"))
            .and_then(|t| t.get_mut("spec"))
            .and_then(|s| s.get_mut("containers"))
            .and_then(Value::as_sequence_mut)
        else {
            continue;
        };
        let only = containers.len() == 1;
        for c in containers.iter_mut() {
            if only || c.get("name").and_then(Value::as_str) == Some(container) {
                if let Some(map) = c.as_mapping_mut() {
                    map.insert(Value::from("image"), Value::from(image));
                    changed += 1;
                }
            }
        }
    }
    if changed == 0 {
        return Err(format!("no Deployment or StatefulSet container named {container:?}"));
    }
    let mut out = String::new();
    for doc in &docs {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(doc).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// Sets the image in the manifest at `path`, creating it from the template if missing.
pub(crate) fn update_file(
    path: &std::path::Path,
    svc: &str,
    kind: &str,
    image: &str,
) -> Result<(), CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("creating {} (it was missing)", path.display());
            crate::scaffold::manifest(svc, kind, image)?
        }
        Err(source) => return Err(CliError::Io { path: path.to_owned(), source }),
    };
    let updated =
        set_image(&text, svc, image).map_err(|e| CliError::Invalid(format!("{}: {e}", path.display())))?;
    std::fs::write(path, updated).map_err(|source| CliError::Io { path: path.to_owned(), source })?;
    println!("set image {image} in {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_image_changes() {
        let text = crate::scaffold::manifest("shop", "statefulset", "shop:0.1.0").expect("renders");
        let updated = set_image(&text, "shop", "reg.example.com/shop:v20260101120000").expect("updates");
        let parse = |t: &str| -> Vec<Value> {
            serde_yaml::Deserializer::from_str(t)
                .map(Value::deserialize)
                .collect::<Result<_, _>>()
                .expect("yaml")
        };
        let (mut before, after) = (parse(&text), parse(&updated));
        before[0]["spec"]["template"]["spec"]["containers"][0]["image"] =
            Value::from("reg.example.com/shop:v20260101120000");
        assert_eq!(before, after);
    }

    #[test]
    fn manifests_without_a_workload_are_refused() {
        assert!(set_image("kind: Service\nmetadata: {name: x}\n", "x", "y").is_err());
    }
}
