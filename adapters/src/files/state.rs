//! What the state file holds, and what a path points to right now.

use chrono::{DateTime, Utc};
use domain::window::Window;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Version of the state file's layout, for future migrations.
pub(super) const STATE_VERSION: u32 = 1;

/// What the state file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct SourceState {
    pub(super) version: u32,
    /// Per log group: which file it was and how far it was published.
    #[serde(default)]
    pub(super) files: BTreeMap<String, FileState>,
    /// The read handed out by the last fetch and not yet committed.
    #[serde(default)]
    pub(super) pending: Option<PendingRead>,
}

impl Default for SourceState {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            files: BTreeMap::new(),
            pending: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct FileState {
    /// Tells a replaced or rotated file from the one that was read.
    pub(super) inode: u64,
    /// Bytes before this offset were published.
    pub(super) offset: u64,
    /// The size seen by the previous fetch: the last record is complete once
    /// the file stops growing.
    pub(super) size_seen: Option<u64>,
    /// Whether records start with a timestamp, decided from the first
    /// non-empty line and kept so every read splits the file the same way.
    pub(super) timestamped: Option<bool>,
}

impl FileState {
    pub(super) fn new(inode: u64) -> Self {
        Self {
            inode,
            offset: 0,
            size_seen: None,
            timestamped: None,
        }
    }
}

/// The byte ranges one fetch read, so that a retry of its window reads them again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct PendingRead {
    pub(super) window: Window,
    /// The time of records without a timestamp of their own, kept so a
    /// re-read gives them the same time.
    pub(super) scanned_at: DateTime<Utc>,
    pub(super) ranges: BTreeMap<String, PendingRange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct PendingRange {
    pub(super) inode: u64,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) timestamped: bool,
}

/// What a path points to right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Presence {
    Missing,
    Present {
        inode: u64,
        size: u64,
    },
    /// Could not be checked (permissions): neither forgotten nor read.
    Unknown,
}

impl Presence {
    pub(super) fn is(&self, inode: u64) -> bool {
        matches!(self, Presence::Present { inode: i, .. } if *i == inode)
    }
}

pub(super) fn presence(path: &Path) -> Presence {
    match fs::metadata(path) {
        Ok(m) if m.is_file() => Presence::Present {
            inode: m.ino(),
            size: m.len(),
        },
        Ok(_) => Presence::Missing,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Presence::Missing,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot inspect log file");
            Presence::Unknown
        }
    }
}
