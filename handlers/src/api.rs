//! The REST router: an axum [`Router`] (docs/architecture.md, REST API
//! contract). The `api` Lambda serves it with `lambda_http::run` behind API
//! Gateway; `monitoring local` serves the same router with `axum::serve` (see
//! [`crate::local`]).
//!
//! This is the inbound edge: extractors turn the request (path, query,
//! `If-Match`, JSON body) into domain values, the domain's use cases answer
//! values or one error type per operation, and [`Problem`] maps those errors
//! to status codes and the JSON error body `{"error": {"code", "message"}}`.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{from_fn, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Router;
use chrono::{DateTime, Utc};
use domain::model::{AgentConfigPatch, AgentId, EventFilter, EventId, EventPatch, InvalidValue};
use domain::ports::PortError;
use domain::usecases::api::{
    validate_filter, validate_patch, validate_text, AgentUpdate, Api, GetAgentError, GetEventError,
    InvalidInput, Limit, ListError, PageRequest, UpdateAgentError, UpdateEventError, MAX_ASSIGNEE,
    MAX_NOTE,
};
use lambda_http::RequestExt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tower::ServiceExt as _;

/// Request bodies larger than this are refused (the API's bodies are small).
pub const MAX_BODY: usize = 64 * 1024;

/// The routes of docs/architecture.md (REST API contract), one per Lambda function in AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    ListEvents,
    GetEvent,
    UpdateEvent,
    ListAgents,
    GetAgent,
    UpdateAgent,
    EventActivity,
    Overview,
}

impl Route {
    pub const ALL: [Route; 8] = [
        Route::ListEvents,
        Route::GetEvent,
        Route::UpdateEvent,
        Route::ListAgents,
        Route::GetAgent,
        Route::UpdateAgent,
        Route::EventActivity,
        Route::Overview,
    ];

    /// Method and path template, as API Gateway and the OpenAPI spec name them.
    pub fn method_and_path(self) -> (&'static str, &'static str) {
        match self {
            Route::ListEvents => ("GET", "/events"),
            Route::GetEvent => ("GET", "/events/{eventId}"),
            Route::UpdateEvent => ("PUT", "/events/{eventId}"),
            Route::ListAgents => ("GET", "/agents"),
            Route::GetAgent => ("GET", "/agents/{agentId}"),
            Route::UpdateAgent => ("PUT", "/agents/{agentId}"),
            Route::EventActivity => ("GET", "/events/{eventId}/activity"),
            Route::Overview => ("GET", "/overview"),
        }
    }
}

// ---------------------------------------------------------------------------
// Errors to answers: every status code is chosen here, none in the domain.
// ---------------------------------------------------------------------------

/// An answer other than success: a status, an error code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    allow: Option<&'static str>,
}

impl Problem {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            allow: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// The answer to a body over [`MAX_BODY`].
    pub fn body_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "bad_request",
            format!("the body is larger than {MAX_BODY} bytes"),
        )
    }

    fn method_not_allowed(method: &Method, path: &str, allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{method} is not allowed on {path}; allowed: {allow}"),
            )
        }
    }

    /// A store failure: logged here, answered without its details.
    pub(crate) fn store(e: PortError) -> Self {
        tracing::error!(error = %e, "store failure");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the store failed; try again",
        )
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| {
        r#"{"error":{"code":"internal","message":"could not encode the answer"}}"#.to_owned()
    });
    let mut resp = (status, text).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut resp = json_response(
            self.status,
            &ErrorBody {
                error: ErrorDetail {
                    code: self.code,
                    message: &self.message,
                },
            },
        );
        if let Some(allow) = self.allow {
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        resp
    }
}

impl From<InvalidInput> for Problem {
    fn from(e: InvalidInput) -> Self {
        Problem::bad_request(e.0)
    }
}

impl From<ListError> for Problem {
    fn from(e: ListError) -> Self {
        match e {
            ListError::InvalidCursor => Problem::bad_request(e.to_string()),
            ListError::Store(e) => Problem::store(e),
        }
    }
}

impl From<GetEventError> for Problem {
    fn from(e: GetEventError) -> Self {
        match e {
            GetEventError::NotFound(_) => Problem::not_found(e.to_string()),
            GetEventError::Store(e) => Problem::store(e),
        }
    }
}

impl From<GetAgentError> for Problem {
    fn from(e: GetAgentError) -> Self {
        match e {
            GetAgentError::NotFound(_) => Problem::not_found(e.to_string()),
            GetAgentError::Store(e) => Problem::store(e),
        }
    }
}

impl From<UpdateAgentError> for Problem {
    fn from(e: UpdateAgentError) -> Self {
        match e {
            UpdateAgentError::NotFound(_) => Problem::not_found(e.to_string()),
            UpdateAgentError::InvalidConfig(_) => Problem::bad_request(e.to_string()),
            UpdateAgentError::Store(e) => Problem::store(e),
        }
    }
}

/// The port's error names no event; the route knows which.
fn update_event_problem(id: &EventId, e: UpdateEventError) -> Problem {
    match e {
        UpdateEventError::NotFound => Problem::not_found(format!("no event {:?}", id.to_string())),
        UpdateEventError::VersionMismatch { current } => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            format!("the event is at version {current}; reload it and try again"),
        ),
        UpdateEventError::Port(e) => Problem::store(e),
    }
}

/// A 200 with a JSON body.
pub struct Ok200<T>(pub T);

impl<T: Serialize> IntoResponse for Ok200<T> {
    fn into_response(self) -> Response {
        json_response(StatusCode::OK, &self.0)
    }
}

// ---------------------------------------------------------------------------
// Extractors: HTTP in, domain values out.
// ---------------------------------------------------------------------------

