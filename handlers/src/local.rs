//! Local mode: the master and one agent in one process, wired to SQLite, log
//! files, the in-process bus and the outbox, with the REST API on loopback.

use crate::master::{Master, Outcome};
use adapters::bus::{BusConfigPusher, LocalBus, Rule, Subscriber};
use adapters::files::FileLogSource;
use adapters::outbox::OutboxMailer;
use adapters::sqlite::SqliteStore;
use async_trait::async_trait;
use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, Utc};
use domain::cursor::CursorCodec;
use domain::envelope::*;
use domain::inbound::{routes_to, Inbound, Target};
use domain::model::{AccountId, Agent, AgentConfig, AgentId, Region};
use domain::ports::{Clock, ConfigPusher, PortError, SystemClock};
use domain::usecases::agent::{AgentSettings, QueryErrorLogs};
use domain::usecases::api::Api;
use domain::usecases::report::send_daily_report;
use domain::window::WindowPolicy;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The files a data dir holds.
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn db(&self) -> PathBuf {
        self.0.join("monitoring.db")
    }
    pub fn outbox(&self) -> PathBuf {
        self.0.join("outbox")
    }
    pub fn file_offsets(&self) -> PathBuf {
        self.0.join("log-offsets.json")
    }
    pub fn cursor_key_file(&self) -> PathBuf {
        self.0.join("cursor.key")
    }

    pub fn open_store(&self) -> Result<Arc<SqliteStore>, BoxError> {
        std::fs::create_dir_all(&self.0)
            .map_err(|e| format!("cannot create data dir {}: {e}", self.0.display()))?;
        Ok(Arc::new(SqliteStore::open(&self.db())?))
    }

    /// The key that signs cursors: random, made once per data dir, never logged.
    pub fn cursor_key(&self) -> Result<Vec<u8>, BoxError> {
        let path = self.cursor_key_file();
        if let Ok(k) = std::fs::read(&path) {
            if k.len() >= 32 {
                return Ok(k);
            }
        }
        let mut key = vec![0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
        adapters::atomic_file::write_private_atomically(&path, &key)?;
        Ok(key)
    }
}

/// Options of `monitoring local`.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub logs: PathBuf,
    pub interval: Duration,
    pub account: AccountId,
    pub region: Region,
}

/// The schedule, in whole minutes, that stands for `--interval` in the config.
fn schedule_minutes_of(interval: Duration) -> u32 {
    u32::try_from(interval.as_secs().div_ceil(60))
        .unwrap_or(u32::MAX)
        .clamp(1, AgentConfig::MAX_SCHEDULE_MINUTES)
}

/// The master's ports, shared by the API and the bus subscribers.
struct MasterPorts {
    store: Arc<SqliteStore>,
    pusher: Arc<dyn ConfigPusher>,
    clock: Arc<dyn Clock>,
}

/// HandleMonitoringEvents and UpdateDeployment behind the bus's rules.
struct MasterSubscriber(Arc<MasterPorts>);

#[async_trait]
impl Subscriber for MasterSubscriber {
    async fn deliver(&self, env: &Envelope) -> Result<(), PortError> {
        let p = &self.0;
        let master = Master {
            events: p.store.as_ref(),
            agents: p.store.as_ref(),
            pusher: p.pusher.as_ref(),
        };
        // A skip is logged by the dispatcher; any failure of ours fails the
        // publisher's call, so the agent keeps its window and retries.
        match master.handle(env, p.clock.now()).await {
            Ok(_) => Ok(()),
            Err(e) => Err(PortError::Transient(e.to_string())),
        }
    }
}

/// The agent's config-update rule: hands the envelope to the agent loop, as
/// EventBridge would invoke the agent Lambda separately from its schedule.
struct AgentInbox(mpsc::UnboundedSender<Envelope>);

#[async_trait]
impl Subscriber for AgentInbox {
    async fn deliver(&self, env: &Envelope) -> Result<(), PortError> {
        self.0
            .send(env.clone())
            .map_err(|_| PortError::Transient("the agent has stopped".into()))
    }
}

/// The bus rule of a function, from the routing table (as the Terraform
/// rules are).
pub fn rule_for(target: Target) -> Rule {
    let (sources, detail_types): (Vec<&str>, Vec<&str>) = routes_to(target).unzip();
    Rule::new(target.name(), &sources, &detail_types)
}

