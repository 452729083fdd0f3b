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

mod agents;
pub(crate) mod codec;
mod events;
mod list;
mod record;
pub(crate) mod schema;
mod stream;
#[cfg(test)]
mod tests;

pub use schema::create_table;
pub use stream::event_from_stream_image;

use super::errors::port_error;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::ports::PortError;
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
