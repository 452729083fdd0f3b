//! The local agent: QueryErrorLogs over the log files, on `--interval` or the
//! pushed schedule, and applying config pushes as they arrive on the bus.
//!
//! With `--follow` it also looks at the files when the log folder changes
//! (change notices from the `notify` crate, see [`FolderWatch`]) and runs as
//! soon as one has bytes it has not published. The file source holds a
//! file's last record back until a look finds the file no longer growing,
//! so while something is unread it looks again after [`FOLLOW_TICK`]: a
//! complete record is published one tick after it was written, well within
//! a second. It also looks every [`FOLLOW_FALLBACK`] whatever the notices
//! say, for filesystems that give none (network and some container mounts)
//! and, where notices cannot be had at all, every [`FOLLOW_TICK`].

use adapters::bus::LocalBus;
use adapters::files::{FileLogSource, FolderWatch};
use chrono::Utc;
use domain::envelope::Envelope;
use domain::usecases::agent::{AgentSettings, QueryErrorLogs};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// How soon `--follow` looks again while a file has unpublished bytes (a
/// last record held back until the file stops growing).
pub(super) const FOLLOW_TICK: Duration = Duration::from_millis(200);
/// How often `--follow` looks without a change notice.
pub(super) const FOLLOW_FALLBACK: Duration = Duration::from_secs(1);

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
        let mut follow = agent.follow.then(|| Follow::start(agent.source.root()));
        loop {
            let due = last_run + agent.current_interval().await;
            let look_at = follow.as_ref().map_or(far_future(), |f| f.next_look);
            tokio::select! {
                _ = tokio::time::sleep_until(due) => {
                    agent.run_once().await;
                    last_run = Instant::now();
                }
                _ = changed(&mut follow) => {
                    follow_look(&agent, &mut follow, &mut last_run).await;
                }
                _ = tokio::time::sleep_until(look_at), if follow.is_some() => {
                    follow_look(&agent, &mut follow, &mut last_run).await;
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

/// `--follow`'s change notices (if the platform gives them) and when it
/// looks next without one.
struct Follow {
    watch: Option<FolderWatch>,
    next_look: Instant,
}

impl Follow {
    fn start(root: &std::path::Path) -> Self {
        let watch = FolderWatch::start(root)
            .inspect_err(|e| {
                tracing::warn!("--follow: no change notices ({e}); looking every {FOLLOW_TICK:?}")
            })
            .ok();
        Follow {
            watch,
            next_look: Instant::now(),
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400)
}

/// The next change notice; never, without `--follow` or notices.
async fn changed(follow: &mut Option<Follow>) {
    match follow.as_mut().and_then(|f| f.watch.as_mut()) {
        Some(watch) => watch.changed().await,
        None => std::future::pending().await,
    }
}

/// Runs the agent if a file has unpublished bytes, then says when to look
/// next: soon while something is still unread (or without notices), at the
/// fallback period otherwise.
async fn follow_look(agent: &LocalAgent, follow: &mut Option<Follow>, last_run: &mut Instant) {
    let Some(f) = follow.as_mut() else { return };
    if agent.has_unread().await {
        agent.run_once().await;
        *last_run = Instant::now();
    }
    let soon = f.watch.is_none() || agent.has_unread().await;
    f.next_look = Instant::now() + if soon { FOLLOW_TICK } else { FOLLOW_FALLBACK };
}
