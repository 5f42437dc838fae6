//! Setting the image of a manifest in its text: the `image:` scalar of each container of the
//! Deployment or StatefulSet is located by its path (`spec.template.spec.containers[].image`)
//! and replaced where it stands, so comments, key order, quoting and indentation are kept and
//! only those lines change. A YAML round-trip would drop comments and requote values.

use crate::CliError;

/// A key line of block-style YAML: `key: value` or `- key: value`.
struct KeyLine<'a> {
    /// The column of the key.
    column: usize,
    /// The column of the `- ` that opens a list item on this line, if any.
    item: Option<usize>,
    key: &'a str,
    /// Where the value starts (after `: ` and spaces) and the value's text up to any comment.
    value_at: usize,
    value: &'a str,
}

fn key_line(line: &str) -> Option<KeyLine<'_>> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let mut rest = &line[indent..];
    let mut column = indent;
    let mut item = None;
    if let Some(after) = rest.strip_prefix("- ") {
        item = Some(indent);
        let spaces = after.len() - after.trim_start_matches(' ').len();
        column += 2 + spaces;
        rest = &after[spaces..];
    }
    let colon = rest.find(':')?;
    let key = &rest[..colon];
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b)) {
        return None;
    }
    let after = &rest[colon + 1..];
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    let spaces = after.len() - after.trim_start_matches(' ').len();
    let value_at = column + colon + 1 + spaces;
    Some(KeyLine { column, item, key, value_at, value: scalar_text(&line[value_at..]) })
}

/// The scalar at the start of `text`, quotes included, without a trailing comment.
fn scalar_text(text: &str) -> &str {
    match text.as_bytes().first() {
        Some(b'"') => {
            let mut escaped = false;
            for (i, c) in text.char_indices().skip(1) {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => return &text[..=i],
                    _ => escaped = false,
                }
            }
            text
        }
        Some(b'\'') => text[1..].find('\'').map_or(text, |end| &text[..end + 2]),
        _ => text.find(" #").map_or(text, |end| &text[..end]).trim_end(),
    }
}

/// `image` written the way `old` was written: in the same quotes, or plain.
fn requote(old: &str, image: &str) -> String {
    match old.as_bytes().first() {
        Some(b'"') => format!("\"{image}\""),
        Some(b'\'') => format!("'{image}'"),
        _ => image.to_owned(),
    }
}

/// What [`walk`] meets in a manifest.
enum Event<'t, 'a> {
    /// A key line: its index, the keys enclosing it (a list item as `-`), and the line.
    Key(usize, &'t [&'a str], &'t KeyLine<'a>),
    /// The end of a document (at `---`, `...` and at the end of the text).
    End,
}

