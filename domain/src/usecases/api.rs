//! The REST API's use cases, independent of HTTP: parameters and bodies in,
//! values or [`ApiError`]s out. The router in `handlers` only translates.

use crate::cursor::CursorCodec;
use crate::model::*;
use crate::ports::{
    modify_agent, AgentStore, Clock, ConfigPusher, EventStore, PortError, UpdateEventError,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;
pub const MAX_NOTE: usize = 4096;
pub const MAX_ASSIGNEE: usize = 256;
pub const MAX_NAME: usize = 128;

/// An answer other than success; each maps to one status code and error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::NotFound(_) => 404,
            ApiError::Conflict(_) => 409,
            ApiError::PreconditionFailed(_) => 412,
            ApiError::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<PortError> for ApiError {
    fn from(e: PortError) -> Self {
        tracing::error!(error = %e, "store failure");
        ApiError::Internal("the store failed; try again".into())
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::BadRequest(msg.into())
}

/// A page of items as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Query parameters, collected: repeated names are an error.
struct Params<'a> {
    pairs: &'a [(String, String)],
    allowed: &'static [&'static str],
}

impl<'a> Params<'a> {
    fn new(
        pairs: &'a [(String, String)],
        allowed: &'static [&'static str],
    ) -> Result<Self, ApiError> {
        for (i, (k, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&k.as_str()) {
                return Err(bad(format!(
                    "unknown query parameter {k:?}; allowed: {}",
                    allowed.join(", ")
                )));
            }
            if pairs[..i].iter().any(|(k2, _)| k2 == k) {
                return Err(bad(format!(
                    "query parameter {k:?} is given more than once"
                )));
            }
        }
        Ok(Self { pairs, allowed })
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        debug_assert!(self.allowed.contains(&name));
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn parse<T: std::str::FromStr>(&self, name: &str, what: &str) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| bad(format!("{name}: {v:?} is not {what}")))
            })
            .transpose()
    }

    fn list<T: std::str::FromStr<Err = InvalidValue>>(
        &self,
        name: &str,
    ) -> Result<Vec<T>, ApiError> {
        match self.get(name) {
            None => Ok(vec![]),
            Some(v) => v
                .split(',')
                .map(|s| s.parse::<T>().map_err(|e| bad(e.to_string())))
                .collect(),
        }
    }

    fn limit(&self) -> Result<usize, ApiError> {
        let limit = self
            .parse::<usize>("limit", "a whole number")?
            .unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(bad(format!("limit must be between 1 and {MAX_LIMIT}")));
        }
        Ok(limit)
    }
}

fn parse_time(name: &str, v: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| bad(format!("{name}: {v:?} is not an RFC 3339 timestamp")))
}

/// Parses the filter of `GET /events`.
pub fn parse_event_filter(
    pairs: &[(String, String)],
) -> Result<(EventFilter, usize, Option<String>), ApiError> {
    let p = Params::new(
        pairs,
        &[
            "from", "to", "account", "region", "source", "severity", "status", "limit", "cursor",
        ],
    )?;
    let filter = EventFilter {
        from: p.get("from").map(|v| parse_time("from", v)).transpose()?,
        to: p.get("to").map(|v| parse_time("to", v)).transpose()?,
        account: p
            .get("account")
            .map(|v| v.parse().map_err(|e: InvalidValue| bad(e.to_string())))
            .transpose()?,
        region: p
            .get("region")
            .map(|v| v.parse().map_err(|e: InvalidValue| bad(e.to_string())))
            .transpose()?,
        source: match p.get("source") {
            Some(s) if s.is_empty() || s.chars().count() > 256 => {
                return Err(bad("source must be 1-256 characters"))
            }
            s => s.map(str::to_owned),
        },
        severities: p.list("severity")?,
        statuses: p.list("status")?,
    };
    if let (Some(f), Some(t)) = (filter.from, filter.to) {
        if f > t {
            return Err(bad("from is after to"));
        }
    }
    Ok((filter, p.limit()?, p.get("cursor").map(str::to_owned)))
}

/// `If-Match: "3"` (or `3`, `W/"3"`, `*`) to the expected version: 1-19
/// ASCII digits, so that every accepted value fits a `u64` (as openapi.yaml
/// says; no sign, no inner spaces).
pub fn parse_if_match(v: &str) -> Result<Option<u64>, ApiError> {
    let v = v.trim();
    if v == "*" {
        return Ok(None);
    }
    let v = v.strip_prefix("W/").unwrap_or(v);
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v);
    let malformed = || bad("If-Match must be a quoted version number, like \"3\"");
    if !(1..=19).contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    v.parse::<u64>().map(Some).map_err(|_| malformed())
}

fn body_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad("the body must be a JSON object")),
        Err(e) => Err(bad(format!("the body is not valid JSON: {e}"))),
    }
}

