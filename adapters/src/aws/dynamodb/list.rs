//! Listing events: the `LASTDAYS` days newest first, then each day's
//! partition of `gsi1`, with the filters DynamoDB can evaluate.

use super::codec::{clamp_limit, last_day_pk, last_seen_sk, parse_body, s, string};
use super::{
    DynamoStore, Item, DAYS_PAGE, DAYS_PK, FILTERED_PAGE, GSI1PK, GSI1SK, GSI_LAST_SEEN, PK, SK,
};
use crate::aws::errors::port_error;
use crate::keys::{day_key, parse_day_key, time_key};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use domain::model::{day_of, Event, EventFilter, EventPageKey, Page};
use domain::ports::PortError;
use std::collections::HashMap;

/// A key condition with its bound names and values.
struct KeyQuery {
    condition: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

/// `#pk = :pk`, narrowed to `#sk` between the bounds given (inclusive);
/// binds `:low` and `:high` in `values`.
fn sort_key_condition(
    low: Option<String>,
    high: Option<String>,
    values: &mut HashMap<String, AttributeValue>,
) -> String {
    let mut condition = String::from("#pk = :pk");
    match (low, high) {
        (Some(low), Some(high)) => {
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
    condition
}

/// The `LASTDAYS` items between these days (inclusive).
fn days_query(low_day: Option<NaiveDate>, high_day: Option<NaiveDate>) -> KeyQuery {
    let mut values = HashMap::from([(":pk".to_string(), s(DAYS_PK))]);
    let condition = sort_key_condition(low_day.map(day_key), high_day.map(day_key), &mut values);
    let mut names = HashMap::from([("#pk".to_string(), PK.to_string())]);
    if condition.contains("#sk") {
        names.insert("#sk".into(), SK.into());
    }
    KeyQuery {
        condition,
        names,
        values,
    }
}

/// The `gsi1` items of one day within the filter's times and before the page
/// key; `None` when the bounds leave nothing to read.
fn day_query(
    day: NaiveDate,
    filter: &EventFilter,
    after: Option<&EventPageKey>,
    server_filter: &ServerFilter,
) -> Option<KeyQuery> {
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
    if low.as_ref().zip(high.as_ref()).is_some_and(|(l, h)| l > h) {
        return None;
    }
    let condition = sort_key_condition(low, high, &mut values);
    // DynamoDB refuses names that no expression uses.
    if condition.contains("#sk") {
        names.insert("#sk".into(), GSI1SK.into());
    }
    Some(KeyQuery {
        condition,
        names,
        values,
    })
}

impl DynamoStore {
    /// `EventStore::list`: newest activity first, strictly after `after`.
    pub(super) async fn list_events(
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
        let days = days_query(low_day, high_day);
        let mut start: Option<Item> = None;
        'days: loop {
            let resp = self
                .client
                .query()
                .table_name(&*self.table)
                .key_condition_expression(&days.condition)
                .set_expression_attribute_names(Some(days.names.clone()))
                .set_expression_attribute_values(Some(days.values.clone()))
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
        let Some(query) = day_query(day, filter, after, server_filter) else {
            return Ok(());
        };
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
                .key_condition_expression(&query.condition)
                .set_filter_expression(server_filter.expression.clone())
                .projection_expression("#body")
                .set_expression_attribute_names(Some(query.names.clone()))
                .set_expression_attribute_values(Some(query.values.clone()))
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
}

/// The filter conditions DynamoDB can evaluate, with their bound values.
#[derive(Default)]
pub(super) struct ServerFilter {
    pub(super) expression: Option<String>,
    names: HashMap<String, String>,
    pub(super) values: HashMap<String, AttributeValue>,
}

impl ServerFilter {
    pub(super) fn of(filter: &EventFilter) -> Self {
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
