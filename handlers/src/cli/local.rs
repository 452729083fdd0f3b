//! `monitoring local`.

use crate::local::{load_alerts, run_local, LocalOptions};
use domain::model::{AccountId, Region};
use domain::usecases::report::ConsoleUrl;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Address of the REST API.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Folder of the SQLite store, read offsets and the report outbox.
    #[arg(long, env = "MONITORING_DATA_DIR", default_value = "monitoring-data")]
    data_dir: PathBuf,
    /// Folder of log files: each file is a log group, named by its path relative to this folder.
    #[arg(long, default_value = "logs")]
    logs: PathBuf,
    /// How often the agent reads the logs (e.g. 2s, 60s, 5m), until a pushed config sets schedule_minutes.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    interval: Duration,
    /// Tail the log files: publish each complete record within a second
    /// (a record is complete once its file stops growing for a moment).
    /// `--interval` then only paces the heartbeat.
    #[arg(long)]
    follow: bool,
    /// Account id of the local agent.
    #[arg(long, default_value = "000000000000")]
    account: AccountId,
    /// Region of the local agent.
    #[arg(long, default_value = "local")]
    region: Region,
    /// Alert channels (JSON: console_url, channels, storm); refused at start if invalid.
    #[arg(long, value_name = "FILE")]
    alerts: Option<PathBuf>,
    /// File holding the token that a non-loopback --listen requires (else
    /// MONITORING_TOKEN, else one is generated and printed once).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Base URL of the console the midnight report links its events to
    /// (<URL>/events/{id}); default this server's own http://<listen>/console.
    #[arg(long, value_name = "URL")]
    console_url: Option<ConsoleUrl>,
}

/// The console the report links to: the one given, else this server's own.
fn console_url_of(listen: SocketAddr, given: Option<ConsoleUrl>) -> ConsoleUrl {
    given.unwrap_or_else(|| {
        format!("http://{listen}/console")
            .parse()
            .expect("a socket address makes an http URL")
    })
}

pub async fn run(args: Args) -> ExitCode {
    if args.interval.is_zero() {
        eprintln!("error: --interval must be more than 0");
        return ExitCode::from(2);
    }
    let alerts = match &args.alerts {
        Some(path) => match load_alerts(path) {
            Ok(config) => config,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => Default::default(),
    };
    let token = match &args.token_file {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) => Some(t.trim().to_owned()),
            Err(e) => return super::failed(format!("--token-file {}: {e}", path.display())),
        },
        None => std::env::var("MONITORING_TOKEN")
            .ok()
            .filter(|t| !t.is_empty()),
    };
    let opts = LocalOptions {
        listen: args.listen,
        data_dir: args.data_dir,
        logs: args.logs,
        interval: args.interval,
        follow: args.follow,
        account: args.account,
        region: args.region,
        alerts,
        token,
        console_url: Some(console_url_of(args.listen, args.console_url)),
    };
    match run_local(opts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_links_to_this_servers_console_unless_told_otherwise() {
        let listen: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(
            console_url_of(listen, None).as_str(),
            "http://127.0.0.1:8080/console"
        );
        let v6: SocketAddr = "[::1]:9000".parse().unwrap();
        assert_eq!(
            console_url_of(v6, None).as_str(),
            "http://[::1]:9000/console"
        );
        let given: ConsoleUrl = "https://ops.example.com/console/".parse().unwrap();
        assert_eq!(
            console_url_of(listen, Some(given)).as_str(),
            "https://ops.example.com/console"
        );
    }
}
