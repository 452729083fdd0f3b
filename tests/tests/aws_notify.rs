//! The notify function on moto, fed the way Lambda feeds it: the events
//! table's real DynamoDB Streams records (NEW_AND_OLD_IMAGES) after
//! HandleMonitoringEvents stored an event, delivered to a webhook receiver
//! started here, with the deliveries table on moto and the agents read from
//! the events table.
//!
//! The stream is read with the DynamoDB Streams JSON API over plain HTTP:
//! its answer is the very record JSON the event source mapping hands to
//! Lambda, which the SDK's typed output would have to be turned back into.
#![cfg(feature = "aws")]
mod support;

use adapters::alert_channels::{HttpDelivery, RetryPolicy};
use adapters::aws::alerts::AwsChannels;
use adapters::aws::deliveries::{self, DeliveryTable};
use adapters::aws::dynamodb::{create_table, DynamoStore};
use aws_sdk_dynamodb::types::{StreamSpecification, StreamViewType};
use chrono::Utc;
use domain::alerts::AlertsConfig;
use domain::ports::AgentStore;
use domain::usecases::notify::Notifier;
use e2e_tests::moto;
use handlers::lambda;
use serde_json::{json, Value};
use support::receiver::Receiver;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One DynamoDB Streams API call to moto (it routes on the target; it does
/// not check signatures).
fn streams(action: &str, body: Value) -> Value {
    let auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, \
                SignedHeaders=host, Signature=00";
    let mut answer = ureq::post(moto::endpoint())
        .header("X-Amz-Target", format!("DynamoDBStreams_20120810.{action}"))
        .header("Content-Type", "application/x-amz-json-1.0")
        .header("Authorization", auth)
        .send(body.to_string())
        .unwrap_or_else(|e| panic!("{action}: {e}"));
    serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap()
}

/// Reads a table's stream from the start of its (one) shard, as the event
/// source mapping does, and hands out what was added since the last read.
struct StreamReader {
    iterator: String,
}

impl StreamReader {
    fn open(stream_arn: &str) -> Self {
        let described = streams("DescribeStream", json!({"StreamArn": stream_arn}));
        let shards = described["StreamDescription"]["Shards"].as_array().unwrap();
        assert_eq!(shards.len(), 1, "{described}");
        let it = streams(
            "GetShardIterator",
            json!({"StreamArn": stream_arn, "ShardId": shards[0]["ShardId"],
                   "ShardIteratorType": "TRIM_HORIZON"}),
        );
        StreamReader {
            iterator: it["ShardIterator"].as_str().unwrap().to_owned(),
        }
    }

    fn next_batch(&mut self) -> Vec<Value> {
        let got = streams("GetRecords", json!({"ShardIterator": self.iterator}));
        self.iterator = got["NextShardIterator"].as_str().unwrap().to_owned();
        got["Records"].as_array().unwrap().clone()
    }
}

/// The records from the one with this sequence number on: what Lambda
/// retries after a partial batch failure.
fn from_sequence(records: &[Value], sequence: &str) -> Value {
    let rest: Vec<Value> = records
        .iter()
        .skip_while(|r| r["dynamodb"]["SequenceNumber"] != sequence)
        .cloned()
        .collect();
    assert!(!rest.is_empty(), "{sequence} is not in the batch");
    json!({ "Records": rest })
}

/// What both tests stand on, on moto: the events table with its stream
/// (NEW_AND_OLD_IMAGES, as Terraform sets it) and the deliveries table.
struct Rig {
    config: aws_config::SdkConfig,
    store: DynamoStore,
    stream_arn: String,
    log: DeliveryTable,
}

impl Rig {
    async fn new() -> Self {
        let config = moto::config().await;
        let client = aws_sdk_dynamodb::Client::new(&config);
        let table = moto::unique("events");
        create_table(&client, &table).await.unwrap();
        let stream = StreamSpecification::builder()
            .stream_enabled(true)
            .stream_view_type(StreamViewType::NewAndOldImages)
            .build()
            .unwrap();
        client
            .update_table()
            .table_name(&table)
            .stream_specification(stream)
            .send()
            .await
            .unwrap();
        let described = client.describe_table().table_name(&table).send().await;
        let stream_arn = described
            .unwrap()
            .table
            .and_then(|t| t.latest_stream_arn)
            .expect("the table has a stream");
        let deliveries_name = moto::unique("deliveries");
        deliveries::create_table(&client, &deliveries_name)
            .await
            .unwrap();
        Rig {
            store: DynamoStore::new(client.clone(), table),
            log: DeliveryTable::new(client, deliveries_name),
            stream_arn,
            config,
        }
    }

    /// The notify function's senders, trying a webhook `attempts` times.
    fn sender(&self, attempts: u32) -> AwsChannels {
        AwsChannels {
            http: HttpDelivery::new(RetryPolicy {
                attempts,
                ..RetryPolicy::default()
            }),
            ses: aws_sdk_ses::Client::new(&self.config),
            from: String::new(),
            sns: aws_sdk_sns::Client::new(&self.config),
        }
    }
}

/// One webhook channel to `url` with the test secret; `extra` adds fields.
fn webhook(url: &str, extra: &str) -> AlertsConfig {
    AlertsConfig::from_json(&format!(
        r#"{{"channels": [{{"name": "hook", "kind": "webhook", "url": "{url}",
            "secret": "{SECRET}", {extra}}}]}}"#
    ))
    .unwrap()
}

