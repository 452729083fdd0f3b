//! Agents' problems that alert (UpdateDeployment's side of the alerts): an
//! agent turned stale, or a pushed config not applied within three schedule
//! periods. Each problem has an episode key, so it alerts once per episode.

use crate::model::{Agent, AgentStatus};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentProblem {
    /// No heartbeat for three schedule periods.
    Stale,
    /// The desired config was not applied three schedule periods after it changed.
    ConfigNotApplied,
}

impl AgentProblem {
    /// The webhook `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentProblem::Stale => "agent.stale",
            AgentProblem::ConfigNotApplied => "agent.config_not_applied",
        }
    }

    /// What happened, in words.
    pub fn describe(self, agent: &Agent) -> String {
        match self {
            AgentProblem::Stale => format!(
                "agent {} ({}) has sent no heartbeat since {}",
                agent.id,
                agent.name,
                agent
                    .last_seen_at
                    .map_or_else(|| "it registered".to_owned(), |t| t.to_rfc3339())
            ),
            AgentProblem::ConfigNotApplied => format!(
                "agent {} ({}) has not applied config version {} (applied: {})",
                agent.id, agent.name, agent.config_version, agent.applied_config_version
            ),
        }
    }
}

/// The problems of `agent` at `now`, each with the key of its episode: a
/// stale spell ends with a heartbeat, a config episode with a new version.
pub fn agent_problems(agent: &Agent, now: DateTime<Utc>) -> Vec<(AgentProblem, String)> {
    let derived = agent.clone().with_derived_status(now);
    let mut out = Vec::new();
    if derived.status == AgentStatus::Stale {
        let since = agent.last_seen_at.unwrap_or(agent.registered_at);
        out.push((
            AgentProblem::Stale,
            format!("agent:{}:stale:{}", agent.id, since.timestamp()),
        ));
    }
    let periods = chrono::Duration::minutes(i64::from(agent.config.schedule_minutes) * 3);
    let overdue = agent
        .config_updated_at
        .is_some_and(|changed| now - changed > periods);
    if derived.status == AgentStatus::Active
        && agent.applied_config_version < agent.config_version
        && overdue
    {
        out.push((
            AgentProblem::ConfigNotApplied,
            format!("agent:{}:config:{}", agent.id, agent.config_version),
        ));
    }
    out
}
