//! [`LogSource`] over CloudWatch Logs Insights.
//!
//! * `discover`: the configured groups that exist, plus every group whose
//!   name starts with a configured prefix (DescribeLogGroups, paginated; an
//!   empty prefix lists every group). `DELIVERY`-class groups are left out:
//!   Logs Insights cannot query them. Sorted, without duplicates.
//! * `fetch`: one Logs Insights query per chunk of at most
//!   [`MAX_GROUPS_PER_QUERY`] groups, at most `max_concurrent_queries` in
//!   flight. A query that returns as many rows as its `limit` may have been
//!   cut, so its window is split in two on a whole second and both halves are
//!   queried again; once a window holds no whole second to split on, its
//!   groups are halved instead, and only a single group over a window inside
//!   one second that still fills the limit is returned as it is, with a
//!   warning naming the group and the window.
//! * `commit`: nothing to do; a fetch reads by time, not by position.
//!
//! **Windows and whole seconds.** StartQuery takes whole epoch seconds, both
//! ends inclusive, while windows are half-open `[start, end)` at any
//! precision. A window is queried over `[floor(start), ceil(end)]` (see
//! [`query_range`]), a superset of it, and the rows are then kept only when
//! `start <= @timestamp < end` (milliseconds). Two consecutive windows
//! `[a, b)` and `[b, c)` may both query the second around `b`, but every
//! record lands in exactly one of them: no gaps, no overlaps.
//!
//! **Query.** `fields @timestamp, @message, @log | filter @message like
//! /<ERROR_PATTERN>/ [or @message like /<agent rule>/ ...] | sort @timestamp
//! asc | limit <row_limit>`. The filter only narrows what Logs Insights
//! returns: the agent classifies every record itself. The agent's own rules
//! (remembered from the config `discover` last saw) are added to the filter,
//! so a rule such as `(?i)card declined` still finds lines without an error
//! word; should Logs Insights reject one of those patterns, the queries run
//! without a server-side filter instead (with a warning).
//!
//! **Rows.** `@timestamp` is `2026-11-25 10:00:00.123` (UTC) on AWS and epoch
//! milliseconds on moto; `@log` is `<account>:<group>` on AWS and the bare
//! group name on moto. Without `@log`, a row belongs to the only group of its
//! query, or to [`UNKNOWN_LOG_GROUP`].
//!
//! **Failures.** `LimitExceededException` (too many concurrent queries) and
//! other retryable StartQuery errors are retried with exponential backoff
//! (bounded); a query ending `Failed`, `Cancelled`, `Timeout` or `Unknown` is
//! an error, never an empty result, and one running longer than
//! `query_timeout` is stopped (StopQuery) and reported as transient.

use crate::aws::errors::port_error;
use crate::backoff::backoff;
use crate::sync::lock;
use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::{LogGroupClass, QueryStatus, ResultField};
use aws_sdk_cloudwatchlogs::Client;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use domain::model::AgentConfig;
use domain::ports::{LogRecord, LogSource, PortError};
use domain::window::Window;
use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Logs Insights returns at most this many rows per query.
pub const MAX_ROW_LIMIT: usize = 10_000;
/// StartQuery takes at most this many log group names.
pub const MAX_GROUPS_PER_QUERY: usize = 50;
/// The log group of a row that does not say which group it came from.
pub const UNKNOWN_LOG_GROUP: &str = "(unknown)";
/// Words of every record the default rules can classify (see
/// `domain::classify::DEFAULT_RULES` and the level words it trusts).
/// `err` also covers `error`, `TypeError`, `ERR` and `"level":"err"`.
pub const ERROR_PATTERN: &str = "(?i)(error|err|exception|traceback|panic|fatal|critical|crit|emerg|alert|severe|timed out|timeout|out of memory|outofmemory|runtime exited|unhandled|warn)";

/// StartQuery attempts when Logs Insights answers "too many queries".
const START_ATTEMPTS: u32 = 8;
/// Consecutive retryable GetQueryResults failures tolerated while polling.
const POLL_FAILURES: u32 = 5;
/// Result pages followed for one query (10,000 rows per page at most).
const MAX_RESULT_PAGES: usize = 10;

#[derive(Debug, Clone)]
struct Settings {
    max_concurrent_queries: usize,
    row_limit: usize,
    poll_initial: Duration,
    poll_max: Duration,
    query_timeout: Duration,
}

/// Error records from CloudWatch Logs through Logs Insights queries.
#[derive(Debug)]
pub struct InsightsLogSource {
    client: Client,
    settings: Settings,
    /// The agent's own rule patterns, from the config `discover` last saw.
    rule_patterns: Mutex<Vec<String>>,
}

