//! DailyReport: one UTC day's activity, rendered as text and HTML.

use crate::model::*;
use crate::ports::{AgentStore, Email, EventStore, Mailer, PortError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::BTreeMap;
use std::fmt::Write;

/// How many events the "most frequent" list shows.
pub const TOP_EVENTS: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct ReportLine {
    pub id: EventId,
    pub title: String,
    pub account: AccountId,
    pub region: Region,
    pub severity: Severity,
    pub status: Status,
    pub day_count: u64,
}

impl ReportLine {
    fn of(a: &DayActivity) -> Self {
        let e = &a.event;
        Self {
            id: e.id.clone(),
            title: e.title.clone(),
            account: e.account.clone(),
            region: e.region.clone(),
            severity: e.severity,
            status: e.status,
            day_count: a.day_count,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DailyReport {
    pub day: NaiveDate,
    pub total_occurrences: u64,
    pub distinct_events: usize,
    pub by_severity: BTreeMap<Severity, u64>,
    pub by_account: BTreeMap<AccountId, u64>,
    /// Most occurrences that day, most first.
    pub top: Vec<ReportLine>,
    pub new_events: Vec<ReportLine>,
    pub regressions: Vec<ReportLine>,
    /// Agents that are stale now or sent nothing that day: (id, name, last seen).
    pub quiet_agents: Vec<(AgentId, String, Option<DateTime<Utc>>)>,
}

/// Aggregates one day. Memory is bounded by the number of distinct events.
pub fn build(
    day: NaiveDate,
    activity: &[DayActivity],
    agents: &[Agent],
    now: DateTime<Utc>,
) -> DailyReport {
    let day_start = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let day_end = day_start + Duration::days(1);
    let in_day = |t: DateTime<Utc>| t >= day_start && t < day_end;
    let mut by_severity = BTreeMap::new();
    let mut by_account = BTreeMap::new();
    for a in activity {
        *by_severity.entry(a.event.severity).or_insert(0) += a.day_count;
        *by_account.entry(a.event.account.clone()).or_insert(0) += a.day_count;
    }
    let mut sorted: Vec<&DayActivity> = activity.iter().collect();
    sorted.sort_by(|a, b| {
        b.day_count
            .cmp(&a.day_count)
            .then(b.event.severity.cmp(&a.event.severity))
            .then(a.event.id.cmp(&b.event.id))
    });
    let pick = |f: &dyn Fn(&Event) -> bool| {
        sorted
            .iter()
            .filter(|a| f(&a.event))
            .map(|a| ReportLine::of(a))
            .collect::<Vec<_>>()
    };
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
        day,
        total_occurrences: activity.iter().map(|a| a.day_count).sum(),
        distinct_events: activity.len(),
        by_severity,
        by_account,
        top: sorted
            .iter()
            .take(TOP_EVENTS)
            .map(|a| ReportLine::of(a))
            .collect(),
        new_events: pick(&|e| in_day(e.first_seen)),
        regressions: pick(&|e| e.reopened_at.is_some_and(in_day)),
        quiet_agents,
    }
}

/// Escapes text for HTML element and attribute content.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The text and HTML parts of the report, written side by side.
#[derive(Default)]
struct Parts {
    text: String,
    html: String,
}

impl Parts {
    /// A table of totals (severity or account → occurrences).
    fn totals(&mut self, title: &str, rows: Vec<(String, u64)>) {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(self.text, "{title}:");
        let _ = write!(self.html, "<h2>{}</h2><table>", escape_html(title));
        for (k, v) in rows {
            let _ = writeln!(self.text, "  {k:<14} {v}");
            let _ = write!(
                self.html,
                "<tr><td>{}</td><td>{v}</td></tr>",
                escape_html(&k)
            );
        }
        let _ = writeln!(self.text);
        self.html.push_str("</table>");
    }

    /// A table of events with that day's counts.
    fn lines(&mut self, title: &str, rows: &[ReportLine]) {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(self.text, "{title}:");
        let _ = write!(self.html, "<h2>{}</h2><table><tr><th>count</th><th>severity</th><th>status</th><th>account</th><th>region</th><th>title</th></tr>", escape_html(title));
        for l in rows {
            let _ = writeln!(
                self.text,
                "  {:>7}  {:<8}  {:<12}  {} {}  {}  [{}]",
                l.day_count, l.severity, l.status, l.account, l.region, l.title, l.id
            );
            let _ = write!(
                self.html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                l.day_count,
                l.severity,
                l.status,
                l.account,
                escape_html(l.region.as_str()),
                escape_html(&l.title)
            );
        }
        let _ = writeln!(self.text);
        self.html.push_str("</table>");
    }

    /// The agents that were stale or silent that day.
    fn quiet_agents(&mut self, agents: &[(AgentId, String, Option<DateTime<Utc>>)]) {
        if agents.is_empty() {
            return;
        }
        let _ = writeln!(self.text, "Agents that are stale or sent nothing that day:");
        self.html
            .push_str("<h2>Agents that are stale or sent nothing that day</h2><ul>");
        for (id, name, seen) in agents {
            let seen = seen.map_or("never".to_owned(), |t| t.to_rfc3339());
            let _ = writeln!(self.text, "  {id} ({name}), last seen {seen}");
            let _ = write!(
                self.html,
                "<li>{} ({}), last seen {}</li>",
                escape_html(&id.to_string()),
                escape_html(name),
                seen
            );
        }
        self.html.push_str("</ul>");
    }
}

/// Renders the report as an e-mail with a text and an HTML part.
pub fn render(r: &DailyReport) -> Email {
    let subject = format!(
        "aws-monitoring daily report for {}: {} occurrences of {} events",
        r.day, r.total_occurrences, r.distinct_events
    );
    let mut parts = Parts::default();
    let _ = writeln!(parts.text, "{subject}\n");
    let _ = write!(parts.html, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body><h1>Daily report for {}</h1>", escape_html(&subject), r.day);
    if r.distinct_events == 0 {
        let _ = writeln!(parts.text, "No errors were recorded on {}.", r.day);
        let _ = write!(parts.html, "<p>No errors were recorded on {}.</p>", r.day);
    }
    let by_severity = r.by_severity.iter().rev();
    parts.totals(
        "Occurrences by severity",
        by_severity.map(|(k, v)| (k.to_string(), *v)).collect(),
    );
    parts.totals(
        "Occurrences by account",
        r.by_account
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
    );
    parts.lines(&format!("Most frequent events (top {TOP_EVENTS})"), &r.top);
    parts.lines("New events", &r.new_events);
    parts.lines(
        "Regressions (reopened after being resolved)",
        &r.regressions,
    );
    parts.quiet_agents(&r.quiet_agents);
    parts.html.push_str("</body></html>");
    Email {
        subject,
        text: parts.text,
        html: parts.html,
        day: r.day,
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

/// Builds, renders and sends the report for `day`; answers where it went.
pub async fn send_daily_report(
    events: &dyn EventStore,
    agents: &dyn AgentStore,
    mailer: &dyn Mailer,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<String, PortError> {
    let activity = events.day_activity(day).await?;
    let agents = all_agents(agents).await?;
    let report = build(day, &activity, &agents, now);
    mailer.send(&render(&report)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: u8, account: &str, sev: Severity, first: &str, count: u64) -> DayActivity {
        let t: DateTime<Utc> = first.parse().unwrap();
        DayActivity {
            event: Event {
                id: format!("{id:032x}").parse().unwrap(),
                account: account.parse().unwrap(),
                region: "eu-west-1".parse().unwrap(),
                source: "monitoring.agent.logs".into(),
                detail_type: "Log Errors Detected".into(),
                severity: sev,
                status: Status::Open,
                title: format!("<script>alert({id})</script>"),
                fingerprint: None,
                count: count * 3,
                first_seen: t,
                last_seen: t,
                log_group: None,
                sample: String::new(),
                resources: vec![],
                detail: serde_json::json!({}),
                note: None,
                assignee: None,
                updated_at: t,
                version: 1,
                state_time: None,
                reopened_at: None,
            },
            day_count: count,
        }
    }

    #[test]
    fn aggregates_by_severity_account_and_ranks_the_top_events() {
        let day: NaiveDate = "2026-11-24".parse().unwrap();
        let mut acts: Vec<DayActivity> = (0..15u8)
            .map(|i| {
                event(
                    i,
                    "111111111111",
                    Severity::High,
                    "2026-11-20T00:00:00Z",
                    u64::from(i) + 1,
                )
            })
            .collect();
        acts.push(event(
            100,
            "222222222222",
            Severity::Critical,
            "2026-11-24T05:00:00Z",
            7,
        ));
        acts[3].event.reopened_at = Some("2026-11-24T06:00:00Z".parse().unwrap());
        let r = build(day, &acts, &[], "2026-11-25T00:10:00Z".parse().unwrap());
        assert_eq!(r.total_occurrences, (1..=15).sum::<u64>() + 7);
        assert_eq!(r.by_severity[&Severity::Critical], 7);
        assert_eq!(r.by_account[&"222222222222".parse().unwrap()], 7);
        assert_eq!(r.top.len(), TOP_EVENTS);
        assert_eq!(r.top[0].day_count, 15);
        assert!(r.top.windows(2).all(|w| w[0].day_count >= w[1].day_count));
        assert_eq!(r.new_events.len(), 1);
        assert_eq!(r.regressions.len(), 1);
    }

    #[test]
    fn an_empty_day_renders_a_valid_report() {
        let r = build("2026-11-24".parse().unwrap(), &[], &[], Utc::now());
        let mail = render(&r);
        assert!(mail.subject.contains("2026-11-24"));
        assert!(mail.text.contains("No errors were recorded"));
        assert!(mail.html.ends_with("</html>"));
    }

    #[test]
    fn log_text_in_titles_is_escaped_in_html() {
        let day: NaiveDate = "2026-11-24".parse().unwrap();
        let r = build(
            day,
            &[event(
                1,
                "111111111111",
                Severity::High,
                "2026-11-24T01:00:00Z",
                2,
            )],
            &[],
            Utc::now(),
        );
        let mail = render(&r);
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(mail.text.contains("<script>alert(1)</script>"));
    }
}
