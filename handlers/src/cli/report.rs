//! `monitoring report`.

use crate::local::write_report;
use chrono::{Duration as ChronoDuration, NaiveDate, Utc};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, env = "MONITORING_DATA_DIR", default_value = "monitoring-data")]
    data_dir: PathBuf,
    /// The UTC day (default: yesterday).
    #[arg(long)]
    date: Option<NaiveDate>,
}

pub async fn run(args: Args) -> ExitCode {
    let day = args
        .date
        .unwrap_or_else(|| Utc::now().date_naive() - ChronoDuration::days(1));
    match write_report(&args.data_dir, day).await {
        Ok(path) => {
            println!("{path}");
            ExitCode::SUCCESS
        }
        Err(e) => super::failed(e),
    }
}
