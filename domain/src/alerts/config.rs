//! The alerts configuration: channels, their filters and storm control.
//! Locally it is the `--alerts` JSON file; on AWS the same JSON, with SSM
//! parameter names in place of secret values.

use super::change::{Change, Transition};
use crate::model::{AccountId, Severity};
use base64::Engine;
use serde::Deserialize;

/// A secret (a Slack URL, a webhook signing secret): its value (local file)
/// or the name of the SSM SecureString parameter holding it (AWS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    Value(String),
    Parameter(String),
}

impl Secret {
    /// The value, once resolved; `None` for a parameter not yet read.
    pub fn value(&self) -> Option<&str> {
        match self {
            Secret::Value(v) => Some(v),
            Secret::Parameter(_) => None,
        }
    }
}

/// Where a channel's messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelKind {
    /// A Slack incoming-webhook URL.
    Slack { url: Secret },
    /// A URL receiving Standard Webhooks-signed JSON.
    Webhook { url: String, secret: Secret },
    /// E-mail: SES on AWS, the outbox folder locally.
    Email { to: Vec<String> },
    /// An SNS topic (AWS only).
    Sns { topic_arn: String },
}

impl ChannelKind {
    pub fn name(&self) -> &'static str {
        match self {
            ChannelKind::Slack { .. } => "slack",
            ChannelKind::Webhook { .. } => "webhook",
            ChannelKind::Email { .. } => "email",
            ChannelKind::Sns { .. } => "sns",
        }
    }
}

/// One alert channel and what it wants to hear of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub name: String,
    pub kind: ChannelKind,
    pub min_severity: Severity,
    pub transitions: Vec<Transition>,
    /// Only these accounts, when given.
    pub accounts: Option<Vec<AccountId>>,
    /// Only these sources (`aws.guardduty`, `monitoring.logs`, ...), when given.
    pub sources: Option<Vec<String>>,
}

impl Channel {
    /// The transition this channel is told of for a store write, if any.
    pub fn transition(&self, change: &Change) -> Option<Transition> {
        let t = change.transition(self.min_severity)?;
        let event = &change.after;
        let wanted = self.transitions.contains(&t)
            && self
                .accounts
                .as_ref()
                .is_none_or(|a| a.contains(&event.account))
            && self
                .sources
                .as_ref()
                .is_none_or(|s| s.contains(&event.source));
        wanted.then_some(t)
    }
}

impl Channel {
    /// Whether this channel hears of agents' problems: it lists `agent` in
    /// its transitions, an agent problem counts as `high`, and it has no
    /// `sources` filter (sources are of events).
    pub fn wants_agent_alerts(&self, account: &AccountId) -> bool {
        self.transitions.contains(&Transition::Agent)
            && self.min_severity <= Severity::High
            && self.sources.is_none()
            && self.accounts.as_ref().is_none_or(|a| a.contains(account))
    }
}

/// At most `max_per_window` alerts per channel per window; the rest folds
/// into one summary when the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StormPolicy {
    pub max_per_window: u32,
    pub window_seconds: u32,
}

impl Default for StormPolicy {
    fn default() -> Self {
        StormPolicy {
            max_per_window: 10,
            window_seconds: 300,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlertsConfig {
    /// The console's base URL; alerts link to `<console_url>/events/{id}`.
    pub console_url: Option<String>,
    pub channels: Vec<Channel>,
    pub storm: StormPolicy,
}

/// Why an alerts file was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    console_url: Option<String>,
    channels: Vec<RawChannel>,
    storm: Option<RawStorm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorm {
    max_per_window: Option<u32>,
    window_seconds: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    name: String,
    kind: String,
    url: Option<String>,
    url_parameter: Option<String>,
    secret: Option<String>,
    secret_parameter: Option<String>,
    to: Option<Vec<String>>,
    topic_arn: Option<String>,
    min_severity: Option<String>,
    transitions: Option<Vec<String>>,
    accounts: Option<Vec<String>>,
    sources: Option<Vec<String>>,
}

const DEFAULT_TRANSITIONS: [Transition; 3] = [
    Transition::Opened,
    Transition::Regressed,
    Transition::Escalated,
];

impl AlertsConfig {
    /// Parses and validates the JSON of an alerts file.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = serde_json::from_str(text)
            .map_err(|e| ConfigError(format!("not a valid alerts file: {e}")))?;
        let storm = raw.storm.map_or(Ok(StormPolicy::default()), |s| {
            let policy = StormPolicy {
                max_per_window: s.max_per_window.unwrap_or(10),
                window_seconds: s.window_seconds.unwrap_or(300),
            };
            if policy.max_per_window == 0 {
                return Err(ConfigError(
                    "storm.max_per_window: must be at least 1".into(),
                ));
            }
            if policy.window_seconds == 0 {
                return Err(ConfigError(
                    "storm.window_seconds: must be at least 1".into(),
                ));
            }
            Ok(policy)
        })?;
        if let Some(url) = &raw.console_url {
            check_url("console_url", url)?;
        }
        let mut channels: Vec<Channel> = Vec::with_capacity(raw.channels.len());
        for (i, c) in raw.channels.into_iter().enumerate() {
            let channel = c
                .into_channel()
                .map_err(|e| ConfigError(format!("channels[{i}]: {}", e.0)))?;
            if channels.iter().any(|o| o.name == channel.name) {
                return Err(ConfigError(format!(
                    "channels[{i}]: name: {:?} is used by another channel",
                    channel.name
                )));
            }
            channels.push(channel);
        }
        Ok(AlertsConfig {
            console_url: raw.console_url.map(|u| u.trim_end_matches('/').to_owned()),
            channels,
            storm,
        })
    }

    /// The console page of an agent, when a console URL is set.
    pub fn agent_link(&self, agent_id: &str) -> Option<String> {
        self.console_url
            .as_ref()
            .map(|base| format!("{base}/agents/{agent_id}"))
    }

    /// The console page of an event, when a console URL is set.
    pub fn event_link(&self, event_id: &str) -> Option<String> {
        self.console_url
            .as_ref()
            .map(|base| format!("{base}/events/{event_id}"))
    }
}

fn field_error(field: &str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("{field}: {reason}"))
}

fn check_url(field: &str, url: &str) -> Result<(), ConfigError> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(())
    } else {
        Err(field_error(field, format!("{url:?} is not an http(s) URL")))
    }
}

