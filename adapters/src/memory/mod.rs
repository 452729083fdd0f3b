//! In-memory implementations of every port, for tests.
//!
//! The stores follow exactly the semantics the conformance suite
//! ([`crate::conformance`]) checks, so a use case tested against them behaves
//! the same against SQLite or DynamoDB. The other fakes record what they are
//! given so that tests can assert on it.

mod deliveries;

pub use deliveries::MemoryDeliveryLog;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::envelope::Envelope;
use domain::model::{
    Agent, AgentConfig, AgentId, DayActivity, Event, EventFilter, EventId, EventPageKey,
    EventPatch, Occurrence, OccurrenceId, Page, Rule,
};
use domain::ports::{
    AgentState, AgentStateStore, AgentStore, Clock, ConfigPusher, DayCount, Email, EventStore,
    LogRecord, LogSource, Mailer, PortError, Publisher, Recorded, UpdateEventError,
};
use domain::window::Window;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

// A test that panicked while holding a fake's lock has already failed, so a
// poisoned lock is used as it is.
use crate::sync::lock;

/// Takes one from a "fail the next N calls" budget; true if this call fails.
fn take_failure(budget: &mut usize) -> bool {
    if *budget > 0 {
        *budget -= 1;
        true
    } else {
        false
    }
}

#[derive(Default)]
struct EventTables {
    events: HashMap<EventId, Event>,
    seen_occurrences: HashSet<OccurrenceId>,
    /// Occurrence counts per (UTC day, event); keyed by day first so that one
    /// day's counters are a contiguous range.
    day_counts: BTreeMap<(NaiveDate, EventId), u64>,
}

/// Events, occurrence dedup and per-day counters, behind one lock so that
/// `record` is atomic.
#[derive(Default)]
pub struct MemoryEventStore {
    tables: Mutex<EventTables>,
}

impl MemoryEventStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl EventStore for MemoryEventStore {
    async fn record(
        &self,
        occurrence: &Occurrence,
        now: DateTime<Utc>,
    ) -> Result<Recorded, PortError> {
        let mut t = lock(&self.tables);
        if !t.seen_occurrences.insert(occurrence.id.clone()) {
            return Ok(Recorded::Duplicate);
        }
        let event = match t.events.get_mut(&occurrence.event_id) {
            Some(event) => {
                event.apply(occurrence, now);
                event.clone()
            }
            None => {
                let event = Event::from_first(occurrence, now);
                t.events.insert(event.id.clone(), event.clone());
                event
            }
        };
        *t.day_counts
            .entry((occurrence.time.date_naive(), occurrence.event_id.clone()))
            .or_default() += occurrence.count;
        Ok(Recorded::Applied(event))
    }

    async fn get(&self, id: &EventId) -> Result<Option<Event>, PortError> {
        Ok(lock(&self.tables).events.get(id).cloned())
    }

    /// A `limit` of 0 is treated as 1, so a page always moves forward.
    async fn list(
        &self,
        filter: &EventFilter,
        after: Option<EventPageKey>,
        limit: usize,
    ) -> Result<Page<Event, EventPageKey>, PortError> {
        let mut matching: Vec<Event> = lock(&self.tables)
            .events
            .values()
            .filter(|e| filter.matches(e) && after.as_ref().is_none_or(|k| k.is_before(e)))
            .cloned()
            .collect();
        matching.sort_by(|a, b| (b.last_seen, &b.id).cmp(&(a.last_seen, &a.id)));
        Ok(Page::from_overfetch(matching, limit, EventPageKey::of))
    }

