//! The text part of the report e-mail: the same content as the HTML part,
//! in columns, with each event's console link on the line below it.

use super::{change, ConsoleUrl, DailyReport, DayActivity};
use crate::model::AgentId;
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// Where a console link goes under its line.
const LINK_INDENT: &str = "           ";

pub(super) fn render(r: &DailyReport, subject: &str, console: Option<&ConsoleUrl>) -> String {
    let mut t = String::with_capacity(4096 + 256 * r.summary.top.len());
    let _ = writeln!(t, "{subject}\n");
    totals(&mut t, r);
    if r.summary.events == 0 {
        let _ = writeln!(t, "No errors were recorded on {}.\n", r.summary.day);
    }
    let by_severity = r
        .summary
        .by_severity
        .iter()
        .rev()
        .map(|(k, v)| (k.to_string(), *v));
    table(&mut t, "Occurrences by severity", by_severity);
    let by_account = r
        .summary
        .by_account
        .iter()
        .map(|(k, v)| (k.to_string(), *v));
    table(&mut t, "Occurrences by account", by_account);
    for (title, rows) in r.event_lists() {
        lines(&mut t, &title, rows, console);
    }
    quiet_agents(&mut t, &r.quiet_agents, console);
    if let Some(c) = console {
        let _ = writeln!(t, "Console: {c}/");
    }
    t
}

/// The day's totals, each with its change against the day before.
fn totals(t: &mut String, r: &DailyReport) {
    let events = r.summary.events as u64;
    for (name, now, before) in [
        (
            "Occurrences",
            r.summary.occurrences,
            r.previous.map(|p| p.occurrences),
        ),
        ("Events", events, r.previous.map(|p| p.events as u64)),
    ] {
        let _ = write!(t, "{name:<12} {now:>7}");
        if let (Some(before), Some(p)) = (before, r.previous) {
            let _ = write!(t, "  {}", change(now, before, p.day).1);
        }
        t.push('\n');
    }
    t.push('\n');
}

/// A table of totals (severity or account -> occurrences).
fn table(t: &mut String, title: &str, rows: impl Iterator<Item = (String, u64)>) {
    let mut rows = rows.peekable();
    if rows.peek().is_none() {
        return;
    }
    let _ = writeln!(t, "{title}:");
    for (k, v) in rows {
        let _ = writeln!(t, "  {k:<14} {v}");
    }
    t.push('\n');
}

/// Events with that day's counts, each followed by its console link.
fn lines(t: &mut String, title: &str, rows: &[DayActivity], console: Option<&ConsoleUrl>) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(t, "{title}:");
    for l in rows {
        let _ = writeln!(
            t,
            "  {:>7}  {:<8}  {:<12}  {} {}  {}  [{}]",
            l.day_count,
            // `as_str`: the enums' Display ignores the column width.
            l.severity.as_str(),
            l.status.as_str(),
            l.account,
            l.region,
            l.title,
            l.id
        );
        if let Some(c) = console {
            let _ = writeln!(t, "{LINK_INDENT}{}", c.event(&l.id));
        }
    }
    t.push('\n');
}

/// The agents that were stale or silent that day.
fn quiet_agents(
    t: &mut String,
    agents: &[(AgentId, String, Option<DateTime<Utc>>)],
    console: Option<&ConsoleUrl>,
) {
    if agents.is_empty() {
        return;
    }
    let _ = writeln!(t, "Agents that are stale or sent nothing that day:");
    for (id, name, seen) in agents {
        let seen = seen.map_or("never".to_owned(), |t| t.to_rfc3339());
        let _ = writeln!(t, "  {id} ({name}), last seen {seen}");
        if let Some(c) = console {
            let _ = writeln!(t, "{LINK_INDENT}{}", c.agent(id));
        }
    }
    t.push('\n');
}
