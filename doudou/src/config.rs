//! Configuration: the `GDD_*` variables of the process environment and of `.env` files.
//!
//! It is read once at start-up into a plain [`Config`]. `GDD_ENV` (default `dev`) picks the
//! layering and the first source that sets a key wins: process environment, `.env.{env}.local`,
//! `.env.local` (skipped when `GDD_ENV=test`, so tests are reproducible), `.env.{env}`, `.env`,
//! then the defaults. Every value is parsed strictly: a value that does not parse stops start-up
//! with an error naming the variable and the value, instead of silently falling back to a default.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Map, Source, Value};

/// Everything that can stop configuration from loading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A variable is set to a value that does not parse.
    #[error("invalid value {value:?} for {var}: expected {expected}; fix or unset {var}")]
    Invalid {
        /// The variable's name, e.g. `GDD_PORT`.
        var: &'static str,
        /// The offending value.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// A required variable is not set.
    #[error("{var} is not set: set it in the environment or a .env file")]
    Missing {
        /// The variable's name.
        var: &'static str,
    },
    /// A `.env` file exists but cannot be read or parsed.
    #[error("cannot load {}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why it failed.
        message: String,
    },
    /// A `GDD_*` variable's name or value is not valid UTF-8.
    #[error("{var} is not valid UTF-8: set it to UTF-8 text or unset it")]
    NotUnicode {
        /// The variable's name, with any invalid bytes replaced by U+FFFD.
        var: String,
    },
    /// Two sources could not be merged.
    #[error("cannot merge configuration sources: {0}")]
    Merge(String),
}

/// Which discovery mechanism the service registers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryMode {
    /// Gossip through memberlist (the default).
    Memberlist,
    /// No registration: a standalone service.
    None,
}

/// Log level of the `tracing` subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation (default).
    Info,
    /// Something looks wrong.
    Warn,
    /// Something failed.
    Error,
}

impl LogLevel {
    /// The level's name as `tracing` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// The effective configuration of a service, parsed once at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// `GDD_ENV`: `dev` logs for people, anything else JSON lines.
    pub env: String,
    /// `GDD_SERVICE_NAME`: the name gossiped and used for discovery.
    pub service_name: String,
    /// `GDD_HOST`: the bind address.
    pub host: IpAddr,
    /// `GDD_PORT`: the HTTP port; 0 picks a free one.
    pub port: u16,
    /// `GDD_ROUTE_ROOT_PATH`: prefix of the business routes, `""` or `/something`.
    pub route_root_path: String,
    /// `GDD_LOG_LEVEL`.
    pub log_level: LogLevel,
    /// `GDD_LOG_REQ_ENABLE`: one log line per request.
    pub log_req_enable: bool,
    /// `GDD_GRACE_TIMEOUT`: how long shutdown waits for in-flight requests.
    pub grace_timeout: Duration,
    /// `GDD_SHUTDOWN_DELAY`: after SIGTERM, how long to keep serving with readiness at 503
    /// before the listener closes, so that load balancers stop sending new requests.
    pub shutdown_delay: Duration,
    /// `GDD_READ_TIMEOUT`: limit for receiving a request's head and body.
    pub read_timeout: Duration,
    /// `GDD_WRITE_TIMEOUT`: limit for producing a response.
    pub write_timeout: Duration,
    /// `GDD_IDLE_TIMEOUT`: a keep-alive connection without traffic is closed after this.
    pub idle_timeout: Duration,
    /// `GDD_MAX_BODY_SIZE`: larger request bodies get 413.
    pub max_body_size: u64,
    /// `GDD_MAX_CONNECTIONS`: connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// `GDD_ENABLE_RESPONSE_GZIP`.
    pub enable_response_gzip: bool,
    /// `GDD_MANAGE_ENABLE`: serve the `/go-doudou/` routes.
    pub manage_enable: bool,
    /// `GDD_MANAGE_USER`.
    pub manage_user: String,
    /// `GDD_MANAGE_PASS`.
    pub manage_pass: String,
    /// `GDD_SERVICE_DISCOVERY_MODE`.
    pub discovery_mode: DiscoveryMode,
    /// `GDD_WEIGHT`: load-balancing weight, at least 1.
    pub weight: u32,
    /// The `GDD_MEM_*` gossip settings.
    pub mem: MemConfig,
    /// Every variable of every layer, by upper-case name, for the service's own settings.
    vars: BTreeMap<String, String>,
}

