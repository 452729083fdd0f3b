//! Ports: what the use cases need from the outside world. Adapters implement them.

use crate::envelope::Envelope;
use crate::model::*;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A failure of an adapter, saying whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Throttling, timeouts, a busy database: the same call may succeed later.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Bad data or configuration: retrying the same call will fail again.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

impl PortError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, PortError::Transient(_))
    }
}

/// Result of recording an occurrence.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// The occurrence was new; the event as it now stands.
    Applied(Event),
    /// The occurrence id was seen before: nothing changed.
    Duplicate,
}

/// Why an event update was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateEventError {
    #[error("event not found")]
    NotFound,
    #[error("version is {current}, not the expected one")]
    VersionMismatch { current: u64 },
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Events, occurrence dedup and per-day counters.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Atomically: if the occurrence id is new, remember it, create or update
    /// the event with [`Event::apply`], and add to the day's counter.
    async fn record(
        &self,
        occurrence: &Occurrence,
        now: DateTime<Utc>,
    ) -> Result<Recorded, PortError>;
    async fn get(&self, id: &EventId) -> Result<Option<Event>, PortError>;
    /// Newest activity first: (last_seen desc, id desc), strictly after `after`.
    async fn list(
        &self,
        filter: &EventFilter,
        after: Option<EventPageKey>,
        limit: usize,
    ) -> Result<Page<Event, EventPageKey>, PortError>;
    /// Applies a triage patch, checking the version when one is expected.
    async fn update(
        &self,
        id: &EventId,
        patch: &EventPatch,
        expected_version: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Event, UpdateEventError>;
    /// Every event with at least one occurrence on that UTC day, with that day's count.
    async fn day_activity(&self, day: NaiveDate) -> Result<Vec<DayActivity>, PortError>;
}

/// Agents as the master tracks them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AgentStore: Send + Sync {
    async fn get(&self, id: &AgentId) -> Result<Option<Agent>, PortError>;
    /// Ordered by id, strictly after `after`.
    async fn list(
        &self,
        after: Option<AgentId>,
        limit: usize,
    ) -> Result<Page<Agent, AgentId>, PortError>;
    /// Inserts or replaces the agent.
    async fn put(&self, agent: &Agent) -> Result<(), PortError>;
}

/// The agent's own persistent state, in its own account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentState {
    /// Everything before this instant was published.
    pub checkpoint: Option<DateTime<Utc>>,
    /// A window being published; a retry redoes exactly this window so that
    /// its occurrence ids, and so the dedup, stay the same.
    pub pending: Option<crate::window::Window>,
    /// The config the master pushed last, with its version.
    pub config: Option<AgentConfig>,
    pub config_version: u64,
    /// Whether the agent told the master it exists.
    #[serde(default)]
    pub registered: bool,
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AgentStateStore: Send + Sync {
    async fn load(&self) -> Result<AgentState, PortError>;
    async fn save(&self, state: &AgentState) -> Result<(), PortError>;
}

/// One log record as the source returns it (multi-line records already joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub log_group: String,
    pub time: DateTime<Utc>,
    pub message: String,
}

/// Where the agent finds log records.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LogSource: Send + Sync {
    /// Log groups that the config names or whose name starts with one of its prefixes.
    async fn discover(&self, config: &AgentConfig) -> Result<Vec<String>, PortError>;
    /// The candidate error records of these groups in the window. Asking
    /// again for the same window returns the same records.
    async fn fetch(
        &self,
        groups: &[String],
        window: &crate::window::Window,
    ) -> Result<Vec<LogRecord>, PortError>;
    /// Called once the window is published, so a source with its own read
    /// positions (files) can move past it.
    async fn commit(&self, window: &crate::window::Window) -> Result<(), PortError>;
}

/// Sends envelopes to the master bus (EventBridge PutEvents, or in-process).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes all or fails; a failure may have published some (they are idempotent).
    async fn publish(&self, envelopes: &[Envelope]) -> Result<(), PortError>;
}

/// Sends the desired config to an agent's account (master → agent).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ConfigPusher: Send + Sync {
    async fn push(&self, agent: &Agent) -> Result<(), PortError>;
}

/// One e-mail with a text and an HTML part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The day the report covers; the outbox names its file after it.
    pub day: NaiveDate,
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends the mail; answers where it went (a file path, a message id).
    async fn send(&self, email: &Email) -> Result<String, PortError>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
