//! Local mode: the master and one agent in one process, wired to SQLite, log
//! files, the in-process bus and the outbox, with the REST API on loopback.

mod access;
mod agent;
mod alerts;
mod ingest;
mod report;
mod server;

pub use alerts::{load_alerts, send_test_alerts, ChannelResult};
pub use ingest::{ingest_files, FileCounts, FileOutcome};
pub use report::write_report;
pub use server::run_local;

use crate::master::Master;
use adapters::bus::{Rule, Subscriber};
use adapters::sqlite::SqliteStore;
use async_trait::async_trait;
use domain::envelope::Envelope;
use domain::inbound::{routes_to, Target};
use domain::model::{AccountId, AgentConfig, Region};
use domain::ports::{Clock, ConfigPusher, PortError};
use domain::usecases::api::Api;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

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
    /// `--follow`: publish each complete record within a second.
    pub follow: bool,
    pub account: AccountId,
    pub region: Region,
    /// The alert channels (`--alerts`); none by default.
    pub alerts: domain::alerts::AlertsConfig,
    /// The token a non-loopback listen requires (`--token-file`,
    /// `MONITORING_TOKEN`); generated and printed once when absent.
    pub token: Option<String>,
    /// Where the midnight report's events link to (`--console-url`).
    pub console_url: Option<domain::usecases::report::ConsoleUrl>,
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

/// The API's router, as the `api` Lambda serves it, with the console beside
/// it (`/console/`, `/` redirects there).
pub fn http_app(api: Arc<Api>) -> axum::Router {
    crate::console_ui::with_console(crate::api::router(api))
}

/// [`http_app`], behind `token` when there is one (a non-loopback listen).
pub fn guarded_app(api: Arc<Api>, token: Option<crate::console_ui::Token>) -> axum::Router {
    match token {
        Some(t) => crate::console_ui::with_token(http_app(api), t),
        None => http_app(api),
    }
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
}