fn optional_text(
    v: &serde_json::Value,
    name: &str,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) if s.chars().count() <= max => Ok(Some(s.clone())),
        serde_json::Value::String(_) => Err(bad(format!("{name} is longer than {max} characters"))),
        _ => Err(bad(format!("{name} must be a string or null"))),
    }
}

/// Parses the body of `PUT /events/{id}`.
pub fn parse_event_patch(body: &[u8]) -> Result<EventPatch, ApiError> {
    let mut patch = EventPatch::default();
    for (k, v) in body_object(body)? {
        match k.as_str() {
            "status" => {
                let s = v.as_str().ok_or_else(|| bad("status must be a string"))?;
                patch.status = Some(s.parse().map_err(|e: InvalidValue| bad(e.to_string()))?);
            }
            "note" => patch.note = Some(optional_text(&v, "note", MAX_NOTE)?),
            "assignee" => patch.assignee = Some(optional_text(&v, "assignee", MAX_ASSIGNEE)?),
            other => {
                return Err(bad(format!(
                    "unknown field {other:?}; allowed: status, note, assignee"
                )))
            }
        }
    }
    if patch.is_empty() {
        return Err(bad("give at least one of status, note, assignee"));
    }
    Ok(patch)
}

/// The body of `PUT /agents/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentUpdate {
    pub name: Option<String>,
    pub config: Option<AgentConfigPatch>,
}

