//! The local store: events, occurrence dedup, per-day counters, agents and
//! agent state in one SQLite file.
//!
//! The file is shared: `monitoring local` serves from it while
//! `monitoring ingest` writes to it from another process. So nothing is cached
//! in memory (every call reads the file), the journal is WAL (readers do not
//! block the writer), writers wait up to 5 s for each other, and every write
//! is one `BEGIN IMMEDIATE` transaction (it takes the write lock up front, so
//! a read-modify-write cannot be overtaken by the other process).
//!
//! An event is stored as its full JSON (the source of truth) beside copies of
//! the fields that `list` filters and sorts on. `last_seen` is fixed-width
//! RFC 3339 text with nanoseconds, so text order is time order and keyset
//! pagination compares exactly as the memory store does.
//!
//! SQLite calls block, so each one runs on tokio's blocking pool, not on the
//! async workers.

mod alerts;

use crate::keys::{day_key, time_key};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::alerts::Before;
use domain::model::{
    Agent, AgentId, DayActivity, Event, EventFilter, EventId, EventPageKey, EventPatch, Occurrence,
    Page,
};
use domain::ports::{
    AgentState, AgentStateStore, AgentStore, DayCount, EventStore, PortError, Recorded,
    UpdateEventError,
};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, ErrorCode, OptionalExtension, Transaction};
use rusqlite::{Row, TransactionBehavior};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Bumped when the schema changes; a newer file is refused rather than misread.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id        TEXT NOT NULL PRIMARY KEY,
    last_seen TEXT NOT NULL,
    account   TEXT NOT NULL,
    region    TEXT NOT NULL,
    source    TEXT NOT NULL,
    severity  TEXT NOT NULL,
    status    TEXT NOT NULL,
    body      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_newest_first ON events (last_seen DESC, id DESC);

CREATE TABLE IF NOT EXISTS occurrences (
    id          TEXT NOT NULL PRIMARY KEY,
    event_id    TEXT NOT NULL,
    recorded_at TEXT NOT NULL
) WITHOUT ROWID;

-- Keyed by day first: the daily report reads one day's counters.
CREATE TABLE IF NOT EXISTS event_days (
    day      TEXT NOT NULL,
    event_id TEXT NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (day, event_id)
) WITHOUT ROWID;
-- One event's counters over a range of days (the console's activity chart).
CREATE INDEX IF NOT EXISTS event_days_by_event ON event_days (event_id, day);

CREATE TABLE IF NOT EXISTS agents (
    id       TEXT NOT NULL PRIMARY KEY,
    revision INTEGER NOT NULL,
    body     TEXT NOT NULL
) WITHOUT ROWID;

-- Version 2: the alerts outbox, written in the transaction of the event
-- write it describes, and the per-channel deliveries and storm windows.
CREATE TABLE IF NOT EXISTS alert_outbox (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    body     TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS alert_deliveries (
    change_id    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    window_end   INTEGER NOT NULL,
    state        TEXT NOT NULL,
    title        TEXT NOT NULL,
    PRIMARY KEY (change_id, channel)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alert_deliveries_by_window
    ON alert_deliveries (channel, window_start, state);

CREATE TABLE IF NOT EXISTS alert_summaries (
    channel      TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    PRIMARY KEY (channel, window_start)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS agent_states (
    agent_id TEXT NOT NULL PRIMARY KEY,
    body     TEXT NOT NULL
) WITHOUT ROWID;
";

/// How long a writer waits for the other process's transaction to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Busy and locked databases are worth retrying; anything else is not.
fn port_error(what: String, e: rusqlite::Error) -> PortError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            PortError::Transient(format!("sqlite: {what}: database busy: {e}"))
        }
        _ => PortError::Permanent(format!("sqlite: {what}: {e}")),
    }
}

/// Names what failed when a SQLite call fails.
trait SqlContext<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, PortError>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, PortError> {
        self.map_err(|e| port_error(what(), e))
    }
}

fn to_sql_count(count: u64, what: &str) -> Result<i64, PortError> {
    i64::try_from(count)
        .map_err(|_| PortError::Permanent(format!("sqlite: {what}: count {count} is too large")))
}

