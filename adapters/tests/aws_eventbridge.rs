//! EventBridge publisher and config pusher against moto: calls are counted
//! (and, for partial failures, answered) by an SDK interceptor; what a rule
//! delivers is read back from an SQS queue.
#![cfg(feature = "aws")]
mod common;

use adapters::aws::eventbridge::{
    EventBridgeConfigPusher, EventBridgePublisher, RetryPolicy, MAX_BYTES_PER_CALL,
};
use aws_sdk_eventbridge::types::Target;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use chrono::{DateTime, Utc};
use domain::envelope::{Envelope, DT_AGENT_CONFIG_UPDATE, DT_LOG_ERRORS, SOURCE_LOGS};
use domain::model::{Agent, AgentConfig, AgentStatus, Rule, Severity};
use domain::ports::{ConfigPusher, PortError, Publisher};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records every PutEvents request body (other operations pass through); answers the calls listed in
/// `fail` (1-based call number → entry indexes) with those entries failed.
#[derive(Debug, Default)]
struct Calls {
    bodies: Mutex<Vec<Value>>,
    fail: Mutex<Vec<(usize, Vec<usize>)>>,
    /// Every entry of every call fails.
    fail_all: bool,
    last_was_put_events: Mutex<bool>,
}

#[derive(Debug, Clone)]
struct Recorder(Arc<Calls>);

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context.request().headers().get("x-amz-target");
        let is_put_events = target == Some("AWSEvents.PutEvents");
        *self.0.last_was_put_events.lock().unwrap() = is_put_events;
        if is_put_events {
            let body = context.request().body().bytes().unwrap_or_default();
            let body = serde_json::from_slice(body).unwrap_or(Value::Null);
            self.0.bodies.lock().unwrap().push(body);
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !*self.0.last_was_put_events.lock().unwrap() {
            return Ok(());
        }
        let (call, sent) = {
            let bodies = self.0.bodies.lock().unwrap();
            let last = bodies.last().cloned().unwrap_or(Value::Null);
            (bodies.len(), last["Entries"].as_array().map_or(0, Vec::len))
        };
        let failing: Vec<usize> = if self.0.fail_all {
            (0..sent).collect()
        } else {
            let fail = self.0.fail.lock().unwrap();
            match fail.iter().find(|(n, _)| *n == call) {
                Some((_, indexes)) => indexes.clone(),
                None => return Ok(()),
            }
        };
        let entries: Vec<Value> = (0..sent)
            .map(|i| {
                if failing.contains(&i) {
                    json!({"ErrorCode": "ThrottlingException", "ErrorMessage": "injected"})
                } else {
                    json!({"EventId": format!("ok-{call}-{i}")})
                }
            })
            .collect();
        let answer = json!({"FailedEntryCount": failing.len(), "Entries": entries});
        *context.response_mut().body_mut() = SdkBody::from(answer.to_string());
        Ok(())
    }
}

impl Calls {
    fn count(&self) -> usize {
        self.bodies.lock().unwrap().len()
    }

    /// The `Detail` of each entry of each call, parsed.
    fn details(&self) -> Vec<Vec<Value>> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| {
                b["Entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| serde_json::from_str(e["Detail"].as_str().unwrap()).unwrap())
                    .collect()
            })
            .collect()
    }
}

struct Moto {
    /// With the recorder, for the adapters under test.
    events: aws_sdk_eventbridge::Client,
    /// Without it, to set up buses and rules.
    setup: aws_sdk_eventbridge::Client,
    sqs: aws_sdk_sqs::Client,
    calls: Arc<Calls>,
}

async fn moto_with(calls: Calls) -> Moto {
    let config = common::moto_config().await;
    let calls = Arc::new(calls);
    let eb_config = aws_sdk_eventbridge::config::Builder::from(&config)
        .interceptor(Recorder(calls.clone()))
        .build();
    Moto {
        events: aws_sdk_eventbridge::Client::from_conf(eb_config),
        setup: aws_sdk_eventbridge::Client::new(&config),
        sqs: aws_sdk_sqs::Client::new(&config),
        calls,
    }
}

async fn moto() -> Moto {
    moto_with(Calls::default()).await
}

