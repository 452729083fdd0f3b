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
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{from_fn, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Router;
use domain::usecases::api::Api;
use lambda_http::RequestExt;
use std::sync::Arc;
use tower::ServiceExt as _;

mod extract;
mod problem;

pub use extract::*;
pub use problem::*;

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
