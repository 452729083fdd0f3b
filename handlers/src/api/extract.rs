//! Extractors: HTTP in, domain values out.

use super::*;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Uri};
use chrono::{DateTime, Utc};
use domain::model::{AgentConfigPatch, AgentId, EventFilter, EventId, EventPatch, InvalidValue};
use domain::usecases::api::{
    validate_filter, validate_patch, validate_text, AgentUpdate, Limit, PageRequest, MAX_ASSIGNEE,
    MAX_NOTE,
};
use lambda_http::RequestExt;
use serde::Deserialize;

// ---------------------------------------------------------------------------
// Extractors: HTTP in, domain values out.
// ---------------------------------------------------------------------------

/// The last path segment, decoded (the router has matched its shape).
pub(crate) fn id_segment(uri: &Uri) -> String {
    let s = uri.path().rsplit('/').next().unwrap_or_default();
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `{eventId}` as an [`EventId`]; one that cannot be an id is not found.
pub struct EventIdParam(pub EventId);

impl<S: Send + Sync> FromRequestParts<S> for EventIdParam {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let raw = id_segment(&parts.uri);
        raw.parse()
            .map(Self)
            .map_err(|_| Problem::not_found(format!("no event {raw:?}")))
    }
}

/// `{agentId}` as an [`AgentId`]; one that cannot be an id is not found.
pub struct AgentIdParam(pub AgentId);

impl<S: Send + Sync> FromRequestParts<S> for AgentIdParam {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let raw = id_segment(&parts.uri);
        raw.parse()
            .map(Self)
            .map_err(|_| Problem::not_found(format!("no agent {raw:?}")))
    }
}

/// Query parameters as (name, value) pairs, decoded: API Gateway's own map
/// when the Lambda runtime gives one, else the URI's query.
pub(crate) fn query_pairs(parts: &Parts) -> Vec<(String, String)> {
    if let Some(map) = parts.query_string_parameters_ref() {
        return map
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    }
    parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// Query parameters, collected: unknown and repeated names are refused.
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub(crate) fn new(pairs: Vec<(String, String)>, allowed: &[&str]) -> Result<Self, Problem> {
        for (i, (k, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&k.as_str()) {
                return Err(Problem::bad_request(format!(
                    "unknown query parameter {k:?}; allowed: {}",
                    allowed.join(", ")
                )));
            }
            if pairs[..i].iter().any(|(k2, _)| k2 == k) {
                return Err(Problem::bad_request(format!(
                    "query parameter {k:?} is given more than once"
                )));
            }
        }
        Ok(Self { pairs })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A value of a domain type, parsed by its `FromStr`.
    fn value<T: std::str::FromStr<Err = InvalidValue>>(
        &self,
        name: &str,
    ) -> Result<Option<T>, Problem> {
        self.get(name)
            .map(|v| v.parse().map_err(|e: InvalidValue| bad(e)))
            .transpose()
    }

    /// A comma-separated list of domain values.
    fn list<T: std::str::FromStr<Err = InvalidValue>>(
        &self,
        name: &str,
    ) -> Result<Vec<T>, Problem> {
        match self.get(name) {
            None => Ok(vec![]),
            Some(v) => v.split(',').map(|s| s.parse::<T>().map_err(bad)).collect(),
        }
    }

    pub(crate) fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, Problem> {
        self.get(name)
            .map(|v| {
                DateTime::parse_from_rfc3339(v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        Problem::bad_request(format!("{name}: {v:?} is not an RFC 3339 timestamp"))
                    })
            })
            .transpose()
    }

    pub(crate) fn page(&self) -> Result<PageRequest, Problem> {
        let limit = match self.get("limit") {
            None => Limit::default(),
            Some(v) => {
                let n: usize = v.parse().map_err(|_| {
                    Problem::bad_request(format!("limit: {v:?} is not a whole number"))
                })?;
                Limit::new(n)?
            }
        };
        Ok(PageRequest {
            limit,
            cursor: self.get("cursor").map(str::to_owned),
        })
    }
}

pub(crate) fn bad(e: InvalidValue) -> Problem {
    Problem::bad_request(e.to_string())
}

/// The query parameters `GET /events` accepts.
pub const EVENT_QUERY_PARAMETERS: [&str; 9] = [
    "from", "to", "account", "region", "source", "severity", "status", "limit", "cursor",
];

/// Parses the query of `GET /events` (name, value pairs) into a filter and a page.
pub fn event_query(pairs: Vec<(String, String)>) -> Result<(EventFilter, PageRequest), Problem> {
    let p = Params::new(pairs, &EVENT_QUERY_PARAMETERS)?;
    let from = p.time("from")?;
    let to = p.time("to")?;
    let account = p.value("account")?;
    let region = p.value("region")?;
    let source = p.get("source").map(str::to_owned);
    // The source's bound before the lists, as ever.
    validate_filter(&EventFilter {
        source: source.clone(),
        ..EventFilter::default()
    })?;
    let filter = EventFilter {
        from,
        to,
        account,
        region,
        source,
        severities: p.list("severity")?,
        statuses: p.list("status")?,
    };
    validate_filter(&filter)?;
    Ok((filter, p.page()?))
}

/// The filter and page of `GET /events`.
pub struct EventQuery {
    pub filter: EventFilter,
    pub page: PageRequest,
}

