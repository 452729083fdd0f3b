//! The master's envelope handling, shared by the Lambda handlers, the local
//! bus subscribers and `monitoring ingest`: each envelope goes to
//! HandleMonitoringEvents or UpdateDeployment, as the master's rules route it.

use chrono::{DateTime, Utc};
use domain::envelope::Envelope;
use domain::ports::{AgentStore, ConfigPusher, EventStore, PortError, Recorded};
use domain::usecases::deployment::{handle_agent_event, is_deployment_event, DeploymentError};
use domain::usecases::ingest::{ingest, is_monitoring_event, IngestError};

/// What became of one envelope.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    /// Stored as a new occurrence, or recognised as one already stored.
    Stored {
        duplicate: bool,
    },
    AgentUpdated,
}

/// Why an envelope was not handled; `is_retryable` says whether to try again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Deployment(#[from] DeploymentError),
}

impl HandleError {
    pub fn is_retryable(&self) -> bool {
        match self {
            HandleError::Ingest(e) => e.is_retryable(),
            HandleError::Deployment(e) => e.is_retryable(),
        }
    }

    /// The error as a port error, for the bus: permanent ones are dropped.
    pub fn into_port_error(self) -> PortError {
        if self.is_retryable() {
            PortError::Transient(self.to_string())
        } else {
            PortError::Permanent(self.to_string())
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
    pub async fn handle(&self, env: &Envelope, now: DateTime<Utc>) -> Result<Handled, HandleError> {
        if is_deployment_event(env) {
            handle_agent_event(self.agents, self.pusher, env, now).await?;
            return Ok(Handled::AgentUpdated);
        }
        if !is_monitoring_event(env) {
            return Err(IngestError::Unsupported {
                source_name: env.source.clone(),
                detail_type: env.detail_type.clone(),
            }
            .into());
        }
        let recorded = ingest(self.events, env, now).await?;
        Ok(Handled::Stored {
            duplicate: recorded == Recorded::Duplicate,
        })
    }
}
