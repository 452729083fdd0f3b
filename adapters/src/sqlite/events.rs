//! Events, occurrence dedup and the per-day counters: [`EventStore`].

use super::alerts;
use super::day_summary::{self, DayRow, Totals, Tracked, ACTIVITY_COLUMNS};
use super::dedup::RecentIds;
use super::sql::{
    begin_immediate, from_json, from_sql_count, to_json, with_connection, SqlContext,
};
use super::SqliteStore;
use crate::keys::{day_key, parse_day_key, time_key};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::alerts::Before;
use domain::model::{
    DayActivity, DaySummary, Event, EventFilter, EventId, EventPageKey, EventPatch, Occurrence,
    Page,
};
use domain::ports::{DayCount, EventStore, PortError, Recorded, UpdateEventError};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, Transaction};
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};

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
        "INSERT INTO events (id, last_seen, account, region, source, severity, status, body,
                             title, first_seen, reopened_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET
             last_seen = excluded.last_seen, account = excluded.account,
             region = excluded.region, source = excluded.source,
             severity = excluded.severity, status = excluded.status, body = excluded.body,
             title = excluded.title, first_seen = excluded.first_seen,
             reopened_at = excluded.reopened_at",
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
            event.title,
            time_key(event.first_seen),
            event.reopened_at.map(time_key),
        ])
    })
    .context(|| format!("writing event {}", event.id))?;
    Ok(())
}

/// Records one occurrence inside the caller's write transaction (`recent`
/// caught up in it; `pending`, the ids this transaction added); the day
/// totals it changes are added to `totals`, for the caller to write.
fn record_in(
    tx: &Transaction<'_>,
    totals: &mut Totals,
    (recent, pending): (&RecentIds, &mut HashSet<u128>),
    o: &Occurrence,
    now: DateTime<Utc>,
) -> Result<Recorded, PortError> {
    if !recent.remember(tx, pending, o, &time_key(now))? {
        return Ok(Recorded::Duplicate);
    }
    let (before, event) = match load_event(tx, &o.event_id)? {
        Some(mut event) => {
            let before = (Before::from(&event), Tracked::from(&event));
            event.apply(o, now);
            (Some(before), event)
        }
        None => (None, Event::from_first(o, now)),
    };
    save_event(tx, &event)?;
    if let Some((_, tracked)) = before {
        day_summary::follow_change(tx, totals, &event.id, tracked, Tracked::from(&event))?;
    }
    alerts::record_change(tx, before.map(|(b, _)| b), &event)?;
    day_summary::count_occurrence(tx, totals, o, &event)?;
    Ok(Recorded::Applied(event))
}

/// The SQL of one page of `list` and the values it binds (values are bound,
/// never spliced into the SQL text). One more row than asked tells whether
/// there is a next page.
fn list_query(
    filter: &EventFilter,
    after: Option<&EventPageKey>,
    limit: usize,
) -> (String, Vec<Value>) {
    let mut sql = String::from("SELECT body FROM events WHERE 1 = 1");
    let mut args: Vec<Value> = Vec::new();
    let equal: [(&str, Option<String>); 5] = [
        (" AND last_seen >= ?", filter.from.map(time_key)),
        (" AND last_seen <= ?", filter.to.map(time_key)),
        (
            " AND account = ?",
            filter.account.as_ref().map(|a| a.to_string()),
        ),
        (
            " AND region = ?",
            filter.region.as_ref().map(|r| r.to_string()),
        ),
        (" AND source = ?", filter.source.clone()),
    ];
    for (condition, value) in equal {
        if let Some(value) = value {
            sql.push_str(condition);
            args.push(Value::Text(value));
        }
    }
    let severities: Vec<&str> = filter.severities.iter().map(|s| s.as_str()).collect();
    let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
    for (column, values) in [("severity", severities), ("status", statuses)] {
        if !values.is_empty() {
            let marks = vec!["?"; values.len()].join(", ");
            sql.push_str(&format!(" AND {column} IN ({marks})"));
            args.extend(values.into_iter().map(|v| Value::Text(v.into())));
        }
    }
    if let Some(key) = after {
        sql.push_str(" AND (last_seen, id) < (?, ?)");
        args.push(Value::Text(time_key(key.last_seen)));
        args.push(Value::Text(key.id.to_string()));
    }
    sql.push_str(" ORDER BY last_seen DESC, id DESC LIMIT ?");
    args.push(Value::Integer(
        i64::try_from(Page::<Event, EventPageKey>::fetch_size(limit)).unwrap_or(i64::MAX),
    ));
    (sql, args)
}

/// The `(text, count)` rows a query of the day counters answers.
fn counter_rows(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
    what: &str,
) -> Result<Vec<(String, i64)>, PortError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.query_map(args, |row: &Row<'_>| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .context(|| what.to_owned())
}

