//! The agent's query windows: from the checkpoint to `now - latency`, with
//! bounded catch-up, no gaps and no overlaps.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A half-open interval `[start, end)` of log time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    /// Splits into two halves (used when a query hits the row limit).
    pub fn split(&self) -> Option<(Window, Window)> {
        let half = self.duration() / 2;
        if half < Duration::milliseconds(1) {
            return None;
        }
        let mid = self.start + half;
        Some((
            Window {
                start: self.start,
                end: mid,
            },
            Window {
                start: mid,
                end: self.end,
            },
        ))
    }
}

/// How far behind real time the agent reads and how far it catches up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowPolicy {
    /// Logs can arrive this late; the window ends this far before now.
    pub latency: Duration,
    /// The first run looks back this far.
    pub initial_lookback: Duration,
    /// One run covers at most this much; later runs continue from there.
    pub max_window: Duration,
    /// Data older than this behind `now - latency` is skipped (with a warning).
    pub max_catch_up: Duration,
}

impl Default for WindowPolicy {
    fn default() -> Self {
        Self {
            latency: Duration::minutes(2),
            initial_lookback: Duration::minutes(5),
            max_window: Duration::hours(1),
            max_catch_up: Duration::hours(24),
        }
    }
}

/// The next window to query, and whether older data had to be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub window: Window,
    /// Start of data that was skipped because it was older than the catch-up bound.
    pub skipped_from: Option<DateTime<Utc>>,
}

/// Plans the next window. A pending window (a run that failed mid-publish)
/// is retried as it was, so its occurrence ids do not change.
pub fn plan(
    checkpoint: Option<DateTime<Utc>>,
    pending: Option<Window>,
    now: DateTime<Utc>,
    policy: &WindowPolicy,
) -> Option<Planned> {
    if let Some(w) = pending {
        return Some(Planned {
            window: w,
            skipped_from: None,
        });
    }
    let horizon = now - policy.latency;
    let mut start = checkpoint.unwrap_or(horizon - policy.initial_lookback);
    let mut skipped_from = None;
    if horizon - start > policy.max_catch_up {
        skipped_from = Some(start);
        start = horizon - policy.max_catch_up;
    }
    let end = horizon.min(start + policy.max_window);
    (end > start).then_some(Planned {
        window: Window { start, end },
        skipped_from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn first_run_looks_back_and_stops_short_of_latency() {
        let p = plan(
            None,
            None,
            t("2026-11-25T10:00:00Z"),
            &WindowPolicy::default(),
        )
        .unwrap();
        assert_eq!(p.window.start, t("2026-11-25T09:53:00Z"));
        assert_eq!(p.window.end, t("2026-11-25T09:58:00Z"));
    }

    #[test]
    fn consecutive_windows_have_no_gap_and_no_overlap() {
        let policy = WindowPolicy::default();
        let mut cp = None;
        let mut now = t("2026-11-25T10:00:00Z");
        let mut prev: Option<Window> = None;
        for i in 0..50 {
            now += Duration::seconds(37 + i * 13);
            if let Some(p) = plan(cp, None, now, &policy) {
                if let Some(prev) = prev {
                    assert_eq!(p.window.start, prev.end);
                }
                assert!(p.window.end <= now - policy.latency);
                cp = Some(p.window.end);
                prev = Some(p.window);
            }
        }
        assert!(prev.is_some());
    }

    #[test]
    fn catch_up_is_chunked_then_bounded() {
        let policy = WindowPolicy::default();
        let now = t("2026-11-25T10:00:00Z");
        // Three hours behind: one run covers max_window, the next continues.
        let p = plan(Some(t("2026-11-25T06:58:00Z")), None, now, &policy).unwrap();
        assert_eq!(p.window.duration(), Duration::hours(1));
        assert_eq!(p.skipped_from, None);
        let q = plan(Some(p.window.end), None, now, &policy).unwrap();
        assert_eq!(q.window.start, p.window.end);
        // Three days behind: older than 24 h is skipped, and said so.
        let r = plan(Some(t("2026-11-22T10:00:00Z")), None, now, &policy).unwrap();
        assert_eq!(r.skipped_from, Some(t("2026-11-22T10:00:00Z")));
        assert_eq!(r.window.start, t("2026-11-24T09:58:00Z"));
    }

    #[test]
    fn a_pending_window_is_retried_unchanged() {
        let w = Window {
            start: t("2026-11-25T09:00:00Z"),
            end: t("2026-11-25T09:05:00Z"),
        };
        let p = plan(
            Some(t("2026-11-25T09:00:00Z")),
            Some(w),
            t("2026-11-25T12:00:00Z"),
            &WindowPolicy::default(),
        )
        .unwrap();
        assert_eq!(p.window, w);
    }

    #[test]
    fn nothing_to_do_when_caught_up() {
        let now = t("2026-11-25T10:00:00Z");
        assert!(plan(
            Some(now - Duration::minutes(2)),
            None,
            now,
            &WindowPolicy::default()
        )
        .is_none());
    }

    #[test]
    fn split_halves_cover_the_window_exactly() {
        let w = Window {
            start: t("2026-11-25T09:00:00Z"),
            end: t("2026-11-25T09:05:00Z"),
        };
        let (a, b) = w.split().unwrap();
        assert_eq!((a.start, a.end, b.end), (w.start, b.start, w.end));
        let tiny = Window {
            start: w.start,
            end: w.start + Duration::microseconds(500),
        };
        assert!(tiny.split().is_none());
    }
}
