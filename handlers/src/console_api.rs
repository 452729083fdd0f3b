//! The console's two read-only routes (docs/architecture.md, Console):
//! `GET /events/{eventId}/activity[?days=N]` and `GET /overview[?date=YYYY-MM-DD]`.
//! Extractors turn the request into domain values; the use cases are in
//! `domain::usecases::console`; errors are the router's [`Problem`]s.

use crate::api::{methods, query_pairs, Ok200, Problem};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use chrono::NaiveDate;
use domain::model::EventId;
use domain::usecases::api::Api;
use domain::usecases::console::{parse_day, ActivityDays};
use std::sync::Arc;

/// The only query parameter `name` (or none); anything else is a 400.
fn single_param(parts: &Parts, name: &str) -> Result<Option<String>, Problem> {
    let mut value = None;
    for (k, v) in query_pairs(parts) {
        if k != name {
            return Err(Problem::bad_request(format!(
                "unknown query parameter {k:?}; allowed: {name}"
            )));
        }
        if value.replace(v).is_some() {
            return Err(Problem::bad_request(format!(
                "query parameter {name:?} is given more than once"
            )));
        }
    }
    Ok(value)
}

/// `{eventId}` of `/events/{eventId}/activity`, decoded; one that cannot be an
/// id is not found, like an unknown one.
pub struct ActivityEventId(pub EventId);

impl<S: Send + Sync> FromRequestParts<S> for ActivityEventId {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let segment = parts
            .uri
            .path()
            .trim_end_matches("/activity")
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let raw: String = url::form_urlencoded::parse(format!("x={segment}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        raw.parse()
            .map(Self)
            .map_err(|_| Problem::not_found(format!("no event {raw:?}")))
    }
}

/// `?days=N`: 1-90, 14 when absent.
pub struct DaysParam(pub ActivityDays);

impl<S: Send + Sync> FromRequestParts<S> for DaysParam {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        Ok(Self(match single_param(parts, "days")? {
            None => ActivityDays::default(),
            Some(v) => ActivityDays::parse(&v)?,
        }))
    }
}

/// `?date=YYYY-MM-DD`, `None` when absent (today, UTC).
pub struct DateParam(pub Option<NaiveDate>);

impl<S: Send + Sync> FromRequestParts<S> for DateParam {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        Ok(Self(
            single_param(parts, "date")?
                .map(|v| parse_day("date", &v))
                .transpose()?,
        ))
    }
}

async fn event_activity(
    State(api): State<Arc<Api>>,
    ActivityEventId(id): ActivityEventId,
    DaysParam(days): DaysParam,
) -> Result<Response, Problem> {
    Ok(Ok200(api.event_activity(&id, days).await?).into_response())
}

async fn overview(
    State(api): State<Arc<Api>>,
    DateParam(date): DateParam,
) -> Result<Response, Problem> {
    let date = date.unwrap_or_else(|| api.clock.now().date_naive());
    match api.overview(date).await {
        Ok(o) => Ok(Ok200(o).into_response()),
        Err(e) => Err(Problem::store(e)),
    }
}

/// `GET /events/{eventId}/activity`, with the router's body bound and 405s.
pub fn activity_route() -> MethodRouter<Arc<Api>> {
    methods(get(event_activity), "GET")
}

/// `GET /overview`, with the router's body bound and 405s.
pub fn overview_route() -> MethodRouter<Arc<Api>> {
    methods(get(overview), "GET")
}
