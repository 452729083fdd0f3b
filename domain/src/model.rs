//! Domain values: validated newtypes, events, occurrences and agents.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A value that failed validation; the message names the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidValue {
    pub field: &'static str,
    pub reason: String,
}

impl InvalidValue {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

macro_rules! string_newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_newtype!(
    /// A 12-digit AWS account id.
    AccountId
);
string_newtype!(
    /// An AWS region name such as `eu-west-1`, or `local` in local mode.
    Region
);
string_newtype!(
    /// The 16-hex-digit hash of a message with its variable parts masked.
    Fingerprint
);
string_newtype!(
    /// The stable id of one event (one distinct problem): 32 hex digits.
    EventId
);
string_newtype!(
    /// The deterministic id of one occurrence, used to make delivery idempotent.
    OccurrenceId
);

impl FromStr for AccountId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidValue::new("account", "must be 12 digits"))
        }
    }
}

impl FromStr for Region {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (2..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidValue::new(
                "region",
                "must be 2-32 lowercase letters, digits or dashes",
            ))
        }
    }
}

fn is_hex_of_len(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl FromStr for Fingerprint {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_hex_of_len(s, 16) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidValue::new("fingerprint", "must be 16 hex digits"))
        }
    }
}

impl Fingerprint {
    pub fn from_hash(h: u64) -> Self {
        Self(format!("{h:016x}"))
    }
}

impl FromStr for EventId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_hex_of_len(s, 32) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidValue::new("event id", "must be 32 hex digits"))
        }
    }
}

impl FromStr for OccurrenceId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_hex_of_len(s, 32) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidValue::new("occurrence id", "must be 32 hex digits"))
        }
    }
}

/// 128-bit hash of the parts, joined by a separator that cannot occur in them.
fn hash128(parts: &[&str]) -> String {
    let mut buf = String::new();
    for p in parts {
        buf.push_str(p);
        buf.push('\u{1f}');
    }
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(buf.as_bytes()))
}

impl EventId {
    /// The id of the one event that stands for a problem, from its identity key.
    pub fn derive(account: &AccountId, region: &Region, source: &str, key: &str) -> Self {
        Self(hash128(&[account.as_str(), region.as_str(), source, key]))
    }
}

impl OccurrenceId {
    pub fn derive(parts: &[&str]) -> Self {
        Self(hash128(parts))
    }
}

/// The agent id is `<account>-<region>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId {
    pub account: AccountId,
    pub region: Region,
}

impl AgentId {
    pub fn new(account: AccountId, region: Region) -> Self {
        Self { account, region }
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.account, self.region)
    }
}

impl FromStr for AgentId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (acc, reg) = s
            .split_once('-')
            .ok_or_else(|| InvalidValue::new("agent id", "must be <account>-<region>"))?;
        Ok(Self {
            account: acc.parse()?,
            region: reg.parse()?,
        })
    }
}

impl Serialize for AgentId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AgentId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($var:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($var),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok($name::$var),)+
                    other => Err(InvalidValue::new(
                        $field,
                        format!("unknown value {other:?}; expected one of: {}", [$($s),+].join(", ")),
                    )),
                }
            }
        }
    };
}

str_enum!(
    /// Ordered: `info < low < medium < high < critical`.
    Severity, "severity" {
        Info => "info",
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

str_enum!(
    /// Triage status of an event.
    Status, "status" {
        Open => "open",
        Acknowledged => "acknowledged",
        Resolved => "resolved",
        Ignored => "ignored",
    }
);

str_enum!(
    /// Health of an agent as the master sees it.
    AgentStatus, "agent status" {
        Active => "active",
        Stale => "stale",
        Disabled => "disabled",
        Removed => "removed",
    }
);

/// What an occurrence asks of the event's status, beyond being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusEffect {
    /// A new occurrence of a problem: a resolved event reopens (regression).
    Occurred,
    /// An alarm went back to `OK`: the event resolves.
    Resolve,
    /// Counted, but does not change the status (e.g. `INSUFFICIENT_DATA`).
    None,
}

/// One delivery of a problem: a group of log records or one AWS event envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Occurrence {
    pub id: OccurrenceId,
    pub event_id: EventId,
    pub account: AccountId,
    pub region: Region,
    pub source: String,
    pub detail_type: String,
    pub severity: Severity,
    pub title: String,
    pub fingerprint: Option<Fingerprint>,
    pub log_group: Option<String>,
    pub sample: String,
    pub resources: Vec<String>,
    pub detail: serde_json::Value,
    /// When its first record happened (a group of log records spans
    /// `first_time..=time`; an AWS event has `first_time == time`).
    pub first_time: DateTime<Utc>,
    /// When it last happened (last record of a group, or the envelope's time):
    /// orders state changes and names the UTC day it is counted on.
    pub time: DateTime<Utc>,
    /// How many records (or 1 for an AWS event) it adds to the event's count.
    pub count: u64,
    pub effect: StatusEffect,
}