impl InsightsLogSource {
    /// Defaults: 4 queries in flight, 10,000 rows per query, polls from
    /// 500 ms backing off to 5 s, 5 minutes per query.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            settings: Settings {
                max_concurrent_queries: 4,
                row_limit: MAX_ROW_LIMIT,
                poll_initial: Duration::from_millis(500),
                poll_max: Duration::from_secs(5),
                query_timeout: Duration::from_secs(300),
            },
            rule_patterns: Mutex::new(Vec::new()),
        }
    }

    /// Queries running at the same time (at least 1). Logs Insights has an
    /// account-wide quota of concurrent queries shared with everyone else.
    pub fn with_max_concurrent_queries(mut self, n: usize) -> Self {
        self.settings.max_concurrent_queries = n.max(1);
        self
    }

    /// Rows one query may return, 1 to [`MAX_ROW_LIMIT`]; a query that
    /// returns this many is split.
    pub fn with_row_limit(mut self, n: usize) -> Self {
        self.settings.row_limit = n.clamp(1, MAX_ROW_LIMIT);
        self
    }

    /// First wait before polling GetQueryResults, doubling up to `max_backoff`.
    /// The same backoff paces StartQuery retries after `LimitExceededException`.
    pub fn with_poll(mut self, initial: Duration, max_backoff: Duration) -> Self {
        self.settings.poll_initial = initial.max(Duration::from_millis(1));
        self.settings.poll_max = max_backoff.max(self.settings.poll_initial);
        self
    }

    /// How long one query may run before it is stopped and the fetch fails
    /// (transiently).
    pub fn with_query_timeout(mut self, timeout: Duration) -> Self {
        self.settings.query_timeout = timeout;
        self
    }

    /// The query string `fetch` sends now.
    pub fn query_string(&self) -> String {
        build_query(self.settings.row_limit, Some(&self.patterns()))
    }

    fn patterns(&self) -> Vec<String> {
        lock(&self.rule_patterns).clone()
    }

    /// Every group whose name starts with `prefix` (every group for `None`).
    async fn list_groups(&self, prefix: Option<&str>) -> Result<Vec<String>, PortError> {
        let mut pages = self
            .client
            .describe_log_groups()
            .set_log_group_name_prefix(prefix.map(str::to_owned))
            .into_paginator()
            .send();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| port_error("DescribeLogGroups", e))?;
            for g in page.log_groups() {
                let Some(name) = g.log_group_name() else {
                    continue;
                };
                if g.log_group_class() == Some(&LogGroupClass::Delivery) {
                    tracing::debug!(
                        log_group = name,
                        "DELIVERY-class log group skipped: Logs Insights cannot query it"
                    );
                    continue;
                }
                names.push(name.to_owned());
            }
        }
        Ok(names)
    }

    /// Whether a log group exists. DescribeLogGroups lists in ASCII order, so
    /// a group is the first entry of the listing with its own name as prefix.
    async fn group_exists(&self, name: &str) -> Result<bool, PortError> {
        let page = self
            .client
            .describe_log_groups()
            .log_group_name_prefix(name)
            .limit(1)
            .send()
            .await
            .map_err(|e| port_error("DescribeLogGroups", e))?;
        Ok(page.log_groups().iter().any(|g| {
            g.log_group_name() == Some(name)
                && g.log_group_class() != Some(&LogGroupClass::Delivery)
        }))
    }
}

#[async_trait]
impl LogSource for InsightsLogSource {
    async fn discover(&self, config: &AgentConfig) -> Result<Vec<String>, PortError> {
        *lock(&self.rule_patterns) = config.rules.iter().map(|r| r.pattern.clone()).collect();
        let prefixes = covering_prefixes(&config.log_group_prefixes);
        let mut found = BTreeSet::new();
        for p in &prefixes {
            let prefix = (!p.is_empty()).then_some(p.as_str());
            found.extend(self.list_groups(prefix).await?);
        }
        for g in &config.log_groups {
            let listed = prefixes.iter().any(|p| g.starts_with(p.as_str()));
            let exists = if listed {
                found.contains(g)
            } else {
                self.group_exists(g).await?
            };
            if exists {
                found.insert(g.clone());
            } else {
                tracing::warn!(log_group = %g, "configured log group does not exist (or cannot be queried): skipped");
            }
        }
        Ok(found.into_iter().collect())
    }

