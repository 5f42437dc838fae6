//! A crate outside the workspace, set up as the README says (one dependency: doudou), builds
//! and answers: over raw HTTP and through its generated client.

use std::path::PathBuf;
use std::process::Command;

use doudou_tests::{get, manifest_dir, raw, start};
use serde_json::json;

/// Builds `tests/outside/main.rs` as the crate `shop`, depending on doudou by path only.
fn build_shop() -> PathBuf {
    let repo = manifest_dir().parent().expect("the repository").to_path_buf();
    let exe = std::env::current_exe().expect("test binary");
    // target/<profile>/deps/it-<hash> -> target; the crate builds in target/tests/outside with
    // trybuild's target directory, whose dependencies the UI tests have already compiled.
    let target = exe.ancestors().nth(3).expect("target directory").to_path_buf();
    let dir = target.join("tests/outside/shop");
    std::fs::create_dir_all(dir.join("src")).expect("crate dir");
    let manifest = format!(
        "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n\
         doudou = {{ path = {:?} }}\n\n[workspace]\n",
        repo.join("doudou")
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("Cargo.toml");
    std::fs::copy(repo.join("Cargo.lock"), dir.join("Cargo.lock")).expect("the workspace's lock file");
    std::fs::copy(repo.join("tests/outside/main.rs"), dir.join("src/main.rs")).expect("main.rs");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = target.join("tests/trybuild");
    let out = Command::new(cargo)
        .args(["build", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "the outside crate does not build:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir.join("debug/shop")
}

/// What `shop URL` and `shop discover` print.
const CALLED: [&str; 4] = [
    r#"Echo { service: 7, request: "r", call: '\t', note: None }"#,
    r#"Echo { service: 8, request: "", call: '-', note: None }"#,
    r#"Echo { service: 9, request: "", call: '-', note: Some(Note { text: "hi" }) }"#,
    r#""a b/c.txt""#,
];

fn shop() -> &'static PathBuf {
    static SHOP: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    SHOP.get_or_init(build_shop)
}

#[test]
fn a_crate_written_from_the_readme_builds_and_answers() {
    let shop = shop();
    let svc = start(shop, &[("GDD_PORT", "0")], None).expect("shop serves");
    let r = get(svc.addr, "/item?service=7&request=x&call=%20");
    assert_eq!(r.json(), json!({ "service": 7, "request": "x", "call": " ", "note": null }));
    let json = [("Content-Type", "application/json")];
    let r = raw(svc.addr, "PUT", "/note?service=8", &json, b"null");
    assert_eq!(
        (r.status, r.json()["note"].clone()),
        (200, json!(null)),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let r = raw(svc.addr, "PUT", "/note?service=8", &json, br#"{"text":"hi"}"#);
    assert_eq!(r.json()["note"], json!({ "text": "hi" }));
    let r = get(svc.addr, "/files/a/b%20c.txt");
    assert_eq!(r.json(), json!("a/b c.txt"));

    let called = Command::new(shop).arg(svc.base_url()).output().expect("shop calls");
    let stdout = String::from_utf8_lossy(&called.stdout);
    assert!(called.status.success(), "{stdout}{}", String::from_utf8_lossy(&called.stderr));
    assert_eq!(stdout.lines().collect::<Vec<_>>(), CALLED);
}

/// A program that serves nothing finds the service through gossip with no setup beyond
/// `GDD_MEM_SEED`: its `ShopClient::discover("shop")` joins on the first call.
#[test]
fn a_process_that_serves_nothing_discovers_through_the_seed() {
    let shop = shop();
    let gossip = [
        ("GDD_SERVICE_DISCOVERY_MODE", "memberlist"),
        ("GDD_MEM_HOST", "127.0.0.1"),
        ("GDD_MEM_PORT", "0"),
        ("GDD_MEM_NAME", "shop-1"),
        ("GDD_SERVICE_NAME", "shop"),
    ];
    let server = start(shop, &gossip, None).expect("shop serves with gossip");
    let seed = server.gossip_addr().to_string();
    let called = Command::new(shop)
        .arg("discover")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GDD_MEM_SEED", &seed)
        .env("GDD_MEM_HOST", "127.0.0.1")
        .env("GDD_MEM_PORT", "0")
        .output()
        .expect("shop discover runs");
    let stdout = String::from_utf8_lossy(&called.stdout);
    assert!(called.status.success(), "{stdout}{}", String::from_utf8_lossy(&called.stderr));
    assert_eq!(stdout.lines().collect::<Vec<_>>(), CALLED);
    // Without a seed there is nothing to join: the call fails saying so, it does not hang.
    let alone = Command::new(shop)
        .arg("discover")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("shop discover runs");
    assert!(!alone.status.success());
    assert!(
        String::from_utf8_lossy(&alone.stderr).contains("no instance of service \"shop\""),
        "{}",
        String::from_utf8_lossy(&alone.stderr)
    );
}
