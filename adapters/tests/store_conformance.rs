//! Runs the store conformance suites against every local store, plus what
//! only SQLite has: a real file shared by several connections (the server and
//! `monitoring ingest`), reopening, per-agent state rows and batches.

use adapters::conformance::{at, OccurrenceSpec};
use adapters::memory::{MemoryAgentState, MemoryAgentStore, MemoryEventStore};
use adapters::sqlite::{SqliteAgentState, SqliteStore};
use domain::model::{AgentId, EventFilter};
use domain::ports::{AgentState, AgentStateStore, EventStore, Recorded};
use std::ops::Deref;
use tempfile::TempDir;

/// A store on a fresh file in its own temporary directory, removed on drop.
struct SqliteOnDisk {
    // Declared first so that the connection closes before the directory goes.
    store: SqliteStore,
    dir: TempDir,
}

impl Deref for SqliteOnDisk {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

async fn sqlite_on_disk() -> SqliteOnDisk {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&dir.path().join("monitoring.db")).expect("open the store");
    SqliteOnDisk { store, dir }
}

/// One agent's state in a store file, with the file kept alive.
struct SqliteStateOnDisk {
    state: SqliteAgentState,
    _store: SqliteOnDisk,
}

impl Deref for SqliteStateOnDisk {
    type Target = SqliteAgentState;
    fn deref(&self) -> &SqliteAgentState {
        &self.state
    }
}

fn agent_id(s: &str) -> AgentId {
    s.parse().expect("test agent id")
}

async fn sqlite_state_on_disk() -> SqliteStateOnDisk {
    let store = sqlite_on_disk().await;
    SqliteStateOnDisk {
        state: store.agent_state(&agent_id("111122223333-eu-west-1")),
        _store: store,
    }
}

adapters::delivery_log_conformance!(memory_deliveries, async {
    Box::new(adapters::memory::MemoryDeliveryLog::new())
});
adapters::delivery_log_conformance!(sqlite_deliveries, sqlite_on_disk());
adapters::event_store_conformance!(memory_events, async { Box::new(MemoryEventStore::new()) });
adapters::agent_store_conformance!(memory_agents, async { Box::new(MemoryAgentStore::new()) });
adapters::agent_state_conformance!(memory_agent_state, async {
    Box::new(MemoryAgentState::new())
});

adapters::event_store_conformance!(sqlite_events, sqlite_on_disk());
adapters::agent_store_conformance!(sqlite_agents, sqlite_on_disk());
adapters::agent_state_conformance!(sqlite_agent_state, sqlite_state_on_disk());

adapters::event_store_conformance!(sqlite_in_memory_events, async {
    Box::new(SqliteStore::open_in_memory().expect("in-memory store"))
});

#[tokio::test]
async fn sqlite_connections_on_one_file_see_each_others_writes() {
    let server = sqlite_on_disk().await;
    let path = server.dir.path().join("monitoring.db");
    let ingest = SqliteStore::open(&path).expect("second connection");
    let t = at("2026-03-01T10:00:00Z");

    let o1 = OccurrenceSpec::log("checkout", "w1", t).build();
    assert!(matches!(
        ingest.record(&o1, t).await.unwrap(),
        Recorded::Applied(_)
    ));
    let seen = server
        .get(&o1.event_id)
        .await
        .unwrap()
        .expect("visible to the server");
    assert_eq!(seen.count, 1);

    // Dedup is in the file, not in a connection.
    assert_eq!(server.record(&o1, t).await.unwrap(), Recorded::Duplicate);
    let o2 = OccurrenceSpec::log("checkout", "w2", t).count(4).build();
    server.record(&o2, t).await.unwrap();
    let seen = ingest.get(&o1.event_id).await.unwrap().unwrap();
    assert_eq!(seen.count, 5, "no connection caches rows");
}

