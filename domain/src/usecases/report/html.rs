//! The HTML part of the report e-mail, in the console's visual language.
//!
//! Written for mail clients, not browsers: layout by tables, every style an
//! inline `style` attribute (clients drop `<style>` blocks and never load a
//! stylesheet), no image, font, script or any other external resource. The
//! colours are the console's (`handlers/console/style.css`): a test keeps
//! them in step.

use super::render::escape_html;
use super::{change, ConsoleUrl, DailyReport, DayActivity, Trend};
use crate::model::{AgentId, Severity};
use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt::Write;

const FONT: &str = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const FG: &str = "#1b1f24";
const MUTED: &str = "#505a66";
const PANEL: &str = "#f4f6f8";
const LINE: &str = "#d0d7de";
const ACCENT: &str = "#0b57d0";
const TOP_BAR: &str = "#14213d";
const OK: &str = "#145c2e";

/// The console's colours of a severity: (text and border, background).
pub fn severity_colours(s: Severity) -> (&'static str, &'static str) {
    match s {
        Severity::Critical => ("#8e0b1a", "#fde4e6"),
        Severity::High => ("#8a3400", "#ffe9d6"),
        Severity::Medium => ("#6b5300", "#fff4c2"),
        Severity::Low => ("#0b4c8c", "#e1efff"),
        Severity::Info => ("#3d4651", "#eceff2"),
    }
}

/// The console's badge of a severity.
fn badge(s: Severity) -> String {
    let (fg, bg) = severity_colours(s);
    format!(
        "<span data-severity=\"{s}\" style=\"display:inline-block;padding:1px 8px;\
         border:1px solid {fg};border-radius:10px;color:{fg};background-color:{bg};\
         font-size:12px;font-weight:600;line-height:18px;white-space:nowrap\">{s}</span>"
    )
}

/// A link, or the bare text without a URL.
fn link(text: &str, url: Option<String>, style: &str) -> String {
    match url {
        Some(url) => format!(
            "<a href=\"{}\" style=\"color:{ACCENT};text-decoration:underline;{style}\">{}</a>",
            escape_html(&url),
            escape_html(text)
        ),
        None => format!("<span style=\"{style}\">{}</span>", escape_html(text)),
    }
}

/// The whole HTML document.
pub(super) fn render(r: &DailyReport, subject: &str, console: Option<&ConsoleUrl>) -> String {
    let mut h = String::with_capacity(8192 + 1024 * r.summary.top.len());
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title></head>\
         <body style=\"margin:0;padding:0;background-color:{PANEL};color:{FG};{FONT}\">\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" bgcolor=\"{PANEL}\" style=\"background-color:{PANEL}\">\
         <tr><td align=\"center\" style=\"padding:24px 12px\">\
         <table role=\"presentation\" width=\"640\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" bgcolor=\"#ffffff\" \
         style=\"width:100%;max-width:640px;background-color:#ffffff;border:1px solid {LINE};border-collapse:separate\">",
        escape_html(subject)
    );
    header(&mut h, r, console);
    h.push_str("<tr><td style=\"padding:8px 24px 24px;font-size:14px;line-height:20px\">");
    totals(&mut h, r);
    if r.summary.events == 0 {
        let _ = write!(
            h,
            "<p style=\"margin:16px 0 0\">No errors were recorded on {}.</p>",
            r.summary.day
        );
    }
    for (title, rows) in r.event_lists() {
        events(&mut h, &title, rows, console);
    }
    accounts(&mut h, r);
    quiet_agents(&mut h, &r.quiet_agents, console);
    footer(&mut h, r, console);
    h.push_str("</td></tr></table></td></tr></table></body></html>");
    h
}

/// The console's top bar: the name, the day, a link to the console.
fn header(h: &mut String, r: &DailyReport, console: Option<&ConsoleUrl>) {
    let _ = write!(
        h,
        "<tr><td bgcolor=\"{TOP_BAR}\" style=\"background-color:{TOP_BAR};color:#ffffff;padding:16px 24px\">\
         <div style=\"font-size:13px;font-weight:700;letter-spacing:.02em\">aws-monitoring</div>\
         <h1 style=\"margin:4px 0 0;font-size:22px;line-height:28px;font-weight:700;color:#ffffff\">Daily report for {}</h1>",
        r.summary.day
    );
    if let Some(c) = console {
        let _ = write!(
            h,
            "<div style=\"margin-top:6px;font-size:13px\"><a href=\"{}/\" style=\"color:#ffffff;text-decoration:underline\">Open the console</a></div>",
            escape_html(c.as_str())
        );
    }
    h.push_str("</td></tr>");
}

fn trend_colour(t: Trend) -> &'static str {
    match t {
        Trend::Up => severity_colours(Severity::Critical).0,
        Trend::New => severity_colours(Severity::High).0,
        Trend::Down => OK,
        Trend::Same => MUTED,
    }
}

/// One card of the header: a figure, its name, its change.
fn card(h: &mut String, value: u64, name: &str, before: Option<(u64, chrono::NaiveDate)>) {
    let _ = write!(
        h,
        "<td width=\"50%\" bgcolor=\"{PANEL}\" style=\"background-color:{PANEL};padding:12px 16px;vertical-align:top\">\
         <div style=\"font-size:28px;line-height:34px;font-weight:700\">{value}</div>\
         <div style=\"color:{MUTED};font-size:13px\">{name}</div>"
    );
    if let Some((before, day)) = before {
        let (trend, words) = change(value, before, day);
        let _ = write!(
            h,
            "<div data-change=\"{name}\" style=\"margin-top:4px;font-size:13px;font-weight:600;color:{}\">{words}</div>",
            trend_colour(trend)
        );
    }
    h.push_str("</td>");
}

