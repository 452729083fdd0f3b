//! EventBridge: the [`Publisher`] (agent → master bus) and the
//! [`ConfigPusher`] (master → an agent account's default bus).
//!
//! PutEvents takes at most [`MAX_ENTRIES_PER_CALL`] entries and
//! [`MAX_BYTES_PER_CALL`] bytes per call, sizes counted as AWS documents them
//! ([`entry_size`]). [`to_entry`] makes one entry per envelope, shortening the
//! `sample` of a `Log Errors Detected` that alone would be too large;
//! [`pack`] groups entries to both limits at once. A partial failure re-sends
//! only the failed entries, with exponential backoff and jitter, a bounded
//! number of times.

use super::errors::port_error;
use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use chrono::Utc;
use domain::envelope::{Envelope, DT_LOG_ERRORS};
use domain::model::Agent;
use domain::ports::{ConfigPusher, PortError, Publisher};
use domain::usecases::deployment::config_update_envelope;
use serde_json::Value;
use std::future::Future;
use std::time::Duration;

/// One PutEvents entry.
pub type Entry = PutEventsRequestEntry;

/// PutEvents takes at most this many entries per call.
pub const MAX_ENTRIES_PER_CALL: usize = 10;
/// PutEvents takes at most this many bytes (256 KB) per call, entry sizes
/// counted by [`entry_size`]; so this is also the largest single entry.
pub const MAX_BYTES_PER_CALL: usize = 262_144;
/// What a set `Time` counts, whatever its value.
pub const TIME_SIZE: usize = 14;

/// The size of an entry as EventBridge counts it ("Calculating PutEvents
/// event entry size"): 14 bytes for `Time` if set, plus the UTF-8 bytes of
/// `Source`, `DetailType`, `Detail` and of each `Resources` entry.
/// `EventBusName` (and `TraceHeader`) do not count.
pub fn entry_size(entry: &Entry) -> usize {
    entry.time().map_or(0, |_| TIME_SIZE)
        + entry.source().map_or(0, str::len)
        + entry.detail_type().map_or(0, str::len)
        + entry.detail().map_or(0, str::len)
        + entry.resources().iter().map(String::len).sum::<usize>()
}

