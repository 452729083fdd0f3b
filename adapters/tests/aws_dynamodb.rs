//! The DynamoDB store against moto: the same conformance suites as the memory
//! and SQLite stores, plus what only DynamoDB has (concurrent redeliveries
//! through the transaction, day partitions, TTL).
#![cfg(feature = "aws")]
mod common;

use adapters::aws::dynamodb::{create_table, DynamoStore, TTL_ATTRIBUTE};
use adapters::conformance::{at, list_all, OccurrenceSpec};
use adapters::memory::MemoryEventStore;
use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use chrono::Duration;
use domain::model::{EventFilter, Severity};
use domain::ports::{EventStore, Recorded};
use std::collections::HashMap;

/// moto handles each HTTP request in its own thread without isolating them:
/// a transaction writes its items one by one (others can read them), and on
/// a cancellation puts back a copy of the whole table taken when it started
/// (losing what other requests wrote meanwhile); a conditional write checks
/// and writes in two steps. DynamoDB makes every request atomic and
/// isolated. So the clients of these tests send one request at a time per
/// table: each request is then atomic, as on DynamoDB, while the store's
/// concurrent calls still interleave between requests (a read, another
/// writer's transaction, the conditional write that loses) exactly as on
/// DynamoDB.
mod one_request_at_a_time {
    use aws_smithy_runtime_api::box_error::BoxError;
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
        SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
    use aws_smithy_runtime_api::client::interceptors::Intercept;
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_types::config_bag::ConfigBag;
    use std::sync::{Arc, Mutex};

    /// Remembers the HTTP client the SDK chose by default.
    #[derive(Debug, Default, Clone)]
    pub struct CaptureHttpClient(pub Arc<Mutex<Option<SharedHttpClient>>>);

    impl Intercept for CaptureHttpClient {
        fn name(&self) -> &'static str {
            "CaptureHttpClient"
        }

        fn read_before_transmit(
            &self,
            _context: &BeforeTransmitInterceptorContextRef<'_>,
            runtime_components: &RuntimeComponents,
            _cfg: &mut ConfigBag,
        ) -> Result<(), BoxError> {
            *self.0.lock().unwrap() = runtime_components.http_client();
            Ok(())
        }
    }

    /// An HTTP client that sends one request at a time through `inner`.
    #[derive(Debug)]
    pub struct Serialized {
        pub inner: SharedHttpClient,
        pub lock: Arc<tokio::sync::Mutex<()>>,
    }

    impl HttpClient for Serialized {
        fn http_connector(
            &self,
            settings: &HttpConnectorSettings,
            components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(SerializedConnector {
                inner: self.inner.http_connector(settings, components),
                lock: self.lock.clone(),
            })
        }
    }

    #[derive(Debug)]
    struct SerializedConnector {
        inner: SharedHttpConnector,
        lock: Arc<tokio::sync::Mutex<()>>,
    }

    impl HttpConnector for SerializedConnector {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let inner = self.inner.clone();
            let lock = self.lock.clone();
            HttpConnectorFuture::new(async move {
                // moto answers once it has handled the whole request.
                let _one_at_a_time = lock.lock().await;
                inner.call(request).await
            })
        }
    }
}

/// A client of moto that sends one request at a time, and a fresh table on it.
async fn fresh_table() -> (aws_sdk_dynamodb::Client, String) {
    use one_request_at_a_time::{CaptureHttpClient, Serialized};
    let sdk_config = common::moto_config().await;
    let capture = CaptureHttpClient::default();
    let setup = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk_config)
            .interceptor(capture.clone())
            .build(),
    );
    let table = common::unique("events");
    create_table(&setup, &table)
        .await
        .unwrap_or_else(|e| panic!("creating table {table} on moto: {e}"));
    let inner = capture
        .0
        .lock()
        .unwrap()
        .clone()
        .expect("the SDK's default HTTP client");
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk_config)
            .http_client(Serialized {
                inner,
                lock: std::sync::Arc::default(),
            })
            // A request waiting for its turn sends nothing: not a stalled upload.
            .stalled_stream_protection(
                aws_sdk_dynamodb::config::StalledStreamProtectionConfig::disabled(),
            )
            .build(),
    );
    (client, table)
}