/// One distinct problem, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub account: AccountId,
    pub region: Region,
    pub source: String,
    pub detail_type: String,
    pub severity: Severity,
    pub status: Status,
    pub title: String,
    pub fingerprint: Option<Fingerprint>,
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub log_group: Option<String>,
    pub sample: String,
    pub resources: Vec<String>,
    pub detail: serde_json::Value,
    pub note: Option<String>,
    pub assignee: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
    /// Time of the newest state change applied (alarms), so older ones do not win.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_time: Option<DateTime<Utc>>,
    /// When the event last reopened after having been resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reopened_at: Option<DateTime<Utc>>,
}

impl Event {
    /// A new event from its first occurrence.
    pub fn from_first(o: &Occurrence, now: DateTime<Utc>) -> Self {
        let status = match o.effect {
            StatusEffect::Resolve => Status::Resolved,
            _ => Status::Open,
        };
        Event {
            id: o.event_id.clone(),
            account: o.account.clone(),
            region: o.region.clone(),
            source: o.source.clone(),
            detail_type: o.detail_type.clone(),
            severity: o.severity,
            status,
            title: o.title.clone(),
            fingerprint: o.fingerprint.clone(),
            count: o.count,
            first_seen: o.first_time.min(o.time),
            last_seen: o.time,
            log_group: o.log_group.clone(),
            sample: o.sample.clone(),
            resources: o.resources.clone(),
            detail: o.detail.clone(),
            note: None,
            assignee: None,
            updated_at: now,
            version: 1,
            state_time: Some(o.time),
            reopened_at: None,
        }
    }

    /// Applies a new (never seen before) occurrence. Pure: the stores call it
    /// inside their transaction, so every store applies the same rules.
    pub fn apply(&mut self, o: &Occurrence, now: DateTime<Utc>) {
        self.count += o.count;
        self.first_seen = self.first_seen.min(o.first_time).min(o.time);
        let newer = self.state_time.is_none_or(|t| o.time >= t);
        if o.time >= self.last_seen {
            self.last_seen = o.time;
        }
        if !newer {
            // An out-of-order state change is counted but changes nothing else.
            return;
        }
        self.state_time = Some(o.time);
        self.sample.clone_from(&o.sample);
        self.title.clone_from(&o.title);
        self.detail = o.detail.clone();
        if !o.resources.is_empty() {
            self.resources.clone_from(&o.resources);
        }
        // Severity follows the newest state for AWS events; for logs it only rises.
        if o.fingerprint.is_some() {
            self.severity = self.severity.max(o.severity);
        } else if o.effect != StatusEffect::Resolve {
            self.severity = o.severity;
        }
        let new_status = match (o.effect, self.status) {
            (StatusEffect::Occurred, Status::Resolved) => {
                self.reopened_at = Some(o.time);
                Some(Status::Open)
            }
            (StatusEffect::Resolve, Status::Open | Status::Acknowledged) => Some(Status::Resolved),
            _ => None,
        };
        if let Some(s) = new_status {
            self.status = s;
            self.version += 1;
            self.updated_at = now;
        }
    }
}

/// A triage change from the API; `Some(None)` clears a field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventPatch {
    pub status: Option<Status>,
    pub note: Option<Option<String>>,
    pub assignee: Option<Option<String>>,
}

impl EventPatch {
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.note.is_none() && self.assignee.is_none()
    }

    /// Applies the patch; the version moves only if something visible changed.
    pub fn apply_to(&self, e: &mut Event, now: DateTime<Utc>) {
        let mut changed = false;
        if let Some(s) = self.status {
            changed |= e.status != s;
            e.status = s;
        }
        if let Some(n) = &self.note {
            changed |= &e.note != n;
            e.note.clone_from(n);
        }
        if let Some(a) = &self.assignee {
            changed |= &e.assignee != a;
            e.assignee.clone_from(a);
        }
        if changed {
            e.version += 1;
            e.updated_at = now;
        }
    }
}

