//! Validated identifiers: accounts, regions, fingerprints, event, occurrence and agent ids.

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
