//! `EventStore` and `AgentStore` on one DynamoDB table (single-table design).
//!
//! # The table
//!
//! Created by [`create_table`] (and by Terraform, identically): on-demand
//! billing, string keys `PK` (partition) and `SK` (sort), two global
//! secondary indexes and TTL on the number attribute `expires_at` (epoch
//! seconds). Nothing ever runs a `Scan`.
//!
//! | item | `PK` | `SK` | other attributes |
//! |---|---|---|---|
//! | event | `EVENT#<event id>` | `EVENT` | `body` (the event as JSON, the source of truth), `rev` (write counter for conditional writes), `account`, `region`, `source`, `severity`, `status` (copies for filters), `gsi1pk` = `LAST#<UTC day of last_seen>`, `gsi1sk` = `<last_seen>#<event id>`, `expires_at` = last_seen + retention |
//! | day counter | `EVENT#<event id>` | `DAY#<yyyy-mm-dd>` | `count` (added to with `ADD`), `gsi2pk` = `ACTIVITY#<yyyy-mm-dd>`, `gsi2sk` = `<event id>`, `expires_at` = end of that day + retention |
//! | occurrence marker | `OCC#<occurrence id>` | `OCC` | `event_id`, `recorded_at`, `expires_at` = max(now, occurrence time) + retention |
//! | listed day | `LASTDAYS` | `<yyyy-mm-dd>` | `expires_at` = end of that day + retention (only ever raised) |
//! | agent | `AGENTS` | `<agent id>` | `body` (the agent as JSON), `rev` (= the stored `revision`) |
//!
//! `<last_seen>` is fixed-width RFC 3339 UTC with nanoseconds
//! (`2026-03-01T10:00:00.000000000Z`), so text order is time order and
//! `gsi1sk` sorts exactly as `(last_seen, id)`.
//!
//! | index | partition key | sort key | projection | holds |
//! |---|---|---|---|---|
//! | `gsi1` | `gsi1pk` | `gsi1sk` | all attributes | events, by the day of their newest activity |
//! | `gsi2` | `gsi2pk` | `gsi2sk` | keys + `count` | day counters, by day |
//!
//! Both indexes are sparse: only the items that carry their keys are in them.
//!
//! # Access patterns
//!
//! * **Record an occurrence** (`EventStore::record`): `GetItem` of the marker
//!   and of the event (consistent reads, in parallel); the marker exists →
//!   `Duplicate`. Else `Event::from_first` / `Event::apply` in memory, make sure
//!   the `LASTDAYS` item of the new `last_seen` day exists (an idempotent
//!   `UpdateItem`, written once per day and process, *before* the event can be
//!   in that day), then one `TransactWriteItems`:
//!   put the marker if `attribute_not_exists(PK)`; put the event if
//!   `attribute_not_exists(PK)` (new) or `rev = <rev read>` (existing), with
//!   `rev + 1` and `gsi1*` rewritten, so the event moves to its new day
//!   partition; update the day counter with `ADD count :n`. A cancellation on
//!   the marker → `Duplicate` (a redelivery changes nothing); on the event (a
//!   concurrent writer) or a transaction conflict → read again and retry,
//!   bounded, then `PortError::Transient`. The SDK sends an idempotency token
//!   with each transaction, so its own retries of a lost answer do not
//!   misreport a committed write as a duplicate.
//! * **Get an event**: `GetItem PK=EVENT#<id>, SK=EVENT`, consistent.
//! * **List events** newest activity first, `(last_seen desc, id desc)`,
//!   strictly after the page key: `Query PK=LASTDAYS` (consistent, descending,
//!   `SK` between the days of `from` and of `min(to, page key)`) answers the
//!   days that may hold events; for each, newest first, `Query gsi1
//!   gsi1pk=LAST#<day>` descending, its `gsi1sk` bounded by `from`, `to` and
//!   the page key, with account/region/source/severities/statuses as a
//!   `FilterExpression` (checked again client-side), until `limit + 1` events
//!   are found (the extra one says whether there is a next page). No partition
//!   holds all events: one day's partition holds the events last seen that day.
//!   The index is eventually consistent: a list may lag a just-recorded
//!   occurrence by a moment (each listed event is a coherent snapshot).
//! * **Triage an event** (`EventStore::update`): `GetItem` (consistent), check
//!   the expected version, apply the patch, `PutItem` if `rev = <rev read>`;
//!   a lost race re-reads and retries a few times.
//! * **Day activity** (daily report): `Query gsi2 gsi2pk=ACTIVITY#<day>`
//!   (ascending: by event id) for the counters, then `BatchGetItem` of the
//!   events by 100 (consistent; `UnprocessedKeys` retried with backoff).
//! * **Agents**: `GetItem PK=AGENTS, SK=<id>` (consistent); list = `Query
//!   PK=AGENTS` with `SK > <after>` and `Limit`, following
//!   `LastEvaluatedKey`; put = `PutItem` if `attribute_not_exists(PK)`
//!   (revision 0) or `rev = <revision>`, storing `revision + 1`; a failed
//!   condition is `PortError::Conflict`. A few items: one partition is fine.
//!
//! # Retention
//!
//! Every item carries `expires_at` and DynamoDB's TTL deletes it some time
//! after (typically within days). An event expires `retention` days after its
//! last occurrence; its day counters and the `LASTDAYS` item of its day never
//! expire before it.
//!
//! # Throughput
//!
//! Each record is 2 reads and one 3-item transaction. All events active on one
//! day share the `gsi1` partition of that day and all counters of a day the
//! `gsi2` partition of that day: DynamoDB serves about 1,000 writes/s per
//! partition (more after adaptive splitting), far above what the agents send
//! (grouped occurrences every few minutes per log group).
//!
//! All values are bound as expression attribute values; every SDK error goes
//! through [`port_error`] (throttling and 5xx are transient).