impl Moto {
    /// A new bus whose rule sends the events of `source` to a new queue;
    /// answers (bus name, queue URL).
    async fn bus_to_queue(&self, source: &str) -> (String, String) {
        let bus = common::unique("bus");
        self.setup
            .create_event_bus()
            .name(&bus)
            .send()
            .await
            .expect("CreateEventBus");
        let queue_url = self
            .sqs
            .create_queue()
            .queue_name(common::unique("q"))
            .send()
            .await
            .expect("CreateQueue")
            .queue_url()
            .unwrap()
            .to_owned();
        let queue_arn = self
            .sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("GetQueueAttributes")
            .attributes()
            .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
            .clone();
        let rule = common::unique("rule");
        self.setup
            .put_rule()
            .name(&rule)
            .event_bus_name(&bus)
            .event_pattern(json!({"source": [source]}).to_string())
            .send()
            .await
            .expect("PutRule");
        self.setup
            .put_targets()
            .rule(&rule)
            .event_bus_name(&bus)
            .targets(
                Target::builder()
                    .id("queue")
                    .arn(queue_arn)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("PutTargets");
        (bus, queue_url)
    }

    /// The events the queue received, waiting up to 10 s for `n` of them
    /// (then a little longer, to see any extra).
    async fn received(&self, queue_url: &str, n: usize) -> Vec<Value> {
        let mut events = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut empty_after_n = 0;
        while std::time::Instant::now() < deadline && empty_after_n < 2 {
            let out = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("ReceiveMessage");
            if out.messages().is_empty() {
                if events.len() >= n {
                    empty_after_n += 1;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            for m in out.messages() {
                events.push(serde_json::from_str(m.body().unwrap()).expect("an event"));
            }
        }
        events
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn log_errors(key: &str, sample: &str) -> Envelope {
    Envelope {
        version: "0".into(),
        id: String::new(),
        detail_type: DT_LOG_ERRORS.into(),
        source: SOURCE_LOGS.into(),
        account: "111122223333".into(),
        time: at("2026-03-01T10:05:00Z"),
        region: "eu-west-1".into(),
        resources: vec![],
        detail: json!({
            "agent_id": "123456789012-us-east-1",
            "occurrence_key": key,
            "log_group": "/aws/lambda/orders",
            "fingerprint": "0123456789abcdef",
            "severity": "high",
            "title": "ERROR payment failed",
            "sample": sample,
            "sample_truncated": false,
            "count": 3,
            "first_seen": "2026-03-01T10:00:01Z",
            "last_seen": "2026-03-01T10:04:59Z",
            "window_start": "2026-03-01T10:00:00Z",
            "window_end": "2026-03-01T10:05:00Z",
        }),
    }
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

#[tokio::test]
async fn twenty_five_entries_go_out_in_three_calls_and_arrive_through_a_rule() {
    let moto = moto().await;
    let (bus, queue) = moto.bus_to_queue(SOURCE_LOGS).await;
    let publisher = EventBridgePublisher::new(moto.events.clone(), &bus);
    let mut envelopes: Vec<Envelope> = (0..25)
        .map(|i| {
            log_errors(
                &format!("k{i:02}"),
                &format!("ERROR payment {i} failed: é€"),
            )
        })
        .collect();
    // Not matched by the rule: published, not delivered to the queue.
    let mut heartbeat = log_errors("hb", "");
    heartbeat.source = "monitoring.agent".into();
    heartbeat.detail_type = "Agent Heartbeat".into();
    heartbeat.detail = json!({"version": "0.1.0"});
    envelopes.insert(7, heartbeat);
    envelopes.truncate(25);

    publisher.publish(&envelopes).await.expect("publish");

    assert_eq!(moto.calls.count(), 3, "10 + 10 + 5 entries");
    let sizes: Vec<usize> = moto.calls.details().iter().map(Vec::len).collect();
    assert_eq!(sizes, [10, 10, 5]);

    let mut received = moto.received(&queue, 24).await;
    assert_eq!(
        received.len(),
        24,
        "every log-errors event, not the heartbeat"
    );
    received.sort_by(|a, b| {
        a["detail"]["occurrence_key"]
            .as_str()
            .cmp(&b["detail"]["occurrence_key"].as_str())
    });
    let sent: Vec<&Envelope> = envelopes
        .iter()
        .filter(|e| e.source == SOURCE_LOGS)
        .collect();
    for (event, envelope) in received.iter().zip(&sent) {
        assert_eq!(event["source"], SOURCE_LOGS);
        assert_eq!(event["detail-type"], DT_LOG_ERRORS);
        assert_eq!(
            event["detail"], envelope.detail,
            "the detail arrives as sent"
        );
        // The time that was sent. (moto's default target input leaves out
        // `account`; EventBridge sets it to the caller's.)
        let time: DateTime<Utc> = event["time"].as_str().unwrap().parse().unwrap();
        assert_eq!(time, envelope.time);
        assert_eq!(
            event["region"], "us-east-1",
            "the caller's region, not the envelope's"
        );
    }
}

#[tokio::test]
async fn an_oversized_sample_is_truncated_and_delivered_not_rejected() {
    let moto = moto().await;
    let (bus, queue) = moto.bus_to_queue(SOURCE_LOGS).await;
    let publisher = EventBridgePublisher::new(moto.events.clone(), &bus);
    let big_sample = format!(
        "ERROR huge stack trace ü\n{}",
        "at frame(Foo.java:42)\n".repeat(300 * 1024 / 22)
    );
    assert!(big_sample.len() > 300 * 1024);
    let envelopes = [
        log_errors("big", &big_sample),
        log_errors("small", "ERROR x"),
    ];

    publisher
        .publish(&envelopes)
        .await
        .expect("truncated, not rejected");

    assert_eq!(
        moto.calls.count(),
        2,
        "the shortened entry fills its call alone"
    );
    // What went over the wire, sized as AWS counts it: just under the limit.
    let sent = moto.calls.bodies.lock().unwrap()[0]["Entries"][0].clone();
    let size = 14
        + sent["Source"].as_str().unwrap().len()
        + sent["DetailType"].as_str().unwrap().len()
        + sent["Detail"].as_str().unwrap().len();
    assert!(
        size <= MAX_BYTES_PER_CALL && size > MAX_BYTES_PER_CALL - 64,
        "{size}"
    );
    let received = moto.received(&queue, 2).await;
    assert_eq!(received.len(), 2);
    let big = received
        .iter()
        .find(|e| e["detail"]["occurrence_key"] == "big")
        .expect("the big one arrived");
    assert_eq!(big["detail"]["sample_truncated"], true);
    let sample = big["detail"]["sample"].as_str().unwrap();
    let (head, marker) = sample
        .rsplit_once("… [truncated ")
        .expect("a visible marker");
    let cut: usize = marker.strip_suffix(" bytes]").unwrap().parse().unwrap();
    assert_eq!(head.len() + cut, big_sample.len());
    assert!(big_sample.starts_with(head));
    let detail_bytes = big["detail"].to_string().len();
    assert!(detail_bytes < MAX_BYTES_PER_CALL && detail_bytes > MAX_BYTES_PER_CALL - 1024);
    let small = received
        .iter()
        .find(|e| e["detail"]["occurrence_key"] == "small")
        .unwrap();
    assert_eq!(small["detail"]["sample_truncated"], false);
}

#[tokio::test]
async fn an_oversized_entry_of_another_kind_is_refused_before_any_call() {
    let moto = moto().await;
    let publisher = EventBridgePublisher::new(moto.events.clone(), common::unique("bus"));
    let mut finding = log_errors("x", "");
    finding.source = "aws.guardduty".into();
    finding.detail_type = "GuardDuty Finding".into();
    finding.detail = json!({"id": "f1", "blob": "z".repeat(MAX_BYTES_PER_CALL)});
    let r = publisher
        .publish(&[log_errors("ok", "ERROR"), finding])
        .await;
    match r {
        Err(PortError::Permanent(m)) => assert!(m.contains("GuardDuty Finding"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(moto.calls.count(), 0);
}

#[tokio::test]
async fn a_partial_failure_resends_only_the_failed_entries() {
    let calls = Calls::default();
    // Call 1: entries 1 and 3 fail; call 2 (their re-send): entry 1 (key 3) fails again.
    *calls.fail.lock().unwrap() = vec![(1, vec![1, 3]), (2, vec![1])];
    let moto = moto_with(calls).await;
    let (bus, _queue) = moto.bus_to_queue(SOURCE_LOGS).await;
    let publisher = EventBridgePublisher::new(moto.events.clone(), &bus).with_retry(fast());
    let envelopes: Vec<Envelope> = (0..4)
        .map(|i| log_errors(&format!("k{i}"), "ERROR"))
        .collect();

    publisher
        .publish(&envelopes)
        .await
        .expect("all went out in the end");

    let keys: Vec<Vec<String>> = moto
        .calls
        .details()
        .iter()
        .map(|call| {
            call.iter()
                .map(|d| d["occurrence_key"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect();
    assert_eq!(
        keys,
        [vec!["k0", "k1", "k2", "k3"], vec!["k1", "k3"], vec!["k3"]]
    );
}

#[tokio::test]
async fn entries_that_keep_failing_are_a_transient_error_after_bounded_attempts() {
    let moto = moto_with(Calls {
        fail_all: true,
        ..Calls::default()
    })
    .await;
    let (bus, _queue) = moto.bus_to_queue(SOURCE_LOGS).await;
    let publisher = EventBridgePublisher::new(moto.events.clone(), &bus).with_retry(fast());
    let envelopes: Vec<Envelope> = (0..3)
        .map(|i| log_errors(&format!("k{i}"), "ERROR"))
        .collect();
    match publisher.publish(&envelopes).await {
        Err(PortError::Transient(m)) => {
            assert!(m.contains("3 of 3 entries lost after 5 attempts"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(moto.calls.count(), 5);
}

#[tokio::test]
async fn the_config_pusher_sends_the_config_update_to_the_bus_of_the_template() {
    let moto = moto().await;
    let (bus, queue) = moto.bus_to_queue("monitoring.master").await;
    let pusher = EventBridgeConfigPusher::new(
        moto.events.clone(),
        format!("arn:aws:events:{{region}}:{{account}}:event-bus/{bus}"),
    );
    let agent = Agent {
        id: "123456789012-us-east-1".parse().unwrap(),
        account: "123456789012".parse().unwrap(),
        region: "us-east-1".parse().unwrap(),
        name: "orders".into(),
        status: AgentStatus::Active,
        version: "0.1.0".into(),
        registered_at: at("2026-03-01T09:00:00Z"),
        last_seen_at: None,
        config: AgentConfig {
            exclude_patterns: vec!["healthcheck".into()],
            rules: vec![Rule {
                pattern: "(?i)card declined".into(),
                severity: Severity::Medium,
            }],
            ..AgentConfig::default()
        },
        config_version: 4,
        applied_config_version: 3,
        config_updated_at: None,
        last_run: None,
        revision: 2,
    };
    assert_eq!(
        pusher.bus_for(&agent),
        format!("arn:aws:events:us-east-1:123456789012:event-bus/{bus}")
    );

    pusher.push(&agent).await.expect("push");

    let sent = &moto.calls.bodies.lock().unwrap()[0]["Entries"][0].clone();
    assert_eq!(
        sent["EventBusName"],
        pusher.bus_for(&agent),
        "addressed by ARN"
    );
    let received = moto.received(&queue, 1).await;
    assert_eq!(received.len(), 1);
    let event = &received[0];
    assert_eq!(event["source"], "monitoring.master");
    assert_eq!(event["detail-type"], DT_AGENT_CONFIG_UPDATE);
    assert_eq!(event["detail"]["agent_id"], "123456789012-us-east-1");
    assert_eq!(event["detail"]["config_version"], 4);
    let config: AgentConfig = serde_json::from_value(event["detail"]["config"].clone()).unwrap();
    assert_eq!(config, agent.config);

    let default = EventBridgeConfigPusher::new(
        moto.events.clone(),
        EventBridgeConfigPusher::DEFAULT_TEMPLATE,
    );
    assert_eq!(
        default.bus_for(&agent),
        "arn:aws:events:us-east-1:123456789012:event-bus/default"
    );
}
