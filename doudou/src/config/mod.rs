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
#[non_exhaustive]
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
    /// `GDD_MAX_FORM_PARTS`: forms (urlencoded or multipart) with more fields get 413.
    pub max_form_parts: usize,
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
    /// `GDD_WEIGHT`: load-balancing weight, 1 to 100.
    pub weight: u32,
    /// The `GDD_MEM_*` gossip settings.
    pub mem: MemConfig,
    /// The admission limits of business requests.
    pub limits: LimitsConfig,
    /// How generated clients call other services.
    pub client: ClientConfig,
    /// Every variable of every layer, by upper-case name, for the service's own settings.
    vars: BTreeMap<String, String>,
}

/// The gossip (memberlist) settings, `GDD_MEM_*`.
#[derive(Debug, Clone)]
#[non_exhaustive]
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

mod dotenv;
mod names;
mod resilience;
mod settings;
#[cfg(test)]
mod tests;
mod values;

use dotenv::*;
pub use names::SECRET_NAME_PARTS;
use names::*;
use resilience::{parse_client, parse_limits};
pub use resilience::{ClientConfig, LimitsConfig};
use settings::SETTINGS;
use values::*;

/// The settings that have a default, with it.
fn defaults() -> impl Iterator<Item = (&'static str, &'static str)> {
    SETTINGS.iter().filter_map(|s| Some((s.name, s.default?)))
}

/// The largest load-balancing weight (`GDD_WEIGHT`); a weight another member gossips is clamped
/// to 1..=`MAX_WEIGHT`, so that no member can claim every call.
pub const MAX_WEIGHT: u32 = 100;

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
        for (k, v) in defaults() {
            builder = builder
                .set_default(k.to_ascii_lowercase(), v)
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
                resilience::SIZE,
                parse_size,
            )?,
            max_form_parts: parse(
                "GDD_MAX_FORM_PARTS",
                get("GDD_MAX_FORM_PARTS"),
                "a positive integer",
                |v| v.parse().ok().filter(|n| *n >= 1),
            )?,
            enable_response_gzip: parse_bool("GDD_ENABLE_RESPONSE_GZIP", get("GDD_ENABLE_RESPONSE_GZIP"))?,
            manage_enable: parse_bool("GDD_MANAGE_ENABLE", get("GDD_MANAGE_ENABLE"))?,
            manage_user: get("GDD_MANAGE_USER").to_owned(),
            manage_pass: get("GDD_MANAGE_PASS").to_owned(),
            discovery_mode: parse(
                "GDD_SERVICE_DISCOVERY_MODE",
                get("GDD_SERVICE_DISCOVERY_MODE"),
                if cfg!(feature = "gossip") {
                    "memberlist or none"
                } else {
                    "none: this build has no gossip (doudou's `gossip` feature is off)"
                },
                |v| match v.to_ascii_lowercase().as_str() {
                    "memberlist" if cfg!(feature = "gossip") => Some(DiscoveryMode::Memberlist),
                    "none" => Some(DiscoveryMode::None),
                    _ => None,
                },
            )?,
            weight: parse("GDD_WEIGHT", get("GDD_WEIGHT"), "an integer from 1 to 100", |v| {
                v.parse().ok().filter(|w| (1..=MAX_WEIGHT).contains(w))
            })?,
            mem: parse_mem(&get)?,
            limits: parse_limits(&get)?,
            client: parse_client(&get)?,
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
        let vars = defaults().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        Self::parse("dev".to_owned(), vars)
            .unwrap_or_else(|e| unreachable!("the built-in defaults parse: {e}"))
    }
}
