//! The configuration: layering, defaults, strict parsing, redaction, typo warnings.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn empty_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("doudou-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_default();
    dir
}

#[test]
fn defaults_match_the_spec() {
    let c = Config::load(&empty_dir(), env(&[])).expect("defaults load");
    assert_eq!(c.port, 6060);
    assert_eq!(c.grace_timeout, Duration::from_secs(15));
    assert_eq!(c.idle_timeout, Duration::from_secs(60));
    assert_eq!(c.max_body_size, 4 << 20);
    assert!(c.enable_response_gzip && c.manage_enable && !c.log_req_enable);
    assert_eq!((c.manage_user.as_str(), c.manage_pass.as_str()), ("admin", "admin"));
    assert_eq!(c.discovery_mode, DiscoveryMode::Memberlist);
    assert_eq!(c.env, "dev");
}

#[test]
fn invalid_values_name_the_variable_and_value() {
    for (var, value) in [
        ("GDD_PORT", "abc"),
        ("GDD_PORT", "70000"),
        ("GDD_GRACE_TIMEOUT", "15"),
        ("GDD_LOG_REQ_ENABLE", "maybe"),
        ("GDD_MAX_BODY_SIZE", "4 parsecs"),
        ("GDD_CLIENT_MAX_BODY_SIZE", "lots"),
        ("GDD_MAX_FORM_PARTS", "0"),
        ("GDD_WEIGHT", "0"),
        ("GDD_WEIGHT", "101"),
        ("GDD_HOST", "not-an-ip"),
        ("GDD_ROUTE_ROOT_PATH", "api"),
        ("GDD_SERVICE_DISCOVERY_MODE", "consul"),
        ("GDD_MEM_PORT", "gossip"),
        ("GDD_MEM_CIDRS_ALLOWED", "10.0.0.0/33"),
        ("GDD_MEM_PROBE_INTERVAL", "fast"),
        ("GDD_MEM_GOSSIP_NODES", "0"),
    ] {
        let err = Config::load(&empty_dir(), env(&[(var, value)])).expect_err(var);
        let text = err.to_string();
        assert!(text.contains(var) && text.contains(value), "{text}");
    }
}

#[test]
fn sizes_and_durations_parse() {
    assert_eq!(parse_size("512KiB"), Some(512 * 1024));
    assert_eq!(parse_size("10MB"), Some(10_000_000));
    assert_eq!(parse_size("1048576"), Some(1 << 20));
    assert_eq!(parse_size("MiB"), None);
    let c = Config::load(&empty_dir(), env(&[("GDD_READ_TIMEOUT", "500ms"), ("GDD_WRITE_TIMEOUT", "1m")]))
        .expect("loads");
    assert_eq!(c.read_timeout, Duration::from_millis(500));
    assert_eq!(c.write_timeout, Duration::from_secs(60));
}

#[test]
fn dotenv_files_layer_by_env_and_the_process_wins() {
    let dir = empty_dir().join("layering");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let write = |name: &str, body: &str| std::fs::write(dir.join(name), body).expect("write");
    write(".env", "GDD_ENV=prod\nGDD_PORT=1000\nGDD_WEIGHT=2\nAPP_NAME=base\nGDD_LOG_LEVEL=debug\n");
    write(".env.prod", "GDD_PORT=2000\nGDD_WEIGHT=3\n");
    write(".env.local", "GDD_PORT=3000\n");
    write(".env.prod.local", "GDD_PORT=4000\n");
    write(".env.test", "GDD_PORT=5000\n");
    let c = Config::load(&dir, env(&[])).expect("loads");
    assert_eq!(c.env, "prod", ".env sets GDD_ENV when the process does not");
    assert_eq!(c.port, 4000, ".env.{{env}}.local wins over every file");
    assert_eq!(c.weight, 3, ".env.{{env}} wins over .env");
    assert_eq!(c.log_level, LogLevel::Debug);
    assert_eq!(c.var("app_name"), Some("base"));
    let c = Config::load(&dir, env(&[("GDD_PORT", "7000")])).expect("loads");
    assert_eq!(c.port, 7000, "the process environment wins over files");
    let c = Config::load(&dir, env(&[("GDD_ENV", "test")])).expect("loads");
    assert_eq!(c.port, 5000, ".env.local is skipped for GDD_ENV=test");
    write(".env.broken", "GDD_PORT=\"unterminated\n");
    let err = Config::load(&dir, env(&[("GDD_ENV", "broken")])).expect_err("broken file");
    assert!(err.to_string().contains(".env.broken"), "{err}");
}

#[test]
fn redaction_hides_secrets_by_name_and_url_passwords_anywhere() {
    let c = Config::load(
        &empty_dir(),
        env(&[
            ("GDD_DB_DSN", "postgres://app:dsnpass123@db/app"),
            ("GDD_REDIS_PWD", "redispw"),
            ("GDD_JWT_CREDENTIALS", "jwtcred"),
            ("GDD_AUTH", "authval"),
            ("GDD_API_KEY", "k"),
            ("GDD_UPSTREAM", "https://bob:upstreampw@api.example.com:8443/v1?x=1, http://tok3n@h/"),
            ("GDD_EMPTY_SECRET", ""),
        ]),
    )
    .expect("loads");
    let shown = c.redacted();
    let text = format!("{shown:?}");
    for secret in ["dsnpass123", "redispw", "jwtcred", "authval", "upstreampw", "tok3n"] {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }
    let get = |k: &str| shown.get(k).map(String::as_str);
    assert_eq!(get("GDD_DB_DSN"), Some("******"));
    assert_eq!(get("GDD_UPSTREAM"), Some("https://bob:******@api.example.com:8443/v1?x=1, http://******@h/"));
    assert_eq!(get("GDD_EMPTY_SECRET"), Some(""), "an empty value is shown as empty");
    assert_eq!(get("GDD_PORT"), Some("6060"));
}

