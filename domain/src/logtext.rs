//! Shared reading of a log record's text: leading timestamp, structured
//! (JSON) records, level tokens and a human title.

use chrono::{DateTime, NaiveDateTime, Utc};
use regex::Regex;
use std::sync::LazyLock;

static LEADING_TS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\[?(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?)(Z|[+-]\d{2}:?\d{2})?\]?",
    )
    .expect("static regex")
});

/// The timestamp a record starts with, if any, and the text after it.
pub fn leading_timestamp(line: &str) -> Option<(DateTime<Utc>, &str)> {
    // Cheap rejection before the regex: a timestamp starts with 4 digits.
    let b = line.as_bytes();
    let start = usize::from(b.first() == Some(&b'['));
    if b.len() < start + 19 || !b[start..start + 4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let c = LEADING_TS.captures(line)?;
    let whole = c.get(0)?;
    let naive = format!("{}T{}", &c[1], c[2].replace(',', "."));
    let naive = NaiveDateTime::parse_from_str(&naive, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    let utc = match c.get(3).map(|m| m.as_str()) {
        None | Some("Z") => naive.and_utc(),
        Some(off) => {
            let digits: String = off.chars().filter(char::is_ascii_digit).collect();
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            let secs = (h * 3600 + m * 60) * if off.starts_with('-') { -1 } else { 1 };
            naive.and_utc() - chrono::Duration::seconds(secs)
        }
    };
    Some((utc, &line[whole.end()..]))
}

/// The level and message of a JSON record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structured {
    pub level: Option<String>,
    pub message: Option<String>,
}

const LEVEL_KEYS: &[&str] = &[
    "level",
    "severity",
    "lvl",
    "levelname",
    "log.level",
    "@level",
];
const MESSAGE_KEYS: &[&str] = &["msg", "message", "error", "err", "errorMessage"];

/// A JSON object, alone or after a leading timestamp, read as a structured record.
pub fn structured(record: &str) -> Option<Structured> {
    let body = leading_timestamp(record)
        .map_or(record, |(_, rest)| rest)
        .trim();
    if !(body.starts_with('{') && body.ends_with('}')) {
        return None;
    }
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body).ok()?;
    let text = |keys: &[&str]| {
        keys.iter().find_map(|k| match v.get(*k) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        })
    };
    Some(Structured {
        level: text(LEVEL_KEYS).map(|l| l.to_ascii_lowercase()),
        message: text(MESSAGE_KEYS),
    })
}

/// Level named by a plain-text record in its first few tokens, lowercased.
pub fn level_token(record: &str) -> Option<&'static str> {
    let rest = leading_timestamp(record).map_or(record, |(_, rest)| rest);
    for token in rest
        .split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | ':' | '|' | '(' | ')'))
        .filter(|t| !t.is_empty())
        .take(4)
    {
        let level = match token {
            "TRACE" | "trace" => "trace",
            "DEBUG" | "debug" => "debug",
            "INFO" | "info" | "NOTICE" => "info",
            "WARN" | "WARNING" | "warn" | "warning" => "warn",
            "ERROR" | "error" | "ERR" => "error",
            "FATAL" | "fatal" => "fatal",
            "CRITICAL" | "critical" | "CRIT" => "critical",
            // Lambda platform lines are bookkeeping, never errors.
            "START" | "END" | "REPORT" | "INIT_START" => "info",
            _ => continue,
        };
        return Some(level);
    }
    None
}

