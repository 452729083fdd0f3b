//! The daily report: written to the outbox at each UTC midnight while
//! `monitoring local` runs, or on demand by `monitoring report`.

use super::{BoxError, DataDir};
use adapters::outbox::OutboxMailer;
use adapters::sqlite::SqliteStore;
use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, Utc};
use domain::usecases::report::{send_linked_daily_report, ConsoleUrl};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

fn next_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    (now.date_naive() + ChronoDuration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

/// Writes the report of `day` to the outbox, its events linked to `console`
/// when given, and answers its path.
pub async fn write_report(
    data_dir: &Path,
    day: NaiveDate,
    console: Option<&ConsoleUrl>,
) -> Result<String, BoxError> {
    let dir = DataDir(data_dir.to_owned());
    let store = dir.open_store()?;
    let mailer = OutboxMailer::new(dir.outbox());
    let store = store.as_ref();
    Ok(send_linked_daily_report(store, store, &mailer, day, Utc::now(), console).await?)
}

/// Writes yesterday's report just after each UTC midnight, its events
/// linked to `console`, until `stop`.
pub(super) fn spawn_midnight_reports(
    store: Arc<SqliteStore>,
    outbox: OutboxMailer,
    console: Option<ConsoleUrl>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let now = Utc::now();
            let wait =
                (next_midnight(now) - now).to_std().unwrap_or_default() + Duration::from_secs(5);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {
                    let day = Utc::now().date_naive() - ChronoDuration::days(1);
                    let s = store.as_ref();
                    match send_linked_daily_report(s, s, &outbox, day, Utc::now(), console.as_ref()).await {
                        Ok(path) => tracing::info!(%day, %path, "daily report written"),
                        Err(e) => tracing::warn!(%day, "daily report failed: {e}"),
                    }
                }
                _ = stop.changed() => break,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_midnight_is_the_following_utc_day() {
        let t: DateTime<Utc> = "2026-11-25T23:59:59Z".parse().unwrap();
        assert_eq!(
            next_midnight(t),
            "2026-11-26T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