/// The gossip (memberlist) settings, `GDD_MEM_*`.
#[derive(Debug, Clone)]
pub struct MemConfig {
    /// `GDD_MEM_SEED`: `host[:port]` of seeds (IPs or DNS names; port 7946 by default).
    pub seeds: Vec<String>,
    /// `GDD_MEM_NAME`: the unique node name (default: the host name).
    pub name: String,
    /// `GDD_MEM_HOST`: the advertised address; a leading `.` is appended to the host name.
    pub host: String,
    /// `GDD_MEM_PORT`: the gossip port, TCP and UDP; 0 picks a free one.
    pub port: u16,
    /// `GDD_MEM_CIDRS_ALLOWED`: only these networks may join (empty: all).
    pub cidrs_allowed: Vec<ipnet::IpNet>,
    /// `GDD_MEM_SECRET`: a shared secret; gossip is then encrypted and verified.
    pub secret: String,
    /// `GDD_MEM_LABEL`: the cluster label; nodes of another label are refused.
    pub label: String,
    /// `GDD_MEM_DEAD_TIMEOUT`: how long dead nodes are still gossiped to.
    pub dead_timeout: Duration,
    /// `GDD_MEM_SYNC_INTERVAL`: the interval of full state syncs (push/pull).
    pub sync_interval: Duration,
    /// `GDD_MEM_RECLAIM_TIMEOUT`: after this, a dead node's name may come back with another address.
    pub reclaim_timeout: Duration,
    /// `GDD_MEM_PROBE_INTERVAL`: the failure-detection probe interval.
    pub probe_interval: Duration,
    /// `GDD_MEM_PROBE_TIMEOUT`: how long to wait for a probe's answer.
    pub probe_timeout: Duration,
    /// `GDD_MEM_SUSPICION_MULT`: the multiplier of the time a suspect node has to refute.
    pub suspicion_mult: usize,
    /// `GDD_MEM_GOSSIP_NODES`: how many nodes each gossip round reaches.
    pub gossip_nodes: usize,
    /// `GDD_MEM_GOSSIP_INTERVAL`: the gossip interval.
    pub gossip_interval: Duration,
    /// `GDD_MEM_TCP_TIMEOUT`: the timeout of stream (TCP) operations.
    pub tcp_timeout: Duration,
}

/// A `.env` file as a `config` source.
#[derive(Debug, Clone)]
struct DotenvFile {
    vars: Map<String, Value>,
}

impl DotenvFile {
    fn read(path: &Path) -> Result<Option<Self>, ConfigError> {
        if !path.is_file() {
            return Ok(None);
        }
        let fail = |message: String| ConfigError::File { path: path.to_owned(), message };
        let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        // Editors on Windows start UTF-8 files with a byte-order mark.
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&bytes);
        let mut vars = Map::new();
        for item in dotenvy::from_read_iter(text) {
            let (k, v) = item.map_err(|e| fail(dotenv_error(text, &e)))?;
            vars.insert(k.to_ascii_lowercase(), Value::from(v));
        }
        Ok(Some(Self { vars }))
    }
}

impl Source for DotenvFile {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, config::ConfigError> {
        Ok(self.vars.clone())
    }
}

/// dotenvy's error, with the line number where it reports a character index into the text.
fn dotenv_error(text: &[u8], err: &dotenvy::Error) -> String {
    match err {
        dotenvy::Error::LineParse(line, index) => {
            let text = String::from_utf8_lossy(text);
            // dotenvy hands back the statement (several lines for a quoted value, to the end of
            // the file for an unterminated quote) and an index into it: name where it starts.
            let start = text.find(line.as_str()).unwrap_or(0);
            let number = text[..start].matches('\n').count() + 1;
            let shown = line.lines().next().unwrap_or_default();
            let column = line.chars().take(*index).filter(|c| *c == '\n').count();
            let hint = if column > 0 { " (an unterminated quote?)" } else { "" };
            format!("line {number}: cannot parse `{shown}`{hint}")
        }
        dotenvy::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    }
}

