//! `monitoring scan`: a dry run of the agent against a real account. It
//! lists and queries log groups with the caller's read-only credentials
//! (DescribeLogGroups, StartQuery, GetQueryResults, StopQuery) and prints
//! what the agent would report; it deploys nothing and writes nothing to AWS.
//!
//! Credentials, region and endpoint come from the usual AWS sources
//! (environment, `~/.aws/config` and `credentials`, `--profile`,
//! `--region`); `AWS_ENDPOINT_URL` points it at another endpoint (moto in
//! the tests).

use adapters::aws::logs::InsightsLogSource;
use chrono::{DateTime, Utc};
use domain::model::{validate_log_group_name, AgentConfig};
use domain::usecases::scan::{scan, ScanPhase, ScanReport};
use domain::window::Window;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// How far back to look (e.g. 30m, 24h, 7d).
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    since: Duration,
    /// AWS profile of the credentials (read-only is enough).
    #[arg(long)]
    profile: Option<String>,
    /// AWS region to scan (else the profile's or AWS_REGION).
    #[arg(long)]
    region: Option<String>,
    /// Scan the log groups whose names start with this (repeatable; "" is
    /// every group). Default: the agent's default, /aws/lambda/.
    #[arg(long = "log-group-prefix", value_name = "PREFIX")]
    log_group_prefixes: Vec<String>,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Logs Insights queries in flight at once (the account's quota is shared).
    #[arg(long, default_value_t = 4)]
    max_concurrent_queries: usize,
}

pub async fn run(args: Args) -> ExitCode {
    let since = match chrono::Duration::from_std(args.since) {
        Ok(d) if !d.is_zero() => d,
        _ => {
            eprintln!("error: --since must be more than 0 and at most a few years");
            return ExitCode::from(2);
        }
    };
    let mut config = AgentConfig::default();
    if !args.log_group_prefixes.is_empty() {
        for p in args.log_group_prefixes.iter().filter(|p| !p.is_empty()) {
            if let Err(e) = validate_log_group_name("--log-group-prefix", p) {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
        config.log_group_prefixes = args.log_group_prefixes.clone();
    }
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &args.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &args.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    let sdk = loader.load().await;
    let Some(region) = sdk.region().map(|r| r.to_string()) else {
        eprintln!("error: no AWS region: pass --region, or set AWS_REGION or the profile's region");
        return ExitCode::from(2);
    };
    let source = InsightsLogSource::new(aws_sdk_cloudwatchlogs::Client::new(&sdk))
        .with_max_concurrent_queries(args.max_concurrent_queries);
    let end = Utc::now();
    let window = Window {
        start: end - since,
        end,
    };

    let progress = Progress::start(std::io::stderr().is_terminal(), args.since);
    let result = scan(&source, &config, &window, &|p| progress.set(p)).await;
    progress.finish();
    let report = match result {
        Ok(r) => r,
        Err(e) => return super::failed(format!("scan of {region} failed: {e}")),
    };
    let out = if args.json {
        serde_json::to_string_pretty(&report).expect("serializable") + "\n"
    } else {
        table(&report, &region)
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::failed(e),
    }
}

/// The progress line on a terminal: the phase and the time so far,
/// redrawn twice a second and erased when the scan ends.
struct Progress {
    phase: Arc<Mutex<Option<ScanPhase>>>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    fn start(on_terminal: bool, since: Duration) -> Self {
        let phase = Arc::new(Mutex::new(None));
        let ticker = on_terminal.then(|| {
            let phase = phase.clone();
            let since = humantime::format_duration(since).to_string();
            tokio::spawn(async move {
                let started = Instant::now();
                loop {
                    let what = match *phase.lock().unwrap_or_else(|e| e.into_inner()) {
                        None | Some(ScanPhase::Discovering) => "discovering log groups".to_owned(),
                        Some(ScanPhase::Querying { log_groups }) => {
                            format!("querying {log_groups} log groups over the last {since}")
                        }
                    };
                    eprint!("\r\x1b[Kscan: {what}… {}s", started.elapsed().as_secs());
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            })
        });
        Self { phase, ticker }
    }

    fn set(&self, p: ScanPhase) {
        *self.phase.lock().unwrap_or_else(|e| e.into_inner()) = Some(p);
    }

    fn finish(self) {
        if let Some(t) = self.ticker {
            t.abort();
            eprint!("\r\x1b[K");
        }
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// At most `max` characters of log text, with control characters (a
/// terminal's escape sequences among them) shown as `�`: log text is
/// anyone's, the terminal is the user's.
fn printable(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Titles longer than this are cut in the table (the JSON has them whole).
const TITLE_WIDTH: usize = 100;

/// The report as an aligned table, with a summary line.
fn table(r: &ScanReport, region: &str) -> String {
    let header = [
        "SEVERITY",
        "COUNT",
        "LOG GROUP",
        "FIRST SEEN (UTC)",
        "LAST SEEN (UTC)",
        "TITLE",
    ];
    let rows: Vec<[String; 6]> = r
        .errors
        .iter()
        .map(|e| {
            let mut title = printable(&e.title, TITLE_WIDTH);
            if e.title.chars().count() > TITLE_WIDTH {
                title.push('…');
            }
            [
                e.severity.to_string(),
                e.count.to_string(),
                printable(&e.log_group, usize::MAX),
                time(e.first_seen),
                time(e.last_seen),
                title,
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == 5 {
                s.push_str(cell);
            } else if i == 1 {
                s.push_str(&format!("{cell:>w$}  "));
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = String::new();
    if !rows.is_empty() {
        out.push_str(&line(header));
        for row in &rows {
            out.push_str(&line(row.each_ref().map(String::as_str)));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "{} grouped errors ({} error records of {} returned) in {} log groups of {region}, {} to {} UTC; nothing was written to AWS.\n",
        r.errors.len(),
        r.matched,
        r.records,
        r.log_groups.len(),
        time(r.window_start),
        time(r.window_end),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_cannot_drive_the_terminal() {
        assert_eq!(
            printable("red \x1b[31mtext\x07", 100),
            "red \u{fffd}[31mtext\u{fffd}"
        );
        assert_eq!(printable("abcdef", 3), "abc");
    }
}
