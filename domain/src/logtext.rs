//! Shared reading of a log record's text: leading timestamp, structured
//! (JSON) records, level tokens and a human title.

use crate::logprefix;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// The timestamp a record starts with, if any, and the text after it:
/// `[`? `YYYY-MM-DD` (`T` or space) `hh:mm:ss` (`.` or `,` and 1-9 digits)?
/// (`Z` or `±hh:mm` or `±hhmm`)? `]`?, a valid date and time (a leap second
/// `:60` allowed), ASCII digits only.
///
/// Read by hand rather than by regex and chrono's format parser: it runs up
/// to four times per log line, and was most of the agent's classification
/// time. (The regex version also took Unicode digits in the offset, and a
/// line with them made it panic: see fuzz/regressions/fingerprint/.)
pub fn leading_timestamp(line: &str) -> Option<(DateTime<Utc>, &str)> {
    let b = line.as_bytes();
    let digits = |at: usize, n: usize| -> Option<u32> {
        let d = b.get(at..at + n)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| d.iter().fold(0, |v, c| v * 10 + u32::from(c - b'0')))
    };
    let is = |at: usize, c: &[u8]| b.get(at).is_some_and(|x| c.contains(x));
    let mut i = usize::from(is(0, b"["));
    let year = digits(i, 4)?;
    let month = is(i + 4, b"-").then(|| digits(i + 5, 2))??;
    let day = is(i + 7, b"-").then(|| digits(i + 8, 2))??;
    let hour = is(i + 10, b"T ").then(|| digits(i + 11, 2))??;
    let minute = is(i + 13, b":").then(|| digits(i + 14, 2))??;
    let second = is(i + 16, b":").then(|| digits(i + 17, 2))??;
    i += 19;
    let mut nanos = 0;
    if is(i, b".,") && is(i + 1, b"0123456789") {
        let n = b[i + 1..]
            .iter()
            .take(9)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let frac = digits(i + 1, n)?;
        nanos = frac * 10u32.pow(9 - n as u32);
        i += 1 + n;
    }
    let mut offset_secs = 0i64;
    if is(i, b"Z") {
        i += 1;
    } else if is(i, b"+-") {
        let colon = usize::from(is(i + 3, b":"));
        if let (Some(h), Some(m)) = (digits(i + 1, 2), digits(i + 3 + colon, 2)) {
            let sign = if b[i] == b'-' { -1 } else { 1 };
            offset_secs = sign * (i64::from(h) * 3600 + i64::from(m) * 60);
            i += 5 + colon;
        }
    }
    if is(i, b"]") {
        i += 1;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    // A leap second is the 59th second's second billion nanoseconds, as chrono has it.
    let time = match second {
        60 => NaiveTime::from_hms_nano_opt(hour, minute, 59, 1_000_000_000 + nanos)?,
        s => NaiveTime::from_hms_nano_opt(hour, minute, s, nanos)?,
    };
    let utc = NaiveDateTime::new(date, time).and_utc() - chrono::Duration::seconds(offset_secs);
    Some((utc, &line[i..]))
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

/// A record read once: its leading timestamp, the text after it and, for a
/// JSON record, its level and message. Classification, fingerprinting and
/// the title all take this, so each record's prefix and JSON are read once.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRecord<'a> {
    pub text: &'a str,
    /// The leading timestamp, if the record starts with one.
    pub time: Option<DateTime<Utc>>,
    /// The text after the leading timestamp (all of it without one).
    pub body: &'a str,
    pub structured: Option<Structured>,
}

impl<'a> ParsedRecord<'a> {
    pub fn parse(text: &'a str) -> Self {
        let (time, body) = match leading_timestamp(text) {
            Some((time, rest)) => (Some(time), rest),
            None => (None, text),
        };
        Self {
            text,
            time,
            body,
            structured: structured_body(body),
        }
    }
}

/// A JSON object, alone or after a leading timestamp, read as a structured record.
pub fn structured(record: &str) -> Option<Structured> {
    ParsedRecord::parse(record).structured
}

/// The JSON object a record's body (after its timestamp) is, if it is one.
fn structured_body(body: &str) -> Option<Structured> {
    let body = body.trim();
    if !(body.starts_with('{') && body.ends_with('}')) {
        return None;
    }
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body).ok()?;
    let text = |v: &serde_json::Map<String, serde_json::Value>, keys: &[&str]| {
        keys.iter().find_map(|k| match v.get(*k) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Null) | None => None,
            // The Lambda runtimes' JSON format logs an error object as the message.
            Some(serde_json::Value::Object(e)) if e.contains_key("errorType") => {
                lambda_error_title(e)
            }
            Some(other) => Some(other.to_string()),
        })
    };
    // Rust `tracing`'s JSON format keeps the message under `fields`.
    let message = text(&v, MESSAGE_KEYS).or_else(|| match v.get("fields") {
        Some(serde_json::Value::Object(f)) => text(f, MESSAGE_KEYS),
        _ => None,
    });
    Some(Structured {
        level: text(&v, LEVEL_KEYS).map(|l| l.to_ascii_lowercase()),
        message,
    })
}