/// Walks the key lines of each YAML document of `text` (block style), skipping comments and
/// the contents of block scalars (`|`, `>`).
fn walk<'a>(text: &'a str, mut visit: impl FnMut(Event<'_, 'a>)) {
    // The keys enclosing the current line, by column; list items are "-".
    let mut path: Vec<(usize, &'a str)> = Vec::new();
    // A block scalar (`|`, `>`) runs over the lines indented deeper than its key.
    let mut block_deeper_than: Option<usize> = None;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let content = line.trim_end_matches(['\n', '\r']);
        if content.starts_with("---") || content.starts_with("...") {
            visit(Event::End);
            (path, block_deeper_than) = (Vec::new(), None);
            continue;
        }
        let trimmed = content.trim_start();
        let indent = content.len() - trimmed.len();
        if let Some(deeper) = block_deeper_than {
            if trimmed.is_empty() || indent > deeper {
                continue;
            }
            block_deeper_than = None;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some(key) = key_line(content) else { continue };
        let opens = key.item.unwrap_or(key.column);
        while path.last().is_some_and(|&(column, _)| column >= opens) {
            path.pop();
        }
        if let Some(dash) = key.item {
            path.push((dash, "-"));
        }
        let keys: Vec<&'a str> = path.iter().map(|&(_, k)| k).collect();
        visit(Event::Key(index, keys.as_slice(), &key));
        if key.value.starts_with('|') || key.value.starts_with('>') {
            block_deeper_than = Some(key.column);
        }
        path.push((key.column, key.key));
    }
    visit(Event::End);
}

/// Whether a top-level `kind:` value names a workload.
fn is_workload_kind(value: &str) -> bool {
    matches!(value.trim_matches(['"', '\'']), "Deployment" | "StatefulSet")
}

/// One container's `image:` line and name.
#[derive(Default)]
struct Container {
    name: Option<String>,
    image_line: Option<usize>,
}

/// Returns `text` with the image of the workload's container named `container` (or of its
/// only container) set to `image`.
pub(crate) fn set_image(text: &str, container: &str, image: &str) -> Result<String, String> {
    if !image.bytes().all(|b| b.is_ascii_alphanumeric() || b"./:_@-".contains(&b)) {
        return Err(format!("{image:?} is not an image reference"));
    }
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    let mut workloads: Vec<Vec<Container>> = Vec::new();
    // Per document: whether it is a workload, and its containers.
    let mut is_workload = false;
    let mut containers: Vec<Container> = Vec::new();
    walk(text, |event| match event {
        Event::End => {
            let found = std::mem::take(&mut containers);
            if std::mem::take(&mut is_workload) {
                workloads.push(found);
            }
        }
        Event::Key(index, keys, key) => {
            if keys.is_empty() && key.key == "kind" {
                is_workload = is_workload_kind(key.value);
            }
            if keys == ["spec", "template", "spec", "containers", "-"] {
                if key.item.is_some() {
                    containers.push(Container::default());
                }
                if let Some(current) = containers.last_mut() {
                    match key.key {
                        "name" => current.name = Some(key.value.trim_matches(['"', '\'']).to_owned()),
                        "image" => current.image_line = Some(index),
                        _ => {}
                    }
                }
            }
        }
    });

    let mut changed = 0;
    for found in &workloads {
        let only = found.len() == 1;
        for c in found {
            if !(only || c.name.as_deref() == Some(container)) {
                continue;
            }
            let Some(index) = c.image_line else {
                return Err(format!(
                    "container {:?} has no `image:` line to set",
                    c.name.as_deref().unwrap_or(container)
                ));
            };
            let line = &lines[index];
            let key = key_line(line.trim_end_matches(['\n', '\r'])).ok_or("unreadable image line")?;
            let end = key.value_at + key.value.len();
            lines[index] = format!("{}{}{}", &line[..key.value_at], requote(key.value, image), &line[end..]);
            changed += 1;
        }
    }
    if changed == 0 {
        return Err(format!(
            "no Deployment or StatefulSet container named {container:?} (block-style YAML: spec.template.spec.containers[].image)"
        ));
    }
    Ok(lines.concat())
}

/// A Secret that a workload's containers take an environment variable from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretRef {
    /// The workload's namespace, when its manifest names one.
    pub(crate) namespace: Option<String>,
    /// The Secret's name.
    pub(crate) name: String,
    /// The key of the Secret that holds the value.
    pub(crate) key: String,
}