fn to_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, PortError> {
    serde_json::to_string(value)
        .map_err(|e| PortError::Permanent(format!("sqlite: encoding {what}: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(body: &str, what: &str) -> Result<T, PortError> {
    serde_json::from_str(body)
        .map_err(|e| PortError::Permanent(format!("sqlite: stored {what} does not parse: {e}")))
}

/// Runs a blocking SQLite call on tokio's blocking pool (inline when there is
/// no tokio runtime), holding the connection's lock for its duration.
async fn with_connection<T, E, F>(conn: &Arc<Mutex<Connection>>, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<PortError> + Send + 'static,
{
    let conn = Arc::clone(conn);
    let call = move || {
        // A panic mid-call dropped its transaction, which rolled it back:
        // the connection is still consistent.
        let mut guard = crate::sync::lock(&conn);
        f(&mut guard)
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return call();
    }
    tokio::task::spawn_blocking(call).await.map_err(|e| {
        E::from(PortError::Permanent(format!(
            "sqlite: blocking task failed: {e}"
        )))
    })?
}

fn begin_immediate<'c>(conn: &'c mut Connection, what: &str) -> Result<Transaction<'c>, PortError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .context(|| format!("{what}: starting a write transaction"))
}

fn load_event(conn: &Connection, id: &EventId) -> Result<Option<Event>, PortError> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM events WHERE id = ?1")
        .and_then(|mut stmt| {
            stmt.query_row(params![id.as_str()], |row| row.get(0))
                .optional()
        })
        .context(|| format!("reading event {id}"))?;
    body.map(|b| from_json(&b, &format!("event {id}")))
        .transpose()
}

fn save_event(conn: &Connection, event: &Event) -> Result<(), PortError> {
    let body = to_json(event, &format!("event {}", event.id))?;
    conn.prepare_cached(
        "INSERT INTO events (id, last_seen, account, region, source, severity, status, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET
             last_seen = excluded.last_seen, account = excluded.account,
             region = excluded.region, source = excluded.source,
             severity = excluded.severity, status = excluded.status, body = excluded.body",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            event.id.as_str(),
            time_key(event.last_seen),
            event.account.as_str(),
            event.region.as_str(),
            event.source,
            event.severity.as_str(),
            event.status.as_str(),
            body,
        ])
    })
    .context(|| format!("writing event {}", event.id))?;
    Ok(())
}

/// Records one occurrence inside the caller's write transaction.
fn record_in(
    tx: &Transaction<'_>,
    o: &Occurrence,
    now: DateTime<Utc>,
) -> Result<Recorded, PortError> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO occurrences (id, event_id, recorded_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO NOTHING",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![o.id.as_str(), o.event_id.as_str(), time_key(now)])
        })
        .context(|| format!("remembering occurrence {}", o.id))?;
    if inserted == 0 {
        return Ok(Recorded::Duplicate);
    }
    let (before, event) = match load_event(tx, &o.event_id)? {
        Some(mut event) => {
            let before = Before::from(&event);
            event.apply(o, now);
            (Some(before), event)
        }
        None => (None, Event::from_first(o, now)),
    };
    save_event(tx, &event)?;
    alerts::record_change(tx, before, &event)?;
    let count = to_sql_count(o.count, "day counter")?;
    tx.prepare_cached(
        "INSERT INTO event_days (day, event_id, count) VALUES (?1, ?2, ?3)
         ON CONFLICT (day, event_id) DO UPDATE SET count = count + excluded.count",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            day_key(o.time.date_naive()),
            o.event_id.as_str(),
            count
        ])
    })
    .context(|| format!("counting occurrence {} for its day", o.id))?;
    Ok(Recorded::Applied(event))
}

