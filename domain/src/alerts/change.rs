//! The transition of an event, from its state before and after a store write.

use crate::model::{Event, Severity, Status};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What an alert says happened to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The first occurrence of a problem.
    Opened,
    /// A resolved event had a new occurrence.
    Regressed,
    /// The severity rose from below the channel's `min_severity` to at or above it.
    Escalated,
    /// The event became resolved (an alarm back to OK, or a person).
    Resolved,
    /// An agent turned stale, or did not apply a pushed config in time
    /// (UpdateDeployment's alerts; never a transition of an event).
    Agent,
}

impl Transition {
    pub const ALL: [Transition; 5] = [
        Transition::Opened,
        Transition::Regressed,
        Transition::Escalated,
        Transition::Resolved,
        Transition::Agent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Opened => "opened",
            Transition::Regressed => "regressed",
            Transition::Escalated => "escalated",
            Transition::Resolved => "resolved",
            Transition::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a transition needs of the event before the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Before {
    pub severity: Severity,
    pub status: Status,
    pub count: u64,
}

impl From<&Event> for Before {
    fn from(e: &Event) -> Self {
        Before {
            severity: e.severity,
            status: e.status,
            count: e.count,
        }
    }
}

/// One store write of an event: its state before (`None` when the write
/// created it) and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub before: Option<Before>,
    pub after: Event,
}

impl Change {
    pub fn new(before: Option<&Event>, after: &Event) -> Self {
        Change {
            before: before.map(Before::from),
            after: after.clone(),
        }
    }

    /// Whether some channel could alert on this write: the stores keep only
    /// these, so a further occurrence of an open event costs no outbox row.
    pub fn may_alert(&self) -> bool {
        Self::may_alert_between(self.before, &self.after)
    }

    /// [`Change::may_alert`] before building the change (no clone of `after`).
    pub fn may_alert_between(before: Option<Before>, after: &Event) -> bool {
        Severity::ALL
            .iter()
            .any(|&min| transition(before, after, min).is_some())
    }

    /// The transition a channel with this `min_severity` sees, if any.
    ///
    /// * `ignored` never alerts, before or after.
    /// * `opened`: created at or above the threshold (a first state that is
    ///   already resolved, such as an alarm first seen in `OK`, is not).
    /// * `regressed`: resolved before, open again after, with new occurrences
    ///   (a person's reopen is not a regression).
    /// * `escalated`: open or acknowledged on both sides, severity crossing the threshold.
    /// * `resolved`: any change to resolved.
    pub fn transition(&self, min: Severity) -> Option<Transition> {
        transition(self.before, &self.after, min)
    }
}

fn transition(before: Option<Before>, after: &Event, min: Severity) -> Option<Transition> {
    if after.status == Status::Ignored || after.severity < min {
        return None;
    }
    let Some(before) = before else {
        return (after.status != Status::Resolved).then_some(Transition::Opened);
    };
    let active = |s: Status| matches!(s, Status::Open | Status::Acknowledged);
    match (before.status, after.status) {
        (Status::Ignored, _) => None,
        (b, Status::Resolved) if b != Status::Resolved => Some(Transition::Resolved),
        (Status::Resolved, a) if active(a) && after.count > before.count => {
            Some(Transition::Regressed)
        }
        (b, a) if active(b) && active(a) && before.severity < min => Some(Transition::Escalated),
        _ => None,
    }
}