const DEFAULTS: &[(&str, &str)] = &[
    ("GDD_ENV", "dev"),
    ("GDD_HOST", ""),
    ("GDD_PORT", "6060"),
    ("GDD_ROUTE_ROOT_PATH", ""),
    ("GDD_LOG_LEVEL", "info"),
    ("GDD_LOG_REQ_ENABLE", "false"),
    ("GDD_GRACE_TIMEOUT", "15s"),
    ("GDD_SHUTDOWN_DELAY", "0s"),
    ("GDD_READ_TIMEOUT", "15s"),
    ("GDD_WRITE_TIMEOUT", "15s"),
    ("GDD_IDLE_TIMEOUT", "60s"),
    ("GDD_MAX_BODY_SIZE", "4MiB"),
    ("GDD_MAX_CONNECTIONS", "10000"),
    ("GDD_ENABLE_RESPONSE_GZIP", "true"),
    ("GDD_MANAGE_ENABLE", "true"),
    ("GDD_MANAGE_USER", "admin"),
    ("GDD_MANAGE_PASS", "admin"),
    ("GDD_SERVICE_DISCOVERY_MODE", "memberlist"),
    ("GDD_WEIGHT", "1"),
    ("GDD_MEM_SEED", ""),
    ("GDD_MEM_NAME", ""),
    ("GDD_MEM_HOST", ""),
    ("GDD_MEM_PORT", "7946"),
    ("GDD_MEM_CIDRS_ALLOWED", ""),
    ("GDD_MEM_SECRET", ""),
    ("GDD_MEM_LABEL", ""),
    ("GDD_MEM_DEAD_TIMEOUT", "30s"),
    ("GDD_MEM_SYNC_INTERVAL", "30s"),
    ("GDD_MEM_RECLAIM_TIMEOUT", "3s"),
    ("GDD_MEM_PROBE_INTERVAL", "500ms"),
    ("GDD_MEM_PROBE_TIMEOUT", "1s"),
    ("GDD_MEM_SUSPICION_MULT", "4"),
    ("GDD_MEM_GOSSIP_NODES", "3"),
    ("GDD_MEM_GOSSIP_INTERVAL", "200ms"),
    ("GDD_MEM_TCP_TIMEOUT", "10s"),
];

impl Config {
    /// Loads the configuration from the process environment and the `.env` files of the
    /// current directory. Variables whose name or value is not UTF-8 are ignored, unless
    /// they are `GDD_*` variables: those stop start-up with an error naming them.
    pub fn from_env() -> Result<Self, ConfigError> {
        let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let mut env = Vec::new();
        for (name, value) in std::env::vars_os() {
            match (name.into_string(), value.into_string()) {
                (Ok(name), Ok(value)) => env.push((name, value)),
                (Ok(name), Err(_)) if is_gdd(name.as_bytes()) => {
                    return Err(ConfigError::NotUnicode { var: name })
                }
                (Err(name), _) if is_gdd(name.as_encoded_bytes()) => {
                    return Err(ConfigError::NotUnicode { var: name.to_string_lossy().into_owned() })
                }
                _ => {}
            }
        }
        Self::load(&dir, env)
    }

    /// Loads the configuration from `env` (standing for the process environment) and the
    /// `.env` files in `dir`.
    pub fn load(dir: &Path, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let env: Map<String, String> = env.into_iter().map(|(k, v)| (k.to_ascii_uppercase(), v)).collect();
        let base = DotenvFile::read(&dir.join(".env"))?;
        let gdd_env = env
            .get("GDD_ENV")
            .cloned()
            .or_else(|| base.as_ref().and_then(|b| b.vars.get("gdd_env")).map(|v| v.to_string()))
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "dev".to_owned());

