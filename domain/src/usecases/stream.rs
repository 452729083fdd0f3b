//! StreamErrorLogs: the agent's real-time path. CloudWatch Logs delivers
//! the records its subscription filter lets through in batches (one log
//! group and log stream each); they are classified and fingerprinted by the
//! same code as the scheduled agent ([`Classifier`], [`fingerprint`]),
//! grouped within the batch per (log group, fingerprint, UTC day), and
//! published as the same `Log Errors Detected` occurrences.
//!
//! Occurrence ids come from the log event ids (unique per log event in
//! CloudWatch Logs): a batch delivered again, or an invocation retried after
//! a failed publish, yields the same ids, so the master counts nothing twice.
//!
//! The payload's transport (base64 and gzip) is decoded by the adapter
//! (`adapters::awslogs`); this module takes the decompressed JSON.

use crate::classify::{Classifier, ClassifierCache};
use crate::envelope::*;
use crate::fingerprint::fingerprint_of;
use crate::logtext::{title_of, truncate, ParsedRecord};
use crate::model::*;
use crate::ports::{AgentState, AgentStateStore, Publisher};
use crate::usecases::agent::{AgentError, AgentSettings, SAMPLE_LIMIT};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;

pub const DATA_MESSAGE: &str = "DATA_MESSAGE";
pub const CONTROL_MESSAGE: &str = "CONTROL_MESSAGE";

/// One decompressed subscription payload, as CloudWatch Logs writes it. Its
/// events borrow their ids and messages from the JSON where they can (no
/// escapes): a batch holds up to 10,000 of them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionMessage<'a> {
    pub message_type: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub log_group: String,
    #[serde(default)]
    pub log_stream: String,
    #[serde(default)]
    pub subscription_filters: Vec<String>,
    #[serde(default, borrow)]
    pub log_events: Vec<SubscriptionEvent<'a>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SubscriptionEvent<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    #[serde(borrow)]
    pub message: Cow<'a, str>,
}

impl<'a> SubscriptionMessage<'a> {
    /// Parses the decompressed JSON; says why it is not a usable batch.
    pub fn parse(json: &'a [u8]) -> Result<Self, String> {
        let m: Self = serde_json::from_slice(json)
            .map_err(|e| format!("not a CloudWatch Logs subscription message: {e}"))?;
        match m.message_type.as_str() {
            CONTROL_MESSAGE => Ok(m),
            DATA_MESSAGE if m.log_group.is_empty() => Err("DATA_MESSAGE without a logGroup".into()),
            DATA_MESSAGE => Ok(m),
            other => Err(format!("unknown messageType {other:?}")),
        }
    }
}

/// Which log groups the real-time path reports, by agent mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamScope {
    /// `realtime`: the groups the agent's config watches (its prefixes and
    /// log groups), as the scheduled agent would.
    Watched,
    /// `both`: every group the config does *not* watch; the scheduled agent
    /// keeps its own, so no record is counted by both paths.
    Unwatched,
}

impl std::str::FromStr for StreamScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "realtime" => Ok(StreamScope::Watched),
            "both" => Ok(StreamScope::Unwatched),
            _ => Err(format!("{s:?} is not realtime or both")),
        }
    }
}

/// Whether the config's prefixes or log groups name this group (an empty
/// prefix names every group).
pub fn watches(config: &AgentConfig, log_group: &str) -> bool {
    config
        .log_group_prefixes
        .iter()
        .any(|p| log_group.starts_with(p.as_str()))
        || config.log_groups.iter().any(|g| g == log_group)
}

impl StreamScope {
    pub fn reports(self, config: &AgentConfig, log_group: &str) -> bool {
        watches(config, log_group) == (self == StreamScope::Watched)
    }
}

struct Group<'a> {
    first: &'a SubscriptionEvent<'a>,
    /// The first event, read: its title is the group's.
    first_read: ParsedRecord<'a>,
    last_id: &'a str,
    count: u64,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    severity: Severity,
}

fn time_of(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// What a batch holds: the occurrences, and how many records matched or
/// were skipped (a timestamp out of range).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Grouped {
    pub matched: u64,
    pub skipped: u64,
    pub details: Vec<LogErrorsDetail>,
}

