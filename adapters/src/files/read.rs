//! Reading new bytes from the committed offsets, and re-reading a pending read.

use super::discovery::is_relative_name;
use super::records::{decide_timestamped, split_records, RawRecord};
use super::state::{presence, FileState, PendingRange, PendingRead, Presence, SourceState};
use super::{transient, Inner};
use chrono::Utc;
use domain::ports::{LogRecord, PortError};
use domain::window::Window;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

impl Inner {
    /// Reads every group from its committed offset and records what was read
    /// as the pending read of `window`.
    pub(super) fn read_new(
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
            let mut file = where_to_read(&previous, &now, name, inode, size);
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
    pub(super) fn reread(
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
}

/// Where to read a present file from: its known state (under its name, or
/// the name it was rotated from), or the start if it was replaced or truncated.
fn where_to_read(
    previous: &BTreeMap<String, FileState>,
    now: &HashMap<&str, Presence>,
    name: &str,
    inode: u64,
    size: u64,
) -> FileState {
    let known = previous
        .get(name)
        .cloned()
        .or_else(|| renamed_from(previous, now, name, inode));
    match known {
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
    }
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
