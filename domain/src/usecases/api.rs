//! The REST API's use cases, independent of HTTP: typed values in, values
//! or one error type per operation out. Turning requests into these values
//! and errors into status codes is the inbound edge's job (`handlers::api`).

use crate::cursor::CursorCodec;
use crate::model::*;
pub use crate::ports::UpdateEventError;
use crate::ports::{modify_agent, AgentStore, Clock, ConfigPusher, EventStore, PortError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;
pub const MAX_NOTE: usize = 4096;
pub const MAX_ASSIGNEE: usize = 256;
pub const MAX_NAME: usize = 128;
/// The longest `source` a filter may name, in characters.
pub const MAX_SOURCE: usize = 256;

/// A value the API's rules refuse; the message says which rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

fn invalid(msg: impl Into<String>) -> InvalidInput {
    InvalidInput(msg.into())
}

/// A page size: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(usize);

impl Limit {
    pub fn new(n: usize) -> Result<Self, InvalidInput> {
        if (1..=MAX_LIMIT).contains(&n) {
            Ok(Self(n))
        } else {
            Err(invalid(format!("limit must be between 1 and {MAX_LIMIT}")))
        }
    }

    pub fn get(self) -> usize {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(DEFAULT_LIMIT)
    }
}

/// Where a page starts: `None` for the first page, else a cursor as the
/// previous page answered it (opaque; checked by the use case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Limit,
    pub cursor: Option<String>,
}

/// The rules of a filter beyond its values' types: a bounded source and
/// `from` not after `to`.
pub fn validate_filter(filter: &EventFilter) -> Result<(), InvalidInput> {
    if let Some(s) = &filter.source {
        if s.is_empty() || s.chars().count() > MAX_SOURCE {
            return Err(invalid(format!("source must be 1-{MAX_SOURCE} characters")));
        }
    }
    if let (Some(f), Some(t)) = (filter.from, filter.to) {
        if f > t {
            return Err(invalid("from is after to"));
        }
    }
    Ok(())
}

/// The bound of a note or assignee, in characters.
pub fn validate_text(name: &str, text: &str, max: usize) -> Result<(), InvalidInput> {
    if text.chars().count() > max {
        return Err(invalid(format!("{name} is longer than {max} characters")));
    }
    Ok(())
}

/// The rules of a triage change: something to change, and bounded texts.
pub fn validate_patch(patch: &EventPatch) -> Result<(), InvalidInput> {
    if let Some(Some(n)) = &patch.note {
        validate_text("note", n, MAX_NOTE)?;
    }
    if let Some(Some(a)) = &patch.assignee {
        validate_text("assignee", a, MAX_ASSIGNEE)?;
    }
    if patch.is_empty() {
        return Err(invalid("give at least one of status, note, assignee"));
    }
    Ok(())
}

/// A change to an agent: a new name and/or a partial config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentUpdate {
    pub name: Option<String>,
    pub config: Option<AgentConfigPatch>,
}

impl AgentUpdate {
    /// Something to change, and a name that is 1-[`MAX_NAME`] characters and not blank.
    pub fn new(
        name: Option<String>,
        config: Option<AgentConfigPatch>,
    ) -> Result<Self, InvalidInput> {
        if name.is_none() && config.is_none() {
            return Err(invalid("give name and/or config"));
        }
        if let Some(n) = &name {
            if n.trim().is_empty() || n.chars().count() > MAX_NAME {
                return Err(invalid(format!("name must be 1-{MAX_NAME} characters")));
            }
        }
        Ok(Self { name, config })
    }
}

/// A page of items as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Why a page of events or agents could not be listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    #[error("cursor is invalid or belongs to another query")]
    InvalidCursor,
    #[error(transparent)]
    Store(#[from] PortError),
}

/// Why `GET /events` failed.
pub type ListEventsError = ListError;
/// Why `GET /agents` failed.
pub type ListAgentsError = ListError;

/// Why one event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GetEventError {
    #[error("no event {:?}", .0.to_string())]
    NotFound(EventId),
    #[error(transparent)]
    Store(#[from] PortError),
}

/// Why one agent could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GetAgentError {
    #[error("no agent {:?}", .0.to_string())]
    NotFound(AgentId),
    #[error(transparent)]
    Store(#[from] PortError),
}

/// Why an agent could not be changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateAgentError {
    #[error("no agent {:?}", .0.to_string())]
    NotFound(AgentId),
    /// The patched config breaks a rule of [`AgentConfig::validate`].
    #[error(transparent)]
    InvalidConfig(InvalidValue),
    #[error(transparent)]
    Store(#[from] PortError),
}

/// The REST API over the stores.
#[derive(Clone)]
pub struct Api {
    pub events: Arc<dyn EventStore>,
    pub agents: Arc<dyn AgentStore>,
    pub pusher: Arc<dyn ConfigPusher>,
    pub clock: Arc<dyn Clock>,
    pub cursors: CursorCodec,
}

