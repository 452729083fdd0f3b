//! The daily report's summary of each day, kept as occurrences are recorded
//! (`EventStore::day_summary`), so a day of 100,000 events is summed in a
//! few index reads instead of reading them all.
//!
//! Two parts, both written in the transaction of the event write:
//! * `day_totals`: a day's occurrences, events, new events, reopened events
//!   and occurrences per severity and per account, as counters;
//! * three columns of each day counter (`event_days`): the event's current
//!   severity rank, whether it was first seen that day and whether it was
//!   last reopened that day, with an index per list in the report's order
//!   (count, severity, id), so each list's first entries are an index range.
//!
//! The summary follows the events' current severity, first seen and
//! reopening, as `DaySummary::of` does: when an event write changes one of
//! them, the counters and flags of the days concerned move with it.

use super::sql::{from_sql_count, to_sql_count, SqlContext};
use crate::keys::{day_key, parse_day_key};
use chrono::{DateTime, NaiveDate, Utc};
use domain::model::{
    AccountId, DayActivity, DaySummary, Event, EventId, Occurrence, Severity, LISTED_EVENTS,
    TOP_EVENTS,
};
use domain::ports::PortError;
use domain::time_text;
use rusqlite::{params, Connection, Row, Transaction};
use std::collections::{BTreeMap, HashMap};

const OCCURRENCES: &str = "occurrences";
const EVENTS: &str = "events";
const SEVERITY: &str = "severity:";
const ACCOUNT: &str = "account:";

/// The severity's place in `info < ... < critical`, as stored in `sev_rank`.
pub(super) fn rank(s: Severity) -> i64 {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0) as i64
}

/// The two per-day flags of a day counter, and their totals' keys.
#[derive(Clone, Copy)]
enum Flag {
    /// The event was first seen that day.
    New,
    /// The event was last reopened that day.
    Reopened,
}

impl Flag {
    fn key(self) -> &'static str {
        match self {
            Flag::New => "new",
            Flag::Reopened => "reopened",
        }
    }

    fn set_sql(self) -> &'static str {
        match self {
            Flag::New => {
                "UPDATE event_days SET is_new = ?3 WHERE day = ?1 AND event_id = ?2 AND is_new != ?3"
            }
            Flag::Reopened => {
                "UPDATE event_days SET is_reopened = ?3
                 WHERE day = ?1 AND event_id = ?2 AND is_reopened != ?3"
            }
        }
    }
}

/// What of an event the summary follows.
#[derive(Clone, Copy, PartialEq)]
pub(super) struct Tracked {
    severity: Severity,
    first_day: NaiveDate,
    reopened_day: Option<NaiveDate>,
}

impl From<&Event> for Tracked {
    fn from(e: &Event) -> Self {
        Tracked {
            severity: e.severity,
            first_day: e.first_seen.date_naive(),
            reopened_day: e.reopened_at.map(|t| t.date_naive()),
        }
    }
}

/// Changes to `day_totals`, summed in memory and written once per
/// transaction: a batch of 500 occurrences of a few accounts touches a few
/// counters, not 1,500.
#[derive(Default)]
pub(super) struct Totals(HashMap<(NaiveDate, String), i64>);

impl Totals {
    fn add(&mut self, day: NaiveDate, key: impl Into<String>, n: i64) {
        *self.0.entry((day, key.into())).or_insert(0) += n;
    }

    /// Writes the sums into the caller's transaction.
    pub(super) fn flush(self, tx: &Transaction<'_>) -> Result<(), PortError> {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO day_totals (day, key, n) VALUES (?1, ?2, ?3)
                 ON CONFLICT (day, key) DO UPDATE SET n = n + excluded.n",
            )
            .context(|| "preparing the day totals".into())?;
        for ((day, key), n) in self.0 {
            if n != 0 {
                stmt.execute(params![day_key(day), key, n])
                    .context(|| format!("adding {n} to {key} of {day}"))?;
            }
        }
        Ok(())
    }
}

