//! The master's envelope handling, shared by the Lambda handlers, the local
//! bus subscribers and `monitoring ingest`: each envelope goes to
//! HandleMonitoringEvents or UpdateDeployment, as the master's rules route it.
//!
//! Failure semantics, the same at every entry point: an envelope that is
//! itself malformed or unsupported is skipped with a logged reason (retrying
//! cannot help); any failure on our side (store, bus; throttled or not) is an
//! error, so that Lambda retries the envelope and then dead-letters it.

use chrono::{DateTime, Utc};
use domain::envelope::Envelope;
use domain::ports::{AgentStore, ConfigPusher, EventStore, PortError, Recorded};
use domain::usecases::deployment::{handle_agent_event, is_deployment_event, DeploymentError};
use domain::usecases::ingest::{ingest, is_monitoring_event, IngestError};
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
    /// The envelope is malformed or unsupported; logged and dropped.
    Skipped { reason: String },
}

impl Outcome {
    /// Logs and answers a skip.
    pub fn skipped(reason: String) -> Self {
        tracing::warn!(%reason, "event skipped");
        Outcome::Skipped { reason }
    }
}

/// Why an envelope was not handled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Deployment(#[from] DeploymentError),
}

impl HandleError {
    /// Whether the envelope itself is at fault: it is skipped, never retried.
    pub fn is_input_fault(&self) -> bool {
        match self {
            HandleError::Ingest(e) => e.is_input_fault(),
            HandleError::Deployment(e) => e.is_input_fault(),
        }
    }

    /// The error as a port error, for the bus: a bad envelope is `Permanent`
    /// (logged and dropped), a failure on our side `Transient` (the
    /// publisher's call fails, so the agent keeps its window and retries).
    pub fn into_port_error(self) -> PortError {
        if self.is_input_fault() {
            PortError::Permanent(self.to_string())
        } else {
            PortError::Transient(self.to_string())
        }
    }
}

/// A bad envelope becomes a logged skip; our failures stay errors.
pub fn settle(r: Result<Outcome, HandleError>) -> Result<Outcome, HandleError> {
    match r {
        Err(e) if e.is_input_fault() => Ok(Outcome::skipped(e.to_string())),
        other => other,
    }
}

/// The master's ports.
pub struct Master<'a> {
    pub events: &'a dyn EventStore,
    pub agents: &'a dyn AgentStore,
    pub pusher: &'a dyn ConfigPusher,
}

impl Master<'_> {
    pub async fn handle(&self, env: &Envelope, now: DateTime<Utc>) -> Result<Outcome, HandleError> {
        if is_deployment_event(env) {
            handle_agent_event(self.agents, self.pusher, env, now).await?;
            return Ok(Outcome::AgentUpdated);
        }
        if !is_monitoring_event(env) {
            return Err(IngestError::Unsupported {
                source_name: env.source.clone(),
                detail_type: env.detail_type.clone(),
            }
            .into());
        }
        Ok(match ingest(self.events, env, now).await? {
            Recorded::Applied(_) => Outcome::Stored,
            Recorded::Duplicate => Outcome::Duplicate,
        })
    }
}
