//! The file's tables, its schema version and the connection settings that
//! let two processes share it.

use super::sql::{begin_immediate, SqlContext};
use domain::ports::PortError;
use rusqlite::Connection;
use std::time::Duration;

/// Bumped when the schema changes; a newer file is refused rather than misread.
const SCHEMA_VERSION: i64 = 5;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id        TEXT NOT NULL PRIMARY KEY,
    last_seen TEXT NOT NULL,
    account   TEXT NOT NULL,
    region    TEXT NOT NULL,
    source    TEXT NOT NULL,
    severity  TEXT NOT NULL,
    status    TEXT NOT NULL,
    body      TEXT NOT NULL,
    -- Version 3: what the daily report needs of an event besides the above.
    title       TEXT,
    first_seen  TEXT,
    reopened_at TEXT
);
CREATE INDEX IF NOT EXISTS events_newest_first ON events (last_seen DESC, id DESC);
-- Version 3: a day's activity reads these columns, not the events' rows: on a
-- day of 100,000 events, 0.2 s instead of 1.6 s (one row page read each).
CREATE INDEX IF NOT EXISTS events_report_fields
    ON events (id, title, account, region, severity, status, first_seen, reopened_at);

-- The ids of occurrences recorded, settled (see dedup.rs).
CREATE TABLE IF NOT EXISTS occurrences (
    id          TEXT NOT NULL PRIMARY KEY,
    event_id    TEXT NOT NULL,
    recorded_at TEXT NOT NULL
) WITHOUT ROWID;
-- Version 5: the ids of occurrences recorded since the last move to the
-- table above, in the order recorded.
CREATE TABLE IF NOT EXISTS recent_occurrences (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

-- Keyed by day first: the daily report reads one day's counters.
CREATE TABLE IF NOT EXISTS event_days (
    day      TEXT NOT NULL,
    event_id TEXT NOT NULL,
    count    INTEGER NOT NULL,
    -- Version 4: the day summary's (see day_summary.rs): the event's current
    -- severity rank, whether it was first seen / last reopened that day.
    sev_rank    INTEGER NOT NULL DEFAULT 0,
    is_new      INTEGER NOT NULL DEFAULT 0,
    is_reopened INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, event_id)
) WITHOUT ROWID;
-- One event's counters over a range of days (the console's activity chart).
CREATE INDEX IF NOT EXISTS event_days_by_event ON event_days (event_id, day);
-- Version 4: each list of the day summary in the report's order.
CREATE INDEX IF NOT EXISTS event_days_ranked
    ON event_days (day, count DESC, sev_rank DESC, event_id);
-- The flag is a column too, so these cover their queries (no row lookups).
CREATE INDEX IF NOT EXISTS event_days_new
    ON event_days (day, count DESC, sev_rank DESC, event_id, is_new) WHERE is_new = 1;
CREATE INDEX IF NOT EXISTS event_days_reopened
    ON event_days (day, count DESC, sev_rank DESC, event_id, is_reopened) WHERE is_reopened = 1;

-- Version 4: each day's totals (occurrences, events, new, reopened,
-- severity:<level>, account:<id>), added to as occurrences are recorded.
CREATE TABLE IF NOT EXISTS day_totals (
    day TEXT NOT NULL,
    key TEXT NOT NULL,
    n   INTEGER NOT NULL,
    PRIMARY KEY (day, key)
) WITHOUT ROWID;

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

/// WAL journal, a busy timeout and `synchronous=NORMAL`: the settings of a
/// file another process may be using too.
pub(super) fn configure(conn: &Connection, shown: &str) -> Result<(), PortError> {
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
        .context(|| format!("setting synchronous=NORMAL on {shown}"))
}

