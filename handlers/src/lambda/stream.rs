//! StreamErrorLogs: the agent's real-time function. Its payloads:
//! * `{"awslogs": {"data": ...}}` from the CloudWatch Logs subscription: a
//!   batch to decode, classify, group and publish (a control message does
//!   nothing);
//! * in `realtime` mode it is also the agent's lifecycle function: the
//!   schedule's payload (a heartbeat: its scheduled run reads no log group),
//!   `{"action": "register"}` and the master's `Agent Config Update`, handled
//!   exactly as QueryErrorLogs handles them.
//!
//! A payload that is malformed (not base64, not gzip, not a subscription
//! message) is skipped with its reason; a failure on our side (SSM, the bus)
//! fails the invocation, so Lambda retries the batch and, when retries run
//! out, sends it to the function's dead-letter queue.

use super::config::*;
use super::{query_error_logs, Error};
use adapters::aws::eventbridge::EventBridgePublisher;
use adapters::aws::ssm::SsmAgentState;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::classify::ClassifierCache;
use domain::model::{AgentConfig, Rule};
use domain::ports::{LogRecord, LogSource, PortError};
use domain::usecases::agent::{AgentSettings, QueryErrorLogs};
use domain::usecases::stream::{BatchSummary, StreamErrorLogs, StreamScope, SubscriptionMessage};
use domain::window::Window;
use serde_json::{json, Value};

/// The real-time agent has no log groups to query: records come to it.
pub struct NoLogGroups;

#[async_trait]
impl LogSource for NoLogGroups {
    async fn discover(&self, _: &AgentConfig) -> Result<Vec<String>, PortError> {
        Ok(vec![])
    }
    async fn fetch(
        &self,
        _: &[String],
        _: &Window,
        _: &[Rule],
    ) -> Result<Vec<LogRecord>, PortError> {
        Ok(vec![])
    }
    async fn commit(&self, _: &Window) -> Result<(), PortError> {
        Ok(())
    }
}

pub struct StreamAdapters {
    pub settings: AgentSettings,
    pub scope: StreamScope,
    pub publisher: EventBridgePublisher,
    pub state: SsmAgentState,
    pub classifiers: ClassifierCache,
}

impl StreamAdapters {
    pub fn stream(&self) -> StreamErrorLogs<'_> {
        StreamErrorLogs {
            settings: &self.settings,
            scope: self.scope,
            publisher: &self.publisher,
            state: &self.state,
            classifiers: &self.classifiers,
        }
    }

    /// The lifecycle half: QueryErrorLogs over no log groups.
    pub fn lifecycle(&self) -> QueryErrorLogs<'_> {
        QueryErrorLogs {
            settings: &self.settings,
            source: &NoLogGroups,
            publisher: &self.publisher,
            state: &self.state,
        }
    }
}

pub fn stream_adapters<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    config: &aws_config::SdkConfig,
) -> Result<StreamAdapters, ConfigError> {
    let (settings, publisher, state) = super::agent_core(env, config)?;
    let scope = env.parsed(AGENT_MODE, Some(StreamScope::Watched))?;
    Ok(StreamAdapters {
        settings,
        scope,
        publisher,
        state,
        classifiers: ClassifierCache::default(),
    })
}

fn skipped(reason: String) -> Value {
    tracing::warn!(%reason, "payload skipped");
    json!({"outcome": "skipped", "reason": reason})
}

fn summary_json(s: &BatchSummary) -> Value {
    if s.control {
        return json!({"outcome": "control_message"});
    }
    if let Some(reason) = &s.ignored {
        return json!({"outcome": "ignored", "reason": reason, "log_events": s.events});
    }
    json!({
        "outcome": "published",
        "log_events": s.events,
        "records_matched": s.matched,
        "occurrences_published": s.occurrences_published,
    })
}

/// One invocation of stream-error-logs.
pub async fn stream_error_logs(
    stream: &StreamErrorLogs<'_>,
    lifecycle: &QueryErrorLogs<'_>,
    payload: Value,
    now: DateTime<Utc>,
) -> Result<Value, Error> {
    let Some(data) = adapters::awslogs::data_of(&payload) else {
        if payload.get("awslogs").is_some() {
            return Ok(skipped("awslogs without a data string".into()));
        }
        return query_error_logs(lifecycle, payload, now).await;
    };
    let json = match adapters::awslogs::decode(data) {
        Ok(json) => json,
        Err(reason) => return Ok(skipped(reason)),
    };
    let message = match SubscriptionMessage::parse(&json) {
        Ok(m) => m,
        Err(reason) => return Ok(skipped(reason)),
    };
    match stream.handle(&message, now).await {
        Ok(s) => {
            tracing::info!(
                log_group = %message.log_group,
                log_stream = %message.log_stream,
                events = s.events,
                matched = s.matched,
                published = s.occurrences_published,
                "batch handled"
            );
            Ok(summary_json(&s))
        }
        Err(e) if e.is_input_fault() => Ok(skipped(e.to_string())),
        Err(e) => Err(e.into()),
    }
}