    async fn update(
        &self,
        id: &EventId,
        patch: &EventPatch,
        expected_version: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Event, UpdateEventError> {
        let mut t = lock(&self.tables);
        let event = t.events.get_mut(id).ok_or(UpdateEventError::NotFound)?;
        UpdateEventError::check_version(event, expected_version)?;
        patch.apply_to(event, now);
        Ok(event.clone())
    }

    /// Ordered by event id.
    async fn day_activity(&self, day: NaiveDate) -> Result<Vec<DayActivity>, PortError> {
        let t = lock(&self.tables);
        Ok(t.day_counts
            .iter()
            .filter(|((d, _), _)| *d == day)
            .filter_map(|((_, id), &day_count)| {
                t.events.get(id).map(|e| DayActivity::of(e, day_count))
            })
            .collect())
    }

    async fn event_activity(
        &self,
        id: &EventId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DayCount>, PortError> {
        let t = lock(&self.tables);
        Ok(t.day_counts
            .iter()
            .filter(|((d, e), _)| e == id && (from..=to).contains(d))
            .map(|((date, _), &count)| DayCount { date: *date, count })
            .collect())
    }
}

/// Agents keyed by the string form of their id, which is the listing order.
#[derive(Default)]
pub struct MemoryAgentStore {
    agents: Mutex<BTreeMap<String, Agent>>,
}

impl MemoryAgentStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl AgentStore for MemoryAgentStore {
    async fn get(&self, id: &AgentId) -> Result<Option<Agent>, PortError> {
        Ok(lock(&self.agents).get(&id.to_string()).cloned())
    }

    /// A `limit` of 0 is treated as 1, so a page always moves forward.
    async fn list(
        &self,
        after: Option<AgentId>,
        limit: usize,
    ) -> Result<Page<Agent, AgentId>, PortError> {
        let agents = lock(&self.agents);
        let start = match &after {
            Some(a) => std::ops::Bound::Excluded(a.to_string()),
            None => std::ops::Bound::Unbounded,
        };
        let items: Vec<Agent> = agents
            .range((start, std::ops::Bound::Unbounded))
            .take(Page::<Agent, AgentId>::fetch_size(limit))
            .map(|(_, a)| a.clone())
            .collect();
        Ok(Page::from_overfetch(items, limit, |a| a.id.clone()))
    }

    async fn put(&self, agent: &Agent) -> Result<(), PortError> {
        let mut agents = lock(&self.agents);
        let stored = agents.get(&agent.id.to_string()).map_or(0, |a| a.revision);
        if stored != agent.revision {
            return Err(PortError::Conflict(format!(
                "agent {} is at revision {stored}, not {}",
                agent.id, agent.revision
            )));
        }
        let next = Agent {
            revision: agent.revision + 1,
            ..agent.clone()
        };
        agents.insert(agent.id.to_string(), next);
        Ok(())
    }
}

/// One agent's persistent state.
#[derive(Default)]
pub struct MemoryAgentState {
    state: Mutex<AgentState>,
}

impl MemoryAgentState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts from a given state, as if a previous run had saved it.
    pub fn with_state(state: AgentState) -> Self {
        Self {
            state: Mutex::new(state),
        }
    }

    /// The state as last saved.
    pub fn current(&self) -> AgentState {
        lock(&self.state).clone()
    }
}

#[async_trait]
impl AgentStateStore for MemoryAgentState {
    async fn load(&self) -> Result<AgentState, PortError> {
        Ok(lock(&self.state).clone())
    }

    async fn save(&self, state: &AgentState) -> Result<(), PortError> {
        *lock(&self.state) = state.clone();
        Ok(())
    }
}

#[derive(Default)]
struct PublisherLog {
    published: Vec<Envelope>,
    failures_left: usize,
}

/// Records every envelope published; can be told to fail the next calls.
#[derive(Default)]
pub struct MemoryPublisher {
    log: Mutex<PublisherLog>,
}

impl MemoryPublisher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every envelope of every successful call, in order.
    pub fn published(&self) -> Vec<Envelope> {
        lock(&self.log).published.clone()
    }

    /// The next `n` calls fail with `PortError::Transient` and publish nothing.
    pub fn fail_next(&self, n: usize) {
        lock(&self.log).failures_left = n;
    }
}

#[async_trait]
impl Publisher for MemoryPublisher {
    async fn publish(&self, envelopes: &[Envelope]) -> Result<(), PortError> {
        let mut log = lock(&self.log);
        if take_failure(&mut log.failures_left) {
            return Err(PortError::Transient(
                "memory publisher: failure injected by fail_next".into(),
            ));
        }
        log.published.extend_from_slice(envelopes);
        Ok(())
    }
}

#[derive(Default)]
struct PusherLog {
    pushed: Vec<Agent>,
    failures_left: usize,
}

/// Records every agent whose config was pushed.
#[derive(Default)]
pub struct MemoryPusher {
    log: Mutex<PusherLog>,
}

impl MemoryPusher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every agent pushed by a successful call, in order.
    pub fn pushed(&self) -> Vec<Agent> {
        lock(&self.log).pushed.clone()
    }

    /// The next `n` calls fail with `PortError::Transient` and push nothing.
    pub fn fail_next(&self, n: usize) {
        lock(&self.log).failures_left = n;
    }
}

#[async_trait]
impl ConfigPusher for MemoryPusher {
    async fn push(&self, agent: &Agent) -> Result<(), PortError> {
        let mut log = lock(&self.log);
        if take_failure(&mut log.failures_left) {
            return Err(PortError::Transient(
                "memory pusher: failure injected by fail_next".into(),
            ));
        }
        log.pushed.push(agent.clone());
        Ok(())
    }
}

#[derive(Default)]
struct MailLog {
    sent: Vec<Email>,
    failures_left: usize,
}

/// Records every e-mail sent; the n-th one (from 1) is delivered to "memory:<n>".
#[derive(Default)]
pub struct MemoryMailer {
    log: Mutex<MailLog>,
}

impl MemoryMailer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every e-mail sent successfully, in order.
    pub fn sent(&self) -> Vec<Email> {
        lock(&self.log).sent.clone()
    }

    /// The next `n` calls fail with `PortError::Transient` and send nothing.
    pub fn fail_next(&self, n: usize) {
        lock(&self.log).failures_left = n;
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, email: &Email) -> Result<String, PortError> {
        let mut log = lock(&self.log);
        if take_failure(&mut log.failures_left) {
            return Err(PortError::Transient(
                "memory mailer: failure injected by fail_next".into(),
            ));
        }
        log.sent.push(email.clone());
        Ok(format!("memory:{}", log.sent.len()))
    }
}