/// One classification rule: the first rule whose pattern matches gives the severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub pattern: String,
    pub severity: Severity,
}

/// What an agent queries and how it classifies, as the master pushes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub enabled: bool,
    pub schedule_minutes: u32,
    pub log_group_prefixes: Vec<String>,
    pub log_groups: Vec<String>,
    pub exclude_patterns: Vec<String>,
    pub rules: Vec<Rule>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            schedule_minutes: 5,
            log_group_prefixes: vec!["/aws/lambda/".into()],
            log_groups: vec![],
            exclude_patterns: vec![],
            rules: vec![],
        }
    }
}

/// A partial config, as `PUT /agents/{id}` takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfigPatch {
    pub enabled: Option<bool>,
    pub schedule_minutes: Option<u32>,
    pub log_group_prefixes: Option<Vec<String>>,
    pub log_groups: Option<Vec<String>>,
    pub exclude_patterns: Option<Vec<String>>,
    pub rules: Option<Vec<Rule>>,
}

/// A log group name or prefix: CloudWatch's character set, 1-512 characters.
pub fn validate_log_group_name(field: &'static str, s: &str) -> Result<(), InvalidValue> {
    let ok = !s.is_empty()
        && s.len() <= 512
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'));
    if ok {
        Ok(())
    } else {
        Err(InvalidValue::new(
            field,
            format!("{s:?} is not a log group name (1-512 of A-Z a-z 0-9 . - _ / #)"),
        ))
    }
}

impl AgentConfig {
    pub const MAX_SCHEDULE_MINUTES: u32 = 1440;

    /// Checks every field an operator can send; regexes must compile.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        if !(1..=Self::MAX_SCHEDULE_MINUTES).contains(&self.schedule_minutes) {
            return Err(InvalidValue::new(
                "schedule_minutes",
                "must be between 1 and 1440",
            ));
        }
        for p in &self.log_group_prefixes {
            // An empty prefix is allowed: it means every log group.
            if !p.is_empty() {
                validate_log_group_name("log_group_prefixes", p)?;
            }
        }
        for g in &self.log_groups {
            validate_log_group_name("log_groups", g)?;
        }
        if self.log_group_prefixes.len() + self.log_groups.len() > 1000 {
            return Err(InvalidValue::new(
                "log_groups",
                "at most 1000 groups and prefixes",
            ));
        }
        for p in &self.exclude_patterns {
            compile_pattern("exclude_patterns", p)?;
        }
        for r in &self.rules {
            compile_pattern("rules", &r.pattern)?;
        }
        Ok(())
    }

    pub fn patched(&self, p: &AgentConfigPatch) -> AgentConfig {
        let mut c = self.clone();
        if let Some(v) = p.enabled {
            c.enabled = v;
        }
        if let Some(v) = p.schedule_minutes {
            c.schedule_minutes = v;
        }
        if let Some(v) = &p.log_group_prefixes {
            c.log_group_prefixes.clone_from(v);
        }
        if let Some(v) = &p.log_groups {
            c.log_groups.clone_from(v);
        }
        if let Some(v) = &p.exclude_patterns {
            c.exclude_patterns.clone_from(v);
        }
        if let Some(v) = &p.rules {
            c.rules.clone_from(v);
        }
        c
    }

    /// Whether a log group is one this agent watches.
    pub fn watches(&self, group: &str) -> bool {
        self.log_groups.iter().any(|g| g == group)
            || self
                .log_group_prefixes
                .iter()
                .any(|p| group.starts_with(p.as_str()))
    }
}

pub(crate) fn compile_pattern(field: &'static str, p: &str) -> Result<regex::Regex, InvalidValue> {
    if p.len() > 1024 {
        return Err(InvalidValue::new(
            field,
            "pattern longer than 1024 characters",
        ));
    }
    regex::RegexBuilder::new(p)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| InvalidValue::new(field, format!("invalid regex {p:?}: {e}")))
}

/// What the agent did in its last run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub log_groups: u64,
    pub records_matched: u64,
    pub occurrences_published: u64,
}

