//! The master's inbound edge: an envelope is parsed once, here, into a typed
//! [`Inbound`] value (validated account and region, the typed detail of its
//! kind), and routed by the one [`ROUTES`] table. The local bus's rules, the
//! Lambda handlers and (through a test) the Terraform rules all follow it.

mod occurrence;

pub use occurrence::{guardduty_severity, MAX_SAMPLE, MAX_TITLE};

use crate::envelope::*;
use crate::model::*;

/// The function an envelope is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Occurrences of problems: HandleMonitoringEvents.
    HandleMonitoringEvents,
    /// Agent lifecycle messages: UpdateDeployment.
    UpdateDeployment,
    /// Config pushed by the master: the agent (QueryErrorLogs).
    Agent,
}

impl Target {
    /// The function's (and the local bus rule's) name.
    pub fn name(self) -> &'static str {
        match self {
            Target::HandleMonitoringEvents => "handle-monitoring-events",
            Target::UpdateDeployment => "update-deployment",
            Target::Agent => "query-error-logs",
        }
    }
}

/// The routing table: every (source, detail-type) this system handles, and
/// the function it goes to. Anything else is unsupported.
pub const ROUTES: &[(&str, &str, Target)] = &[
    (SOURCE_LOGS, DT_LOG_ERRORS, Target::HandleMonitoringEvents),
    (
        SOURCE_GUARDDUTY,
        DT_GUARDDUTY,
        Target::HandleMonitoringEvents,
    ),
    (SOURCE_HEALTH, DT_HEALTH, Target::HandleMonitoringEvents),
    (SOURCE_CLOUDWATCH, DT_ALARM, Target::HandleMonitoringEvents),
    (SOURCE_AGENT, DT_AGENT_REGISTERED, Target::UpdateDeployment),
    (SOURCE_AGENT, DT_AGENT_HEARTBEAT, Target::UpdateDeployment),
    (
        SOURCE_AGENT,
        DT_AGENT_CONFIG_APPLIED,
        Target::UpdateDeployment,
    ),
    (SOURCE_MASTER, DT_AGENT_CONFIG_UPDATE, Target::Agent),
];

/// Where an envelope of this source and detail-type goes, if anywhere.
pub fn route(source: &str, detail_type: &str) -> Option<Target> {
    ROUTES
        .iter()
        .find(|(s, d, _)| *s == source && *d == detail_type)
        .map(|(_, _, t)| *t)
}

/// The (source, detail-type) pairs routed to `target`.
pub fn routes_to(target: Target) -> impl Iterator<Item = (&'static str, &'static str)> {
    ROUTES
        .iter()
        .filter(move |(_, _, t)| *t == target)
        .map(|(s, d, _)| (*s, *d))
}

/// An envelope the master handles, parsed and validated.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// One occurrence of a problem (a log group's errors or an AWS event).
    Occurrence(Box<Occurrence>),
    /// An agent's registration, heartbeat or config acknowledgement.
    Agent(Box<AgentMessage>),
}

/// An agent lifecycle message; the agent is named by the envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentMessage {
    pub agent: AgentId,
    pub kind: AgentMessageKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AgentMessageKind {
    Registered(AgentReportDetail),
    Heartbeat(AgentReportDetail),
    ConfigApplied(ConfigAppliedDetail),
}

/// Why an envelope cannot be handled: the envelope's fault, so retrying
/// cannot help. Failures on our side are [`crate::ports::PortError`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("malformed {detail_type:?} envelope: {reason}")]
    Malformed { detail_type: String, reason: String },
    #[error("unsupported envelope {source_name:?} / {detail_type:?}")]
    Unsupported {
        source_name: String,
        detail_type: String,
    },
}

impl InboundError {
    pub fn malformed(env: &Envelope, reason: impl Into<String>) -> Self {
        InboundError::Malformed {
            detail_type: env.detail_type.clone(),
            reason: reason.into(),
        }
    }

