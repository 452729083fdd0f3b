//! Discovery: every regular file under the root is a log group.

use super::{transient, Inner};
use domain::ports::PortError;
use std::fs;
use std::path::{Component, Path};

impl Inner {
    /// Every regular file under the root, as group names, sorted.
    pub(super) fn list_groups(&self) -> Result<Vec<String>, PortError> {
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
}

/// A group name that stays under the root: relative, without `..`.
pub(super) fn is_relative_name(name: &str) -> bool {
    !name.is_empty()
        && Path::new(name)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}
