//! One conformance suite per store port, written once and run against every
//! implementation (memory, SQLite, later DynamoDB), so that the use cases can
//! rely on the same semantics whatever store they run on.
//!
//! Each case is a `pub async fn` taking the store as a trait object and
//! panicking with a message that says what differs. The macros
//! [`event_store_conformance!`](crate::event_store_conformance),
//! [`agent_store_conformance!`](crate::agent_store_conformance) and
//! [`agent_state_conformance!`](crate::agent_state_conformance) turn every
//! case into a `#[tokio::test]`:
//!
//! ```ignore
//! adapters::event_store_conformance!(memory_events, async {
//!     Box::new(adapters::memory::MemoryEventStore::new())
//! });
//! ```
//!
//! Convention: `$make` is an expression evaluating to a future (an
//! `async { .. }` block or a call of an `async fn`), evaluated afresh for each
//! test, whose output dereferences to the store (`Box<S>`, `Arc<S>`, or a
//! fixture with `Deref<Target = S>` that also keeps a temporary directory
//! alive). The test calls `case(&*store)`. The expression may name items of
//! the module where the macro is invoked, and that crate must depend on
//! `tokio` (for `#[tokio::test]`).

use chrono::{DateTime, Duration, Utc};
use domain::envelope::{DT_ALARM, DT_LOG_ERRORS, SOURCE_CLOUDWATCH, SOURCE_HEALTH, SOURCE_LOGS};
use domain::model::{
    AccountId, Agent, AgentConfig, AgentId, AgentStatus, DayActivity, Event, EventFilter, EventId,
    EventPageKey, EventPatch, Fingerprint, LastRun, Occurrence, OccurrenceId, Region, Rule,
    Severity, Status, StatusEffect,
};
use domain::ports::{
    AgentState, AgentStateStore, AgentStore, EventStore, PortError, Recorded, UpdateEventError,
};
use domain::window::Window;

/// The account of the test occurrences unless one is set.
pub const ACCOUNT: &str = "111122223333";
/// The region of the test occurrences unless one is set.
pub const REGION: &str = "eu-west-1";

/// A UTC instant from RFC 3339 text.
pub fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339
        .parse()
        .unwrap_or_else(|e| panic!("test timestamp {rfc3339:?}: {e}"))
}

/// What a test occurrence is about. `build` derives the ids as the ingest
/// use case does: one event per (account, region, source, problem), one
/// occurrence per (event, delivery).
#[derive(Debug, Clone)]
pub struct OccurrenceSpec {
    pub account: String,
    pub region: String,
    pub source: String,
    pub detail_type: String,
    /// The identity key of the problem (a log group and fingerprint, an alarm ARN).
    pub problem: String,
    /// Distinguishes occurrences of the same problem (a window, a state change).
    pub delivery: String,
    /// When the occurrence's first record happened (`None`: at `time`).
    pub first_time: Option<DateTime<Utc>>,
    pub time: DateTime<Utc>,
    pub count: u64,
    pub severity: Severity,
    pub effect: StatusEffect,
}

impl OccurrenceSpec {
    /// A group of `count` = 1 high-severity log errors of `problem`.
    pub fn log(problem: &str, delivery: &str, time: DateTime<Utc>) -> Self {
        Self {
            account: ACCOUNT.into(),
            region: REGION.into(),
            source: SOURCE_LOGS.into(),
            detail_type: DT_LOG_ERRORS.into(),
            problem: problem.into(),
            delivery: delivery.into(),
            first_time: None,
            time,
            count: 1,
            severity: Severity::High,
            effect: StatusEffect::Occurred,
        }
    }

    /// A CloudWatch alarm state change (`ALARM`, `OK` or `INSUFFICIENT_DATA`),
    /// with the severity and effect the ingest use case gives it.
    pub fn alarm(alarm: &str, state: &str, time: DateTime<Utc>) -> Self {
        let (severity, effect) = match state {
            "ALARM" => (Severity::High, StatusEffect::Occurred),
            "OK" => (Severity::Info, StatusEffect::Resolve),
            "INSUFFICIENT_DATA" => (Severity::Low, StatusEffect::None),
            other => panic!("unknown alarm state {other:?}"),
        };
        Self {
            source: SOURCE_CLOUDWATCH.into(),
            detail_type: DT_ALARM.into(),
            severity,
            effect,
            ..Self::log(
                &format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm}"),
                &format!("{state}@{}", time.to_rfc3339()),
                time,
            )
        }
    }

    /// A group of records from `first_time` to the spec's `time`.
    pub fn since(mut self, first_time: DateTime<Utc>) -> Self {
        self.first_time = Some(first_time);
        self
    }

    pub fn count(mut self, count: u64) -> Self {
        self.count = count;
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn account(mut self, account: &str) -> Self {
        self.account = account.into();
        self
    }

    pub fn region(mut self, region: &str) -> Self {
        self.region = region.into();
        self
    }

    pub fn source(mut self, source: &str) -> Self {
        self.source = source.into();
        self
    }

    fn parsed_account(&self) -> AccountId {
        self.account
            .parse()
            .unwrap_or_else(|e| panic!("test account {:?}: {e}", self.account))
    }

    fn parsed_region(&self) -> Region {
        self.region
            .parse()
            .unwrap_or_else(|e| panic!("test region {:?}: {e}", self.region))
    }

    /// The id of the event this occurrence belongs to.
    pub fn event_id(&self) -> EventId {
        EventId::derive(
            &self.parsed_account(),
            &self.parsed_region(),
            &self.source,
            &self.problem,
        )
    }

    pub fn build(&self) -> Occurrence {
        let event_id = self.event_id();
        let is_log = self.source == SOURCE_LOGS;
        let fingerprint = is_log.then(|| {
            event_id.as_str()[..16]
                .parse::<Fingerprint>()
                .expect("16 hex digits of an event id are a fingerprint")
        });
        Occurrence {
            id: OccurrenceId::derive(&[
                &self.account,
                &self.region,
                &self.source,
                &self.problem,
                &self.delivery,
            ]),
            event_id,
            account: self.parsed_account(),
            region: self.parsed_region(),
            source: self.source.clone(),
            detail_type: self.detail_type.clone(),
            severity: self.severity,
            title: format!("{} failed", self.problem),
            fingerprint,
            log_group: is_log.then(|| format!("/aws/lambda/{}", self.problem)),
            sample: format!("ERROR {} (delivery {})", self.problem, self.delivery),
            resources: if is_log {
                vec![]
            } else {
                vec![self.problem.clone()]
            },
            detail: serde_json::json!({ "delivery": self.delivery, "nested": { "n": [1, 2.5, null] } }),
            first_time: self.first_time.unwrap_or(self.time),
            time: self.time,
            count: self.count,
            effect: self.effect,
        }
    }
}

