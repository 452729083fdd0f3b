//! Writing events: the item of an event, the reads before a write and the
//! record transaction.

use super::codec::{
    activity_pk, event_pk, last_day_pk, last_seen_sk, n, number, parse_body, s, to_json,
};
use super::{
    DynamoStore, Item, DAYS_PK, EVENT_SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK, OCC_SK, PK, SK,
    TTL_ATTRIBUTE,
};
use crate::aws::errors::port_error;
use crate::keys::{day_key, time_key};
use crate::sync::lock;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use aws_smithy_types::error::operation::BuildError;
use chrono::{DateTime, NaiveDate, Utc};
use domain::model::{day_of, Event, EventId, Occurrence, OccurrenceId};
use domain::ports::PortError;
use std::collections::HashMap;

/// What one attempt of the record transaction found.
pub(super) enum Attempt {
    Done,
    Duplicate,
    /// A concurrent writer changed the event: read again.
    Raced,
}

impl DynamoStore {
    pub(super) fn event_item(&self, event: &Event, rev: u64) -> Result<Item, PortError> {
        let body = to_json(event, &format!("event {}", event.id))?;
        Ok(HashMap::from([
            (PK.into(), s(event_pk(&event.id))),
            (SK.into(), s(EVENT_SK)),
            ("body".into(), s(body)),
            ("rev".into(), n(rev)),
            ("account".into(), s(event.account.as_str())),
            ("region".into(), s(event.region.as_str())),
            ("source".into(), s(event.source.as_str())),
            ("severity".into(), s(event.severity.as_str())),
            ("status".into(), s(event.status.as_str())),
            (GSI1PK.into(), s(last_day_pk(day_of(event.last_seen)))),
            (GSI1SK.into(), s(last_seen_sk(event.last_seen, &event.id))),
            (TTL_ATTRIBUTE.into(), n(self.expiry(event.last_seen))),
        ]))
    }

    /// The stored event with its `rev`, read consistently.
    pub(super) async fn load_event(&self, id: &EventId) -> Result<Option<(Event, u64)>, PortError> {
        let what = format!("dynamodb: reading event {id}");
        let out = self
            .client
            .get_item()
            .table_name(&*self.table)
            .key(PK, s(event_pk(id)))
            .key(SK, s(EVENT_SK))
            .consistent_read(true)
            .projection_expression("#body, #rev")
            .expression_attribute_names("#body", "body")
            .expression_attribute_names("#rev", "rev")
            .send()
            .await
            .map_err(|e| port_error(&what, e))?;
        match out.item() {
            None => Ok(None),
            Some(item) => Ok(Some((
                parse_body(item, &what)?,
                number(item, "rev", &what)?,
            ))),
        }
    }

