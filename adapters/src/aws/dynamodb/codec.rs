//! How events, agents and keys are written as DynamoDB attributes.

use super::Item;
use crate::keys::{day_key, time_key};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};
use domain::model::EventId;
use domain::ports::PortError;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn event_pk(id: &EventId) -> String {
    format!("EVENT#{id}")
}

pub(super) fn last_day_pk(day: NaiveDate) -> String {
    format!("LAST#{}", day_key(day))
}

pub(super) fn activity_pk(day: NaiveDate) -> String {
    format!("ACTIVITY#{}", day_key(day))
}

/// `<fixed-width last_seen>#<id>`: text order is (last_seen, id) order.
pub(super) fn last_seen_sk(last_seen: DateTime<Utc>, id: &EventId) -> String {
    format!("{}#{id}", time_key(last_seen))
}

pub(super) fn to_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, PortError> {
    serde_json::to_string(value)
        .map_err(|e| PortError::Permanent(format!("dynamodb: encoding {what}: {e}")))
}

pub(super) fn string(item: &Item, attr: &str, what: &str) -> Result<String, PortError> {
    match item.get(attr) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        other => Err(PortError::Permanent(format!(
            "{what}: attribute {attr} is not a string: {other:?}"
        ))),
    }
}

pub(crate) fn number<T>(item: &Item, attr: &str, what: &str) -> Result<T, PortError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match item.get(attr) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|e| PortError::Permanent(format!("{what}: attribute {attr} = {v:?}: {e}"))),
        other => Err(PortError::Permanent(format!(
            "{what}: attribute {attr} is not a number: {other:?}"
        ))),
    }
}

pub(super) fn parse_body<T: serde::de::DeserializeOwned>(
    item: &Item,
    what: &str,
) -> Result<T, PortError> {
    let body = string(item, "body", what)?;
    serde_json::from_str(&body)
        .map_err(|e| PortError::Permanent(format!("{what}: stored body does not parse: {e}")))
}

/// A query `Limit` (DynamoDB takes 1..=i32::MAX; pages are cut at 1 MB anyway).
pub(super) fn clamp_limit(n: usize) -> i32 {
    i32::try_from(n.clamp(1, 1000)).unwrap_or(1000)
}