#[tokio::test]
async fn sqlite_concurrent_writers_on_one_file_lose_nothing() {
    let first = sqlite_on_disk().await;
    let path = first.dir.path().join("monitoring.db");
    let second = SqliteStore::open(&path).expect("second connection");
    let t = at("2026-03-01T10:00:00Z");
    let writer = |store: SqliteStore, name: &'static str| {
        tokio::spawn(async move {
            for i in 0..50 {
                let o = OccurrenceSpec::log("checkout", &format!("{name}-{i}"), t).build();
                store.record(&o, t).await.expect("record under contention");
            }
        })
    };
    let a = writer(first.store.clone(), "a");
    let b = writer(second, "b");
    a.await.unwrap();
    b.await.unwrap();
    let id = OccurrenceSpec::log("checkout", "x", t).event_id();
    assert_eq!(first.get(&id).await.unwrap().unwrap().count, 100);
}

#[tokio::test]
async fn sqlite_data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monitoring.db");
    let t = at("2026-03-01T10:00:00Z");
    let o = OccurrenceSpec::log("checkout", "w1", t).build();
    let state = AgentState {
        checkpoint: Some(t),
        registered: true,
        ..AgentState::default()
    };
    {
        let store = SqliteStore::open(&path).unwrap();
        store.record(&o, t).await.unwrap();
        store
            .agent_state(&agent_id("111122223333-eu-west-1"))
            .save(&state)
            .await
            .unwrap();
    }
    let store = SqliteStore::open(&path).expect("reopen");
    assert_eq!(store.get(&o.event_id).await.unwrap().unwrap().count, 1);
    assert_eq!(store.record(&o, t).await.unwrap(), Recorded::Duplicate);
    let loaded = store
        .agent_state(&agent_id("111122223333-eu-west-1"))
        .load()
        .await
        .unwrap();
    assert_eq!(loaded, state);
}

#[tokio::test]
async fn sqlite_agent_states_are_kept_per_agent() {
    let store = sqlite_on_disk().await;
    let a = store.agent_state(&agent_id("111122223333-eu-west-1"));
    let b = store.agent_state(&agent_id("111122223333-us-east-1"));
    let saved = AgentState {
        config_version: 3,
        ..AgentState::default()
    };
    a.save(&saved).await.unwrap();
    assert_eq!(a.load().await.unwrap(), saved);
    assert_eq!(b.load().await.unwrap(), AgentState::default());
}

#[tokio::test]
async fn sqlite_batch_records_like_single_records() {
    let batched = sqlite_on_disk().await;
    let single = MemoryEventStore::new();
    let t = at("2026-03-01T10:00:00Z");
    let mut items = Vec::new();
    for i in 0..30i64 {
        let spec = OccurrenceSpec::log(
            &format!("problem-{}", i % 7),
            &format!("w{i}"),
            t + chrono::Duration::seconds(i),
        );
        items.push(spec.count(i as u64 + 1).build());
    }
    // A redelivery inside the batch and one of an earlier item.
    items.push(items[3].clone());
    items.push(items[0].clone());

    let got = batched.record_batch(&items, t).await.expect("batch");
    let mut want = Vec::new();
    for o in &items {
        want.push(single.record(o, t).await.unwrap());
    }
    assert_eq!(got, want, "per-item answers of the batch");
    assert_eq!(got.last(), Some(&Recorded::Duplicate));

    let from_batch = batched
        .list(&EventFilter::default(), None, 100)
        .await
        .expect("listing the batch store");
    let from_single = single
        .list(&EventFilter::default(), None, 100)
        .await
        .expect("listing the memory store");
    assert_eq!(from_batch, from_single);
    assert_eq!(
        batched.day_activity(t.date_naive()).await.unwrap(),
        single.day_activity(t.date_naive()).await.unwrap()
    );
}

#[tokio::test]
async fn sqlite_refuses_a_file_from_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monitoring.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = SqliteStore::open(&path)
        .err()
        .expect("a newer schema is refused");
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

