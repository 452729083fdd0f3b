//! `monitoring report`.

use crate::local::write_report;
use chrono::{Duration as ChronoDuration, NaiveDate, Utc};
use domain::usecases::report::ConsoleUrl;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, env = "MONITORING_DATA_DIR", default_value = "monitoring-data")]
    data_dir: PathBuf,
    /// The UTC day (default: yesterday).
    #[arg(long)]
    date: Option<NaiveDate>,
    /// Base URL of the console (e.g. http://127.0.0.1:8080/console): each
    /// event links to <URL>/events/{id}. None: no links.
    #[arg(long, value_name = "URL")]
    console_url: Option<ConsoleUrl>,
}

pub async fn run(args: Args) -> ExitCode {
    let day = args
        .date
        .unwrap_or_else(|| Utc::now().date_naive() - ChronoDuration::days(1));
    match write_report(&args.data_dir, day, args.console_url.as_ref()).await {
        Ok(path) => {
            println!("{path}");
            ExitCode::SUCCESS
        }
        Err(e) => super::failed(e),
    }
}