/// Classifies, fingerprints and groups one batch: one occurrence per
/// (fingerprint, UTC day) of the batch's log group, in a stable order. The
/// occurrence id is derived from the agent, the log group, the fingerprint,
/// the day and the ids of the group's first and last log events.
pub fn group_batch(
    agent_id: &AgentId,
    classifier: &Classifier,
    m: &SubscriptionMessage<'_>,
) -> Grouped {
    let mut groups: HashMap<(Fingerprint, NaiveDate), Group> = HashMap::new();
    let mut out = Grouped::default();
    for e in &m.log_events {
        let record = ParsedRecord::parse(&e.message);
        let Some(sev) = classifier.classify_parsed(&record) else {
            continue;
        };
        let Some(time) = time_of(e.timestamp) else {
            tracing::warn!(id = %e.id, timestamp = e.timestamp, "log event skipped: timestamp out of range");
            out.skipped += 1;
            continue;
        };
        out.matched += 1;
        let g = groups
            .entry((fingerprint_of(&record), time.date_naive()))
            .or_insert_with(|| Group {
                first: e,
                first_read: record,
                last_id: &e.id,
                count: 0,
                first_seen: time,
                last_seen: time,
                severity: sev,
            });
        g.count += 1;
        g.last_id = &e.id;
        g.first_seen = g.first_seen.min(time);
        g.last_seen = g.last_seen.max(time);
        g.severity = g.severity.max(sev);
    }
    let agent = agent_id.to_string();
    // The batch's span stands for the scheduled agent's window.
    let window_start = groups.values().map(|g| g.first_seen).min();
    let window_end = groups.values().map(|g| g.last_seen).max();
    out.details = groups
        .into_iter()
        .map(|((fp, day), g)| {
            let day = day.to_string();
            let key = [
                agent.as_str(),
                "stream",
                m.log_group.as_str(),
                fp.as_str(),
                &day,
                &g.first.id,
                g.last_id,
            ];
            let sample = truncate(&g.first.message, SAMPLE_LIMIT);
            LogErrorsDetail {
                agent_id: agent.clone(),
                occurrence_key: OccurrenceId::derive(&key).to_string(),
                log_group: m.log_group.clone(),
                fingerprint: fp.to_string(),
                severity: g.severity,
                title: title_of(&g.first_read),
                sample_truncated: sample.len() < g.first.message.len(),
                sample,
                count: g.count,
                first_seen: g.first_seen,
                last_seen: g.last_seen,
                window_start: window_start.unwrap_or(g.first_seen),
                window_end: window_end.unwrap_or(g.last_seen),
            }
        })
        .collect();
    out.details
        .sort_by(|a, b| (&a.fingerprint, a.first_seen).cmp(&(&b.fingerprint, b.first_seen)));
    out
}

/// What one batch did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchSummary {
    pub control: bool,
    /// Why the batch's log group was not reported (agent disabled, out of scope).
    pub ignored: Option<String>,
    pub events: u64,
    pub matched: u64,
    pub occurrences_published: u64,
}

/// The real-time agent, over the same state (config) and publisher as the
/// scheduled one.
pub struct StreamErrorLogs<'a> {
    pub settings: &'a AgentSettings,
    pub scope: StreamScope,
    pub publisher: &'a dyn Publisher,
    pub state: &'a dyn AgentStateStore,
    /// Kept by the function across invocations.
    pub classifiers: &'a ClassifierCache,
}