/// A value or an SSM parameter name, exactly one of the two.
fn secret(
    field: &str,
    value: Option<String>,
    parameter: Option<String>,
) -> Result<Secret, ConfigError> {
    match (value, parameter) {
        (Some(v), None) => Ok(Secret::Value(v)),
        (None, Some(p)) if !p.is_empty() => Ok(Secret::Parameter(p)),
        (None, Some(_)) => Err(field_error(&format!("{field}_parameter"), "is empty")),
        (Some(_), Some(_)) => Err(field_error(
            field,
            format!("give {field} or {field}_parameter, not both"),
        )),
        (None, None) => Err(field_error(field, "is required for this kind")),
    }
}

fn check_webhook_secret(secret: &Secret) -> Result<(), ConfigError> {
    let Some(value) = secret.value() else {
        return Ok(());
    };
    let key = value
        .strip_prefix("whsec_")
        .ok_or_else(|| field_error("secret", "must start with whsec_"))?;
    match base64::engine::general_purpose::STANDARD.decode(key) {
        Ok(k) if !k.is_empty() => Ok(()),
        _ => Err(field_error("secret", "is not base64 after whsec_")),
    }
}

impl RawChannel {
    fn into_channel(self) -> Result<Channel, ConfigError> {
        if self.name.trim().is_empty() {
            return Err(field_error("name", "is empty"));
        }
        let kind = self.kind()?;
        let min_severity = match &self.min_severity {
            None => Severity::High,
            Some(s) => s.parse().map_err(|e| field_error("min_severity", e))?,
        };
        let transitions = match &self.transitions {
            None => DEFAULT_TRANSITIONS.to_vec(),
            Some(list) => list
                .iter()
                .map(|t| {
                    Transition::parse(t).ok_or_else(|| {
                        field_error(
                            "transitions",
                            format!("unknown value {t:?}; expected opened, regressed, escalated, resolved or agent"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let accounts = self
            .accounts
            .map(|list| {
                list.iter()
                    .map(|a| a.parse().map_err(|e| field_error("accounts", e)))
                    .collect::<Result<Vec<AccountId>, _>>()
            })
            .transpose()?;
        Ok(Channel {
            name: self.name,
            kind,
            min_severity,
            transitions,
            accounts,
            sources: self.sources,
        })
    }

    fn kind(&self) -> Result<ChannelKind, ConfigError> {
        let kind = match self.kind.as_str() {
            "slack" => {
                let url = secret("url", self.url.clone(), self.url_parameter.clone())?;
                if let Some(u) = url.value() {
                    check_url("url", u)?;
                }
                ChannelKind::Slack { url }
            }
            "webhook" => {
                let url = self
                    .url
                    .clone()
                    .ok_or_else(|| field_error("url", "is required for a webhook channel"))?;
                check_url("url", &url)?;
                let secret = secret("secret", self.secret.clone(), self.secret_parameter.clone())?;
                check_webhook_secret(&secret)?;
                ChannelKind::Webhook { url, secret }
            }
            "email" => {
                let to = self.to.clone().unwrap_or_default();
                if to.is_empty() {
                    return Err(field_error(
                        "to",
                        "an email channel needs at least one address",
                    ));
                }
                if let Some(bad) = to
                    .iter()
                    .find(|a| !a.contains('@') || a.contains(['\r', '\n']))
                {
                    return Err(field_error(
                        "to",
                        format!("{bad:?} is not an e-mail address"),
                    ));
                }
                ChannelKind::Email { to }
            }
            "sns" => {
                let arn = self.topic_arn.clone().unwrap_or_default();
                if !arn.starts_with("arn:") {
                    return Err(field_error("topic_arn", "an sns channel needs a topic ARN"));
                }
                ChannelKind::Sns { topic_arn: arn }
            }
            other => {
                return Err(field_error(
                    "kind",
                    format!("unknown value {other:?}; expected slack, webhook, email or sns"),
                ))
            }
        };
        self.check_no_foreign_fields(&kind)?;
        Ok(kind)
    }

    /// A field of another kind is a mistake worth naming (say `to` on a slack channel).
    fn check_no_foreign_fields(&self, kind: &ChannelKind) -> Result<(), ConfigError> {
        let present = [
            (
                "url",
                self.url.is_some() || self.url_parameter.is_some(),
                ["slack", "webhook"].as_slice(),
            ),
            (
                "secret",
                self.secret.is_some() || self.secret_parameter.is_some(),
                &["webhook"],
            ),
            ("to", self.to.is_some(), &["email"]),
            ("topic_arn", self.topic_arn.is_some(), &["sns"]),
        ];
        match present
            .iter()
            .find(|(_, given, kinds)| *given && !kinds.contains(&kind.name()))
        {
            Some((field, _, _)) => Err(field_error(
                field,
                format!("is not a field of a {} channel", kind.name()),
            )),
            None => Ok(()),
        }
    }
}
