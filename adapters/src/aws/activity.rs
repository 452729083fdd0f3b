//! One event's per-day counters on the DynamoDB table (the console's
//! activity chart): a single `Query` of the event's own partition,
//! `PK = EVENT#<id> AND SK BETWEEN DAY#<from> AND DAY#<to>`, reading only the
//! day-counter items that `record` keeps (see [`super::dynamodb`]). No Scan,
//! no index: the counters live beside the event.

use super::errors::port_error;
use crate::keys::{day_key, parse_day_key};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use chrono::NaiveDate;
use domain::model::EventId;
use domain::ports::{DayCount, PortError};

/// The counters of `id` for the days `from..=to`, oldest first; days without
/// a counter are left out.
pub async fn event_activity(
    client: &Client,
    table: &str,
    id: &EventId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DayCount>, PortError> {
    let what = format!("dynamodb: reading the activity of event {id}");
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let resp = client
            .query()
            .table_name(table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .expression_attribute_names("#pk", "PK")
            .expression_attribute_names("#sk", "SK")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":pk", AttributeValue::S(format!("EVENT#{id}")))
            .expression_attribute_values(":from", AttributeValue::S(day_sk(from)))
            .expression_attribute_values(":to", AttributeValue::S(day_sk(to)))
            .projection_expression("#sk, #count")
            .scan_index_forward(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| port_error(&what, e))?;
        for item in resp.items() {
            out.push(day_count(item, &what)?);
        }
        match resp.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return Ok(out),
        }
    }
}

fn day_sk(day: NaiveDate) -> String {
    format!("DAY#{}", day_key(day))
}

fn day_count(
    item: &std::collections::HashMap<String, AttributeValue>,
    what: &str,
) -> Result<DayCount, PortError> {
    let bad = |m: String| PortError::Permanent(format!("{what}: {m}"));
    let date = match item.get("SK") {
        Some(AttributeValue::S(sk)) => sk
            .strip_prefix("DAY#")
            .and_then(|d| parse_day_key(d).ok())
            .ok_or_else(|| bad(format!("sort key {sk:?} is not a day counter")))?,
        other => return Err(bad(format!("sort key is not a string: {other:?}"))),
    };
    let count = match item.get("count") {
        Some(AttributeValue::N(v)) => v.parse().map_err(|e| bad(format!("count {v:?}: {e}")))?,
        other => return Err(bad(format!("count is not a number: {other:?}"))),
    };
    Ok(DayCount { date, count })
}