/// Level named by a plain-text record in its first few tokens, lowercased.
pub fn level_token(record: &str) -> Option<&'static str> {
    level_of_parsed(&ParsedRecord::parse(record))
}

/// [`level_token`] of a record already read.
pub fn level_of_parsed(r: &ParsedRecord) -> Option<&'static str> {
    let record = r.text;
    if let Some(level) = logprefix::logfmt_level(record) {
        return Some(level);
    }
    // A failed invocation's REPORT is judged by the rules, not as bookkeeping.
    if logprefix::report_status(record).is_some() {
        return None;
    }
    let rest = if r.time.is_some() {
        r.body
    } else {
        logprefix::go_timestamp(record).unwrap_or(record)
    };
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

/// A record's first line; a record may also be `\r`-separated (the Lambda
/// runtimes keep a multi-line message in one event that way).
fn first_line(record: &str) -> &str {
    record.split(['\n', '\r']).next().unwrap_or("")
}

/// A short human summary: the message of a JSON record or of the first line
/// without its prefix (timestamp, request id, level, thread, logger: see
/// `logprefix`), or the exception line of a Python traceback.
pub fn title(record: &str) -> String {
    title_of(&ParsedRecord::parse(record))
}

/// [`title`] of a record already read.
pub fn title_of(r: &ParsedRecord) -> String {
    const MAX: usize = 160;
    let record = r.text;
    if let Some(m) = r.structured.as_ref().and_then(|s| s.message.as_ref()) {
        return truncate(first_line(m), MAX);
    }
    let first = first_line(record);
    if let Some(status) = logprefix::report_status(first) {
        return truncate(&one_spaced(status), MAX);
    }
    let head = platform_error(first).unwrap_or_else(|| logprefix::head(first).message);
    // Lambda's Node runtime logs `Invoke Error {"errorType": ..., "errorMessage": ...}`.
    if let Some(t) = head.find('{').and_then(|i| {
        let v: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(head[i..].trim()).ok()?;
        lambda_error_title(&v)
    }) {
        return truncate(&t, MAX);
    }
    if let Some(exception) = traceback_exception(record) {
        return truncate(exception.trim(), MAX);
    }
    truncate(&one_spaced(head), MAX)
}

/// `RequestId: <id> Error: Runtime exited ...`: the error after the id.
fn platform_error(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("RequestId: ")?;
    let (id, rest) = rest.split_once(' ')?;
    logprefix::is_request_id(id).then_some(())?;
    Some(rest.strip_prefix("Error: ").unwrap_or(rest))
}

/// The exception of a Python traceback: the last unindented line after
/// `Traceback`. The Lambda runtime logs an unhandled exception before its
/// traceback (every line after it indented), so then there is none.
fn traceback_exception(record: &str) -> Option<&str> {
    let mut lines = record.split(['\n', '\r']);
    lines.by_ref().find(|l| l.starts_with("Traceback"))?;
    lines.rfind(|l| !l.trim().is_empty() && !l.starts_with([' ', '\t']))
}

/// Tabs and runs of spaces as one space.
fn one_spaced(s: &str) -> String {
    s.split([' ', '\t'])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `errorType: errorMessage` of a Lambda runtime error object.
fn lambda_error_title(v: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let kind = v.get("errorType")?.as_str()?;
    let message = v.get("errorMessage").and_then(|m| m.as_str()).unwrap_or("");
    Some(format!("{kind}: {}", first_line(message)))
}

/// Control characters and line separators become spaces: the text cannot
/// forge a second log line or a terminal escape.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
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
        let (t, rest) = leading_timestamp("2026-11-25T10:00:00.1234567897-0130 x").unwrap();
        // At most nine fraction digits: the rest, and so the offset, is text.
        assert_eq!(t.to_rfc3339(), "2026-11-25T10:00:00.123456789+00:00");
        assert_eq!(rest, "7-0130 x");
        let (t, rest) = leading_timestamp("2026-11-25T10:00:00-0130] x").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-25T11:30:00+00:00");
        assert_eq!(rest, " x");
        let (t, _) = leading_timestamp("2016-12-31T23:59:60Z leap").unwrap();
        assert_eq!(t.timestamp(), 1_483_228_799);
        // An offset that is not one stays in the text.
        let (t, rest) = leading_timestamp("2026-11-25 10:00:00+1 x").unwrap();
        assert_eq!(
            (t.to_rfc3339().as_str(), rest),
            ("2026-11-25T10:00:00+00:00", "+1 x")
        );
        // Found by review: Unicode digits in the offset used to panic.
        let (_, rest) = leading_timestamp("2026-11-25T10:00:00+\u{661}\u{662}:00 ERROR").unwrap();
        assert!(rest.starts_with('+'));
        for not_one in [
            "2026-13-01T00:00:00Z x",
            "2026-02-30 00:00:00 x",
            "2026-11-25T24:00:00Z x",
            "2026-11-25T10:60:00Z x",
            "2026-11-25T10:00:61Z x",
            "2026-11-25X10:00:00Z x",
            "2026-11-25T10:00 x",
            "2026-11-\u{661}5T10:00:00Z x",
            "[2026-11-25",
            "",
        ] {
            assert!(leading_timestamp(not_one).is_none(), "{not_one}");
        }
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
