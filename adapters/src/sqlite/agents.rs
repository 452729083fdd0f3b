//! Agents ([`AgentStore`], optimistic on their revision) and each agent's
//! own persistent state ([`AgentStateStore`]) in the same file.

use super::sql::{from_json, to_json, with_connection, ConnectionThread, SqlContext};
use super::SqliteStore;
use async_trait::async_trait;
use domain::model::{Agent, AgentId, Page};
use domain::ports::{AgentState, AgentStateStore, AgentStore, PortError};
use rusqlite::{params, OptionalExtension};
use std::sync::Arc;

impl SqliteStore {
    /// The persistent state of one agent, in the same file.
    pub fn agent_state(&self, agent_id: &AgentId) -> SqliteAgentState {
        SqliteAgentState {
            conn: Arc::clone(&self.conn),
            agent_id: agent_id.to_string(),
        }
    }
}

#[async_trait]
impl AgentStore for SqliteStore {
    async fn get(&self, id: &AgentId) -> Result<Option<Agent>, PortError> {
        let id = id.to_string();
        with_connection(&self.conn, move |conn| {
            let body: Option<String> = conn
                .prepare_cached("SELECT body FROM agents WHERE id = ?1")
                .and_then(|mut stmt| stmt.query_row(params![id], |row| row.get(0)).optional())
                .context(|| format!("reading agent {id}"))?;
            body.map(|b| from_json(&b, &format!("agent {id}")))
                .transpose()
        })
        .await
    }

    /// Ordered by the id's text; a `limit` of 0 is treated as 1.
    async fn list(
        &self,
        after: Option<AgentId>,
        limit: usize,
    ) -> Result<Page<Agent, AgentId>, PortError> {
        // The empty string sorts before every id.
        let after = after.map(|a| a.to_string()).unwrap_or_default();
        let fetch = i64::try_from(Page::<Agent, AgentId>::fetch_size(limit)).unwrap_or(i64::MAX);
        with_connection(&self.conn, move |conn| {
            let bodies: Vec<String> = conn
                .prepare_cached("SELECT body FROM agents WHERE id > ?1 ORDER BY id LIMIT ?2")
                .and_then(|mut stmt| {
                    stmt.query_map(params![after, fetch], |row| row.get(0))?
                        .collect()
                })
                .context(|| "listing agents".into())?;
            let items = bodies
                .iter()
                .map(|b| from_json::<Agent>(b, "agent"))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetch(items, limit, |a| a.id.clone()))
        })
        .await
    }

    async fn put(&self, agent: &Agent) -> Result<(), PortError> {
        let id = agent.id.to_string();
        let expected = i64::try_from(agent.revision)
            .map_err(|_| PortError::Permanent("agent revision overflow".into()))?;
        let body = to_json(
            &Agent {
                revision: agent.revision + 1,
                ..agent.clone()
            },
            &format!("agent {id}"),
        )?;
        with_connection(&self.conn, move |conn| {
            // One statement: insert when new (expected 0), else update only at the expected revision.
            let changed = conn
                .prepare_cached(
                    "INSERT INTO agents (id, revision, body) SELECT ?1, 1, ?3 WHERE ?2 = 0
                     ON CONFLICT (id) DO NOTHING",
                )
                .and_then(|mut stmt| stmt.execute(params![id, expected, body]))
                .and_then(|n| {
                    if n > 0 || expected == 0 {
                        return Ok(n);
                    }
                    conn.prepare_cached(
                        "UPDATE agents SET revision = revision + 1, body = ?3 WHERE id = ?1 AND revision = ?2",
                    )
                    .and_then(|mut stmt| stmt.execute(params![id, expected, body]))
                })
                .context(|| format!("writing agent {id}"))?;
            if changed == 0 {
                return Err(PortError::Conflict(format!("agent {id} changed since revision {expected}")));
            }
            Ok(())
        })
        .await
    }
}

/// One agent's persistent state, a row of the store's file. Cloning shares the connection.
#[derive(Clone)]
pub struct SqliteAgentState {
    conn: Arc<ConnectionThread>,
    agent_id: String,
}

#[async_trait]
impl AgentStateStore for SqliteAgentState {
    /// The default state until one is saved.
    async fn load(&self) -> Result<AgentState, PortError> {
        let agent_id = self.agent_id.clone();
        with_connection(&self.conn, move |conn| {
            let body: Option<String> = conn
                .prepare_cached("SELECT body FROM agent_states WHERE agent_id = ?1")
                .and_then(|mut stmt| {
                    stmt.query_row(params![agent_id], |row| row.get(0))
                        .optional()
                })
                .context(|| format!("reading the state of agent {agent_id}"))?;
            match body {
                Some(b) => from_json(&b, &format!("state of agent {agent_id}")),
                None => Ok(AgentState::default()),
            }
        })
        .await
    }

    async fn save(&self, state: &AgentState) -> Result<(), PortError> {
        let agent_id = self.agent_id.clone();
        let body = to_json(state, &format!("state of agent {agent_id}"))?;
        with_connection(&self.conn, move |conn| {
            conn.prepare_cached(
                "INSERT INTO agent_states (agent_id, body) VALUES (?1, ?2)
                 ON CONFLICT (agent_id) DO UPDATE SET body = excluded.body",
            )
            .and_then(|mut stmt| stmt.execute(params![agent_id, body]))
            .context(|| format!("writing the state of agent {agent_id}"))?;
            Ok(())
        })
        .await
    }
}
