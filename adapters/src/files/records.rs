//! Joining lines into records as a log shipper does.

use chrono::{DateTime, Utc};
use domain::logtext::leading_timestamp;
use domain::ports::LogRecord;

pub(super) fn without_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether the file's records start with a timestamp, from its first
/// non-empty line; `None` until that line is complete.
pub(super) fn decide_timestamped(bytes: &[u8], tail_complete: bool) -> Option<bool> {
    for raw in bytes.split_inclusive(|b| *b == b'\n') {
        let line = String::from_utf8_lossy(without_line_end(raw));
        if line.trim().is_empty() {
            continue;
        }
        if !raw.ends_with(b"\n") && !tail_complete {
            return None;
        }
        return Some(leading_timestamp(&line).is_some());
    }
    None
}

/// Lambda's own lines carry no timestamp but are records of their own.
fn is_lambda_platform_line(line: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "START RequestId:",
        "END RequestId:",
        "REPORT RequestId:",
        "INIT_START ",
        "INIT_REPORT ",
    ];
    PREFIXES.iter().any(|p| line.starts_with(p))
}

fn starts_record(line: &str, timestamped: bool) -> bool {
    if line.starts_with([' ', '\t']) || line.starts_with("Caused by:") {
        return false;
    }
    !timestamped || is_lambda_platform_line(line) || leading_timestamp(line).is_some()
}

/// The records of a complete file's bytes, exactly as a fetch that reads the
/// whole file returns them (the splitter on its own, for fuzzing).
pub fn split_file_records(
    bytes: &[u8],
    log_group: &str,
    scanned_at: DateTime<Utc>,
) -> Vec<LogRecord> {
    let timestamped = decide_timestamped(bytes, true).unwrap_or(false);
    split_records(bytes, timestamped)
        .iter()
        .filter_map(|r| r.to_log_record(log_group, scanned_at))
        .collect()
}

/// One record's lines as read, with where it starts in the read bytes.
#[derive(Debug)]
pub(super) struct RawRecord {
    pub(super) offset: usize,
    text: String,
}

pub(super) fn split_records(bytes: &[u8], timestamped: bool) -> Vec<RawRecord> {
    let mut records: Vec<RawRecord> = Vec::new();
    let mut offset = 0;
    for raw in bytes.split_inclusive(|b| *b == b'\n') {
        let line = String::from_utf8_lossy(without_line_end(raw));
        match records.last_mut() {
            Some(record) if !starts_record(&line, timestamped) => {
                record.text.push('\n');
                record.text.push_str(&line);
            }
            _ => records.push(RawRecord {
                offset,
                text: line.into_owned(),
            }),
        }
        offset += raw.len();
    }
    records
}

impl RawRecord {
    /// The record without blank lines around it; `None` when nothing is left.
    pub(super) fn to_log_record(
        &self,
        log_group: &str,
        scanned_at: DateTime<Utc>,
    ) -> Option<LogRecord> {
        let text = self.text.trim_end();
        let mut from = 0;
        for line in text.split_inclusive('\n') {
            if !line.trim().is_empty() {
                break;
            }
            from += line.len();
        }
        let message = &text[from..];
        if message.is_empty() {
            return None;
        }
        let time = leading_timestamp(message)
            .map(|(t, _)| t)
            .or_else(|| json_time(message))
            .unwrap_or(scanned_at);
        Some(LogRecord {
            log_group: log_group.to_owned(),
            time,
            message: message.to_owned(),
        })
    }
}

/// The time field of a JSON record (`{"time": "2026-11-25T10:00:00Z", ...}`).
fn json_time(message: &str) -> Option<DateTime<Utc>> {
    if !message.starts_with('{') {
        return None;
    }
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(message).ok()?;
    ["time", "timestamp", "ts", "@timestamp"]
        .iter()
        .find_map(|k| fields.get(*k)?.as_str())
        .and_then(leading_timestamp)
        .map(|(t, _)| t)
}
