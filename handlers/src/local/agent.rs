//! The local agent: QueryErrorLogs over the log files, on `--interval` or the
//! pushed schedule, and applying config pushes as they arrive on the bus.

use adapters::bus::LocalBus;
use adapters::files::FileLogSource;
use chrono::Utc;
use domain::envelope::Envelope;
use domain::usecases::agent::{AgentSettings, QueryErrorLogs};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// The local agent: the use case plus its adapters.
pub(super) struct LocalAgent {
    pub(super) settings: AgentSettings,
    pub(super) source: FileLogSource,
    pub(super) bus: Arc<LocalBus>,
    pub(super) state: adapters::sqlite::SqliteAgentState,
    pub(super) interval: Duration,
}

impl LocalAgent {
    fn use_case(&self) -> QueryErrorLogs<'_> {
        QueryErrorLogs {
            settings: &self.settings,
            source: &self.source,
            publisher: self.bus.as_ref(),
            state: &self.state,
        }
    }

    /// `--interval`, until a pushed config changes `schedule_minutes`.
    async fn current_interval(&self) -> Duration {
        match self.use_case().schedule_minutes().await {
            Ok(m) if m != self.settings.initial_config.schedule_minutes => {
                Duration::from_secs(u64::from(m) * 60)
            }
            _ => self.interval,
        }
    }

    async fn run_once(&self) {
        match self.use_case().run(Utc::now()).await {
            Ok(s) => tracing::info!("{}", s.describe(&self.settings.id)),
            Err(e) => {
                tracing::warn!(agent = %self.settings.id, retryable = e.is_retryable(), "agent run failed: {e}")
            }
        }
    }
}

/// Runs the agent once now, then on its schedule, applying config pushes
/// from `inbox` in between, until `stop`.
pub(super) fn spawn_agent_loop(
    agent: Arc<LocalAgent>,
    mut inbox: mpsc::UnboundedReceiver<Envelope>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        agent.run_once().await;
        loop {
            let wait = agent.current_interval().await;
            tokio::select! {
                _ = tokio::time::sleep(wait) => agent.run_once().await,
                Some(env) = inbox.recv() => match agent.use_case().apply_config_update(&env, Utc::now()).await {
                    Ok(changed) => tracing::info!(agent = %agent.settings.id, changed, "config update applied"),
                    Err(e) => tracing::warn!(agent = %agent.settings.id, "config update rejected: {e}"),
                },
                _ = stop.changed() => break,
            }
        }
    })
}