        let mut builder = config::Config::builder();
        for (k, v) in DEFAULTS {
            builder = builder
                .set_default(k.to_ascii_lowercase(), *v)
                .map_err(|e| ConfigError::Merge(e.to_string()))?;
        }
        // Lowest precedence first: each later source overrides the ones before it.
        let mut files = vec![base];
        files.push(DotenvFile::read(&dir.join(format!(".env.{gdd_env}")))?);
        if gdd_env != "test" {
            files.push(DotenvFile::read(&dir.join(".env.local"))?);
        }
        files.push(DotenvFile::read(&dir.join(format!(".env.{gdd_env}.local")))?);
        for file in files.into_iter().flatten() {
            builder = builder.add_source(file);
        }
        builder = builder.add_source(config::Environment::default().source(Some(env)));
        let merged = builder.build().map_err(|e| ConfigError::Merge(e.to_string()))?;
        let table = merged.collect().map_err(|e| ConfigError::Merge(e.to_string()))?;
        let vars: BTreeMap<String, String> = table
            .into_iter()
            .filter_map(|(k, v)| v.into_string().ok().map(|v| (k.to_ascii_uppercase(), v)))
            .collect();
        Self::parse(gdd_env, vars)
    }

    fn parse(env: String, vars: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| vars.get(k).map(String::as_str).unwrap_or_default().trim();
        let service_name = match get("GDD_SERVICE_NAME") {
            "" => default_service_name(),
            name => name.to_owned(),
        };
        Ok(Self {
            service_name,
            host: parse_host(get("GDD_HOST"))?,
            port: parse("GDD_PORT", get("GDD_PORT"), "a port number 0-65535", |v| v.parse().ok())?,
            route_root_path: parse_root_path(get("GDD_ROUTE_ROOT_PATH"))?,
            log_level: parse(
                "GDD_LOG_LEVEL",
                get("GDD_LOG_LEVEL"),
                "one of trace, debug, info, warn, error",
                |v| match v.to_ascii_lowercase().as_str() {
                    "trace" => Some(LogLevel::Trace),
                    "debug" => Some(LogLevel::Debug),
                    "info" => Some(LogLevel::Info),
                    "warn" | "warning" => Some(LogLevel::Warn),
                    "error" => Some(LogLevel::Error),
                    _ => None,
                },
            )?,
            log_req_enable: parse_bool("GDD_LOG_REQ_ENABLE", get("GDD_LOG_REQ_ENABLE"))?,
            grace_timeout: parse_duration("GDD_GRACE_TIMEOUT", get("GDD_GRACE_TIMEOUT"))?,
            shutdown_delay: parse_duration("GDD_SHUTDOWN_DELAY", get("GDD_SHUTDOWN_DELAY"))?,
            read_timeout: parse_duration("GDD_READ_TIMEOUT", get("GDD_READ_TIMEOUT"))?,
            write_timeout: parse_duration("GDD_WRITE_TIMEOUT", get("GDD_WRITE_TIMEOUT"))?,
            idle_timeout: parse_duration("GDD_IDLE_TIMEOUT", get("GDD_IDLE_TIMEOUT"))?,
            max_connections: parse(
                "GDD_MAX_CONNECTIONS",
                get("GDD_MAX_CONNECTIONS"),
                "a positive integer",
                |v| v.parse().ok().filter(|n| *n >= 1),
            )?,
            max_body_size: parse(
                "GDD_MAX_BODY_SIZE",
                get("GDD_MAX_BODY_SIZE"),
                "a size such as 4MiB, 512KiB or 1048576",
                parse_size,
            )?,
            enable_response_gzip: parse_bool("GDD_ENABLE_RESPONSE_GZIP", get("GDD_ENABLE_RESPONSE_GZIP"))?,
            manage_enable: parse_bool("GDD_MANAGE_ENABLE", get("GDD_MANAGE_ENABLE"))?,
            manage_user: get("GDD_MANAGE_USER").to_owned(),
            manage_pass: get("GDD_MANAGE_PASS").to_owned(),
            discovery_mode: parse(
                "GDD_SERVICE_DISCOVERY_MODE",
                get("GDD_SERVICE_DISCOVERY_MODE"),
                "memberlist or none",
                |v| match v.to_ascii_lowercase().as_str() {
                    "memberlist" => Some(DiscoveryMode::Memberlist),
                    "none" => Some(DiscoveryMode::None),
                    _ => None,
                },
            )?,
            weight: parse("GDD_WEIGHT", get("GDD_WEIGHT"), "an integer of at least 1", |v| {
                v.parse().ok().filter(|w| *w >= 1)
            })?,
            mem: parse_mem(&get)?,
            env,
            vars,
        })
    }

    /// The value of any variable (not only `GDD_*`) after layering, for a service's own
    /// settings: `config.var("DB_URL")` sees the process environment and the `.env` files.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(&name.to_ascii_uppercase()).map(String::as_str)
    }

    /// The effective `GDD_*` variables, secrets redacted: the whole value of a variable whose
    /// name contains one of [`SECRET_NAME_PARTS`], and the user information (`user:password@`)
    /// of any URL in the others.
    pub fn redacted(&self) -> BTreeMap<String, String> {
        self.vars
            .iter()
            .filter(|(k, _)| k.starts_with("GDD_"))
            .map(|(k, v)| {
                let secret = SECRET_NAME_PARTS.iter().any(|s| k.contains(s));
                let shown = match (secret, v.is_empty()) {
                    (_, true) => String::new(),
                    (true, false) => REDACTED.to_owned(),
                    (false, false) => redact_userinfo(v),
                };
                (k.clone(), shown)
            })
            .collect()
    }

    /// True where logs are for people (`GDD_ENV=dev`).
    pub fn is_dev(&self) -> bool {
        self.env == "dev"
    }

    /// True for production: `GDD_ENV` is `prod` or `production`, in any case.
    pub fn is_production(&self) -> bool {
        ["prod", "production"].iter().any(|p| self.env.eq_ignore_ascii_case(p))
    }

    /// The `GDD_*` variables set (in the environment or a `.env` file) that doudou does not
    /// know, each with the known name it most resembles: most likely a misspelling.
    pub fn unknown_vars(&self) -> Vec<(String, Option<&'static str>)> {
        self.vars
            .keys()
            .filter(|k| k.starts_with("GDD_") && !known_var(k))
            .map(|k| (k.clone(), closest_known_var(k)))
            .collect()
    }

    /// A configuration of defaults alone, ignoring the environment and files: for tests and
    /// embedding.
    pub fn defaults() -> Self {
        let vars = DEFAULTS.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Self::parse("dev".to_owned(), vars)
            .unwrap_or_else(|e| unreachable!("the built-in defaults parse: {e}"))
    }
}