fn is_request_id(t: &str) -> bool {
    t.len() == 36 && t.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// A short human summary: the exception line of a traceback, the message of a
/// JSON record, else the first line without timestamp, request id and level.
pub fn title(record: &str) -> String {
    const MAX: usize = 160;
    if let Some(s) = structured(record) {
        if let Some(m) = s.message {
            return truncate(m.lines().next().unwrap_or(""), MAX);
        }
    }
    let first = record.lines().next().unwrap_or("");
    let rest = leading_timestamp(first).map_or(first, |(_, r)| r);
    let mut parts: Vec<&str> = rest.split('\t').collect();
    while parts.first().is_some_and(|p| {
        p.trim().is_empty()
            || is_request_id(p.trim())
            || level_token(p).is_some() && p.trim().len() <= 9
    }) {
        parts.remove(0);
    }
    let joined = parts.join(" ");
    // Request ids and levels also lead space-separated lines (Lambda timeouts).
    let mut head = joined.trim();
    for _ in 0..3 {
        let (first, rest) = head.split_once(char::is_whitespace).unwrap_or((head, ""));
        let level = level_token(first).is_some()
            && first
                .trim_matches(|c| c == '[' || c == ']' || c == ':')
                .len()
                <= 8;
        if rest.is_empty() || !(is_request_id(first) || level) {
            break;
        }
        head = rest.trim_start();
    }
    // Lambda's Node runtime logs `Invoke Error {"errorType": ..., "errorMessage": ...}`.
    if let Some(t) = head.find('{').and_then(|i| lambda_error_title(&head[i..])) {
        return truncate(&t, MAX);
    }
    let traceback = head.starts_with("Traceback") || record.contains("\nTraceback");
    if traceback {
        if let Some(last) = record.lines().rev().find(|l| !l.trim().is_empty()) {
            return truncate(last.trim(), MAX);
        }
    }
    truncate(head, MAX)
}

/// `errorType: errorMessage` of a Lambda runtime error object.
fn lambda_error_title(json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json.trim()).ok()?;
    let kind = v.get("errorType")?.as_str()?;
    let message = v.get("errorMessage").and_then(|m| m.as_str()).unwrap_or("");
    Some(format!("{kind}: {}", message.lines().next().unwrap_or("")))
}

/// Cuts at a character boundary, marking the cut with an ellipsis.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_leading_timestamps_in_common_forms() {
        let (t, rest) = leading_timestamp("2026-11-25T10:00:00.123Z\tabc").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-25T10:00:00.123+00:00");
        assert_eq!(rest, "\tabc");
        let (t, _) = leading_timestamp("2026-11-25 12:00:00,5+02:00 x").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-25T10:00:00.500+00:00");
        let (t, _) = leading_timestamp("[2026-11-25 10:00:00] x").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-25T10:00:00+00:00");
        assert!(leading_timestamp("  at com.x.Y(Y.java:1)").is_none());
        assert!(leading_timestamp("Traceback (most recent call last):").is_none());
    }

    #[test]
    fn reads_structured_records_alone_or_after_a_timestamp() {
        let s = structured(r#"{"level":"ERROR","msg":"db down","id":3}"#).unwrap();
        assert_eq!(s.level.as_deref(), Some("error"));
        assert_eq!(s.message.as_deref(), Some("db down"));
        let s = structured(r#"2026-11-25T10:00:00Z {"severity":"warn","message":"slow"}"#).unwrap();
        assert_eq!(s.level.as_deref(), Some("warn"));
        assert!(structured("{not json}").is_none());
        assert!(structured("plain ERROR line").is_none());
    }

    #[test]
    fn titles_skip_prefixes_and_use_the_exception_line() {
        let lambda = "2026-11-25T10:00:00.000Z\t3f1c2b9a-1d2e-4f5a-9b8c-7d6e5f4a3b2c\tERROR\tInvoke Error\tboom";
        assert_eq!(title(lambda), "Invoke Error boom");
        let tb = "2026-11-25 10:00:00,000 ERROR handler failed\nTraceback (most recent call last):\n  File \"a.py\", line 3, in f\nKeyError: 'user_id'";
        assert_eq!(title(tb), "KeyError: 'user_id'");
        assert_eq!(
            title(r#"{"level":"error","msg":"payment declined"}"#),
            "payment declined"
        );
        assert_eq!(title(&"x".repeat(400)).chars().count(), 161);
        let timeout = "2026-11-25T10:00:00.000Z 3f1c2b9a-1d2e-4f5a-9b8c-7d6e5f4a3b2c Task timed out after 6.01 seconds";
        assert_eq!(title(timeout), "Task timed out after 6.01 seconds");
        assert_eq!(
            title("2026-11-25 10:00:00 ERROR [orders] failed"),
            "[orders] failed"
        );
    }

    #[test]
    fn level_tokens_are_found_after_timestamps_and_brackets() {
        assert_eq!(
            level_token("[INFO]\t2026-11-25T10:00:00Z\tid\thello"),
            Some("info")
        );
        assert_eq!(
            level_token("2026-11-25 10:00:00 ERROR x failed"),
            Some("error")
        );
        assert_eq!(
            level_token("START RequestId: 1 Version: $LATEST"),
            Some("info")
        );
        assert_eq!(level_token("Task timed out after 3.00 seconds"), None);
    }
}
