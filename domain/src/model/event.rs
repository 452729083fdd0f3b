//! Occurrences, events, and the pure rules that apply one to the other.

use super::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    #[serde(with = "crate::time_text")]
    pub first_seen: DateTime<Utc>,
    #[serde(with = "crate::time_text")]
    pub last_seen: DateTime<Utc>,
    pub log_group: Option<String>,
    pub sample: String,
    pub resources: Vec<String>,
    pub detail: serde_json::Value,
    pub note: Option<String>,
    pub assignee: Option<String>,
    #[serde(with = "crate::time_text")]
    pub updated_at: DateTime<Utc>,
    pub version: u64,
    /// Time of the newest state change applied (alarms), so older ones do not win.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time_text::option"
    )]
    pub state_time: Option<DateTime<Utc>>,
    /// When the event last reopened after having been resolved.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time_text::option"
    )]
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