/// The last path segment, decoded (the router has matched its shape).
fn id_segment(uri: &Uri) -> String {
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
struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    fn new(pairs: Vec<(String, String)>, allowed: &[&str]) -> Result<Self, Problem> {
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

    fn get(&self, name: &str) -> Option<&str> {
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

    fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, Problem> {
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

    fn page(&self) -> Result<PageRequest, Problem> {
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

fn bad(e: InvalidValue) -> Problem {
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
async fn body_bytes(req: Request) -> Result<Bytes, Problem> {
    axum::body::to_bytes(req.into_body(), MAX_BODY)
        .await
        .map_err(|_| Problem::body_too_large())
}

fn body_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, Problem> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(Problem::bad_request("the body must be a JSON object")),
        Err(e) => Err(Problem::bad_request(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

fn optional_text(v: &serde_json::Value, name: &str, max: usize) -> Result<Option<String>, Problem> {
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
struct AgentUpdateBody {
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

// ---------------------------------------------------------------------------
// Handlers: one use case each.
// ---------------------------------------------------------------------------

type ApiState = State<Arc<Api>>;

async fn list_events(State(api): ApiState, q: EventQuery) -> Result<Response, Problem> {
    Ok(Ok200(api.list_events(&q.filter, &q.page).await?).into_response())
}

async fn get_event(
    State(api): ApiState,
    EventIdParam(id): EventIdParam,
) -> Result<Response, Problem> {
    Ok(Ok200(api.get_event(&id).await?).into_response())
}

async fn update_event(
    State(api): ApiState,
    EventIdParam(id): EventIdParam,
    ExpectedVersion(expected): ExpectedVersion,
    Patch(patch): Patch,
) -> Result<Response, Problem> {
    match api.update_event(&id, expected, &patch).await {
        Ok(e) => Ok(Ok200(e).into_response()),
        Err(e) => Err(update_event_problem(&id, e)),
    }
}

async fn list_agents(
    State(api): ApiState,
    AgentQuery(page): AgentQuery,
) -> Result<Response, Problem> {
    Ok(Ok200(api.list_agents(&page).await?).into_response())
}

async fn get_agent(
    State(api): ApiState,
    AgentIdParam(id): AgentIdParam,
) -> Result<Response, Problem> {
    Ok(Ok200(api.get_agent(&id).await?).into_response())
}

async fn update_agent(
    State(api): ApiState,
    AgentIdParam(id): AgentIdParam,
    Update(update): Update,
) -> Result<Response, Problem> {
    Ok(Ok200(api.update_agent(&id, &update).await?).into_response())
}

// ---------------------------------------------------------------------------
// The router.
// ---------------------------------------------------------------------------

/// Bounds the body of a routed request to [`MAX_BODY`] before anything reads
/// it: over the bound is 413, whatever else is wrong with the request.
async fn limit_body(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => Problem::body_too_large().into_response(),
    }
}

/// A path's methods: its routes with the body bound, and a JSON 405 naming
/// `allow` for any other method (HEAD included: no route answers it).
pub(crate) fn methods(
    routes: MethodRouter<Arc<Api>>,
    allow: &'static str,
) -> MethodRouter<Arc<Api>> {
    let not_allowed = move |method: Method, uri: Uri| async move {
        Problem::method_not_allowed(&method, uri.path(), allow)
    };
    routes
        .route_layer(from_fn(limit_body))
        .head(not_allowed)
        .fallback(not_allowed)
}

/// The path a request names without API Gateway's stage prefix (`lambda_http`
/// puts the stage in the URI; the raw path is the resource path), with empty
/// segments dropped as they always were (`/events/` is `/events`).
fn edge_path(mut req: Request) -> Request {
    let raw = req.extensions().raw_http_path();
    let path = if raw.is_empty() {
        req.uri().path()
    } else {
        raw
    };
    let mut normal = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        normal.push('/');
        for b in segment.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%".contains(&b) {
                normal.push(char::from(b));
            } else {
                normal.push_str(&format!("%{b:02X}"));
            }
        }
    }
    if normal.is_empty() {
        normal.push('/');
    }
    if let Some(q) = req.uri().query() {
        normal.push('?');
        normal.push_str(q);
    }
    if let Ok(pq) = normal.parse() {
        let mut parts = req.uri().clone().into_parts();
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// The REST API's router, ready for `lambda_http::run` or `axum::serve`.
/// Never fails and never panics on bad input: every problem is a status code
/// with a JSON error body.
pub fn router(api: Arc<Api>) -> Router {
    let routes = Router::new()
        .route("/events", methods(get(list_events), "GET"))
        .route(
            "/events/{eventId}",
            methods(get(get_event).put(update_event), "GET, PUT"),
        )
        .route("/agents", methods(get(list_agents), "GET"))
        .route(
            "/agents/{agentId}",
            methods(get(get_agent).put(update_agent), "GET, PUT"),
        )
        .route(
            "/events/{eventId}/activity",
            crate::console_api::activity_route(),
        )
        .route("/overview", crate::console_api::overview_route())
        .fallback(
            |uri: Uri| async move { Problem::not_found(format!("no route for {}", uri.path())) },
        )
        .with_state(api);
    Router::new().fallback_service(routes.map_request(edge_path))
}

/// One request through `app`, answered with its status and whole body: for
/// callers without axum or tower of their own (end-to-end tests, tools).
pub async fn answer<B>(app: Router, req: axum::http::Request<B>) -> (StatusCode, Bytes)
where
    B: axum::body::HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let resp = app.oneshot(req).await.unwrap_or_else(|e| match e {});
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    (status, body)
}
