//! The leading prefix of a plain-text log line (timestamp, request id,
//! level, thread, pid, logger, tracing spans and target), read once by hand
//! so that a title is the message alone.
//!
//! Shapes read: the Python and Node.js Lambda runtimes, log4j/logback/Spring
//! Boot and Lambda Java, Go's `log`, logrus/zap text (logfmt) and zap console,
//! Rust `tracing`'s text format.

use crate::logtext::leading_timestamp;

/// A line's level (lowercased, as `logtext::level_token` names them) and its
/// message without the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head<'a> {
    pub level: Option<&'static str>,
    pub message: &'a str,
}

/// An upper-case level word, or any level word in brackets (`[error]`).
fn level_word(token: &str) -> Option<&'static str> {
    let (word, bracketed) = match token.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        Some(inner) => (inner, true),
        None => (token, false),
    };
    let upper = match word {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "INFO" | "NOTICE" => "info",
        "WARN" | "WARNING" => "warn",
        "ERROR" | "ERR" | "SEVERE" => "error",
        "FATAL" => "fatal",
        "CRITICAL" | "CRIT" => "critical",
        _ if bracketed => return lower_level(word),
        _ => return None,
    };
    Some(upper)
}

/// A level value of a structured or logfmt record, any case.
fn lower_level(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "trace" => "trace",
        "debug" => "debug",
        "info" | "notice" | "information" => "info",
        "warn" | "warning" => "warn",
        "error" | "err" => "error",
        "fatal" | "panic" | "dpanic" => "fatal",
        "critical" | "crit" => "critical",
        _ => return None,
    })
}

pub(crate) fn is_request_id(t: &str) -> bool {
    t.len() == 36 && t.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// Go's `log` timestamp, `YYYY/MM/DD hh:mm:ss` with an optional fraction:
/// the text after it.
pub fn go_timestamp(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let shape = b"dddd/dd/dd dd:dd:dd";
    if b.len() < shape.len()
        || !shape.iter().zip(b).all(|(s, c)| match s {
            b'd' => c.is_ascii_digit(),
            s => s == c,
        })
    {
        return None;
    }
    let mut i = shape.len();
    if b.get(i) == Some(&b'.') {
        i += 1 + b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    Some(&line[i..])
}

/// The first token of `s` (up to whitespace) and the text after it.
fn token(s: &str) -> (&str, &str) {
    let end = s.find([' ', '\t']).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// Go's caller annotation, `handler.go:42` or `orders/handler.go:42:`.
fn is_go_caller(t: &str) -> bool {
    let t = t.strip_suffix(':').unwrap_or(t);
    t.rsplit_once(':').is_some_and(|(file, line)| {
        file.ends_with(".go") && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Reads the prefix of one line (a record's first line).
pub fn head(line: &str) -> Head<'_> {
    if let Some(h) = logfmt(line) {
        return h;
    }
    let mut rest = line;
    let mut level = None;
    let mut seen_time = false;
    // After the level, a tab keeps reading the prefix (the Lambda runtimes'
    // tab-separated fields); a space starts the logger and message.
    let mut tabbed = false;
    for _ in 0..8 {
        let s = rest.trim_start_matches([' ', '\t']);
        if level.is_some() && !tabbed {
            break;
        }
        if !seen_time {
            if let Some(r) = leading_timestamp(s)
                .map(|(_, r)| r)
                .or_else(|| go_timestamp(s))
            {
                (rest, seen_time) = (r, true);
                continue;
            }
        }
        let (tok, after) = token(s);
        if is_request_id(
            tok.trim_start_matches(['<', '['])
                .trim_end_matches(['>', ']']),
        ) || is_go_caller(tok)
        {
            rest = after;
            continue;
        }
        if level.is_some() {
            break;
        }
        if let Some(l) = level_word(tok).or_else(|| level_word(tok.strip_suffix(':')?)) {
            level = Some(l);
            (rest, tabbed) = (after, after.starts_with('\t'));
            continue;
        }
        // Python's default `ERROR:logger:message`.
        if let Some((word, r)) = tok.split_once(':') {
            let logger_and_message = &s[word.len() + 1..];
            if let (Some(l), Some((logger, msg))) =
                (level_word(word), logger_and_message.split_once(':'))
            {
                if !logger.contains([' ', '\t']) && !r.is_empty() {
                    return Head {
                        level: Some(l),
                        message: msg.trim(),
                    };
                }
            }
        }
        // A thread before the level: `[main] ERROR ...`.
        if s.starts_with('[') {
            if let Some(end) = s.find(']') {
                let after = &s[end + 1..];
                if level_word(token(after.trim_start()).0).is_some() {
                    rest = after;
                    continue;
                }
            }
        }
        break;
    }
    let mut message = rest.trim_start_matches([' ', '\t']);
    if level.is_some() && !tabbed {
        message = java_tail(message)
            .or_else(|| tracing_tail(message))
            .unwrap_or(message);
    }
    Head {
        level,
        message: message.trim(),
    }
}

/// A logger name: `c.e.OrdersHandler`, `com.example.Orders$Inner`, `Orders:42`.
fn is_logger(t: &str) -> bool {
    let name = t.split_once(':').map_or(t, |(n, line)| {
        if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) {
            n
        } else {
            t
        }
    });
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$'))
}

/// After a Java level: Spring's `<pid> --- [app] [thread] logger : ` or
/// log4j/logback's `[thread] logger - `.
fn java_tail(s: &str) -> Option<&str> {
    let mut t = s;
    let mut spring = false;
    let (pid, r) = token(t);
    if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) {
        if let Some(r) = r.trim_start().strip_prefix("---") {
            (t, spring) = (r.trim_start(), true);
        }
    }
    while t.starts_with('[') {
        t = t[t.find(']')? + 1..].trim_start();
    }
    let (logger, r) = token(t);
    let r = r.trim_start();
    if is_logger(logger) {
        for sep in ["- ", ": "] {
            if let Some(msg) = r.strip_prefix(sep) {
                return Some(msg);
            }
        }
    }
    spring.then_some(t)
}

/// After a `tracing` level: spans `name{field=value}:` and the target
/// `orders::handler:` (a one-word target only after spans).
fn tracing_tail(s: &str) -> Option<&str> {
    let mut t = s;
    let mut spans = false;
    loop {
        let name = t
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        if name == 0 || !t[name..].starts_with('{') {
            break;
        }
        let mut depth = 0;
        let close = t[name..].find(|c| {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            depth == 0
        })?;
        t = t[name + close + 1..].strip_prefix(':')?;
        spans = true;
    }
    t = t.trim_start();
    let (tok, r) = token(t);
    if let Some(target) = tok.strip_suffix(':') {
        let is_target = target.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && target
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':'));
        if is_target && (spans || target.contains("::")) {
            return Some(r.trim_start());
        }
    }
    spans.then_some(t)
}

/// A logfmt record (logrus, zap, slog text): `time="..." level=error msg="..."`.
fn logfmt(line: &str) -> Option<Head<'_>> {
    const STARTS: &[&str] = &["time=", "ts=", "t=", "timestamp=", "level=", "lvl="];
    if !STARTS.iter().any(|p| line.starts_with(p)) {
        return None;
    }
    let (mut level, mut message) = (None, None);
    let mut s = line;
    while let Some(eq) = s.find('=') {
        let key = s[..eq].trim_start();
        let v = &s[eq + 1..];
        let (value, next) = match v.strip_prefix('"') {
            Some(q) => {
                let mut escaped = false;
                let end = q
                    .find(|c| {
                        let end = c == '"' && !escaped;
                        escaped = c == '\\' && !escaped;
                        end
                    })
                    .unwrap_or(q.len());
                (&q[..end], q.get(end + 1..).unwrap_or(""))
            }
            None => token(v),
        };
        match key {
            "level" | "lvl" | "severity" => level = lower_level(value),
            "msg" | "message" => message = Some(value),
            _ => {}
        }
        s = next;
    }
    Some(Head {
        level,
        message: message.unwrap_or(line).trim(),
    })
}

/// The level of a logfmt record, if the line is one and names one.
pub fn logfmt_level(line: &str) -> Option<&'static str> {
    logfmt(line)?.level
}

