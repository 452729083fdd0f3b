//! The REST router on `lambda_http` types (docs/architecture.md, REST API contract). The `api` Lambda
//! runs it behind API Gateway; `monitoring local` serves the same function
//! over HTTP on loopback (see [`crate::local`]).

use domain::usecases::api::{Api, ApiError};
use lambda_http::http::{header, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

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
}

impl Route {
    pub const ALL: [Route; 6] = [
        Route::ListEvents,
        Route::GetEvent,
        Route::UpdateEvent,
        Route::ListAgents,
        Route::GetAgent,
        Route::UpdateAgent,
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
        }
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

fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| {
        r#"{"error":{"code":"internal","message":"could not encode the answer"}}"#.to_owned()
    });
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(text))
        .expect("static parts are valid")
}

/// The answer to a body over [`MAX_BODY`]; the local server gives it too when
/// it stops reading a body early.
pub fn body_too_large() -> Response<Body> {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        "bad_request",
        &format!("the body is larger than {MAX_BODY} bytes"),
    )
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    json_response(
        status,
        &ErrorBody {
            error: ErrorDetail { code, message },
        },
    )
}

fn api_error(e: &ApiError) -> Response<Body> {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error_response(status, e.code(), &e.to_string())
}

/// The path of the request without an API Gateway stage prefix.
fn request_path(req: &Request) -> String {
    let raw = req.raw_http_path();
    if raw.is_empty() {
        req.uri().path()
    } else {
        raw
    }
    .to_owned()
}

/// Which route a path names, and the id segment if any. Unknown paths: `None`.
pub fn match_path(path: &str) -> Option<(&'static str, Option<String>)> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    match segments.as_slice() {
        ["events"] => Some(("events", None)),
        ["agents"] => Some(("agents", None)),
        ["events", id] => Some(("events", decode(id))),
        ["agents", id] => Some(("agents", decode(id))),
        _ => None,
    }
}

/// Query parameters as (name, value) pairs, decoded.
fn query_pairs(req: &Request) -> Vec<(String, String)> {
    if let Some(map) = req.query_string_parameters_ref() {
        return map
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    }
    req.uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => b"",
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        // Streaming bodies do not reach this router.
        _ => b"",
    }
}

/// Why a request names no route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    NotFound(String),
    MethodNotAllowed {
        allow: &'static str,
        message: String,
    },
}

impl RouteError {
    fn response(&self) -> Response<Body> {
        match self {
            RouteError::NotFound(m) => error_response(StatusCode::NOT_FOUND, "not_found", m),
            RouteError::MethodNotAllowed { allow, message } => {
                let mut r = error_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    message,
                );
                r.headers_mut()
                    .insert(header::ALLOW, header::HeaderValue::from_static(allow));
                r
            }
        }
    }
}

/// Which route a request is for, and the id in its path.
pub fn resolve(method: &Method, path: &str) -> Result<(Route, Option<String>), RouteError> {
    let (collection, id) =
        match_path(path).ok_or_else(|| RouteError::NotFound(format!("no route for {path}")))?;
    let route = match (collection, id.is_some(), method.as_str()) {
        ("events", false, "GET") => Route::ListEvents,
        ("events", true, "GET") => Route::GetEvent,
        ("events", true, "PUT") => Route::UpdateEvent,
        ("agents", false, "GET") => Route::ListAgents,
        ("agents", true, "GET") => Route::GetAgent,
        ("agents", true, "PUT") => Route::UpdateAgent,
        (_, has_id, _) => {
            let allow = if has_id { "GET, PUT" } else { "GET" };
            return Err(RouteError::MethodNotAllowed {
                allow,
                message: format!("{method} is not allowed on {path}; allowed: {allow}"),
            });
        }
    };
    Ok((route, id))
}

/// Answers one request. Never fails and never panics on bad input: every
/// problem becomes a status code with a JSON error body.
pub async fn handle(api: &Api, req: Request) -> Response<Body> {
    let path = request_path(&req);
    let (route, path_id) = match resolve(req.method(), &path) {
        Ok(r) => r,
        Err(e) => return e.response(),
    };
    // API Gateway passes the id as a path parameter; locally it comes from the path.
    let params = req.path_parameters();
    let id = params
        .first("eventId")
        .or(params.first("agentId"))
        .map(str::to_owned)
        .or(path_id)
        .unwrap_or_default();
    let body = body_bytes(&req);
    if body.len() > MAX_BODY {
        return body_too_large();
    }
    // Only PUT /events/{id} reads If-Match; elsewhere the header is ignored.
    let if_match = match req.headers().get(header::IF_MATCH).map(|v| v.to_str()) {
        Some(Err(_)) if route == Route::UpdateEvent => {
            return api_error(&ApiError::BadRequest("If-Match is not valid text".into()))
        }
        Some(Ok(v)) => Some(v.to_owned()),
        _ => None,
    };
    let query = query_pairs(&req);
    let result = match route {
        Route::ListEvents => api
            .list_events(&query)
            .await
            .map(|r| json_response(StatusCode::OK, &r)),
        Route::GetEvent => api
            .get_event(&id)
            .await
            .map(|r| json_response(StatusCode::OK, &r)),
        Route::UpdateEvent => api
            .update_event(&id, if_match.as_deref(), body)
            .await
            .map(|r| json_response(StatusCode::OK, &r)),
        Route::ListAgents => api
            .list_agents(&query)
            .await
            .map(|r| json_response(StatusCode::OK, &r)),
        Route::GetAgent => api
            .get_agent(&id)
            .await
            .map(|r| json_response(StatusCode::OK, &r)),
        Route::UpdateAgent => api
            .update_agent(&id, body)
            .await
            .map(|r| json_response(StatusCode::OK, &r)),
    };
    result.unwrap_or_else(|e| api_error(&e))
}