impl SqliteStore {
    /// Records many occurrences in one transaction, each as `record` would
    /// (a duplicate, also within the batch, is `Duplicate`). All or nothing:
    /// on an error nothing of the batch is kept.
    pub async fn record_batch(
        &self,
        items: &[Occurrence],
        now: DateTime<Utc>,
    ) -> Result<Vec<Recorded>, PortError> {
        let items = items.to_vec();
        let recent = self.recent.clone();
        with_connection(&self.conn, move |conn| {
            let what = format!("recording a batch of {} occurrences", items.len());
            let mut recent = lock(&recent);
            let tx = begin_immediate(conn, &what)?;
            recent.catch_up(&tx)?;
            let (mut totals, mut pending) = (Totals::default(), HashSet::new());
            let recorded = items
                .iter()
                .map(|o| record_in(&tx, &mut totals, (&*recent, &mut pending), o, now))
                .collect::<Result<Vec<_>, _>>()?;
            totals.flush(&tx)?;
            tx.commit().context(|| format!("{what}: committing"))?;
            settle(&mut recent, conn);
            Ok(recorded)
        })
        .await
    }
}

/// The recent ids; a call that panicked while holding them left them
/// consistent (they only ever hold committed ids), so a poisoned lock is
/// taken as it is.
fn lock(recent: &Mutex<RecentIds>) -> MutexGuard<'_, RecentIds> {
    recent.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Moves the recent ids to the settled table when due. The write that
/// called it is committed whatever happens here: a failed move is logged,
/// loses nothing (the ids stay recent) and is tried again after the next.
fn settle(recent: &mut RecentIds, conn: &mut Connection) {
    if let Err(e) = recent.settle_if_due(conn) {
        tracing::warn!(error = %e, "could not settle the recent occurrence ids; will retry");
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    /// A batch of one: a duplicate commits a transaction that wrote nothing.
    async fn record(
        &self,
        occurrence: &Occurrence,
        now: DateTime<Utc>,
    ) -> Result<Recorded, PortError> {
        let mut recorded = self
            .record_batch(std::slice::from_ref(occurrence), now)
            .await?;
        recorded
            .pop()
            .ok_or_else(|| PortError::Permanent("sqlite: a batch of one answered nothing".into()))
    }

    async fn get(&self, id: &EventId) -> Result<Option<Event>, PortError> {
        let id = id.clone();
        with_connection(&self.conn, move |conn| load_event(conn, &id)).await
    }

    /// In one call on the connection's thread, not one each.
    async fn get_many(&self, ids: &[EventId]) -> Result<Vec<Event>, PortError> {
        let ids = ids.to_vec();
        with_connection(&self.conn, move |conn| {
            let mut found = Vec::with_capacity(ids.len());
            for id in &ids {
                found.extend(load_event(conn, id)?);
            }
            Ok(found)
        })
        .await
    }

    /// A `limit` of 0 is treated as 1, so a page always moves forward.
    async fn list(
        &self,
        filter: &EventFilter,
        after: Option<EventPageKey>,
        limit: usize,
    ) -> Result<Page<Event, EventPageKey>, PortError> {
        let (sql, args) = list_query(filter, after.as_ref(), limit);
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
            let tracked = Tracked::from(&event);
            let version_before = event.version;
            patch.apply_to(&mut event, now);
            // The version moves exactly when something visible changed.
            if event.version != version_before {
                save_event(&tx, &event)?;
                let mut totals = Totals::default();
                day_summary::follow_change(&tx, &mut totals, &id, tracked, Tracked::from(&event))?;
                totals.flush(&tx)?;
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
            let what = format!("reading the activity of {day}");
            // The report's columns from their covering index, not the events'
            // rows (see the schema).
            let sql = format!(
                "SELECT {ACTIVITY_COLUMNS}
                 FROM event_days d JOIN events e INDEXED BY events_report_fields
                     ON e.id = d.event_id
                 WHERE d.day = ?1 ORDER BY d.event_id"
            );
            conn.prepare_cached(&sql)
                .and_then(|mut stmt| {
                    stmt.query_map(params![day_key(day)], DayRow::read)?
                        .collect::<Result<Vec<_>, _>>()
                })
                .context(|| what.clone())?
                .into_iter()
                .map(|row| row.into_domain(&what))
                .collect()
        })
        .await
    }

    /// From the summary kept as occurrences are recorded (see
    /// `day_summary`): a few index reads, however busy the day.
    async fn day_summary(&self, day: NaiveDate) -> Result<DaySummary, PortError> {
        with_connection(&self.conn, move |conn| day_summary::read(conn, day)).await
    }

    async fn event_activity(
        &self,
        id: &EventId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DayCount>, PortError> {
        let id = id.to_string();
        with_connection(&self.conn, move |conn| {
            let what = format!("reading the activity of event {id}");
            let rows = counter_rows(
                conn,
                "SELECT day, count FROM event_days INDEXED BY event_days_by_event
                 WHERE event_id = ?1 AND day BETWEEN ?2 AND ?3 ORDER BY day",
                params![id, day_key(from), day_key(to)],
                &what,
            )?;
            rows.into_iter()
                .map(|(day, count)| {
                    Ok(DayCount {
                        date: parse_day_key(&day).map_err(|e| {
                            PortError::Permanent(format!("sqlite: {what}: stored day {day:?}: {e}"))
                        })?,
                        count: from_sql_count(count, &what)?,
                    })
                })
                .collect()
        })
        .await
    }
}