pub fn parse_agent_update(body: &[u8]) -> Result<AgentUpdate, ApiError> {
    let obj = body_object(body)?;
    // An absent field keeps its value; a null is refused rather than read
    // as absent (serde would), so that `"rules": null` cannot pass for a change.
    for (k, v) in &obj {
        match (k.as_str(), v) {
            ("name", serde_json::Value::Null) => return Err(bad("name must be a string")),
            ("config", serde_json::Value::Null) => return Err(bad("config must be an object")),
            ("config", serde_json::Value::Object(c)) => {
                if let Some((f, _)) = c.iter().find(|(_, v)| v.is_null()) {
                    return Err(bad(format!("config.{f} must not be null")));
                }
            }
            _ => {}
        }
    }
    let u: AgentUpdate = serde_json::from_value(serde_json::Value::Object(obj))
        .map_err(|e| bad(format!("invalid body: {e}")))?;
    if u.name.is_none() && u.config.is_none() {
        return Err(bad("give name and/or config"));
    }
    if let Some(n) = &u.name {
        if n.trim().is_empty() || n.chars().count() > MAX_NAME {
            return Err(bad(format!("name must be 1-{MAX_NAME} characters")));
        }
    }
    Ok(u)
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
        params: &[(String, String)],
    ) -> Result<ListResponse<Event>, ApiError> {
        let (filter, limit, cursor) = parse_event_filter(params)?;
        let query = format!("events|{filter:?}");
        let after = cursor
            .map(|c| {
                self.cursors
                    .decode::<EventPageKey>(&query, &c)
                    .map_err(|_| bad("cursor is invalid or belongs to another query"))
            })
            .transpose()?;
        let page = self.events.list(&filter, after, limit).await?;
        Ok(ListResponse {
            items: page.items,
            next_cursor: page.next.map(|k| self.cursors.encode(&query, &k)),
        })
    }

    fn event_id(id: &str) -> Result<EventId, ApiError> {
        id.parse()
            .map_err(|_| ApiError::NotFound(format!("no event {id:?}")))
    }

    pub async fn get_event(&self, id: &str) -> Result<Event, ApiError> {
        let eid = Self::event_id(id)?;
        self.events
            .get(&eid)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no event {id:?}")))
    }

    pub async fn update_event(
        &self,
        id: &str,
        if_match: Option<&str>,
        body: &[u8],
    ) -> Result<Event, ApiError> {
        let eid = Self::event_id(id)?;
        let expected = if_match.map(parse_if_match).transpose()?.flatten();
        let patch = parse_event_patch(body)?;
        match self
            .events
            .update(&eid, &patch, expected, self.clock.now())
            .await
        {
            Ok(e) => Ok(e),
            Err(UpdateEventError::NotFound) => Err(ApiError::NotFound(format!("no event {id:?}"))),
            Err(UpdateEventError::VersionMismatch { current }) => {
                Err(ApiError::PreconditionFailed(format!(
                    "the event is at version {current}; reload it and try again"
                )))
            }
            Err(UpdateEventError::Port(e)) => Err(e.into()),
        }
    }

    pub async fn list_agents(
        &self,
        params: &[(String, String)],
    ) -> Result<ListResponse<Agent>, ApiError> {
        let p = Params::new(params, &["limit", "cursor"])?;
        let limit = p.limit()?;
        let after = p
            .get("cursor")
            .map(|c| {
                self.cursors
                    .decode::<AgentId>("agents", c)
                    .map_err(|_| bad("cursor is invalid or belongs to another query"))
            })
            .transpose()?;
        let page = self.agents.list(after, limit).await?;
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

    async fn agent(&self, id: &str) -> Result<Agent, ApiError> {
        let not_found = || ApiError::NotFound(format!("no agent {id:?}"));
        let aid: AgentId = id.parse().map_err(|_| not_found())?;
        self.agents.get(&aid).await?.ok_or_else(not_found)
    }

    pub async fn get_agent(&self, id: &str) -> Result<Agent, ApiError> {
        Ok(self.agent(id).await?.with_derived_status(self.clock.now()))
    }

    /// Renames and/or reconfigures an agent; a changed config gets the next
    /// `config_version` and is pushed to the agent.
    pub async fn update_agent(&self, id: &str, body: &[u8]) -> Result<Agent, ApiError> {
        let update = parse_agent_update(body)?;
        let not_found = || ApiError::NotFound(format!("no agent {id:?}"));
        let aid: AgentId = id.parse().map_err(|_| not_found())?;
        let mut changed = false;
        let agent = modify_agent::<ApiError>(self.agents.as_ref(), &aid, |current| {
            let mut agent = current.ok_or_else(not_found)?;
            if let Some(n) = &update.name {
                agent.name = n.trim().to_owned();
            }
            changed = false;
            if let Some(p) = &update.config {
                let config = agent.config.patched(p);
                config.validate().map_err(|e| bad(e.to_string()))?;
                if config != agent.config {
                    agent.config = config;
                    agent.config_version += 1;
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

    fn q(s: &str) -> Vec<(String, String)> {
        s.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    #[test]
    fn event_filters_parse_and_reject_bad_values() {
        let (f, limit, _) = parse_event_filter(&q(
            "severity=high,critical&status=open&limit=10&from=2026-11-25T00:00:00Z",
        ))
        .unwrap();
        assert_eq!(f.severities, vec![Severity::High, Severity::Critical]);
        assert_eq!(f.statuses, vec![Status::Open]);
        assert_eq!(limit, 10);
        for bad in [
            "severity=urgent",
            "status=closed",
            "limit=0",
            "limit=201",
            "limit=x",
            "from=yesterday",
            "account=12",
            "nope=1",
            "limit=1&limit=2",
            "from=2026-11-26T00:00:00Z&to=2026-11-25T00:00:00Z",
            "severity=",
            "severity=high, critical",
            "status= open",
            "source=",
        ] {
            assert!(
                matches!(parse_event_filter(&q(bad)), Err(ApiError::BadRequest(_))),
                "{bad}"
            );
        }
        // source is limited in characters, as the spec says, not in bytes.
        let long = |n: usize| vec![("source".to_owned(), "é".repeat(n))];
        assert!(parse_event_filter(&long(256)).is_ok());
        assert!(parse_event_filter(&long(257)).is_err());
    }

    #[test]
    fn if_match_and_patches_parse() {
        assert_eq!(parse_if_match("\"3\"").unwrap(), Some(3));
        assert_eq!(parse_if_match("W/\"4\"").unwrap(), Some(4));
        assert_eq!(parse_if_match("*").unwrap(), None);
        assert!(parse_if_match("\"three\"").is_err());
        assert_eq!(parse_if_match("7").unwrap(), Some(7));
        for bad in [
            "\"+3\"",
            "+3",
            "\"\"",
            "\"3",
            "\"1 \"",
            "\"12345678901234567890\"",
            "W/",
        ] {
            assert!(parse_if_match(bad).is_err(), "{bad}");
        }
        let p = parse_event_patch(br#"{"status":"acknowledged","note":null}"#).unwrap();
        assert_eq!(p.status, Some(Status::Acknowledged));
        assert_eq!(p.note, Some(None));
        for bad in [
            &br#"{}"#[..],
            br#"[]"#,
            br#"{"status":"done"}"#,
            br#"{"x":1}"#,
            b"nope",
            br#"{"note":5}"#,
        ] {
            assert!(parse_event_patch(bad).is_err());
        }
        assert!(parse_agent_update(br#"{"config":{"schedule_minutes":"x"}}"#).is_err());
        assert!(parse_agent_update(br#"{"name":""}"#).is_err());
        // Blank is Rust's `char::is_whitespace`, as the spec's name pattern spells it.
        assert!(parse_agent_update("{\"name\":\"\u{3000}\\t\"}".as_bytes()).is_err());
        assert!(parse_agent_update(br#"{"name":"\u001c"}"#).is_ok());
        assert!(parse_agent_update(br#"{"config":{"bogus":1}}"#).is_err());
        for null in [
            &br#"{"name":null,"config":{}}"#[..],
            br#"{"config":null}"#,
            br#"{"name":"x","config":{"rules":null}}"#,
            br#"{"config":{"enabled":null}}"#,
        ] {
            assert!(parse_agent_update(null).is_err());
        }
    }
}