/// A file of schema version 2 (before the report's columns, the day summary
/// and the recent occurrence ids: every id in `occurrences`) opens as
/// version 5 with those columns filled from the events' bodies, a reopened
/// event's time included, the day summarised and the old ids still known.
#[tokio::test]
async fn sqlite_fills_the_report_columns_of_an_older_file() {
    use domain::model::{DayActivity, DaySummary, EventPatch, Status};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monitoring.db");
    let t = at("2026-11-25T10:00:00Z");
    // As frequent as the regressed event, and more severe: listed first.
    let quiet = OccurrenceSpec::log("quiet", "a", t)
        .count(2)
        .severity(domain::model::Severity::Critical)
        .build();
    let regressed = OccurrenceSpec::log("regressed", "a", t).build();
    let again = OccurrenceSpec::log("regressed", "b", t + chrono::Duration::hours(1)).build();
    {
        let store = SqliteStore::open(&path).unwrap();
        store.record(&quiet, t).await.unwrap();
        store.record(&regressed, t).await.unwrap();
        let resolve = EventPatch {
            status: Some(Status::Resolved),
            ..EventPatch::default()
        };
        store
            .update(&regressed.event_id, &resolve, None, t)
            .await
            .unwrap();
        store.record(&again, t).await.unwrap();
    }
    // Back to version 2's shape: no report columns, no index over them, no
    // day summary.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP INDEX event_days_ranked;
             DROP INDEX event_days_new;
             DROP INDEX event_days_reopened;
             DROP TABLE day_totals;
             ALTER TABLE event_days DROP COLUMN sev_rank;
             ALTER TABLE event_days DROP COLUMN is_new;
             ALTER TABLE event_days DROP COLUMN is_reopened;
             DROP INDEX events_report_fields;
             ALTER TABLE events DROP COLUMN title;
             ALTER TABLE events DROP COLUMN first_seen;
             ALTER TABLE events DROP COLUMN reopened_at;
             INSERT INTO occurrences SELECT id, event_id, recorded_at FROM recent_occurrences;
             DROP TABLE recent_occurrences;
             PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).expect("a version 2 file opens");
    let activity = store.day_activity(t.date_naive()).await.unwrap();
    assert_eq!(activity.len(), 2);
    for a in &activity {
        let event = store.get(&a.id).await.unwrap().unwrap();
        assert_eq!(*a, DayActivity::of(&event, a.day_count));
    }
    assert!(activity.iter().any(|a| a.reopened_at.is_some()));
    let summary = store.day_summary(t.date_naive()).await.unwrap();
    assert_eq!(summary, DaySummary::of(t.date_naive(), &activity));
    assert_eq!(
        (
            summary.occurrences,
            summary.new_total,
            summary.regressions_total
        ),
        (4, 2, 1),
        "the day's summary, summed from the counters"
    );
    assert_eq!(summary.top[0].id, quiet.event_id, "ranked by severity");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, 5);
    drop(conn);
    // The old file's occurrence ids are still known.
    assert_eq!(store.record(&quiet, t).await.unwrap(), Recorded::Duplicate);
    assert_eq!(store.record(&again, t).await.unwrap(), Recorded::Duplicate);
}

/// The alerts outbox is written in the transaction of the event write, and
/// only for writes that may alert.
#[tokio::test]
async fn sqlite_queues_alertable_changes_with_their_writes() {
    use domain::alerts::Transition;
    use domain::model::{EventPatch, Severity, Status};
    use domain::ports::AlertOutbox;
    let store = sqlite_on_disk().await;
    let t = at("2026-11-25T10:00:00Z");
    let first = OccurrenceSpec::log("boom", "w1", t).build();
    store.record(&first, t).await.unwrap();
    store.record(&first, t).await.unwrap(); // a redelivery: a duplicate
    store
        .record(&OccurrenceSpec::log("boom", "w2", t).build(), t)
        .await
        .unwrap(); // a repeat of an open event
    let pending = store.pending(10).await.unwrap();
    assert_eq!(pending.len(), 1, "only the creation may alert: {pending:?}");
    assert_eq!(
        pending[0].change.transition(Severity::Low),
        Some(Transition::Opened)
    );

    let patch = EventPatch {
        status: Some(Status::Resolved),
        ..EventPatch::default()
    };
    store
        .update(&first.event_id, &patch, None, t)
        .await
        .unwrap();
    let pending = store.pending(10).await.unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(
        pending[1].change.transition(Severity::Low),
        Some(Transition::Resolved)
    );

    store.done(&pending[0].id).await.unwrap();
    let left = store.pending(10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, pending[1].id, "ids are stable across reads");
}