/// An agent as registration creates it, with a non-default config and a last run.
pub fn agent(account: &str, region: &str) -> Agent {
    let account: AccountId = account
        .parse()
        .unwrap_or_else(|e| panic!("test account {account:?}: {e}"));
    let region: Region = region
        .parse()
        .unwrap_or_else(|e| panic!("test region {region:?}: {e}"));
    Agent {
        id: AgentId::new(account.clone(), region.clone()),
        name: format!("agent of {account} in {region}"),
        account,
        region,
        status: AgentStatus::Active,
        version: "0.1.0".into(),
        registered_at: at("2026-03-01T08:00:00.123456789Z"),
        last_seen_at: Some(at("2026-03-01T09:00:00Z")),
        config: AgentConfig {
            schedule_minutes: 10,
            log_groups: vec!["/ecs/web".into()],
            exclude_patterns: vec!["healthcheck".into()],
            rules: vec![Rule {
                pattern: "(?i)disk full".into(),
                severity: Severity::Critical,
            }],
            ..AgentConfig::default()
        },
        config_version: 3,
        applied_config_version: 2,
        last_run: Some(LastRun {
            window_start: at("2026-03-01T08:50:00Z"),
            window_end: at("2026-03-01T08:55:00Z"),
            log_groups: 4,
            records_matched: 17,
            occurrences_published: 3,
        }),
        revision: 0,
    }
}

/// The instant most test occurrences happen around.
fn t0() -> DateTime<Utc> {
    at("2026-03-01T10:00:00Z")
}

fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

async fn record_new(store: &dyn EventStore, o: &Occurrence, now: DateTime<Utc>) -> Event {
    match store.record(o, now).await {
        Ok(Recorded::Applied(event)) => event,
        Ok(Recorded::Duplicate) => panic!("occurrence {} was new but came back Duplicate", o.id),
        Err(e) => panic!("recording occurrence {}: {e}", o.id),
    }
}

async fn must_get(store: &dyn EventStore, id: &EventId) -> Event {
    match store.get(id).await {
        Ok(Some(event)) => event,
        Ok(None) => panic!("event {id} was recorded but get answers None"),
        Err(e) => panic!("get of event {id}: {e}"),
    }
}

async fn must_update(
    store: &dyn EventStore,
    id: &EventId,
    patch: &EventPatch,
    expected_version: Option<u64>,
    now: DateTime<Utc>,
) -> Event {
    store
        .update(id, patch, expected_version, now)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "update of event {id} with {patch:?}, expecting version {expected_version:?}: {e}"
            )
        })
}

/// A new occurrence of an existing event, as its source would deliver it.
fn occurrence_of(event: &Event, delivery: &str, time: DateTime<Utc>) -> Occurrence {
    Occurrence {
        id: OccurrenceId::derive(&[event.id.as_str(), delivery]),
        event_id: event.id.clone(),
        account: event.account.clone(),
        region: event.region.clone(),
        source: event.source.clone(),
        detail_type: event.detail_type.clone(),
        severity: event.severity,
        title: event.title.clone(),
        fingerprint: event.fingerprint.clone(),
        log_group: event.log_group.clone(),
        sample: format!("{} (delivery {delivery})", event.sample),
        resources: event.resources.clone(),
        detail: event.detail.clone(),
        first_time: time,
        time,
        count: 1,
        effect: StatusEffect::Occurred,
    }
}

fn set_status(status: Status) -> EventPatch {
    EventPatch {
        status: Some(status),
        ..EventPatch::default()
    }
}

fn ids(events: &[Event]) -> Vec<EventId> {
    events.iter().map(|e| e.id.clone()).collect()
}