/// The day's totals with their change, then the occurrences by severity.
fn totals(h: &mut String, r: &DailyReport) {
    let p = r.previous;
    h.push_str("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"margin-top:16px\"><tr>");
    card(
        h,
        r.summary.occurrences,
        "occurrences",
        p.map(|p| (p.occurrences, p.day)),
    );
    h.push_str("<td width=\"12\" style=\"width:12px\">&nbsp;</td>");
    let events = r.summary.events as u64;
    card(h, events, "events", p.map(|p| (p.events as u64, p.day)));
    h.push_str("</tr></table>");
    if r.summary.by_severity.is_empty() {
        return;
    }
    section_title(h, "Occurrences by severity");
    h.push_str(
        "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr>",
    );
    for (s, n) in r.summary.by_severity.iter().rev() {
        let _ = write!(
            h,
            "<td style=\"padding:0 16px 4px 0;white-space:nowrap\">{} <b>{n}</b></td>",
            badge(*s)
        );
    }
    h.push_str("</tr></table>");
}

fn section_title(h: &mut String, title: &str) {
    let _ = write!(
        h,
        "<h2 style=\"margin:24px 0 8px;font-size:17px;line-height:22px;font-weight:700;color:{FG}\">{}</h2>",
        escape_html(title)
    );
}

/// A table with a header row of these cells, the last one right-aligned.
fn table_head(h: &mut String, cells: &[&str]) {
    h.push_str("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"border-collapse:collapse\"><tr>");
    for (i, c) in cells.iter().enumerate() {
        let align = if i + 1 == cells.len() {
            "right"
        } else {
            "left"
        };
        let _ = write!(
            h,
            "<th align=\"{align}\" style=\"padding:4px 8px 4px 0;border-bottom:1px solid {LINE};color:{MUTED};font-size:12px;font-weight:600;text-align:{align}\">{c}</th>"
        );
    }
    h.push_str("</tr>");
}

const CELL: &str = "padding:8px 8px 8px 0;border-bottom:1px solid #d0d7de;vertical-align:top";

/// Events as rows: severity badge, title (linked), account / region and
/// status, that day's count.
fn events(h: &mut String, title: &str, rows: &[DayActivity], console: Option<&ConsoleUrl>) {
    if rows.is_empty() {
        return;
    }
    section_title(h, title);
    table_head(h, &["severity", "event", "count"]);
    for l in rows {
        let _ = write!(
            h,
            "<tr><td width=\"84\" style=\"{CELL};width:84px\">{}</td>\
             <td style=\"{CELL};word-break:break-word\">{}\
             <div style=\"margin-top:2px;color:{MUTED};font-size:12px\">{} / {} &middot; {}</div></td>\
             <td align=\"right\" style=\"{CELL};text-align:right;font-weight:700;white-space:nowrap\">{}</td></tr>",
            badge(l.severity),
            link(&l.title, console.map(|c| c.event(&l.id)), "font-weight:600"),
            l.account,
            escape_html(l.region.as_str()),
            l.status,
            l.day_count
        );
    }
    h.push_str("</table>");
}

fn accounts(h: &mut String, r: &DailyReport) {
    if r.summary.by_account.is_empty() {
        return;
    }
    section_title(h, "Occurrences by account");
    table_head(h, &["account", "occurrences"]);
    for (account, n) in &r.summary.by_account {
        let _ = write!(
            h,
            "<tr><td style=\"{CELL}\">{account}</td><td align=\"right\" style=\"{CELL};text-align:right;font-weight:700\">{n}</td></tr>"
        );
    }
    h.push_str("</table>");
}

/// The agents that were stale or silent that day, each linked to its page.
fn quiet_agents(
    h: &mut String,
    agents: &[(AgentId, String, Option<DateTime<Utc>>)],
    console: Option<&ConsoleUrl>,
) {
    if agents.is_empty() {
        return;
    }
    section_title(h, "Agents that are stale or sent nothing that day");
    table_head(h, &["agent", "last seen"]);
    for (id, name, seen) in agents {
        let seen = seen.map_or("never".to_owned(), |t| {
            t.to_rfc3339_opts(SecondsFormat::Secs, true)
        });
        let _ = write!(
            h,
            "<tr><td style=\"{CELL}\">{} <span style=\"color:{MUTED};font-size:12px\">({})</span></td>\
             <td align=\"right\" style=\"{CELL};text-align:right;white-space:nowrap\">{seen}</td></tr>",
            link(&id.to_string(), console.map(|c| c.agent(id)), "font-weight:600"),
            escape_html(name)
        );
    }
    h.push_str("</table>");
}

fn footer(h: &mut String, r: &DailyReport, console: Option<&ConsoleUrl>) {
    let _ = write!(
        h,
        "<p style=\"margin:24px 0 0;color:{MUTED};font-size:12px;line-height:18px\">\
         Counts are occurrences on {} (UTC), from the per-day counters.",
        r.summary.day
    );
    if let Some(c) = console {
        let _ = write!(
            h,
            " Each event links to its page in the console, <a href=\"{0}/\" style=\"color:{ACCENT}\">{0}/</a>.",
            escape_html(c.as_str())
        );
    }
    h.push_str("</p>");
}