use super::errors::port_error;
use crate::keys::{day_key, parse_day_key, time_key};
use crate::sync::lock;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, IndexStatus,
    KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType, Put,
    ScalarAttributeType, TableStatus, TimeToLiveSpecification, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::model::{
    day_of, Agent, AgentId, DayActivity, Event, EventFilter, EventId, EventPageKey, EventPatch,
    Occurrence, OccurrenceId, Page,
};
use domain::ports::{AgentStore, EventStore, PortError, Recorded, UpdateEventError};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Name of the index of events by the day of their newest activity.
pub const GSI_LAST_SEEN: &str = "gsi1";
/// Name of the index of day counters by day.
pub const GSI_ACTIVITY: &str = "gsi2";
/// The TTL attribute (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// Retention of events unless [`DynamoStore::with_retention_days`] says otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

const PK: &str = "PK";
const SK: &str = "SK";
const GSI1PK: &str = "gsi1pk";
const GSI1SK: &str = "gsi1sk";
const GSI2PK: &str = "gsi2pk";
const GSI2SK: &str = "gsi2sk";
const EVENT_SK: &str = "EVENT";
const OCC_SK: &str = "OCC";
const AGENTS_PK: &str = "AGENTS";
const DAYS_PK: &str = "LASTDAYS";

/// Attempts of a read-apply-write of `record` before giving up as transient.
const RECORD_ATTEMPTS: u32 = 16;
/// Attempts of a triage update that keeps losing races.
const UPDATE_ATTEMPTS: u32 = 8;
/// Attempts of a `BatchGetItem` that keeps answering unprocessed keys.
const BATCH_GET_ATTEMPTS: u32 = 10;
/// `BatchGetItem` takes at most 100 keys.
const BATCH_GET_MAX: usize = 100;
/// Days of `LASTDAYS` read per query while listing.
const DAYS_PAGE: i32 = 31;
/// Items evaluated per index query while a server-side filter drops some.
const FILTERED_PAGE: usize = 100;

type Item = HashMap<String, AttributeValue>;

/// Events and agents on one DynamoDB table; see the [module docs](self).
/// Cloning shares the client and the cache of listed days.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: Arc<str>,
    retention_days: u32,
    /// Days whose `LASTDAYS` item this process already wrote.
    listed_days: Arc<Mutex<HashSet<NaiveDate>>>,
}

