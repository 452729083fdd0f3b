//! Change notices for the log folder (`monitoring local --follow`), from the
//! `notify` crate (inotify on Linux, FSEvents on macOS): the follow loop
//! looks at the files when something under the folder changed instead of
//! on every tick. A notice only says "look now"; what changed is still read
//! from the files, so a lost or merged notice costs latency, never a record.

use domain::ports::PortError;
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::path::Path;
use tokio::sync::mpsc;

/// Watches a folder while it lives; [`FolderWatch::changed`] waits for the
/// next notice.
pub struct FolderWatch {
    // Dropping the watcher stops the notices.
    _watcher: RecommendedWatcher,
    notices: mpsc::Receiver<()>,
}

impl FolderWatch {
    /// Starts watching `root` and everything under it. Fails (so the caller
    /// can fall back to polling) where the platform gives no notices, e.g.
    /// when the inotify watch limit is reached.
    pub fn start(root: &Path) -> Result<Self, PortError> {
        // One pending notice is enough: the loop reads every file anyway.
        let (tx, notices) = mpsc::channel(1);
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let wanted = match &event {
                    Ok(e) => !e.kind.is_access(),
                    // An error (a queue overflow) may hide a change: look.
                    Err(_) => true,
                };
                if wanted {
                    let _ = tx.try_send(());
                }
            })
            .map_err(|e| PortError::Permanent(format!("watching {}: {e}", root.display())))?;
        watcher
            .watch(root, RecursiveMode::Recursive)
            .map_err(|e| PortError::Permanent(format!("watching {}: {e}", root.display())))?;
        Ok(Self {
            _watcher: watcher,
            notices,
        })
    }

    /// The next change notice (any number of changes since the last call).
    pub async fn changed(&mut self) {
        // The sender lives as long as the watcher, which `self` holds.
        let _ = self.notices.recv().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn an_append_in_a_subfolder_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        let file = dir.path().join("app/errors.log");
        std::fs::write(&file, "first\n").unwrap();
        let mut watch = FolderWatch::start(dir.path()).unwrap();
        // Nothing changed yet: no notice.
        let quiet = tokio::time::timeout(Duration::from_millis(300), watch.changed()).await;
        assert!(quiet.is_err(), "a notice without a change");
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap();
        writeln!(f, "ERROR second").unwrap();
        tokio::time::timeout(Duration::from_secs(5), watch.changed())
            .await
            .expect("the append is noticed");
    }
}
