//! The local store: events, occurrence dedup, per-day counters, agents and
//! agent state in one SQLite file.
//!
//! The file is shared: `monitoring local` serves from it while
//! `monitoring ingest` writes to it from another process. So nothing is cached
//! in memory but the ids of recent occurrences, which each write first
//! catches up on from the file under the write lock (see [`dedup`]); every
//! other call reads the file. The journal is WAL (readers do not
//! block the writer), writers wait up to 5 s for each other, and every write
//! is one `BEGIN IMMEDIATE` transaction (it takes the write lock up front, so
//! a read-modify-write cannot be overtaken by the other process).
//!
//! An event is stored as its full JSON (the source of truth) beside copies of
//! the fields that `list` filters and sorts on and that the daily report
//! reads (`day_activity`, from a covering index); the report's summary of
//! each day is kept as occurrences are recorded (`day_summary`). `last_seen`
//! is fixed-width RFC 3339 text with nanoseconds, so text order is time order
//! and keyset pagination compares exactly as the memory store does.
//!
//! SQLite calls block, so each one runs on the connection's own thread, not
//! on the async workers (see [`sql::ConnectionThread`]). A file's WAL is
//! checkpointed by another thread, so writes never wait for an fsync (see
//! [`checkpoint`]).
//!
//! One concern a module: `schema` (tables, version, connection settings),
//! `checkpoint` (the WAL's checkpoints), `dedup` (occurrence ids seen),
//! `sql` (errors, JSON bodies, transactions, the connection's thread), `events`
//! (`EventStore` and the day counters), `day_summary` (the summary kept on
//! write), `agents` (`AgentStore`, [`SqliteAgentState`]) and `alerts` (the
//! outbox and deliveries).

mod agents;
mod alerts;
mod checkpoint;
mod day_summary;
mod dedup;
mod events;
mod schema;
mod sql;

pub use agents::SqliteAgentState;

use checkpoint::Checkpointer;
use dedup::RecentIds;
use domain::ports::PortError;
use rusqlite::Connection;
use sql::{ConnectionThread, SqlContext};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The store of the local mode, over one SQLite file. Cloning shares the connection.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<ConnectionThread>,
    /// The connection's copy of the recent occurrence ids (used on its thread).
    recent: Arc<Mutex<RecentIds>>,
    /// Held for its thread: a file's checkpoints (an in-memory database has
    /// no WAL). Declared after `conn`, so it is dropped after it: the last
    /// connection to close checkpoints what is left and removes the WAL.
    _checkpointer: Option<Arc<Checkpointer>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and its schema.
    pub fn open(path: &Path) -> Result<Self, PortError> {
        let shown = path.display().to_string();
        let conn = Connection::open(path).context(|| format!("opening {shown}"))?;
        schema::configure(&conn, &shown)?;
        conn.pragma_update(
            None,
            "wal_autocheckpoint",
            checkpoint::WRITER_CHECKPOINT_PAGES,
        )
        .context(|| format!("setting the WAL checkpoint bound of {shown}"))?;
        let store = Self::with_schema(conn, &shown)?;
        Ok(Self {
            _checkpointer: Some(Arc::new(Checkpointer::spawn(path, &shown)?)),
            ..store
        })
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Self, PortError> {
        let conn =
            Connection::open_in_memory().context(|| "opening an in-memory database".into())?;
        Self::with_schema(conn, ":memory:")
    }

    fn with_schema(mut conn: Connection, shown: &str) -> Result<Self, PortError> {
        schema::create(&mut conn, shown)?;
        Ok(Self {
            conn: Arc::new(ConnectionThread::spawn(conn, shown)?),
            recent: Arc::default(),
            _checkpointer: None,
        })
    }
}