#[test]
fn production_is_recognised_by_either_name_in_any_case() {
    for (name, production) in [
        ("prod", true),
        ("PROD", true),
        ("Production", true),
        ("production", true),
        ("dev", false),
        ("staging", false),
    ] {
        let c = Config::load(&empty_dir(), env(&[("GDD_ENV", name)])).expect("loads");
        assert_eq!(c.is_production(), production, "{name}");
    }
}

#[test]
fn unknown_gdd_names_are_reported_with_the_closest_known_one() {
    let c = Config::load(
        &empty_dir(),
        env(&[("GDD_PROT", "7000"), ("GDD_GRACE_TIMEOTU", "1s"), ("GDD_APP_FEATURE", "x"), ("OTHER", "1")]),
    )
    .expect("loads");
    let mut unknown = c.unknown_vars();
    unknown.sort();
    assert_eq!(
        unknown,
        vec![
            ("GDD_APP_FEATURE".to_owned(), None),
            ("GDD_GRACE_TIMEOTU".to_owned(), Some("GDD_GRACE_TIMEOUT")),
            ("GDD_PROT".to_owned(), Some("GDD_PORT")),
        ]
    );
    assert_eq!(c.port, 6060, "a misspelt variable sets nothing");
}

#[test]
fn dotenv_errors_give_the_line_and_a_byte_order_mark_is_accepted() {
    let dir = empty_dir().join("dotenv-lines");
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join(".env"), "\u{feff}GDD_PORT=7001\nGDD_WEIGHT=2\n").expect("write");
    let c = Config::load(&dir, env(&[])).expect("a BOM is accepted");
    assert_eq!((c.port, c.weight), (7001, 2));
    std::fs::write(dir.join(".env"), "GDD_PORT=7001\n# comment\n\nGDD_WEIGHT='2\nGDD_X=1\n").expect("write");
    let err = Config::load(&dir, env(&[])).expect_err("unterminated quote").to_string();
    assert!(err.contains(".env") && err.contains("line 4"), "{err}");
}

#[test]
fn zero_gossip_intervals_are_refused() {
    for var in ["GDD_MEM_PROBE_INTERVAL", "GDD_MEM_GOSSIP_INTERVAL", "GDD_MEM_SYNC_INTERVAL"] {
        let err = Config::load(&empty_dir(), env(&[(var, "0s")])).expect_err(var).to_string();
        assert!(err.contains(var) && err.contains("above zero"), "{err}");
    }
}

#[test]
fn redaction_hides_passwords() {
    let c = Config::load(&empty_dir(), env(&[("GDD_MANAGE_PASS", "hunter2")])).expect("loads");
    let shown = c.redacted();
    assert_eq!(shown.get("GDD_MANAGE_PASS").map(String::as_str), Some("******"));
    assert!(!format!("{shown:?}").contains("hunter2"));
}

#[test]
fn the_client_reads_what_the_server_accepts_unless_told_otherwise() {
    let c = Config::load(&empty_dir(), env(&[])).expect("defaults load");
    assert_eq!(c.client.max_body_size, 4 << 20);
    let c = Config::load(&empty_dir(), env(&[("GDD_MAX_BODY_SIZE", "16MiB")])).expect("loads");
    assert_eq!(c.client.max_body_size, 16 << 20);
    let both = env(&[("GDD_MAX_BODY_SIZE", "16MiB"), ("GDD_CLIENT_MAX_BODY_SIZE", "1MiB")]);
    assert_eq!(Config::load(&empty_dir(), both).expect("loads").client.max_body_size, 1 << 20);
}

/// The book's reference is the table of settings, so that neither can drift: rewrite it with
/// `DOUDOU_BLESS=1 cargo test -p doudou settings_reference`.
#[cfg(feature = "gossip")] // the reference is the default build's: discovery defaults to gossip
#[test]
fn the_books_settings_reference_is_the_table_of_settings() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/src/configuration.md");
    let book = std::fs::read_to_string(&path).expect("docs/src/configuration.md");
    let (begin, end) = ("<!-- settings:begin -->\n", "<!-- settings:end -->");
    let start = book.find(begin).expect("the settings:begin marker") + begin.len();
    let stop = book.find(end).expect("the settings:end marker");
    let table = super::settings::reference();
    if std::env::var_os("DOUDOU_BLESS").is_some() {
        std::fs::write(&path, format!("{}{table}{}", &book[..start], &book[stop..])).expect("write");
        return;
    }
    assert!(
        book[start..stop] == table,
        "docs/src/configuration.md's table of settings is not the code's (config/settings.rs); \
         rewrite it with DOUDOU_BLESS=1 cargo test -p doudou settings_reference\nexpected:\n{table}"
    );
}