/// Groups entries, in order, into PutEvents calls of at most
/// [`MAX_ENTRIES_PER_CALL`] entries and [`MAX_BYTES_PER_CALL`] bytes. An
/// entry larger than the limit on its own (which [`to_entry`] never makes)
/// gets a call of its own, for PutEvents to refuse.
pub fn pack(entries: Vec<Entry>) -> Vec<Vec<Entry>> {
    let mut calls: Vec<Vec<Entry>> = Vec::new();
    let mut current: Vec<Entry> = Vec::new();
    let mut current_bytes = 0;
    for entry in entries {
        let size = entry_size(&entry);
        if !current.is_empty()
            && (current.len() == MAX_ENTRIES_PER_CALL || current_bytes + size > MAX_BYTES_PER_CALL)
        {
            calls.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current_bytes += size;
        current.push(entry);
    }
    if !current.is_empty() {
        calls.push(current);
    }
    calls
}

/// The PutEvents entry of an envelope, for `event_bus` (a name or an ARN;
/// empty: the caller's default bus). `account` and `region` are not sent:
/// EventBridge sets them to the caller's. An entry over
/// [`MAX_BYTES_PER_CALL`] is shortened when it is a `Log Errors Detected`
/// (its `detail.sample` is cut, visibly, and `detail.sample_truncated` set);
/// any other is refused with `PortError::Permanent`.
pub fn to_entry(envelope: &Envelope, event_bus: &str) -> Result<Entry, PortError> {
    let entry = entry_with_detail(envelope, &envelope.detail, event_bus);
    let size = entry_size(&entry);
    if size <= MAX_BYTES_PER_CALL {
        return Ok(entry);
    }
    let sample = envelope.detail.get("sample").and_then(Value::as_str);
    match sample {
        Some(sample) if envelope.detail_type == DT_LOG_ERRORS => {
            truncate_sample(envelope, event_bus, sample, size)
        }
        _ => Err(too_large(envelope, size, "")),
    }
}

fn entry_with_detail(envelope: &Envelope, detail: &Value, event_bus: &str) -> Entry {
    let time = aws_smithy_types::DateTime::from_secs_and_nanos(
        envelope.time.timestamp(),
        envelope.time.timestamp_subsec_nanos(),
    );
    let mut builder = Entry::builder()
        .time(time)
        .source(&envelope.source)
        .detail_type(&envelope.detail_type)
        .detail(detail.to_string());
    for resource in &envelope.resources {
        builder = builder.resources(resource);
    }
    if !event_bus.is_empty() {
        builder = builder.event_bus_name(event_bus);
    }
    builder.build()
}

/// Shortens `detail.sample` until the entry fits: each round cuts, from the
/// end, the fewest characters whose JSON form covers the bytes still over
/// the limit; a second round covers the marker and the flag, if needed.
fn truncate_sample(
    envelope: &Envelope,
    event_bus: &str,
    sample: &str,
    mut size: usize,
) -> Result<Entry, PortError> {
    let mut detail = envelope.detail.clone();
    let mut keep = sample.len();
    loop {
        let over = size - MAX_BYTES_PER_CALL;
        if keep == 0 {
            return Err(too_large(envelope, size, " even with an empty sample"));
        }
        keep = cut_back(&sample[..keep], over);
        let cut = sample.len() - keep;
        let shortened = format!("{}{}", &sample[..keep], truncation_marker(cut));
        detail["sample"] = Value::String(shortened);
        detail["sample_truncated"] = Value::Bool(true);
        let entry = entry_with_detail(envelope, &detail, event_bus);
        size = entry_size(&entry);
        if size <= MAX_BYTES_PER_CALL {
            let key = detail.get("occurrence_key").and_then(|k| k.as_str());
            tracing::warn!(
                source = %envelope.source,
                occurrence_key = key.unwrap_or_default(),
                cut,
                "sample truncated to fit the PutEvents size limit"
            );
            return Ok(entry);
        }
    }
}

/// What a shortened sample ends with.
pub fn truncation_marker(cut_bytes: usize) -> String {
    format!("… [truncated {cut_bytes} bytes]")
}

/// How long `s` stays once characters whose JSON form makes at least
/// `bytes` bytes are cut from its end (all of it cut if that is not enough).
fn cut_back(s: &str, bytes: usize) -> usize {
    let mut cut = 0;
    for (i, c) in s.char_indices().rev() {
        if cut >= bytes {
            return i + c.len_utf8();
        }
        cut += json_len(c);
    }
    0
}

/// The bytes of a character inside a JSON string as serde_json writes it.
fn json_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

fn too_large(envelope: &Envelope, size: usize, how: &str) -> PortError {
    let id = if envelope.id.is_empty() {
        String::new()
    } else {
        format!(" {}", envelope.id)
    };
    PortError::Permanent(format!(
        "event{id} {} / {} is {size} bytes{how}, over the PutEvents limit of {MAX_BYTES_PER_CALL}",
        envelope.source, envelope.detail_type
    ))
}

/// Re-sending of failed entries: attempts and backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Calls per batch in all, the first one included.
    pub max_attempts: u32,
    /// The backoff before the second call; it doubles for each next one.
    pub base_delay: Duration,
    /// No backoff is longer.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed call number `attempt` (from 1): half of
    /// `base * 2^(attempt-1)` (capped) plus a random part up to the other half.
    pub fn backoff(&self, attempt: u32) -> Duration {
        crate::backoff::backoff(self.base_delay, self.max_delay, attempt.saturating_sub(1))
    }
}

