//! `monitoring ingest`.

use crate::local::ingest_files;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, env = "MONITORING_DATA_DIR", default_value = "monitoring-data")]
    data_dir: PathBuf,
    /// Files of envelopes.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// One line per file; fails if any file was refused.
pub async fn run(args: Args) -> ExitCode {
    let outcomes = match ingest_files(&args.data_dir, &args.files).await {
        Ok(outcomes) => outcomes,
        Err(e) => return super::failed(e),
    };
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