    async fn fetch(&self, groups: &[String], window: &Window) -> Result<Vec<LogRecord>, PortError> {
        let mut groups = groups.to_vec();
        groups.sort();
        groups.dedup();
        if groups.is_empty() || window.end <= window.start {
            return Ok(Vec::new());
        }
        let patterns = self.patterns();
        let ctx = Arc::new(Ctx {
            client: self.client.clone(),
            settings: self.settings.clone(),
            query: build_query(self.settings.row_limit, Some(&patterns)),
            unfiltered: (!patterns.is_empty()).then(|| build_query(self.settings.row_limit, None)),
            filter_rejected: AtomicBool::new(false),
        });
        let mut pending: VecDeque<Job> = groups
            .chunks(MAX_GROUPS_PER_QUERY)
            .map(|c| Job {
                groups: c.to_vec(),
                window: *window,
            })
            .collect();
        let mut running = JoinSet::new();
        let mut records = Vec::new();
        let mut failure: Option<PortError> = None;
        loop {
            // After a failure nothing new starts, but the queries in flight
            // finish (or time out and are stopped) rather than being orphaned.
            while failure.is_none() && running.len() < ctx.settings.max_concurrent_queries {
                let Some(job) = pending.pop_front() else {
                    break;
                };
                let ctx = Arc::clone(&ctx);
                running.spawn(async move { run_job(&ctx, job).await });
            }
            let Some(joined) = running.join_next().await else {
                break;
            };
            match joined {
                Ok(Ok(Outcome::Records(r))) => records.extend(r),
                // Depth first: the halves of a window run before other chunks.
                Ok(Ok(Outcome::Split(a, b))) => {
                    pending.push_front(b);
                    pending.push_front(a);
                }
                Ok(Err(e)) => {
                    failure.get_or_insert(e);
                }
                Err(e) => {
                    failure.get_or_insert(PortError::Transient(format!(
                        "a Logs Insights query task failed: {e}"
                    )));
                }
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        records.sort_by(|a, b| {
            (a.time, &a.log_group, &a.message).cmp(&(b.time, &b.log_group, &b.message))
        });
        Ok(records)
    }

    async fn commit(&self, _window: &Window) -> Result<(), PortError> {
        Ok(())
    }
}

/// The prefixes to list: without duplicates and without those another one
/// covers (`""` covers every name).
fn covering_prefixes(prefixes: &[String]) -> Vec<String> {
    let mut sorted = prefixes.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut out: Vec<String> = Vec::new();
    for p in sorted {
        // Sorted: a covering prefix sorts right before the prefixes it covers.
        if out.last().is_some_and(|q| p.starts_with(q.as_str())) {
            continue;
        }
        out.push(p);
    }
    out
}

/// The Logs Insights query; `patterns: None` means no server-side filter.
fn build_query(row_limit: usize, patterns: Option<&[String]>) -> String {
    let mut q = String::from("fields @timestamp, @message, @log");
    if let Some(patterns) = patterns {
        q.push_str(" | filter @message like /");
        q.push_str(ERROR_PATTERN);
        q.push('/');
        for p in patterns {
            q.push_str(" or @message like /");
            q.push_str(&escape_slashes(p));
            q.push('/');
        }
    }
    q.push_str(&format!(" | sort @timestamp asc | limit {row_limit}"));
    q
}

/// Escapes the `/` that would end a `/regex/` literal early.
fn escape_slashes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut escaped = false;
    for c in pattern.chars() {
        if c == '/' && !escaped {
            out.push('\\');
        }
        escaped = c == '\\' && !escaped;
        out.push(c);
    }
    out
}

/// The whole epoch seconds `(startTime, endTime)` a query over the window
/// asks for: `[floor(start), ceil(end)]`, both inclusive on the service, so
/// a superset of `[start, end)` that the rows are then cut back to.
pub fn query_range(window: &Window) -> (i64, i64) {
    let start = window.start.timestamp();
    let end = window.end.timestamp() + i64::from(window.end.timestamp_subsec_nanos() > 0);
    (start, end)
}

/// [`Window::split`], with the midpoint moved onto a whole second: queries
/// cover whole seconds, so halves that shared a partial second would both
/// query it again. `None` once no whole second lies strictly inside the
/// window: it already is the smallest window a query can ask for.
fn split_on_second(window: &Window) -> Option<(Window, Window)> {
    let (first, _) = window.split()?;
    let mut mid = Utc.timestamp_opt(first.end.timestamp(), 0).single()?;
    if mid <= window.start {
        mid += chrono::Duration::seconds(1);
    }
    (mid < window.end).then_some((
        Window {
            start: window.start,
            end: mid,
        },
        Window {
            start: mid,
            end: window.end,
        },
    ))
}

/// Parses `@timestamp`: `2026-11-25 10:00:00.123` (AWS, UTC), epoch
/// milliseconds (moto) or RFC 3339.
fn parse_timestamp(value: &str) -> Result<DateTime<Utc>, String> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v
            .parse::<i64>()
            .ok()
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .ok_or_else(|| format!("@timestamp {v:?} is out of range"));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f") {
        return Ok(t.and_utc());
    }
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("@timestamp {v:?} is not a time"))
}