/// Sends `entries` (one call's worth) with `put`, which answers, per entry
/// sent and in order, `None` when it was accepted or `Some(error code)`.
/// Only the failed entries are sent again, after a backoff, up to
/// `retry.max_attempts` calls; an error of the call itself is returned as is
/// (the SDK already retried what it could).
pub async fn put_with_retries<F, Fut>(
    entries: Vec<Entry>,
    retry: &RetryPolicy,
    mut put: F,
) -> Result<(), PortError>
where
    F: FnMut(Vec<Entry>) -> Fut,
    Fut: Future<Output = Result<Vec<Option<String>>, PortError>>,
{
    let total = entries.len();
    let mut pending = entries;
    let mut attempt = 1;
    loop {
        let results = put(pending.clone()).await?;
        let mut codes = Vec::new();
        let failed: Vec<Entry> = pending
            .into_iter()
            .enumerate()
            .filter_map(|(i, entry)| {
                // An entry the answer does not mention did not go through.
                let code = results.get(i).cloned().unwrap_or(Some("NoResult".into()))?;
                codes.push(code);
                Some(entry)
            })
            .collect();
        if failed.is_empty() {
            return Ok(());
        }
        codes.sort();
        codes.dedup();
        let codes = codes.join(", ");
        if attempt >= retry.max_attempts.max(1) {
            return Err(PortError::Transient(format!(
                "PutEvents: {} of {total} entries lost after {attempt} attempts ({codes})",
                failed.len()
            )));
        }
        let wait = retry.backoff(attempt);
        tracing::warn!(
            failed = failed.len(),
            total,
            attempt,
            codes,
            wait_ms = wait.as_millis() as u64,
            "PutEvents partially failed; re-sending the failed entries"
        );
        tokio::time::sleep(wait).await;
        pending = failed;
        attempt += 1;
    }
}

/// One PutEvents call: per entry, `None` or its error code.
async fn put_events(
    client: &aws_sdk_eventbridge::Client,
    entries: Vec<Entry>,
) -> Result<Vec<Option<String>>, PortError> {
    let out = client
        .put_events()
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(|e| port_error("PutEvents", e))?;
    Ok(out
        .entries()
        .iter()
        .map(|r| match (r.error_code(), r.event_id()) {
            (Some(code), _) => Some(code.to_owned()),
            (None, Some(_)) => None,
            (None, None) => Some("NoEventId".to_owned()),
        })
        .collect())
}

/// Publishes envelopes to one bus with PutEvents.
#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    event_bus: String,
    retry: RetryPolicy,
}

impl EventBridgePublisher {
    /// `event_bus`: the bus name or ARN (another account's bus by ARN).
    pub fn new(client: aws_sdk_eventbridge::Client, event_bus: impl Into<String>) -> Self {
        Self {
            client,
            event_bus: event_bus.into(),
            retry: RetryPolicy::default(),
        }
    }

    /// Replaces the default retry policy (5 attempts, 100 ms doubling, 5 s cap).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn event_bus(&self) -> &str {
        &self.event_bus
    }
}

#[async_trait]
impl Publisher for EventBridgePublisher {
    /// Every entry is made (and checked) before the first call, so an entry
    /// too large to send fails the publish before anything went out.
    async fn publish(&self, envelopes: &[Envelope]) -> Result<(), PortError> {
        let entries = envelopes
            .iter()
            .map(|e| to_entry(e, &self.event_bus))
            .collect::<Result<Vec<_>, _>>()?;
        for call in pack(entries) {
            put_with_retries(call, &self.retry, |entries| {
                put_events(&self.client, entries)
            })
            .await?;
        }
        Ok(())
    }
}

/// Sends `Agent Config Update` to the default bus of the agent's account.
#[derive(Debug, Clone)]
pub struct EventBridgeConfigPusher {
    client: aws_sdk_eventbridge::Client,
    bus_arn_template: String,
    retry: RetryPolicy,
}

