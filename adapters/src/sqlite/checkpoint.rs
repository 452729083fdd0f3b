//! Checkpoints the WAL from a thread and a connection of its own, so that a
//! write never waits for one.
//!
//! SQLite checkpoints in the commit that takes the WAL past its threshold:
//! that commit copies the WAL's pages into the file and fsyncs both. An
//! occurrence dirties about one page (occurrence ids are hashes, so each
//! lands on its own page of the dedup table), so with the default threshold
//! of 1,000 pages every other batch of 500 paid for a checkpoint; on a disk
//! with slow fsyncs that was 40% of ingest (batches of 500: 9.0k events/s,
//! 14.4k with the checkpoints here). The writer keeps a checkpoint of its
//! own at [`WRITER_CHECKPOINT_PAGES`]: a bound on the WAL should this thread
//! ever fall behind.

use super::schema;
use super::sql::SqlContext;
use domain::ports::PortError;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

/// How often the thread checkpoints what was committed since. A checkpoint
/// of a WAL with nothing new touches no file.
const EVERY: Duration = Duration::from_millis(200);

/// The WAL size (pages of 4 KiB) at which a writer checkpoints itself.
pub(super) const WRITER_CHECKPOINT_PAGES: i64 = 10_000;

/// The checkpointing thread; dropping it stops the thread and closes its
/// connection before `drop` returns.
pub(super) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Checkpointer {
    pub(super) fn spawn(path: &Path, shown: &str) -> Result<Self, PortError> {
        let conn = Connection::open(path).context(|| format!("opening {shown} to checkpoint"))?;
        // `synchronous` is per connection and says what a checkpoint syncs.
        schema::configure(&conn, shown)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let path_shown = shown.to_owned();
        let thread = thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    checkpoint(&conn, &path_shown);
                }
            })
            .map_err(|e| {
                PortError::Permanent(format!("sqlite: starting the checkpoints of {shown}: {e}"))
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// A passive checkpoint: copies what no reader still needs and never waits
/// for a lock. A failure is logged; the next round, or the writer's own
/// checkpoint, does the work.
fn checkpoint(conn: &Connection, shown: &str) {
    let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        row.get::<_, i64>(0)
    });
    if let Err(e) = result {
        tracing::warn!(path = %shown, error = %e, "WAL checkpoint failed");
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::conformance::{at, OccurrenceSpec};
    use crate::sqlite::SqliteStore;
    use domain::ports::EventStore;
    use rusqlite::{Connection, OpenFlags};
    use std::time::{Duration, Instant};

    /// The events in the main file alone, WAL ignored: what checkpoints have
    /// copied into it (0 while not even the schema is there).
    fn events_in_file(path: &std::path::Path) -> i64 {
        let uri = format!("file:{}?immutable=1", path.display());
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(uri, flags).unwrap();
        conn.query_row("SELECT count(*) FROM events", [], |row| row.get(0))
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn committed_writes_reach_the_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpointed.db");
        let store = SqliteStore::open(&path).unwrap();
        let t = at("2026-11-25T10:00:00Z");
        let occurrence = OccurrenceSpec::log("checkout", "w1", t).build();
        store.record(&occurrence, t).await.unwrap();
        // A few pages: far below any writer checkpoint, so only the thread
        // can have copied them.
        assert!(dir.path().join("checkpointed.db-wal").exists());
        let deadline = Instant::now() + Duration::from_secs(10);
        while events_in_file(&path) == 0 {
            assert!(Instant::now() < deadline, "the WAL was never checkpointed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The store stays open and usable meanwhile.
        assert!(store.get(&occurrence.event_id).await.unwrap().is_some());
    }
}
