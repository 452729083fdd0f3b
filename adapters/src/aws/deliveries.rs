//! `DeliveryLog` on its own DynamoDB table (`PK`, `SK`, both strings): the
//! notify Lambda's per-channel delivery records and storm windows.
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | delivery | `D#<channel>#<change id>` | `D` | `state` (`admitted`, `held`, `finished`), `expires_at` |
//! | storm window of a channel | `W#<channel>` | `W` | `start`, `end` (epoch seconds), `admitted`, `held`, `v` (version for conditional writes), `expires_at` |
//! | pending summary | `HELD` | `<end, 12 digits>#<start, 12 digits>#<channel>` | `channel`, `start`, `end`, `count`, `titles` (at most [`MAX_SUMMARY_TITLES`]) |
//!
//! * **admit** reads the delivery (consistently; an existing one answers its
//!   state) and the channel's window, then writes in one
//!   `TransactWriteItems`: the delivery (condition: absent), the window
//!   (condition: the version read) and, when held, the pending summary. A
//!   lost race on the window is retried; a lost race on the delivery answers
//!   the winner's state. So it is atomic and idempotent.
//! * **held_back** is one `Query PK = HELD AND SK < <now + 1>`: the windows
//!   ended by `now`, without a Scan.
//! * **summarised** deletes the pending summary (idempotent).
//! * Items expire (`expires_at`, TTL) [`DeliveryTable::RETENTION_DAYS`] days
//!   after they were written, well after the stream's 24 h of retries.

use super::dynamodb::codec::{n, number, s};
use super::errors::port_error;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use domain::alerts::{StormPolicy, StormWindow, MAX_SUMMARY_TITLES};
use domain::ports::{Admission, DeliveryLog, HeldBack, PortError};
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

const PK: &str = "PK";
const SK: &str = "SK";
const HELD_PK: &str = "HELD";
/// Retries of a transaction that lost a race on the channel's window.
const ADMIT_ATTEMPTS: u32 = 10;

/// The deliveries table.
#[derive(Debug, Clone)]
pub struct DeliveryTable {
    client: Client,
    table: String,
}

