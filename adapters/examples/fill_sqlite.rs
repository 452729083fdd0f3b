//! Fills a local-mode SQLite store with one UTC day of log-error
//! occurrences, for ops/bench (the daily report and the API under load).
//!
//! `cargo run --release -p adapters --example fill_sqlite -- DB OCCURRENCES DISTINCT_EVENTS [DAY]`
//!
//! Occurrence `i` belongs to problem `i % DISTINCT_EVENTS` and happens at an
//! even spread over DAY (default 2026-11-25). Each goes through the same
//! parse + `occurrence_of` + `record_batch` path as `monitoring ingest`.

use adapters::sqlite::SqliteStore;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::envelope::Envelope;
use domain::usecases::ingest::occurrence_of;
use serde_json::json;
use std::time::Instant;

// Large batches: one fsync per batch is what bounds filling.
const BATCH: usize = 20_000;

fn envelope(i: u64, distinct: u64, at: DateTime<Utc>) -> Envelope {
    let problem = i % distinct;
    let severity = ["critical", "high", "medium", "low"][(problem % 4) as usize];
    let t = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    serde_json::from_value(json!({
        "version": "0", "id": format!("fill-{i}"), "detail-type": "Log Errors Detected",
        "source": "monitoring.agent.logs", "account": "111122223333", "time": t,
        "region": "eu-west-1", "resources": [],
        "detail": {
            "agent_id": "111122223333-eu-west-1", "occurrence_key": format!("fill-{i}"),
            "log_group": format!("/aws/lambda/fn-{}", problem % 50),
            "fingerprint": format!("{problem:016x}"),
            "severity": severity,
            "title": format!("KeyError: 'field_{problem}'"),
            "sample": format!("Traceback (most recent call last):\n  File \"/var/task/app.py\", line 12\nKeyError: 'field_{problem}'"),
            "count": 1, "first_seen": t, "last_seen": t, "window_start": t, "window_end": t
        }
    }))
    .expect("a valid envelope")
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db, occurrences, distinct, rest @ ..] = args.as_slice() else {
        return Err("usage: fill_sqlite DB OCCURRENCES DISTINCT_EVENTS [DAY]".into());
    };
    let (n, distinct): (u64, u64) = (occurrences.parse()?, distinct.parse()?);
    if distinct == 0 || distinct > n {
        return Err("DISTINCT_EVENTS must be between 1 and OCCURRENCES".into());
    }
    let day: NaiveDate = rest.first().map_or("2026-11-25", String::as_str).parse()?;
    let start = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let store = SqliteStore::open(std::path::Path::new(db))?;
    let began = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..n {
        let at = start + Duration::milliseconds((i as i64) * 86_400_000 / n as i64);
        batch.push(occurrence_of(&envelope(i, distinct, at))?);
        if batch.len() == BATCH || i + 1 == n {
            store.record_batch(&batch, at).await?;
            batch.clear();
        }
    }
    eprintln!(
        "fill_sqlite: {n} occurrences of {distinct} events on {day} in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    Ok(())
}
