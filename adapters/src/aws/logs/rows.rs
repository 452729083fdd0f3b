//! Result rows of a query as log records.

use super::UNKNOWN_LOG_GROUP;
use aws_sdk_cloudwatchlogs::types::ResultField;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use domain::ports::LogRecord;
use domain::window::Window;

/// Parses `@timestamp`: `2026-11-25 10:00:00.123` (AWS, UTC), epoch
/// milliseconds (moto) or RFC 3339.
pub(super) fn parse_timestamp(value: &str) -> Result<DateTime<Utc>, String> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v
            .parse::<i64>()
            .ok()
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .ok_or_else(|| format!("@timestamp {v:?} is out of range"));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f") {
        return Ok(t.and_utc());
    }
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("@timestamp {v:?} is not a time"))
}

/// One result row as a record. `query_groups` are the groups of its query.
pub(super) fn parse_row<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    query_groups: &[String],
) -> Result<LogRecord, String> {
    let (mut timestamp, mut message, mut log) = (None, None, None);
    for (field, value) in fields {
        match field {
            "@timestamp" => timestamp = Some(value),
            "@message" => message = Some(value),
            "@log" => log = Some(value),
            _ => {}
        }
    }
    let time = parse_timestamp(timestamp.ok_or("the row has no @timestamp")?)?;
    let message = message.ok_or("the row has no @message")?;
    // Group names cannot hold ':', so the name is what follows the last one.
    let group = log
        .map(|l| l.rsplit_once(':').map_or(l, |(_, g)| g))
        .filter(|g| !g.is_empty());
    let log_group = match (group, query_groups) {
        (Some(g), _) => g.to_owned(),
        (None, [only]) => only.clone(),
        (None, _) => UNKNOWN_LOG_GROUP.to_owned(),
    };
    Ok(LogRecord {
        log_group,
        time,
        message: message.trim_end_matches(['\n', '\r']).to_owned(),
    })
}

/// The records of the window among a query's rows; rows that do not parse
/// are skipped with a warning.
pub(super) fn rows_to_records(
    rows: &[Vec<ResultField>],
    groups: &[String],
    window: &Window,
) -> Vec<LogRecord> {
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        let fields = row
            .iter()
            .filter_map(|f| Some((f.field()?, f.value().unwrap_or_default())));
        match parse_row(fields, groups) {
            Ok(r) if window.start <= r.time && r.time < window.end => records.push(r),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(groups = %describe_groups(groups), "Logs Insights row skipped: {e}")
            }
        }
    }
    records
}

pub(super) fn describe_groups(groups: &[String]) -> String {
    match groups {
        [one] => one.clone(),
        [first, .., last] => format!("{} groups ({first} .. {last})", groups.len()),
        [] => "no group".into(),
    }
}
