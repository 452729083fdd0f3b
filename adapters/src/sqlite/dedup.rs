//! Occurrence dedup: has this occurrence id been recorded before?
//!
//! An id is a hash, so a B-tree keyed by it takes each new id on a page of
//! its own: with that as the only record of ids, a batch of 500 dirtied
//! about 500 pages of it, half the time of an ingest. So ids live in two
//! places, and an id is in exactly one of them at any time:
//! * `recent_occurrences`, appended in order (`seq`, AUTOINCREMENT so it never
//!   goes back): a batch writes a few pages at its end. Each connection keeps
//!   the ids of this table in memory ([`RecentIds`]), read from the table
//!   under the write lock before each write, so another process's writes are
//!   never missed (and an id of a rolled-back write is never remembered);
//! * `occurrences`, keyed by id (the only table of versions before 5): once
//!   the recent ids pass [`SETTLE_AT`], they move there in one transaction,
//!   in id order, which dirties each page of it once for many ids.
//!
//! Memory is bounded by [`SETTLE_AT`] ids (16 bytes each, plus the set's
//! overhead), whatever the file holds. The write that reaches the bound pays
//! for the move, once per [`SETTLE_AT`] new occurrences.

use super::sql::{begin_immediate, SqlContext};
use domain::model::{Occurrence, OccurrenceId};
use domain::ports::PortError;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::collections::HashSet;

/// Recent ids kept before they move to `occurrences`: about 5 MB of memory
/// (16 bytes an id in a hash set), and one move (a sorted insert) per this
/// many new occurrences. Fewer means more frequent moves, each of which
/// dirties up to every page of `occurrences` once.
pub(super) const SETTLE_AT: usize = 200_000;

/// The ids of `recent_occurrences` this connection has read, up to `tail`;
/// moved to `occurrences` once there are `settle_at` of them.
pub(super) struct RecentIds {
    ids: HashSet<u128>,
    tail: i64,
    settle_at: usize,
}

impl Default for RecentIds {
    fn default() -> Self {
        Self {
            ids: HashSet::new(),
            tail: 0,
            settle_at: SETTLE_AT,
        }
    }
}

/// An occurrence id as a number: ids are 32 hex digits (`OccurrenceId`);
/// anything else (a file written by hand) is hashed to the same width.
fn key(id: &str) -> u128 {
    u128::from_str_radix(id, 16).unwrap_or_else(|_| xxhash_rust::xxh3::xxh3_128(id.as_bytes()))
}

impl RecentIds {
    /// Reads the ids appended since the last call (by any connection). Call
    /// it inside the write transaction, before [`RecentIds::remember`].
    pub(super) fn catch_up(&mut self, tx: &Transaction<'_>) -> Result<(), PortError> {
        let mut stmt = tx
            .prepare_cached("SELECT seq, id FROM recent_occurrences WHERE seq > ?1 ORDER BY seq")
            .context(|| "reading the recent occurrence ids".into())?;
        let mut rows = stmt
            .query(params![self.tail])
            .context(|| "reading the recent occurrence ids".into())?;
        while let Some(row) = rows
            .next()
            .context(|| "reading the recent occurrence ids".into())?
        {
            let seq: i64 = row.get(0).context(|| "reading a recent seq".into())?;
            let id: String = row.get(1).context(|| "reading a recent id".into())?;
            self.ids.insert(key(&id));
            self.tail = self.tail.max(seq);
        }
        Ok(())
    }