/// Follows `next` from the first page to the last, checking each page's
/// shape, and answers every item in the order served.
pub async fn list_all(store: &dyn EventStore, filter: &EventFilter, limit: usize) -> Vec<Event> {
    let mut all: Vec<Event> = Vec::new();
    let mut after: Option<EventPageKey> = None;
    for page_number in 0.. {
        assert!(
            page_number <= 1000,
            "listing with limit {limit} and {filter:?} does not end"
        );
        let page = store
            .list(filter, after.clone(), limit)
            .await
            .unwrap_or_else(|e| panic!("list with limit {limit}, after {after:?}: {e}"));
        assert!(
            page.items.len() <= limit,
            "page {page_number} with limit {limit} has {} items",
            page.items.len()
        );
        if let Some(next) = &page.next {
            assert_eq!(
                page.items.len(),
                limit,
                "page {page_number} (limit {limit}) has a next key but is not full"
            );
            assert_eq!(
                Some(next),
                page.items.last().map(EventPageKey::of).as_ref(),
                "the next key of page {page_number} (limit {limit}) is not the key of its last item"
            );
        }
        all.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    all
}

/// The order `list` must serve: (last_seen desc, id desc).
fn newest_first(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by(|a, b| (b.last_seen, &b.id).cmp(&(a.last_seen, &a.id)));
    events
}

/// 25 events across two accounts, two regions, three sources, every severity
/// and status, with many sharing a `last_seen`. Answers them as stored.
async fn record_corpus(store: &dyn EventStore) -> Vec<Event> {
    let accounts = ["111122223333", "444455556666"];
    let regions = ["eu-west-1", "us-east-1"];
    let sources = [SOURCE_LOGS, SOURCE_HEALTH, SOURCE_CLOUDWATCH];
    let statuses = [
        Status::Open,
        Status::Acknowledged,
        Status::Resolved,
        Status::Ignored,
    ];
    let mut recorded = Vec::new();
    for i in 0..25usize {
        let o = OccurrenceSpec::log(
            &format!("problem-{i}"),
            "w1",
            t0() + minutes((i % 6) as i64),
        )
        .account(accounts[i % 2])
        .region(regions[(i / 2) % 2])
        .source(sources[i % 3])
        .severity(Severity::ALL[i % 5])
        .count(i as u64 + 1)
        .build();
        let event = record_new(store, &o, t0()).await;
        let status = statuses[(i / 3) % 4];
        if status != Status::Open {
            must_update(store, &event.id, &set_status(status), None, t0()).await;
        }
        recorded.push(event.id);
    }
    let mut events = Vec::new();
    for id in &recorded {
        events.push(must_get(store, id).await);
    }
    events
}

/// The events `filter` must select, in list order.
fn expected(corpus: &[Event], filter: &EventFilter) -> Vec<EventId> {
    ids(&newest_first(
        corpus
            .iter()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect(),
    ))
}

/// Checks that `filter` selects a proper, non-empty part of the corpus and
/// that the store lists exactly that part, in order, whatever the page size.
async fn assert_filter(store: &dyn EventStore, corpus: &[Event], filter: EventFilter) {
    let want = expected(corpus, &filter);
    assert!(
        !want.is_empty() && want.len() < corpus.len(),
        "test bug: {filter:?} selects {} of {} events",
        want.len(),
        corpus.len()
    );
    for limit in [2, 50] {
        let got = ids(&list_all(store, &filter, limit).await);
        assert_eq!(
            got, want,
            "list with {filter:?} (limit {limit}) returned other events or another order"
        );
    }
}

/// The event-store cases.
pub mod events {
    use super::*;

    pub async fn new_occurrence_creates_an_open_event(store: &dyn EventStore) {
        let o = OccurrenceSpec::log("checkout", "w1", t0())
            .count(3)
            .severity(Severity::Medium)
            .build();
        let now = t0() + minutes(1);
        let event = record_new(store, &o, now).await;
        assert_eq!(event.id, o.event_id);
        assert_eq!(event.count, 3, "count of a new event");
        assert_eq!(event.first_seen, o.time, "first_seen of a new event");
        assert_eq!(event.last_seen, o.time, "last_seen of a new event");
        assert_eq!(event.severity, Severity::Medium, "severity of a new event");
        assert_eq!(event.status, Status::Open, "status of a new event");
        assert_eq!(event.version, 1, "version of a new event");
        assert_eq!(event.updated_at, now, "updated_at of a new event");
        assert_eq!(
            event,
            Event::from_first(&o, now),
            "a new event is Event::from_first"
        );
        assert_eq!(
            must_get(store, &o.event_id).await,
            event,
            "get returns the event exactly as record answered it"
        );
    }

    pub async fn redelivered_occurrence_changes_nothing(store: &dyn EventStore) {
        let o = OccurrenceSpec::log("checkout", "w1", t0()).count(4).build();
        let first = record_new(store, &o, t0()).await;
        for attempt in 1..=3 {
            let again = store
                .record(&o, t0() + minutes(attempt))
                .await
                .unwrap_or_else(|e| panic!("redelivery {attempt}: {e}"));
            assert_eq!(
                again,
                Recorded::Duplicate,
                "redelivery {attempt} of the same occurrence"
            );
        }
        assert_eq!(
            must_get(store, &o.event_id).await,
            first,
            "redeliveries changed the event"
        );
        let day = store
            .day_activity(t0().date_naive())
            .await
            .expect("day_activity");
        assert_eq!(day.len(), 1);
        assert_eq!(
            day[0].day_count, 4,
            "redeliveries were added to the day's counter"
        );
    }

    pub async fn another_occurrence_adds_its_count_without_a_new_version(store: &dyn EventStore) {
        let first = OccurrenceSpec::log("checkout", "w1", t0()).count(2).build();
        let later = OccurrenceSpec::log("checkout", "w2", t0() + minutes(5))
            .count(3)
            .build();
        let earlier = OccurrenceSpec::log("checkout", "w0", t0() - minutes(10)).build();
        record_new(store, &first, t0()).await;
        let event = record_new(store, &later, t0() + minutes(6)).await;
        assert_eq!(event.id, first.event_id, "same problem, same event");
        assert_eq!(event.count, 5, "counts add up");
        assert_eq!(event.first_seen, first.time, "first_seen stays");
        assert_eq!(
            event.last_seen, later.time,
            "last_seen moves to the newer occurrence"
        );
        assert_eq!(event.status, Status::Open);
        assert_eq!(
            event.version, 1,
            "a new occurrence alone does not bump the version"
        );
        assert_eq!(
            event.sample, later.sample,
            "the sample follows the newest occurrence"
        );

        let event = record_new(store, &earlier, t0() + minutes(7)).await;
        assert_eq!(event.count, 6);
        assert_eq!(
            event.first_seen, earlier.time,
            "an older occurrence moves first_seen back"
        );
        assert_eq!(
            event.last_seen, later.time,
            "an older occurrence does not move last_seen"
        );
        assert_eq!(must_get(store, &first.event_id).await, event);
    }

    /// A group of log records spans `first_time..=time`: the event's
    /// `first_seen` is the earliest first line and `last_seen` the latest
    /// last line over all its occurrences, whatever order they arrive in.
    pub async fn first_and_last_seen_span_every_grouped_line(store: &dyn EventStore) {
        let six_lines = OccurrenceSpec::log("checkout", "w1", at("2026-03-01T07:18:19Z"))
            .since(at("2026-03-01T07:16:29Z"))
            .count(6)
            .build();
        let event = record_new(store, &six_lines, at("2026-03-01T07:20:00Z")).await;
        assert_eq!(
            (event.first_seen, event.last_seen),
            (at("2026-03-01T07:16:29Z"), at("2026-03-01T07:18:19Z")),
            "a new event spans its first occurrence's lines"
        );
        let later = OccurrenceSpec::log("checkout", "w2", at("2026-03-01T07:24:00Z"))
            .since(at("2026-03-01T07:21:00Z"))
            .build();
        let earlier = OccurrenceSpec::log("checkout", "w0", at("2026-03-01T07:14:00Z"))
            .since(at("2026-03-01T07:10:05Z"))
            .build();
        record_new(store, &later, at("2026-03-01T07:25:00Z")).await;
        let event = record_new(store, &earlier, at("2026-03-01T07:26:00Z")).await;
        assert_eq!(
            (event.first_seen, event.last_seen),
            (at("2026-03-01T07:10:05Z"), at("2026-03-01T07:24:00Z")),
            "first_seen is the earliest line, last_seen the latest"
        );
        assert_eq!(event.count, 8);
        assert_eq!(must_get(store, &six_lines.event_id).await, event);
        let page = store
            .list(&EventFilter::default(), None, 10)
            .await
            .expect("list");
        assert_eq!(page.items, vec![event], "list agrees");
    }

    pub async fn new_occurrence_reopens_a_resolved_event(store: &dyn EventStore) {
        let o1 = OccurrenceSpec::log("checkout", "w1", t0()).build();
        let o2 = OccurrenceSpec::log("checkout", "w2", t0() + minutes(30)).build();
        record_new(store, &o1, t0()).await;
        let resolved = must_update(
            store,
            &o1.event_id,
            &set_status(Status::Resolved),
            Some(1),
            t0(),
        )
        .await;
        assert_eq!(resolved.version, 2);
        let now = t0() + minutes(31);
        let event = record_new(store, &o2, now).await;
        assert_eq!(event.status, Status::Open, "a regression reopens the event");
        assert_eq!(
            event.version, 3,
            "reopening is a visible change: version + 1"
        );
        assert_eq!(
            event.reopened_at,
            Some(o2.time),
            "reopened_at is the regression's time"
        );
        assert_eq!(event.updated_at, now);
        assert_eq!(event.count, 2);
        assert_eq!(must_get(store, &o1.event_id).await, event);
    }

    pub async fn ignored_event_stays_ignored_but_keeps_counting(store: &dyn EventStore) {
        let o1 = OccurrenceSpec::log("noisy", "w1", t0()).build();
        let o2 = OccurrenceSpec::log("noisy", "w2", t0() + minutes(5))
            .count(10)
            .build();
        record_new(store, &o1, t0()).await;
        must_update(
            store,
            &o1.event_id,
            &set_status(Status::Ignored),
            None,
            t0(),
        )
        .await;
        let event = record_new(store, &o2, t0() + minutes(6)).await;
        assert_eq!(
            event.status,
            Status::Ignored,
            "an ignored event stays ignored"
        );
        assert_eq!(event.count, 11, "an ignored event keeps counting");
        assert_eq!(event.last_seen, o2.time);
        assert_eq!(
            event.version, 2,
            "only the triage update bumped the version"
        );
    }

    pub async fn alarm_back_to_ok_resolves_its_event(store: &dyn EventStore) {
        let alarm = OccurrenceSpec::alarm("cpu-high", "ALARM", t0()).build();
        let ok = OccurrenceSpec::alarm("cpu-high", "OK", t0() + minutes(10)).build();
        let again = OccurrenceSpec::alarm("cpu-high", "ALARM", t0() + minutes(20)).build();
        assert_eq!(
            alarm.event_id, ok.event_id,
            "test bug: one alarm, one event"
        );

        let event = record_new(store, &alarm, t0()).await;
        assert_eq!(
            (event.status, event.severity),
            (Status::Open, Severity::High)
        );

        let event = record_new(store, &ok, t0() + minutes(10)).await;
        assert_eq!(
            event.status,
            Status::Resolved,
            "alarm OK resolves the event"
        );
        assert_eq!(
            event.version, 2,
            "resolving is a visible change: version + 1"
        );
        assert_eq!(event.count, 2, "every state change counts");
        assert_eq!(
            event.severity,
            Severity::High,
            "resolving keeps the severity"
        );

        let event = record_new(store, &again, t0() + minutes(20)).await;
        assert_eq!(
            event.status,
            Status::Open,
            "the alarm firing again reopens it"
        );
        assert_eq!(event.version, 3);
        assert_eq!(event.reopened_at, Some(again.time));
        assert_eq!(must_get(store, &alarm.event_id).await, event);
    }

    pub async fn older_state_change_is_counted_but_does_not_change_status(store: &dyn EventStore) {
        let alarm = OccurrenceSpec::alarm("cpu-high", "ALARM", t0()).build();
        let ok = OccurrenceSpec::alarm("cpu-high", "OK", t0() + minutes(10)).build();
        let late = OccurrenceSpec::alarm("cpu-high", "ALARM", t0() + minutes(5)).build();
        record_new(store, &alarm, t0()).await;
        let resolved = record_new(store, &ok, t0() + minutes(10)).await;
        let event = record_new(store, &late, t0() + minutes(11)).await;
        assert_eq!(event.count, 3, "an out-of-order state change is counted");
        assert_eq!(
            event.status,
            Status::Resolved,
            "an older ALARM does not reopen"
        );
        assert_eq!(event.version, resolved.version, "nor bump the version");
        assert_eq!(event.last_seen, ok.time, "nor move last_seen back");
        assert_eq!(
            event.sample, resolved.sample,
            "nor replace the newer sample"
        );
        assert_eq!(must_get(store, &alarm.event_id).await, event);
    }

    pub async fn get_of_unknown_event_is_none(store: &dyn EventStore) {
        let id = OccurrenceSpec::log("never-seen", "w1", t0()).event_id();
        let got = store.get(&id).await.expect("get of an unknown id");
        assert_eq!(got, None, "get of an unknown id");
    }

    pub async fn concurrent_records_are_all_counted(store: &dyn EventStore) {
        let shared = OccurrenceSpec::log("checkout", "shared", t0()).build();
        let worker = |w: usize| {
            let shared = shared.clone();
            async move {
                let mut applied = 0;
                for i in 0..5 {
                    let o =
                        OccurrenceSpec::log("checkout", &format!("w{w}-{i}"), t0() + minutes(i))
                            .count(2)
                            .build();
                    record_new(store, &o, t0()).await;
                    if let Recorded::Applied(_) = store.record(&shared, t0()).await.expect("record")
                    {
                        applied += 1;
                    }
                }
                applied
            }
        };
        let (a, b, c, d) = tokio::join!(worker(0), worker(1), worker(2), worker(3));
        assert_eq!(
            a + b + c + d,
            1,
            "the shared occurrence was applied more than once"
        );
        let event = must_get(store, &shared.event_id).await;
        assert_eq!(
            event.count,
            4 * 5 * 2 + 1,
            "concurrent records lost an update"
        );
        let day = store
            .day_activity(t0().date_naive())
            .await
            .expect("day_activity");
        assert_eq!(day.len(), 1);
        assert_eq!(day[0].day_count, 41, "concurrent records lost a day count");
    }

    pub async fn list_is_newest_first_with_ties_by_id_descending(store: &dyn EventStore) {
        let times = [3, 0, 5, 3, 1, 5, 3];
        let mut recorded = Vec::new();
        for (i, m) in times.iter().enumerate() {
            let o = OccurrenceSpec::log(&format!("p{i}"), "w1", t0() + minutes(*m)).build();
            recorded.push(record_new(store, &o, t0()).await);
        }
        let page = store
            .list(&EventFilter::default(), None, 50)
            .await
            .expect("list");
        assert_eq!(page.next, None, "everything fit in one page: no next key");
        assert_eq!(
            ids(&page.items),
            ids(&newest_first(recorded.clone())),
            "list is ordered by (last_seen desc, id desc)"
        );
        assert_eq!(
            page.items,
            newest_first(recorded),
            "listed events equal the recorded ones"
        );
    }

    pub async fn list_of_empty_store_is_empty(store: &dyn EventStore) {
        let page = store
            .list(&EventFilter::default(), None, 10)
            .await
            .expect("list");
        assert!(page.items.is_empty() && page.next.is_none(), "{page:?}");
    }

    pub async fn list_filters_by_time_range(store: &dyn EventStore) {
        let corpus = record_corpus(store).await;
        let from = t0() + minutes(2);
        let to = t0() + minutes(4);
        // Bounds are inclusive: events at exactly `from` and `to` exist.
        assert!(
            corpus.iter().any(|e| e.last_seen == from) && corpus.iter().any(|e| e.last_seen == to)
        );
        for filter in [
            EventFilter {
                from: Some(from),
                ..EventFilter::default()
            },
            EventFilter {
                to: Some(to),
                ..EventFilter::default()
            },
            EventFilter {
                from: Some(from),
                to: Some(to),
                ..EventFilter::default()
            },
            EventFilter {
                from: Some(from - Duration::nanoseconds(1)),
                to: Some(from + Duration::nanoseconds(1)),
                ..EventFilter::default()
            },
        ] {
            assert_filter(store, &corpus, filter).await;
        }
        let empty = EventFilter {
            from: Some(to),
            to: Some(from),
            ..EventFilter::default()
        };
        let page = store.list(&empty, None, 10).await.expect("list");
        assert!(page.items.is_empty(), "from after to selects nothing");
    }

    pub async fn list_filters_by_account_region_and_source(store: &dyn EventStore) {
        let corpus = record_corpus(store).await;
        for filter in [
            EventFilter {
                account: Some("444455556666".parse().unwrap()),
                ..EventFilter::default()
            },
            EventFilter {
                region: Some("us-east-1".parse().unwrap()),
                ..EventFilter::default()
            },
            EventFilter {
                source: Some(SOURCE_HEALTH.into()),
                ..EventFilter::default()
            },
            EventFilter {
                account: Some("111122223333".parse().unwrap()),
                region: Some("eu-west-1".parse().unwrap()),
                source: Some(SOURCE_LOGS.into()),
                ..EventFilter::default()
            },
        ] {
            assert_filter(store, &corpus, filter).await;
        }
        let unknown = EventFilter {
            account: Some("999999999999".parse().unwrap()),
            ..EventFilter::default()
        };
        let page = store.list(&unknown, None, 10).await.expect("list");
        assert!(page.items.is_empty(), "an unknown account selects nothing");
    }

    pub async fn list_filters_by_severities_and_statuses(store: &dyn EventStore) {
        let corpus = record_corpus(store).await;
        for filter in [
            EventFilter {
                severities: vec![Severity::Critical],
                ..EventFilter::default()
            },
            EventFilter {
                severities: vec![Severity::Info, Severity::High, Severity::Critical],
                ..EventFilter::default()
            },
            EventFilter {
                statuses: vec![Status::Open],
                ..EventFilter::default()
            },
            EventFilter {
                statuses: vec![Status::Acknowledged, Status::Ignored],
                ..EventFilter::default()
            },
            EventFilter {
                from: Some(t0() + minutes(1)),
                account: Some("111122223333".parse().unwrap()),
                severities: vec![Severity::Low, Severity::Medium, Severity::High],
                statuses: vec![Status::Open, Status::Resolved],
                ..EventFilter::default()
            },
        ] {
            assert_filter(store, &corpus, filter).await;
        }
    }

    pub async fn pagination_returns_every_event_once_in_order(store: &dyn EventStore) {
        let corpus = record_corpus(store).await;
        let want = ids(&newest_first(corpus.clone()));
        // 5 and 25 divide the corpus: the last page is full and has no next key.
        for limit in [1, 2, 3, 5, 7, 25, 26, 200] {
            let got = ids(&list_all(store, &EventFilter::default(), limit).await);
            assert_eq!(
                got, want,
                "pages of {limit} do not return every event exactly once in order"
            );
        }
    }

    pub async fn pagination_resumes_after_the_key_of_an_event_that_moved(store: &dyn EventStore) {
        let corpus = record_corpus(store).await;
        let want = ids(&newest_first(corpus));
        let first = store
            .list(&EventFilter::default(), None, 10)
            .await
            .expect("first page");
        assert_eq!(ids(&first.items), want[..10].to_vec());
        let next = first.next.clone().expect("a next key after 10 of 25");
        // The key is a position, not a row: it still works after new activity
        // moved the event it was taken from to the top.
        let moved = must_get(store, &want[9]).await;
        let newer = occurrence_of(&moved, "moved", t0() + minutes(60));
        record_new(store, &newer, t0()).await;
        let rest = store
            .list(&EventFilter::default(), Some(next), 100)
            .await
            .expect("second page");
        assert_eq!(
            ids(&rest.items),
            want[10..].to_vec(),
            "the page after the key"
        );
        assert_eq!(rest.next, None);
    }

    pub async fn update_of_unknown_event_is_not_found(store: &dyn EventStore) {
        let id = OccurrenceSpec::log("never-seen", "w1", t0()).event_id();
        for expected in [None, Some(1)] {
            let got = store
                .update(&id, &set_status(Status::Resolved), expected, t0())
                .await;
            assert_eq!(
                got,
                Err(UpdateEventError::NotFound),
                "update of an unknown event"
            );
        }
        assert_eq!(
            store.get(&id).await.expect("get"),
            None,
            "update must not create"
        );
    }

    pub async fn update_with_a_stale_version_is_refused(store: &dyn EventStore) {
        let o = OccurrenceSpec::log("checkout", "w1", t0()).build();
        record_new(store, &o, t0()).await;
        let patch = EventPatch {
            note: Some(Some("looking".into())),
            ..EventPatch::default()
        };
        let current = must_update(store, &o.event_id, &patch, None, t0()).await;
        assert_eq!(current.version, 2);
        let got = store
            .update(
                &o.event_id,
                &set_status(Status::Resolved),
                Some(1),
                t0() + minutes(1),
            )
            .await;
        assert_eq!(
            got,
            Err(UpdateEventError::VersionMismatch { current: 2 }),
            "a stale expected version is refused with the current version"
        );
        assert_eq!(
            must_get(store, &o.event_id).await,
            current,
            "a refused update changed the event"
        );
    }

    pub async fn update_with_the_matching_version_applies(store: &dyn EventStore) {
        let o = OccurrenceSpec::log("checkout", "w1", t0()).build();
        record_new(store, &o, t0()).await;
        let patch = EventPatch {
            status: Some(Status::Acknowledged),
            note: Some(Some("on it".into())),
            assignee: Some(Some("alice".into())),
        };
        let now = t0() + minutes(3);
        let event = must_update(store, &o.event_id, &patch, Some(1), now).await;
        assert_eq!(event.status, Status::Acknowledged);
        assert_eq!(event.note.as_deref(), Some("on it"));
        assert_eq!(event.assignee.as_deref(), Some("alice"));
        assert_eq!(event.version, 2, "an applied update bumps the version");
        assert_eq!(event.updated_at, now);
        assert_eq!(event.count, 1, "an update does not count");
        assert_eq!(
            must_get(store, &o.event_id).await,
            event,
            "the update was stored"
        );

        let clear = EventPatch {
            note: Some(None),
            ..EventPatch::default()
        };
        let event = must_update(store, &o.event_id, &clear, Some(2), now).await;
        assert_eq!(
            (event.note, event.version),
            (None, 3),
            "Some(None) clears a field"
        );
    }

    pub async fn noop_update_does_not_bump_the_version(store: &dyn EventStore) {
        let o = OccurrenceSpec::log("checkout", "w1", t0()).build();
        let created = record_new(store, &o, t0()).await;
        let noop = EventPatch {
            status: Some(Status::Open),
            note: Some(None),
            assignee: Some(None),
        };
        let event = must_update(store, &o.event_id, &noop, Some(1), t0() + minutes(5)).await;
        assert_eq!(
            event, created,
            "a patch that changes nothing changes nothing"
        );
        assert_eq!(must_get(store, &o.event_id).await, created);
    }

    pub async fn update_without_expected_version_always_applies(store: &dyn EventStore) {
        let o = OccurrenceSpec::log("checkout", "w1", t0()).build();
        record_new(store, &o, t0()).await;
        for (i, status) in [Status::Acknowledged, Status::Resolved, Status::Open]
            .into_iter()
            .enumerate()
        {
            let event = must_update(store, &o.event_id, &set_status(status), None, t0()).await;
            assert_eq!(event.status, status);
            assert_eq!(event.version, i as u64 + 2);
        }
    }

    pub async fn day_activity_counts_each_utc_day(store: &dyn EventStore) {
        let day1 = at("2026-03-01T00:00:00Z").date_naive();
        let day2 = at("2026-03-02T00:00:00Z").date_naive();
        let before_midnight = at("2026-03-01T23:59:59.999999999Z");
        let midnight = at("2026-03-02T00:00:00Z");
        let both = OccurrenceSpec::log("both-days", "a", before_midnight).count(2);
        let both_next = OccurrenceSpec::log("both-days", "b", midnight).count(3);
        let first_only = OccurrenceSpec::log("first-day", "a", at("2026-03-01T08:00:00Z")).count(1);
        let second_only =
            OccurrenceSpec::log("second-day", "a", at("2026-03-02T12:00:00Z")).count(4);
        let second_more =
            OccurrenceSpec::log("second-day", "b", at("2026-03-02T13:00:00Z")).count(5);
        let third_only = OccurrenceSpec::log("third-day", "a", at("2026-03-03T00:00:00Z")).count(6);
        for spec in [
            &both,
            &both_next,
            &first_only,
            &second_only,
            &second_more,
            &third_only,
        ] {
            record_new(store, &spec.build(), t0()).await;
        }
        // A redelivery is not counted again on its day.
        let redelivered = store.record(&both.build(), t0()).await.expect("redelivery");
        assert_eq!(redelivered, Recorded::Duplicate);

        let counts = |activity: Vec<DayActivity>| {
            let mut counts: Vec<(EventId, u64, u64)> = activity
                .into_iter()
                .map(|a| (a.event.id, a.day_count, a.event.count))
                .collect();
            counts.sort();
            counts
        };
        let sorted = |mut v: Vec<(EventId, u64, u64)>| {
            v.sort();
            v
        };
        assert_eq!(
            counts(store.day_activity(day1).await.expect("day_activity")),
            sorted(vec![(both.event_id(), 2, 5), (first_only.event_id(), 1, 1)]),
            "activity of {day1}: (event, day count, total count)"
        );
        assert_eq!(
            counts(store.day_activity(day2).await.expect("day_activity")),
            sorted(vec![
                (both.event_id(), 3, 5),
                (second_only.event_id(), 9, 9)
            ]),
            "activity of {day2}: (event, day count, total count)"
        );
        let day0 = at("2026-02-28T00:00:00Z").date_naive();
        assert!(
            store
                .day_activity(day0)
                .await
                .expect("day_activity")
                .is_empty(),
            "a day without occurrences has no activity"
        );

        // The events come as they stand now.
        let day2_events = store.day_activity(day2).await.expect("day_activity");
        for a in day2_events {
            assert_eq!(a.event, must_get(store, &a.event.id).await);
        }
    }
}

/// The agent-store cases.
pub mod agents {
    use super::*;

    async fn must_put(store: &dyn AgentStore, agent: &Agent) {
        store
            .put(agent)
            .await
            .unwrap_or_else(|e| panic!("put of agent {}: {e}", agent.id));
    }

    pub async fn put_then_get_round_trips(store: &dyn AgentStore) {
        let agent = agent("111122223333", "eu-west-1");
        must_put(store, &agent).await;
        let got = store.get(&agent.id).await.expect("get");
        let stored = Agent {
            revision: 1,
            ..agent
        };
        assert_eq!(
            got,
            Some(stored),
            "get returns the agent as put, at the next revision"
        );
    }

    pub async fn a_put_from_a_stale_read_is_a_conflict(store: &dyn AgentStore) {
        let agent = agent("111122223333", "eu-west-1");
        must_put(store, &agent).await;
        // A second writer that read nothing (revision 0) lost the race.
        let err = store.put(&agent).await.expect_err("a stale put must fail");
        assert!(matches!(err, PortError::Conflict(_)), "{err:?}");
        let fresh = store.get(&agent.id).await.expect("get").expect("stored");
        let mut renamed = fresh.clone();
        renamed.name = "first".into();
        must_put(store, &renamed).await;
        let mut late = fresh;
        late.name = "second".into();
        let err = store
            .put(&late)
            .await
            .expect_err("a put at an old revision must fail");
        assert!(matches!(err, PortError::Conflict(_)), "{err:?}");
        let now = store.get(&agent.id).await.expect("get").expect("stored");
        assert_eq!(
            (now.name.as_str(), now.revision),
            ("first", 2),
            "the first writer's change stands"
        );
    }

    pub async fn get_of_unknown_agent_is_none(store: &dyn AgentStore) {
        let id: AgentId = "999999999999-us-east-1".parse().unwrap();
        assert_eq!(store.get(&id).await.expect("get"), None);
    }

    pub async fn put_replaces_the_agent(store: &dyn AgentStore) {
        let mut agent = agent("111122223333", "eu-west-1");
        must_put(store, &agent).await;
        agent.revision = 1;
        agent.name = "renamed".into();
        agent.config.schedule_minutes = 15;
        agent.config_version += 1;
        agent.last_run = None;
        must_put(store, &agent).await;
        agent.revision = 2;
        assert_eq!(
            store.get(&agent.id).await.expect("get"),
            Some(agent.clone())
        );
        let page = store.list(None, 10).await.expect("list");
        assert_eq!(page.items, vec![agent], "a replaced agent is listed once");
        assert_eq!(page.next, None);
    }

    pub async fn list_is_ordered_by_id_and_pages_exactly_once(store: &dyn AgentStore) {
        let accounts = ["999988887777", "000011112222", "555566667777"];
        let regions = ["us-east-1", "ap-south-1", "local", "eu-west-1"];
        let mut all = Vec::new();
        for account in accounts {
            for region in regions {
                let a = agent(account, region);
                must_put(store, &a).await;
                all.push(a);
            }
        }
        all.sort_by_key(|a| a.id.to_string());
        let want: Vec<String> = all.iter().map(|a| a.id.to_string()).collect();

        // 1, 3, 4 and 12 divide the 12 agents: the last page is full and has no next key.
        for limit in [1, 2, 3, 4, 5, 7, 12, 13, 200] {
            let mut got = Vec::new();
            let mut after: Option<AgentId> = None;
            for page_number in 0.. {
                assert!(page_number <= 100, "listing agents by {limit} does not end");
                let page = store
                    .list(after.clone(), limit)
                    .await
                    .unwrap_or_else(|e| panic!("list of agents after {after:?}: {e}"));
                assert!(page.items.len() <= limit);
                if let Some(next) = &page.next {
                    assert_eq!(page.items.len(), limit, "a page with a next key is full");
                    assert_eq!(
                        Some(next),
                        page.items.last().map(|a| &a.id),
                        "the next key is the last agent's id"
                    );
                }
                got.extend(page.items.iter().map(|a| a.id.to_string()));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(
                got, want,
                "pages of {limit} do not return every agent exactly once, ordered by id"
            );
        }

        let after_last: AgentId = want.last().unwrap().parse().unwrap();
        let page = store.list(Some(after_last), 5).await.expect("list");
        assert!(
            page.items.is_empty() && page.next.is_none(),
            "nothing after the last id"
        );
        // `after` need not be a stored id.
        let between: AgentId = "000011112222-zz".parse().unwrap();
        let page = store.list(Some(between), 2).await.expect("list");
        assert_eq!(
            page.items
                .iter()
                .map(|a| a.id.to_string())
                .collect::<Vec<_>>(),
            want[4..6].to_vec(),
            "listing after an id that is not stored"
        );
    }

    pub async fn list_of_empty_store_is_empty(store: &dyn AgentStore) {
        let page = store.list(None, 10).await.expect("list");
        assert!(page.items.is_empty() && page.next.is_none(), "{page:?}");
    }
}

/// The agent-state cases.
pub mod agent_state {
    use super::*;

    pub async fn load_without_save_is_the_default(store: &dyn AgentStateStore) {
        let state = store.load().await.expect("load");
        assert_eq!(state, AgentState::default(), "the state before any save");
    }

    pub async fn save_then_load_round_trips(store: &dyn AgentStateStore) {
        let mut state = AgentState {
            checkpoint: Some(at("2026-03-01T10:00:00.123456789Z")),
            pending: Some(Window {
                start: at("2026-03-01T10:00:00Z"),
                end: at("2026-03-01T10:05:00Z"),
            }),
            config: Some(agent(ACCOUNT, REGION).config),
            config_version: 7,
            registered: true,
        };
        store.save(&state).await.expect("save");
        assert_eq!(store.load().await.expect("load"), state);

        state.pending = None;
        state.checkpoint = Some(at("2026-03-01T10:05:00Z"));
        store.save(&state).await.expect("second save");
        assert_eq!(
            store.load().await.expect("load"),
            state,
            "a save replaces the state"
        );
    }
}

/// Expands to one `#[tokio::test]` per case, in a module `cases` refers to.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store = $make.await;
                cases::$case(&*store).await;
            }
        )+
    };
}

