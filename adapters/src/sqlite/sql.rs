//! What every part of the store shares: SQLite errors as port errors, JSON
//! bodies, write transactions, and running the blocking calls off the async
//! workers.

use domain::ports::PortError;
use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};
use std::sync::{Arc, Mutex};

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

/// Runs a blocking SQLite call on tokio's blocking pool (inline when there is
/// no tokio runtime), holding the connection's lock for its duration.
pub(super) async fn with_connection<T, E, F>(conn: &Arc<Mutex<Connection>>, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<PortError> + Send + 'static,
{
    let conn = Arc::clone(conn);
    let call = move || {
        // A panic mid-call dropped its transaction, which rolled it back:
        // the connection is still consistent.
        let mut guard = crate::sync::lock(&conn);
        f(&mut guard)
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return call();
    }
    tokio::task::spawn_blocking(call).await.map_err(|e| {
        E::from(PortError::Permanent(format!(
            "sqlite: blocking task failed: {e}"
        )))
    })?
}

pub(super) fn begin_immediate<'c>(
    conn: &'c mut Connection,
    what: &str,
) -> Result<Transaction<'c>, PortError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .context(|| format!("{what}: starting a write transaction"))
}