/// Moves `id`'s part in the summary from `before` to `after` (an event
/// write that changed its severity, first seen or reopening). The counters
/// of the day the current occurrence falls on are not yet counted here.
pub(super) fn follow_change(
    tx: &Transaction<'_>,
    totals: &mut Totals,
    id: &EventId,
    before: Tracked,
    after: Tracked,
) -> Result<(), PortError> {
    if before == after {
        return Ok(());
    }
    if before.severity != after.severity {
        let days: Vec<(String, i64)> = tx
            .prepare_cached("SELECT day, count FROM event_days WHERE event_id = ?1")
            .and_then(|mut stmt| {
                stmt.query_map(params![id.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .context(|| format!("reading the day counters of event {id}"))?;
        for (day, count) in days {
            let day = parse_day_key(&day).map_err(|e| {
                PortError::Permanent(format!("sqlite: event {id}: stored day {day:?}: {e}"))
            })?;
            totals.add(day, format!("{SEVERITY}{}", before.severity), -count);
            totals.add(day, format!("{SEVERITY}{}", after.severity), count);
        }
        tx.prepare_cached("UPDATE event_days SET sev_rank = ?2 WHERE event_id = ?1")
            .and_then(|mut stmt| stmt.execute(params![id.as_str(), rank(after.severity)]))
            .context(|| format!("ranking the day counters of event {id}"))?;
    }
    move_flag(
        tx,
        totals,
        Flag::New,
        id,
        Some(before.first_day),
        Some(after.first_day),
    )?;
    move_flag(
        tx,
        totals,
        Flag::Reopened,
        id,
        before.reopened_day,
        after.reopened_day,
    )
}

/// Clears `flag` on `id`'s counter of day `from` and sets it on that of day
/// `to`, where those counters exist, adjusting the days' totals.
fn move_flag(
    tx: &Transaction<'_>,
    totals: &mut Totals,
    flag: Flag,
    id: &EventId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(), PortError> {
    if from == to {
        return Ok(());
    }
    for (day, value, step) in [(from, 0, -1), (to, 1, 1)] {
        let Some(day) = day else { continue };
        let changed = tx
            .prepare_cached(flag.set_sql())
            .and_then(|mut stmt| stmt.execute(params![day_key(day), id.as_str(), value]))
            .context(|| format!("moving the {} flag of event {id}", flag.key()))?;
        if changed > 0 {
            totals.add(day, flag.key(), step);
        }
    }
    Ok(())
}

/// Adds occurrence `o` of `event` (as written) to its UTC day: the event's
/// counter of that day (created with its flags on the day's first
/// occurrence) and the day's totals.
pub(super) fn count_occurrence(
    tx: &Transaction<'_>,
    totals: &mut Totals,
    o: &Occurrence,
    event: &Event,
) -> Result<(), PortError> {
    let day = o.time.date_naive();
    let tracked = Tracked::from(event);
    let is_new = tracked.first_day == day;
    let is_reopened = tracked.reopened_day == Some(day);
    let n = to_sql_count(o.count, "day counter")?;
    let count: i64 = tx
        .prepare_cached(
            "INSERT INTO event_days (day, event_id, count, sev_rank, is_new, is_reopened)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (day, event_id) DO UPDATE SET count = count + excluded.count
             RETURNING count",
        )
        .and_then(|mut stmt| {
            stmt.query_row(
                params![
                    day_key(day),
                    o.event_id.as_str(),
                    n,
                    rank(tracked.severity),
                    is_new,
                    is_reopened
                ],
                |row| row.get(0),
            )
        })
        .context(|| format!("counting occurrence {} for its day", o.id))?;
    // Counts start at the first occurrence's (at least 1) and only grow.
    if count == n {
        totals.add(day, EVENTS, 1);
        totals.add(day, Flag::New.key(), i64::from(is_new));
        totals.add(day, Flag::Reopened.key(), i64::from(is_reopened));
    }
    totals.add(day, OCCURRENCES, n);
    totals.add(day, format!("{SEVERITY}{}", event.severity), n);
    totals.add(day, format!("{ACCOUNT}{}", event.account), n);
    Ok(())
}

/// The columns of a day's activity row, from the counter `d` and the
/// event's report fields `e`.
pub(super) const ACTIVITY_COLUMNS: &str = "e.id, e.title, e.account, e.region, e.severity, \
     e.status, e.first_seen, e.reopened_at, d.count";

/// One row of a day's activity as SQLite answers it, before validation.
pub(super) struct DayRow {
    id: String,
    title: Option<String>,
    account: String,
    region: String,
    severity: String,
    status: String,
    first_seen: Option<String>,
    reopened_at: Option<String>,
    count: i64,
}

impl DayRow {
    /// Reads a row selected with [`ACTIVITY_COLUMNS`].
    pub(super) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(DayRow {
            id: row.get(0)?,
            title: row.get(1)?,
            account: row.get(2)?,
            region: row.get(3)?,
            severity: row.get(4)?,
            status: row.get(5)?,
            first_seen: row.get(6)?,
            reopened_at: row.get(7)?,
            count: row.get(8)?,
        })
    }

    /// The domain value; a stored field that does not validate is a
    /// permanent error naming the event.
    pub(super) fn into_domain(self, what: &str) -> Result<DayActivity, PortError> {
        let id = self.id;
        let bad = |field: &str, e: &dyn std::fmt::Display| {
            PortError::Permanent(format!("sqlite: {what}: event {id}: stored {field}: {e}"))
        };
        // RFC 3339 either way: `time_key` text, or the body's (older files).
        let time = |field: &str, v: &str| -> Result<DateTime<Utc>, PortError> {
            time_text::parse(v).map_err(|e| bad(field, &e))
        };
        Ok(DayActivity {
            title: self.title.ok_or_else(|| bad("title", &"missing"))?,
            account: self.account.parse().map_err(|e| bad("account", &e))?,
            region: self.region.parse().map_err(|e| bad("region", &e))?,
            severity: self.severity.parse().map_err(|e| bad("severity", &e))?,
            status: self.status.parse().map_err(|e| bad("status", &e))?,
            first_seen: match self.first_seen.as_deref() {
                Some(v) => time("first_seen", v)?,
                None => return Err(bad("first_seen", &"missing")),
            },
            reopened_at: self
                .reopened_at
                .map(|v| time("reopened_at", &v))
                .transpose()?,
            day_count: from_sql_count(self.count, what)?,
            id: id.parse().map_err(|e| bad("id", &e))?,
        })
    }
}

/// The first `limit` activity rows of `day` in the report's order, from
/// `index` (whose condition `only` repeats, so SQLite may use it).
fn first_rows(
    conn: &Connection,
    day: &str,
    index: &str,
    only: &str,
    limit: usize,
    what: &str,
) -> Result<Vec<DayActivity>, PortError> {
    let sql = format!(
        "SELECT {ACTIVITY_COLUMNS}
         FROM event_days d INDEXED BY {index}
             JOIN events e INDEXED BY events_report_fields ON e.id = d.event_id
         WHERE d.day = ?1 {only}
         ORDER BY d.count DESC, d.sev_rank DESC, d.event_id LIMIT ?2"
    );
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_map(params![day, limit as i64], DayRow::read)?
                .collect::<Result<Vec<_>, _>>()
        })
        .context(|| what.to_owned())?
        .into_iter()
        .map(|row| row.into_domain(what))
        .collect()
}

/// The kept summary of `day`.
pub(super) fn read(conn: &Connection, day: NaiveDate) -> Result<DaySummary, PortError> {
    let what = format!("reading the summary of {day}");
    let key = day_key(day);
    let counters: Vec<(String, i64)> = conn
        .prepare_cached("SELECT key, n FROM day_totals WHERE day = ?1 AND n != 0")
        .and_then(|mut stmt| {
            stmt.query_map(params![key], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .context(|| what.clone())?;
    let mut summary = DaySummary::of(day, &[]);
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for (name, n) in &counters {
        let n = from_sql_count(*n, &what)?;
        let bad = |e: &dyn std::fmt::Display| {
            PortError::Permanent(format!("sqlite: {what}: stored total {name:?}: {e}"))
        };
        if let Some(s) = name.strip_prefix(SEVERITY) {
            let s: Severity = s.parse().map_err(|e| bad(&e))?;
            summary.by_severity.insert(s, n);
        } else if let Some(a) = name.strip_prefix(ACCOUNT) {
            let a: AccountId = a.parse().map_err(|e| bad(&e))?;
            summary.by_account.insert(a, n);
        } else {
            totals.insert(name, n);
        }
    }
    let total = |name: &str| totals.get(name).copied().unwrap_or(0);
    let size = |name: &str| usize::try_from(total(name)).unwrap_or(usize::MAX);
    summary.occurrences = total(OCCURRENCES);
    summary.events = size(EVENTS);
    summary.new_total = size(Flag::New.key());
    summary.regressions_total = size(Flag::Reopened.key());
    if summary.events > 0 {
        summary.top = first_rows(conn, &key, "event_days_ranked", "", TOP_EVENTS, &what)?;
    }
    if summary.new_total > 0 {
        let only = "AND d.is_new = 1";
        summary.new_events = first_rows(conn, &key, "event_days_new", only, LISTED_EVENTS, &what)?;
    }
    if summary.regressions_total > 0 {
        let only = "AND d.is_reopened = 1";
        summary.regressions = first_rows(
            conn,
            &key,
            "event_days_reopened",
            only,
            LISTED_EVENTS,
            &what,
        )?;
    }
    Ok(summary)
}