    /// Appends `o`'s id unless it was recorded before (here, in this
    /// transaction's `pending`, or settled): answers whether it is new.
    pub(super) fn remember(
        &self,
        tx: &Transaction<'_>,
        pending: &mut HashSet<u128>,
        o: &Occurrence,
        recorded_at: &str,
    ) -> Result<bool, PortError> {
        let k = key(o.id.as_str());
        if self.ids.contains(&k) || pending.contains(&k) || settled(tx, &o.id)? {
            return Ok(false);
        }
        tx.prepare_cached(
            "INSERT INTO recent_occurrences (id, event_id, recorded_at) VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut stmt| stmt.execute(params![o.id.as_str(), o.event_id.as_str(), recorded_at]))
        .context(|| format!("remembering occurrence {}", o.id))?;
        pending.insert(k);
        Ok(true)
    }

    /// Moves the recent ids to `occurrences` once there are `settle_at` of
    /// them, in a transaction of its own; the set is emptied only once
    /// the move is committed.
    pub(super) fn settle_if_due(&mut self, conn: &mut Connection) -> Result<(), PortError> {
        if self.ids.len() < self.settle_at {
            return Ok(());
        }
        let tx = begin_immediate(conn, "settling the recent occurrence ids")?;
        self.catch_up(&tx)?;
        for sql in [
            "INSERT INTO occurrences (id, event_id, recorded_at)
                 SELECT id, event_id, recorded_at FROM recent_occurrences
                 WHERE seq <= ?1 ORDER BY id
                 ON CONFLICT (id) DO NOTHING",
            "DELETE FROM recent_occurrences WHERE seq <= ?1",
        ] {
            tx.execute(sql, params![self.tail])
                .context(|| "settling the recent occurrence ids".into())?;
        }
        tx.commit()
            .context(|| "settling the recent occurrence ids: committing".into())?;
        self.ids.clear();
        Ok(())
    }
}

/// Whether `id` was moved to `occurrences` (or recorded by a version < 5).
fn settled(tx: &Transaction<'_>, id: &OccurrenceId) -> Result<bool, PortError> {
    tx.prepare_cached("SELECT 1 FROM occurrences WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row(params![id.as_str()], |_| Ok(())).optional())
        .map(|found| found.is_some())
        .context(|| format!("looking up occurrence {id}"))
}

#[cfg(test)]
mod tests {
    use super::super::sql::with_connection;
    use super::super::SqliteStore;
    use crate::conformance::OccurrenceSpec;
    use chrono::{DateTime, Utc};
    use domain::ports::{EventStore, PortError, Recorded};

    fn count(path: &std::path::Path, table: &str) -> i64 {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    /// Two connections on one file (as `monitoring local` and `monitoring
    /// ingest`): ids one appends, the other knows; once the first has three,
    /// they move to `occurrences` in one step, and both connections, and a
    /// third opened afterwards, still take them for duplicates.
    #[tokio::test]
    async fn recent_ids_move_to_the_settled_table_and_stay_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dedup.db");
        let (a, b) = (
            SqliteStore::open(&path).unwrap(),
            SqliteStore::open(&path).unwrap(),
        );
        a.recent.lock().unwrap().settle_at = 3;
        let t: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let o: Vec<_> = (0..4)
            .map(|i| OccurrenceSpec::log("boom", &format!("w{i}"), t).build())
            .collect();

        assert!(matches!(
            a.record(&o[0], t).await.unwrap(),
            Recorded::Applied(_)
        ));
        assert_eq!(b.record(&o[0], t).await.unwrap(), Recorded::Duplicate);
        b.record_batch(&o[1..3], t).await.unwrap();
        assert_eq!(
            (
                count(&path, "recent_occurrences"),
                count(&path, "occurrences")
            ),
            (3, 0)
        );
        // a's next write catches up on b's two, reaches three and settles them.
        let answers = a.record_batch(&o[..4], t).await.unwrap();
        let duplicate = || Recorded::Duplicate;
        assert_eq!(answers[..3], [duplicate(), duplicate(), duplicate()]);
        assert!(matches!(answers[3], Recorded::Applied(_)));
        assert_eq!(
            (
                count(&path, "recent_occurrences"),
                count(&path, "occurrences")
            ),
            (0, 4)
        );
        assert!(
            a.recent.lock().unwrap().ids.is_empty(),
            "moved, so forgotten"
        );

        let c = SqliteStore::open(&path).unwrap();
        for store in [&a, &b, &c] {
            for x in &o {
                assert_eq!(store.record(x, t).await.unwrap(), Recorded::Duplicate);
            }
        }
        let event = c.get(&o[0].event_id).await.unwrap().unwrap();
        assert_eq!(event.count, 4, "each occurrence counted once");
    }

    /// A batch that fails after appending an id rolls it back, and no
    /// connection remembers it: delivered again, both occurrences are new.
    #[tokio::test]
    async fn ids_of_a_rolled_back_write_are_not_remembered() {
        let store = SqliteStore::open_in_memory().unwrap();
        let t: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let first = OccurrenceSpec::log("boom", "w1", t).build();
        let second = OccurrenceSpec::log("boom", "w2", t).build();
        let sql = |text: &'static str| {
            with_connection(&store.conn, move |c| {
                c.execute_batch(text)
                    .map_err(|e| PortError::Permanent(e.to_string()))
            })
        };
        // The second id of the batch is refused, after the first was appended.
        sql("CREATE TRIGGER refuse BEFORE INSERT ON recent_occurrences
             WHEN (SELECT count(*) FROM recent_occurrences) >= 1
             BEGIN SELECT RAISE(ABORT, 'refused'); END;")
        .await
        .unwrap();
        let failed = store
            .record_batch(&[first.clone(), second.clone()], t)
            .await;
        assert!(failed.is_err(), "{failed:?}");
        sql("DROP TRIGGER refuse").await.unwrap();

        for o in [&first, &second] {
            assert!(matches!(
                store.record(o, t).await.unwrap(),
                Recorded::Applied(_)
            ));
        }
    }
}
