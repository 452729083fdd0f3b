//! One UTC day's figures as the daily report counts them: what a store's
//! `day_summary` answers, and how to compute it from a day's activity.

use super::*;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::BTreeMap;

/// How many events the "most frequent" list shows.
pub const TOP_EVENTS: usize = 10;
/// How many new events, and how many regressions, the report and the
/// overview list (most occurrences first); the totals say how many there
/// were. Uncapped, a day of 100,000 new events made an overview of 79 MB
/// and an e-mail far past SES's 10 MB limit.
pub const LISTED_EVENTS: usize = 50;

/// A day's totals, its per-severity and per-account occurrences, and the
/// first entries of its three lists, each in [`report_order`]. Severities,
/// statuses and reopen times are the events' current ones.
#[derive(Debug, Clone, PartialEq)]
pub struct DaySummary {
    pub day: NaiveDate,
    /// Occurrences that day.
    pub occurrences: u64,
    /// Events with at least one occurrence that day.
    pub events: usize,
    /// That day's occurrences per severity that had any.
    pub by_severity: BTreeMap<Severity, u64>,
    /// That day's occurrences per account that had any.
    pub by_account: BTreeMap<AccountId, u64>,
    /// The day's most frequent events, at most [`TOP_EVENTS`].
    pub top: Vec<DayActivity>,
    /// Events first seen that day, at most [`LISTED_EVENTS`].
    pub new_events: Vec<DayActivity>,
    /// How many events were first seen that day, listed or not.
    pub new_total: usize,
    /// Events active that day whose last reopening was that day, at most
    /// [`LISTED_EVENTS`].
    pub regressions: Vec<DayActivity>,
    /// How many such events there were, listed or not.
    pub regressions_total: usize,
}

impl DaySummary {
    /// The summary of `day` from every event active that day (what
    /// `EventStore::day_activity` answers). Memory follows the day's
    /// distinct events; a store that keeps the summary on write answers the
    /// same without reading them all.
    pub fn of(day: NaiveDate, activity: &[DayActivity]) -> Self {
        let day_start = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        let day_end = day_start + Duration::days(1);
        let in_day = |t: DateTime<Utc>| t >= day_start && t < day_end;
        let mut by_severity = BTreeMap::new();
        let mut by_account: BTreeMap<AccountId, u64> = BTreeMap::new();
        for a in activity {
            *by_severity.entry(a.severity).or_insert(0) += a.day_count;
            // Look up before inserting: a busy day has 100,000 rows and few accounts.
            match by_account.get_mut(&a.account) {
                Some(n) => *n += a.day_count,
                None => {
                    by_account.insert(a.account.clone(), a.day_count);
                }
            }
        }
        let (top, _) = most_frequent(activity.iter(), TOP_EVENTS);
        let (new_events, new_total) = most_frequent(
            activity.iter().filter(|a| in_day(a.first_seen)),
            LISTED_EVENTS,
        );
        let (regressions, regressions_total) = most_frequent(
            activity
                .iter()
                .filter(|a| a.reopened_at.is_some_and(in_day)),
            LISTED_EVENTS,
        );
        Self {
            day,
            occurrences: activity.iter().map(|a| a.day_count).sum(),
            events: activity.len(),
            by_severity,
            by_account,
            top,
            new_events,
            new_total,
            regressions,
            regressions_total,
        }
    }
}

/// The report's order: most occurrences that day first, then the more
/// severe, then by id (so equal figures list the same way every time).
pub fn report_order(a: &DayActivity, b: &DayActivity) -> std::cmp::Ordering {
    b.day_count
        .cmp(&a.day_count)
        .then(b.severity.cmp(&a.severity))
        .then(a.id.cmp(&b.id))
}

/// The first `k` of `items` in [`report_order`], and how many items there
/// were. Selects before sorting: a busy day has 100,000 items and a report
/// lists at most 50 of each kind.
fn most_frequent<'a>(
    items: impl Iterator<Item = &'a DayActivity>,
    k: usize,
) -> (Vec<DayActivity>, usize) {
    let mut chosen: Vec<&DayActivity> = items.collect();
    let total = chosen.len();
    if total > k {
        if k > 0 {
            chosen.select_nth_unstable_by(k - 1, |a, b| report_order(a, b));
        }
        chosen.truncate(k);
    }
    chosen.sort_unstable_by(|a, b| report_order(a, b));
    (chosen.into_iter().cloned().collect(), total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(i: u8, severity: Severity, day_count: u64) -> DayActivity {
        DayActivity {
            id: format!("{i:032x}").parse().unwrap(),
            title: format!("error {i}"),
            account: "111122223333".parse().unwrap(),
            region: "eu-west-1".parse().unwrap(),
            severity,
            status: Status::Open,
            first_seen: "2026-11-25T10:00:00Z".parse().unwrap(),
            reopened_at: None,
            day_count,
        }
    }

    #[test]
    fn most_frequent_selects_the_first_k_in_report_order_and_counts_all() {
        let items: Vec<DayActivity> = (0..20u8)
            .map(|i| activity(i, Severity::ALL[usize::from(i) % 5], u64::from(i % 7)))
            .collect();
        let mut sorted = items.clone();
        sorted.sort_by(report_order);
        for k in [0, 1, 5, 20, 25] {
            let (chosen, total) = most_frequent(items.iter(), k);
            assert_eq!(total, 20);
            assert_eq!(chosen, sorted[..k.min(20)], "k = {k}");
        }
    }
}
