//! Log files as the agent's log source (local mode).
//!
//! Every regular file under a root folder is a log group, named by its path
//! relative to the root with `/` separators. Read positions live in a JSON
//! state file, so a restart neither re-reads nor skips a record, and each
//! fetch remembers the exact byte ranges it read, so a retry of the same
//! window returns the same records.
//!
//! Records are joined as a log shipper joins them: a line that starts with
//! whitespace, or with `Caused by:`, continues the previous record; in a file
//! whose first line starts with a timestamp, any line without one continues
//! it too. The last record of a file is held back until the file stops
//! growing, since its continuation lines may still be on their way.
//!
//! Decisions beyond the brief, for the operator's benefit: Lambda's own
//! `START`/`END`/`REPORT` lines always start a record (as CloudWatch stores
//! them), and a JSON record without a leading timestamp takes its time from a
//! `time` / `timestamp` / `ts` / `@timestamp` field. A file deleted and
//! re-created under the same name with the same inode number and more bytes
//! than the committed offset cannot be told from an appended file.

mod discovery;
mod read;
mod records;
mod state;
#[cfg(test)]
mod tests;
mod watch;

pub use records::split_file_records;
pub use watch::FolderWatch;

use crate::atomic_file::write_atomically;
use async_trait::async_trait;
use domain::model::{AgentConfig, Rule};
use domain::ports::{LogRecord, LogSource, PortError};
use domain::window::Window;
use state::{presence, FileState, Presence, SourceState, STATE_VERSION};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Bytes read per file per fetch; the rest comes with the next fetch.
pub const DEFAULT_READ_LIMIT: u64 = 32 * 1024 * 1024;

/// The log files under a root folder, with persisted read positions.
#[derive(Debug, Clone)]
pub struct FileLogSource {
    inner: Arc<Inner>,
    read_limit: u64,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    state_path: PathBuf,
    state: Mutex<SourceState>,
}

fn transient(what: &str, path: &Path, e: impl std::fmt::Display) -> PortError {
    PortError::Transient(format!("{what} {}: {e}", path.display()))
}

impl FileLogSource {
    /// A source reading the files under `root`, keeping its positions in
    /// `state_file` (loaded now if it exists).
    pub fn open(
        root: impl Into<PathBuf>,
        state_file: impl Into<PathBuf>,
    ) -> Result<Self, PortError> {
        let state_path = state_file.into();
        let state = match fs::read(&state_path) {
            Ok(bytes) => serde_json::from_slice::<SourceState>(&bytes).map_err(|e| {
                PortError::Permanent(format!(
                    "corrupt log source state {}: {e}",
                    state_path.display()
                ))
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => SourceState::default(),
            Err(e) => return Err(transient("cannot read", &state_path, e)),
        };
        if state.version != STATE_VERSION {
            return Err(PortError::Permanent(format!(
                "log source state {} has version {}, expected {STATE_VERSION}",
                state_path.display(),
                state.version
            )));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                root: root.into(),
                state_path,
                state: Mutex::new(state),
            }),
            read_limit: DEFAULT_READ_LIMIT,
        })
    }

    /// Reads at most this many bytes per file per fetch (at least 1).
    pub fn with_read_limit(mut self, bytes: u64) -> Self {
        self.read_limit = bytes.max(1);
        self
    }

    /// Whether a fetch now could find something new: a file not yet read,
    /// one whose size or inode changed since the last fetch, one with bytes
    /// held back or unpublished past its offset, or a read not yet committed.
    /// Only stats the files, so `--follow` can ask it several times a second.
    pub async fn has_unread(&self) -> Result<bool, PortError> {
        self.blocking(|inner| inner.has_unread()).await
    }

    /// The folder whose files are the log groups.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Runs blocking file work off the async runtime's threads.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, PortError> + Send + 'static,
    ) -> Result<T, PortError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| PortError::Transient(format!("log file task failed: {e}")))?
    }
}

#[async_trait]
impl LogSource for FileLogSource {
    async fn discover(&self, config: &AgentConfig) -> Result<Vec<String>, PortError> {
        let config = config.clone();
        self.blocking(move |inner| {
            let mut groups = inner.list_groups()?;
            groups.retain(|g| config.watches(g));
            Ok(groups)
        })
        .await
    }

    /// Files are read whole: the classifier, not the source, picks the errors.
    async fn fetch(
        &self,
        groups: &[String],
        window: &Window,
        _rules: &[Rule],
    ) -> Result<Vec<LogRecord>, PortError> {
        let groups = groups.to_vec();
        let window = *window;
        let read_limit = self.read_limit;
        self.blocking(move |inner| inner.fetch(&groups, window, read_limit))
            .await
    }

    async fn commit(&self, window: &Window) -> Result<(), PortError> {
        let window = *window;
        self.blocking(move |inner| inner.commit(window)).await
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, SourceState> {
        // The state is only replaced whole, after a successful save, so a
        // panic elsewhere cannot leave it half-updated.
        crate::sync::lock(&self.state)
    }

    fn fetch(
        &self,
        groups: &[String],
        window: Window,
        read_limit: u64,
    ) -> Result<Vec<LogRecord>, PortError> {
        let mut state = self.lock();
        if let Some(pending) = state.pending.as_ref().filter(|p| p.window == window) {
            return self.reread(pending, groups);
        }
        // Any other pending read was abandoned: its bytes are read again from
        // the committed offsets.
        let mut next = state.clone();
        let records = self.read_new(&mut next, groups, window, read_limit);
        self.save(&next)?;
        *state = next;
        Ok(records)
    }

    fn has_unread(&self) -> Result<bool, PortError> {
        let groups = self.list_groups()?;
        let state = self.lock();
        if state.pending.is_some() {
            return Ok(true);
        }
        Ok(groups.iter().any(|name| {
            let Presence::Present { inode, size } = presence(&self.root.join(name)) else {
                return false;
            };
            state
                .files
                .get(name)
                .is_none_or(|f| f.inode != inode || f.size_seen != Some(size) || f.offset != size)
        }))
    }

    fn commit(&self, window: Window) -> Result<(), PortError> {
        let mut state = self.lock();
        if state.pending.as_ref().map(|p| p.window) != Some(window) {
            tracing::warn!(start = %window.start, end = %window.end, "commit of a window that was not fetched; nothing to do");
            return Ok(());
        }
        let mut next = state.clone();
        let pending = next.pending.take().expect("checked above");
        for (name, range) in pending.ranges {
            let file = next
                .files
                .entry(name)
                .or_insert_with(|| FileState::new(range.inode));
            if file.inode != range.inode {
                *file = FileState::new(range.inode);
            }
            file.offset = range.end;
            file.timestamped.get_or_insert(range.timestamped);
        }
        self.save(&next)?;
        *state = next;
        Ok(())
    }

    fn save(&self, state: &SourceState) -> Result<(), PortError> {
        let bytes = serde_json::to_vec_pretty(state)
            .map_err(|e| PortError::Permanent(format!("cannot encode log source state: {e}")))?;
        write_atomically(&self.state_path, &bytes)
            .map_err(|e| transient("cannot save log source state", &self.state_path, e))
    }
}