/// Creates what is missing of the schema; a file of a newer schema is refused.
pub(super) fn create(conn: &mut Connection, shown: &str) -> Result<(), PortError> {
    let tx = begin_immediate(conn, &format!("creating the schema of {shown}"))?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .context(|| format!("reading the schema version of {shown}"))?;
    if version > SCHEMA_VERSION {
        return Err(PortError::Permanent(format!(
            "sqlite: {shown} has schema version {version}, newer than this program's {SCHEMA_VERSION}"
        )));
    }
    add_report_columns(&tx, shown)?;
    let summarise = add_summary_columns(&tx, shown)?;
    tx.execute_batch(SCHEMA)
        .context(|| format!("creating the schema of {shown}"))?;
    if summarise {
        fill_day_totals(&tx, shown)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .context(|| format!("writing the schema version of {shown}"))?;
    tx.commit()
        .context(|| format!("committing the schema of {shown}"))
}

/// The columns of `table` in the file; none when it has no such table.
fn columns(tx: &Connection, table: &str, shown: &str) -> Result<Vec<String>, PortError> {
    tx.prepare("SELECT name FROM pragma_table_info(?1)")
        .and_then(|mut stmt| stmt.query_map([table], |row| row.get(0))?.collect())
        .context(|| format!("reading the columns of {table} in {shown}"))
}

/// Version 4 on a file of an older version: the day counters' summary
/// columns, filled from the events' current fields; answers whether it did
/// (the day totals are then to be filled).
fn add_summary_columns(tx: &Connection, shown: &str) -> Result<bool, PortError> {
    let columns = columns(tx, "event_days", shown)?;
    if columns.is_empty() || columns.iter().any(|c| c == "sev_rank") {
        return Ok(false);
    }
    tx.execute_batch(
        "ALTER TABLE event_days ADD COLUMN sev_rank INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE event_days ADD COLUMN is_new INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE event_days ADD COLUMN is_reopened INTEGER NOT NULL DEFAULT 0;
         UPDATE event_days SET
             sev_rank = coalesce((SELECT CASE e.severity WHEN 'low' THEN 1
                 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 WHEN 'critical' THEN 4 ELSE 0 END
                 FROM events e WHERE e.id = event_days.event_id), 0),
             is_new = coalesce((SELECT substr(e.first_seen, 1, 10) = event_days.day
                 FROM events e WHERE e.id = event_days.event_id), 0),
             is_reopened = coalesce((SELECT substr(e.reopened_at, 1, 10) = event_days.day
                 FROM events e WHERE e.id = event_days.event_id), 0);",
    )
    .context(|| format!("adding the summary columns to the day counters of {shown}"))?;
    Ok(true)
}

/// Version 4 on a file of an older version: every day's totals, from the
/// day counters and the events' current fields.
fn fill_day_totals(tx: &Connection, shown: &str) -> Result<(), PortError> {
    tx.execute_batch(
        "INSERT INTO day_totals (day, key, n)
         SELECT day, 'occurrences', sum(count) FROM event_days GROUP BY day
         UNION ALL SELECT day, 'events', count(*) FROM event_days GROUP BY day
         UNION ALL SELECT day, 'new', sum(is_new) FROM event_days GROUP BY day
         UNION ALL SELECT day, 'reopened', sum(is_reopened) FROM event_days GROUP BY day
         UNION ALL SELECT d.day, 'severity:' || e.severity, sum(d.count)
             FROM event_days d JOIN events e ON e.id = d.event_id GROUP BY d.day, e.severity
         UNION ALL SELECT d.day, 'account:' || e.account, sum(d.count)
             FROM event_days d JOIN events e ON e.id = d.event_id GROUP BY d.day, e.account;",
    )
    .context(|| format!("summing the day totals of {shown}"))
}

/// Version 3 on a file of an older version: the report's columns, filled
/// from each event's body. Nothing to do on a new file or a current one.
fn add_report_columns(tx: &Connection, shown: &str) -> Result<(), PortError> {
    let columns = columns(tx, "events", shown)?;
    if columns.is_empty() || columns.iter().any(|c| c == "first_seen") {
        return Ok(());
    }
    tx.execute_batch(
        "ALTER TABLE events ADD COLUMN title TEXT;
         ALTER TABLE events ADD COLUMN first_seen TEXT;
         ALTER TABLE events ADD COLUMN reopened_at TEXT;
         UPDATE events SET title = json_extract(body, '$.title'),
                           first_seen = json_extract(body, '$.first_seen'),
                           reopened_at = json_extract(body, '$.reopened_at');",
    )
    .context(|| format!("adding the report's columns to the events of {shown}"))
}
