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
    #[serde(deserialize_with = "rfc3339::deserialize")]
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
    #[serde(deserialize_with = "rfc3339::deserialize")]
    pub first_seen: DateTime<Utc>,
    #[serde(deserialize_with = "rfc3339::deserialize")]
    pub last_seen: DateTime<Utc>,
    #[serde(deserialize_with = "rfc3339::deserialize")]
    pub window_start: DateTime<Utc>,
    #[serde(deserialize_with = "rfc3339::deserialize")]
    pub window_end: DateTime<Utc>,
}

/// The envelope's times as serde reads them. chrono's general parser cost
/// about 2,000 instructions a time, five times an envelope (a tenth of
/// ingest); the form every sender here writes, `2026-11-25T10:00:00[.f]Z`, is
/// read directly, and anything else goes to chrono, so what is accepted and
/// what it means stay chrono's.
mod rfc3339 {
    use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
    use serde::de::{self, Deserializer, Visitor};
    use std::fmt;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        struct Rfc3339;
        impl Visitor<'_> for Rfc3339 {
            type Value = DateTime<Utc>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 date and time")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(Rfc3339)
    }

    pub(super) fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
        match utc_form(s.as_bytes()) {
            Some(t) => Ok(t),
            None => s
                .parse::<DateTime<FixedOffset>>()
                .map(|t| t.with_timezone(&Utc)),
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.1-9 digits]Z` with a valid date and time (no
    /// leap second); `None` for anything else.
    fn utc_form(b: &[u8]) -> Option<DateTime<Utc>> {
        let end = b.len().checked_sub(1)?;
        if b.len() < 20 || [b[4], b[7], b[10], b[13], b[16], b[end]] != *b"--T::Z" {
            return None;
        }
        let number = |from: usize, to: usize| {
            b[from..to].iter().try_fold(0u32, |n, &c| {
                c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
            })
        };
        let nanos = match &b[19..end] {
            [] => 0,
            [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
                number(20, end)? * 10u32.pow(9 - u32::try_from(digits.len()).ok()?)
            }
            _ => return None,
        };
        let year = i32::try_from(number(0, 4)?).ok()?;
        let date = NaiveDate::from_ymd_opt(year, number(5, 7)?, number(8, 10)?)?;
        let second = number(17, 19)?;
        if second > 59 {
            return None;
        }
        let time = NaiveTime::from_hms_nano_opt(number(11, 13)?, number(14, 16)?, second, nanos)?;
        Some(date.and_time(time).and_utc())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reads_every_form_as_chrono_does() {
            let chrono_reads = |s: &str| {
                s.parse::<DateTime<FixedOffset>>()
                    .map(|t| t.with_timezone(&Utc))
            };
            // What senders write: read without chrono, to the same instant.
            let direct = [
                "2026-11-25T10:00:00Z",
                "2026-11-25T10:00:00.5Z",
                "2026-11-25T10:00:00.123Z",
                "2026-11-25T23:59:59.123456789Z",
                "0000-01-01T00:00:00Z",
                "2024-02-29T12:00:00Z",
            ];
            // Other forms and invalid text: chrono's answer, whatever it is.
            let other = [
                "2026-11-25T10:00:00+01:00",
                "2026-11-25t10:00:00z",
                "2026-11-25 10:00:00Z",
                "2026-11-25T10:00:00.1234567891Z",
                "2026-11-25T10:00:60Z",
                "2026-11-25T24:00:00Z",
                "2026-02-30T10:00:00Z",
                "2026-13-01T10:00:00Z",
                "2026-11-25T10:00:00.Z",
                "2026-11-25T10:00:0aZ",
                "+2026-11-25T10:00:00Z",
                "2026-11-25T10:00:00",
                "",
            ];
            for s in direct {
                assert_eq!(
                    utc_form(s.as_bytes()).ok_or(()),
                    chrono_reads(s).map_err(|_| ()),
                    "{s:?}"
                );
            }
            for s in other {
                assert!(utc_form(s.as_bytes()).is_none(), "{s:?}");
                assert_eq!(parse(s).ok(), chrono_reads(s).ok(), "{s:?}");
            }
        }
    }
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