    pub(super) async fn occurrence_seen(&self, id: &OccurrenceId) -> Result<bool, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&*self.table)
            .key(PK, s(format!("OCC#{id}")))
            .key(SK, s(OCC_SK))
            .consistent_read(true)
            .projection_expression("#pk")
            .expression_attribute_names("#pk", PK)
            .send()
            .await
            .map_err(|e| port_error(&format!("dynamodb: reading occurrence {id}"), e))?;
        Ok(out.item().is_some())
    }

    /// Makes sure `list` visits `day`: its `LASTDAYS` item exists with an
    /// expiry no earlier than any event of that day. Written before an event
    /// can move into that day; once per day and process.
    pub(super) async fn list_day(&self, day: NaiveDate) -> Result<(), PortError> {
        if lock(&self.listed_days).contains(&day) {
            return Ok(());
        }
        let result = self
            .client
            .update_item()
            .table_name(&*self.table)
            .key(PK, s(DAYS_PK))
            .key(SK, s(day_key(day)))
            .update_expression("SET #exp = :exp")
            .condition_expression("attribute_not_exists(#exp) OR #exp < :exp")
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":exp", n(self.day_expiry(day)))
            .send()
            .await;
        match result {
            Ok(_) => {}
            // Already there with a later expiry.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(port_error(&format!("dynamodb: listing day {day}"), e)),
        }
        lock(&self.listed_days).insert(day);
        Ok(())
    }

    /// One attempt at the record transaction: the occurrence marker, the
    /// event and its day counter, all or nothing.
    pub(super) async fn record_once(
        &self,
        o: &Occurrence,
        event: &Event,
        read_rev: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Attempt, PortError> {
        let what = format!("dynamodb: recording occurrence {}", o.id);
        let marker = self.marker_put(o, now).map_err(build_error(&what))?;
        let event_put = self.event_put(event, read_rev, &what)?;
        let counter = self.counter_update(o).map_err(build_error(&what))?;
        // The SDK fills in a fresh ClientRequestToken per call and keeps it
        // across its own retries, so a retried commit is not seen as a duplicate.
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(marker).build())
            .transact_items(TransactWriteItem::builder().put(event_put).build())
            .transact_items(TransactWriteItem::builder().update(counter).build())
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(Attempt::Done),
            Err(e) => e,
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        else {
            return Err(port_error(&what, err));
        };
        let codes: Vec<&str> = cancelled
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or("None"))
            .collect();
        attempt_of_cancellation(&codes, &what)
    }

    /// The occurrence marker, put only if absent: a redelivery is a duplicate.
    fn marker_put(&self, o: &Occurrence, now: DateTime<Utc>) -> Result<Put, BuildError> {
        Put::builder()
            .table_name(&*self.table)
            .item(PK, s(format!("OCC#{}", o.id)))
            .item(SK, s(OCC_SK))
            .item("event_id", s(o.event_id.as_str()))
            .item("recorded_at", s(time_key(now)))
            .item(TTL_ATTRIBUTE, n(self.expiry(now.max(o.time))))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .build()
    }

    /// The event, put only if nobody wrote it since it was read (`read_rev`).
    fn event_put(
        &self,
        event: &Event,
        read_rev: Option<u64>,
        what: &str,
    ) -> Result<Put, PortError> {
        let new_rev = read_rev.map_or(1, |r| r + 1);
        let event_put = Put::builder()
            .table_name(&*self.table)
            .set_item(Some(self.event_item(event, new_rev)?));
        let event_put = match read_rev {
            None => event_put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK),
            Some(rev) => event_put
                .condition_expression("#rev = :rev")
                .expression_attribute_names("#rev", "rev")
                .expression_attribute_values(":rev", n(rev)),
        };
        event_put.build().map_err(build_error(what))
    }

    /// Adds the occurrence's count to its event's counter of the day.
    fn counter_update(&self, o: &Occurrence) -> Result<Update, BuildError> {
        let day = o.time.date_naive();
        Update::builder()
            .table_name(&*self.table)
            .key(PK, s(event_pk(&o.event_id)))
            .key(SK, s(format!("DAY#{}", day_key(day))))
            .update_expression("SET #g2pk = :g2pk, #g2sk = :g2sk, #exp = :exp ADD #count :n")
            .expression_attribute_names("#g2pk", GSI2PK)
            .expression_attribute_names("#g2sk", GSI2SK)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":g2pk", s(activity_pk(day)))
            .expression_attribute_values(":g2sk", s(o.event_id.as_str()))
            .expression_attribute_values(":exp", n(self.day_expiry(day)))
            .expression_attribute_values(":n", n(o.count))
            .build()
    }
}

/// A request that does not build is a bug, not something a retry fixes.
fn build_error(what: &str) -> impl Fn(BuildError) -> PortError + '_ {
    move |e| PortError::Permanent(format!("{what}: {e}"))
}

/// What a cancelled record transaction means, from its cancellation reasons
/// (marker, event, counter, in that order).
fn attempt_of_cancellation(codes: &[&str], what: &str) -> Result<Attempt, PortError> {
    match codes {
        ["ConditionalCheckFailed", ..] => Ok(Attempt::Duplicate),
        // No reasons: the next attempt's reads tell what happened.
        [] => Ok(Attempt::Raced),
        codes
            if codes.iter().all(|c| {
                matches!(
                    *c,
                    "None"
                        | "ConditionalCheckFailed"
                        | "TransactionConflict"
                        | "ThrottlingError"
                        | "ProvisionedThroughputExceeded"
                )
            }) =>
        {
            Ok(Attempt::Raced)
        }
        codes => Err(PortError::Permanent(format!(
            "{what}: transaction cancelled: {}",
            codes.join(", ")
        ))),
    }
}