/// One result row as a record. `query_groups` are the groups of its query.
fn parse_row<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    query_groups: &[String],
) -> Result<LogRecord, String> {
    let (mut timestamp, mut message, mut log) = (None, None, None);
    for (field, value) in fields {
        match field {
            "@timestamp" => timestamp = Some(value),
            "@message" => message = Some(value),
            "@log" => log = Some(value),
            _ => {}
        }
    }
    let time = parse_timestamp(timestamp.ok_or("the row has no @timestamp")?)?;
    let message = message.ok_or("the row has no @message")?;
    // Group names cannot hold ':', so the name is what follows the last one.
    let group = log
        .map(|l| l.rsplit_once(':').map_or(l, |(_, g)| g))
        .filter(|g| !g.is_empty());
    let log_group = match (group, query_groups) {
        (Some(g), _) => g.to_owned(),
        (None, [only]) => only.clone(),
        (None, _) => UNKNOWN_LOG_GROUP.to_owned(),
    };
    Ok(LogRecord {
        log_group,
        time,
        message: message.trim_end_matches(['\n', '\r']).to_owned(),
    })
}

/// The records of the window among a query's rows; rows that do not parse
/// are skipped with a warning.
fn rows_to_records(
    rows: &[Vec<ResultField>],
    groups: &[String],
    window: &Window,
) -> Vec<LogRecord> {
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        let fields = row
            .iter()
            .filter_map(|f| Some((f.field()?, f.value().unwrap_or_default())));
        match parse_row(fields, groups) {
            Ok(r) if window.start <= r.time && r.time < window.end => records.push(r),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(groups = %describe_groups(groups), "Logs Insights row skipped: {e}")
            }
        }
    }
    records
}

fn describe_groups(groups: &[String]) -> String {
    match groups {
        [one] => one.clone(),
        [first, .., last] => format!("{} groups ({first} .. {last})", groups.len()),
        [] => "no group".into(),
    }
}

/// What every query task of one fetch shares.
struct Ctx {
    client: Client,
    settings: Settings,
    query: String,
    /// The query without a server-side filter, when `query` carries the
    /// agent's own patterns (in case Logs Insights rejects one of them).
    unfiltered: Option<String>,
    filter_rejected: AtomicBool,
}

/// One query to run: some groups over a window.
struct Job {
    groups: Vec<String>,
    window: Window,
}

enum Outcome {
    Records(Vec<LogRecord>),
    /// The query hit the row limit: run these two instead.
    Split(Job, Job),
}

