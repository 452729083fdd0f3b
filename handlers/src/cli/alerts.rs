//! `monitoring alerts test`.

use crate::local::{load_alerts, send_test_alerts, DataDir};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Send one test message to every channel of an alerts file and print each channel's result.
    Test {
        /// The alerts file, as `monitoring local --alerts` takes it.
        #[arg(long, value_name = "FILE")]
        alerts: PathBuf,
        /// Where e-mail channels write their `.eml` (its outbox folder).
        #[arg(long, env = "MONITORING_DATA_DIR", default_value = "monitoring-data")]
        data_dir: PathBuf,
    },
}

pub async fn run(command: Command) -> ExitCode {
    let Command::Test { alerts, data_dir } = command;
    let config = match load_alerts(&alerts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if config.channels.is_empty() {
        eprintln!("error: --alerts {}: no channels", alerts.display());
        return ExitCode::from(2);
    }
    let results = match send_test_alerts(&config, DataDir(data_dir).outbox()).await {
        Ok(r) => r,
        Err(e) => return super::failed(e),
    };
    let mut failed = false;
    for r in results {
        match r.result {
            Ok(()) => println!("{} ({}): ok", r.channel, r.kind),
            Err(e) => {
                failed = true;
                println!("{} ({}): failed: {e}", r.channel, r.kind);
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
