//! One conformance suite per store port, written once and run against every
//! implementation (memory, SQLite, DynamoDB, SSM), so that the use cases can
//! rely on the same semantics whatever store they run on.
//!
//! * [`events`]: `EventStore`, run by `event_store_conformance!`;
//! * [`agents`]: `AgentStore`, run by `agent_store_conformance!`;
//! * [`agent_state`]: `AgentStateStore`, run by `agent_state_conformance!`;
//! * [`deliveries`]: `DeliveryLog` (alerts), run by `delivery_log_conformance!`;
//! * this module: the fixtures the cases share ([`OccurrenceSpec`],
//!   [`agent`], [`list_all`], ...).
//!
//! Each case is a `pub async fn` taking the store as a trait object and
//! panicking with a message that says what differs. A case file defines all
//! its cases inside one `suite!` invocation, which emits the functions, their
//! names in `CASES`, and the exported macro that turns every one of them into
//! a `#[tokio::test]`; so a new case is registered by writing it there, and
//! cannot be left out of the list:
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
    AccountId, Agent, AgentConfig, AgentId, AgentStatus, DayActivity, DaySummary, Event,
    EventFilter, EventId, EventPageKey, EventPatch, Fingerprint, LastRun, Occurrence, OccurrenceId,
    Region, Rule, Severity, Status, StatusEffect, LISTED_EVENTS,
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
        config_updated_at: None,
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

/// Defines the cases of one suite: each `pub async fn` as written, `CASES`
/// (their names, in order), and the `#[macro_export]` macro named after
/// `macro` that runs each case as a `#[tokio::test]` in a module of its own.
/// The first token must be `$` (the generated macro needs its own
/// metavariables, and `macro_rules!` cannot write a `$` itself).
macro_rules! suite {
    (
        $d:tt
        $(#[$macro_meta:meta])*
        macro $macro_name:ident for $module:ident;
        $(
            $(#[$case_meta:meta])*
            pub async fn $case:ident($store:ident: $store_ty:ty) $body:block
        )+
    ) => {
        $(
            $(#[$case_meta])*
            pub async fn $case($store: $store_ty) $body
        )+

        /// The names of the cases, in the order they run.
        pub const CASES: &[&str] = &[$(stringify!($case)),+];

        $(#[$macro_meta])*
        #[macro_export]
        macro_rules! $macro_name {
            ($d modname:ident, $d make:expr) => {
                mod $d modname {
                    #[allow(unused_imports)]
                    use super::*;
                    $(
                        #[tokio::test]
                        async fn $case() {
                            let store = $d make.await;
                            $d crate::conformance::$module::$case(&*store).await;
                        }
                    )+
                }
            };
        }
    };
}

pub mod agent_state;
pub mod agents;
pub mod deliveries;
pub mod events;