/// An agent as the master tracks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub account: AccountId,
    pub region: Region,
    pub name: String,
    pub status: AgentStatus,
    pub version: String,
    pub registered_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub config: AgentConfig,
    pub config_version: u64,
    pub applied_config_version: u64,
    /// When the desired config last changed (a `PUT`), so UpdateDeployment
    /// can tell a push not applied in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_updated_at: Option<DateTime<Utc>>,
    pub last_run: Option<LastRun>,
    /// Counts writes, for optimistic concurrency between the API and UpdateDeployment.
    #[serde(default)]
    pub revision: u64,
}

impl Agent {
    /// `stale` after three schedule periods without a heartbeat, derived at read time.
    pub fn with_derived_status(mut self, now: DateTime<Utc>) -> Self {
        if self.status == AgentStatus::Removed {
            return self;
        }
        self.status = if !self.config.enabled {
            AgentStatus::Disabled
        } else {
            let seen = self.last_seen_at.unwrap_or(self.registered_at);
            let period = chrono::Duration::minutes(i64::from(self.config.schedule_minutes) * 3);
            if now - seen > period {
                AgentStatus::Stale
            } else {
                AgentStatus::Active
            }
        };
        self
    }
}

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

/// One UTC day's activity of one event, as stores keep per-day counters.
#[derive(Debug, Clone, PartialEq)]
pub struct DayActivity {
    pub event: Event,
    pub day_count: u64,
}

