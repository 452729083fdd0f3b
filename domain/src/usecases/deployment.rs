//! UpdateDeployment: agent lifecycle on the master, and config pushes.

use crate::envelope::*;
use crate::inbound::{AgentMessage, AgentMessageKind, Inbound, InboundError};
use crate::model::*;
use crate::ports::{modify_agent, AgentStore, ConfigPusher, PortError};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeploymentError {
    /// The envelope is malformed, or acknowledges a config of an agent that
    /// never registered: retrying cannot help.
    #[error(transparent)]
    Inbound(#[from] InboundError),
    #[error("config applied by unknown agent {0}")]
    UnknownAgent(AgentId),
    #[error(transparent)]
    Store(#[from] PortError),
}

impl DeploymentError {
    /// Whether the message itself is at fault (skip it), rather than our
    /// side (fail, so that it is retried and then dead-lettered).
    pub fn is_input_fault(&self) -> bool {
        !matches!(self, DeploymentError::Store(_))
    }
}

/// Parses and records an agent message; see [`record_agent_message`].
pub async fn handle_agent_event(
    agents: &dyn AgentStore,
    pusher: &dyn ConfigPusher,
    env: &Envelope,
    now: DateTime<Utc>,
) -> Result<Agent, DeploymentError> {
    match Inbound::parse(env)? {
        Inbound::Agent(m) => record_agent_message(agents, pusher, &m, now).await,
        Inbound::Occurrence(_) => Err(InboundError::unsupported(env).into()),
    }
}

/// Records an agent message. When the agent runs an older config than the
/// desired one, the desired config is pushed again (a lost push heals at the
/// next heartbeat); a failed push fails the message.
pub async fn record_agent_message(
    agents: &dyn AgentStore,
    pusher: &dyn ConfigPusher,
    message: &AgentMessage,
    now: DateTime<Utc>,
) -> Result<Agent, DeploymentError> {
    let id = &message.agent;
    let agent = match &message.kind {
        AgentMessageKind::Registered(d) => record_report(agents, id, d, true, now).await?,
        AgentMessageKind::Heartbeat(d) => record_report(agents, id, d, false, now).await?,
        AgentMessageKind::ConfigApplied(d) => {
            modify_agent::<DeploymentError>(agents, id, |existing| {
                let mut a = existing.ok_or_else(|| DeploymentError::UnknownAgent(id.clone()))?;
                a.applied_config_version = a
                    .applied_config_version
                    .max(d.config_version.min(a.config_version));
                a.last_seen_at = Some(now);
                Ok(Some(a))
            })
            .await?
        }
    }
    .expect("the change always stores an agent");
    if agent.applied_config_version < agent.config_version {
        // Its redelivery records the message again (harmless) and pushes again.
        pusher.push(&agent).await?;
    }
    Ok(agent)
}

/// A registration or heartbeat: creates the agent on first contact.
async fn record_report(
    agents: &dyn AgentStore,
    id: &AgentId,
    d: &AgentReportDetail,
    registering: bool,
    now: DateTime<Utc>,
) -> Result<Option<Agent>, DeploymentError> {
    modify_agent::<DeploymentError>(agents, id, |existing| {
        let mut a = match existing {
            Some(a) => a,
            // The agent's own config is adopted as version 1 of the desired one.
            None => new_agent(
                id,
                d.config.clone().unwrap_or_default(),
                d.config_version,
                now,
            ),
        };
        if registering {
            a.registered_at = if a.last_seen_at.is_none() {
                a.registered_at.min(now)
            } else {
                now
            };
            if a.status == AgentStatus::Removed {
                a.status = AgentStatus::Active;
            }
        }
        if let Some(n) = d.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            a.name = crate::logtext::truncate(n, 128);
        }
        a.version = crate::logtext::truncate(&d.version, 64);
        a.last_seen_at = Some(now);
        a.applied_config_version = d.config_version.min(a.config_version);
        if d.last_run.is_some() {
            a.last_run.clone_from(&d.last_run);
        }
        Ok::<_, DeploymentError>(Some(a))
    })
    .await
}

pub fn new_agent(id: &AgentId, config: AgentConfig, version: u64, now: DateTime<Utc>) -> Agent {
    Agent {
        id: id.clone(),
        account: id.account.clone(),
        region: id.region.clone(),
        name: id.to_string(),
        status: AgentStatus::Active,
        version: String::new(),
        registered_at: now,
        last_seen_at: None,
        config,
        config_version: version.max(1),
        applied_config_version: version.max(1),
        config_updated_at: None,
        last_run: None,
        revision: 0,
    }
}

/// The `Agent Config Update` envelope that carries an agent's desired config.
pub fn config_update_envelope(agent: &Agent, now: DateTime<Utc>) -> Envelope {
    Envelope {
        version: "0".into(),
        id: String::new(),
        detail_type: DT_AGENT_CONFIG_UPDATE.into(),
        source: SOURCE_MASTER.into(),
        account: agent.account.to_string(),
        time: now,
        region: agent.region.to_string(),
        resources: vec![],
        detail: serde_json::to_value(ConfigUpdateDetail {
            agent_id: agent.id.to_string(),
            config_version: agent.config_version,
            config: agent.config.clone(),
        })
        .expect("serializable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockAgentStore, MockConfigPusher};
    use serde_json::json;

    fn env(dt: &str, detail: serde_json::Value) -> Envelope {
        Envelope {
            version: "0".into(),
            id: "1".into(),
            detail_type: dt.into(),
            source: SOURCE_AGENT.into(),
            account: "111122223333".into(),
            time: Utc::now(),
            region: "eu-west-1".into(),
            resources: vec![],
            detail,
        }
    }

    /// A store that holds `held` (`None`: the agent is unknown) and expects
    /// no write.
    fn store_holding(held: Option<Agent>) -> MockAgentStore {
        let mut store = MockAgentStore::new();
        store.expect_get().returning(move |_| Ok(held.clone()));
        store
    }

    /// A store that holds `held` and accepts every write.
    fn writable_store(held: Option<Agent>) -> MockAgentStore {
        let mut store = store_holding(held);
        store.expect_put().returning(|_| Ok(()));
        store
    }

    /// A pusher that expects exactly one push, of `config_version`.
    fn pushes_once(config_version: u64) -> MockConfigPusher {
        let mut pusher = MockConfigPusher::new();
        pusher
            .expect_push()
            .withf(move |a| a.config_version == config_version)
            .times(1)
            .returning(|_| Ok(()));
        pusher
    }

    /// `handle_agent_event` for an agent message of `dt` with `detail`.
    async fn handle(
        store: &MockAgentStore,
        pusher: &MockConfigPusher,
        dt: &str,
        detail: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<Agent, DeploymentError> {
        handle_agent_event(store, pusher, &env(dt, detail), now).await
    }

    #[tokio::test]
    async fn registration_creates_the_agent_and_pushes_nothing_when_in_sync() {
        let mut store = store_holding(None);
        store.expect_put().times(1).returning(|_| Ok(()));
        let mut pusher = MockConfigPusher::new();
        pusher.expect_push().never();
        let detail = json!({"name": "payments", "version": "0.1.0", "config_version": 1});
        let a = handle(&store, &pusher, DT_AGENT_REGISTERED, detail, Utc::now())
            .await
            .unwrap();
        assert_eq!(a.id.to_string(), "111122223333-eu-west-1");
        assert_eq!((a.config_version, a.applied_config_version), (1, 1));
        assert_eq!(a.name, "payments");
    }

    #[tokio::test]
    async fn a_new_agent_that_never_had_a_push_gets_version_one_pushed() {
        let a = handle(
            &writable_store(None),
            &pushes_once(1),
            DT_AGENT_REGISTERED,
            json!({"version": "0.1.0"}),
            Utc::now(),
        )
        .await
        .unwrap();
        assert_eq!((a.config_version, a.applied_config_version), (1, 0));
    }

    #[tokio::test]
    async fn a_failed_push_fails_the_message_so_it_is_retried() {
        let mut pusher = MockConfigPusher::new();
        pusher
            .expect_push()
            .returning(|_| Err(PortError::Permanent("AccessDeniedException".into())));
        let err = handle(
            &writable_store(None),
            &pusher,
            DT_AGENT_REGISTERED,
            json!({"version": "0.1.0"}),
            Utc::now(),
        )
        .await
        .unwrap_err();
        assert_eq!(
            err,
            DeploymentError::Store(PortError::Permanent("AccessDeniedException".into()))
        );
        assert!(!err.is_input_fault(), "our failure, not the envelope's");
    }

    #[tokio::test]
    async fn a_heartbeat_behind_the_desired_config_triggers_a_push() {
        let now = Utc::now();
        let mut agent = handle(
            &writable_store(None),
            &MockConfigPusher::new(),
            DT_AGENT_REGISTERED,
            json!({"version": "0.1.0", "config_version": 1}),
            now,
        )
        .await
        .unwrap();
        agent.config_version = 3;
        let a = handle(
            &writable_store(Some(agent)),
            &pushes_once(3),
            DT_AGENT_HEARTBEAT,
            json!({"version": "0.1.0", "config_version": 2}),
            now,
        )
        .await
        .unwrap();
        assert_eq!(a.applied_config_version, 2);
    }

    #[tokio::test]
    async fn config_applied_for_an_unknown_agent_is_malformed() {
        let err = handle(
            &store_holding(None),
            &MockConfigPusher::new(),
            DT_AGENT_CONFIG_APPLIED,
            json!({"config_version": 1}),
            Utc::now(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, DeploymentError::UnknownAgent(_)));
        assert!(err.is_input_fault());
    }
}