/// Name parts that mark a variable's whole value as secret in the config dump.
pub const SECRET_NAME_PARTS: &[&str] =
    &["PASS", "PWD", "SECRET", "CREDENTIAL", "AUTH", "KEY", "TOKEN", "DSN", "PRIVATE"];

const REDACTED: &str = "******";

fn is_gdd(name: &[u8]) -> bool {
    name.len() >= 4 && name[..4].eq_ignore_ascii_case(b"GDD_")
}

/// `GDD_*` names doudou reads besides those with a default.
const OTHER_KNOWN_VARS: &[&str] = &["GDD_SERVICE_NAME", "GDD_GIT_COMMIT", "GDD_BUILD_TIME"];

fn known_vars() -> impl Iterator<Item = &'static str> {
    DEFAULTS.iter().map(|(k, _)| *k).chain(OTHER_KNOWN_VARS.iter().copied())
}

fn known_var(name: &str) -> bool {
    known_vars().any(|k| k == name)
}

/// The known name nearest to `name` by edit distance, if near enough to be a typo.
fn closest_known_var(name: &str) -> Option<&'static str> {
    known_vars()
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 5))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance, counting an adjacent transposition as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// `scheme://user:password@host/...` -> `scheme://user:******@host/...` (and `scheme://token@host`
/// -> `scheme://******@host`), wherever a URL appears in the value (lists included).
fn redact_userinfo(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', '?', '#', ',', ' ', ';']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                let userinfo = &authority[..userinfo_end];
                if let Some((user, _password)) = userinfo.split_once(':') {
                    out.push_str(user);
                    out.push(':');
                }
                out.push_str(REDACTED);
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

fn parse_mem<'a>(get: &impl Fn(&str) -> &'a str) -> Result<MemConfig, ConfigError> {
    let list = |v: &'a str| v.split(',').map(str::trim).filter(|s| !s.is_empty());
    let count = |var: &'static str| {
        parse(var, get(var), "a positive integer", |v| v.parse::<usize>().ok().filter(|n| *n >= 1))
    };
    let cidrs = get("GDD_MEM_CIDRS_ALLOWED");
    let label = get("GDD_MEM_LABEL");
    if label.len() > 255 {
        return Err(ConfigError::Invalid {
            var: "GDD_MEM_LABEL",
            value: label.to_owned(),
            expected: "at most 255 bytes",
        });
    }
    let name = get("GDD_MEM_NAME");
    if name.len() > 255 {
        return Err(ConfigError::Invalid {
            var: "GDD_MEM_NAME",
            value: name.to_owned(),
            expected: "at most 255 bytes",
        });
    }
    Ok(MemConfig {
        seeds: list(get("GDD_MEM_SEED")).map(str::to_owned).collect(),
        name: name.to_owned(),
        host: get("GDD_MEM_HOST").to_owned(),
        port: parse("GDD_MEM_PORT", get("GDD_MEM_PORT"), "a port number 0-65535", |v| v.parse().ok())?,
        cidrs_allowed: list(cidrs)
            .map(|c| {
                c.parse::<ipnet::IpNet>().or_else(|_| c.parse::<IpAddr>().map(ipnet::IpNet::from)).map_err(
                    |_| ConfigError::Invalid {
                        var: "GDD_MEM_CIDRS_ALLOWED",
                        value: c.to_owned(),
                        expected: "comma-separated networks such as 10.0.0.0/8,192.168.1.0/24",
                    },
                )
            })
            .collect::<Result<_, _>>()?,
        secret: get("GDD_MEM_SECRET").to_owned(),
        label: label.to_owned(),
        dead_timeout: parse_duration("GDD_MEM_DEAD_TIMEOUT", get("GDD_MEM_DEAD_TIMEOUT"))?,
        sync_interval: parse_interval("GDD_MEM_SYNC_INTERVAL", get("GDD_MEM_SYNC_INTERVAL"))?,
        reclaim_timeout: parse_duration("GDD_MEM_RECLAIM_TIMEOUT", get("GDD_MEM_RECLAIM_TIMEOUT"))?,
        probe_interval: parse_interval("GDD_MEM_PROBE_INTERVAL", get("GDD_MEM_PROBE_INTERVAL"))?,
        probe_timeout: parse_interval("GDD_MEM_PROBE_TIMEOUT", get("GDD_MEM_PROBE_TIMEOUT"))?,
        suspicion_mult: count("GDD_MEM_SUSPICION_MULT")?,
        gossip_nodes: count("GDD_MEM_GOSSIP_NODES")?,
        gossip_interval: parse_interval("GDD_MEM_GOSSIP_INTERVAL", get("GDD_MEM_GOSSIP_INTERVAL"))?,
        tcp_timeout: parse_interval("GDD_MEM_TCP_TIMEOUT", get("GDD_MEM_TCP_TIMEOUT"))?,
    })
}

fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "doudou".to_owned())
}

fn parse<T>(
    var: &'static str,
    value: &str,
    expected: &'static str,
    f: impl FnOnce(&str) -> Option<T>,
) -> Result<T, ConfigError> {
    f(value).ok_or_else(|| ConfigError::Invalid { var, value: value.to_owned(), expected })
}

fn parse_bool(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    parse(var, value, "true or false", |v| match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    })
}

fn parse_duration(var: &'static str, value: &str) -> Result<Duration, ConfigError> {
    parse(var, value, "a duration such as 15s, 500ms or 1m", |v| humantime::parse_duration(v).ok())
}

/// A period of a repeated action: zero would make it spin.
fn parse_interval(var: &'static str, value: &str) -> Result<Duration, ConfigError> {
    parse(var, value, "a duration above zero such as 200ms or 1s", |v| {
        humantime::parse_duration(v).ok().filter(|d| !d.is_zero())
    })
}

fn parse_host(value: &str) -> Result<IpAddr, ConfigError> {
    parse("GDD_HOST", value, "an IP address, localhost, or empty for all interfaces", |v| match v {
        "" => Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        "localhost" => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        v => v.parse().ok(),
    })
}

fn parse_root_path(value: &str) -> Result<String, ConfigError> {
    parse("GDD_ROUTE_ROOT_PATH", value, "empty or a path starting with /", |v| {
        let v = v.trim_end_matches('/');
        (v.is_empty() || (v.starts_with('/') && !v.contains(['{', '}', '*', '?', '#']))).then(|| v.to_owned())
    })
}

/// Parses `4MiB`, `512KiB`, `10MB`, `1048576` (bytes).
fn parse_size(value: &str) -> Option<u64> {
    let split = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
    let (digits, unit) = value.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

#[cfg(test)]
mod tests {
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
            ("GDD_WEIGHT", "0"),
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
        let c =
            Config::load(&empty_dir(), env(&[("GDD_READ_TIMEOUT", "500ms"), ("GDD_WRITE_TIMEOUT", "1m")]))
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
        assert_eq!(
            get("GDD_UPSTREAM"),
            Some("https://bob:******@api.example.com:8443/v1?x=1, http://******@h/")
        );
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
            env(&[
                ("GDD_PROT", "7000"),
                ("GDD_GRACE_TIMEOTU", "1s"),
                ("GDD_APP_FEATURE", "x"),
                ("OTHER", "1"),
            ]),
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
        std::fs::write(dir.join(".env"), "GDD_PORT=7001\n# comment\n\nGDD_WEIGHT='2\nGDD_X=1\n")
            .expect("write");
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
}
