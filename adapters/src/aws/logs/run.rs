//! Running the queries of one fetch: start (with retries and the unfiltered
//! fallback), poll, page, stop, and split what hit the row limit.

use super::query::{query_range, split_on_second};
use super::rows::{describe_groups, rows_to_records};
use super::{Settings, MAX_RESULT_PAGES, POLL_FAILURES, START_ATTEMPTS};
use crate::aws::errors::port_error;
use crate::backoff::backoff;
use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};
use aws_sdk_cloudwatchlogs::Client;
use domain::ports::{LogRecord, PortError};
use domain::window::Window;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::time::Instant;

/// What every query task of one fetch shares.
pub(super) struct Ctx {
    pub(super) client: Client,
    pub(super) settings: Settings,
    pub(super) query: String,
    /// The query without a server-side filter, when `query` carries the
    /// agent's own patterns (in case Logs Insights rejects one of them).
    pub(super) unfiltered: Option<String>,
    pub(super) filter_rejected: AtomicBool,
}

/// One query to run: some groups over a window.
pub(super) struct Job {
    pub(super) groups: Vec<String>,
    pub(super) window: Window,
}

pub(super) enum Outcome {
    Records(Vec<LogRecord>),
    /// The query hit the row limit: run these two instead.
    Split(Job, Job),
}

pub(super) async fn run_job(ctx: &Ctx, job: Job) -> Result<Outcome, PortError> {
    let rows = run_query(ctx, &job.groups, &job.window).await?;
    if rows.len() >= ctx.settings.row_limit {
        if let Some((a, b)) = split_on_second(&job.window) {
            tracing::debug!(groups = %describe_groups(&job.groups), start = %job.window.start, end = %job.window.end, "row limit reached: splitting the window");
            return Ok(Outcome::Split(
                Job {
                    groups: job.groups.clone(),
                    window: a,
                },
                Job {
                    groups: job.groups,
                    window: b,
                },
            ));
        }
        if job.groups.len() > 1 {
            let (left, right) = job.groups.split_at(job.groups.len() / 2);
            return Ok(Outcome::Split(
                Job {
                    groups: left.to_vec(),
                    window: job.window,
                },
                Job {
                    groups: right.to_vec(),
                    window: job.window,
                },
            ));
        }
        tracing::warn!(
            log_group = %job.groups[0],
            window_start = %job.window.start,
            window_end = %job.window.end,
            rows = rows.len(),
            "Logs Insights row limit reached on the smallest window a query can ask for: records beyond the limit are missed"
        );
    }
    Ok(Outcome::Records(rows_to_records(
        &rows,
        &job.groups,
        &job.window,
    )))
}

enum StartFailure {
    /// MalformedQueryException: the query string itself was refused.
    Malformed(PortError),
    Other(PortError),
}

async fn start_query(
    ctx: &Ctx,
    groups: &[String],
    window: &Window,
    query: &str,
) -> Result<String, StartFailure> {
    let (start, end) = query_range(window);
    let mut attempt = 1;
    loop {
        let sent = ctx
            .client
            .start_query()
            .set_log_group_names(Some(groups.to_vec()))
            .start_time(start)
            .end_time(end)
            .query_string(query)
            .send()
            .await;
        match sent {
            Ok(out) => {
                return out.query_id().map(str::to_owned).ok_or_else(|| {
                    StartFailure::Other(PortError::Permanent(
                        "StartQuery answered no query id".into(),
                    ))
                })
            }
            Err(e) => {
                let malformed = e
                    .as_service_error()
                    .is_some_and(|se| se.is_malformed_query_exception());
                let err = port_error("StartQuery", e);
                if malformed {
                    return Err(StartFailure::Malformed(err));
                }
                if !err.is_retryable() || attempt >= START_ATTEMPTS {
                    return Err(StartFailure::Other(err));
                }
                tracing::debug!(attempt, "StartQuery refused ({err}); retrying");
                // Jittered, so that queries refused together do not all retry together.
                tokio::time::sleep(backoff(
                    ctx.settings.poll_initial,
                    ctx.settings.poll_max,
                    attempt - 1,
                ))
                .await;
                attempt += 1;
            }
        }
    }
}

/// Runs one query to completion and answers its raw rows.
async fn run_query(
    ctx: &Ctx,
    groups: &[String],
    window: &Window,
) -> Result<Vec<Vec<ResultField>>, PortError> {
    let id = start_with_fallback(ctx, groups, window).await?;
    poll_until_complete(ctx, &id, groups, window).await
}