impl Api {
    pub async fn list_events(
        &self,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<ListResponse<Event>, ListEventsError> {
        let query = format!("events|{filter:?}");
        let after = page
            .cursor
            .as_ref()
            .map(|c| {
                self.cursors
                    .decode::<EventPageKey>(&query, c)
                    .map_err(|_| ListError::InvalidCursor)
            })
            .transpose()?;
        let page = self.events.list(filter, after, page.limit.get()).await?;
        Ok(ListResponse {
            items: page.items,
            next_cursor: page.next.map(|k| self.cursors.encode(&query, &k)),
        })
    }

    pub async fn get_event(&self, id: &EventId) -> Result<Event, GetEventError> {
        self.events
            .get(id)
            .await?
            .ok_or_else(|| GetEventError::NotFound(id.clone()))
    }

    /// Applies a triage change, if the event is still at `expected` (when given).
    pub async fn update_event(
        &self,
        id: &EventId,
        expected: Option<u64>,
        patch: &EventPatch,
    ) -> Result<Event, UpdateEventError> {
        self.events
            .update(id, patch, expected, self.clock.now())
            .await
    }

    pub async fn list_agents(
        &self,
        page: &PageRequest,
    ) -> Result<ListResponse<Agent>, ListAgentsError> {
        let after = page
            .cursor
            .as_ref()
            .map(|c| {
                self.cursors
                    .decode::<AgentId>("agents", c)
                    .map_err(|_| ListError::InvalidCursor)
            })
            .transpose()?;
        let page = self.agents.list(after, page.limit.get()).await?;
        let now = self.clock.now();
        Ok(ListResponse {
            items: page
                .items
                .into_iter()
                .map(|a| a.with_derived_status(now))
                .collect(),
            next_cursor: page.next.map(|k| self.cursors.encode("agents", &k)),
        })
    }

    pub async fn get_agent(&self, id: &AgentId) -> Result<Agent, GetAgentError> {
        let agent = self
            .agents
            .get(id)
            .await?
            .ok_or_else(|| GetAgentError::NotFound(id.clone()))?;
        Ok(agent.with_derived_status(self.clock.now()))
    }

    /// Renames and/or reconfigures an agent; a changed config gets the next
    /// `config_version` and is pushed to the agent.
    pub async fn update_agent(
        &self,
        id: &AgentId,
        update: &AgentUpdate,
    ) -> Result<Agent, UpdateAgentError> {
        let not_found = || UpdateAgentError::NotFound(id.clone());
        let mut changed = false;
        let agent = modify_agent::<UpdateAgentError>(self.agents.as_ref(), id, |current| {
            let mut agent = current.ok_or_else(not_found)?;
            if let Some(n) = &update.name {
                agent.name = n.trim().to_owned();
            }
            changed = false;
            if let Some(p) = &update.config {
                let config = agent.config.patched(p);
                config.validate().map_err(UpdateAgentError::InvalidConfig)?;
                if config != agent.config {
                    agent.config = config;
                    agent.config_version += 1;
                    agent.config_updated_at = Some(self.clock.now());
                    changed = true;
                }
            }
            Ok(Some(agent))
        })
        .await?
        .ok_or_else(not_found)?;
        if changed {
            if let Err(e) = self.pusher.push(&agent).await {
                // Stored; the agent's next heartbeat triggers another push.
                tracing::warn!(agent = %agent.id, error = %e, "config push failed; will retry on heartbeat");
            }
        }
        Ok(agent.with_derived_status(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_filters_patches_and_updates_follow_the_rules() {
        assert_eq!(Limit::default().get(), DEFAULT_LIMIT);
        assert!(Limit::new(0).is_err());
        assert!(Limit::new(MAX_LIMIT + 1).is_err());
        assert_eq!(Limit::new(MAX_LIMIT).unwrap().get(), MAX_LIMIT);
        let t = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        let backwards = EventFilter {
            from: Some(t("2026-11-26T00:00:00Z")),
            to: Some(t("2026-11-25T00:00:00Z")),
            ..EventFilter::default()
        };
        assert!(validate_filter(&backwards).is_err());
        // source is limited in characters, as the spec says, not in bytes.
        let source = |n: usize| EventFilter {
            source: Some("é".repeat(n)),
            ..EventFilter::default()
        };
        assert!(validate_filter(&source(256)).is_ok());
        assert!(validate_filter(&source(257)).is_err());
        assert!(validate_filter(&source(0)).is_err());
        assert!(validate_patch(&EventPatch::default()).is_err());
        let note = |n: usize| EventPatch {
            note: Some(Some("é".repeat(n))),
            ..EventPatch::default()
        };
        assert!(validate_patch(&note(MAX_NOTE)).is_ok());
        assert!(validate_patch(&note(MAX_NOTE + 1)).is_err());
        assert!(AgentUpdate::new(None, None).is_err());
        assert!(AgentUpdate::new(Some(String::new()), None).is_err());
        // Blank is Rust's `char::is_whitespace`, as the spec's name pattern spells it.
        assert!(AgentUpdate::new(Some("\u{3000}\t".into()), None).is_err());
        assert!(AgentUpdate::new(Some("\u{1c}".into()), None).is_ok());
        assert!(AgentUpdate::new(Some("x".repeat(MAX_NAME + 1)), None).is_err());
    }
}
