//! The local agent: QueryErrorLogs over the log files, on `--interval` or the
//! pushed schedule, and applying config pushes as they arrive on the bus.
//!
//! With `--follow` it also looks at the files every [`FOLLOW_TICK`] and runs
//! as soon as one has bytes it has not published. Looking is a `stat` per
//! file, so polling costs next to nothing and works the same on every
//! filesystem (a watcher would only save part of one tick). The file source
//! holds a file's last record back until a look finds the file no longer
//! growing, so a complete record is published one or two ticks after it was
//! written: well within a second.

use adapters::bus::LocalBus;
use adapters::files::FileLogSource;
use chrono::Utc;
use domain::envelope::Envelope;
use domain::usecases::agent::{AgentSettings, QueryErrorLogs};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

/// How often `--follow` looks at the files.
pub(super) const FOLLOW_TICK: Duration = Duration::from_millis(200);

/// The local agent: the use case plus its adapters.
pub(super) struct LocalAgent {
    pub(super) settings: AgentSettings,
    pub(super) source: FileLogSource,
    pub(super) bus: Arc<LocalBus>,
    pub(super) state: adapters::sqlite::SqliteAgentState,
    pub(super) interval: Duration,
    /// `--follow`: also run whenever a file has unpublished bytes.
    pub(super) follow: bool,
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

    /// Whether a file has bytes not yet published (a failed look says yes:
    /// the run then reports the failure).
    async fn has_unread(&self) -> bool {
        self.source.has_unread().await.unwrap_or(true)
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

/// Runs the agent once now, then on its schedule (and, with `--follow`,
/// whenever a file has unpublished bytes), applying config pushes from
/// `inbox` in between, until `stop`.
pub(super) fn spawn_agent_loop(
    agent: Arc<LocalAgent>,
    mut inbox: mpsc::UnboundedReceiver<Envelope>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        agent.run_once().await;
        let mut last_run = Instant::now();
        let mut follow = tokio::time::interval(FOLLOW_TICK);
        follow.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let due = last_run + agent.current_interval().await;
            tokio::select! {
                _ = tokio::time::sleep_until(due) => {
                    agent.run_once().await;
                    last_run = Instant::now();
                }
                _ = follow.tick(), if agent.follow => {
                    if agent.has_unread().await {
                        agent.run_once().await;
                        last_run = Instant::now();
                    }
                }
                Some(env) = inbox.recv() => match agent.use_case().apply_config_update(&env, Utc::now()).await {
                    Ok(changed) => tracing::info!(agent = %agent.settings.id, changed, "config update applied"),
                    Err(e) => tracing::warn!(agent = %agent.settings.id, "config update rejected: {e}"),
                },
                _ = stop.changed() => break,
            }
        }
    })
}
