//! The `monitoring` command line: one module per subcommand, each with its
//! clap arguments and a `run` that answers the process exit code.

mod alerts;
mod console;
mod cost;
mod ingest;
mod local;
mod report;
#[cfg(feature = "scan")]
mod scan;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "monitoring",
    version,
    about = "Multi-account AWS error monitoring, running locally with no AWS"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the master and one agent in one process: SQLite store, log files
    /// as the log source, an in-process bus, the REST API on loopback.
    Local(local::Args),
    /// Feed EventBridge envelope files (one JSON object or an array each)
    /// through HandleMonitoringEvents. Each file is its own transaction.
    Ingest(ingest::Args),
    /// Render the daily report of one UTC day to DATA_DIR/outbox/report-YYYY-MM-DD.eml and print its path.
    Report(report::Args),
    /// Alert channels: `alerts test --alerts FILE` sends a test message to each.
    #[command(subcommand)]
    Alerts(alerts::Command),
    /// Print an itemised monthly AWS cost estimate of the system from the
    /// price table in prices/ (its date and region are printed with it).
    Cost(cost::Args),
    /// Serve the console for a deployed master: API calls are forwarded to
    /// its invoke URL, signed with SigV4 from your AWS credentials.
    Console(console::Args),
    /// Dry run of the agent against a real AWS account (read-only
    /// credentials): discovery, Logs Insights queries and classification,
    /// printing the grouped errors it would report. Writes nothing to AWS.
    #[cfg(feature = "scan")]
    Scan(scan::Args),
}

/// Parses the command line, sets up logging to stderr and runs the subcommand.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs();
    match cli.command {
        Command::Local(args) => local::run(args).await,
        Command::Ingest(args) => ingest::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Alerts(command) => alerts::run(command).await,
        Command::Cost(args) => cost::run(args).await,
        Command::Console(args) => console::run(args).await,
        #[cfg(feature = "scan")]
        Command::Scan(args) => scan::run(args).await,
    }
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

/// Prints `error: …` and answers failure.
fn failed(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}
