//! prometheus-sd: a doudou service that turns the gossip cluster into a Prometheus
//! `file_sd_configs` file, `$PROM_SD_OUT/go-doudou.json`, refreshed every
//! `PROM_REFRESH_INTERVAL`. It is a normal member of the cluster, so it can be the seed.

use std::time::Duration;

use doudou::promsd::{target_groups, FileSd, TargetGroup};
use doudou::registry::ClusterView;
use doudou::Error;

/// The service.
#[doudou::service]
pub trait PrometheusSd {
    /// The cluster's targets, as in the file: `GET /targets`.
    async fn get_targets(&self) -> Result<Vec<TargetGroup>, Error>;
}

/// The implementation.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sd;

/// The live target groups of the cluster this process gossips in (empty without gossip).
pub fn current_groups() -> Vec<TargetGroup> {
    doudou::registry::current().map(|g| target_groups(&ClusterView::members(&*g))).unwrap_or_default()
}

impl PrometheusSd for Sd {
    async fn get_targets(&self) -> Result<Vec<TargetGroup>, Error> {
        Ok(current_groups())
    }
}

/// Settings from the environment (and `.env`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `PROM_SD_OUT`: the directory of `go-doudou.json` (default `/etc/prometheus/sd`).
    pub out_dir: std::path::PathBuf,
    /// `PROM_REFRESH_INTERVAL` (default 30s).
    pub interval: Duration,
}

impl Settings {
    /// Reads `PROM_SD_OUT` and `PROM_REFRESH_INTERVAL` from `config`.
    pub fn from_config(config: &doudou::Config) -> Result<Self, String> {
        let out_dir =
            config.var("PROM_SD_OUT").filter(|v| !v.is_empty()).unwrap_or("/etc/prometheus/sd").into();
        let interval = match config.var("PROM_REFRESH_INTERVAL").filter(|v| !v.is_empty()) {
            None => Duration::from_secs(30),
            Some(v) => humantime::parse_duration(v).ok().filter(|d| !d.is_zero()).ok_or_else(|| {
                format!("invalid value {v:?} for PROM_REFRESH_INTERVAL: expected a duration such as 15s")
            })?,
        };
        Ok(Self { out_dir, interval })
    }
}

/// Writes the file now and then every interval, forever. A failure is logged (with the path)
/// and retried at the next refresh; HTTP keeps serving meanwhile.
pub async fn refresh_forever(settings: Settings) {
    let mut file = FileSd::new(&settings.out_dir);
    let mut last_error = None;
    let mut tick = tokio::time::interval(settings.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let groups = current_groups();
        let result = std::fs::create_dir_all(&settings.out_dir)
            .map_err(|e| format!("cannot create {} (PROM_SD_OUT): {e}", settings.out_dir.display()))
            .and_then(|()| file.write(&groups).map_err(|e| e.to_string()));
        match result {
            Ok(true) => {
                doudou::tracing::info!(targets = groups.len(), path = %file.path().display(), "wrote the targets");
                last_error = None;
            }
            Ok(false) => {
                doudou::tracing::debug!(targets = groups.len(), "targets unchanged; file left as it is");
                last_error = None;
            }
            Err(e) => {
                if last_error.as_ref() != Some(&e) {
                    doudou::tracing::error!("{e}; still serving, retrying every PROM_REFRESH_INTERVAL");
                }
                last_error = Some(e);
            }
        }
    }
}
