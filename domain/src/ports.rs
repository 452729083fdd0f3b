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
    /// A conditional write lost a race: re-read and apply the change again.
    #[error("conflict: {0}")]
    Conflict(String),
}

impl PortError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, PortError::Transient(_) | PortError::Conflict(_))
    }
}

/// Result of recording an occurrence.
// `Duplicate` is the rarer answer; boxing the common one would only add an allocation.
#[allow(clippy::large_enum_variant)]
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

impl UpdateEventError {
    /// The optimistic-concurrency check of [`EventStore::update`]: with an
    /// expected version, the stored event must be at exactly that version.
    pub fn check_version(event: &Event, expected: Option<u64>) -> Result<(), Self> {
        match expected {
            Some(expected) if expected != event.version => Err(Self::VersionMismatch {
                current: event.version,
            }),
            _ => Ok(()),
        }
    }
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
    /// The events of these ids that exist, in no particular order (the few
    /// a report or overview lists). One `get` each unless a store can batch.
    async fn get_many(&self, ids: &[EventId]) -> Result<Vec<Event>, PortError> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.extend(self.get(id).await?);
        }
        Ok(found)
    }
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
    /// Every event with at least one occurrence on that UTC day, with that
    /// day's count and the fields the report needs (not the whole event).
    async fn day_activity(&self, day: NaiveDate) -> Result<Vec<DayActivity>, PortError>;
    /// The report's figures of that UTC day: [`DaySummary::of`] its
    /// activity, which reads every event active that day. A store that
    /// keeps the summary as it records answers the same from it.
    async fn day_summary(&self, day: NaiveDate) -> Result<DaySummary, PortError> {
        Ok(DaySummary::of(day, &self.day_activity(day).await?))
    }
    /// One event's per-day counters for the UTC days `from..=to`, oldest
    /// first, leaving out days without occurrences (the console's activity chart).
    async fn event_activity(
        &self,
        id: &EventId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DayCount>, PortError>;
}

/// Occurrences of one event on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub date: NaiveDate,
    pub count: u64,
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
    /// Writes the agent if nobody else wrote it since it was read: the stored
    /// `revision` (0 when absent) must equal `agent.revision`; the stored copy
    /// gets `revision + 1`. Otherwise `PortError::Conflict`, and the caller
    /// re-reads and applies its change again (see [`modify_agent`]).
    async fn put(&self, agent: &Agent) -> Result<(), PortError>;
}

