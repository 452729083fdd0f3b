//! The EventBridge envelope and the `detail` shapes this system publishes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const SOURCE_LOGS: &str = "monitoring.agent.logs";
pub const SOURCE_AGENT: &str = "monitoring.agent";
pub const SOURCE_MASTER: &str = "monitoring.master";
pub const SOURCE_GUARDDUTY: &str = "aws.guardduty";
pub const SOURCE_HEALTH: &str = "aws.health";
pub const SOURCE_CLOUDWATCH: &str = "aws.cloudwatch";

pub const DT_LOG_ERRORS: &str = "Log Errors Detected";
pub const DT_AGENT_REGISTERED: &str = "Agent Registered";
pub const DT_AGENT_HEARTBEAT: &str = "Agent Heartbeat";
pub const DT_AGENT_CONFIG_APPLIED: &str = "Agent Config Applied";
pub const DT_AGENT_CONFIG_UPDATE: &str = "Agent Config Update";
pub const DT_GUARDDUTY: &str = "GuardDuty Finding";
pub const DT_HEALTH: &str = "AWS Health Event";
pub const DT_ALARM: &str = "CloudWatch Alarm State Change";

/// An EventBridge event as rules and targets see it. When this system
/// publishes, `account` and `region` are the publisher's own: EventBridge
/// overwrites them with the caller's, and the in-process bus does the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(default = "version_zero")]
    pub version: String,
    #[serde(default)]
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub account: String,
    #[serde(deserialize_with = "crate::time_text::deserialize")]
    pub time: DateTime<Utc>,
    pub region: String,
    #[serde(default)]
    pub resources: Vec<String>,
    pub detail: serde_json::Value,
}

impl Envelope {
    /// The envelope in a Lambda payload; the error says why it is none (the
    /// Lambda entries skip such a payload rather than retry it).
    pub fn from_payload(payload: serde_json::Value) -> Result<Self, String> {
        serde_json::from_value(payload).map_err(|e| format!("not an EventBridge envelope: {e}"))
    }
}

fn version_zero() -> String {
    "0".to_owned()
}

impl Envelope {
    /// Parses one file or request body: one envelope or an array of them.
    pub fn parse_many(json: &str) -> Result<Vec<Envelope>, serde_json::Error> {
        let v: serde_json::Value = serde_json::from_str(json)?;
        match v {
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(serde_json::from_value)
                .collect::<Result<Vec<_>, _>>(),
            other => Ok(vec![serde_json::from_value(other)?]),
        }
    }
}

/// `detail` of `Log Errors Detected`: one (log group, fingerprint, window) group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogErrorsDetail {
    pub agent_id: String,
    /// Deterministic per (agent, log group, fingerprint, window).
    pub occurrence_key: String,
    pub log_group: String,
    pub fingerprint: String,
    pub severity: crate::model::Severity,
    pub title: String,
    pub sample: String,
    #[serde(default)]
    pub sample_truncated: bool,
    pub count: u64,
    #[serde(deserialize_with = "crate::time_text::deserialize")]
    pub first_seen: DateTime<Utc>,
    #[serde(deserialize_with = "crate::time_text::deserialize")]
    pub last_seen: DateTime<Utc>,
    #[serde(deserialize_with = "crate::time_text::deserialize")]
    pub window_start: DateTime<Utc>,
    #[serde(deserialize_with = "crate::time_text::deserialize")]
    pub window_end: DateTime<Utc>,
}

/// `detail` of `Agent Registered` and `Agent Heartbeat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReportDetail {
    #[serde(default)]
    pub name: Option<String>,
    pub version: String,
    /// The config the agent runs (sent on registration), if any.
    #[serde(default)]
    pub config: Option<crate::model::AgentConfig>,
    /// The config version the agent runs (0: never pushed).
    #[serde(default)]
    pub config_version: u64,
    #[serde(default)]
    pub last_run: Option<crate::model::LastRun>,
}

/// `detail` of `Agent Config Applied`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigAppliedDetail {
    pub config_version: u64,
}

/// `detail` of `Agent Config Update` (master → agent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigUpdateDetail {
    pub agent_id: String,
    pub config_version: u64,
    pub config: crate::model::AgentConfig,
}
