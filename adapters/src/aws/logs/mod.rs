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

mod query;
mod rows;
mod run;
#[cfg(test)]
mod tests;

pub use query::query_range;

use crate::aws::errors::port_error;
use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::LogGroupClass;
use aws_sdk_cloudwatchlogs::Client;
use domain::model::{AgentConfig, Rule};
use domain::ports::{LogRecord, LogSource, PortError};
use domain::window::Window;
use query::{build_query, covering_prefixes};
use run::{run_job, Ctx, Job, Outcome};
use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

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

    /// The query string `fetch` sends for these rules.
    pub fn query_string(&self, rules: &[Rule]) -> String {
        build_query(self.settings.row_limit, Some(&patterns(rules)))
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

/// The rules' patterns, which the query lets through besides the error words.
fn patterns(rules: &[Rule]) -> Vec<String> {
    rules.iter().map(|r| r.pattern.clone()).collect()
}

#[async_trait]
impl LogSource for InsightsLogSource {
    async fn discover(&self, config: &AgentConfig) -> Result<Vec<String>, PortError> {
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

    async fn fetch(
        &self,
        groups: &[String],
        window: &Window,
        rules: &[Rule],
    ) -> Result<Vec<LogRecord>, PortError> {
        let mut groups = groups.to_vec();
        groups.sort();
        groups.dedup();
        if groups.is_empty() || window.end <= window.start {
            return Ok(Vec::new());
        }
        let patterns = patterns(rules);
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
