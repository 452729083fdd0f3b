//! Storm control: per channel, a window opens with the first alert after the
//! previous one closed and lasts `window_seconds`; so a burst is one window
//! whenever it starts, and the summary comes `window_seconds` after it began.

use super::config::StormPolicy;
use chrono::{DateTime, Utc};

/// A summary lists at most this many suppressed titles.
pub const MAX_SUMMARY_TITLES: usize = 10;

/// One storm-control window, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StormWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl StormPolicy {
    /// The window a first alert at `t` opens (whole seconds, as stored).
    pub fn window_from(&self, t: DateTime<Utc>) -> StormWindow {
        let start = t.timestamp();
        let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap_or(t);
        StormWindow {
            start: at(start),
            end: at(start + i64::from(self.window_seconds.max(1))),
        }
    }

    /// Whether one more alert fits in a window that has sent `sent`.
    pub fn admits(&self, sent: u32) -> bool {
        sent < self.max_per_window
    }
}