async fn run_job(ctx: &Ctx, job: Job) -> Result<Outcome, PortError> {
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
    let id = match (&ctx.unfiltered, ctx.filter_rejected.load(Ordering::Relaxed)) {
        (Some(unfiltered), true) => start_query(ctx, groups, window, unfiltered).await,
        _ => start_query(ctx, groups, window, &ctx.query).await,
    };
    let id = match id {
        Ok(id) => id,
        Err(StartFailure::Malformed(e)) => match &ctx.unfiltered {
            Some(unfiltered) => {
                if !ctx.filter_rejected.swap(true, Ordering::Relaxed) {
                    tracing::warn!("Logs Insights refused a filter built with the agent's rules ({e}); querying without a server-side filter");
                }
                match start_query(ctx, groups, window, unfiltered).await {
                    Ok(id) => id,
                    Err(StartFailure::Malformed(e) | StartFailure::Other(e)) => return Err(e),
                }
            }
            None => return Err(e),
        },
        Err(StartFailure::Other(e)) => return Err(e),
    };
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
        match ctx.client.get_query_results().query_id(&id).send().await {
            Err(e) => {
                let err = port_error("GetQueryResults", e);
                failures += 1;
                if !err.is_retryable() || failures >= POLL_FAILURES {
                    stop_query(ctx, &id).await;
                    return Err(err);
                }
            }
            Ok(out) => {
                failures = 0;
                match out.status() {
                    Some(QueryStatus::Complete) => return more_pages(ctx, &id, out).await,
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
                        stop_query(ctx, &id).await;
                        return Err(PortError::Permanent(format!(
                            "{} has status {:?}, which this agent does not know",
                            what(),
                            other.as_str()
                        )));
                    }
                    None => {
                        stop_query(ctx, &id).await;
                        return Err(PortError::Transient(format!(
                            "{} answered no status",
                            what()
                        )));
                    }
                }
            }
        }
        if Instant::now() >= deadline {
            stop_query(ctx, &id).await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration as Span;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn w(start: &str, end: &str) -> Window {
        Window {
            start: t(start),
            end: t(end),
        }
    }

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rows_from_aws_name_their_group_after_the_account() {
        let r = parse_row(
            [
                ("@timestamp", "2026-11-25 10:00:00.123"),
                ("@message", "ERROR boom\n"),
                ("@log", "123456789012:/aws/lambda/orders"),
                ("@ptr", "Cm4KNQ"),
            ],
            &groups(&["/aws/lambda/orders", "/aws/lambda/other"]),
        )
        .unwrap();
        assert_eq!(
            r,
            LogRecord {
                log_group: "/aws/lambda/orders".into(),
                time: t("2026-11-25T10:00:00.123Z"),
                message: "ERROR boom".into(),
            }
        );
    }

    #[test]
    fn rows_from_moto_carry_epoch_millis_and_bare_group_names() {
        let r = parse_row(
            [
                ("@timestamp", "1795600800123"),
                (
                    "@message",
                    "Traceback (most recent call last):\n  File \"x.py\"",
                ),
                ("@log", "/aws/lambda/orders"),
            ],
            &groups(&["/aws/lambda/orders", "/b"]),
        )
        .unwrap();
        assert_eq!(r.log_group, "/aws/lambda/orders");
        assert_eq!(r.time, Utc.timestamp_millis_opt(1_795_600_800_123).unwrap());
        assert!(r.message.ends_with("File \"x.py\""));
        assert_eq!(
            parse_timestamp("2026-11-25T10:00:00.5Z").unwrap(),
            t("2026-11-25T10:00:00.500Z")
        );
        assert_eq!(
            parse_timestamp("2026-11-25 10:00:00").unwrap(),
            t("2026-11-25T10:00:00Z")
        );
    }

    #[test]
    fn rows_without_a_group_belong_to_the_only_group_or_to_none() {
        let fields = [
            ("@timestamp", "2026-11-25 10:00:00.000"),
            ("@message", "ERROR x"),
        ];
        assert_eq!(
            parse_row(fields, &groups(&["/only"])).unwrap().log_group,
            "/only"
        );
        assert_eq!(
            parse_row(fields, &groups(&["/a", "/b"])).unwrap().log_group,
            UNKNOWN_LOG_GROUP
        );
        assert_eq!(
            parse_row(
                [("@timestamp", "1"), ("@message", "x"), ("@log", "123:")],
                &groups(&["/a", "/b"])
            )
            .unwrap()
            .log_group,
            UNKNOWN_LOG_GROUP
        );
    }

    #[test]
    fn rows_without_time_or_message_are_refused() {
        assert!(parse_row([("@message", "ERROR x")], &groups(&["/a"])).is_err());
        assert!(parse_row([("@timestamp", "1795600800123")], &groups(&["/a"])).is_err());
        assert!(parse_row(
            [("@timestamp", "yesterday"), ("@message", "x")],
            &groups(&["/a"])
        )
        .is_err());
    }

    #[test]
    fn rows_outside_the_window_are_dropped() {
        let row = |ts: &str| {
            vec![
                ResultField::builder().field("@timestamp").value(ts).build(),
                ResultField::builder()
                    .field("@message")
                    .value("ERROR x")
                    .build(),
            ]
        };
        let window = w("2026-11-25T10:00:00.250Z", "2026-11-25T10:00:01.500Z");
        let rows = vec![
            row("2026-11-25 10:00:00.249"),
            row("2026-11-25 10:00:00.250"),
            row("2026-11-25 10:00:01.499"),
            row("2026-11-25 10:00:01.500"),
            row("not a time"),
        ];
        let got: Vec<_> = rows_to_records(&rows, &groups(&["/a"]), &window)
            .into_iter()
            .map(|r| r.time)
            .collect();
        assert_eq!(
            got,
            [t("2026-11-25T10:00:00.250Z"), t("2026-11-25T10:00:01.499Z")]
        );
    }

    #[test]
    fn windows_map_to_whole_seconds_that_cover_them() {
        assert_eq!(
            query_range(&w("2026-11-25T10:00:00Z", "2026-11-25T10:05:00Z")),
            (1_795_600_800, 1_795_601_100)
        );
        assert_eq!(
            query_range(&w("2026-11-25T10:00:00.999Z", "2026-11-25T10:05:00.001Z")),
            (1_795_600_800, 1_795_601_101)
        );
        // Sub-millisecond precision rounds outwards too.
        let start = t("2026-11-25T10:00:00Z") + Span::nanoseconds(1);
        assert_eq!(
            query_range(&Window {
                start,
                end: start + Span::nanoseconds(1)
            }),
            (1_795_600_800, 1_795_600_801)
        );
    }

    #[test]
    fn consecutive_windows_take_every_millisecond_exactly_once() {
        // Windows with odd, sub-second boundaries, as the agent plans them.
        let mut bounds = vec![t("2026-11-25T10:00:00.250Z")];
        for step in [1_750, 1, 999, 1_000, 2_345, 500] {
            let last = *bounds.last().unwrap();
            bounds.push(last + Span::milliseconds(step));
        }
        let windows: Vec<Window> = bounds
            .windows(2)
            .map(|b| Window {
                start: b[0],
                end: b[1],
            })
            .collect();
        let first = bounds[0] - Span::seconds(1);
        for ms in 0..9_000 {
            let at = first + Span::milliseconds(ms);
            let owners: Vec<&Window> = windows
                .iter()
                .filter(|w| w.start <= at && at < w.end)
                .collect();
            let inside = bounds[0] <= at && at < *bounds.last().unwrap();
            assert_eq!(owners.len(), usize::from(inside), "{at}");
            for w in owners {
                // ...and the query of the window that keeps it asks for its second.
                let (s, e) = query_range(w);
                assert!(
                    s * 1000 <= at.timestamp_millis() && at.timestamp() <= e,
                    "{at}"
                );
            }
        }
    }

    #[test]
    fn windows_split_on_whole_seconds_down_to_one_second() {
        let window = w("2026-11-25T10:00:00.250Z", "2026-11-25T10:00:03.700Z");
        let (a, b) = split_on_second(&window).unwrap();
        assert_eq!((a.start, a.end, b.end), (window.start, b.start, window.end));
        assert_eq!(b.start, t("2026-11-25T10:00:01Z"));
        // Each half queries fewer seconds than the whole.
        let span = |w: &Window| query_range(w).1 - query_range(w).0;
        assert!(span(&a) < span(&window) && span(&b) < span(&window));
        // A midpoint before the first whole second moves up to it.
        let (c, d) =
            split_on_second(&w("2026-11-25T10:00:00.250Z", "2026-11-25T10:00:01.100Z")).unwrap();
        assert_eq!(
            (c.end, d.start),
            (t("2026-11-25T10:00:01Z"), t("2026-11-25T10:00:01Z"))
        );
        // No whole second strictly inside: the smallest query already.
        assert!(split_on_second(&w("2026-11-25T10:00:00.250Z", "2026-11-25T10:00:01Z")).is_none());
        assert!(split_on_second(&w("2026-11-25T10:00:00Z", "2026-11-25T10:00:01Z")).is_none());
        assert!(split_on_second(&w("2026-11-25T10:00:00Z", "2026-11-25T10:00:02Z")).is_some());
    }

    #[test]
    fn the_query_filters_sorts_and_limits() {
        assert_eq!(
            build_query(10_000, Some(&[])),
            format!(
                "fields @timestamp, @message, @log | filter @message like /{ERROR_PATTERN}/ | sort @timestamp asc | limit 10000"
            )
        );
        let q = build_query(5, Some(&groups(&["(?i)card declined", "a/b\\/c"])));
        assert!(q.ends_with(
            "/ or @message like /(?i)card declined/ or @message like /a\\/b\\/c/ | sort @timestamp asc | limit 5"
        ));
        assert_eq!(
            build_query(7, None),
            "fields @timestamp, @message, @log | sort @timestamp asc | limit 7"
        );
    }

    #[test]
    fn the_default_filter_lets_through_every_default_error() {
        let filter = filter_words(ERROR_PATTERN);
        for line in [
            "thread 'main' panicked at src/main.rs:10:5",
            "Task timed out after 3.00 seconds",
            "java.lang.OutOfMemoryError: Java heap space",
            "Runtime exited with error: signal: killed",
            "Runtime.ExitError",
            "TypeError: x",
            "Traceback (most recent call last):",
            "Unhandled promise rejection",
            "2026-11-25 10:00:00 WARN disk",
            "[ERR] x",
            r#"{"level":"crit","msg":"x"}"#,
            r#"{"level":"emerg","msg":"x"}"#,
            r#"{"level":"alert","msg":"x"}"#,
            r#"{"level":"severe","msg":"x"}"#,
        ] {
            assert!(filter(line), "{line}");
            assert!(
                domain::classify::Classifier::defaults()
                    .classify(line)
                    .is_some(),
                "{line}"
            );
        }
    }

    /// The filter's words, matched case-insensitively as Logs Insights does.
    fn filter_words(pattern: &str) -> impl Fn(&str) -> bool {
        let words: Vec<String> = pattern
            .trim_start_matches("(?i)(")
            .trim_end_matches(')')
            .split('|')
            .map(str::to_lowercase)
            .collect();
        move |line| {
            let line = line.to_lowercase();
            words.iter().any(|w| line.contains(w.as_str()))
        }
    }

    #[test]
    fn covering_prefixes_drop_duplicates_and_covered_ones() {
        assert_eq!(
            covering_prefixes(&groups(&[
                "/aws/lambda/",
                "/aws/",
                "/b",
                "/aws/lambda/x",
                "/b"
            ])),
            groups(&["/aws/", "/b"])
        );
        assert_eq!(covering_prefixes(&groups(&["/a", "", "/b"])), groups(&[""]));
        assert!(covering_prefixes(&[]).is_empty());
    }

    /// A scripted CloudWatch Logs endpoint on loopback (std threads: the
    /// statuses and refusals moto never answers).
    mod fake {
        use std::io::{BufRead, BufReader, Read, Write};
        use std::net::TcpListener;
        use std::sync::{Arc, Mutex};

        pub type Reply = (u16, String);
        pub type Script = Box<dyn FnMut(&str, &str) -> Reply + Send>;

        /// Serves `script(operation, body)`; answers the client and the calls seen.
        pub fn serve(script: Script) -> (aws_sdk_cloudwatchlogs::Client, Arc<Mutex<Vec<String>>>) {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let calls = Arc::new(Mutex::new(Vec::new()));
            let script = Arc::new(Mutex::new(script));
            {
                let calls = Arc::clone(&calls);
                std::thread::spawn(move || {
                    for stream in listener.incoming() {
                        let Ok(stream) = stream else { return };
                        let (calls, script) = (Arc::clone(&calls), Arc::clone(&script));
                        std::thread::spawn(move || {
                            let mut reader = BufReader::new(stream.try_clone().unwrap());
                            let mut out = stream;
                            loop {
                                let (mut target, mut length) = (String::new(), 0usize);
                                let mut line = String::new();
                                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                    return;
                                }
                                loop {
                                    line.clear();
                                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                        return;
                                    }
                                    let l = line.trim_end();
                                    if l.is_empty() {
                                        break;
                                    }
                                    let (k, v) = l.split_once(':').unwrap_or((l, ""));
                                    match k.to_ascii_lowercase().as_str() {
                                        "x-amz-target" => {
                                            target = v.trim().rsplit('.').next().unwrap().to_owned()
                                        }
                                        "content-length" => length = v.trim().parse().unwrap(),
                                        _ => {}
                                    }
                                }
                                let mut body = vec![0; length];
                                reader.read_exact(&mut body).unwrap();
                                calls.lock().unwrap().push(target.clone());
                                let (status, reply) = (script.lock().unwrap())(
                                    &target,
                                    &String::from_utf8_lossy(&body),
                                );
                                let head = format!(
                                    "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n",
                                    reply.len()
                                );
                                if out
                                    .write_all(head.as_bytes())
                                    .and_then(|_| out.write_all(reply.as_bytes()))
                                    .is_err()
                                {
                                    return;
                                }
                            }
                        });
                    }
                });
            }
            let config = aws_sdk_cloudwatchlogs::Config::builder()
                .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
                .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new(
                    "test", "test", None, None, "test",
                ))
                .endpoint_url(format!("http://{addr}"))
                .retry_config(aws_sdk_cloudwatchlogs::config::retry::RetryConfig::disabled())
                .build();
            (aws_sdk_cloudwatchlogs::Client::from_conf(config), calls)
        }

        pub fn ok(body: &str) -> Reply {
            (200, body.to_owned())
        }

        pub fn error(code: &str) -> Reply {
            (
                400,
                format!(r#"{{"__type":"{code}","message":"scripted"}}"#),
            )
        }

        pub fn status(s: &str) -> Reply {
            ok(&format!(r#"{{"status":"{s}","results":[]}}"#))
        }
    }

    fn quick(client: aws_sdk_cloudwatchlogs::Client) -> InsightsLogSource {
        InsightsLogSource::new(client).with_poll(Duration::from_millis(1), Duration::from_millis(4))
    }

    fn window() -> Window {
        w("2026-11-25T10:00:00Z", "2026-11-25T10:05:00Z")
    }

    const ONE_ROW: &str = r#"{"status":"Complete","results":[[{"field":"@timestamp","value":"2026-11-25 10:01:00.000"},{"field":"@message","value":"ERROR boom"},{"field":"@log","value":"123456789012:/g"}]]}"#;

    #[tokio::test]
    async fn too_many_queries_is_retried_and_running_queries_are_polled() {
        let (mut starts, mut polls) = (0, 0);
        let (client, calls) = fake::serve(Box::new(move |op, body| match op {
            "StartQuery" => {
                starts += 1;
                assert!(body.contains(r#""startTime":1795600800"#), "{body}");
                assert!(body.contains(r#""endTime":1795601100"#), "{body}");
                if starts <= 2 {
                    fake::error("LimitExceededException")
                } else {
                    fake::ok(r#"{"queryId":"q1"}"#)
                }
            }
            "GetQueryResults" => {
                polls += 1;
                match polls {
                    1 => fake::status("Scheduled"),
                    2 => fake::status("Running"),
                    _ => fake::ok(ONE_ROW),
                }
            }
            other => panic!("unexpected {other}"),
        }));
        let records = quick(client)
            .fetch(&groups(&["/g"]), &window())
            .await
            .unwrap();
        assert_eq!(
            records,
            [LogRecord {
                log_group: "/g".into(),
                time: t("2026-11-25T10:01:00Z"),
                message: "ERROR boom".into()
            }]
        );
        assert_eq!(
            *calls.lock().unwrap(),
            [
                "StartQuery",
                "StartQuery",
                "StartQuery",
                "GetQueryResults",
                "GetQueryResults",
                "GetQueryResults"
            ]
        );
    }

    #[tokio::test]
    async fn queries_that_end_badly_are_errors_not_empty_results() {
        for (status, retryable) in [
            ("Failed", true),
            ("Cancelled", true),
            ("Timeout", true),
            ("Unknown", true),
            ("Exploded", false),
        ] {
            let (client, _) = fake::serve(Box::new(move |op, _| match op {
                "StartQuery" => fake::ok(r#"{"queryId":"q1"}"#),
                "GetQueryResults" => fake::status(status),
                "StopQuery" => fake::ok(r#"{"success":true}"#),
                other => panic!("unexpected {other}"),
            }));
            let err = quick(client)
                .fetch(&groups(&["/g"]), &window())
                .await
                .unwrap_err();
            assert_eq!(err.is_retryable(), retryable, "{status}: {err}");
            assert!(err.to_string().contains(status), "{err}");
        }
    }

    #[tokio::test]
    async fn a_query_over_its_time_is_stopped_and_transient() {
        let (client, calls) = fake::serve(Box::new(|op, _| match op {
            "StartQuery" => fake::ok(r#"{"queryId":"q1"}"#),
            "GetQueryResults" => fake::status("Running"),
            "StopQuery" => fake::ok(r#"{"success":true}"#),
            other => panic!("unexpected {other}"),
        }));
        let source = quick(client).with_query_timeout(Duration::from_millis(40));
        let err = source.fetch(&groups(&["/g"]), &window()).await.unwrap_err();
        assert!(matches!(err, PortError::Transient(_)), "{err}");
        assert!(err.to_string().contains("did not complete"), "{err}");
        assert_eq!(
            calls.lock().unwrap().last().map(String::as_str),
            Some("StopQuery")
        );
    }

    #[tokio::test]
    async fn retries_of_a_refused_start_are_bounded() {
        let (client, calls) = fake::serve(Box::new(|op, _| match op {
            "StartQuery" => fake::error("LimitExceededException"),
            other => panic!("unexpected {other}"),
        }));
        let err = quick(client)
            .fetch(&groups(&["/g"]), &window())
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err}");
        assert_eq!(calls.lock().unwrap().len(), START_ATTEMPTS as usize);
        // A refusal no retry can fix is not retried.
        let (client, calls) =
            fake::serve(Box::new(|_, _| fake::error("ResourceNotFoundException")));
        let err = quick(client)
            .fetch(&groups(&["/g"]), &window())
            .await
            .unwrap_err();
        assert!(!err.is_retryable(), "{err}");
        assert_eq!(calls.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_refused_rule_filter_falls_back_to_no_server_side_filter() {
        let (client, _) = fake::serve(Box::new(|op, body| match op {
            "StartQuery" if body.contains("filter") => fake::error("MalformedQueryException"),
            "StartQuery" => fake::ok(r#"{"queryId":"q1"}"#),
            "GetQueryResults" => fake::ok(ONE_ROW),
            other => panic!("unexpected {other}"),
        }));
        let source = quick(client);
        let config = AgentConfig {
            log_group_prefixes: vec![],
            rules: vec![domain::model::Rule {
                pattern: "card declined".into(),
                severity: domain::model::Severity::Medium,
            }],
            ..AgentConfig::default()
        };
        assert!(source.discover(&config).await.unwrap().is_empty());
        assert!(source
            .query_string()
            .contains("or @message like /card declined/"));
        assert_eq!(
            source
                .fetch(&groups(&["/g"]), &window())
                .await
                .unwrap()
                .len(),
            1
        );
        // Without rules of its own, a refused query is an error.
        let (client, _) = fake::serve(Box::new(|_, _| fake::error("MalformedQueryException")));
        assert!(quick(client)
            .fetch(&groups(&["/g"]), &window())
            .await
            .is_err());
    }
}