impl EventBridgeConfigPusher {
    /// The agent account's default bus; `{region}` and `{account}` are the agent's.
    pub const DEFAULT_TEMPLATE: &'static str =
        "arn:aws:events:{region}:{account}:event-bus/default";

    /// `bus_arn_template`: the target bus ARN, with `{region}` and
    /// `{account}` replaced by the agent's (see [`Self::DEFAULT_TEMPLATE`]).
    pub fn new(client: aws_sdk_eventbridge::Client, bus_arn_template: impl Into<String>) -> Self {
        Self {
            client,
            bus_arn_template: bus_arn_template.into(),
            retry: RetryPolicy::default(),
        }
    }

    /// Replaces the default retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The bus this agent's config goes to.
    pub fn bus_for(&self, agent: &Agent) -> String {
        self.bus_arn_template
            .replace("{region}", agent.region.as_str())
            .replace("{account}", agent.account.as_str())
    }
}

#[async_trait]
impl ConfigPusher for EventBridgeConfigPusher {
    async fn push(&self, agent: &Agent) -> Result<(), PortError> {
        let envelope = config_update_envelope(agent, Utc::now());
        let entry = to_entry(&envelope, &self.bus_for(agent))?;
        put_with_retries(vec![entry], &self.retry, |entries| {
            put_events(&self.client, entries)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Mutex;

    fn entry(detail_bytes: usize) -> Entry {
        Entry::builder()
            .source("s")
            .detail_type("d")
            .detail("x".repeat(detail_bytes))
            .build()
    }

    fn envelope(detail_type: &str, detail: Value) -> Envelope {
        Envelope {
            version: "0".into(),
            id: String::new(),
            detail_type: detail_type.into(),
            source: domain::envelope::SOURCE_LOGS.into(),
            account: "111122223333".into(),
            time: "2026-03-01T10:00:00Z".parse().unwrap(),
            region: "eu-west-1".into(),
            resources: vec![],
            detail,
        }
    }

    fn log_errors(sample: &str) -> Envelope {
        envelope(
            DT_LOG_ERRORS,
            json!({"agent_id": "a", "occurrence_key": "k", "title": "t", "sample": sample, "count": 1}),
        )
    }

    fn sizes(calls: &[Vec<Entry>]) -> Vec<Vec<usize>> {
        calls
            .iter()
            .map(|c| c.iter().map(entry_size).collect())
            .collect()
    }

    #[test]
    fn size_counts_time_source_detail_type_detail_and_resources_as_utf8_bytes() {
        let e = Entry::builder()
            .time(aws_smithy_types::DateTime::from_secs(1_700_000_000))
            .source("monitoring.agent.logs") // 21
            .detail_type("Log Errors Detected") // 19
            .detail(r#"{"é":"€"}"#) // 2+2+2+3+3 = 12 (é 2 bytes, € 3)
            .resources("arn:a") // 5
            .resources("ü") // 2
            .event_bus_name("a-very-long-bus-name-that-does-not-count")
            .build();
        assert_eq!(entry_size(&e), 14 + 21 + 19 + 12 + 5 + 2);
        let no_time = Entry::builder().source("s").detail_type("d").build();
        assert_eq!(entry_size(&no_time), 2);
    }

    #[test]
    fn an_envelope_becomes_an_entry_without_account_and_region() {
        let mut env = envelope("Agent Heartbeat", json!({"version": "1"}));
        env.resources = vec!["arn:aws:x".into()];
        let e = to_entry(&env, "master-bus").unwrap();
        assert_eq!(e.source(), Some("monitoring.agent.logs"));
        assert_eq!(e.detail_type(), Some("Agent Heartbeat"));
        assert_eq!(e.detail(), Some(r#"{"version":"1"}"#));
        assert_eq!(e.resources(), ["arn:aws:x"]);
        assert_eq!(e.event_bus_name(), Some("master-bus"));
        assert_eq!(e.time().unwrap().secs(), env.time.timestamp());
        assert_eq!(
            entry_size(&e),
            14 + "monitoring.agent.logs".len() + "Agent Heartbeat".len() + 15 + 9
        );
        assert_eq!(to_entry(&env, "").unwrap().event_bus_name(), None);
    }

    #[test]
    fn packs_at_most_ten_entries_per_call() {
        let calls = pack((0..25).map(|_| entry(10)).collect());
        assert_eq!(calls.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
        assert!(pack(vec![]).is_empty());
        let calls = pack((0..10).map(|_| entry(10)).collect());
        assert_eq!(calls.len(), 1);
    }

    #[test]
    fn packs_to_the_256_kb_boundary_exactly() {
        // Each entry is 2 + detail bytes; four of 65,536 bytes fill a call exactly.
        let quarter = MAX_BYTES_PER_CALL / 4 - 2;
        let calls = pack((0..5).map(|_| entry(quarter)).collect());
        assert_eq!(
            sizes(&calls),
            [vec![65_536; 4], vec![65_536]],
            "four fill the call to 262,144 bytes, the fifth starts a new one"
        );
        // One byte more and only three fit.
        let calls = pack((0..4).map(|_| entry(quarter + 1)).collect());
        assert_eq!(calls.iter().map(Vec::len).collect::<Vec<_>>(), [3, 1]);
        // Both limits at once: small entries after a big one.
        let mut entries = vec![entry(MAX_BYTES_PER_CALL - 2 - 100)];
        entries.extend((0..15).map(|_| entry(8))); // 10 bytes each
        let calls = pack(entries);
        assert_eq!(calls.iter().map(Vec::len).collect::<Vec<_>>(), [10, 6]);
        assert_eq!(
            sizes(&calls)[0].iter().sum::<usize>(),
            MAX_BYTES_PER_CALL - 100 + 90
        );
        for call in &calls {
            assert!(call.iter().map(entry_size).sum::<usize>() <= MAX_BYTES_PER_CALL);
        }
    }

    #[test]
    fn an_entry_of_exactly_the_limit_is_sent_as_is() {
        let env = log_errors("");
        let base = entry_size(&to_entry(&env, "b").unwrap());
        let env = log_errors(&"y".repeat(MAX_BYTES_PER_CALL - base));
        let e = to_entry(&env, "b").unwrap();
        assert_eq!(entry_size(&e), MAX_BYTES_PER_CALL);
        let detail: Value = serde_json::from_str(e.detail().unwrap()).unwrap();
        assert!(detail.get("sample_truncated").is_none());
    }

    #[test]
    fn an_oversized_log_errors_sample_is_truncated_visibly_keeping_utf8() {
        // Multi-byte characters and characters JSON escapes, 300 KB in all.
        let sample = "é€\"\n\u{1}x".repeat(300_000 / 10);
        let env = log_errors(&sample);
        let e = to_entry(&env, "b").unwrap();
        let size = entry_size(&e);
        assert!(size <= MAX_BYTES_PER_CALL, "{size}");
        assert!(
            size > MAX_BYTES_PER_CALL - 64,
            "not cut more than needed: {size}"
        );
        let detail: Value = serde_json::from_str(e.detail().unwrap()).unwrap();
        assert_eq!(detail["sample_truncated"], true);
        let kept = detail["sample"].as_str().unwrap();
        let (head, marker) = kept.rsplit_once("… [truncated ").unwrap();
        let cut: usize = marker.strip_suffix(" bytes]").unwrap().parse().unwrap();
        assert_eq!(head.len() + cut, sample.len());
        assert!(sample.starts_with(head));
        assert_eq!(detail["occurrence_key"], "k", "the other fields stay");
    }

    #[test]
    fn another_oversized_entry_is_refused_by_name() {
        let mut env = envelope(
            "GuardDuty Finding",
            json!({"blob": "z".repeat(MAX_BYTES_PER_CALL)}),
        );
        env.source = "aws.guardduty".into();
        env.id = "evt-1".into();
        match to_entry(&env, "b") {
            Err(PortError::Permanent(m)) => {
                assert!(m.contains("evt-1") && m.contains("aws.guardduty"), "{m}");
                assert!(m.contains("GuardDuty Finding"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        // A log-errors envelope too large even without its sample.
        let mut detail = log_errors("abc").detail;
        detail["title"] = Value::String("t".repeat(MAX_BYTES_PER_CALL));
        let env = envelope(DT_LOG_ERRORS, detail);
        assert!(matches!(to_entry(&env, "b"), Err(PortError::Permanent(_))));
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        let r = RetryPolicy::default();
        for attempt in 1..=8 {
            let exp = (Duration::from_millis(100) * 2u32.pow(attempt - 1)).min(r.max_delay);
            let d = r.backoff(attempt);
            assert!(d >= exp / 2 && d <= exp, "attempt {attempt}: {d:?}");
        }
        assert!(r.backoff(1000) <= r.max_delay);
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        }
    }

    fn named(detail: &str) -> Entry {
        Entry::builder()
            .source("s")
            .detail_type("d")
            .detail(detail)
            .build()
    }

    #[tokio::test]
    async fn only_the_failed_entries_are_sent_again() {
        let sent = Mutex::new(Vec::<Vec<String>>::new());
        let entries = ["a", "b", "c", "d"].map(named).to_vec();
        put_with_retries(entries, &fast(), |call| {
            let details: Vec<String> = call.iter().map(|e| e.detail().unwrap().into()).collect();
            sent.lock().unwrap().push(details.clone());
            let calls = sent.lock().unwrap().len();
            async move {
                Ok(details
                    .iter()
                    .map(|d| match (calls, d.as_str()) {
                        (1, "b" | "d") => Some("ThrottlingException".into()),
                        (2, "d") => Some("InternalFailure".into()),
                        _ => None,
                    })
                    .collect())
            }
        })
        .await
        .unwrap();
        assert_eq!(
            *sent.lock().unwrap(),
            [vec!["a", "b", "c", "d"], vec!["b", "d"], vec!["d"]]
        );
    }

    #[tokio::test]
    async fn entries_still_failing_after_the_last_attempt_are_a_transient_error() {
        let calls = Mutex::new(0);
        let r = put_with_retries(["a", "b", "c"].map(named).to_vec(), &fast(), |call| {
            *calls.lock().unwrap() += 1;
            let answer = call
                .iter()
                .map(|e| (e.detail() == Some("b")).then(|| "InternalFailure".to_owned()))
                .collect();
            async move { Ok(answer) }
        })
        .await;
        assert_eq!(*calls.lock().unwrap(), 5);
        match r {
            Err(PortError::Transient(m)) => {
                assert!(m.contains("1 of 3 entries lost after 5 attempts"), "{m}");
                assert!(m.contains("InternalFailure"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_failed_call_is_returned_without_more_attempts() {
        let calls = Mutex::new(0);
        let r = put_with_retries(vec![named("a")], &fast(), |_| {
            *calls.lock().unwrap() += 1;
            async { Err(PortError::Permanent("AccessDenied".into())) }
        })
        .await;
        assert_eq!(r, Err(PortError::Permanent("AccessDenied".into())));
        assert_eq!(*calls.lock().unwrap(), 1);
    }

    #[tokio::test]
    async fn an_answer_missing_entries_counts_them_as_failed() {
        let sent = Mutex::new(Vec::new());
        put_with_retries(["a", "b"].map(named).to_vec(), &fast(), |call| {
            sent.lock().unwrap().push(call.len());
            let first = sent.lock().unwrap().len() == 1;
            async move {
                Ok(if first {
                    vec![None]
                } else {
                    vec![None; call.len()]
                })
            }
        })
        .await
        .unwrap();
        assert_eq!(*sent.lock().unwrap(), [2, 1]);
    }
}