/// The Secrets that the containers of the Deployments and StatefulSets of `text` take
/// `variable` from (`env[].valueFrom.secretKeyRef`), each once, in the order they appear.
pub(crate) fn secret_refs(text: &str, variable: &str) -> Vec<SecretRef> {
    const ENV_ITEM: [&str; 7] = ["spec", "template", "spec", "containers", "-", "env", "-"];
    const SECRET_KEY_REF: [&str; 9] =
        ["spec", "template", "spec", "containers", "-", "env", "-", "valueFrom", "secretKeyRef"];
    /// One `env` item: its name and where its value comes from.
    #[derive(Default)]
    struct Env {
        name: String,
        secret: Option<String>,
        key: Option<String>,
    }
    let unquote = |value: &str| value.trim_matches(['"', '\'']).to_owned();
    let mut found: Vec<SecretRef> = Vec::new();
    let mut is_workload = false;
    let mut namespace: Option<String> = None;
    let mut env: Vec<Env> = Vec::new();
    walk(text, |event| match event {
        Event::End => {
            let namespace = namespace.take();
            for item in std::mem::take(&mut env) {
                let (Some(name), Some(key)) = (item.secret, item.key) else { continue };
                let secret = SecretRef { namespace: namespace.clone(), name, key };
                if is_workload && item.name == variable && !found.contains(&secret) {
                    found.push(secret);
                }
            }
            is_workload = false;
        }
        Event::Key(_, keys, key) => {
            if keys.is_empty() && key.key == "kind" {
                is_workload = is_workload_kind(key.value);
            } else if keys == ["metadata"] && key.key == "namespace" {
                namespace = Some(unquote(key.value)).filter(|n| !n.is_empty());
            } else if keys == ENV_ITEM {
                if key.item.is_some() {
                    env.push(Env::default());
                }
                if let (Some(item), "name") = (env.last_mut(), key.key) {
                    item.name = unquote(key.value);
                }
            } else if keys == SECRET_KEY_REF {
                if let Some(item) = env.last_mut() {
                    match key.key {
                        "name" => item.secret = Some(unquote(key.value)),
                        "key" => item.key = Some(unquote(key.value)),
                        _ => {}
                    }
                }
            }
        }
    });
    found
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

    /// The lines that differ between `a` and `b`, which have as many lines.
    fn changed_lines(a: &str, b: &str) -> Vec<(String, String)> {
        assert_eq!(a.lines().count(), b.lines().count());
        a.lines().zip(b.lines()).filter(|(x, y)| x != y).map(|(x, y)| (x.to_owned(), y.to_owned())).collect()
    }

    #[test]
    fn only_the_image_lines_change() {
        let text = crate::scaffold::manifest("shop", "statefulset", "shop:0.1.0").expect("renders");
        let updated = set_image(&text, "shop", "reg.example.com/shop:v20260101120000").expect("updates");
        assert_eq!(
            changed_lines(&text, &updated),
            [(
                "          image: shop:0.1.0".to_owned(),
                "          image: reg.example.com/shop:v20260101120000".to_owned()
            )]
        );
    }

    #[test]
    fn comments_quotes_and_other_containers_are_kept() {
        let text = "\
# the shop
kind: Deployment   # a workload
metadata:
  name: shop
  annotations:
    note: |
      image: not-this-one
spec:
  template:
    spec:
      initContainers:
        - name: shop
          image: init:1
      containers:
        - image: \"shop:0.1.0\"  # set by push
          name: shop
        -   name: sidecar
            image: 'proxy:2'
---
kind: Service
spec:
  template:
    spec:
      containers:
        - name: shop
          image: untouched:1
";
        let updated = set_image(text, "shop", "r.example.com/shop:v1").expect("updates");
        assert_eq!(
            changed_lines(text, &updated),
            [(
                "        - image: \"shop:0.1.0\"  # set by push".to_owned(),
                "        - image: \"r.example.com/shop:v1\"  # set by push".to_owned()
            )]
        );
        let sidecar = set_image(text, "sidecar", "proxy:3").expect("updates");
        assert_eq!(
            changed_lines(text, &sidecar),
            [("            image: 'proxy:2'".to_owned(), "            image: 'proxy:3'".to_owned())]
        );
    }

    fn secret(namespace: Option<&str>, name: &str, key: &str) -> SecretRef {
        SecretRef { namespace: namespace.map(str::to_owned), name: name.to_owned(), key: key.to_owned() }
    }

    #[test]
    fn the_secrets_workloads_take_a_variable_from() {
        let text = crate::scaffold::manifest("shop", "statefulset", "shop:0.1.0").expect("renders");
        assert_eq!(
            secret_refs(&text, "GDD_MEM_SECRET"),
            [secret(Some("default"), "doudou-gossip", "GDD_MEM_SECRET")]
        );
        assert_eq!(
            secret_refs(&text, "GDD_MANAGE_PASS"),
            [secret(Some("default"), "shop-manage", "password")]
        );
        assert!(secret_refs(&text, "GDD_MEM_SEED").is_empty(), "a plain value");
        let text = "\
kind: Deployment
metadata:
  name: a
spec:
  template:
    spec:
      containers:
        - name: a
          env:
            - valueFrom:
                secretKeyRef:
                  key: K
                  name: \"shared\"   # one for every service
              name: GDD_MEM_SECRET
        - name: sidecar
          env:
            - name: GDD_MEM_SECRET
              valueFrom:
                secretKeyRef: {name: flow, key: K}
---
kind: StatefulSet
metadata:
  namespace: 'shop'
spec:
  template:
    spec:
      containers:
        - name: b
          env:
            - name: GDD_MEM_SECRET
              valueFrom:
                secretKeyRef:
                  name: shared
                  key: K
            - name: OTHER
              valueFrom:
                secretKeyRef:
                  name: other
                  key: K
---
kind: Secret
metadata:
  name: not-a-workload
spec:
  template:
    spec:
      containers:
        - env:
            - name: GDD_MEM_SECRET
              valueFrom:
                secretKeyRef:
                  name: ignored
                  key: K
";
        assert_eq!(
            secret_refs(text, "GDD_MEM_SECRET"),
            [secret(None, "shared", "K"), secret(Some("shop"), "shared", "K")]
        );
    }

    #[test]
    fn manifests_without_a_workload_or_an_image_line_are_refused() {
        assert!(set_image("kind: Service\nmetadata: {name: x}\n", "x", "y").is_err());
        let no_image =
            "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: x\n";
        let err = set_image(no_image, "x", "y:1").expect_err("no image line");
        assert!(err.contains("no `image:` line"), "{err}");
        assert!(set_image("kind: Deployment\n", "x", "bad image\n").is_err());
    }
}
