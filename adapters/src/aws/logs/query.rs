//! The Logs Insights query string and the whole-second windows it runs over.

use super::ERROR_PATTERN;
use chrono::{TimeZone, Utc};
use domain::window::Window;

/// The prefixes to list: without duplicates and without those another one
/// covers (`""` covers every name).
pub(super) fn covering_prefixes(prefixes: &[String]) -> Vec<String> {
    let mut sorted = prefixes.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut out: Vec<String> = Vec::new();
    for p in sorted {
        // Sorted: a covering prefix sorts right before the prefixes it covers.
        if out.last().is_some_and(|q| p.starts_with(q.as_str())) {
            continue;
        }
        out.push(p);
    }
    out
}

/// The Logs Insights query; `patterns: None` means no server-side filter.
pub(super) fn build_query(row_limit: usize, patterns: Option<&[String]>) -> String {
    let mut q = String::from("fields @timestamp, @message, @log");
    if let Some(patterns) = patterns {
        q.push_str(" | filter @message like /");
        q.push_str(ERROR_PATTERN);
        q.push('/');
        for p in patterns {
            q.push_str(" or @message like /");
            q.push_str(&escape_slashes(p));
            q.push('/');
        }
    }
    q.push_str(&format!(" | sort @timestamp asc | limit {row_limit}"));
    q
}

/// Escapes the `/` that would end a `/regex/` literal early.
pub(super) fn escape_slashes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut escaped = false;
    for c in pattern.chars() {
        if c == '/' && !escaped {
            out.push('\\');
        }
        escaped = c == '\\' && !escaped;
        out.push(c);
    }
    out
}

/// The whole epoch seconds `(startTime, endTime)` a query over the window
/// asks for: `[floor(start), ceil(end)]`, both inclusive on the service, so
/// a superset of `[start, end)` that the rows are then cut back to.
pub fn query_range(window: &Window) -> (i64, i64) {
    let start = window.start.timestamp();
    let end = window.end.timestamp() + i64::from(window.end.timestamp_subsec_nanos() > 0);
    (start, end)
}

/// [`Window::split`], with the midpoint moved onto a whole second: queries
/// cover whole seconds, so halves that shared a partial second would both
/// query it again. `None` once no whole second lies strictly inside the
/// window: it already is the smallest window a query can ask for.
pub(super) fn split_on_second(window: &Window) -> Option<(Window, Window)> {
    let (first, _) = window.split()?;
    let mut mid = Utc.timestamp_opt(first.end.timestamp(), 0).single()?;
    if mid <= window.start {
        mid += chrono::Duration::seconds(1);
    }
    (mid < window.end).then_some((
        Window {
            start: window.start,
            end: mid,
        },
        Window {
            start: mid,
            end: window.end,
        },
    ))
}