pub fn day_of(t: DateTime<Utc>) -> NaiveDate {
    t.date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// The instant the occurrences are recorded at.
    fn now() -> DateTime<Utc> {
        at("2026-03-01T12:00:00Z")
    }

    /// An occurrence of a log problem (with a fingerprint) at `time`, with
    /// one record.
    fn log_occurrence(delivery: &str, time: &str) -> Occurrence {
        let account: AccountId = "111122223333".parse().unwrap();
        let region: Region = "eu-west-1".parse().unwrap();
        let event_id = EventId::derive(&account, &region, "aws.logs", "/ecs/web#abc");
        Occurrence {
            id: OccurrenceId::derive(&[event_id.as_str(), delivery]),
            event_id,
            account,
            region,
            source: "aws.logs".into(),
            detail_type: "Log Errors".into(),
            severity: Severity::Medium,
            title: format!("error ({delivery})"),
            fingerprint: Some("0123456789abcdef".parse().unwrap()),
            log_group: Some("/ecs/web".into()),
            sample: format!("ERROR sample of {delivery}"),
            resources: vec![],
            detail: serde_json::json!({ "delivery": delivery }),
            first_time: at(time),
            time: at(time),
            count: 1,
            effect: StatusEffect::Occurred,
        }
    }

    /// A CloudWatch alarm state change (no fingerprint) at `time`.
    fn alarm(delivery: &str, time: &str, effect: StatusEffect, severity: Severity) -> Occurrence {
        let account: AccountId = "111122223333".parse().unwrap();
        let region: Region = "eu-west-1".parse().unwrap();
        let event_id = EventId::derive(&account, &region, "aws.cloudwatch", "arn:alarm:cpu");
        Occurrence {
            id: OccurrenceId::derive(&[event_id.as_str(), delivery]),
            event_id,
            source: "aws.cloudwatch".into(),
            detail_type: "CloudWatch Alarm State Change".into(),
            severity,
            fingerprint: None,
            log_group: None,
            resources: vec!["arn:alarm:cpu".into()],
            effect,
            ..log_occurrence(delivery, time)
        }
    }

    /// The alarm firing at `time` with `severity`.
    fn alarm_fired(delivery: &str, time: &str, severity: Severity) -> Occurrence {
        alarm(delivery, time, StatusEffect::Occurred, severity)
    }

    /// The alarm back to OK at `time`.
    fn alarm_ok(time: &str) -> Occurrence {
        alarm("ok", time, StatusEffect::Resolve, Severity::Info)
    }

    /// The event a first log occurrence at 10:00 opened.
    fn log_event() -> Event {
        Event::from_first(&log_occurrence("w1", "2026-03-01T10:00:00Z"), now())
    }

    /// The event the alarm opened by firing (high) at 10:00.
    fn alarm_event(delivery: &str) -> Event {
        Event::from_first(
            &alarm_fired(delivery, "2026-03-01T10:00:00Z", Severity::High),
            now(),
        )
    }

    /// `e` after a user set its status to `status` now.
    fn set_status(e: &mut Event, status: Status) {
        EventPatch {
            status: Some(status),
            ..EventPatch::default()
        }
        .apply_to(e, now());
    }

    #[test]
    fn the_first_occurrence_makes_an_open_event_at_version_1() {
        let mut o = log_occurrence("w1", "2026-03-01T10:05:00Z");
        o.first_time = at("2026-03-01T10:01:00Z");
        o.count = 3;
        let e = Event::from_first(&o, now());
        assert_eq!(
            (e.id.clone(), e.status, e.version),
            (o.event_id, Status::Open, 1)
        );
        assert_eq!(e.count, 3);
        assert_eq!(e.first_seen, at("2026-03-01T10:01:00Z"));
        assert_eq!(e.last_seen, at("2026-03-01T10:05:00Z"));
        assert_eq!(e.state_time, Some(o.time));
        assert_eq!((e.updated_at, e.reopened_at), (now(), None));
        assert_eq!(e.sample, o.sample);
    }

    #[test]
    fn a_first_occurrence_that_resolves_makes_a_resolved_event() {
        let o = alarm_ok("2026-03-01T10:00:00Z");
        assert_eq!(Event::from_first(&o, now()).status, Status::Resolved);
    }

    #[test]
    fn counts_add_without_a_new_version() {
        let mut e = log_event();
        let mut o = log_occurrence("w2", "2026-03-01T10:05:00Z");
        o.count = 4;
        e.apply(&o, now() + chrono::Duration::minutes(1));
        assert_eq!(e.count, 5);
        assert_eq!(e.version, 1, "counting is not a visible state change");
        assert_eq!(e.updated_at, now());
        assert_eq!(e.sample, o.sample, "the newest occurrence gives the sample");
        assert_eq!(e.title, o.title);
        assert_eq!(e.detail, o.detail);
    }

    #[test]
    fn first_and_last_seen_span_every_record_of_every_occurrence() {
        let mut e = log_event();
        // A group whose first record is earlier than anything seen so far.
        let mut grouped = log_occurrence("w2", "2026-03-01T10:10:00Z");
        grouped.first_time = at("2026-03-01T09:50:00Z");
        e.apply(&grouped, now());
        assert_eq!(e.first_seen, at("2026-03-01T09:50:00Z"));
        assert_eq!(e.last_seen, at("2026-03-01T10:10:00Z"));
        // A late delivery inside the span moves neither end.
        e.apply(&log_occurrence("w3", "2026-03-01T10:00:30Z"), now());
        assert_eq!(e.first_seen, at("2026-03-01T09:50:00Z"));
        assert_eq!(e.last_seen, at("2026-03-01T10:10:00Z"));
        assert_eq!(e.count, 3);
    }

    #[test]
    fn a_new_occurrence_reopens_a_resolved_event() {
        let mut e = log_event();
        set_status(&mut e, Status::Resolved);
        assert_eq!((e.status, e.version), (Status::Resolved, 2));
        let later = now() + chrono::Duration::hours(1);
        e.apply(&log_occurrence("w2", "2026-03-01T12:30:00Z"), later);
        assert_eq!(e.status, Status::Open, "a regression reopens the event");
        assert_eq!(e.version, 3);
        assert_eq!(e.reopened_at, Some(at("2026-03-01T12:30:00Z")));
        assert_eq!(e.updated_at, later);
        assert_eq!(e.count, 2);
    }

    #[test]
    fn an_ignored_event_stays_ignored_but_keeps_counting() {
        let mut e = log_event();
        set_status(&mut e, Status::Ignored);
        let version = e.version;
        e.apply(&log_occurrence("w2", "2026-03-01T10:05:00Z"), now());
        e.apply(&log_occurrence("w3", "2026-03-01T10:06:00Z"), now());
        assert_eq!(
            (e.status, e.version, e.count),
            (Status::Ignored, version, 3)
        );
        assert_eq!(e.reopened_at, None);
        assert_eq!(e.last_seen, at("2026-03-01T10:06:00Z"));
    }

    #[test]
    fn an_alarm_back_to_ok_resolves_its_event() {
        let mut e = alarm_event("alarm");
        let later = now() + chrono::Duration::minutes(5);
        let ok = alarm_ok("2026-03-01T10:05:00Z");
        e.apply(&ok, later);
        assert_eq!(
            (e.status, e.version, e.updated_at),
            (Status::Resolved, 2, later)
        );
        assert_eq!(e.severity, Severity::High, "a resolve keeps the severity");
        assert_eq!(e.count, 2);
        // Firing again later is a regression: it reopens, at the new severity.
        let again = alarm_fired("again", "2026-03-01T10:10:00Z", Severity::Low);
        e.apply(&again, later);
        assert_eq!((e.status, e.version), (Status::Open, 3));
        assert_eq!(
            e.severity,
            Severity::Low,
            "AWS events follow the newest state"
        );
        assert_eq!(e.reopened_at, Some(at("2026-03-01T10:10:00Z")));
    }

    #[test]
    fn an_acknowledged_event_resolves_when_its_alarm_clears() {
        let mut e = alarm_event("a");
        e.status = Status::Acknowledged;
        e.apply(&alarm_ok("2026-03-01T10:05:00Z"), now());
        assert_eq!(e.status, Status::Resolved);
    }

    #[test]
    fn an_older_state_change_is_counted_but_not_applied() {
        let mut e = alarm_event("a");
        let ok = alarm_ok("2026-03-01T10:10:00Z");
        e.apply(&ok, now());
        let before = e.clone();
        // An ALARM that happened before the OK arrives late.
        let late = alarm_fired("late", "2026-03-01T10:05:00Z", Severity::Critical);
        e.apply(&late, now() + chrono::Duration::minutes(1));
        assert_eq!(e.count, before.count + 1, "it is counted");
        assert_eq!(
            Event {
                count: before.count,
                ..e.clone()
            },
            before,
            "and changes nothing else: status, severity, sample, version, times"
        );
        assert_eq!(e.state_time, Some(at("2026-03-01T10:10:00Z")));
    }

    #[test]
    fn a_late_occurrence_still_widens_first_seen() {
        let mut e = log_event();
        e.apply(&log_occurrence("w2", "2026-03-01T10:10:00Z"), now());
        let sample = e.sample.clone();
        e.apply(&log_occurrence("late", "2026-03-01T09:00:00Z"), now());
        assert_eq!(e.first_seen, at("2026-03-01T09:00:00Z"));
        assert_eq!(e.last_seen, at("2026-03-01T10:10:00Z"));
        assert_eq!(
            e.sample, sample,
            "an older occurrence does not replace the sample"
        );
        assert_eq!(e.count, 3);
    }

    #[test]
    fn log_severity_only_rises() {
        let mut e = log_event();
        assert_eq!(e.severity, Severity::Medium);
        let mut high = log_occurrence("w2", "2026-03-01T10:01:00Z");
        high.severity = Severity::High;
        e.apply(&high, now());
        assert_eq!(e.severity, Severity::High);
        let mut low = log_occurrence("w3", "2026-03-01T10:02:00Z");
        low.severity = Severity::Low;
        e.apply(&low, now());
        assert_eq!(
            e.severity,
            Severity::High,
            "a lower log severity does not lower it"
        );
        assert_eq!(e.version, 1, "severity is not a status change");
    }

    #[test]
    fn a_page_from_an_overfetch_says_whether_there_is_more() {
        let key = |n: &u32| *n;
        let full = Page::from_overfetch(vec![1, 2, 3], 2, key);
        assert_eq!((full.items, full.next), (vec![1, 2], Some(2)));
        let last = Page::from_overfetch(vec![1, 2], 2, key);
        assert_eq!((last.items, last.next), (vec![1, 2], None));
        let empty = Page::from_overfetch(Vec::new(), 2, key);
        assert_eq!((empty.items, empty.next), (vec![], None));
        // A limit of 0 serves one item, so paging always moves forward.
        let zero = Page::from_overfetch(vec![1, 2], 0, key);
        assert_eq!((zero.items, zero.next), (vec![1], Some(1)));
        assert_eq!(Page::<u32, u32>::fetch_size(0), 2);
        assert_eq!(Page::<u32, u32>::fetch_size(10), 11);
        assert_eq!(Page::<u32, u32>::fetch_size(usize::MAX), usize::MAX);
    }
}