impl StreamErrorLogs<'_> {
    fn config_of<'s>(&'s self, state: &'s AgentState) -> &'s AgentConfig {
        state
            .config
            .as_ref()
            .unwrap_or(&self.settings.initial_config)
    }

    /// Handles one decoded batch: a control message does nothing; a data
    /// message is grouped and published. A failed publish is an error (the
    /// invocation fails, Lambda retries it, the ids make that harmless).
    pub async fn handle(
        &self,
        m: &SubscriptionMessage<'_>,
        now: DateTime<Utc>,
    ) -> Result<BatchSummary, AgentError> {
        let mut summary = BatchSummary {
            events: m.log_events.len() as u64,
            ..BatchSummary::default()
        };
        if m.message_type == CONTROL_MESSAGE {
            summary.control = true;
            return Ok(summary);
        }
        let state = self.state.load().await?;
        let config = self.config_of(&state);
        if !config.enabled {
            summary.ignored = Some("agent disabled".into());
            return Ok(summary);
        }
        if !self.scope.reports(config, &m.log_group) {
            summary.ignored = Some(match self.scope {
                StreamScope::Watched => "log group not watched by the agent's config".into(),
                StreamScope::Unwatched => "log group read by the scheduled agent".into(),
            });
            return Ok(summary);
        }
        let classifier = self
            .classifiers
            .get(&config.rules, &config.exclude_patterns)
            .map_err(|e| AgentError::BadConfig(e.to_string()))?;
        let grouped = group_batch(&self.settings.id, &classifier, m);
        let envelopes: Vec<Envelope> = grouped
            .details
            .iter()
            .map(|d| Envelope {
                version: "0".into(),
                id: String::new(),
                detail_type: DT_LOG_ERRORS.into(),
                source: SOURCE_LOGS.into(),
                account: self.settings.id.account.to_string(),
                time: now,
                region: self.settings.id.region.to_string(),
                resources: vec![],
                detail: serde_json::to_value(d).expect("serializable"),
            })
            .collect();
        if !envelopes.is_empty() {
            self.publisher.publish(&envelopes).await?;
        }
        summary.matched = grouped.matched;
        summary.occurrences_published = envelopes.len() as u64;
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockAgentStateStore, MockPublisher, PortError};
    use crate::window::WindowPolicy;
    use serde_json::json;
    use std::sync::{Arc, Mutex};

    fn settings() -> AgentSettings {
        AgentSettings {
            id: AgentId::new(
                "123456789012".parse().unwrap(),
                "eu-west-1".parse().unwrap(),
            ),
            name: "test".into(),
            version: "0".into(),
            policy: WindowPolicy::default(),
            initial_config: AgentConfig::default(),
        }
    }

    /// A parsed batch; its JSON is leaked so that the batch may borrow from
    /// it for the rest of the test.
    fn batch(group: &str, events: &[(&str, i64, &str)]) -> SubscriptionMessage<'static> {
        let events: Vec<_> = events
            .iter()
            .map(|(id, ts, msg)| json!({"id": id, "timestamp": ts, "message": msg}))
            .collect();
        let json = json!({
            "messageType": "DATA_MESSAGE", "owner": "123456789012",
            "logGroup": group, "logStream": "2026/11/25/[$LATEST]abc",
            "subscriptionFilters": ["monitoring-agent"], "logEvents": events
        })
        .to_string();
        SubscriptionMessage::parse(Box::leak(json.into_boxed_str()).as_bytes()).unwrap()
    }

    const T: i64 = 1_795_600_000_000; // 2026-11-25

    #[test]
    fn groups_by_fingerprint_and_counts() {
        let m = batch(
            "/aws/lambda/pay",
            &[
                ("1", T, "ERROR payment 42 failed"),
                ("2", T + 5, "INFO all good"),
                ("3", T + 9, "ERROR payment 77 failed"),
                ("4", T + 12, "panic: index out of range"),
            ],
        );
        let g = group_batch(&settings().id, &Classifier::defaults(), &m);
        assert_eq!(g.matched, 3);
        assert_eq!(g.details.len(), 2);
        let pay = g.details.iter().find(|d| d.count == 2).unwrap();
        assert_eq!(pay.severity, Severity::High);
        assert_eq!(pay.log_group, "/aws/lambda/pay");
        assert_eq!(pay.first_seen, time_of(T).unwrap());
        assert_eq!(pay.last_seen, time_of(T + 9).unwrap());
        let panic = g.details.iter().find(|d| d.count == 1).unwrap();
        assert_eq!(panic.severity, Severity::Critical);
    }

    #[test]
    fn ids_come_from_log_event_ids() {
        let events = [("a1", T, "ERROR x 1"), ("a2", T + 1, "ERROR x 2")];
        let one = group_batch(
            &settings().id,
            &Classifier::defaults(),
            &batch("/g", &events),
        );
        let again = group_batch(
            &settings().id,
            &Classifier::defaults(),
            &batch("/g", &events),
        );
        assert_eq!(
            one, again,
            "a redelivered batch yields the same occurrences"
        );
        let other = [("b1", T, "ERROR x 1"), ("b2", T + 1, "ERROR x 2")];
        let next = group_batch(
            &settings().id,
            &Classifier::defaults(),
            &batch("/g", &other),
        );
        assert_ne!(
            one.details[0].occurrence_key,
            next.details[0].occurrence_key
        );
        assert_eq!(one.details[0].fingerprint, next.details[0].fingerprint);
    }

    #[test]
    fn a_group_never_spans_two_utc_days() {
        let midnight = 1_795_651_200_000; // 2026-11-26T00:00:00Z
        let m = batch(
            "/g",
            &[
                ("1", midnight - 1, "ERROR late"),
                ("2", midnight, "ERROR late"),
            ],
        );
        let g = group_batch(&settings().id, &Classifier::defaults(), &m);
        assert_eq!(g.details.len(), 2);
    }

    #[test]
    fn malformed_messages_are_named() {
        assert!(SubscriptionMessage::parse(b"{").is_err());
        assert!(SubscriptionMessage::parse(br#"{"messageType":"OTHER"}"#)
            .unwrap_err()
            .contains("OTHER"));
        assert!(
            SubscriptionMessage::parse(br#"{"messageType":"DATA_MESSAGE","logEvents":[]}"#)
                .unwrap_err()
                .contains("logGroup")
        );
        let c = SubscriptionMessage::parse(
            br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Lambda function."}]}"#,
        )
        .unwrap();
        assert_eq!(c.message_type, CONTROL_MESSAGE);
    }

    #[test]
    fn scope_follows_the_mode() {
        let c = AgentConfig::default(); // prefixes: /aws/lambda/
        assert!(StreamScope::Watched.reports(&c, "/aws/lambda/pay"));
        assert!(!StreamScope::Watched.reports(&c, "/ecs/web"));
        assert!(!StreamScope::Unwatched.reports(&c, "/aws/lambda/pay"));
        assert!(StreamScope::Unwatched.reports(&c, "/ecs/web"));
    }

    fn state_store() -> MockAgentStateStore {
        let mut s = MockAgentStateStore::new();
        s.expect_load().returning(|| Ok(AgentState::default()));
        s
    }

    #[tokio::test]
    async fn publishes_the_batch_and_fails_when_publishing_fails() {
        let settings = settings();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let mut p = MockPublisher::new();
        let s2 = sent.clone();
        p.expect_publish().returning(move |e| {
            s2.lock().unwrap().extend_from_slice(e);
            Ok(())
        });
        let state = state_store();
        let agent = StreamErrorLogs {
            settings: &settings,
            scope: StreamScope::Watched,
            publisher: &p,
            state: &state,
            classifiers: &ClassifierCache::default(),
        };
        let m = batch("/aws/lambda/pay", &[("1", T, "ERROR boom")]);
        let s = agent.handle(&m, Utc::now()).await.unwrap();
        assert_eq!(s.occurrences_published, 1);
        let env = sent.lock().unwrap()[0].clone();
        assert_eq!(env.source, SOURCE_LOGS);
        assert_eq!(env.detail_type, DT_LOG_ERRORS);
        assert_eq!(env.account, "123456789012");

        let mut failing = MockPublisher::new();
        failing
            .expect_publish()
            .returning(|_| Err(PortError::Transient("throttled".into())));
        let agent = StreamErrorLogs {
            publisher: &failing,
            ..agent
        };
        let err = agent.handle(&m, Utc::now()).await.unwrap_err();
        assert!(err.is_retryable());
        // Out of scope: nothing is published.
        let skipped = agent
            .handle(&batch("/ecs/web", &[("1", T, "ERROR boom")]), Utc::now())
            .await
            .unwrap();
        assert!(skipped.ignored.is_some());
    }
}