/// The sample alarm, its `n`th time in ALARM (a new occurrence of one event).
fn alarm(n: u32) -> Value {
    let mut env: Value =
        serde_json::from_str(include_str!("../../samples/envelopes/alarm-alarm.json")).unwrap();
    env["id"] = json!(format!("alarm-{n}"));
    env["detail"]["state"]["timestamp"] = json!(format!("2026-11-25T09:0{n}:05.123+0000"));
    env
}

/// A change stored while notify was down (a crash between store and
/// notify) is still in the stream; a channel failing makes the batch fail
/// from that record, the retries carry the same webhook-id, and a batch
/// delivered again sends nothing twice. A further occurrence of the open
/// event alerts nobody.
#[tokio::test]
async fn stream_records_of_stored_events_alert_once_through_failures_and_redelivery() {
    let rig = Rig::new().await;
    let store = &rig.store;
    let receiver = Receiver::start();
    let alerts = webhook(&receiver.url("/flaky"), r#""min_severity": "low""#);
    // One try per invocation: Lambda's retry is what is under test.
    let sender = rig.sender(1);
    let notifier = Notifier {
        config: &alerts,
        log: &rig.log,
        sender: &sender,
    };

    // Stored; notify has not run (it crashed, or was not deployed yet).
    lambda::handle_monitoring_event(store, alarm(1), Utc::now())
        .await
        .unwrap();
    let mut stream = StreamReader::open(&rig.stream_arn);
    let records = stream.next_batch();
    assert!(
        records.iter().any(|r| r["eventName"] == "INSERT"),
        "{records:?}"
    );
    let batch = json!({ "Records": records });

    // The receiver answers 500 twice: each invocation fails from the event's record.
    let mut payload = batch.clone();
    for attempt in 1..=2 {
        let out = lambda::notify_invocation(&notifier, store, &payload, Utc::now())
            .await
            .unwrap();
        assert_eq!(out.failures.len(), 1, "attempt {attempt}: {out:?}");
        payload = from_sequence(&records, &out.failures[0].item_identifier);
    }
    let out = lambda::notify_invocation(&notifier, store, &payload, Utc::now())
        .await
        .unwrap();
    assert!(
        out.failures.is_empty(),
        "{out:?} {:#?}",
        receiver.on("/flaky")
    );
    assert_eq!(out.sent, 1);

    // The whole batch delivered again: the delivery log answers.
    let again = lambda::notify_invocation(&notifier, store, &batch, Utc::now())
        .await
        .unwrap();
    assert_eq!((again.sent, again.failures.len()), (0, 0));

    // Another occurrence of the open event: a MODIFY that alerts nobody.
    lambda::handle_monitoring_event(store, alarm(2), Utc::now())
        .await
        .unwrap();
    let records = stream.next_batch();
    assert!(
        records.iter().any(|r| r["eventName"] == "MODIFY"),
        "{records:?}"
    );
    let out =
        lambda::notify_invocation(&notifier, store, &json!({ "Records": records }), Utc::now())
            .await
            .unwrap();
    assert_eq!((out.sent, out.failures.len()), (0, 0));

    let got = receiver.on("/flaky");
    assert_eq!(got.len(), 3, "two refused tries and one accepted: {got:#?}");
    assert!(got.iter().all(|r| r.kind() == "event.opened"));
    let ids: Vec<_> = got
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
}

/// The one-minute scheduled invocation reads the agents from the events
/// table and alerts a stale one once.
#[tokio::test]
async fn the_schedule_alerts_a_stale_agent_read_from_the_events_table_once() {
    let rig = Rig::new().await;
    let store = &rig.store;
    let now = Utc::now();
    let id = "111122223333-eu-west-1".parse().unwrap();
    let mut agent = domain::usecases::deployment::new_agent(&id, Default::default(), 1, now);
    agent.last_seen_at = Some(now - chrono::Duration::hours(3));
    store.put(&agent).await.unwrap();
    let receiver = Receiver::start();
    let alerts = webhook(&receiver.url("/agents"), r#""transitions": ["agent"]"#);
    let sender = rig.sender(RetryPolicy::default().attempts);
    let notifier = Notifier {
        config: &alerts,
        log: &rig.log,
        sender: &sender,
    };
    for _ in 0..2 {
        lambda::notify_invocation(&notifier, store, &json!({}), now)
            .await
            .unwrap();
    }
    let got = receiver.kinds_on("/agents");
    assert_eq!(got, ["agent.stale"]);
    let data = receiver.on("/agents")[0].json();
    assert_eq!(data["data"]["agent"]["id"], "111122223333-eu-west-1");
}
