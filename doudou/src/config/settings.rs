//! The table of every `GDD_*` setting: its default and what it does. The loader takes its
//! defaults from here, the typo warning its names, and the book's reference
//! (`docs/src/configuration.md`) is generated from it, so that the three cannot drift apart.

/// One setting doudou reads.
pub(crate) struct Setting {
    pub(crate) name: &'static str,
    /// The value when unset, as the environment would give it; `None`: no default (the
    /// setting's absence means something of its own).
    pub(crate) default: Option<&'static str>,
    /// The default as the reference shows it, where the value alone would not say it.
    #[cfg_attr(not(all(test, feature = "gossip")), allow(dead_code))] // read by the reference test
    pub(crate) shown: &'static str,
    #[cfg_attr(not(all(test, feature = "gossip")), allow(dead_code))]
    pub(crate) meaning: &'static str,
}

const fn set(name: &'static str, default: &'static str, meaning: &'static str) -> Setting {
    shown(name, default, "", meaning)
}

const fn shown(
    name: &'static str,
    default: &'static str,
    shown: &'static str,
    meaning: &'static str,
) -> Setting {
    Setting { name, default: Some(default), shown, meaning }
}

pub(crate) const SETTINGS: &[Setting] = &[
    set("GDD_ENV", "dev", "`dev`: human-readable logs; any other value: JSON log lines. Also selects the `.env.{GDD_ENV}` files"),
    Setting { name: "GDD_SERVICE_NAME", default: None, shown: "the executable's name", meaning: "the name gossiped and used for discovery" },
    shown("GDD_HOST", "", "all interfaces", "HTTP bind address (an IP, or `localhost`)"),
    set("GDD_PORT", "6060", "HTTP port; 0 picks a free one"),
    shown("GDD_ROUTE_ROOT_PATH", "", "\"\"", "prefix of the business routes, e.g. `/api/v1`"),
    set("GDD_LOG_LEVEL", "info", "trace, debug, info, warn, error (`RUST_LOG` refines it)"),
    set("GDD_LOG_REQ_ENABLE", "false", "one log line per request: method, URI, route template, status, duration, request id"),
    set("GDD_GRACE_TIMEOUT", "15s", "how long shutdown waits for in-flight requests"),
    set("GDD_SHUTDOWN_DELAY", "0s", "after SIGTERM, how long to keep serving with readiness at 503 before closing the listener"),
    set("GDD_READ_TIMEOUT", "15s", "limit for receiving a request body (408 after it)"),
    set("GDD_WRITE_TIMEOUT", "15s", "limit for a handler to answer (503 after it); also the deadline of the calls its handler makes"),
    set("GDD_IDLE_TIMEOUT", "60s", "a connection that neither completes a request head nor sends response bytes for this long (up to 1.5x it) is closed: idle keep-alive connections, heads trickled in byte by byte, stalled response streams; a handler still working keeps it open; `0s` never closes"),
    set("GDD_MAX_BODY_SIZE", "4MiB", "larger request bodies get 413"),
    set("GDD_MAX_FORM_PARTS", "1000", "forms (urlencoded or multipart) with more fields get 413"),
    set("GDD_MAX_CONNECTIONS", "10000", "connections served at once; more wait in the kernel's listen backlog until one closes (logged at most once a second)"),
    shown("GDD_MAX_INFLIGHT", "0", "0 (off)", "business requests handled at once; more wait up to `GDD_MAX_WAIT`, then 429 (see [Resilience](resilience.md))"),
    set("GDD_MAX_WAIT", "0s", "how long a business request may wait for a place under `GDD_MAX_INFLIGHT`"),
    shown("GDD_RATE_LIMIT", "0", "0 (off)", "business requests a second; more get 429 (see [Resilience](resilience.md))"),
    shown("GDD_RATE_BURST", "0", "the rate", "business requests above `GDD_RATE_LIMIT` at once"),
    set("GDD_CLIENT_TIMEOUT", "5s", "how long one attempt of a generated client's call may wait for its answer (see [Resilience](resilience.md))"),
    set("GDD_CLIENT_TOTAL_TIMEOUT", "10s", "how long a whole client call may take, retries included"),
    set("GDD_RETRY_COUNT", "2", "retries of a client call after a failure that is safe to retry"),
    shown("GDD_CLIENT_MAX_BODY_SIZE", "", "GDD_MAX_BODY_SIZE", "the largest answer body a client call reads (502 beyond it)"),
    set("GDD_ENABLE_RESPONSE_GZIP", "true", "gzip responses when the client accepts it"),
    set("GDD_MANAGE_ENABLE", "true", "the `/go-doudou/` routes"),
    set("GDD_MANAGE_USER", "admin", "basic auth user of the `/go-doudou/` routes"),
    set("GDD_MANAGE_PASS", "admin", "basic auth password of the `/go-doudou/` routes"),
    // Without the `gossip` feature there is no memberlist to default to.
    set(
        "GDD_SERVICE_DISCOVERY_MODE",
        if cfg!(feature = "gossip") { "memberlist" } else { "none" },
        "`memberlist` (gossip) or `none` (a standalone service); a build without doudou's `gossip` feature takes only `none`, its default",
    ),
    set("GDD_WEIGHT", "1", "load-balancing weight gossiped with the node, 1 to 100"),
    shown("GDD_MEM_SEED", "", "\"\"", "seeds to join, `host[:port]`, comma-separated (see [Microservices](microservices.md))"),
    shown("GDD_MEM_NAME", "", "host name-HTTP port", "unique node name"),
    shown("GDD_MEM_HOST", "", "a specific `GDD_HOST`, else the first private IP", "advertised gossip address; a leading `.` is appended to the host name"),
    set("GDD_MEM_PORT", "7946", "gossip port, TCP and UDP; 0 picks a free one"),
    shown("GDD_MEM_CIDRS_ALLOWED", "", "\"\" (all)", "networks allowed to join (see [Network security](microservices.md#network-security))"),
    shown("GDD_MEM_SECRET", "", "\"\"", "shared secret: gossip encrypted and verified"),
    shown("GDD_MEM_LABEL", "", "\"\"", "cluster label"),
    set("GDD_MEM_DEAD_TIMEOUT", "30s", "how long dead nodes are still gossiped to"),
    set("GDD_MEM_SYNC_INTERVAL", "30s", "full state sync (push/pull) with a random node"),
    set("GDD_MEM_RECLAIM_TIMEOUT", "3s", "after this, a dead node's name may return with a new address (a restarted pod)"),
    set("GDD_MEM_PROBE_INTERVAL", "500ms", "failure detection: how often a member is probed"),
    set("GDD_MEM_PROBE_TIMEOUT", "1s", "failure detection: how long a probe waits for its answer"),
    set("GDD_MEM_SUSPICION_MULT", "4", "how long a suspect node has to refute, times log(N) probe intervals"),
    set("GDD_MEM_GOSSIP_NODES", "3", "gossip fan-out"),
    set("GDD_MEM_GOSSIP_INTERVAL", "200ms", "gossip period"),
    set("GDD_MEM_TCP_TIMEOUT", "10s", "stream (TCP) connect, read and write timeout"),
    Setting { name: "GDD_GIT_COMMIT", default: None, shown: "set at build time", meaning: "the git commit `/go-doudou/build` and the registry show (read when the service is compiled)" },
    Setting { name: "GDD_BUILD_TIME", default: None, shown: "set at build time", meaning: "the build time `/go-doudou/build` and the registry show (read when the service is compiled)" },
];

/// The reference table of the settings, in Markdown, as `docs/src/configuration.md` has it.
#[cfg(all(test, feature = "gossip"))]
pub(crate) fn reference() -> String {
    let mut table = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for s in SETTINGS {
        let default = match (s.shown, s.default) {
            ("", Some("")) => "\"\"",
            ("", Some(value)) => value,
            (shown, _) => shown,
        };
        table.push_str(&format!("| {} | {} | {} |\n", s.name, default, s.meaning));
    }
    table
}