async fn fresh_store() -> Box<DynamoStore> {
    let (client, table) = fresh_table().await;
    Box::new(DynamoStore::new(client, table))
}

adapters::event_store_conformance!(dynamodb_events, fresh_store());
adapters::agent_store_conformance!(dynamodb_agents, fresh_store());

#[tokio::test]
async fn every_occurrence_delivered_three_times_concurrently_counts_once() {
    let store = fresh_store().await;
    let t = at("2026-03-01T10:00:00Z");
    // 24 occurrences of 4 problems over two days.
    let occurrences: Vec<_> = (0..24i64)
        .map(|i| {
            OccurrenceSpec::log(
                &format!("problem-{}", i % 4),
                &format!("w{i}"),
                t + Duration::hours(2 * i),
            )
            .count(i as u64 + 1)
            .build()
        })
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for copy in 0..3 {
        for o in &occurrences {
            let store = store.clone();
            let o = o.clone();
            tasks.spawn(async move {
                let now = t + Duration::seconds(copy);
                (o.id.clone(), store.record(&o, now).await)
            });
        }
    }
    let mut applied: HashMap<_, usize> = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (id, recorded) = joined.expect("task");
        match recorded.unwrap_or_else(|e| panic!("record of {id}: {e}")) {
            Recorded::Applied(_) => *applied.entry(id).or_default() += 1,
            Recorded::Duplicate => {
                applied.entry(id).or_default();
            }
        }
    }
    assert_eq!(applied.len(), occurrences.len());
    assert!(
        applied.values().all(|n| *n == 1),
        "each occurrence applied exactly once: {applied:?}"
    );

    // The same occurrences recorded once each, in order, by the memory store.
    let oracle = MemoryEventStore::new();
    for o in &occurrences {
        oracle.record(o, t).await.unwrap();
    }
    for p in 0..4 {
        let id = OccurrenceSpec::log(&format!("problem-{p}"), "x", t).event_id();
        let got = store.get(&id).await.unwrap().expect("event");
        let want = oracle.get(&id).await.unwrap().unwrap();
        assert_eq!(got.count, want.count, "count of problem-{p}");
        assert_eq!(
            (got.first_seen, got.last_seen),
            (want.first_seen, want.last_seen)
        );
    }
    for day in [t.date_naive(), (t + Duration::days(1)).date_naive()] {
        let counts = |v: Vec<domain::model::DayActivity>| {
            v.into_iter()
                .map(|a| (a.id, a.day_count))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            counts(store.day_activity(day).await.unwrap()),
            counts(oracle.day_activity(day).await.unwrap()),
            "day counters of {day}"
        );
    }
}

#[tokio::test]
async fn list_spans_several_days_exactly_as_the_memory_store() {
    let store = fresh_store().await;
    let oracle = MemoryEventStore::new();
    let t = at("2026-03-01T22:00:00Z");
    // 30 events over 6 days, several per day, some at the same instant, and
    // one that moves from the first day to the last.
    let mut occurrences = Vec::new();
    for i in 0..30i64 {
        let time = t + Duration::hours(5 * (i % 10)) + Duration::minutes(i / 10);
        occurrences.push(
            OccurrenceSpec::log(&format!("p{i}"), "w1", time)
                .severity(Severity::ALL[(i % 5) as usize])
                .build(),
        );
    }
    occurrences.push(OccurrenceSpec::log("p0", "later", t + Duration::days(5)).build());
    for o in &occurrences {
        assert!(matches!(
            store.record(o, t).await.unwrap(),
            Recorded::Applied(_)
        ));
        oracle.record(o, t).await.unwrap();
    }
    let ids = |v: Vec<domain::model::Event>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let filters = [
        EventFilter::default(),
        EventFilter {
            from: Some(at("2026-03-02T12:00:00Z")),
            to: Some(at("2026-03-04T03:00:00Z")),
            ..EventFilter::default()
        },
        EventFilter {
            from: Some(t),
            to: Some(t + Duration::hours(45)),
            severities: vec![Severity::High, Severity::Critical],
            ..EventFilter::default()
        },
        EventFilter {
            to: Some(at("2026-03-02T00:00:00Z")),
            ..EventFilter::default()
        },
        EventFilter {
            from: Some(at("2026-03-05T00:00:00Z")),
            ..EventFilter::default()
        },
        // Only the moved event is on its old day no more.
        EventFilter {
            from: Some(t),
            to: Some(t + Duration::minutes(1)),
            ..EventFilter::default()
        },
    ];
    for filter in filters {
        let want = ids(list_all(&oracle, &filter, 1000).await);
        assert!(!want.is_empty() || filter.to == Some(t + Duration::minutes(1)));
        for limit in [1, 3, 8, 200] {
            let got = ids(list_all(&*store, &filter, limit).await);
            assert_eq!(got, want, "list with {filter:?}, limit {limit}");
        }
    }
}

