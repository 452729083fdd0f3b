//! Listing: the event filter, keyset pages and per-day activity.

use super::*;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Filter of `GET /events`; empty vectors mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct EventFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub account: Option<AccountId>,
    pub region: Option<Region>,
    pub source: Option<String>,
    pub severities: Vec<Severity>,
    pub statuses: Vec<Status>,
}

impl EventFilter {
    pub fn matches(&self, e: &Event) -> bool {
        self.from.is_none_or(|f| e.last_seen >= f)
            && self.to.is_none_or(|t| e.last_seen <= t)
            && self.account.as_ref().is_none_or(|a| &e.account == a)
            && self.region.as_ref().is_none_or(|r| &e.region == r)
            && self.source.as_ref().is_none_or(|s| &e.source == s)
            && (self.severities.is_empty() || self.severities.contains(&e.severity))
            && (self.statuses.is_empty() || self.statuses.contains(&e.status))
    }
}

/// Position after the last item of a page of events (newest activity first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPageKey {
    pub last_seen: DateTime<Utc>,
    pub id: EventId,
}

impl EventPageKey {
    pub fn of(e: &Event) -> Self {
        Self {
            last_seen: e.last_seen,
            id: e.id.clone(),
        }
    }

    /// Whether `e` sorts after this key in (last_seen desc, id desc) order.
    pub fn is_before(&self, e: &Event) -> bool {
        (e.last_seen, &e.id) < (self.last_seen, &self.id)
    }
}

/// One page of results with the key to continue from.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, K> {
    pub items: Vec<T>,
    pub next: Option<K>,
}

/// Keyset paging by over-fetch: a store asks its backend for
/// [`Page::fetch_size`] items, one more than the page holds, and
/// [`Page::from_overfetch`] turns what came back into the page: the extra item
/// only says that there is a next page, which continues after the key of the
/// page's last item. A `limit` of 0 is treated as 1, so a page always moves
/// forward.
impl<T, K> Page<T, K> {
    /// The page size actually served for a requested `limit`.
    pub fn page_size(limit: usize) -> usize {
        limit.max(1)
    }

    /// How many items to fetch for a page of `limit`: one more than it holds.
    pub fn fetch_size(limit: usize) -> usize {
        Self::page_size(limit).saturating_add(1)
    }

    /// The page of `limit` out of `items`, fetched in page order and holding
    /// at least one more than `limit` if there is a next page; `key` names
    /// the position after an item.
    pub fn from_overfetch(mut items: Vec<T>, limit: usize, key: impl FnOnce(&T) -> K) -> Self {
        let limit = Self::page_size(limit);
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more { items.last().map(key) } else { None };
        Page { items, next }
    }
}

/// One UTC day's activity of one event: that day's counter and the fields
/// of the event the daily report shows, sorts or counts on. Not the whole
/// event: its sample and detail are most of its size, a busy day has
/// 100,000 of these, and only the few events a report lists are read whole.
#[derive(Debug, Clone, PartialEq)]
pub struct DayActivity {
    pub id: EventId,
    pub title: String,
    pub account: AccountId,
    pub region: Region,
    pub severity: Severity,
    pub status: Status,
    pub first_seen: DateTime<Utc>,
    pub reopened_at: Option<DateTime<Utc>>,
    pub day_count: u64,
}

impl DayActivity {
    /// `event`'s part in a day on which it occurred `day_count` times.
    pub fn of(event: &Event, day_count: u64) -> Self {
        Self {
            id: event.id.clone(),
            title: event.title.clone(),
            account: event.account.clone(),
            region: event.region.clone(),
            severity: event.severity,
            status: event.status,
            first_seen: event.first_seen,
            reopened_at: event.reopened_at,
            day_count,
        }
    }
}

pub fn day_of(t: DateTime<Utc>) -> NaiveDate {
    t.date_naive()
}