/// Starts the query, falling back to the unfiltered query for good once
/// Logs Insights refuses the filter built with the agent's rules.
async fn start_with_fallback(
    ctx: &Ctx,
    groups: &[String],
    window: &Window,
) -> Result<String, PortError> {
    let id = match (&ctx.unfiltered, ctx.filter_rejected.load(Ordering::Relaxed)) {
        (Some(unfiltered), true) => start_query(ctx, groups, window, unfiltered).await,
        _ => start_query(ctx, groups, window, &ctx.query).await,
    };
    match id {
        Ok(id) => Ok(id),
        Err(StartFailure::Malformed(e)) => match &ctx.unfiltered {
            Some(unfiltered) => {
                if !ctx.filter_rejected.swap(true, Ordering::Relaxed) {
                    tracing::warn!("Logs Insights refused a filter built with the agent's rules ({e}); querying without a server-side filter");
                }
                match start_query(ctx, groups, window, unfiltered).await {
                    Ok(id) => Ok(id),
                    Err(StartFailure::Malformed(e) | StartFailure::Other(e)) => Err(e),
                }
            }
            None => Err(e),
        },
        Err(StartFailure::Other(e)) => Err(e),
    }
}

/// Polls GetQueryResults with backoff until the query completes, fails or
/// runs out of time (then it is stopped).
async fn poll_until_complete(
    ctx: &Ctx,
    id: &str,
    groups: &[String],
    window: &Window,
) -> Result<Vec<Vec<ResultField>>, PortError> {
    let what = || {
        format!(
            "Logs Insights query {id} over {} in [{}, {})",
            describe_groups(groups),
            window.start,
            window.end
        )
    };
    let deadline = Instant::now() + ctx.settings.query_timeout;
    let mut delay = ctx.settings.poll_initial;
    let mut failures = 0;
    loop {
        tokio::time::sleep(delay.min(deadline.saturating_duration_since(Instant::now()))).await;
        match ctx.client.get_query_results().query_id(id).send().await {
            Err(e) => {
                let err = port_error("GetQueryResults", e);
                failures += 1;
                if !err.is_retryable() || failures >= POLL_FAILURES {
                    stop_query(ctx, id).await;
                    return Err(err);
                }
            }
            Ok(out) => {
                failures = 0;
                match out.status() {
                    Some(QueryStatus::Complete) => return more_pages(ctx, id, out).await,
                    Some(QueryStatus::Scheduled | QueryStatus::Running) => {}
                    Some(
                        status @ (QueryStatus::Failed
                        | QueryStatus::Cancelled
                        | QueryStatus::Timeout
                        | QueryStatus::UnknownValue),
                    ) => {
                        return Err(PortError::Transient(format!(
                            "{} ended with status {}",
                            what(),
                            status.as_str()
                        )))
                    }
                    Some(other) => {
                        stop_query(ctx, id).await;
                        return Err(PortError::Permanent(format!(
                            "{} has status {:?}, which this agent does not know",
                            what(),
                            other.as_str()
                        )));
                    }
                    None => {
                        stop_query(ctx, id).await;
                        return Err(PortError::Transient(format!(
                            "{} answered no status",
                            what()
                        )));
                    }
                }
            }
        }
        if Instant::now() >= deadline {
            stop_query(ctx, id).await;
            return Err(PortError::Transient(format!(
                "{} did not complete within {:?}; stopped",
                what(),
                ctx.settings.query_timeout
            )));
        }
        delay = (delay * 2).min(ctx.settings.poll_max);
    }
}

/// The rows of a complete query, following `nextToken` should the service
/// page them.
async fn more_pages(
    ctx: &Ctx,
    id: &str,
    first: aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput,
) -> Result<Vec<Vec<ResultField>>, PortError> {
    let mut rows = first.results().to_vec();
    let mut token = first.next_token().map(str::to_owned);
    let mut pages = 1;
    while let Some(t) = token.take().filter(|t| !t.is_empty()) {
        if pages >= MAX_RESULT_PAGES {
            break;
        }
        let out = ctx
            .client
            .get_query_results()
            .query_id(id)
            .next_token(&t)
            .send()
            .await
            .map_err(|e| port_error("GetQueryResults", e))?;
        if out.results().is_empty() {
            break;
        }
        rows.extend_from_slice(out.results());
        token = out.next_token().filter(|n| *n != t).map(str::to_owned);
        pages += 1;
    }
    Ok(rows)
}

/// Best effort: a query left running still counts against the account's
/// concurrent-query quota until it ends.
async fn stop_query(ctx: &Ctx, id: &str) {
    if let Err(e) = ctx.client.stop_query().query_id(id).send().await {
        tracing::debug!(
            query_id = id,
            "StopQuery failed: {}",
            port_error("StopQuery", e)
        );
    }
}