/// Resolves when SIGINT or SIGTERM arrives.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("can install a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The API's router, as the `api` Lambda serves it.
pub fn http_app(api: Arc<Api>) -> axum::Router {
    crate::api::router(api)
}

/// The local agent: the use case plus its adapters.
struct LocalAgent {
    settings: AgentSettings,
    source: FileLogSource,
    bus: Arc<LocalBus>,
    state: adapters::sqlite::SqliteAgentState,
    interval: Duration,
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

fn next_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    (now.date_naive() + ChronoDuration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

/// Runs `monitoring local` until SIGINT/SIGTERM.
pub async fn run_local(opts: LocalOptions) -> Result<(), BoxError> {
    if !opts.listen.ip().is_loopback() {
        tracing::warn!(listen = %opts.listen, "the API has no authentication locally; it is now reachable beyond this machine");
    }
    if !opts.logs.is_dir() {
        return Err(format!("--logs {} is not a folder", opts.logs.display()).into());
    }
    let dir = DataDir(opts.data_dir.clone());
    let store = dir.open_store()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let bus = LocalBus::new();
    let pusher: Arc<dyn ConfigPusher> = Arc::new(BusConfigPusher {
        bus: bus.clone(),
        clock: clock.clone(),
    });
    let ports = Arc::new(MasterPorts {
        store: store.clone(),
        pusher: pusher.clone(),
        clock: clock.clone(),
    });
    let master: Arc<dyn Subscriber> = Arc::new(MasterSubscriber(ports));
    bus.subscribe(rule_for(Target::HandleMonitoringEvents), master.clone());
    bus.subscribe(rule_for(Target::UpdateDeployment), master);
    let (inbox_tx, mut inbox_rx) = mpsc::unbounded_channel();
    bus.subscribe(rule_for(Target::Agent), Arc::new(AgentInbox(inbox_tx)));

    let id = AgentId::new(opts.account.clone(), opts.region.clone());
    let initial_config = AgentConfig {
        schedule_minutes: schedule_minutes_of(opts.interval),
        // Every file under --logs; prefixes are paths relative to it.
        log_group_prefixes: vec![String::new()],
        ..AgentConfig::default()
    };
    let agent = Arc::new(LocalAgent {
        settings: AgentSettings {
            id: id.clone(),
            name: "local".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            policy: WindowPolicy {
                // Files are read by offset: the window only names the read.
                latency: ChronoDuration::zero(),
                initial_lookback: ChronoDuration::from_std(opts.interval)
                    .unwrap_or(ChronoDuration::minutes(1)),
                max_window: ChronoDuration::days(1),
                max_catch_up: ChronoDuration::days(3650),
            },
            initial_config,
        },
        source: FileLogSource::open(&opts.logs, dir.file_offsets())?,
        bus: bus.clone(),
        state: store.agent_state(&id),
        interval: opts.interval,
    });

    let api = Arc::new(Api {
        events: store.clone(),
        agents: store.clone(),
        pusher,
        clock: clock.clone(),
        cursors: CursorCodec::new(dir.cursor_key()?),
    });
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = watch::channel(false);

    let mut stop = stop_rx.clone();
    let agent_task = {
        let agent = agent.clone();
        tokio::spawn(async move {
            agent.run_once().await;
            loop {
                let wait = agent.current_interval().await;
                tokio::select! {
                    _ = tokio::time::sleep(wait) => agent.run_once().await,
                    Some(env) = inbox_rx.recv() => match agent.use_case().apply_config_update(&env, Utc::now()).await {
                        Ok(changed) => tracing::info!(agent = %agent.settings.id, changed, "config update applied"),
                        Err(e) => tracing::warn!(agent = %agent.settings.id, "config update rejected: {e}"),
                    },
                    _ = stop.changed() => break,
                }
            }
        })
    };

    let mut stop = stop_rx.clone();
    let report_task = {
        let store = store.clone();
        let outbox = OutboxMailer::new(dir.outbox());
        tokio::spawn(async move {
            loop {
                let now = Utc::now();
                let wait = (next_midnight(now) - now).to_std().unwrap_or_default()
                    + Duration::from_secs(5);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {
                        let day = Utc::now().date_naive() - ChronoDuration::days(1);
                        match send_daily_report(store.as_ref(), store.as_ref(), &outbox, day, Utc::now()).await {
                            Ok(path) => tracing::info!(%day, %path, "daily report written"),
                            Err(e) => tracing::warn!(%day, "daily report failed: {e}"),
                        }
                    }
                    _ = stop.changed() => break,
                }
            }
        })
    };

    tracing::info!(
        "monitoring local: API on http://{addr}, data in {}, logs from {}, agent {id} every {}",
        opts.data_dir.display(),
        opts.logs.display(),
        humantime::format_duration(opts.interval)
    );
    let mut stop = stop_rx.clone();
    let server = axum::serve(listener, http_app(api)).with_graceful_shutdown(async move {
        let _ = stop.changed().await;
    });
    let server_task = tokio::spawn(async move { server.await });
    shutdown_signal().await;
    tracing::info!("stopping: finishing the current step");
    let _ = stop_tx.send(true);
    agent_task.await?;
    report_task.await?;
    server_task.await??;
    tracing::info!("stopped");
    Ok(())
}

/// Pushes nothing: `monitoring ingest` has no bus. The running server's agent
/// gets the desired config at its next heartbeat instead.
struct DeferredPusher;

#[async_trait]
impl ConfigPusher for DeferredPusher {
    async fn push(&self, _agent: &Agent) -> Result<(), PortError> {
        Ok(())
    }
}

/// What `monitoring ingest` did with one file.
#[derive(Debug)]
pub struct FileOutcome {
    pub file: PathBuf,
    pub result: Result<FileCounts, String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FileCounts {
    pub stored: usize,
    pub duplicates: usize,
    pub agent_messages: usize,
}

/// Feeds envelope files through the master. Each file is its own
/// transaction: a file with any bad envelope is rejected whole, with a reason.
pub async fn ingest_files(
    data_dir: &Path,
    files: &[PathBuf],
) -> Result<Vec<FileOutcome>, BoxError> {
    let store = DataDir(data_dir.to_owned()).open_store()?;
    let mut out = Vec::new();
    for file in files {
        let result = ingest_file(&store, file).await;
        out.push(FileOutcome {
            file: file.clone(),
            result,
        });
    }
    Ok(out)
}

async fn ingest_file(store: &SqliteStore, file: &Path) -> Result<FileCounts, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read: {e}"))?;
    let envelopes =
        Envelope::parse_many(&text).map_err(|e| format!("not EventBridge envelopes: {e}"))?;
    // Parsed once, all of them, before anything is stored: a bad envelope
    // fails its file as a whole.
    let mut occurrences = Vec::new();
    let mut agent_messages = Vec::new();
    for (i, env) in envelopes.iter().enumerate() {
        match Inbound::parse(env).map_err(|e| format!("envelope {}: {e}", i + 1))? {
            Inbound::Occurrence(o) => occurrences.push(*o),
            message @ Inbound::Agent(_) => agent_messages.push(message),
        }
    }
    let now = Utc::now();
    // One transaction for the file's occurrences.
    let results = store
        .record_batch(&occurrences, now)
        .await
        .map_err(|e| e.to_string())?;
    let stored = results
        .iter()
        .filter(|r| matches!(r, domain::ports::Recorded::Applied(_)))
        .count();
    let master = Master {
        events: store,
        agents: store,
        pusher: &DeferredPusher,
    };
    for message in &agent_messages {
        if let Outcome::Skipped { reason } = master
            .dispatch(message, now)
            .await
            .map_err(|e| e.to_string())?
        {
            return Err(reason);
        }
    }
    Ok(FileCounts {
        stored,
        duplicates: results.len() - stored,
        agent_messages: agent_messages.len(),
    })
}

/// Writes the report of `day` to the outbox and answers its path.
pub async fn write_report(data_dir: &Path, day: NaiveDate) -> Result<String, BoxError> {
    let dir = DataDir(data_dir.to_owned());
    let store = dir.open_store()?;
    let mailer = OutboxMailer::new(dir.outbox());
    Ok(send_daily_report(store.as_ref(), store.as_ref(), &mailer, day, Utc::now()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_maps_to_whole_minutes() {
        assert_eq!(schedule_minutes_of(Duration::from_secs(1)), 1);
        assert_eq!(schedule_minutes_of(Duration::from_secs(60)), 1);
        assert_eq!(schedule_minutes_of(Duration::from_secs(61)), 2);
        assert_eq!(schedule_minutes_of(Duration::from_secs(86_400 * 9)), 1440);
    }

    #[test]
    fn next_midnight_is_the_following_utc_day() {
        let t: DateTime<Utc> = "2026-11-25T23:59:59Z".parse().unwrap();
        assert_eq!(
            next_midnight(t),
            "2026-11-26T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
