//! The closed sets: severities, statuses, agent statuses and status effects.

use super::InvalidValue;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

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