/// Log records held in memory, as a log source would return them.
#[derive(Default)]
pub struct MemoryLogSource {
    records: Mutex<Vec<LogRecord>>,
}

impl MemoryLogSource {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&self, record: LogRecord) {
        lock(&self.records).push(record);
    }
}

#[async_trait]
impl LogSource for MemoryLogSource {
    /// The distinct groups of the records held that the config watches, sorted.
    async fn discover(&self, config: &AgentConfig) -> Result<Vec<String>, PortError> {
        let groups: BTreeSet<String> = lock(&self.records)
            .iter()
            .filter(|r| config.watches(&r.log_group))
            .map(|r| r.log_group.clone())
            .collect();
        Ok(groups.into_iter().collect())
    }

    /// The records of these groups with `window.start <= time < window.end`,
    /// by time (records with the same time in the order they were added).
    async fn fetch(
        &self,
        groups: &[String],
        window: &Window,
        _rules: &[Rule],
    ) -> Result<Vec<LogRecord>, PortError> {
        let mut records: Vec<LogRecord> = lock(&self.records)
            .iter()
            .filter(|r| {
                groups.contains(&r.log_group) && window.start <= r.time && r.time < window.end
            })
            .cloned()
            .collect();
        records.sort_by_key(|r| r.time);
        Ok(records)
    }

    /// Nothing to move: `fetch` filters by time alone.
    async fn commit(&self, _window: &Window) -> Result<(), PortError> {
        Ok(())
    }
}

/// A clock that stands still until told to move. `Default` is the Unix epoch.
#[derive(Default)]
pub struct FixedClock {
    now: Mutex<DateTime<Utc>>,
}

impl FixedClock {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *lock(&self.now) = now;
    }

    pub fn advance(&self, by: chrono::Duration) {
        *lock(&self.now) += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("test timestamp")
    }

    fn record(group: &str, time: &str) -> LogRecord {
        LogRecord {
            log_group: group.into(),
            time: at(time),
            message: format!("ERROR in {group} at {time}"),
        }
    }

    #[tokio::test]
    async fn publisher_fails_the_next_n_calls_then_records() {
        let publisher = MemoryPublisher::new();
        let envelope = Envelope {
            version: "0".into(),
            id: "e1".into(),
            detail_type: "Agent Heartbeat".into(),
            source: "monitoring.agent".into(),
            account: "111122223333".into(),
            time: at("2026-01-01T00:00:00Z"),
            region: "eu-west-1".into(),
            resources: vec![],
            detail: serde_json::json!({}),
        };
        publisher.fail_next(2);
        for _ in 0..2 {
            let err = publisher.publish(std::slice::from_ref(&envelope)).await;
            assert!(matches!(err, Err(PortError::Transient(_))), "{err:?}");
        }
        assert!(publisher.published().is_empty());
        publisher
            .publish(std::slice::from_ref(&envelope))
            .await
            .expect("third call publishes");
        assert_eq!(publisher.published(), vec![envelope]);
    }

    #[tokio::test]
    async fn log_source_discovers_watched_groups_and_fetches_a_half_open_window() {
        let source = MemoryLogSource::new();
        source.add(record("/aws/lambda/orders", "2026-01-01T00:05:00Z"));
        source.add(record("/aws/lambda/orders", "2026-01-01T00:00:00Z"));
        source.add(record("/aws/lambda/orders", "2026-01-01T00:10:00Z"));
        source.add(record("/aws/lambda/billing", "2026-01-01T00:01:00Z"));
        source.add(record("/ecs/web", "2026-01-01T00:02:00Z"));

        let groups = source.discover(&AgentConfig::default()).await.unwrap();
        assert_eq!(groups, vec!["/aws/lambda/billing", "/aws/lambda/orders"]);

        let window = Window {
            start: at("2026-01-01T00:00:00Z"),
            end: at("2026-01-01T00:10:00Z"),
        };
        let fetched = source
            .fetch(&["/aws/lambda/orders".to_string()], &window, &[])
            .await
            .unwrap();
        let times: Vec<_> = fetched.iter().map(|r| r.time).collect();
        assert_eq!(
            times,
            vec![at("2026-01-01T00:00:00Z"), at("2026-01-01T00:05:00Z")]
        );
    }

    #[tokio::test]
    async fn mailer_answers_where_each_mail_went() {
        let mailer = MemoryMailer::new();
        let email = Email {
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
            day: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        };
        assert_eq!(mailer.send(&email).await.unwrap(), "memory:1");
        assert_eq!(mailer.send(&email).await.unwrap(), "memory:2");
        assert_eq!(mailer.sent().len(), 2);
    }

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let clock = FixedClock::new(at("2026-01-01T00:00:00Z"));
        assert_eq!(clock.now(), at("2026-01-01T00:00:00Z"));
        clock.advance(chrono::Duration::minutes(5));
        assert_eq!(clock.now(), at("2026-01-01T00:05:00Z"));
        clock.set(at("2027-01-01T00:00:00Z"));
        assert_eq!(clock.now(), at("2027-01-01T00:00:00Z"));
    }
}
