//! The one dispatcher of the master, used by every entry point (both
//! Lambdas, the local bus, `monitoring ingest`): an envelope is parsed once
//! ([`Inbound::parse`]) and goes to HandleMonitoringEvents or UpdateDeployment.
//!
//! Failure semantics, the same everywhere: an envelope that is itself at
//! fault (malformed, unsupported, routed to another function, acknowledging
//! an unknown agent) is an [`Outcome::Skipped`] with a logged reason;
//! any failure on our side (store, bus; throttled or not) is the
//! [`PortError`], so that Lambda retries the envelope and then dead-letters it.

use crate::envelope::Envelope;
use crate::inbound::{Inbound, Target};
use crate::model::Occurrence;
use crate::ports::{AgentStore, ConfigPusher, EventStore, PortError, Recorded};
use crate::usecases::deployment::{record_agent_message, DeploymentError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What became of one envelope. Serialized, it is the Lambda's answer:
/// `{"outcome": "stored"}`, `{"outcome": "duplicate"}`,
/// `{"outcome": "agent_updated"}` or `{"outcome": "skipped", "reason": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Stored as a new occurrence.
    Stored,
    /// Recognised as an occurrence already stored: nothing changed.
    Duplicate,
    /// An agent's registration, heartbeat or acknowledgement was recorded.
    AgentUpdated,
    /// The envelope is at fault; logged and dropped.
    Skipped { reason: String },
}

impl Outcome {
    /// Logs and answers a skip.
    pub fn skipped(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        tracing::warn!(%reason, "event skipped");
        Outcome::Skipped { reason }
    }
}

impl From<Recorded> for Outcome {
    fn from(r: Recorded) -> Self {
        match r {
            Recorded::Applied(_) => Outcome::Stored,
            Recorded::Duplicate => Outcome::Duplicate,
        }
    }
}

/// The master's ports.
pub struct Master<'a> {
    pub events: &'a dyn EventStore,
    pub agents: &'a dyn AgentStore,
    pub pusher: &'a dyn ConfigPusher,
}

impl Master<'_> {
    /// Parses and dispatches a JSON payload that reached the function
    /// `only` (a Lambda), or any master function (`None`).
    pub async fn handle_json(
        &self,
        payload: serde_json::Value,
        only: Option<Target>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, PortError> {
        match serde_json::from_value::<Envelope>(payload) {
            Ok(env) => self.handle_for(&env, only, now).await,
            Err(e) => Ok(Outcome::skipped(format!(
                "not an EventBridge envelope: {e}"
            ))),
        }
    }

    /// Parses and dispatches one envelope, for any master function.
    pub async fn handle(&self, env: &Envelope, now: DateTime<Utc>) -> Result<Outcome, PortError> {
        self.handle_for(env, None, now).await
    }

    /// Parses and dispatches one envelope that reached the function `only`.
    pub async fn handle_for(
        &self,
        env: &Envelope,
        only: Option<Target>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, PortError> {
        match Inbound::parse(env) {
            Ok(inbound) if only.is_none_or(|t| t == inbound.target()) => {
                self.dispatch(&inbound, now).await
            }
            Ok(inbound) => Ok(Outcome::skipped(format!(
                "{} / {} is for {}, not {}",
                env.source,
                env.detail_type,
                inbound.target().name(),
                only.map_or("", Target::name)
            ))),
            Err(e) => Ok(Outcome::skipped(e.to_string())),
        }
    }

    /// Handles one parsed envelope.
    pub async fn dispatch(
        &self,
        inbound: &Inbound,
        now: DateTime<Utc>,
    ) -> Result<Outcome, PortError> {
        match inbound {
            Inbound::Occurrence(o) => self.record(o, now).await,
            Inbound::Agent(m) => match record_agent_message(self.agents, self.pusher, m, now).await
            {
                Ok(_) => Ok(Outcome::AgentUpdated),
                Err(DeploymentError::Store(e)) => Err(e),
                Err(e) => Ok(Outcome::skipped(e.to_string())),
            },
        }
    }

    /// Stores one occurrence idempotently.
    pub async fn record(&self, o: &Occurrence, now: DateTime<Utc>) -> Result<Outcome, PortError> {
        Ok(self.events.record(o, now).await?.into())
    }
}

/// The pusher of a function that never pushes configs (HandleMonitoringEvents):
/// it only takes occurrences, so the dispatcher never calls it.
pub struct NoPusher;

#[async_trait::async_trait]
impl ConfigPusher for NoPusher {
    async fn push(&self, agent: &crate::model::Agent) -> Result<(), PortError> {
        Err(PortError::Permanent(format!(
            "this function does not push configs (agent {})",
            agent.id
        )))
    }
}