/// A Lambda `REPORT`/`INIT_REPORT` line's `Status: ...` and what follows
/// (`Status: timeout`, `Status: error\tError Type: Runtime.OutOfMemory`),
/// when the invocation did not succeed.
pub fn report_status(line: &str) -> Option<&str> {
    if !(line.starts_with("REPORT ") || line.starts_with("INIT_REPORT ")) {
        return None;
    }
    let at = line.find("Status: ")?;
    let end = line[at..].find(['\n', '\r']).map_or(line.len(), |e| at + e);
    if line[..at].contains(['\n', '\r']) {
        return None;
    }
    let status = line[at..end].trim_end();
    (!status.starts_with("Status: success")).then_some(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_timestamps_and_callers() {
        assert_eq!(go_timestamp("2026/12/01 07:22:29 x"), Some(" x"));
        assert_eq!(go_timestamp("2026/12/01 07:22:29.123456 x"), Some(" x"));
        assert_eq!(go_timestamp("2026-12-01 07:22:29 x"), None);
        assert_eq!(go_timestamp("2026/12/01"), None);
        assert!(is_go_caller("orders/handler.go:42"));
        assert!(is_go_caller("main.go:7:"));
        assert!(!is_go_caller("main.go:"));
        assert!(!is_go_caller("x.rs:7"));
    }

    #[test]
    fn logfmt_values_may_be_quoted_with_escapes() {
        let h = head(r#"time="2026-12-01T07:22:29Z" level=warning msg="say \"hi\" later" n=3"#);
        assert_eq!(h.level, Some("warn"));
        assert_eq!(h.message, r#"say \"hi\" later"#);
        let h = head("level=error msg=bare other=1");
        assert_eq!((h.level, h.message), (Some("error"), "bare"));
        let h = head(r#"ts=1 msg="unterminated"#);
        assert_eq!((h.level, h.message), (None, "unterminated"));
    }

    #[test]
    fn odd_prefixes_do_not_panic_or_eat_the_message() {
        for s in [
            "",
            "[",
            "[ERROR",
            "ERROR",
            "ERROR ",
            "ERROR x{",
            "ERROR x{}",
            "ERROR 1 ---",
            "ERROR [a",
            "level=",
            "t=\"",
            "é[ERROR] é",
            "ERROR:",
            "ERROR:x",
        ] {
            let _ = head(s);
        }
        assert_eq!(head("ERROR x{a=1}").message, "x{a=1}");
        assert_eq!(head("ERROR failed: timeout").message, "failed: timeout");
        assert_eq!(head("error reading config").message, "error reading config");
        assert_eq!(head("ERROR:root:boom").message, "boom");
    }
}
