//! `EventStore` on the table: record, get, list, triage and day activity.

use super::codec::{activity_pk, event_pk, n, number, parse_body, s, string};
use super::record::Attempt;
use super::{
    backoff, DynamoStore, Item, BATCH_GET_ATTEMPTS, BATCH_GET_MAX, EVENT_SK, GSI2PK, GSI2SK,
    GSI_ACTIVITY, PK, RECORD_ATTEMPTS, SK, UPDATE_ATTEMPTS,
};
use crate::aws::errors::port_error;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use chrono::{DateTime, NaiveDate, Utc};
use domain::model::{
    day_of, DayActivity, Event, EventFilter, EventId, EventPageKey, EventPatch, Occurrence, Page,
};
use domain::ports::{EventStore, PortError, Recorded, UpdateEventError};
use std::collections::HashMap;

#[async_trait]
impl EventStore for DynamoStore {
    async fn record(
        &self,
        occurrence: &Occurrence,
        now: DateTime<Utc>,
    ) -> Result<Recorded, PortError> {
        let o = occurrence;
        for attempt in 1..=RECORD_ATTEMPTS {
            if attempt > 1 {
                backoff(attempt).await;
            }
            let (seen, stored) =
                tokio::try_join!(self.occurrence_seen(&o.id), self.load_event(&o.event_id))?;
            if seen {
                return Ok(Recorded::Duplicate);
            }
            let (event, read_rev) = match stored {
                Some((mut event, rev)) => {
                    event.apply(o, now);
                    (event, Some(rev))
                }
                None => (Event::from_first(o, now), None),
            };
            self.list_day(day_of(event.last_seen)).await?;
            match self.record_once(o, &event, read_rev, now).await? {
                Attempt::Done => return Ok(Recorded::Applied(event)),
                Attempt::Duplicate => return Ok(Recorded::Duplicate),
                Attempt::Raced => {
                    tracing::debug!(occurrence = %o.id, event = %o.event_id, attempt, "record lost a race; retrying");
                }
            }
        }
        Err(PortError::Transient(format!(
            "dynamodb: recording occurrence {}: event {} kept changing during {RECORD_ATTEMPTS} attempts",
            o.id, o.event_id
        )))
    }

    async fn get(&self, id: &EventId) -> Result<Option<Event>, PortError> {
        Ok(self.load_event(id).await?.map(|(event, _)| event))
    }

    /// `BatchGetItem`, 100 keys a call, instead of one `GetItem` each.
    async fn get_many(&self, ids: &[EventId]) -> Result<Vec<Event>, PortError> {
        Ok(self.batch_get_events(ids).await?.into_values().collect())
    }

    /// A `limit` of 0 is treated as 1, so a page always moves forward.
    async fn list(
        &self,
        filter: &EventFilter,
        after: Option<EventPageKey>,
        limit: usize,
    ) -> Result<Page<Event, EventPageKey>, PortError> {
        self.list_events(filter, after, limit).await
    }

    async fn update(
        &self,
        id: &EventId,
        patch: &EventPatch,
        expected_version: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Event, UpdateEventError> {
        let what = format!("dynamodb: updating event {id}");
        for attempt in 1..=UPDATE_ATTEMPTS {
            if attempt > 1 {
                backoff(attempt).await;
            }
            let (mut event, rev) = self
                .load_event(id)
                .await?
                .ok_or(UpdateEventError::NotFound)?;
            UpdateEventError::check_version(&event, expected_version)?;
            let version_before = event.version;
            patch.apply_to(&mut event, now);
            // The version moves exactly when something visible changed.
            if event.version == version_before {
                return Ok(event);
            }
            self.list_day(day_of(event.last_seen)).await?;
            let result = self
                .client
                .put_item()
                .table_name(&*self.table)
                .set_item(Some(self.event_item(&event, rev + 1)?))
                .condition_expression("#rev = :rev")
                .expression_attribute_names("#rev", "rev")
                .expression_attribute_values(":rev", n(rev))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(event),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
                {
                    tracing::debug!(event = %id, attempt, "update lost a race; retrying");
                }
                Err(e) => return Err(port_error(&what, e).into()),
            }
        }
        Err(PortError::Transient(format!(
            "{what}: the event kept changing during {UPDATE_ATTEMPTS} attempts"
        ))
        .into())
    }

    /// Ordered by event id.
    async fn day_activity(&self, day: NaiveDate) -> Result<Vec<DayActivity>, PortError> {
        let what = format!("dynamodb: reading the activity of {day}");
        let mut counters: Vec<(EventId, u64)> = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let resp = self
                .client
                .query()
                .table_name(&*self.table)
                .index_name(GSI_ACTIVITY)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", GSI2PK)
                .expression_attribute_names("#sk", GSI2SK)
                .expression_attribute_names("#count", "count")
                .expression_attribute_values(":pk", s(activity_pk(day)))
                .projection_expression("#sk, #count")
                .scan_index_forward(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| port_error(&what, e))?;
            for item in resp.items() {
                let id = string(item, GSI2SK, &what)?;
                let id: EventId = id.parse().map_err(|e| {
                    PortError::Permanent(format!("{what}: stored event id {id:?}: {e}"))
                })?;
                counters.push((id, number(item, "count", &what)?));
            }
            match resp.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        counters.sort_by(|a, b| a.0.cmp(&b.0));
        let ids: Vec<EventId> = counters.iter().map(|(id, _)| id.clone()).collect();
        let mut events = self.batch_get_events(&ids).await?;
        // An expired event takes its counters out of the report.
        Ok(counters
            .into_iter()
            .filter_map(|(id, day_count)| {
                events
                    .remove(&id)
                    .map(|event| DayActivity::of(&event, day_count))
            })
            .collect())
    }

    /// One Query of the event's partition; see [`crate::aws::activity`].
    async fn event_activity(
        &self,
        id: &EventId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<domain::ports::DayCount>, PortError> {
        crate::aws::activity::event_activity(&self.client, &self.table, id, from, to).await
    }
}

impl DynamoStore {
    /// The events of these ids that exist, by `BatchGetItem` (consistent).
    async fn batch_get_events(
        &self,
        ids: &[EventId],
    ) -> Result<HashMap<EventId, Event>, PortError> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(BATCH_GET_MAX) {
            let what = format!("dynamodb: reading {} events", chunk.len());
            let keys: Vec<Item> = chunk
                .iter()
                .map(|id| HashMap::from([(PK.into(), s(event_pk(id))), (SK.into(), s(EVENT_SK))]))
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .projection_expression("#body")
                    .expression_attribute_names("#body", "body")
                    .build()
                    .map_err(|e| PortError::Permanent(format!("{what}: {e}")))?,
            );
            let mut attempt = 0;
            while let Some(keys) = request.take() {
                attempt += 1;
                if attempt > 1 {
                    if attempt > BATCH_GET_ATTEMPTS {
                        return Err(PortError::Transient(format!(
                            "{what}: keys still unprocessed after {BATCH_GET_ATTEMPTS} attempts"
                        )));
                    }
                    backoff(attempt).await;
                }
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&*self.table, keys)
                    .send()
                    .await
                    .map_err(|e| port_error(&what, e))?;
                for item in out
                    .responses()
                    .and_then(|r| r.get(&*self.table))
                    .into_iter()
                    .flatten()
                {
                    let event: Event = parse_body(item, &what)?;
                    found.insert(event.id.clone(), event);
                }
                request = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&*self.table))
                    .filter(|k| !k.keys().is_empty())
                    .cloned();
            }
        }
        Ok(found)
    }
}