impl<S: Send + Sync> FromRequestParts<S> for EventQuery {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let (filter, page) = event_query(query_pairs(parts))?;
        Ok(Self { filter, page })
    }
}

/// The page of `GET /agents`.
pub struct AgentQuery(pub PageRequest);

impl<S: Send + Sync> FromRequestParts<S> for AgentQuery {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        Ok(Self(
            Params::new(query_pairs(parts), &["limit", "cursor"])?.page()?,
        ))
    }
}

/// `If-Match: "3"` (or `3`, `W/"3"`, `*`) to the expected version: 1-19
/// ASCII digits, so that every accepted value fits a `u64` (as openapi.yaml
/// says; no sign, no inner spaces). `*` expects nothing.
pub fn parse_if_match(v: &str) -> Result<Option<u64>, Problem> {
    let v = v.trim();
    if v == "*" {
        return Ok(None);
    }
    let v = v.strip_prefix("W/").unwrap_or(v);
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v);
    let malformed = || Problem::bad_request("If-Match must be a quoted version number, like \"3\"");
    if !(1..=19).contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    v.parse::<u64>().map(Some).map_err(|_| malformed())
}

/// The version `If-Match` expects, if any.
pub struct ExpectedVersion(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for ExpectedVersion {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        match parts.headers.get(header::IF_MATCH).map(|v| v.to_str()) {
            None => Ok(Self(None)),
            Some(Err(_)) => Err(Problem::bad_request("If-Match is not valid text")),
            Some(Ok(v)) => Ok(Self(parse_if_match(v)?)),
        }
    }
}

/// The whole body (the router has bounded it to [`MAX_BODY`]).
pub(crate) async fn body_bytes(req: Request) -> Result<Bytes, Problem> {
    axum::body::to_bytes(req.into_body(), MAX_BODY)
        .await
        .map_err(|_| Problem::body_too_large())
}

pub(crate) fn body_object(
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, Problem> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(Problem::bad_request("the body must be a JSON object")),
        Err(e) => Err(Problem::bad_request(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

pub(crate) fn optional_text(
    v: &serde_json::Value,
    name: &str,
    max: usize,
) -> Result<Option<String>, Problem> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => {
            validate_text(name, s, max)?;
            Ok(Some(s.clone()))
        }
        _ => Err(Problem::bad_request(format!(
            "{name} must be a string or null"
        ))),
    }
}

/// Parses the body of `PUT /events/{id}`.
pub fn event_patch(body: &[u8]) -> Result<EventPatch, Problem> {
    let mut patch = EventPatch::default();
    for (k, v) in body_object(body)? {
        match k.as_str() {
            "status" => {
                let s = v
                    .as_str()
                    .ok_or_else(|| Problem::bad_request("status must be a string"))?;
                patch.status = Some(s.parse().map_err(bad)?);
            }
            "note" => patch.note = Some(optional_text(&v, "note", MAX_NOTE)?),
            "assignee" => patch.assignee = Some(optional_text(&v, "assignee", MAX_ASSIGNEE)?),
            other => {
                return Err(Problem::bad_request(format!(
                    "unknown field {other:?}; allowed: status, note, assignee"
                )))
            }
        }
    }
    validate_patch(&patch)?;
    Ok(patch)
}

/// The triage change in the body of `PUT /events/{id}`.
pub struct Patch(pub EventPatch);

impl<S: Send + Sync> FromRequest<S> for Patch {
    type Rejection = Problem;
    async fn from_request(req: Request, _: &S) -> Result<Self, Problem> {
        Ok(Self(event_patch(&body_bytes(req).await?)?))
    }
}

/// The body of `PUT /agents/{id}` as JSON spells it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgentUpdateBody {
    name: Option<String>,
    config: Option<AgentConfigPatch>,
}

/// Parses the body of `PUT /agents/{id}`.
pub fn agent_update(body: &[u8]) -> Result<AgentUpdate, Problem> {
    let obj = body_object(body)?;
    // An absent field keeps its value; a null is refused rather than read
    // as absent (serde would), so that `"rules": null` cannot pass for a change.
    for (k, v) in &obj {
        match (k.as_str(), v) {
            ("name", serde_json::Value::Null) => {
                return Err(Problem::bad_request("name must be a string"))
            }
            ("config", serde_json::Value::Null) => {
                return Err(Problem::bad_request("config must be an object"))
            }
            ("config", serde_json::Value::Object(c)) => {
                if let Some((f, _)) = c.iter().find(|(_, v)| v.is_null()) {
                    return Err(Problem::bad_request(format!("config.{f} must not be null")));
                }
            }
            _ => {}
        }
    }
    let b: AgentUpdateBody = serde_json::from_value(serde_json::Value::Object(obj))
        .map_err(|e| Problem::bad_request(format!("invalid body: {e}")))?;
    Ok(AgentUpdate::new(b.name, b.config)?)
}

/// The change in the body of `PUT /agents/{id}`.
pub struct Update(pub AgentUpdate);

impl<S: Send + Sync> FromRequest<S> for Update {
    type Rejection = Problem;
    async fn from_request(req: Request, _: &S) -> Result<Self, Problem> {
        Ok(Self(agent_update(&body_bytes(req).await?)?))
    }
}
