//! Agents, their configs and validation.

use super::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One classification rule: the first rule whose pattern matches gives the severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub pattern: String,
    pub severity: Severity,
}

/// What an agent queries and how it classifies, as the master pushes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub enabled: bool,
    pub schedule_minutes: u32,
    pub log_group_prefixes: Vec<String>,
    pub log_groups: Vec<String>,
    pub exclude_patterns: Vec<String>,
    pub rules: Vec<Rule>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            schedule_minutes: 5,
            log_group_prefixes: vec!["/aws/lambda/".into()],
            log_groups: vec![],
            exclude_patterns: vec![],
            rules: vec![],
        }
    }
}

/// A partial config, as `PUT /agents/{id}` takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfigPatch {
    pub enabled: Option<bool>,
    pub schedule_minutes: Option<u32>,
    pub log_group_prefixes: Option<Vec<String>>,
    pub log_groups: Option<Vec<String>>,
    pub exclude_patterns: Option<Vec<String>>,
    pub rules: Option<Vec<Rule>>,
}

/// A log group name or prefix: CloudWatch's character set, 1-512 characters.
pub fn validate_log_group_name(field: &'static str, s: &str) -> Result<(), InvalidValue> {
    let ok = !s.is_empty()
        && s.len() <= 512
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'));
    if ok {
        Ok(())
    } else {
        Err(InvalidValue::new(
            field,
            format!("{s:?} is not a log group name (1-512 of A-Z a-z 0-9 . - _ / #)"),
        ))
    }
}

impl AgentConfig {
    pub const MAX_SCHEDULE_MINUTES: u32 = 1440;

    /// Checks every field an operator can send; regexes must compile.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        if !(1..=Self::MAX_SCHEDULE_MINUTES).contains(&self.schedule_minutes) {
            return Err(InvalidValue::new(
                "schedule_minutes",
                "must be between 1 and 1440",
            ));
        }
        for p in &self.log_group_prefixes {
            // An empty prefix is allowed: it means every log group.
            if !p.is_empty() {
                validate_log_group_name("log_group_prefixes", p)?;
            }
        }
        for g in &self.log_groups {
            validate_log_group_name("log_groups", g)?;
        }
        if self.log_group_prefixes.len() + self.log_groups.len() > 1000 {
            return Err(InvalidValue::new(
                "log_groups",
                "at most 1000 groups and prefixes",
            ));
        }
        for p in &self.exclude_patterns {
            compile_pattern("exclude_patterns", p)?;
        }
        for r in &self.rules {
            compile_pattern("rules", &r.pattern)?;
        }
        Ok(())
    }

    pub fn patched(&self, p: &AgentConfigPatch) -> AgentConfig {
        let mut c = self.clone();
        if let Some(v) = p.enabled {
            c.enabled = v;
        }
        if let Some(v) = p.schedule_minutes {
            c.schedule_minutes = v;
        }
        if let Some(v) = &p.log_group_prefixes {
            c.log_group_prefixes.clone_from(v);
        }
        if let Some(v) = &p.log_groups {
            c.log_groups.clone_from(v);
        }
        if let Some(v) = &p.exclude_patterns {
            c.exclude_patterns.clone_from(v);
        }
        if let Some(v) = &p.rules {
            c.rules.clone_from(v);
        }
        c
    }

    /// Whether a log group is one this agent watches.
    pub fn watches(&self, group: &str) -> bool {
        self.log_groups.iter().any(|g| g == group)
            || self
                .log_group_prefixes
                .iter()
                .any(|p| group.starts_with(p.as_str()))
    }
}

pub(crate) fn compile_pattern(field: &'static str, p: &str) -> Result<regex::Regex, InvalidValue> {
    if p.len() > 1024 {
        return Err(InvalidValue::new(
            field,
            "pattern longer than 1024 characters",
        ));
    }
    regex::RegexBuilder::new(p)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| InvalidValue::new(field, format!("invalid regex {p:?}: {e}")))
}

/// What the agent did in its last run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub log_groups: u64,
    pub records_matched: u64,
    pub occurrences_published: u64,
}

/// An agent as the master tracks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub account: AccountId,
    pub region: Region,
    pub name: String,
    pub status: AgentStatus,
    pub version: String,
    pub registered_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub config: AgentConfig,
    pub config_version: u64,
    pub applied_config_version: u64,
    /// When the desired config last changed (a `PUT`), so UpdateDeployment
    /// can tell a push not applied in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_updated_at: Option<DateTime<Utc>>,
    pub last_run: Option<LastRun>,
    /// Counts writes, for optimistic concurrency between the API and UpdateDeployment.
    #[serde(default)]
    pub revision: u64,
}

impl Agent {
    /// `stale` after three schedule periods without a heartbeat, derived at read time.
    pub fn with_derived_status(mut self, now: DateTime<Utc>) -> Self {
        if self.status == AgentStatus::Removed {
            return self;
        }
        self.status = if !self.config.enabled {
            AgentStatus::Disabled
        } else {
            let seen = self.last_seen_at.unwrap_or(self.registered_at);
            let period = chrono::Duration::minutes(i64::from(self.config.schedule_minutes) * 3);
            if now - seen > period {
                AgentStatus::Stale
            } else {
                AgentStatus::Active
            }
        };
        self
    }
}
