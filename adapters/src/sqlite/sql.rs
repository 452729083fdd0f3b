//! What every part of the store shares: SQLite errors as port errors, JSON
//! bodies, write transactions, and running the blocking calls off the async
//! workers.

use domain::ports::PortError;
use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};
use std::sync::mpsc;
use std::{panic, thread};
use tokio::sync::oneshot;

/// Busy and locked databases are worth retrying; anything else is not.
fn port_error(what: String, e: rusqlite::Error) -> PortError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            PortError::Transient(format!("sqlite: {what}: database busy: {e}"))
        }
        _ => PortError::Permanent(format!("sqlite: {what}: {e}")),
    }
}

/// Names what failed when a SQLite call fails.
pub(super) trait SqlContext<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, PortError>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, PortError> {
        self.map_err(|e| port_error(what(), e))
    }
}

pub(super) fn to_sql_count(count: u64, what: &str) -> Result<i64, PortError> {
    i64::try_from(count)
        .map_err(|_| PortError::Permanent(format!("sqlite: {what}: count {count} is too large")))
}

/// A stored counter back as a count; `what` names the read for the error.
pub(super) fn from_sql_count(count: i64, what: &str) -> Result<u64, PortError> {
    u64::try_from(count)
        .map_err(|_| PortError::Permanent(format!("sqlite: {what}: negative counter {count}")))
}

pub(super) fn to_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, PortError> {
    serde_json::to_string(value)
        .map_err(|e| PortError::Permanent(format!("sqlite: encoding {what}: {e}")))
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(
    body: &str,
    what: &str,
) -> Result<T, PortError> {
    serde_json::from_str(body)
        .map_err(|e| PortError::Permanent(format!("sqlite: stored {what} does not parse: {e}")))
}

/// The connection's own thread: every call on the store runs there, one at a
/// time, in the order sent.
///
/// Why not a mutex and tokio's blocking pool: under concurrent requests each
/// call woke a pool thread that then queued on the mutex, and on a 2-core
/// host those extra runnable threads turned a 0.5 ms read into a 20 ms p99
/// (the scheduler's slice). Calls on one connection are serial anyway; one
/// thread makes that explicit and keeps a single SQLite thread runnable.
pub(super) struct ConnectionThread {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<thread::JoinHandle<()>>,
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

impl ConnectionThread {
    pub(super) fn spawn(mut conn: Connection, shown: &str) -> Result<Self, PortError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = thread::Builder::new()
            .name("sqlite".into())
            .spawn(move || {
                for job in queue {
                    job(&mut conn);
                }
            })
            .map_err(|e| {
                PortError::Permanent(format!("sqlite: starting the thread of {shown}: {e}"))
            })?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }
}

impl Drop for ConnectionThread {
    /// Closes the connection before the store is gone, so that whoever opens
    /// the file next finds it closed (and its WAL checkpointed).
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            if t.thread().id() != thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

/// Runs a SQLite call on the connection's thread and waits for its answer
/// without blocking the caller's executor (any executor: a oneshot channel).
pub(super) async fn with_connection<T, E, F>(conn: &ConnectionThread, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<PortError> + Send + 'static,
{
    let (answer, answered) = oneshot::channel();
    let job: Job = Box::new(move |c| {
        // A panic mid-call dropped its transaction, which rolled it back: the
        // connection is still consistent and the thread goes on serving.
        // (Where panics unwind: the release profile aborts on them.)
        let result = panic::catch_unwind(panic::AssertUnwindSafe(|| f(c)));
        let _ = answer.send(result.ok());
    });
    let stopped = || {
        E::from(PortError::Permanent(
            "sqlite: the connection's thread has stopped".into(),
        ))
    };
    conn.jobs
        .as_ref()
        .ok_or_else(stopped)?
        .send(job)
        .map_err(|_| stopped())?;
    match answered.await {
        Ok(Some(result)) => result,
        Ok(None) => Err(E::from(PortError::Permanent(
            "sqlite: the call panicked".into(),
        ))),
        Err(_) => Err(stopped()),
    }
}

pub(super) fn begin_immediate<'c>(
    conn: &'c mut Connection,
    what: &str,
) -> Result<Transaction<'c>, PortError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .context(|| format!("{what}: starting a write transaction"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(conn: &Connection) -> Result<i64, PortError> {
        conn.query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))
            .context(|| "counting".into())
    }

    #[tokio::test]
    async fn a_panicking_call_fails_alone_its_transaction_rolled_back() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let thread = ConnectionThread::spawn(conn, ":memory:").unwrap();
        let panicked: Result<(), PortError> = with_connection(&thread, |c| {
            let tx = begin_immediate(c, "inserting")?;
            tx.execute("INSERT INTO t VALUES (1)", []).unwrap();
            panic!("a bug mid-transaction");
        })
        .await;
        assert!(
            matches!(&panicked, Err(PortError::Permanent(m)) if m.contains("panicked")),
            "{panicked:?}"
        );
        // The same connection serves the next call, without the row.
        assert_eq!(with_connection(&thread, |c| count(c)).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn dropping_the_store_closes_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("closed.db");
        let store = crate::sqlite::SqliteStore::open(&path).unwrap();
        with_connection(&store.conn, |c| {
            c.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
                .context(|| "writing".into())
        })
        .await
        .unwrap();
        assert!(dir.path().join("closed.db-wal").exists());
        drop(store);
        // The last connection's close checkpoints and removes the WAL, before
        // `drop` returns: the next opener finds the file closed.
        assert!(!dir.path().join("closed.db-wal").exists());
    }
}
