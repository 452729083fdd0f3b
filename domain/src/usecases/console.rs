//! The two read-only routes the console needs, independent of HTTP:
//! `GET /events/{eventId}/activity` (one event's occurrences per UTC day) and
//! `GET /overview` (the daily report's figures for one UTC day, as data).
//! Both read the per-day counters the stores keep while recording; neither
//! walks every event.

use super::api::{Api, GetEventError, InvalidInput};
use super::report::{all_agents, build, DailyReport};
use crate::model::*;
use crate::ports::{DayCount, PortError};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Days of activity when `days` is not given.
pub const DEFAULT_ACTIVITY_DAYS: u32 = 14;
/// The most days of activity one request may ask for.
pub const MAX_ACTIVITY_DAYS: u32 = 90;

/// How many days of activity: 1 to [`MAX_ACTIVITY_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityDays(u32);

impl ActivityDays {
    pub fn new(n: u32) -> Result<Self, InvalidInput> {
        if (1..=MAX_ACTIVITY_DAYS).contains(&n) {
            Ok(Self(n))
        } else {
            Err(InvalidInput(format!(
                "days must be between 1 and {MAX_ACTIVITY_DAYS}"
            )))
        }
    }

    /// Parses the query value: a whole number in range.
    pub fn parse(v: &str) -> Result<Self, InvalidInput> {
        // Digits only: no sign, no spaces, no leading "+".
        if v.is_empty() || v.len() > 3 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidInput(format!(
                "days: {v:?} is not a whole number between 1 and {MAX_ACTIVITY_DAYS}"
            )));
        }
        Self::new(v.parse().unwrap_or(0))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for ActivityDays {
    fn default() -> Self {
        Self(DEFAULT_ACTIVITY_DAYS)
    }
}

/// Parses a UTC day written `YYYY-MM-DD` (exactly that shape).
pub fn parse_day(name: &str, v: &str) -> Result<NaiveDate, InvalidInput> {
    let shaped = v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    shaped
        .then(|| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| InvalidInput(format!("{name}: {v:?} is not a date like 2026-11-25")))
}

/// The answer of `GET /events/{eventId}/activity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Oldest first, ending with `to`, one entry per day (zeros included).
    pub days: Vec<DayCount>,
}

/// Every day of `from..=to`, with the stored count or zero.
pub fn fill_days(counts: &[DayCount], from: NaiveDate, to: NaiveDate) -> Vec<DayCount> {
    let stored: HashMap<NaiveDate, u64> = counts.iter().map(|c| (c.date, c.count)).collect();
    from.iter_days()
        .take_while(|d| *d <= to)
        .map(|date| DayCount {
            date,
            count: stored.get(&date).copied().unwrap_or(0),
        })
        .collect()
}

/// The answer of `GET /overview`: what the daily report of `date` says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub date: NaiveDate,
    /// Occurrences on that day.
    pub occurrences: u64,
    /// Distinct events with at least one occurrence that day.
    pub events: usize,
    /// That day's occurrences per severity; every level is present.
    pub by_severity: BTreeMap<Severity, u64>,
    /// That day's occurrences per account that had any.
    pub by_account: BTreeMap<AccountId, u64>,
    /// The most frequent events of the day, most first (as the report's top list).
    pub top: Vec<Event>,
    /// Events first seen that day, most occurrences first, at most
    /// [`LISTED_EVENTS`](super::report::LISTED_EVENTS).
    pub new: Vec<Event>,
    /// How many events were first seen that day, listed or not.
    pub new_count: usize,
    /// Events reopened that day after being resolved, most occurrences
    /// first, at most [`LISTED_EVENTS`](super::report::LISTED_EVENTS).
    pub regressed: Vec<Event>,
    /// How many events were reopened that day, listed or not.
    pub regressed_count: usize,
    /// Agents that are stale now or sent nothing that day.
    pub stale_agents: Vec<Agent>,
    /// That day's count of every event the lists above name, by event id.
    pub day_counts: BTreeMap<EventId, u64>,
}