impl DynamoStore {
    /// A store on an existing table (see [`create_table`]), with the default
    /// retention of [`DEFAULT_RETENTION_DAYS`].
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: Arc::from(table.into()),
            retention_days: DEFAULT_RETENTION_DAYS,
            listed_days: Arc::default(),
        }
    }

    /// Events expire this many days (at least 1) after their last occurrence.
    pub fn with_retention_days(mut self, days: u32) -> Self {
        self.retention_days = days.max(1);
        self
    }

    /// DescribeTable: a cheap call that opens the connection pool during a
    /// Lambda's init (the warm-up), answering the table's status.
    pub async fn describe(&self) -> Result<String, PortError> {
        let out = self
            .client
            .describe_table()
            .table_name(self.table.as_ref())
            .send()
            .await
            .map_err(|e| port_error(&format!("DescribeTable {}", self.table), e))?;
        Ok(out
            .table()
            .and_then(|t| t.table_status())
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default())
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn retention_days(&self) -> u32 {
        self.retention_days
    }

    fn retention(&self) -> Duration {
        Duration::days(i64::from(self.retention_days))
    }

    /// Epoch seconds of `t` + retention.
    fn expiry(&self, t: DateTime<Utc>) -> i64 {
        t.checked_add_signed(self.retention())
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
            .timestamp()
    }

    /// Expiry of the items of a whole day: the end of the day + retention.
    fn day_expiry(&self, day: NaiveDate) -> i64 {
        let end = day
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc());
        self.expiry(end)
    }

    // ----- events -----

    fn event_item(&self, event: &Event, rev: u64) -> Result<Item, PortError> {
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
    async fn load_event(&self, id: &EventId) -> Result<Option<(Event, u64)>, PortError> {
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

    async fn occurrence_seen(&self, id: &OccurrenceId) -> Result<bool, PortError> {
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
    async fn list_day(&self, day: NaiveDate) -> Result<(), PortError> {
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

    /// One attempt at the record transaction.
    async fn record_once(
        &self,
        o: &Occurrence,
        event: &Event,
        read_rev: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Attempt, PortError> {
        let what = format!("dynamodb: recording occurrence {}", o.id);
        let build = |e: aws_smithy_types::error::operation::BuildError| {
            PortError::Permanent(format!("{what}: {e}"))
        };
        let marker = Put::builder()
            .table_name(&*self.table)
            .item(PK, s(format!("OCC#{}", o.id)))
            .item(SK, s(OCC_SK))
            .item("event_id", s(o.event_id.as_str()))
            .item("recorded_at", s(time_key(now)))
            .item(TTL_ATTRIBUTE, n(self.expiry(now.max(o.time))))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .build()
            .map_err(build)?;
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
        }
        .build()
        .map_err(build)?;
        let day = o.time.date_naive();
        let counter = Update::builder()
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
            .map_err(build)?;
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
        match codes.as_slice() {
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

    /// One page of `gsi1` in one day, newest first, into `out` until it holds `want`.
    #[allow(clippy::too_many_arguments)]
    async fn list_in_day(
        &self,
        day: NaiveDate,
        filter: &EventFilter,
        after: Option<&EventPageKey>,
        server_filter: &ServerFilter,
        want: usize,
        out: &mut Vec<Event>,
    ) -> Result<(), PortError> {
        let what = format!("dynamodb: listing the events last seen on {day}");
        let mut names = server_filter.names.clone();
        let mut values = server_filter.values.clone();
        names.insert("#pk".into(), GSI1PK.into());
        names.insert("#body".into(), "body".into());
        values.insert(":pk".into(), s(last_day_pk(day)));
        // Bounds of gsi1sk within this day; exact checks are client-side.
        let low = filter.from.filter(|f| day_of(*f) == day).map(time_key);
        let mut high = filter
            .to
            .filter(|t| day_of(*t) == day)
            // '~' sorts after every hex digit: every id at `to` is included.
            .map(|t| format!("{}#~", time_key(t)));
        if let Some(k) = after.filter(|k| day_of(k.last_seen) == day) {
            // Inclusive: the item of the key itself is dropped below.
            let key = last_seen_sk(k.last_seen, &k.id);
            if high.as_ref().is_none_or(|h| key < *h) {
                high = Some(key);
            }
        }
        let mut condition = String::from("#pk = :pk");
        match (low, high) {
            (Some(low), Some(high)) => {
                if low > high {
                    return Ok(());
                }
                condition.push_str(" AND #sk BETWEEN :low AND :high");
                values.insert(":low".into(), s(low));
                values.insert(":high".into(), s(high));
            }
            (Some(low), None) => {
                condition.push_str(" AND #sk >= :low");
                values.insert(":low".into(), s(low));
            }
            (None, Some(high)) => {
                condition.push_str(" AND #sk <= :high");
                values.insert(":high".into(), s(high));
            }
            (None, None) => {}
        }
        // DynamoDB refuses names that no expression uses.
        if condition.contains("#sk") {
            names.insert("#sk".into(), GSI1SK.into());
        }
        let mut start: Option<Item> = None;
        while out.len() < want {
            let needed = want - out.len();
            let page = if server_filter.expression.is_some() {
                needed.max(FILTERED_PAGE)
            } else {
                needed
            };
            let resp = self
                .client
                .query()
                .table_name(&*self.table)
                .index_name(GSI_LAST_SEEN)
                .key_condition_expression(&condition)
                .set_filter_expression(server_filter.expression.clone())
                .projection_expression("#body")
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(false)
                .limit(clamp_limit(page))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| port_error(&what, e))?;
            for item in resp.items() {
                let event: Event = parse_body(item, &what)?;
                if filter.matches(&event)
                    && after.is_none_or(|k| k.is_before(&event))
                    && out.len() < want
                {
                    out.push(event);
                }
            }
            match resp.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        Ok(())
    }

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

/// What one attempt of the record transaction found.
enum Attempt {
    Done,
    Duplicate,
    /// A concurrent writer changed the event: read again.
    Raced,
}

/// The filter conditions DynamoDB can evaluate, with their bound values.
#[derive(Default)]
struct ServerFilter {
    expression: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl ServerFilter {
    fn of(filter: &EventFilter) -> Self {
        let mut f = ServerFilter::default();
        let mut parts: Vec<String> = Vec::new();
        let mut equal = |f: &mut ServerFilter, attr: &str, value: Option<&str>| {
            if let Some(v) = value {
                f.names.insert(format!("#{attr}"), attr.into());
                f.values.insert(format!(":{attr}"), s(v));
                parts.push(format!("#{attr} = :{attr}"));
            }
        };
        equal(
            &mut f,
            "account",
            filter.account.as_ref().map(|a| a.as_str()),
        );
        equal(&mut f, "region", filter.region.as_ref().map(|r| r.as_str()));
        equal(&mut f, "source", filter.source.as_deref());
        let mut one_of = |f: &mut ServerFilter, attr: &str, values: Vec<&str>| {
            if values.is_empty() {
                return;
            }
            f.names.insert(format!("#{attr}"), attr.into());
            let placeholders: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let p = format!(":{attr}{i}");
                    f.values.insert(p.clone(), s(*v));
                    p
                })
                .collect();
            parts.push(format!("#{attr} IN ({})", placeholders.join(", ")));
        };
        one_of(
            &mut f,
            "severity",
            filter.severities.iter().map(|v| v.as_str()).collect(),
        );
        one_of(
            &mut f,
            "status",
            filter.statuses.iter().map(|v| v.as_str()).collect(),
        );
        if !parts.is_empty() {
            f.expression = Some(parts.join(" AND "));
        }
        f
    }
}

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

    /// A `limit` of 0 is treated as 1, so a page always moves forward.
    async fn list(
        &self,
        filter: &EventFilter,
        after: Option<EventPageKey>,
        limit: usize,
    ) -> Result<Page<Event, EventPageKey>, PortError> {
        // One more than asked tells whether there is a next page.
        let want = Page::<Event, EventPageKey>::fetch_size(limit);
        let low_day = filter.from.map(day_of);
        let high_day = match (
            filter.to.map(day_of),
            after.as_ref().map(|k| day_of(k.last_seen)),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut items: Vec<Event> = Vec::new();
        if low_day.zip(high_day).is_some_and(|(l, h)| l > h) {
            return Ok(Page { items, next: None });
        }
        let server_filter = ServerFilter::of(filter);

        let what = "dynamodb: listing the days with events";
        let mut condition = String::from("#pk = :pk");
        let mut values = HashMap::from([(":pk".to_string(), s(DAYS_PK))]);
        match (low_day, high_day) {
            (Some(l), Some(h)) => {
                condition.push_str(" AND #sk BETWEEN :low AND :high");
                values.insert(":low".into(), s(day_key(l)));
                values.insert(":high".into(), s(day_key(h)));
            }
            (Some(l), None) => {
                condition.push_str(" AND #sk >= :low");
                values.insert(":low".into(), s(day_key(l)));
            }
            (None, Some(h)) => {
                condition.push_str(" AND #sk <= :high");
                values.insert(":high".into(), s(day_key(h)));
            }
            (None, None) => {}
        }
        let mut names = HashMap::from([("#pk".to_string(), PK.to_string())]);
        if condition.contains("#sk") {
            names.insert("#sk".into(), SK.into());
        }
        let mut start: Option<Item> = None;
        'days: loop {
            let resp = self
                .client
                .query()
                .table_name(&*self.table)
                .key_condition_expression(&condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .consistent_read(true)
                .scan_index_forward(false)
                .limit(DAYS_PAGE)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| port_error(what, e))?;
            for item in resp.items() {
                let day = string(item, SK, what)?;
                let day = parse_day_key(&day).map_err(|e| {
                    PortError::Permanent(format!("{what}: stored day {day:?}: {e}"))
                })?;
                self.list_in_day(
                    day,
                    filter,
                    after.as_ref(),
                    &server_filter,
                    want,
                    &mut items,
                )
                .await?;
                if items.len() >= want {
                    break 'days;
                }
            }
            match resp.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        Ok(Page::from_overfetch(items, limit, EventPageKey::of))
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
                    .map(|event| DayActivity { event, day_count })
            })
            .collect())
    }

    /// One Query of the event's partition; see [`super::activity`].
    async fn event_activity(
        &self,
        id: &EventId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<domain::ports::DayCount>, PortError> {
        super::activity::event_activity(&self.client, &self.table, id, from, to).await
    }
}

#[async_trait]
impl AgentStore for DynamoStore {
    async fn get(&self, id: &AgentId) -> Result<Option<Agent>, PortError> {
        let what = format!("dynamodb: reading agent {id}");
        let out = self
            .client
            .get_item()
            .table_name(&*self.table)
            .key(PK, s(AGENTS_PK))
            .key(SK, s(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(&what, e))?;
        out.item().map(|item| parse_body(item, &what)).transpose()
    }

    /// Ordered by the id's text; a `limit` of 0 is treated as 1.
    async fn list(
        &self,
        after: Option<AgentId>,
        limit: usize,
    ) -> Result<Page<Agent, AgentId>, PortError> {
        let what = "dynamodb: listing agents";
        let want = Page::<Agent, AgentId>::fetch_size(limit);
        let mut condition = String::from("#pk = :pk");
        let mut values = HashMap::from([(":pk".to_string(), s(AGENTS_PK))]);
        let mut names = HashMap::from([("#pk".to_string(), PK.to_string())]);
        if let Some(after) = &after {
            condition.push_str(" AND #sk > :after");
            values.insert(":after".into(), s(after.to_string()));
            names.insert("#sk".into(), SK.into());
        }
        let mut items: Vec<Agent> = Vec::new();
        let mut start: Option<Item> = None;
        while items.len() < want {
            let resp = self
                .client
                .query()
                .table_name(&*self.table)
                .key_condition_expression(&condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .consistent_read(true)
                .limit(clamp_limit(want - items.len()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| port_error(what, e))?;
            for item in resp.items() {
                items.push(parse_body(item, what)?);
            }
            match resp.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        Ok(Page::from_overfetch(items, limit, |a| a.id.clone()))
    }

    async fn put(&self, agent: &Agent) -> Result<(), PortError> {
        let id = agent.id.to_string();
        let what = format!("dynamodb: writing agent {id}");
        let stored = Agent {
            revision: agent.revision + 1,
            ..agent.clone()
        };
        let request = self
            .client
            .put_item()
            .table_name(&*self.table)
            .item(PK, s(AGENTS_PK))
            .item(SK, s(id.as_str()))
            .item("body", s(to_json(&stored, &format!("agent {id}"))?))
            .item("rev", n(stored.revision));
        let request = if agent.revision == 0 {
            request
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
        } else {
            request
                .condition_expression("#rev = :rev")
                .expression_attribute_names("#rev", "rev")
                .expression_attribute_values(":rev", n(agent.revision))
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Err(PortError::Conflict(format!(
                    "agent {id} changed since revision {}",
                    agent.revision
                )))
            }
            Err(e) => Err(port_error(&what, e)),
        }
    }
}

/// Creates the table as Terraform does: on-demand billing, `PK`/`SK`, the
/// indexes [`GSI_LAST_SEEN`] and [`GSI_ACTIVITY`], and TTL on
/// [`TTL_ATTRIBUTE`]. Waits until the table and its indexes are active. A
/// table that already exists is an error.
pub async fn create_table(client: &Client, table: &str) -> Result<(), PortError> {
    let what = format!("dynamodb: creating table {table}");
    let build = |e: aws_smithy_types::error::operation::BuildError| {
        PortError::Permanent(format!("{what}: {e}"))
    };
    let key = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .map_err(build)
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(build)
    };
    let index = |name: &str, pk: &str, sk: &str, projection: Projection| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(pk, KeyType::Hash)?)
            .key_schema(key(sk, KeyType::Range)?)
            .projection(projection)
            .build()
            .map_err(build)
    };
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .set_attribute_definitions(Some(
            [PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK]
                .into_iter()
                .map(attribute)
                .collect::<Result<Vec<_>, _>>()?,
        ))
        .global_secondary_indexes(index(
            GSI_LAST_SEEN,
            GSI1PK,
            GSI1SK,
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )?)
        .global_secondary_indexes(index(
            GSI_ACTIVITY,
            GSI2PK,
            GSI2SK,
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .non_key_attributes("count")
                .build(),
        )?)
        .send()
        .await
        .map_err(|e| port_error(&what, e))?;

    // TTL can only be set on an active table.
    let mut waited = std::time::Duration::ZERO;
    let step = std::time::Duration::from_millis(500);
    loop {
        let out = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| port_error(&what, e))?;
        let active = out.table().is_some_and(|t| {
            t.table_status() == Some(&TableStatus::Active)
                && t.global_secondary_indexes()
                    .iter()
                    .all(|i| i.index_status().is_none_or(|s| *s == IndexStatus::Active))
        });
        if active {
            break;
        }
        if waited >= std::time::Duration::from_secs(300) {
            return Err(PortError::Transient(format!(
                "{what}: not active after {waited:?}"
            )));
        }
        tokio::time::sleep(step).await;
        waited += step;
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .map_err(build)?,
        )
        .send()
        .await
        .map_err(|e| port_error(&format!("dynamodb: enabling TTL on {table}"), e))?;
    Ok(())
}

// ----- encoding -----

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn event_pk(id: &EventId) -> String {
    format!("EVENT#{id}")
}

fn last_day_pk(day: NaiveDate) -> String {
    format!("LAST#{}", day_key(day))
}

fn activity_pk(day: NaiveDate) -> String {
    format!("ACTIVITY#{}", day_key(day))
}

/// `<fixed-width last_seen>#<id>`: text order is (last_seen, id) order.
fn last_seen_sk(last_seen: DateTime<Utc>, id: &EventId) -> String {
    format!("{}#{id}", time_key(last_seen))
}

fn to_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, PortError> {
    serde_json::to_string(value)
        .map_err(|e| PortError::Permanent(format!("dynamodb: encoding {what}: {e}")))
}

fn string(item: &Item, attr: &str, what: &str) -> Result<String, PortError> {
    match item.get(attr) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        other => Err(PortError::Permanent(format!(
            "{what}: attribute {attr} is not a string: {other:?}"
        ))),
    }
}

fn number(item: &Item, attr: &str, what: &str) -> Result<u64, PortError> {
    match item.get(attr) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|e| PortError::Permanent(format!("{what}: attribute {attr} = {v:?}: {e}"))),
        other => Err(PortError::Permanent(format!(
            "{what}: attribute {attr} is not a number: {other:?}"
        ))),
    }
}