/// Read-modify-write of one agent, retried on a lost race. `change` gets the
/// stored agent (or `None`) and answers the agent to store, or `None` to
/// store nothing. Answers what was stored.
pub async fn modify_agent<E: From<PortError>>(
    agents: &dyn AgentStore,
    id: &AgentId,
    mut change: impl FnMut(Option<Agent>) -> Result<Option<Agent>, E>,
) -> Result<Option<Agent>, E> {
    const ATTEMPTS: usize = 8;
    for attempt in 1..=ATTEMPTS {
        let Some(agent) = change(agents.get(id).await?)? else {
            return Ok(None);
        };
        match agents.put(&agent).await {
            Ok(()) => {
                return Ok(Some(Agent {
                    revision: agent.revision + 1,
                    ..agent
                }))
            }
            Err(PortError::Conflict(_)) if attempt < ATTEMPTS => continue,
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("the last attempt returns")
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
    /// again for the same window returns the same records. `rules` are the
    /// config's own rules: a source that filters before it answers (Logs
    /// Insights) lets their matches through too.
    async fn fetch(
        &self,
        groups: &[String],
        window: &crate::window::Window,
        rules: &[crate::model::Rule],
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

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> Agent {
        Agent {
            id: "111122223333-eu-west-1".parse().unwrap(),
            account: "111122223333".parse().unwrap(),
            region: "eu-west-1".parse().unwrap(),
            name: "a".into(),
            status: AgentStatus::Active,
            version: "0.1.0".into(),
            registered_at: Utc::now(),
            last_seen_at: None,
            config: AgentConfig::default(),
            config_version: 1,
            applied_config_version: 1,
            config_updated_at: None,
            last_run: None,
            revision: 4,
        }
    }

    #[tokio::test]
    async fn modify_agent_reapplies_the_change_after_a_conflict() {
        let mut store = MockAgentStore::new();
        let mut reads = 0;
        store.expect_get().times(2).returning(move |_| {
            reads += 1;
            Ok(Some(Agent {
                revision: 3 + reads,
                ..agent()
            }))
        });
        let mut puts = 0;
        store.expect_put().times(2).returning(move |a| {
            puts += 1;
            if puts == 1 {
                assert_eq!(a.revision, 4);
                Err(PortError::Conflict("raced".into()))
            } else {
                assert_eq!(a.revision, 5);
                Ok(())
            }
        });
        let mut calls = 0;
        let stored = modify_agent::<PortError>(&store, &agent().id, |a| {
            calls += 1;
            let mut a = a.unwrap();
            a.name = "renamed".into();
            Ok(Some(a))
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(calls, 2);
        assert_eq!((stored.name.as_str(), stored.revision), ("renamed", 6));
    }

    #[test]
    fn an_update_checks_the_version_only_when_one_is_expected() {
        let o = Occurrence {
            id: OccurrenceId::derive(&["o"]),
            event_id: EventId::derive(&agent().account, &agent().region, "s", "k"),
            account: agent().account,
            region: agent().region,
            source: "s".into(),
            detail_type: "d".into(),
            severity: Severity::Low,
            title: "t".into(),
            fingerprint: None,
            log_group: None,
            sample: String::new(),
            resources: vec![],
            detail: serde_json::Value::Null,
            first_time: Utc::now(),
            time: Utc::now(),
            count: 1,
            effect: StatusEffect::Occurred,
        };
        let event = Event {
            version: 3,
            ..Event::from_first(&o, Utc::now())
        };
        assert_eq!(UpdateEventError::check_version(&event, None), Ok(()));
        assert_eq!(UpdateEventError::check_version(&event, Some(3)), Ok(()));
        assert_eq!(
            UpdateEventError::check_version(&event, Some(2)),
            Err(UpdateEventError::VersionMismatch { current: 3 })
        );
    }

    #[tokio::test]
    async fn modify_agent_stores_nothing_when_asked_not_to() {
        let mut store = MockAgentStore::new();
        store.expect_get().returning(|_| Ok(None));
        store.expect_put().never();
        let r = modify_agent::<PortError>(&store, &agent().id, |_| Ok(None))
            .await
            .unwrap();
        assert_eq!(r, None);
    }
}

/// A store write that may alert, waiting in an outbox (local mode) or read
/// from a DynamoDB stream record. `id` is stable across redeliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingChange {
    pub id: String,
    pub change: crate::alerts::Change,
}

/// The outbox the local store fills in the same transaction as its writes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AlertOutbox: Send + Sync {
    /// Changes not yet done, oldest first.
    async fn pending(&self, limit: usize) -> Result<Vec<PendingChange>, PortError>;
    /// Every channel has had its say on this change.
    async fn done(&self, id: &str) -> Result<(), PortError>;
}

/// Where one (change, channel) delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Send it: newly admitted by the storm window, or admitted before and not yet sent.
    Send,
    /// Held back by storm control; it counts in the window's summary.
    Held,
    /// Sent or rejected before: nothing to do.
    Done,
}

/// A storm window of a channel that held alerts back and wants its summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBack {
    pub channel: String,
    pub window: crate::alerts::StormWindow,
    pub count: u64,
    /// Up to [`crate::alerts::MAX_SUMMARY_TITLES`].
    pub titles: Vec<String>,
}

/// Per-channel delivery records and storm windows, so a retry re-sends only
/// what did not go, and storm control holds across restarts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DeliveryLog: Send + Sync {
    /// Atomically and idempotently: the first call for (change, channel)
    /// admits it if the channel's storm window (the one open at `now`, or a
    /// new one from `now`, see [`crate::alerts::StormPolicy::window_from`])
    /// has admitted fewer than `max_per_window`, else holds it (with
    /// `title`, for the summary); later calls answer the same (`Done` once
    /// [`DeliveryLog::finished`]).
    async fn admit(
        &self,
        change_id: &str,
        channel: &str,
        now: DateTime<Utc>,
        policy: crate::alerts::StormPolicy,
        title: &str,
    ) -> Result<Admission, PortError>;
    /// The admitted delivery was sent, or refused for good by the receiver.
    async fn finished(&self, change_id: &str, channel: &str) -> Result<(), PortError>;
    /// Windows ended by `now` that held alerts back and have no summary yet.
    async fn held_back(&self, now: DateTime<Utc>) -> Result<Vec<HeldBack>, PortError>;
    /// The summary of this window went out.
    async fn summarised(
        &self,
        channel: &str,
        window: crate::alerts::StormWindow,
    ) -> Result<(), PortError>;
}

/// Why a channel did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The receiver refused it for good (a 4xx other than 429): not retried.
    #[error("refused: {0}")]
    Rejected(String),
    /// Transient failures that outlived the sender's own retries, or ours.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Delivers rendered alerts to one kind of channel, retrying transient
/// failures itself (with backoff, honouring `Retry-After`).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AlertSender: Send + Sync {
    async fn send(
        &self,
        channel: &crate::alerts::Channel,
        message_id: &str,
        timestamp: DateTime<Utc>,
        rendered: &crate::alerts::Rendered,
    ) -> Result<(), SendError>;
}