impl Api {
    /// One event's occurrences per UTC day for the last `days` days, ending
    /// today (UTC); an unknown event is [`GetEventError::NotFound`].
    pub async fn event_activity(
        &self,
        id: &EventId,
        days: ActivityDays,
    ) -> Result<Activity, GetEventError> {
        self.get_event(id).await?;
        let to = self.clock.now().date_naive();
        let from = to - Duration::days(i64::from(days.get()) - 1);
        let counts = self.events.event_activity(id, from, to).await?;
        Ok(Activity {
            days: fill_days(&counts, from, to),
        })
    }

    /// The daily report's figures for `date`, computed as the report computes
    /// them; only the events its lists name are read whole.
    pub async fn overview(&self, date: NaiveDate) -> Result<Overview, PortError> {
        let summary = self.events.day_summary(date).await?;
        let agents = all_agents(self.agents.as_ref()).await?;
        let now = self.clock.now();
        let DailyReport {
            summary,
            quiet_agents,
            ..
        } = build(summary, &agents, now);
        let listed: BTreeSet<&EventId> = [&summary.top, &summary.new_events, &summary.regressions]
            .into_iter()
            .flatten()
            .map(|l| &l.id)
            .collect();
        let ids: Vec<EventId> = listed.into_iter().cloned().collect();
        let events: HashMap<EventId, Event> = self
            .events
            .get_many(&ids)
            .await?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
        let mut day_counts = BTreeMap::new();
        // An event gone between the two reads (expired) drops out of its list.
        let mut pick = |lines: &[DayActivity]| -> Vec<Event> {
            lines
                .iter()
                .filter_map(|l| {
                    let event = events.get(&l.id)?;
                    day_counts.insert(l.id.clone(), l.day_count);
                    Some(event.clone())
                })
                .collect()
        };
        let top = pick(&summary.top);
        let new = pick(&summary.new_events);
        let regressed = pick(&summary.regressions);
        let mut by_severity: BTreeMap<Severity, u64> =
            Severity::ALL.iter().map(|s| (*s, 0)).collect();
        by_severity.extend(summary.by_severity);
        let stale_agents = agents
            .into_iter()
            .filter(|a| quiet_agents.iter().any(|(id, _, _)| *id == a.id))
            .map(|a| a.with_derived_status(now))
            .collect();
        Ok(Overview {
            date,
            occurrences: summary.occurrences,
            events: summary.events,
            by_severity,
            by_account: summary.by_account,
            top,
            new,
            new_count: summary.new_total,
            regressed,
            regressed_count: summary.regressions_total,
            stale_agents,
            day_counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_parse_strictly() {
        assert_eq!(ActivityDays::default().get(), 14);
        assert_eq!(ActivityDays::parse("90").unwrap().get(), 90);
        assert_eq!(ActivityDays::parse("1").unwrap().get(), 1);
        for bad in [
            "0",
            "91",
            "",
            "-1",
            "+5",
            " 5",
            "abc",
            "1e2",
            "0090",
            "999999999999",
        ] {
            assert!(ActivityDays::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_day("date", "2026-11-25").unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
        );
        for bad in [
            "2026-02-30",
            "2026-1-05",
            "20261105",
            "2026-11-25T00:00:00Z",
            "",
            "+2026-11-2",
        ] {
            assert!(parse_day("date", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn filled_days_are_oldest_first_with_zeros() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let filled = fill_days(
            &[DayCount {
                date: d("2026-03-02"),
                count: 5,
            }],
            d("2026-03-01"),
            d("2026-03-03"),
        );
        assert_eq!(
            filled
                .iter()
                .map(|c| (c.date.to_string(), c.count))
                .collect::<Vec<_>>(),
            vec![
                ("2026-03-01".into(), 0),
                ("2026-03-02".into(), 5),
                ("2026-03-03".into(), 0)
            ]
        );
    }
}