#[tokio::test]
async fn table_has_ttl_on_expires_at_and_items_carry_it() {
    let (client, table) = fresh_table().await;
    let ttl = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .expect("DescribeTimeToLive");
    let ttl = ttl.time_to_live_description().expect("a TTL description");
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some(TTL_ATTRIBUTE));

    let store = DynamoStore::new(client.clone(), table.clone()).with_retention_days(7);
    let t = at("2026-03-01T10:00:00Z");
    let o = OccurrenceSpec::log("checkout", "w1", t).build();
    store.record(&o, t).await.unwrap();
    let item = client
        .get_item()
        .table_name(&table)
        .key("PK", AttributeValue::S(format!("EVENT#{}", o.event_id)))
        .key("SK", AttributeValue::S("EVENT".into()))
        .send()
        .await
        .unwrap();
    let item = item.item().expect("the event item");
    assert_eq!(
        item.get(TTL_ATTRIBUTE),
        Some(&AttributeValue::N(
            (t + Duration::days(7)).timestamp().to_string()
        )),
        "an event expires retention days after its last occurrence"
    );
}

#[tokio::test]
async fn creating_an_existing_table_is_an_error() {
    let (client, table) = fresh_table().await;
    let err = create_table(&client, &table)
        .await
        .expect_err("the table exists");
    assert!(!err.is_retryable(), "{err:?}");
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Ingest throughput through the adapter, 16 records in flight:
/// `cargo test --release -p adapters --features aws --test aws_dynamodb -- --ignored --nocapture`.
///
/// `DYNAMO_BENCH_OCCURRENCES` (default 2000) occurrences of 20 problems per
/// table, spread over `DYNAMO_BENCH_TABLES` (default 10) tables. Several
/// tables because moto, unlike DynamoDB, deep-copies the whole table on every
/// transaction (slower as the table grows) and never frees the copied items
/// (its instance tracker keeps them): 2,000 records on one table take moto
/// past 20 GB. Run it on a moto of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
#[ignore = "a measurement, not a check"]
async fn ingest_throughput_on_moto() {
    const IN_FLIGHT: usize = 16;
    let total = env_or("DYNAMO_BENCH_OCCURRENCES", 2_000);
    let tables = env_or("DYNAMO_BENCH_TABLES", 10).max(1);
    let mut stores = Vec::new();
    for _ in 0..tables {
        stores.push(fresh_store().await);
    }
    let t = at("2026-11-25T10:00:00Z");
    let work: Vec<_> = (0..total)
        .map(|i| {
            let o = OccurrenceSpec::log(
                &format!("problem-{}", (i / tables) % 20),
                &format!("w{i}"),
                t + Duration::seconds(i as i64 * 40),
            )
            .build();
            (stores[i % tables].clone(), o)
        })
        .collect();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(work));
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let queue = queue.clone();
        tasks.spawn(async move {
            loop {
                let Some((store, o)) = queue.lock().unwrap().pop() else {
                    return;
                };
                store.record(&o, t).await.expect("record");
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("task");
    }
    let elapsed = started.elapsed();
    println!(
        "recorded {total} occurrences on {tables} table(s), {IN_FLIGHT} in flight, in {:.2?}: {:.0} occurrences/s",
        elapsed,
        total as f64 / elapsed.as_secs_f64()
    );
    let mut counted = 0;
    for store in &stores {
        let all = list_all(&**store, &EventFilter::default(), 200).await;
        counted += all.iter().map(|e| e.count).sum::<u64>();
    }
    assert_eq!(counted, total as u64, "every occurrence counted once");
}
