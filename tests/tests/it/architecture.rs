//! The layering check of `scripts/layers.py`: it passes on the tree, and it fails, naming the
//! file, on a module that imports one above it or beside it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    doudou_tests::manifest_dir().join("..")
}

fn check(src: &Path, doc: &Path) -> Output {
    Command::new("python3")
        .arg(root().join("scripts/layers.py"))
        .arg("--src")
        .arg(src)
        .arg("--doc")
        .arg(doc)
        .output()
        .expect("python3 runs scripts/layers.py")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

#[test]
fn the_modules_import_only_lower_layers() {
    let out = check(&root().join("doudou/src"), &root().join("ARCHITECTURE.md"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("import only lower layers"), "{text}");
}

#[test]
fn an_import_up_or_sideways_fails_the_check() {
    let copy = std::env::temp_dir().join(format!("doudou-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(&root().join("doudou/src"), &copy.join("src"));
    std::fs::copy(root().join("ARCHITECTURE.md"), copy.join("ARCHITECTURE.md")).expect("copy doc");
    let openapi = copy.join("src/openapi.rs");
    let mut code = std::fs::read_to_string(&openapi).expect("openapi.rs");
    code.push_str("\nuse crate::client::Call;\n");
    std::fs::write(&openapi, code).expect("write");
    let request = copy.join("src/request/mod.rs");
    let mut code = std::fs::read_to_string(&request).expect("request/mod.rs");
    code.push_str("\nfn answer() { let _ = crate::reply::error; }\n");
    std::fs::write(&request, code).expect("write");

    let out = check(&copy.join("src"), &copy.join("ARCHITECTURE.md"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = std::fs::remove_dir_all(&copy);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("openapi.rs")
            && text.contains("`openapi` imports `crate::client`, which stands above it"),
        "{text}"
    );
    assert!(
        text.contains("request/mod.rs")
            && text.contains("`request` imports `crate::reply`, which stands beside it"),
        "{text}"
    );
}