impl DeliveryTable {
    /// Days an item is kept (the TTL attribute is `expires_at`).
    pub const RETENTION_DAYS: i64 = 14;

    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// A cheap call that opens the connection pool (start-up warm-up).
    pub async fn describe(&self) -> Result<String, PortError> {
        let out = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| port_error(&format!("dynamodb: describing {}", self.table), e))?;
        Ok(out
            .table()
            .and_then(|t| t.table_status())
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default())
    }

    fn expiry(now: DateTime<Utc>) -> AttributeValue {
        n(now.timestamp() + Self::RETENTION_DAYS * 86_400)
    }

    async fn get(&self, pk: String, sk: &str, what: &str) -> Result<Option<Item>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(what, e))?;
        Ok(out.item().cloned())
    }

    async fn delivery_state(
        &self,
        change_id: &str,
        channel: &str,
        what: &str,
    ) -> Result<Option<Admission>, PortError> {
        let item = self.get(delivery_pk(channel, change_id), "D", what).await?;
        Ok(item.map(|item| match item.get("state") {
            Some(AttributeValue::S(v)) if v == "admitted" => Admission::Send,
            Some(AttributeValue::S(v)) if v == "held" => Admission::Held,
            _ => Admission::Done,
        }))
    }

    /// One attempt: `Ok(None)` when the window changed under us.
    async fn try_admit(
        &self,
        change_id: &str,
        channel: &str,
        now: DateTime<Utc>,
        policy: StormPolicy,
        title: &str,
        what: &str,
    ) -> Result<Option<Admission>, PortError> {
        if let Some(state) = self.delivery_state(change_id, channel, what).await? {
            return Ok(Some(state));
        }
        let item = self.get(window_pk(channel), "W", what).await?;
        let read = WindowRead::of(item.as_ref(), now, policy, what)?;
        let admission = if policy.admits(u32::try_from(read.admitted).unwrap_or(u32::MAX)) {
            Admission::Send
        } else {
            Admission::Held
        };
        let mut items = vec![
            self.delivery_put(change_id, channel, admission, now, what)?,
            self.window_put(channel, &read, admission, now, what)?,
        ];
        if admission == Admission::Held {
            items.push(self.summary_update(channel, &read, title, what)?);
        }
        Ok(self.transact(items, what).await?.then_some(admission))
    }

    /// The delivery, on condition that it is not there yet.
    fn delivery_put(
        &self,
        change_id: &str,
        channel: &str,
        admission: Admission,
        now: DateTime<Utc>,
        what: &str,
    ) -> Result<TransactWriteItem, PortError> {
        let state = if admission == Admission::Send {
            "admitted"
        } else {
            "held"
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(HashMap::from([
                (PK.into(), s(delivery_pk(channel, change_id))),
                (SK.into(), s("D")),
                ("state".into(), s(state)),
                ("expires_at".into(), Self::expiry(now)),
            ])))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| invalid(what, e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The channel's window counting this delivery, on condition that it is
    /// still at the version read (or still absent).
    fn window_put(
        &self,
        channel: &str,
        read: &WindowRead,
        admission: Admission,
        now: DateTime<Utc>,
        what: &str,
    ) -> Result<TransactWriteItem, PortError> {
        let (admitted, held) = match admission {
            Admission::Send => (read.admitted + 1, read.held),
            _ => (read.admitted, read.held + 1),
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(HashMap::from([
                (PK.into(), s(window_pk(channel))),
                (SK.into(), s("W")),
                ("start".into(), n(read.window.start.timestamp())),
                ("end".into(), n(read.window.end.timestamp())),
                ("admitted".into(), n(admitted)),
                ("held".into(), n(held)),
                ("v".into(), n(read.version.unwrap_or(0) + 1)),
                ("expires_at".into(), Self::expiry(now)),
            ])));
        let put = match read.version {
            Some(v) => put
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", "v")
                .expression_attribute_values(":v", n(v)),
            None => put.condition_expression("attribute_not_exists(PK)"),
        };
        let put = put.build().map_err(|e| invalid(what, e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The window's pending summary counting one more held delivery, with
    /// its title while the summary has fewer than [`MAX_SUMMARY_TITLES`].
    fn summary_update(
        &self,
        channel: &str,
        read: &WindowRead,
        title: &str,
        what: &str,
    ) -> Result<TransactWriteItem, PortError> {
        let window = read.window;
        let mut expression = "SET #ch = :c, #start = :s, #end = :e ADD #count :one".to_owned();
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(PK, s(HELD_PK))
            .key(SK, s(summary_sk(channel, window)))
            .expression_attribute_names("#start", "start")
            .expression_attribute_names("#end", "end")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ch", "channel")
            .expression_attribute_values(":c", s(channel))
            .expression_attribute_values(":s", n(window.start.timestamp()))
            .expression_attribute_values(":e", n(window.end.timestamp()))
            .expression_attribute_values(":one", n(1));
        if usize::try_from(read.held).unwrap_or(usize::MAX) < MAX_SUMMARY_TITLES {
            expression = "SET #ch = :c, #start = :s, #end = :e, \
                          #titles = list_append(if_not_exists(#titles, :empty), :t) \
                          ADD #count :one"
                .to_owned();
            update = update
                .expression_attribute_values(":empty", AttributeValue::L(vec![]))
                .expression_attribute_names("#titles", "titles")
                .expression_attribute_values(":t", AttributeValue::L(vec![s(title)]));
        }
        let update = update
            .update_expression(expression)
            .build()
            .map_err(|e| invalid(what, e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Writes `items` in one transaction: `Ok(false)` when a condition failed.
    async fn transact(&self, items: Vec<TransactWriteItem>, what: &str) -> Result<bool, PortError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let cancelled = e
                    .as_service_error()
                    .is_some_and(|se| se.is_transaction_canceled_exception());
                if cancelled {
                    // Either another call admitted this delivery (read it
                    // back on the next attempt) or the window moved on.
                    Ok(false)
                } else {
                    Err(port_error(what, e))
                }
            }
        }
    }
}

/// A channel's storm window as `admit` reads it: the window still open, or a
/// new one from `now` (counts at 0) when it ended or was never written.
struct WindowRead {
    window: StormWindow,
    admitted: i64,
    held: i64,
    /// The window item's version, for the conditional write; `None` when
    /// there is no item yet.
    version: Option<i64>,
}

impl WindowRead {
    fn of(
        item: Option<&Item>,
        now: DateTime<Utc>,
        policy: StormPolicy,
        what: &str,
    ) -> Result<Self, PortError> {
        let read = |item: &Item, attr: &str| number::<i64>(item, attr, what);
        let fresh = |version| Self {
            window: policy.window_from(now),
            admitted: 0,
            held: 0,
            version,
        };
        Ok(match item {
            Some(item) if read(item, "end")? > now.timestamp() => Self {
                window: StormWindow {
                    start: at(read(item, "start")?),
                    end: at(read(item, "end")?),
                },
                admitted: read(item, "admitted")?,
                held: read(item, "held")?,
                version: Some(read(item, "v")?),
            },
            Some(item) => fresh(Some(read(item, "v")?)),
            None => fresh(None),
        })
    }
}

/// A request the SDK's builder refused (a missing required field).
fn invalid(what: &str, e: aws_sdk_dynamodb::error::BuildError) -> PortError {
    PortError::Permanent(format!("{what}: {e}"))
}

#[async_trait]
impl DeliveryLog for DeliveryTable {
    async fn admit(
        &self,
        change_id: &str,
        channel: &str,
        now: DateTime<Utc>,
        policy: StormPolicy,
        title: &str,
    ) -> Result<Admission, PortError> {
        let what = format!("dynamodb: admitting alert {change_id} on {channel}");
        for _ in 0..ADMIT_ATTEMPTS {
            if let Some(admission) = self
                .try_admit(change_id, channel, now, policy, title, &what)
                .await?
            {
                return Ok(admission);
            }
        }
        Err(PortError::Transient(format!(
            "{what}: the storm window kept changing ({ADMIT_ATTEMPTS} attempts)"
        )))
    }

    async fn finished(&self, change_id: &str, channel: &str) -> Result<(), PortError> {
        let what = format!("dynamodb: marking alert {change_id} on {channel} delivered");
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(delivery_pk(channel, change_id)))
            .key(SK, s("D"))
            .update_expression("SET #state = :f")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":f", s("finished"))
            .send()
            .await
            .map_err(|e| port_error(&what, e))?;
        Ok(())
    }

    async fn held_back(&self, now: DateTime<Utc>) -> Result<Vec<HeldBack>, PortError> {
        let what = "dynamodb: reading the held-back alerts";
        let mut out = Vec::new();
        let mut start_key = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND SK < :bound")
                .expression_attribute_values(":pk", s(HELD_PK))
                .expression_attribute_values(":bound", s(format!("{:012}", now.timestamp() + 1)))
                .consistent_read(true)
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|e| port_error(what, e))?;
            for item in page.items() {
                let titles = match item.get("titles") {
                    Some(AttributeValue::L(l)) => l
                        .iter()
                        .filter_map(|v| v.as_s().ok().cloned())
                        .take(MAX_SUMMARY_TITLES)
                        .collect(),
                    _ => Vec::new(),
                };
                out.push(HeldBack {
                    channel: match item.get("channel") {
                        Some(AttributeValue::S(c)) => c.clone(),
                        other => {
                            return Err(PortError::Permanent(format!(
                                "{what}: channel is not a string: {other:?}"
                            )))
                        }
                    },
                    window: StormWindow {
                        start: at(number::<i64>(item, "start", what)?),
                        end: at(number::<i64>(item, "end", what)?),
                    },
                    count: u64::try_from(number::<i64>(item, "count", what)?).unwrap_or(0),
                    titles,
                });
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start_key = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn summarised(&self, channel: &str, window: StormWindow) -> Result<(), PortError> {
        let what = format!("dynamodb: recording the storm summary of {channel}");
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(HELD_PK))
            .key(SK, s(summary_sk(channel, window)))
            .send()
            .await
            .map_err(|e| port_error(&what, e))?;
        Ok(())
    }
}

/// Creates the deliveries table (tests; Terraform creates it on AWS).
pub async fn create_table(client: &Client, table: &str) -> Result<(), PortError> {
    super::dynamodb::schema::create_pk_sk_table(client, table).await
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

fn delivery_pk(channel: &str, change_id: &str) -> String {
    format!("D#{channel}#{change_id}")
}

fn window_pk(channel: &str) -> String {
    format!("W#{channel}")
}

/// Sorts by window end first, so that `SK < <now + 1>` finds ended windows.
fn summary_sk(channel: &str, window: StormWindow) -> String {
    format!(
        "{:012}#{:012}#{channel}",
        window.end.timestamp(),
        window.start.timestamp()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_keys_of_ended_windows_sort_below_the_bound() {
        let w = |start: i64, end: i64| StormWindow {
            start: at(start),
            end: at(end),
        };
        let bound = |now: i64| format!("{:012}", now + 1);
        assert!(summary_sk("a#b", w(900, 1000)) < bound(1000));
        assert!(summary_sk("a", w(900, 1000)) > bound(999));
        assert!(summary_sk("a", w(99, 100)) < summary_sk("a", w(900, 1000)));
    }
}