/// The store of the local mode, over one SQLite file. Cloning shares the connection.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and its schema.
    pub fn open(path: &Path) -> Result<Self, PortError> {
        let shown = path.display().to_string();
        let conn = Connection::open(path).context(|| format!("opening {shown}"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .context(|| format!("setting the busy timeout of {shown}"))?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .context(|| format!("switching {shown} to WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Still correct, only slower: readers then wait for writers.
            tracing::warn!(path = %shown, journal_mode = %mode, "SQLite did not switch to WAL");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .context(|| format!("setting synchronous=NORMAL on {shown}"))?;
        Self::with_schema(conn, &shown)
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Self, PortError> {
        let conn =
            Connection::open_in_memory().context(|| "opening an in-memory database".into())?;
        Self::with_schema(conn, ":memory:")
    }

    fn with_schema(mut conn: Connection, shown: &str) -> Result<Self, PortError> {
        let tx = begin_immediate(&mut conn, &format!("creating the schema of {shown}"))?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .context(|| format!("reading the schema version of {shown}"))?;
        if version > SCHEMA_VERSION {
            return Err(PortError::Permanent(format!(
                "sqlite: {shown} has schema version {version}, newer than this program's {SCHEMA_VERSION}"
            )));
        }
        tx.execute_batch(SCHEMA)
            .context(|| format!("creating the schema of {shown}"))?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .context(|| format!("writing the schema version of {shown}"))?;
        tx.commit()
            .context(|| format!("committing the schema of {shown}"))?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The persistent state of one agent, in the same file.
    pub fn agent_state(&self, agent_id: &AgentId) -> SqliteAgentState {
        SqliteAgentState {
            conn: Arc::clone(&self.conn),
            agent_id: agent_id.to_string(),
        }
    }

    /// Records many occurrences in one transaction, each as `record` would
    /// (a duplicate, also within the batch, is `Duplicate`). All or nothing:
    /// on an error nothing of the batch is kept.
    pub async fn record_batch(
        &self,
        items: &[Occurrence],
        now: DateTime<Utc>,
    ) -> Result<Vec<Recorded>, PortError> {
        let items = items.to_vec();
        with_connection(&self.conn, move |conn| {
            let what = format!("recording a batch of {} occurrences", items.len());
            let tx = begin_immediate(conn, &what)?;
            let recorded = items
                .iter()
                .map(|o| record_in(&tx, o, now))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit().context(|| format!("{what}: committing"))?;
            Ok(recorded)
        })
        .await
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn record(
        &self,
        occurrence: &Occurrence,
        now: DateTime<Utc>,
    ) -> Result<Recorded, PortError> {
        let o = occurrence.clone();
        with_connection(&self.conn, move |conn| {
            let tx = begin_immediate(conn, &format!("recording occurrence {}", o.id))?;
            let recorded = record_in(&tx, &o, now)?;
            if matches!(recorded, Recorded::Applied(_)) {
                tx.commit()
                    .context(|| format!("recording occurrence {}: committing", o.id))?;
            }
            // A duplicate changed nothing: dropping the transaction rolls it back.
            Ok(recorded)
        })
        .await
    }

    async fn get(&self, id: &EventId) -> Result<Option<Event>, PortError> {
        let id = id.clone();
        with_connection(&self.conn, move |conn| load_event(conn, &id)).await
    }

    /// A `limit` of 0 is treated as 1, so a page always moves forward.
    async fn list(
        &self,
        filter: &EventFilter,
        after: Option<EventPageKey>,
        limit: usize,
    ) -> Result<Page<Event, EventPageKey>, PortError> {
        // Values are bound, never spliced into the SQL text.
        let mut sql = String::from("SELECT body FROM events WHERE 1 = 1");
        let mut args: Vec<Value> = Vec::new();
        let mut bind = |condition: &str, value: String, sql: &mut String| {
            sql.push_str(condition);
            args.push(Value::Text(value));
        };
        if let Some(from) = filter.from {
            bind(" AND last_seen >= ?", time_key(from), &mut sql);
        }
        if let Some(to) = filter.to {
            bind(" AND last_seen <= ?", time_key(to), &mut sql);
        }
        if let Some(account) = &filter.account {
            bind(" AND account = ?", account.to_string(), &mut sql);
        }
        if let Some(region) = &filter.region {
            bind(" AND region = ?", region.to_string(), &mut sql);
        }
        if let Some(source) = &filter.source {
            bind(" AND source = ?", source.clone(), &mut sql);
        }
        let in_list =
            |column: &str, n: usize| format!(" AND {column} IN ({})", vec!["?"; n].join(", "));
        if !filter.severities.is_empty() {
            sql.push_str(&in_list("severity", filter.severities.len()));
            args.extend(
                filter
                    .severities
                    .iter()
                    .map(|s| Value::Text(s.as_str().into())),
            );
        }
        if !filter.statuses.is_empty() {
            sql.push_str(&in_list("status", filter.statuses.len()));
            args.extend(
                filter
                    .statuses
                    .iter()
                    .map(|s| Value::Text(s.as_str().into())),
            );
        }
        if let Some(key) = &after {
            sql.push_str(" AND (last_seen, id) < (?, ?)");
            args.push(Value::Text(time_key(key.last_seen)));
            args.push(Value::Text(key.id.to_string()));
        }
        // One more row than asked tells whether there is a next page.
        sql.push_str(" ORDER BY last_seen DESC, id DESC LIMIT ?");
        args.push(Value::Integer(
            i64::try_from(Page::<Event, EventPageKey>::fetch_size(limit)).unwrap_or(i64::MAX),
        ));

        with_connection(&self.conn, move |conn| {
            let bodies: Vec<String> = conn
                .prepare_cached(&sql)
                .and_then(|mut stmt| {
                    stmt.query_map(params_from_iter(args.iter()), |row| row.get(0))?
                        .collect()
                })
                .context(|| "listing events".into())?;
            let items = bodies
                .iter()
                .map(|b| from_json::<Event>(b, "event"))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetch(items, limit, EventPageKey::of))
        })
        .await
    }

    async fn update(
        &self,
        id: &EventId,
        patch: &EventPatch,
        expected_version: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Event, UpdateEventError> {
        let id = id.clone();
        let patch = patch.clone();
        with_connection(&self.conn, move |conn| {
            let tx = begin_immediate(conn, &format!("updating event {id}"))?;
            let mut event = load_event(&tx, &id)?.ok_or(UpdateEventError::NotFound)?;
            UpdateEventError::check_version(&event, expected_version)?;
            let before = Before::from(&event);
            let version_before = event.version;
            patch.apply_to(&mut event, now);
            // The version moves exactly when something visible changed.
            if event.version != version_before {
                save_event(&tx, &event)?;
                alerts::record_change(&tx, Some(before), &event)?;
                tx.commit()
                    .context(|| format!("updating event {id}: committing"))?;
            }
            Ok(event)
        })
        .await
    }

    /// Ordered by event id.
    async fn day_activity(&self, day: NaiveDate) -> Result<Vec<DayActivity>, PortError> {
        with_connection(&self.conn, move |conn| {
            let what = || format!("reading the activity of {day}");
            let rows: Vec<(String, i64)> = conn
                .prepare_cached(
                    "SELECT e.body, d.count FROM event_days d JOIN events e ON e.id = d.event_id
                     WHERE d.day = ?1 ORDER BY d.event_id",
                )
                .and_then(|mut stmt| {
                    stmt.query_map(params![day_key(day)], |row: &Row<'_>| {
                        Ok((row.get(0)?, row.get(1)?))
                    })?
                    .collect()
                })
                .context(what)?;
            rows.into_iter()
                .map(|(body, count)| {
                    Ok(DayActivity {
                        event: from_json(&body, "event")?,
                        day_count: u64::try_from(count).map_err(|_| {
                            PortError::Permanent(format!(
                                "sqlite: {}: negative counter {count}",
                                what()
                            ))
                        })?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn event_activity(
        &self,
        id: &EventId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DayCount>, PortError> {
        let id = id.to_string();
        with_connection(&self.conn, move |conn| {
            let what = || format!("reading the activity of event {id}");
            let rows: Vec<(String, i64)> = conn
                .prepare_cached(
                    "SELECT day, count FROM event_days INDEXED BY event_days_by_event
                     WHERE event_id = ?1 AND day BETWEEN ?2 AND ?3 ORDER BY day",
                )
                .and_then(|mut stmt| {
                    stmt.query_map(params![id, day_key(from), day_key(to)], |row: &Row<'_>| {
                        Ok((row.get(0)?, row.get(1)?))
                    })?
                    .collect()
                })
                .context(what)?;
            rows.into_iter()
                .map(|(day, count)| {
                    Ok(DayCount {
                        date: crate::keys::parse_day_key(&day).map_err(|e| {
                            PortError::Permanent(format!(
                                "sqlite: {}: stored day {day:?}: {e}",
                                what()
                            ))
                        })?,
                        count: u64::try_from(count).map_err(|_| {
                            PortError::Permanent(format!(
                                "sqlite: {}: negative counter {count}",
                                what()
                            ))
                        })?,
                    })
                })
                .collect()
        })
        .await
    }
}

#[async_trait]
impl AgentStore for SqliteStore {
    async fn get(&self, id: &AgentId) -> Result<Option<Agent>, PortError> {
        let id = id.to_string();
        with_connection(&self.conn, move |conn| {
            let body: Option<String> = conn
                .prepare_cached("SELECT body FROM agents WHERE id = ?1")
                .and_then(|mut stmt| stmt.query_row(params![id], |row| row.get(0)).optional())
                .context(|| format!("reading agent {id}"))?;
            body.map(|b| from_json(&b, &format!("agent {id}")))
                .transpose()
        })
        .await
    }

    /// Ordered by the id's text; a `limit` of 0 is treated as 1.
    async fn list(
        &self,
        after: Option<AgentId>,
        limit: usize,
    ) -> Result<Page<Agent, AgentId>, PortError> {
        // The empty string sorts before every id.
        let after = after.map(|a| a.to_string()).unwrap_or_default();
        let fetch = i64::try_from(Page::<Agent, AgentId>::fetch_size(limit)).unwrap_or(i64::MAX);
        with_connection(&self.conn, move |conn| {
            let bodies: Vec<String> = conn
                .prepare_cached("SELECT body FROM agents WHERE id > ?1 ORDER BY id LIMIT ?2")
                .and_then(|mut stmt| {
                    stmt.query_map(params![after, fetch], |row| row.get(0))?
                        .collect()
                })
                .context(|| "listing agents".into())?;
            let items = bodies
                .iter()
                .map(|b| from_json::<Agent>(b, "agent"))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetch(items, limit, |a| a.id.clone()))
        })
        .await
    }

    async fn put(&self, agent: &Agent) -> Result<(), PortError> {
        let id = agent.id.to_string();
        let expected = i64::try_from(agent.revision)
            .map_err(|_| PortError::Permanent("agent revision overflow".into()))?;
        let body = to_json(
            &Agent {
                revision: agent.revision + 1,
                ..agent.clone()
            },
            &format!("agent {id}"),
        )?;
        with_connection(&self.conn, move |conn| {
            // One statement: insert when new (expected 0), else update only at the expected revision.
            let changed = conn
                .prepare_cached(
                    "INSERT INTO agents (id, revision, body) SELECT ?1, 1, ?3 WHERE ?2 = 0
                     ON CONFLICT (id) DO NOTHING",
                )
                .and_then(|mut stmt| stmt.execute(params![id, expected, body]))
                .and_then(|n| {
                    if n > 0 || expected == 0 {
                        return Ok(n);
                    }
                    conn.prepare_cached(
                        "UPDATE agents SET revision = revision + 1, body = ?3 WHERE id = ?1 AND revision = ?2",
                    )
                    .and_then(|mut stmt| stmt.execute(params![id, expected, body]))
                })
                .context(|| format!("writing agent {id}"))?;
            if changed == 0 {
                return Err(PortError::Conflict(format!("agent {id} changed since revision {expected}")));
            }
            Ok(())
        })
        .await
    }
}

/// One agent's persistent state, a row of the store's file. Cloning shares the connection.
#[derive(Clone)]
pub struct SqliteAgentState {
    conn: Arc<Mutex<Connection>>,
    agent_id: String,
}

#[async_trait]
impl AgentStateStore for SqliteAgentState {
    /// The default state until one is saved.
    async fn load(&self) -> Result<AgentState, PortError> {
        let agent_id = self.agent_id.clone();
        with_connection(&self.conn, move |conn| {
            let body: Option<String> = conn
                .prepare_cached("SELECT body FROM agent_states WHERE agent_id = ?1")
                .and_then(|mut stmt| {
                    stmt.query_row(params![agent_id], |row| row.get(0))
                        .optional()
                })
                .context(|| format!("reading the state of agent {agent_id}"))?;
            match body {
                Some(b) => from_json(&b, &format!("state of agent {agent_id}")),
                None => Ok(AgentState::default()),
            }
        })
        .await
    }

    async fn save(&self, state: &AgentState) -> Result<(), PortError> {
        let agent_id = self.agent_id.clone();
        let body = to_json(state, &format!("state of agent {agent_id}"))?;
        with_connection(&self.conn, move |conn| {
            conn.prepare_cached(
                "INSERT INTO agent_states (agent_id, body) VALUES (?1, ?2)
                 ON CONFLICT (agent_id) DO UPDATE SET body = excluded.body",
            )
            .and_then(|mut stmt| stmt.execute(params![agent_id, body]))
            .context(|| format!("writing the state of agent {agent_id}"))?;
            Ok(())
        })
        .await
    }
}
