//! The message each kind of channel gets: Slack `text` + Block Kit `blocks`,
//! the signed webhook's JSON body, e-mail text + HTML, an SNS subject + text.

use super::agent::AgentProblem;
use super::change::Transition;
use super::config::ChannelKind;
use crate::model::{Agent, Event, Fingerprint, Severity, Status};
use crate::usecases::report::escape_html;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

/// Transitions folded by storm control, sent when their window ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub suppressed: u64,
    pub titles: Vec<String>,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MessageBody {
    Event {
        transition: Transition,
        event: Box<Event>,
    },
    Summary(Summary),
    /// An agent's problem (UpdateDeployment), with the agent as `GET /agents/{id}` shows it.
    Agent {
        problem: AgentProblem,
        agent: Box<Agent>,
    },
}

/// One alert: `id` is the `webhook-id`, the same on every retry.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub timestamp: DateTime<Utc>,
    pub body: MessageBody,
}

/// A message rendered for one channel kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// A JSON body to POST (Slack, webhook).
    Json(String),
    Email {
        subject: String,
        text: String,
        html: String,
    },
    Sns {
        subject: String,
        text: String,
    },
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn severity_icon(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "🔴",
        Severity::High => "🟠",
        Severity::Medium => "🟡",
        Severity::Low => "🔵",
        Severity::Info => "⚪",
    }
}

/// Cuts `s` to at most `max` characters, marking the cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

impl Message {
    /// The webhook body: `{"type", "timestamp", "data"}`.
    pub fn webhook_json(&self) -> String {
        let (kind, data) = match &self.body {
            MessageBody::Event { transition, event } => {
                (format!("event.{transition}"), json!({ "event": event }))
            }
            MessageBody::Agent { problem, agent } => {
                (problem.as_str().to_owned(), json!({ "agent": agent }))
            }
            MessageBody::Summary(s) => (
                "storm.summary".to_owned(),
                json!({
                    "suppressed": s.suppressed,
                    "titles": s.titles,
                    "window_start": time(s.window_start),
                    "window_end": time(s.window_end),
                }),
            ),
        };
        json!({ "type": kind, "timestamp": time(self.timestamp), "data": data }).to_string()
    }

    /// One line saying what happened, for Slack's `text`, subjects and SNS.
    pub fn headline(&self) -> String {
        match &self.body {
            MessageBody::Event { transition, event } => format!(
                "[{}] {}: {} ({}/{})",
                event.severity.as_str().to_uppercase(),
                transition,
                clip(&event.title, 120),
                event.account,
                event.region
            ),
            MessageBody::Agent { problem, agent } => {
                format!("[AGENT] {}", problem.describe(agent))
            }
            MessageBody::Summary(s) => format!(
                "Alert storm: {} more alerts held back between {} and {}",
                s.suppressed,
                time(s.window_start),
                time(s.window_end)
            ),
        }
    }

    /// The plain-text body (e-mail, SNS).
    pub fn text(&self, link: Option<&str>) -> String {
        let mut out = self.headline();
        out.push_str("\n\n");
        match &self.body {
            MessageBody::Event { event, .. } => {
                for (name, value) in facts(event) {
                    out.push_str(&format!("{name}: {value}\n"));
                }
                out.push_str(&format!("\n{}\n", clip(&event.sample, 2000)));
                if let Some(link) = link {
                    out.push_str(&format!("\n{link}\n"));
                }
            }
            MessageBody::Agent { agent, .. } => {
                for (name, value) in agent_facts(agent) {
                    out.push_str(&format!("{name}: {value}\n"));
                }
                if let Some(link) = link {
                    out.push_str(&format!("\n{link}\n"));
                }
            }
            MessageBody::Summary(s) => {
                for t in &s.titles {
                    out.push_str(&format!("- {t}\n"));
                }
            }
        }
        out
    }