/// Runs the event-store conformance suite; see the [module docs](crate::conformance)
/// for the `$make` convention.
#[macro_export]
macro_rules! event_store_conformance {
    ($modname:ident, $make:expr) => {
        mod $modname {
            #[allow(unused_imports)]
            use super::*;
            use $crate::conformance::events as cases;
            $crate::__conformance_tests!($make;
                new_occurrence_creates_an_open_event,
                redelivered_occurrence_changes_nothing,
                another_occurrence_adds_its_count_without_a_new_version,
                first_and_last_seen_span_every_grouped_line,
                new_occurrence_reopens_a_resolved_event,
                ignored_event_stays_ignored_but_keeps_counting,
                alarm_back_to_ok_resolves_its_event,
                older_state_change_is_counted_but_does_not_change_status,
                get_of_unknown_event_is_none,
                concurrent_records_are_all_counted,
                list_is_newest_first_with_ties_by_id_descending,
                list_of_empty_store_is_empty,
                list_filters_by_time_range,
                list_filters_by_account_region_and_source,
                list_filters_by_severities_and_statuses,
                pagination_returns_every_event_once_in_order,
                pagination_resumes_after_the_key_of_an_event_that_moved,
                update_of_unknown_event_is_not_found,
                update_with_a_stale_version_is_refused,
                update_with_the_matching_version_applies,
                noop_update_does_not_bump_the_version,
                update_without_expected_version_always_applies,
                day_activity_counts_each_utc_day,
            );
        }
    };
}

/// Runs the agent-store conformance suite; see the [module docs](crate::conformance)
/// for the `$make` convention.
#[macro_export]
macro_rules! agent_store_conformance {
    ($modname:ident, $make:expr) => {
        mod $modname {
            #[allow(unused_imports)]
            use super::*;
            use $crate::conformance::agents as cases;
            $crate::__conformance_tests!($make;
                put_then_get_round_trips,
                a_put_from_a_stale_read_is_a_conflict,
                get_of_unknown_agent_is_none,
                put_replaces_the_agent,
                list_is_ordered_by_id_and_pages_exactly_once,
                list_of_empty_store_is_empty,
            );
        }
    };
}

/// Runs the agent-state conformance suite; see the [module docs](crate::conformance)
/// for the `$make` convention.
#[macro_export]
macro_rules! agent_state_conformance {
    ($modname:ident, $make:expr) => {
        mod $modname {
            #[allow(unused_imports)]
            use super::*;
            use $crate::conformance::agent_state as cases;
            $crate::__conformance_tests!($make;
                load_without_save_is_the_default,
                save_then_load_round_trips,
            );
        }
    };
}