fn parse_body<T: serde::de::DeserializeOwned>(item: &Item, what: &str) -> Result<T, PortError> {
    let body = string(item, "body", what)?;
    serde_json::from_str(&body)
        .map_err(|e| PortError::Permanent(format!("{what}: stored body does not parse: {e}")))
}

/// A query `Limit` (DynamoDB takes 1..=i32::MAX; pages are cut at 1 MB anyway).
fn clamp_limit(n: usize) -> i32 {
    i32::try_from(n.clamp(1, 1000)).unwrap_or(1000)
}

/// Waits before attempt `attempt` (2, 3, ...): exponential from 10 ms up to
/// about 1 s, with jitter so that racing writers spread out.
async fn backoff(attempt: u32) {
    let delay = crate::backoff::backoff(
        std::time::Duration::from_millis(10),
        std::time::Duration::from_millis(1280),
        attempt.saturating_sub(2),
    );
    tokio::time::sleep(delay).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn sort_keys_order_as_last_seen_then_id() {
        let a: EventId = "0".repeat(32).parse().unwrap();
        let f: EventId = "f".repeat(32).parse().unwrap();
        let t = at("2026-03-01T10:00:00Z");
        let later = t + Duration::nanoseconds(1);
        let mut keys = [
            last_seen_sk(later, &a),
            last_seen_sk(t, &f),
            last_seen_sk(t, &a),
            last_seen_sk(at("2026-03-01T09:59:59.999999999Z"), &f),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                last_seen_sk(at("2026-03-01T09:59:59.999999999Z"), &f),
                last_seen_sk(t, &a),
                last_seen_sk(t, &f),
                last_seen_sk(later, &a),
            ]
        );
        // The inclusive upper bound for `to` covers every id at `to`, nothing after.
        let high = format!("{}#~", time_key(t));
        assert!(last_seen_sk(t, &f) < high && high < last_seen_sk(later, &a));
    }

    #[test]
    fn server_filter_binds_every_value() {
        let filter = EventFilter {
            account: Some("111122223333".parse().unwrap()),
            source: Some("x') OR (1=1".into()),
            severities: vec![domain::model::Severity::High],
            statuses: vec![domain::model::Status::Open, domain::model::Status::Ignored],
            ..EventFilter::default()
        };
        let f = ServerFilter::of(&filter);
        let expr = f.expression.unwrap();
        assert_eq!(
            expr,
            "#account = :account AND #source = :source AND #severity IN (:severity0) \
             AND #status IN (:status0, :status1)"
        );
        assert!(!expr.contains("1=1"));
        assert_eq!(f.values.len(), 5);
        assert!(ServerFilter::of(&EventFilter::default())
            .expression
            .is_none());
    }

    #[test]
    fn day_expiry_is_after_every_event_of_the_day() {
        let client = Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                .build(),
        );
        let store = DynamoStore::new(client, "t").with_retention_days(7);
        let day = at("2026-03-01T00:00:00Z").date_naive();
        let last = at("2026-03-01T23:59:59.999999999Z");
        assert!(store.day_expiry(day) >= store.expiry(last));
        assert_eq!(
            store.expiry(at("2026-03-01T00:00:00Z")),
            at("2026-03-08T00:00:00Z").timestamp()
        );
    }
}