    /// Slack: a `text` fallback and Block Kit `blocks`.
    pub fn slack_json(&self, link: Option<&str>) -> String {
        let mut blocks = Vec::new();
        match &self.body {
            MessageBody::Event { transition, event } => {
                let header = format!(
                    "{} {}: {}",
                    severity_icon(event.severity),
                    capitalised(transition.as_str()),
                    event.title
                );
                blocks.push(json!({"type": "header", "text": {"type": "plain_text", "text": clip(&header, 150)}}));
                let fields: Vec<Value> = facts(event)
                    .into_iter()
                    .map(|(name, value)| json!({"type": "mrkdwn", "text": format!("*{name}*\n{}", slack_escape(&value))}))
                    .collect();
                blocks.push(json!({"type": "section", "fields": fields}));
                if !event.sample.is_empty() {
                    let sample = format!("```{}```", slack_escape(&clip(&event.sample, 600)));
                    blocks.push(
                        json!({"type": "section", "text": {"type": "mrkdwn", "text": sample}}),
                    );
                }
                if let Some(link) = link {
                    blocks.push(json!({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open in the console"}, "url": link}]}));
                }
            }
            MessageBody::Agent { problem, agent } => {
                blocks.push(json!({"type": "header", "text": {"type": "plain_text", "text": clip(&format!("⚠️ {}", problem.describe(agent)), 150)}}));
                let fields: Vec<Value> = agent_facts(agent)
                    .into_iter()
                    .map(|(name, value)| json!({"type": "mrkdwn", "text": format!("*{name}*\n{}", slack_escape(&value))}))
                    .collect();
                blocks.push(json!({"type": "section", "fields": fields}));
                if let Some(link) = link {
                    blocks.push(json!({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open in the console"}, "url": link}]}));
                }
            }
            MessageBody::Summary(s) => {
                blocks.push(json!({"type": "header", "text": {"type": "plain_text", "text": format!("Alert storm: {} alerts held back", s.suppressed)}}));
                let list: String = s
                    .titles
                    .iter()
                    .map(|t| format!("• {}\n", slack_escape(&clip(t, 150))))
                    .collect();
                blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("Between {} and {}:\n{list}", time(s.window_start), time(s.window_end))}}));
            }
        }
        json!({ "text": self.headline(), "blocks": blocks }).to_string()
    }

    /// E-mail: subject, text and an HTML part with everything escaped.
    pub fn email(&self, link: Option<&str>) -> (String, String, String) {
        let subject = format!("[aws-monitoring] {}", clip(&self.headline(), 180));
        let text = self.text(link);
        let mut html = format!(
            "<html><body style=\"font-family:sans-serif\"><h2>{}</h2>",
            escape_html(&self.headline())
        );
        match &self.body {
            MessageBody::Event { event, .. } => {
                html.push_str("<table>");
                for (name, value) in facts(event) {
                    html.push_str(&format!(
                        "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
                        escape_html(name),
                        escape_html(&value)
                    ));
                }
                html.push_str(&format!(
                    "</table><pre style=\"background:#f6f8fa;padding:8px\">{}</pre>",
                    escape_html(&clip(&event.sample, 4000))
                ));
                if let Some(link) = link {
                    html.push_str(&format!(
                        "<p><a href=\"{0}\">{0}</a></p>",
                        escape_html(link)
                    ));
                }
            }
            MessageBody::Agent { agent, .. } => {
                html.push_str("<table>");
                for (name, value) in agent_facts(agent) {
                    html.push_str(&format!(
                        "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
                        escape_html(name),
                        escape_html(&value)
                    ));
                }
                html.push_str("</table>");
                if let Some(link) = link {
                    html.push_str(&format!(
                        "<p><a href=\"{0}\">{0}</a></p>",
                        escape_html(link)
                    ));
                }
            }
            MessageBody::Summary(s) => {
                html.push_str("<ul>");
                for t in &s.titles {
                    html.push_str(&format!("<li>{}</li>", escape_html(t)));
                }
                html.push_str("</ul>");
            }
        }
        html.push_str("</body></html>");
        (subject, text, html)
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Slack's mrkdwn needs only `&`, `<` and `>` escaped.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The facts every rendering shows, in order.
fn facts(e: &Event) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("Severity", e.severity.to_string()),
        ("Status", e.status.to_string()),
        ("Account / region", format!("{} / {}", e.account, e.region)),
        ("Count", e.count.to_string()),
        ("First seen", time(e.first_seen)),
        ("Last seen", time(e.last_seen)),
        ("Source", e.source.clone()),
    ];
    if let Some(group) = &e.log_group {
        out.push(("Log group", group.clone()));
    }
    out
}

/// The facts of an agent alert, in order.
fn agent_facts(a: &Agent) -> Vec<(&'static str, String)> {
    vec![
        ("Agent", format!("{} ({})", a.id, a.name)),
        ("Status", a.status.to_string()),
        (
            "Last heartbeat",
            a.last_seen_at.map_or_else(|| "never".to_owned(), time),
        ),
        (
            "Config version (desired / applied)",
            format!("{} / {}", a.config_version, a.applied_config_version),
        ),
    ]
}

/// What `monitoring alerts test` sends: an event that says it is a test.
pub fn test_event(now: DateTime<Utc>) -> Event {
    let account: crate::model::AccountId = "000000000000".parse().expect("a valid account");
    let region: crate::model::Region = "local".parse().expect("a valid region");
    Event {
        id: crate::model::EventId::derive(&account, &region, "monitoring.test", "alerts test"),
        account,
        region,
        source: "monitoring.test".into(),
        detail_type: "Alert Test".into(),
        severity: Severity::Critical,
        status: Status::Open,
        title: "Test alert from aws-monitoring: this channel works".into(),
        fingerprint: Some(Fingerprint::from_hash(0)),
        count: 1,
        first_seen: now,
        last_seen: now,
        log_group: None,
        sample: "This is a test message sent by `monitoring alerts test`.".into(),
        resources: vec![],
        detail: json!({}),
        note: None,
        assignee: None,
        updated_at: now,
        version: 1,
        state_time: None,
        reopened_at: None,
    }
}

/// The rendering of `message` for a channel kind.
pub fn render(kind: &ChannelKind, message: &Message, link: Option<&str>) -> Rendered {
    match kind {
        ChannelKind::Slack { .. } => Rendered::Json(message.slack_json(link)),
        ChannelKind::Webhook { .. } => Rendered::Json(message.webhook_json()),
        ChannelKind::Email { .. } => {
            let (subject, text, html) = message.email(link);
            Rendered::Email {
                subject,
                text,
                html,
            }
        }
        ChannelKind::Sns { .. } => Rendered::Sns {
            subject: clip(&message.headline(), 100),
            text: message.text(link),
        },
    }
}
