//! `monitoring`: the whole system on one machine, with no AWS.

use chrono::{Duration as ChronoDuration, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use domain::model::{AccountId, Region};
use handlers::local::{ingest_files, run_local, write_report, LocalOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "monitoring",
    version,
    about = "Multi-account AWS error monitoring, running locally with no AWS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the master and one agent in one process: SQLite store, log files
    /// as the log source, an in-process bus, the REST API on loopback.
    Local {
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
        /// Account id of the local agent.
        #[arg(long, default_value = "000000000000")]
        account: AccountId,
        /// Region of the local agent.
        #[arg(long, default_value = "local")]
        region: Region,
    },
    /// Feed EventBridge envelope files (one JSON object or an array each)
    /// through HandleMonitoringEvents. Each file is its own transaction.
    Ingest {
        #[arg(long, env = "MONITORING_DATA_DIR", default_value = "monitoring-data")]
        data_dir: PathBuf,
        /// Files of envelopes.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Render the daily report of one UTC day to DATA_DIR/outbox/report-YYYY-MM-DD.eml and print its path.
    Report {
        #[arg(long, env = "MONITORING_DATA_DIR", default_value = "monitoring-data")]
        data_dir: PathBuf,
        /// The UTC day (default: yesterday).
        #[arg(long)]
        date: Option<NaiveDate>,
    },
}

fn init_logs() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs();
    match cli.command {
        Command::Local {
            listen,
            data_dir,
            logs,
            interval,
            account,
            region,
        } => {
            if interval.is_zero() {
                eprintln!("error: --interval must be more than 0");
                return ExitCode::from(2);
            }
            let opts = LocalOptions {
                listen,
                data_dir,
                logs,
                interval,
                account,
                region,
            };
            match run_local(opts).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Ingest { data_dir, files } => match ingest_files(&data_dir, &files).await {
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
            Ok(outcomes) => {
                let mut failed = false;
                for o in outcomes {
                    match o.result {
                        Ok(c) => println!(
                            "{}: {} stored, {} already seen, {} agent messages",
                            o.file.display(),
                            c.stored,
                            c.duplicates,
                            c.agent_messages
                        ),
                        Err(reason) => {
                            failed = true;
                            eprintln!(
                                "error: {}: {reason} (nothing from this file was stored)",
                                o.file.display()
                            );
                        }
                    }
                }
                if failed {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                }
            }
        },
        Command::Report { data_dir, date } => {
            let day = date.unwrap_or_else(|| Utc::now().date_naive() - ChronoDuration::days(1));
            match write_report(&data_dir, day).await {
                Ok(path) => {
                    println!("{path}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
