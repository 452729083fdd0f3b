//! DailyReport: one UTC day's activity, compared with the day before,
//! rendered as a text and an HTML part (`render`); each event links to its
//! console page when a console URL is configured.

mod html;
mod render;
#[cfg(test)]
mod tests;
mod text;

pub use html::severity_colours;
pub use render::{escape_html, render};

use crate::model::*;
use crate::ports::{AgentStore, EventStore, Mailer, PortError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::fmt;
use std::str::FromStr;

pub use crate::model::{LISTED_EVENTS, TOP_EVENTS};

#[derive(Debug, Clone, PartialEq)]
pub struct DailyReport {
    /// The day's figures and its three lists (each list's rows are the
    /// events' day activity: what the report shows of them).
    pub summary: DaySummary,
    /// Agents that are stale now or sent nothing that day: (id, name, last seen).
    pub quiet_agents: Vec<(AgentId, String, Option<DateTime<Utc>>)>,
    /// The day before's totals, when the report is compared with it.
    pub previous: Option<DayTotals>,
}

/// One day's totals, as the report counts them: that day's occurrences and
/// the events that had at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayTotals {
    pub day: NaiveDate,
    pub occurrences: u64,
    pub events: usize,
}

impl DayTotals {
    pub fn of(summary: &DaySummary) -> Self {
        Self {
            day: summary.day,
            occurrences: summary.occurrences,
            events: summary.events,
        }
    }
}

/// Which way a figure moved against the day before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Up,
    Down,
    Same,
    /// Nothing the day before, something now.
    New,
}

/// A figure against the same figure of `before_day`: its trend and its
/// words, e.g. `+12% vs 2026-11-24 (25)`, `new (none on 2026-11-24)`.
pub fn change(now: u64, before: u64, before_day: NaiveDate) -> (Trend, String) {
    if now == before {
        return (Trend::Same, format!("unchanged vs {before_day} ({before})"));
    }
    if before == 0 {
        return (Trend::New, format!("new (none on {before_day})"));
    }
    let (trend, sign) = if now > before {
        (Trend::Up, '+')
    } else {
        (Trend::Down, '-')
    };
    let diff = u128::from(now.abs_diff(before)) * 100;
    let before_128 = u128::from(before);
    // Rounded half up; a change too small to round to 1% still shows.
    let percent = match (diff + before_128 / 2) / before_128 {
        0 => "<1".to_owned(),
        p => p.to_string(),
    };
    (
        trend,
        format!("{sign}{percent}% vs {before_day} ({before})"),
    )
}

/// The console's base URL (`http(s)://host[:port]/path`, no query or
/// fragment; a trailing `/` is dropped): the report links each event to
/// `<console_url>/events/{id}` and each agent to `<console_url>/agents/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleUrl(String);

impl ConsoleUrl {
    pub fn event(&self, id: &EventId) -> String {
        format!("{}/events/{id}", self.0)
    }

    pub fn agent(&self, id: &AgentId) -> String {
        format!("{}/agents/{id}", self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ConsoleUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .ok_or_else(|| format!("{s:?} is not an http(s) URL"))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(format!("{s:?} names no host"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || "\"<>?#\\`".contains(*c))
        {
            return Err(format!("{s:?} may not contain {c:?}"));
        }
        Ok(Self(s.trim_end_matches('/').to_owned()))
    }
}

impl fmt::Display for ConsoleUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The report of `summary`'s day, with the agents that were quiet that day.
pub fn build(summary: DaySummary, agents: &[Agent], now: DateTime<Utc>) -> DailyReport {
    let day_start = summary
        .day
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let day_end = day_start + Duration::days(1);
    let quiet_agents = agents
        .iter()
        .map(|a| a.clone().with_derived_status(now))
        .filter(|a| {
            a.status == AgentStatus::Stale
                || a.last_seen_at.is_none_or(|t| t < day_start) && a.registered_at < day_end
        })
        .filter(|a| a.status != AgentStatus::Removed && a.status != AgentStatus::Disabled)
        .map(|a| (a.id.clone(), a.name.clone(), a.last_seen_at))
        .collect();
    DailyReport {
        summary,
        quiet_agents,
        previous: None,
    }
}

impl DailyReport {
    /// The three event lists both renderings show, in order, each with its
    /// title; a capped list's title says how many it shows of how many.
    fn event_lists(&self) -> [(String, &[DayActivity]); 3] {
        let title = |title: &str, listed: usize, total: usize| {
            if listed < total {
                format!("{title} ({listed} of {total}, most occurrences first)")
            } else {
                title.to_owned()
            }
        };
        [
            (
                format!("Most frequent events (top {TOP_EVENTS})"),
                &self.summary.top,
            ),
            (
                title(
                    "New events",
                    self.summary.new_events.len(),
                    self.summary.new_total,
                ),
                &self.summary.new_events,
            ),
            (
                title(
                    "Regressions (reopened after being resolved)",
                    self.summary.regressions.len(),
                    self.summary.regressions_total,
                ),
                &self.summary.regressions,
            ),
        ]
    }
}

/// Lists every agent, page by page.
pub async fn all_agents(agents: &dyn AgentStore) -> Result<Vec<Agent>, PortError> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = agents.list(after, 200).await?;
        out.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Builds, renders and sends the report for `day`, without console links;
/// answers where it went.
pub async fn send_daily_report(
    events: &dyn EventStore,
    agents: &dyn AgentStore,
    mailer: &dyn Mailer,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<String, PortError> {
    send_linked_daily_report(events, agents, mailer, day, now, None).await
}

/// Builds the report for `day`, compares it with the day before (both from
/// the per-day counters), renders it with links to `console` when given,
/// sends it and answers where it went.
pub async fn send_linked_daily_report(
    events: &dyn EventStore,
    agents: &dyn AgentStore,
    mailer: &dyn Mailer,
    day: NaiveDate,
    now: DateTime<Utc>,
    console: Option<&ConsoleUrl>,
) -> Result<String, PortError> {
    let previous = match day.pred_opt() {
        Some(before) => Some(DayTotals::of(&events.day_summary(before).await?)),
        None => None,
    };
    let summary = events.day_summary(day).await?;
    let agents = all_agents(agents).await?;
    let mut report = build(summary, &agents, now);
    report.previous = previous;
    mailer.send(&render(&report, console)).await
}
