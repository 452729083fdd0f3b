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
use crate::inbound::{route, Inbound, InboundError, Target};
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

/// HandleMonitoringEvents' entry: a JSON payload that must be an envelope
/// routed to it. It needs the event store alone: that function neither reads
/// nor writes agents (its IAM role allows no agent access), and only the
/// occurrence path is reachable from here, so its binary does not carry
/// UpdateDeployment's.
pub async fn handle_occurrence_json(
    events: &dyn EventStore,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<Outcome, PortError> {
    let env = match envelope_of(payload) {
        Ok(env) => env,
        Err(skip) => return Ok(skip),
    };
    match Inbound::occurrence(&env) {
        Ok(o) => record(events, &o, now).await,
        Err(e) => Ok(not_for(&env, Target::HandleMonitoringEvents, e)),
    }
}

/// Stores one occurrence idempotently.
async fn record(
    events: &dyn EventStore,
    o: &Occurrence,
    now: DateTime<Utc>,
) -> Result<Outcome, PortError> {
    Ok(events.record(o, now).await?.into())
}

/// The skip of an envelope that `function` cannot take: one routed to
/// another function says so, others say why they are at fault.
fn not_for(env: &Envelope, function: Target, e: InboundError) -> Outcome {
    match route(&env.source, &env.detail_type) {
        Some(t) if t != function => Outcome::skipped(format!(
            "{} / {} is for {}, not {}",
            env.source,
            env.detail_type,
            t.name(),
            function.name()
        )),
        _ => Outcome::skipped(e.to_string()),
    }
}

impl Master<'_> {
    /// UpdateDeployment's entry: a JSON payload that must be an envelope
    /// routed to it.
    pub async fn handle_agent_json(
        &self,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<Outcome, PortError> {
        let env = match envelope_of(payload) {
            Ok(env) => env,
            Err(skip) => return Ok(skip),
        };
        match Inbound::agent_message(&env) {
            Ok(m) => self.dispatch(&Inbound::Agent(Box::new(m)), now).await,
            Err(e) => Ok(not_for(&env, Target::UpdateDeployment, e)),
        }
    }

    /// Parses and dispatches one envelope, for any master function (the
    /// local bus, `monitoring ingest`).
    pub async fn handle(&self, env: &Envelope, now: DateTime<Utc>) -> Result<Outcome, PortError> {
        match Inbound::parse(env) {
            Ok(inbound) => self.dispatch(&inbound, now).await,
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
            Inbound::Occurrence(o) => record(self.events, o, now).await,
            Inbound::Agent(m) => match record_agent_message(self.agents, self.pusher, m, now).await
            {
                Ok(_) => Ok(Outcome::AgentUpdated),
                Err(DeploymentError::Store(e)) => Err(e),
                Err(e) => Ok(Outcome::skipped(e.to_string())),
            },
        }
    }
}

/// The envelope in a payload, or the skip of a payload that is none.
fn envelope_of(payload: serde_json::Value) -> Result<Envelope, Outcome> {
    Envelope::from_payload(payload).map_err(Outcome::skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockAgentStore, MockConfigPusher, MockEventStore};
    use serde_json::{json, Value};

    fn envelope(source: &str, detail_type: &str, detail: Value) -> Value {
        json!({
            "version": "0", "id": "1", "detail-type": detail_type, "source": source,
            "account": "111122223333", "time": "2026-11-25T10:00:00Z", "region": "eu-west-1",
            "resources": [], "detail": detail
        })
    }

    fn alarm() -> Value {
        envelope(
            "aws.cloudwatch",
            "CloudWatch Alarm State Change",
            json!({"alarmName": "api-5xx", "state": {"value": "ALARM", "timestamp": "2026-11-25T10:00:00.000+0000"}}),
        )
    }

    fn now() -> DateTime<Utc> {
        "2026-11-25T10:01:00Z".parse().unwrap()
    }

    #[tokio::test]
    async fn each_function_skips_what_is_routed_to_the_other_without_touching_a_port() {
        // No expectations: any call to a port panics.
        let (events, agents, pusher) = (
            MockEventStore::new(),
            MockAgentStore::new(),
            MockConfigPusher::new(),
        );
        let master = Master {
            events: &events,
            agents: &agents,
            pusher: &pusher,
        };
        let heartbeat = envelope(
            "monitoring.agent",
            "Agent Heartbeat",
            json!({"version": "1"}),
        );
        assert_eq!(
            handle_occurrence_json(&events, heartbeat, now()).await,
            Ok(Outcome::Skipped {
                reason: "monitoring.agent / Agent Heartbeat is for update-deployment, not handle-monitoring-events".into()
            })
        );
        assert_eq!(
            master.handle_agent_json(alarm(), now()).await,
            Ok(Outcome::Skipped {
                reason: "aws.cloudwatch / CloudWatch Alarm State Change is for handle-monitoring-events, not update-deployment".into()
            })
        );
        let garbage = handle_occurrence_json(&events, json!([1]), now()).await;
        assert!(
            matches!(&garbage, Ok(Outcome::Skipped { reason }) if reason.starts_with("not an EventBridge envelope")),
            "{garbage:?}"
        );
    }

    #[tokio::test]
    async fn a_store_failure_is_an_error_never_a_skip() {
        let mut events = MockEventStore::new();
        events
            .expect_record()
            .returning(|_, _| Err(PortError::Permanent("AccessDeniedException".into())));
        assert_eq!(
            handle_occurrence_json(&events, alarm(), now()).await,
            Err(PortError::Permanent("AccessDeniedException".into()))
        );
        assert_eq!(
            serde_json::to_value(Outcome::skipped("why")).unwrap(),
            json!({"outcome": "skipped", "reason": "why"})
        );
    }
}
