//! The report as an e-mail: one subject, a text part and an HTML part.

use super::{ConsoleUrl, DailyReport};
use crate::ports::Email;

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

/// The subject: the day and its totals (`N occurrences of M events`; tools
/// read it, so its shape does not change).
pub(super) fn subject(r: &DailyReport) -> String {
    format!(
        "aws-monitoring daily report for {}: {} occurrences of {} events",
        r.summary.day, r.summary.occurrences, r.summary.events
    )
}

/// Renders the report as an e-mail with a text and an HTML part; with a
/// console URL, each event (and each quiet agent) links to its console page.
pub fn render(r: &DailyReport, console: Option<&ConsoleUrl>) -> Email {
    let subject = subject(r);
    Email {
        text: super::text::render(r, &subject, console),
        html: super::html::render(r, &subject, console),
        subject,
        day: r.summary.day,
    }
}
