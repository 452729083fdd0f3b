//! The alerts side of the local store: the outbox filled in the transaction
//! of each event write that may alert, and the per-channel deliveries and
//! storm windows the notifier keeps (see `domain::usecases::notify`).

use super::sql::{begin_immediate, from_json, to_json, with_connection, SqlContext};
use super::SqliteStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::alerts::{Before, Change, StormPolicy, StormWindow, MAX_SUMMARY_TITLES};
use domain::model::Event;
use domain::ports::{Admission, AlertOutbox, DeliveryLog, HeldBack, PendingChange, PortError};
use rusqlite::{params, OptionalExtension, Transaction};

/// Inside the writer's transaction: the change, if some channel could alert on it.
pub(super) fn record_change(
    tx: &Transaction<'_>,
    before: Option<Before>,
    after: &Event,
) -> Result<(), PortError> {
    if !Change::may_alert_between(before, after) {
        return Ok(());
    }
    let change = Change {
        before,
        after: after.clone(),
    };
    let body = to_json(&change, "alert change")?;
    tx.prepare_cached("INSERT INTO alert_outbox (event_id, body) VALUES (?1, ?2)")
        .and_then(|mut stmt| stmt.execute(params![after.id.as_str(), body]))
        .context(|| format!("queueing the alert of event {}", after.id))?;
    Ok(())
}

fn window_of(start: i64, end: i64) -> StormWindow {
    let at = |s| DateTime::from_timestamp(s, 0).unwrap_or_default();
    StormWindow {
        start: at(start),
        end: at(end),
    }
}

#[async_trait]
impl AlertOutbox for SqliteStore {
    async fn pending(&self, limit: usize) -> Result<Vec<PendingChange>, PortError> {
        with_connection(&self.conn, move |conn| {
            let rows: Vec<(i64, String, String)> = conn
                .prepare_cached("SELECT id, event_id, body FROM alert_outbox ORDER BY id LIMIT ?1")
                .and_then(|mut stmt| {
                    stmt.query_map(params![limit as i64], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?
                    .collect()
                })
                .context(|| "reading the alerts outbox".into())?;
            rows.into_iter()
                .map(|(id, event_id, body)| {
                    Ok(PendingChange {
                        // The row id alone could come back if the file were
                        // recreated; with the event id it names one write.
                        id: format!("{event_id}-{id}"),
                        change: from_json(&body, &format!("alert change {id}"))?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn done(&self, id: &str) -> Result<(), PortError> {
        let row: i64 = id
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| PortError::Permanent(format!("not an outbox id: {id}")))?;
        with_connection(&self.conn, move |conn| {
            conn.prepare_cached("DELETE FROM alert_outbox WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute(params![row]))
                .context(|| format!("clearing outbox row {row}"))?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl DeliveryLog for SqliteStore {
    async fn admit(
        &self,
        change_id: &str,
        channel: &str,
        now: DateTime<Utc>,
        policy: StormPolicy,
        title: &str,
    ) -> Result<Admission, PortError> {
        let (change_id, channel, title) =
            (change_id.to_owned(), channel.to_owned(), title.to_owned());
        with_connection(&self.conn, move |conn| {
            let what = format!("admitting alert {change_id} on {channel}");
            let tx = begin_immediate(conn, &what)?;
            let state: Option<String> = tx
                .prepare_cached("SELECT state FROM alert_deliveries WHERE change_id = ?1 AND channel = ?2")
                .and_then(|mut s| s.query_row(params![change_id, channel], |r| r.get(0)).optional())
                .context(|| what.clone())?;
            if let Some(state) = state {
                return Ok(match state.as_str() {
                    "admitted" => Admission::Send,
                    "held" => Admission::Held,
                    _ => Admission::Done,
                });
            }
            let open: Option<(i64, i64)> = tx
                .prepare_cached(
                    "SELECT window_start, window_end FROM alert_deliveries
                     WHERE channel = ?1 AND window_end > ?2
                     ORDER BY window_start DESC LIMIT 1",
                )
                .and_then(|mut s| {
                    s.query_row(params![channel, now.timestamp()], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                })
                .context(|| what.clone())?;
            let window = match open {
                Some((start, end)) => window_of(start, end),
                None => policy.window_from(now),
            };
            let admitted: i64 = tx
                .prepare_cached(
                    "SELECT COUNT(*) FROM alert_deliveries
                     WHERE channel = ?1 AND window_start = ?2 AND state != 'held'",
                )
                .and_then(|mut s| s.query_row(params![channel, window.start.timestamp()], |r| r.get(0)))
                .context(|| what.clone())?;
            let admission = if admitted < i64::from(policy.max_per_window) {
                Admission::Send
            } else {
                Admission::Held
            };
            let state = if admission == Admission::Send { "admitted" } else { "held" };
            tx.prepare_cached(
                "INSERT INTO alert_deliveries (change_id, channel, window_start, window_end, state, title)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    change_id,
                    channel,
                    window.start.timestamp(),
                    window.end.timestamp(),
                    state,
                    title
                ])
            })
            .context(|| what.clone())?;
            tx.commit().context(|| format!("{what}: committing"))?;
            Ok(admission)
        })
        .await
    }

    async fn finished(&self, change_id: &str, channel: &str) -> Result<(), PortError> {
        let (change_id, channel) = (change_id.to_owned(), channel.to_owned());
        with_connection(&self.conn, move |conn| {
            conn.prepare_cached(
                "UPDATE alert_deliveries SET state = 'finished' WHERE change_id = ?1 AND channel = ?2",
            )
            .and_then(|mut s| s.execute(params![change_id, channel]))
            .context(|| format!("marking alert {change_id} on {channel} delivered"))?;
            Ok(())
        })
        .await
    }

    async fn held_back(&self, now: DateTime<Utc>) -> Result<Vec<HeldBack>, PortError> {
        with_connection(&self.conn, move |conn| {
            let rows: Vec<(String, i64, i64, String)> = conn
                .prepare_cached(
                    "SELECT d.channel, d.window_start, d.window_end, d.title
                     FROM alert_deliveries d
                     WHERE d.state = 'held' AND d.window_end <= ?1
                       AND NOT EXISTS (SELECT 1 FROM alert_summaries s
                                       WHERE s.channel = d.channel AND s.window_start = d.window_start)
                     ORDER BY d.channel, d.window_start, d.change_id",
                )
                .and_then(|mut s| {
                    s.query_map(params![now.timestamp()], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })?
                    .collect()
                })
                .context(|| "reading the held-back alerts".into())?;
            let mut out: Vec<HeldBack> = Vec::new();
            for (channel, start, end, title) in rows {
                match out.last_mut() {
                    Some(h) if h.channel == channel && h.window.start.timestamp() == start => {
                        h.count += 1;
                        if h.titles.len() < MAX_SUMMARY_TITLES {
                            h.titles.push(title);
                        }
                    }
                    _ => out.push(HeldBack {
                        channel,
                        window: window_of(start, end),
                        count: 1,
                        titles: vec![title],
                    }),
                }
            }
            Ok(out)
        })
        .await
    }

    async fn summarised(&self, channel: &str, window: StormWindow) -> Result<(), PortError> {
        let channel = channel.to_owned();
        with_connection(&self.conn, move |conn| {
            conn.prepare_cached(
                "INSERT INTO alert_summaries (channel, window_start) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![channel, window.start.timestamp()]))
            .context(|| format!("recording the storm summary of {channel}"))?;
            Ok(())
        })
        .await
    }
}
