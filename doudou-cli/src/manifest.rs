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
    // The keys enclosing the current line, by column; list items are "-".
    let mut path: Vec<(usize, &str)> = Vec::new();
    // A block scalar (`|`, `>`) runs over the lines indented deeper than its key.
    let mut block_deeper_than: Option<usize> = None;
    let mut finish = |is_workload: bool, containers: &mut Vec<Container>| {
        let found = std::mem::take(containers);
        if is_workload {
            workloads.push(found);
        }
    };
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let content = line.trim_end_matches(['\n', '\r']);
        if content.starts_with("---") || content.starts_with("...") {
            finish(is_workload, &mut containers);
            (is_workload, path, block_deeper_than) = (false, Vec::new(), None);
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
        let keys: Vec<&str> = path.iter().map(|&(_, k)| k).collect();
        if keys.is_empty() && key.key == "kind" {
            is_workload = matches!(key.value.trim_matches(['"', '\'']), "Deployment" | "StatefulSet");
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
        if key.value.starts_with('|') || key.value.starts_with('>') {
            block_deeper_than = Some(key.column);
        }
        path.push((key.column, key.key));
    }
    finish(is_workload, &mut containers);

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