    pub fn unsupported(env: &Envelope) -> Self {
        InboundError::Unsupported {
            source_name: env.source.clone(),
            detail_type: env.detail_type.clone(),
        }
    }
}

impl Inbound {
    /// Parses an envelope the master handles (HandleMonitoringEvents or
    /// UpdateDeployment); anything else is unsupported.
    pub fn parse(env: &Envelope) -> Result<Inbound, InboundError> {
        match route(&env.source, &env.detail_type) {
            Some(Target::HandleMonitoringEvents) => {
                Self::occurrence(env).map(|o| Inbound::Occurrence(Box::new(o)))
            }
            Some(Target::UpdateDeployment) => {
                Self::agent_message(env).map(|m| Inbound::Agent(Box::new(m)))
            }
            _ => Err(InboundError::unsupported(env)),
        }
    }

    /// Parses an envelope routed to HandleMonitoringEvents. On its own, so
    /// that function's binary does not carry the agent messages' parsing.
    pub fn occurrence(env: &Envelope) -> Result<Occurrence, InboundError> {
        expect_route(env, Target::HandleMonitoringEvents)?;
        occurrence::parse(&source(env)?)
    }

    /// Parses an envelope routed to UpdateDeployment.
    pub fn agent_message(env: &Envelope) -> Result<AgentMessage, InboundError> {
        expect_route(env, Target::UpdateDeployment)?;
        agent_message(&source(env)?)
    }

    /// The function this value is for.
    pub fn target(&self) -> Target {
        match self {
            Inbound::Occurrence(_) => Target::HandleMonitoringEvents,
            Inbound::Agent(_) => Target::UpdateDeployment,
        }
    }
}

/// Unsupported unless the routing table sends the envelope to `target`.
fn expect_route(env: &Envelope, target: Target) -> Result<(), InboundError> {
    match route(&env.source, &env.detail_type) {
        Some(t) if t == target => Ok(()),
        _ => Err(InboundError::unsupported(env)),
    }
}

/// The envelope with its validated account and region.
fn source(env: &Envelope) -> Result<occurrence::Source<'_>, InboundError> {
    let account: AccountId = env
        .account
        .parse()
        .map_err(|e: InvalidValue| InboundError::malformed(env, e.to_string()))?;
    let region: Region = env
        .region
        .parse()
        .map_err(|e: InvalidValue| InboundError::malformed(env, e.to_string()))?;
    if !env.detail.is_object() {
        return Err(InboundError::malformed(env, "detail is not an object"));
    }
    Ok(occurrence::Source {
        env,
        account,
        region,
    })
}

/// `Agent Registered`, `Agent Heartbeat` or `Agent Config Applied`.
fn agent_message(src: &occurrence::Source<'_>) -> Result<AgentMessage, InboundError> {
    let env = src.env;
    let detail = || env.detail.clone();
    let bad = |e: serde_json::Error| InboundError::malformed(env, e.to_string());
    let report = || -> Result<AgentReportDetail, InboundError> {
        let d: AgentReportDetail = serde_json::from_value(detail()).map_err(bad)?;
        if let Some(c) = &d.config {
            c.validate()
                .map_err(|e| InboundError::malformed(env, e.to_string()))?;
        }
        Ok(d)
    };
    let kind = match env.detail_type.as_str() {
        DT_AGENT_REGISTERED => AgentMessageKind::Registered(report()?),
        DT_AGENT_HEARTBEAT => AgentMessageKind::Heartbeat(report()?),
        DT_AGENT_CONFIG_APPLIED => {
            AgentMessageKind::ConfigApplied(serde_json::from_value(detail()).map_err(bad)?)
        }
        _ => return Err(InboundError::unsupported(env)),
    };
    Ok(AgentMessage {
        agent: AgentId::new(src.account.clone(), src.region.clone()),
        kind,
    })
}

#[cfg(test)]
mod tests;
