//! `cargo run -p prometheus-sd`: serves the prometheus-sd service and writes
//! `$PROM_SD_OUT/go-doudou.json` every `PROM_REFRESH_INTERVAL`.

use std::process::ExitCode;

use prometheus_sd::{refresh_forever, PrometheusSdServer, Sd, Settings};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match doudou::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let settings = match Settings::from_config(&config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let running =
        match doudou::Server::new().with_config(config).service(PrometheusSdServer::new(Sd)).start().await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
    let refresher = tokio::spawn(refresh_forever(settings));
    running.wait().await;
    refresher.abort();
    ExitCode::SUCCESS
}
