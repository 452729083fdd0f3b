//! Errors to answers: every status code is chosen here, none in the domain.

use super::*;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::model::EventId;
use domain::ports::PortError;
use domain::usecases::api::{
    GetAgentError, GetEventError, InvalidInput, ListError, UpdateAgentError, UpdateEventError,
};
use serde::Serialize;

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
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
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

    pub(crate) fn method_not_allowed(method: &Method, path: &str, allow: &'static str) -> Self {
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
pub(crate) struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
pub(crate) struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

pub(crate) fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
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
pub(crate) fn update_event_problem(id: &EventId, e: UpdateEventError) -> Problem {
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
