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

use crate::atomic_file::write_atomically;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::logtext::leading_timestamp;
use domain::model::AgentConfig;
use domain::ports::{LogRecord, LogSource, PortError};
use domain::window::Window;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Bytes read per file per fetch; the rest comes with the next fetch.
pub const DEFAULT_READ_LIMIT: u64 = 32 * 1024 * 1024;

/// Version of the state file's layout, for future migrations.
const STATE_VERSION: u32 = 1;

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

/// What the state file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SourceState {
    version: u32,
    /// Per log group: which file it was and how far it was published.
    #[serde(default)]
    files: BTreeMap<String, FileState>,
    /// The read handed out by the last fetch and not yet committed.
    #[serde(default)]
    pending: Option<PendingRead>,
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
struct FileState {
    /// Tells a replaced or rotated file from the one that was read.
    inode: u64,
    /// Bytes before this offset were published.
    offset: u64,
    /// The size seen by the previous fetch: the last record is complete once
    /// the file stops growing.
    size_seen: Option<u64>,
    /// Whether records start with a timestamp, decided from the first
    /// non-empty line and kept so every read splits the file the same way.
    timestamped: Option<bool>,
}

impl FileState {
    fn new(inode: u64) -> Self {
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
struct PendingRead {
    window: Window,
    /// The time of records without a timestamp of their own, kept so a
    /// re-read gives them the same time.
    scanned_at: DateTime<Utc>,
    ranges: BTreeMap<String, PendingRange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PendingRange {
    inode: u64,
    start: u64,
    end: u64,
    timestamped: bool,
}

/// What a path points to right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    Missing,
    Present {
        inode: u64,
        size: u64,
    },
    /// Could not be checked (permissions): neither forgotten nor read.
    Unknown,
}

impl Presence {
    fn is(&self, inode: u64) -> bool {
        matches!(self, Presence::Present { inode: i, .. } if *i == inode)
    }
}

fn presence(path: &Path) -> Presence {
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

    async fn fetch(&self, groups: &[String], window: &Window) -> Result<Vec<LogRecord>, PortError> {
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

    /// Every regular file under the root, as group names, sorted.
    fn list_groups(&self) -> Result<Vec<String>, PortError> {
        let state_file = fs::canonicalize(&self.state_path).ok();
        let mut groups = Vec::new();
        let mut folders = vec![(self.root.clone(), String::new())];
        while let Some((folder, prefix)) = folders.pop() {
            let entries = match fs::read_dir(&folder) {
                Ok(entries) => entries,
                Err(e) if prefix.is_empty() => {
                    return Err(transient("cannot list log folder", &folder, e))
                }
                Err(e) => {
                    tracing::warn!(folder = %folder.display(), error = %e, "cannot list log folder; skipped");
                    continue;
                }
            };
            // An entry that vanishes while we list is simply not there.
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let Some(name) = file_name.to_str() else {
                    tracing::debug!(path = %entry.path().display(), "file name is not UTF-8; skipped");
                    continue;
                };
                if name.starts_with('.') {
                    continue;
                }
                let group = if prefix.is_empty() {
                    name.to_owned()
                } else {
                    format!("{prefix}/{name}")
                };
                let path = entry.path();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                // `DirEntry::file_type` does not follow symlinks, so symlinked
                // folders are never entered; a symlinked file is a log file.
                let is_file = kind.is_file()
                    || (kind.is_symlink() && fs::metadata(&path).is_ok_and(|m| m.is_file()));
                if kind.is_dir() {
                    folders.push((path, group));
                } else if is_file {
                    let is_own_state = state_file.is_some()
                        && self.state_path.file_name() == Some(file_name.as_os_str())
                        && fs::canonicalize(&path).ok() == state_file;
                    if !is_own_state {
                        groups.push(group);
                    }
                }
            }
        }
        groups.sort();
        Ok(groups)
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

    /// Reads every group from its committed offset and records what was read
    /// as the pending read of `window`.
    fn read_new(
        &self,
        state: &mut SourceState,
        groups: &[String],
        window: Window,
        read_limit: u64,
    ) -> Vec<LogRecord> {
        let scanned_at = Utc::now();
        let mut names: Vec<&String> = groups.iter().filter(|g| is_relative_name(g)).collect();
        names.sort();
        names.dedup();
        let previous = std::mem::take(&mut state.files);
        let now: HashMap<&str, Presence> = previous
            .keys()
            .chain(names.iter().copied())
            .map(|n| (n.as_str(), presence(&self.root.join(n))))
            .collect();
        // Files that are gone are forgotten; the others keep their state
        // until they are read.
        state.files = previous
            .iter()
            .filter(|(name, _)| now[name.as_str()] != Presence::Missing)
            .map(|(n, f)| (n.clone(), f.clone()))
            .collect();

        let mut ranges = BTreeMap::new();
        let mut records = Vec::new();
        for name in names {
            let Presence::Present { inode, size } = now[name.as_str()] else {
                continue;
            };
            let known = previous
                .get(name)
                .cloned()
                .or_else(|| renamed_from(&previous, &now, name, inode));
            let mut file = match known {
                Some(f) if f.inode != inode => {
                    tracing::warn!(log_group = %name, "log file replaced: reading it from the start");
                    FileState::new(inode)
                }
                Some(f) if size < f.offset => {
                    tracing::warn!(log_group = %name, size, offset = f.offset, "log file truncated: reading it from the start");
                    FileState::new(inode)
                }
                Some(f) => f,
                None => FileState::new(inode),
            };
            let path = self.root.join(name);
            match scan_file(&path, &file, size, read_limit) {
                Ok(scan) => {
                    file.size_seen = Some(size);
                    file.timestamped = scan.timestamped;
                    let timestamped = scan.timestamped.unwrap_or(false);
                    if scan.end > file.offset {
                        ranges.insert(
                            name.clone(),
                            PendingRange {
                                inode,
                                start: file.offset,
                                end: scan.end,
                                timestamped,
                            },
                        );
                    }
                    records.extend(
                        scan.records
                            .iter()
                            .filter_map(|r| r.to_log_record(name, scanned_at)),
                    );
                }
                // Its offset stays, so the same bytes are read next time.
                Err(e) => {
                    tracing::warn!(log_group = %name, error = %e, "cannot read log file; retried next time")
                }
            }
            state.files.insert(name.clone(), file);
        }
        state.pending = Some(PendingRead {
            window,
            scanned_at,
            ranges,
        });
        records
    }

    /// Reads again exactly the ranges of the pending read.
    fn reread(
        &self,
        pending: &PendingRead,
        groups: &[String],
    ) -> Result<Vec<LogRecord>, PortError> {
        let mut records = Vec::new();
        for (name, range) in &pending.ranges {
            let Some(path) = self.locate(name, range.inode, groups) else {
                tracing::warn!(log_group = %name, "log file deleted before its records were published");
                continue;
            };
            let want = range.end - range.start;
            let bytes = match read_range(&path, range.start, want) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    tracing::warn!(log_group = %name, "log file deleted before its records were published");
                    continue;
                }
                Err(e) => return Err(transient("cannot read log file", &path, e)),
            };
            if (bytes.len() as u64) < want {
                tracing::warn!(log_group = %name, "log file shrank before its records were published");
            }
            records.extend(
                split_records(&bytes, range.timestamped)
                    .iter()
                    .filter_map(|r| r.to_log_record(name, pending.scanned_at)),
            );
        }
        Ok(records)
    }

    /// The file with this inode: under its name, or under the name it was
    /// rotated to since.
    fn locate(&self, name: &str, inode: u64, groups: &[String]) -> Option<PathBuf> {
        std::iter::once(name)
            .chain(groups.iter().map(String::as_str))
            .filter(|n| is_relative_name(n))
            .map(|n| self.root.join(n))
            .find(|p| presence(p).is(inode))
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

/// A group name that stays under the root: relative, without `..`.
fn is_relative_name(name: &str) -> bool {
    !name.is_empty()
        && Path::new(name)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// The state of a file that a new name now holds: rotation renamed it
/// (`app.log` → `app.log.1`), so it continues where it was.
fn renamed_from(
    previous: &BTreeMap<String, FileState>,
    now: &HashMap<&str, Presence>,
    name: &str,
    inode: u64,
) -> Option<FileState> {
    let (old, file) = previous.iter().find(|(old, f)| {
        f.inode == inode && old.as_str() != name && !now[old.as_str()].is(inode)
    })?;
    tracing::info!(from = %old, to = %name, "log file renamed: continuing where it was read");
    Some(file.clone())
}

/// What one scan of a file found.
struct Scan {
    timestamped: Option<bool>,
    /// Where the complete records end.
    end: u64,
    records: Vec<RawRecord>,
}

fn scan_file(path: &Path, file: &FileState, size: u64, read_limit: u64) -> io::Result<Scan> {
    let start = file.offset;
    let bytes = read_range(path, start, (size - start).min(read_limit))?;
    let read_to = start + bytes.len() as u64;
    let reached_end = read_to >= size;
    let tail_complete = reached_end && file.size_seen == Some(size);
    let timestamped = file
        .timestamped
        .or_else(|| decide_timestamped(&bytes, tail_complete));
    let mut records = split_records(&bytes, timestamped.unwrap_or(false));
    let mut end = read_to;
    // The last record may still get continuation lines; hold it back, unless
    // it alone fills the read limit (else a huge record would stall the file).
    if !tail_complete && (reached_end || records.len() > 1) {
        if let Some(last) = records.pop() {
            end = start + last.offset as u64;
        }
    }
    Ok(Scan {
        timestamped,
        end,
        records,
    })
}

fn read_range(path: &Path, start: u64, len: u64) -> io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(1 << 20));
    file.take(len).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn without_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether the file's records start with a timestamp, from its first
/// non-empty line; `None` until that line is complete.
fn decide_timestamped(bytes: &[u8], tail_complete: bool) -> Option<bool> {
    for raw in bytes.split_inclusive(|b| *b == b'\n') {
        let line = String::from_utf8_lossy(without_line_end(raw));
        if line.trim().is_empty() {
            continue;
        }
        if !raw.ends_with(b"\n") && !tail_complete {
            return None;
        }
        return Some(leading_timestamp(&line).is_some());
    }
    None
}

/// Lambda's own lines carry no timestamp but are records of their own.
fn is_lambda_platform_line(line: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "START RequestId:",
        "END RequestId:",
        "REPORT RequestId:",
        "INIT_START ",
        "INIT_REPORT ",
    ];
    PREFIXES.iter().any(|p| line.starts_with(p))
}

fn starts_record(line: &str, timestamped: bool) -> bool {
    if line.starts_with([' ', '\t']) || line.starts_with("Caused by:") {
        return false;
    }
    !timestamped || is_lambda_platform_line(line) || leading_timestamp(line).is_some()
}

/// The records of a complete file's bytes, exactly as a fetch that reads the
/// whole file returns them (the splitter on its own, for fuzzing).
pub fn split_file_records(
    bytes: &[u8],
    log_group: &str,
    scanned_at: DateTime<Utc>,
) -> Vec<LogRecord> {
    let timestamped = decide_timestamped(bytes, true).unwrap_or(false);
    split_records(bytes, timestamped)
        .iter()
        .filter_map(|r| r.to_log_record(log_group, scanned_at))
        .collect()
}

/// One record's lines as read, with where it starts in the read bytes.
#[derive(Debug)]
struct RawRecord {
    offset: usize,
    text: String,
}

fn split_records(bytes: &[u8], timestamped: bool) -> Vec<RawRecord> {
    let mut records: Vec<RawRecord> = Vec::new();
    let mut offset = 0;
    for raw in bytes.split_inclusive(|b| *b == b'\n') {
        let line = String::from_utf8_lossy(without_line_end(raw));
        match records.last_mut() {
            Some(record) if !starts_record(&line, timestamped) => {
                record.text.push('\n');
                record.text.push_str(&line);
            }
            _ => records.push(RawRecord {
                offset,
                text: line.into_owned(),
            }),
        }
        offset += raw.len();
    }
    records
}

impl RawRecord {
    /// The record without blank lines around it; `None` when nothing is left.
    fn to_log_record(&self, log_group: &str, scanned_at: DateTime<Utc>) -> Option<LogRecord> {
        let text = self.text.trim_end();
        let mut from = 0;
        for line in text.split_inclusive('\n') {
            if !line.trim().is_empty() {
                break;
            }
            from += line.len();
        }
        let message = &text[from..];
        if message.is_empty() {
            return None;
        }
        let time = leading_timestamp(message)
            .map(|(t, _)| t)
            .or_else(|| json_time(message))
            .unwrap_or(scanned_at);
        Some(LogRecord {
            log_group: log_group.to_owned(),
            time,
            message: message.to_owned(),
        })
    }
}

/// The time field of a JSON record (`{"time": "2026-11-25T10:00:00Z", ...}`).
fn json_time(message: &str) -> Option<DateTime<Utc>> {
    if !message.starts_with('{') {
        return None;
    }
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(message).ok()?;
    ["time", "timestamp", "ts", "@timestamp"]
        .iter()
        .find_map(|k| fields.get(*k)?.as_str())
        .and_then(leading_timestamp)
        .map(|(t, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::atomic::{AtomicI64, Ordering};

    struct Fixture {
        _dir: tempfile::TempDir,
        root: PathBuf,
        state: PathBuf,
        next_window: AtomicI64,
    }

    fn all_groups() -> AgentConfig {
        AgentConfig {
            log_group_prefixes: vec![String::new()],
            ..AgentConfig::default()
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("logs");
            fs::create_dir_all(&root).unwrap();
            let state = dir.path().join("data/files-state.json");
            Self {
                root,
                state,
                _dir: dir,
                next_window: AtomicI64::new(0),
            }
        }

        fn source(&self) -> FileLogSource {
            FileLogSource::open(&self.root, &self.state).unwrap()
        }

        fn write(&self, name: &str, text: &str) {
            let path = self.root.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }

        fn append(&self, name: &str, text: &str) {
            let mut f = fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(self.root.join(name))
                .unwrap();
            f.write_all(text.as_bytes()).unwrap();
        }

        /// A new window, after every earlier one.
        fn window(&self) -> Window {
            let n = self.next_window.fetch_add(1, Ordering::Relaxed);
            let start = t("2026-11-25T10:00:00Z") + chrono::Duration::minutes(5 * n);
            Window {
                start,
                end: start + chrono::Duration::minutes(5),
            }
        }
    }

    /// One agent run: discover, fetch, commit.
    async fn run(src: &FileLogSource, w: Window) -> Vec<LogRecord> {
        let groups = src.discover(&all_groups()).await.unwrap();
        let records = src.fetch(&groups, &w).await.unwrap();
        src.commit(&w).await.unwrap();
        records
    }

    /// Runs until the files are read to their end (the last record of a
    /// file comes once it stopped growing).
    async fn drain(fx: &Fixture, src: &FileLogSource) -> Vec<LogRecord> {
        let mut all = Vec::new();
        loop {
            let got = run(src, fx.window()).await;
            let again = run(src, fx.window()).await;
            let done = got.is_empty() && again.is_empty();
            all.extend(got);
            all.extend(again);
            if done {
                return all;
            }
        }
    }

    fn messages(records: &[LogRecord]) -> Vec<&str> {
        records.iter().map(|r| r.message.as_str()).collect()
    }

    #[tokio::test]
    async fn python_tracebacks_join_their_record() {
        let fx = Fixture::new();
        let traceback = "2026-11-25 10:00:01,250 ERROR [orders.api] order failed\n\
            Traceback (most recent call last):\n  \
            File \"/app/orders/handlers.py\", line 42, in create_order\n    \
            customer = payload[\"customer_id\"]\n\
            KeyError: 'customer_id'";
        fx.write(
            "orders/app.log",
            &format!(
                "2026-11-25 10:00:00,000 INFO [orders.api] started\n{traceback}\n\
                 2026-11-25 10:00:02,000 INFO [orders.api] GET /health 200\n"
            ),
        );
        let records = drain(&fx, &fx.source()).await;
        assert_eq!(
            messages(&records),
            [
                "2026-11-25 10:00:00,000 INFO [orders.api] started",
                traceback,
                "2026-11-25 10:00:02,000 INFO [orders.api] GET /health 200",
            ]
        );
        assert_eq!(records[1].time, t("2026-11-25T10:00:01.250Z"));
        assert_eq!(records[1].log_group, "orders/app.log");
    }

    #[tokio::test]
    async fn java_stack_traces_join_with_and_without_timestamps() {
        let fx = Fixture::new();
        let trace = "java.lang.IllegalStateException: stock reservation failed for sku 4411\n\
            \tat com.example.inventory.Reservations.reserve(Reservations.java:88)\n\
            \tat com.example.inventory.Api.handle(Api.java:41)\n\
            Caused by: java.sql.SQLTimeoutException: timeout after 5000 ms\n\
            \tat org.postgresql.jdbc.PgStatement.execute(PgStatement.java:120)\n\
            \t... 2 more";
        fx.write(
            "inventory/service.log",
            &format!(
                "2026-11-25T10:00:00.000Z INFO  c.e.i.Api - reserving\n\
                 2026-11-25T10:00:01.000Z ERROR c.e.i.Api - request failed\n{trace}\n\
                 2026-11-25T10:00:02.000Z INFO  c.e.i.Api - done\n"
            ),
        );
        fx.write(
            "inventory/stderr.log",
            &format!("Exception in thread \"main\" {trace}\nshutting down\n"),
        );
        let records = drain(&fx, &fx.source()).await;
        let logged: Vec<&str> = records
            .iter()
            .filter(|r| r.log_group == "inventory/service.log")
            .map(|r| r.message.as_str())
            .collect();
        assert_eq!(logged.len(), 3);
        assert_eq!(
            logged[1],
            format!("2026-11-25T10:00:01.000Z ERROR c.e.i.Api - request failed\n{trace}")
        );
        let stderr: Vec<&str> = records
            .iter()
            .filter(|r| r.log_group == "inventory/stderr.log")
            .map(|r| r.message.as_str())
            .collect();
        assert_eq!(
            stderr,
            [
                format!("Exception in thread \"main\" {trace}").as_str(),
                "shutting down"
            ]
        );
    }

    #[tokio::test]
    async fn rust_panics_join_the_record_before_them_in_a_timestamped_file() {
        let fx = Fixture::new();
        let panic =
            "2026-11-25T10:00:01.000000Z ERROR billing::ledger: invariant broken account=acct_1\n\
            thread 'tokio-runtime-worker' panicked at src/ledger.rs:88:14:\n\
            called `Option::unwrap()` on a `None` value\n\
            note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace";
        fx.write(
            "billing.log",
            &format!(
                "2026-11-25T10:00:00.000000Z  INFO billing: started\n{panic}\n\
                 2026-11-25T10:00:03.000000Z  INFO billing: restarted\n"
            ),
        );
        let records = drain(&fx, &fx.source()).await;
        assert_eq!(messages(&records).len(), 3);
        assert_eq!(records[1].message, panic);
        assert_eq!(records[1].time, t("2026-11-25T10:00:01Z"));
    }

    #[tokio::test]
    async fn without_timestamps_only_indented_lines_continue() {
        let fx = Fixture::new();
        fx.write(
            "plain.log",
            "starting worker\n\
             Traceback (most recent call last):\n  \
             File \"w.py\", line 3, in <module>\n\
             KeyError: 'id'\n\n\
             \x20 orphan indented line\n\
             done\r\n",
        );
        let before = Utc::now();
        let records = drain(&fx, &fx.source()).await;
        let after = Utc::now();
        assert_eq!(
            messages(&records),
            [
                "starting worker",
                "Traceback (most recent call last):\n  File \"w.py\", line 3, in <module>",
                "KeyError: 'id'",
                "  orphan indented line",
                "done",
            ]
        );
        // No timestamp of their own: the time of the scan.
        assert!(records.iter().all(|r| before <= r.time && r.time <= after));
    }

    #[tokio::test]
    async fn the_last_record_waits_until_the_file_stops_growing() {
        let fx = Fixture::new();
        let src = fx.source();
        fx.write(
            "app.log",
            "2026-11-25 10:00:00 INFO a\n2026-11-25 10:00:01 ERROR b\nTraceback (most recent call last):\n",
        );
        assert_eq!(
            messages(&run(&src, fx.window()).await),
            ["2026-11-25 10:00:00 INFO a"]
        );
        // The traceback goes on: still growing, still held back.
        fx.append("app.log", "  File \"a.py\", line 1, in f\n");
        assert!(run(&src, fx.window()).await.is_empty());
        fx.append("app.log", "KeyError: 'x'\n");
        assert!(run(&src, fx.window()).await.is_empty());
        // Stable since the previous fetch: now it is complete.
        assert_eq!(
            messages(&run(&src, fx.window()).await),
            ["2026-11-25 10:00:01 ERROR b\nTraceback (most recent call last):\n  File \"a.py\", line 1, in f\nKeyError: 'x'"]
        );
        assert!(run(&src, fx.window()).await.is_empty());
    }

    #[tokio::test]
    async fn appended_lines_come_next_and_nothing_is_read_twice() {
        let fx = Fixture::new();
        let src = fx.source();
        fx.write("a.log", "one\ntwo\n");
        assert_eq!(messages(&drain(&fx, &src).await), ["one", "two"]);
        fx.append("a.log", "three\nfour\n");
        fx.write("b.log", "other\n");
        let records = drain(&fx, &src).await;
        let mut got = messages(&records);
        got.sort();
        assert_eq!(got, ["four", "other", "three"]);
        assert!(drain(&fx, &src).await.is_empty());
    }

    #[tokio::test]
    async fn a_retried_window_returns_the_same_records_despite_new_bytes() {
        let fx = Fixture::new();
        let src = fx.source();
        fx.write("plain.log", "one\ntwo\nthree\n");
        let groups = src.discover(&all_groups()).await.unwrap();
        let w = fx.window();
        let first = src.fetch(&groups, &w).await.unwrap();
        assert_eq!(messages(&first), ["one", "two"]);
        // Publishing failed; meanwhile more was written and time went by.
        fx.append("plain.log", "four\n");
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(src.fetch(&groups, &w).await.unwrap(), first);
        assert_eq!(src.fetch(&groups, &w).await.unwrap(), first);
        // A new process retrying the same pending window gets them too.
        assert_eq!(fx.source().fetch(&groups, &w).await.unwrap(), first);
        src.commit(&w).await.unwrap();
        assert_eq!(messages(&drain(&fx, &src).await), ["three", "four"]);
    }

    #[tokio::test]
    async fn an_abandoned_window_is_read_again_by_the_next_one() {
        let fx = Fixture::new();
        let src = fx.source();
        fx.write("plain.log", "one\ntwo\n");
        let groups = src.discover(&all_groups()).await.unwrap();
        assert_eq!(
            messages(&src.fetch(&groups, &fx.window()).await.unwrap()),
            ["one"]
        );
        // Never committed: the next window starts from the committed offset.
        assert_eq!(messages(&run(&src, fx.window()).await), ["one", "two"]);
    }

    #[tokio::test]
    async fn a_restart_neither_rereads_nor_skips() {
        let fx = Fixture::new();
        fx.write("a.log", "one\ntwo\n");
        assert_eq!(messages(&drain(&fx, &fx.source()).await), ["one", "two"]);
        fx.append("a.log", "three\nfour\nfive\n");
        // Stopped after a fetch that was never committed.
        let src = fx.source();
        let groups = src.discover(&all_groups()).await.unwrap();
        assert_eq!(
            messages(&src.fetch(&groups, &fx.window()).await.unwrap()),
            ["three", "four"]
        );
        drop(src);
        let restarted = fx.source();
        assert_eq!(
            messages(&drain(&fx, &restarted).await),
            ["three", "four", "five"]
        );
        assert!(drain(&fx, &fx.source()).await.is_empty());
    }

    #[tokio::test]
    async fn a_truncated_file_is_read_from_the_start() {
        let fx = Fixture::new();
        let src = fx.source();
        fx.write("a.log", "first long line\nsecond long line\n");
        assert_eq!(drain(&fx, &src).await.len(), 2);
        fx.write("a.log", "new\n");
        assert_eq!(messages(&drain(&fx, &src).await), ["new"]);
    }

    #[tokio::test]
    async fn a_file_rotated_by_rename_is_not_read_again() {
        let fx = Fixture::new();
        let src = fx.source();
        fx.write("app.log", "one\ntwo\n");
        assert_eq!(messages(&drain(&fx, &src).await), ["one", "two"]);
        // A line lands just before rotation, then a new file takes the name.
        fx.append("app.log", "three\n");
        fs::rename(fx.root.join("app.log"), fx.root.join("app.log.1")).unwrap();
        fx.write("app.log", "four\n");
        let records = drain(&fx, &src).await;
        let mut got: Vec<(&str, &str)> = records
            .iter()
            .map(|r| (r.log_group.as_str(), r.message.as_str()))
            .collect();
        got.sort();
        assert_eq!(got, [("app.log", "four"), ("app.log.1", "three")]);
        // The rotated file is deleted: its state is forgotten.
        fs::remove_file(fx.root.join("app.log.1")).unwrap();
        assert!(drain(&fx, &src).await.is_empty());
        let saved = fs::read_to_string(&fx.state).unwrap();
        assert!(!saved.contains("app.log.1"), "{saved}");
    }

    #[tokio::test]
    async fn discovery_walks_folders_and_applies_prefixes() {
        let fx = Fixture::new();
        for name in [
            "orders-api/app.log",
            "orders-api/nested/deep.log",
            "payments/worker.jsonl",
            "top.log",
            ".hidden/x.log",
            "orders-api/.app.log.swp",
        ] {
            fx.write(name, "x\n");
        }
        std::os::unix::fs::symlink(fx.root.join("orders-api"), fx.root.join("linked-dir")).unwrap();
        std::os::unix::fs::symlink(fx.root.join("top.log"), fx.root.join("linked.log")).unwrap();
        let src = fx.source();
        assert_eq!(
            src.discover(&all_groups()).await.unwrap(),
            [
                "linked.log",
                "orders-api/app.log",
                "orders-api/nested/deep.log",
                "payments/worker.jsonl",
                "top.log",
            ]
        );
        let config = AgentConfig {
            log_group_prefixes: vec!["orders-api/".into()],
            log_groups: vec!["top.log".into()],
            ..AgentConfig::default()
        };
        assert_eq!(
            src.discover(&config).await.unwrap(),
            [
                "orders-api/app.log",
                "orders-api/nested/deep.log",
                "top.log"
            ]
        );
        let missing = FileLogSource::open(fx.root.join("nope"), &fx.state).unwrap();
        assert!(missing
            .discover(&all_groups())
            .await
            .unwrap_err()
            .is_retryable());
    }

    #[tokio::test]
    async fn the_state_file_under_the_root_is_not_a_log_group() {
        let fx = Fixture::new();
        fx.write("a.log", "x\n");
        let src = FileLogSource::open(&fx.root, fx.root.join("state.json")).unwrap();
        run(&src, fx.window()).await;
        assert!(fx.root.join("state.json").exists());
        assert_eq!(src.discover(&all_groups()).await.unwrap(), ["a.log"]);
    }

    #[tokio::test]
    async fn large_files_are_read_in_bounded_steps_without_loss() {
        let fx = Fixture::new();
        let lines: Vec<String> = (0..50).map(|i| format!("line {i:02}")).collect();
        fx.write("big.log", &(lines.join("\n") + "\n"));
        let src = fx.source().with_read_limit(40);
        let mut got = Vec::new();
        for _ in 0..100 {
            let records = run(&src, fx.window()).await;
            assert!(records.len() <= 5);
            got.extend(records.into_iter().map(|r| r.message));
        }
        assert_eq!(got, lines);
        // A record longer than the limit is cut rather than stalling the file.
        fx.append("big.log", &format!("{}\nend\n", "y".repeat(100)));
        let mut rest = String::new();
        for _ in 0..10 {
            for r in run(&src, fx.window()).await {
                rest.push_str(&r.message);
            }
        }
        assert_eq!(rest, format!("{}end", "y".repeat(100)));
    }

    #[tokio::test]
    async fn invalid_utf8_is_read_lossily_and_json_records_keep_their_time() {
        let fx = Fixture::new();
        fs::write(fx.root.join("bin.log"), b"bad \xff byte\nok\n").unwrap();
        fx.write(
            "w.jsonl",
            "{\"time\":\"2026-11-24T23:59:58.5Z\",\"level\":\"error\",\"msg\":\"x\"}\n{}\n",
        );
        let records = drain(&fx, &fx.source()).await;
        let of = |group: &str| -> Vec<&LogRecord> {
            records.iter().filter(|r| r.log_group == group).collect()
        };
        let bin: Vec<&str> = of("bin.log").iter().map(|r| r.message.as_str()).collect();
        assert_eq!(bin, ["bad \u{fffd} byte", "ok"]);
        let json = of("w.jsonl");
        assert_eq!(json.len(), 2);
        assert_eq!(json[0].time, t("2026-11-24T23:59:58.5Z"));
    }

    #[tokio::test]
    async fn lambda_platform_lines_are_records_of_their_own() {
        let fx = Fixture::new();
        fx.write(
            "fn.log",
            "2026-11-25T10:00:00.000Z\tabc\tERROR\tInvoke Error \t{}\n\
             END RequestId: abc\n\
             REPORT RequestId: abc\tDuration: 6000.00 ms\n\
             2026-11-25T10:00:06.020Z abc Task timed out after 6.01 seconds\n",
        );
        let records = drain(&fx, &fx.source()).await;
        assert_eq!(records.len(), 4);
    }

    #[test]
    fn corrupt_state_is_a_permanent_error_naming_the_file() {
        let fx = Fixture::new();
        fs::create_dir_all(fx.state.parent().unwrap()).unwrap();
        fs::write(&fx.state, "{not json").unwrap();
        let err = FileLogSource::open(&fx.root, &fx.state).unwrap_err();
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("files-state.json"), "{err}");
    }
}
