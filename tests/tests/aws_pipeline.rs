//! End-to-end across the AWS adapters and the Lambda handler functions, on
//! moto: CloudWatch Logs → agent → EventBridge rule → SQS → HandleMonitoringEvents
//! → DynamoDB → `api` handler → DailyReport → SES. Plus fault injection and
//! redelivery: every event is stored exactly once.
#![cfg(feature = "aws")]

use adapters::aws::dynamodb::{create_table, DynamoStore};
use adapters::aws::eventbridge::{EventBridgeConfigPusher, EventBridgePublisher};
use adapters::aws::logs::InsightsLogSource;
use adapters::aws::ses::SesMailer;
use adapters::aws::ssm::SsmAgentState;
use chrono::{Duration, Utc};
use domain::cursor::CursorCodec;
use domain::model::{AgentConfig, AgentId};
use domain::ports::{EventStore, SystemClock};
use domain::usecases::agent::{AgentSettings, QueryErrorLogs};
use domain::usecases::api::Api;
use domain::window::WindowPolicy;
use e2e_tests::moto::{self, FaultInjector};
use handlers::lambda;
use handlers::master::Outcome;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

struct Master {
    config: aws_config::SdkConfig,
    table: String,
    bus_arn: String,
    queue_url: String,
}

/// A new SQS queue: its URL and ARN.
async fn queue(sqs: &aws_sdk_sqs::Client, prefix: &str) -> (String, String) {
    let url = sqs
        .create_queue()
        .queue_name(moto::unique(prefix))
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    (url, arn)
}

/// A rule on `bus` that delivers what `pattern` matches to a queue.
async fn rule_to_queue(
    eb: &aws_sdk_eventbridge::Client,
    bus: &str,
    pattern: &Value,
    queue_arn: &str,
) {
    let rule = moto::unique("to-queue");
    eb.put_rule()
        .name(&rule)
        .event_bus_name(bus)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .unwrap();
    eb.put_targets()
        .rule(&rule)
        .event_bus_name(bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// A master bus whose rule delivers every event of this system to an SQS queue.
async fn master(config: aws_config::SdkConfig) -> Master {
    let table = moto::unique("events");
    create_table(&aws_sdk_dynamodb::Client::new(&config), &table)
        .await
        .unwrap();
    let eb = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let bus = moto::unique("master");
    let bus_arn = eb
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .unwrap()
        .event_bus_arn()
        .unwrap()
        .to_owned();
    let (queue_url, queue_arn) = queue(&sqs, "deliveries").await;
    let pattern = json!({"source": ["monitoring.agent.logs", "monitoring.agent"]});
    rule_to_queue(&eb, &bus, &pattern, &queue_arn).await;
    Master {
        config,
        table,
        bus_arn,
        queue_url,
    }
}

/// Every envelope the rule delivered to the queue.
async fn drain(m: &Master) -> Vec<Value> {
    let sqs = aws_sdk_sqs::Client::new(&m.config);
    let mut out = vec![];
    loop {
        let r = sqs
            .receive_message()
            .queue_url(&m.queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let msgs = r.messages();
        if msgs.is_empty() {
            return out;
        }
        for msg in msgs {
            out.push(serde_json::from_str(msg.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(&m.queue_url)
                .receipt_handle(msg.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

fn rest_get(path: &str, query: &str) -> lambda_http::Request {
    let params: serde_json::Map<String, Value> = url_pairs(query)
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    let event = json!({
        "resource": path, "path": path, "httpMethod": "GET", "headers": {"Host": "api.example"}, "multiValueHeaders": {},
        "queryStringParameters": if params.is_empty() { Value::Null } else { Value::Object(params) },
        "multiValueQueryStringParameters": null, "pathParameters": null, "stageVariables": null,
        "requestContext": {"accountId": "111122223333", "resourceId": "r", "stage": "prod", "requestId": "1",
            "identity": {"sourceIp": "127.0.0.1"}, "resourcePath": path, "httpMethod": "GET", "apiId": "a", "path": path},
        "body": null, "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

async fn api_get(api: &Api, path: &str, query: &str) -> (u16, Value) {
    let app = handlers::api::router(std::sync::Arc::new(api.clone()));
    let (status, body) = handlers::api::answer(app, rest_get(path, query)).await;
    (status.as_u16(), serde_json::from_slice(&body).unwrap())
}

/// moto's record of sent mail.
fn moto_sent_mail() -> Value {
    let out = std::process::Command::new("curl")
        .args(["-fsS", &format!("{}/moto-api/data.json", moto::endpoint())])
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_flow_from_cloudwatch_through_the_bus_into_dynamodb_the_api_and_the_report() {
    let config = moto::config().await;
    let m = master(config.clone()).await;
    let now = Utc::now();
    let t = |mins: i64| now - Duration::minutes(mins);

    // 1. Error logs in CloudWatch Logs.
    let prefix = format!("/aws/lambda/{}", moto::unique("e2e"));
    moto::seed_log_group(&config, &format!("{prefix}-orders"), &[
        (t(9), "2026-11-25T10:00:00.000Z\t3f1c2b9a-1d2e-4f5a-9b8c-7d6e5f4a3b2c\tERROR\tpayment 17 failed: card declined"),
        (t(8), "2026-11-25T10:01:00.000Z\t0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d\tERROR\tpayment 942 failed: card declined"),
        (t(7), "2026-11-25T10:02:00.000Z\t1b2c3d4e-6e5f-4a3b-2c1d-0e9f8a7b6c5d\tINFO\tall good"),
        (t(6), "2026-11-25T10:03:00.000Z 9e8d7c6b-5a4f-3e2d-1c0b-a9f8e7d6c5b4 Task timed out after 6.01 seconds"),
    ]).await;
    moto::seed_log_group(
        &config,
        &format!("{prefix}-billing"),
        &[
            (
                t(5),
                r#"{"level":"error","msg":"ledger write failed","id":1}"#,
            ),
            (
                t(4),
                r#"{"level":"error","msg":"ledger write failed","id":2}"#,
            ),
            (t(4), r#"{"level":"debug","msg":"ledger write ok"}"#),
        ],
    )
    .await;

    // 2. The agent use case with AWS adapters publishes to the master bus.
    let settings = AgentSettings {
        id: "111122223333-us-east-1".parse::<AgentId>().unwrap(),
        name: "e2e".into(),
        version: "0.1.0".into(),
        policy: WindowPolicy {
            latency: Duration::minutes(1),
            initial_lookback: Duration::minutes(15),
            ..WindowPolicy::default()
        },
        initial_config: AgentConfig {
            log_group_prefixes: vec![prefix.clone()],
            ..AgentConfig::default()
        },
    };
    let source = InsightsLogSource::new(aws_sdk_cloudwatchlogs::Client::new(&config));
    let publisher =
        EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&config), m.bus_arn.clone());
    let state = SsmAgentState::new(
        aws_sdk_ssm::Client::new(&config),
        format!("/monitoring/{}", moto::unique("agent")),
    );
    let agent = QueryErrorLogs {
        settings: &settings,
        source: &source,
        publisher: &publisher,
        state: &state,
    };
    let summary = lambda::query_error_logs(&agent, json!({"detail-type": "Scheduled Event"}), now)
        .await
        .unwrap();
    assert_eq!(summary["log_groups"], 2, "{summary}");
    assert_eq!(summary["records_matched"], 5, "{summary}");
    assert_eq!(summary["occurrences_published"], 3, "{summary}");

    // 3. The rule delivered the envelopes to SQS; HandleMonitoringEvents and
    //    UpdateDeployment store them, each twice (at-least-once delivery).
    let mut delivered = drain(&m).await;
    for env in &mut delivered {
        // moto's rule → SQS delivery leaves out `account`; EventBridge sets it
        // to the sender's account, which is the agent's here.
        if env.get("account").is_none() {
            env["account"] = json!("111122223333");
        }
        assert_eq!(env["region"], "us-east-1", "{env}");
    }
    let kinds: Vec<&str> = delivered
        .iter()
        .map(|e| e["detail-type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "Log Errors Detected")
            .count(),
        3,
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"Agent Registered") && kinds.contains(&"Agent Heartbeat"),
        "{kinds:?}"
    );
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), m.table.clone());
    let pusher =
        EventBridgeConfigPusher::new(aws_sdk_eventbridge::Client::new(&config), m.bus_arn.clone());
    let mut outcomes = HashMap::new();
    for _ in 0..2 {
        for env in &delivered {
            let outcome = if env["source"] == "monitoring.agent" {
                lambda::handle_deployment_event(&store, &store, &pusher, env.clone(), Utc::now())
                    .await
                    .unwrap()
            } else {
                lambda::handle_monitoring_event(&store, env.clone(), Utc::now())
                    .await
                    .unwrap()
            };
            *outcomes.entry(format!("{outcome:?}")).or_insert(0) += 1;
        }
    }
    assert_eq!(outcomes.get("Stored"), Some(&3), "{outcomes:?}");
    assert_eq!(outcomes.get("Duplicate"), Some(&3), "{outcomes:?}");

    // 4. The `api` handler lists them, with REST v1 requests.
    let api = Api {
        events: Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&config),
            m.table.clone(),
        )),
        agents: Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&config),
            m.table.clone(),
        )),
        pusher: Arc::new(EventBridgeConfigPusher::new(
            aws_sdk_eventbridge::Client::new(&config),
            m.bus_arn.clone(),
        )),
        clock: Arc::new(SystemClock),
        cursors: CursorCodec::new(b"e2e-key-of-sixteen-bytes".to_vec()),
    };
    let (status, body) = api_get(&api, "/events", "").await;
    assert_eq!(status, 200, "{body}");
    let items = body["items"].as_array().unwrap();
    let count_of = |needle: &str| {
        items
            .iter()
            .find(|e| e["title"].as_str().unwrap().contains(needle))
            .map(|e| (e["count"].clone(), e["severity"].clone()))
    };
    assert_eq!(count_of("card declined"), Some((json!(2), json!("high"))));
    assert_eq!(
        count_of("Task timed out"),
        Some((json!(1), json!("critical")))
    );
    assert_eq!(
        count_of("ledger write failed"),
        Some((json!(2), json!("high")))
    );
    assert!(items.iter().all(|e| e["account"] == "111122223333"));
    let (status, agents) = api_get(&api, "/agents", "").await;
    assert_eq!(status, 200);
    assert_eq!(agents["items"][0]["id"], "111122223333-us-east-1");
    let (status, _) = api_get(&api, "/events", "severity=bogus").await;
    assert_eq!(status, 400);

    // 5. The daily report lands in moto's SES.
    let ses = aws_sdk_ses::Client::new(&config);
    let sender = format!("{}@example.com", moto::unique("monitoring"));
    ses.verify_email_identity()
        .email_address(&sender)
        .send()
        .await
        .unwrap();
    let mailer = SesMailer::new(ses, sender.clone(), vec!["ops@example.com".into()]);
    let day = items[0]["last_seen"].as_str().unwrap()[..10].to_owned();
    lambda::daily_report(&store, &store, &mailer, &json!({"date": day}), Utc::now())
        .await
        .unwrap();
    let sent = moto_sent_mail().to_string();
    assert!(sent.contains(&sender), "the report was sent from {sender}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_5xx_and_triple_delivery_still_store_every_event_exactly_once() {
    let config = moto::config().await;
    let table = moto::unique("faults");
    create_table(&aws_sdk_dynamodb::Client::new(&config), &table)
        .await
        .unwrap();
    // Every third answer becomes throttling or a 500, after moto did the work.
    let faults = FaultInjector::new(3);
    let flaky = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config)
            .interceptor(faults.clone())
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build(),
    );
    let store = DynamoStore::new(flaky, table.clone());

    // 12 problems, 3 occurrences each, every envelope delivered three times.
    let envelope = |problem: u32, occurrence: u32| {
        json!({
            "version": "0", "id": format!("{problem}-{occurrence}"), "detail-type": "Log Errors Detected",
            "source": "monitoring.agent.logs", "account": "111122223333", "time": "2026-11-25T10:00:00Z",
            "region": "eu-west-1", "resources": [],
            "detail": {
                "agent_id": "111122223333-eu-west-1", "occurrence_key": format!("occ-{problem}-{occurrence}"),
                "log_group": "/aws/lambda/orders", "fingerprint": format!("{problem:016x}"), "severity": "high",
                "title": format!("problem {problem}"), "sample": "boom", "count": 2,
                "first_seen": "2026-11-25T09:50:00Z", "last_seen": format!("2026-11-25T09:5{occurrence}:00Z"),
                "window_start": "2026-11-25T09:55:00Z", "window_end": "2026-11-25T10:00:00Z"
            }
        })
    };
    let mut deliveries = vec![];
    for round in 0..3 {
        for p in 0..12 {
            for o in 0..3 {
                deliveries.push(envelope(p, (o + round) % 3));
            }
        }
    }
    let mut transient_failures = 0;
    for env in deliveries {
        // Lambda's async retries: a transient error is delivered again.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match lambda::handle_monitoring_event(&store, env.clone(), Utc::now()).await {
                Ok(Outcome::Stored | Outcome::Duplicate) => break,
                Ok(other) => panic!("unexpected {other:?}"),
                Err(_) if attempts < 20 => transient_failures += 1,
                Err(e) => panic!("still failing after {attempts} attempts: {e}"),
            }
        }
    }
    assert!(
        faults.injected() > 20,
        "faults were injected: {}",
        faults.injected()
    );
    assert!(transient_failures > 0);

    // Read back with a clean client: 12 events, each counted 3 occurrences × 2 records.
    let clean = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    let page = clean.list(&Default::default(), None, 200).await.unwrap();
    assert_eq!(page.items.len(), 12);
    for e in &page.items {
        assert_eq!(e.count, 6, "{} counted {}", e.title, e.count);
    }
    let day = "2026-11-25".parse().unwrap();
    let activity = clean.day_activity(day).await.unwrap();
    assert_eq!(activity.iter().map(|a| a.day_count).sum::<u64>(), 72);
}

/// An agent in another region than the master publishes to its own account's
/// default bus in its own region (the agent module's rule forwards from
/// there), so EventBridge stamps the envelope with the agent's region: here
/// the SDK's configured region is us-east-1 and the agent runs in eu-west-1.
#[tokio::test]
async fn an_agent_publishes_to_its_own_regional_default_bus() {
    let config = moto::config().await;
    let agent_region = "eu-west-1";
    let regional = config
        .to_builder()
        .region(aws_config::Region::new(agent_region))
        .build();
    let name = moto::unique("agent");
    let eb = aws_sdk_eventbridge::Client::new(&regional);
    let sqs = aws_sdk_sqs::Client::new(&regional);
    let (queue_url, queue_arn) = queue(&sqs, "forwarded").await;
    // Stands in for the agent module's forwarding rule on the default bus.
    let pattern = json!({"source": ["monitoring.agent"], "detail": {"name": [name]}});
    rule_to_queue(&eb, "default", &pattern, &queue_arn).await;

    let vars: HashMap<&str, String> = HashMap::from([
        ("AGENT_ACCOUNT_ID", "444455556666".to_owned()),
        ("AGENT_NAME", name.clone()),
        ("STATE_PARAMETER", format!("/monitoring/{name}")),
        ("AWS_REGION", agent_region.to_owned()),
    ]);
    let env = lambda::Env(move |k: &str| vars.get(k).cloned());
    let adapters = lambda::agent_adapters(&env, &config).unwrap();
    adapters.use_case().register(Utc::now()).await.unwrap();

    let r = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let delivered: Vec<Value> = r
        .messages()
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
        .collect();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0]["detail-type"], "Agent Registered");
    assert_eq!(
        delivered[0]["region"], agent_region,
        "stamped with the agent's region: {}",
        delivered[0]
    );
}

/// A valid envelope that the store refuses (here: the table does not exist)
/// fails the invocation, so Lambda retries it and then dead-letters it; it
/// is never answered as skipped. A malformed one is skipped with its reason.
#[tokio::test]
async fn a_valid_envelope_the_store_refuses_fails_instead_of_being_skipped() {
    let config = moto::config().await;
    let missing = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        moto::unique("no-such-table"),
    );
    let alarm: Value =
        serde_json::from_str(include_str!("../../samples/envelopes/alarm-alarm.json")).unwrap();
    let err = lambda::handle_monitoring_event(&missing, alarm.clone(), Utc::now())
        .await
        .expect_err("a refused write must fail the invocation");
    assert!(
        err.to_string().contains("ResourceNotFoundException"),
        "{err}"
    );
    let mut malformed = alarm;
    malformed["detail"] = json!({"state": {"value": "ALARM"}});
    let skipped = lambda::handle_monitoring_event(&missing, malformed, Utc::now())
        .await
        .unwrap();
    assert!(
        matches!(&skipped, Outcome::Skipped { reason } if reason.contains("alarmName")),
        "{skipped:?}"
    );
    assert_eq!(
        serde_json::to_value(&skipped).unwrap()["outcome"],
        "skipped",
        "typed JSON answer"
    );
}

/// Real-time path on moto: a subscription batch built as CloudWatch Logs
/// builds it (gzip + base64 JSON, multi-line events) goes through the
/// stream-error-logs handler to the master bus, HandleMonitoringEvents and
/// DynamoDB; the same batch delivered again counts nothing twice, and a
/// control message publishes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_batch_flows_to_a_stored_event_and_a_retry_counts_nothing_twice() {
    use domain::classify::ClassifierCache;
    use domain::usecases::stream::{StreamErrorLogs, StreamScope};
    let config = moto::config().await;
    let m = master(config.clone()).await;
    let group = format!("/aws/lambda/{}", moto::unique("stream"));
    let t0 = Utc::now().timestamp_millis();
    let batch = json!({
        "messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": group,
        "logStream": "2026/11/25/[$LATEST]0f1e2d3c", "subscriptionFilters": ["monitoring-agent-errors"],
        "logEvents": [
            {"id": "3837362512495019012563459847018532642157380621410233548800", "timestamp": t0,
             "message": "Traceback (most recent call last):\n  File \"/var/task/app.py\", line 7, in handler\n    charge(order)\nKeyError: 'card'\n"},
            {"id": "3837362512495019012563459847018532642157380621410233548801", "timestamp": t0 + 10,
             "message": "Traceback (most recent call last):\n  File \"/var/task/app.py\", line 7, in handler\n    charge(order)\nKeyError: 'card'\n"},
            {"id": "3837362512495019012563459847018532642157380621410233548802", "timestamp": t0 + 20,
             "message": "START RequestId: 9e8d7c6b Version: $LATEST"},
        ]
    });
    let payload = adapters::awslogs::payload(&batch);
    let settings = AgentSettings {
        id: "111122223333-us-east-1".parse::<AgentId>().unwrap(),
        name: "stream".into(),
        version: "0.1.0".into(),
        policy: WindowPolicy::default(),
        initial_config: AgentConfig::default(),
    };
    let publisher =
        EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&config), m.bus_arn.clone());
    let state = SsmAgentState::new(
        aws_sdk_ssm::Client::new(&config),
        format!("/monitoring/{}", moto::unique("stream")),
    );
    let stream = StreamErrorLogs {
        settings: &settings,
        scope: StreamScope::Watched,
        publisher: &publisher,
        state: &state,
        classifiers: &ClassifierCache::default(),
    };
    let lifecycle = QueryErrorLogs {
        settings: &settings,
        source: &lambda::NoLogGroups,
        publisher: &publisher,
        state: &state,
    };
    // Delivered, then delivered again (a retry after a timeout, say).
    for _ in 0..2 {
        let out = lambda::stream_error_logs(&stream, &lifecycle, payload.clone(), Utc::now())
            .await
            .unwrap();
        assert_eq!(
            out,
            json!({"outcome": "published", "log_events": 3, "records_matched": 2, "occurrences_published": 1})
        );
    }
    let control = adapters::awslogs::payload(&json!({
        "messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
        "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": t0,
        "message": "CWL CONTROL MESSAGE: Checking health of destination Lambda function."}]
    }));
    let out = lambda::stream_error_logs(&stream, &lifecycle, control, Utc::now())
        .await
        .unwrap();
    assert_eq!(out, json!({"outcome": "control_message"}));

    let mut delivered = drain(&m).await;
    assert_eq!(
        delivered.len(),
        2,
        "two deliveries of one occurrence: {delivered:?}"
    );
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), m.table.clone());
    let mut outcomes = vec![];
    for env in &mut delivered {
        if env.get("account").is_none() {
            env["account"] = json!("111122223333");
        }
        outcomes.push(
            lambda::handle_monitoring_event(&store, env.clone(), Utc::now())
                .await
                .unwrap(),
        );
    }
    assert_eq!(outcomes, vec![Outcome::Stored, Outcome::Duplicate]);
    let page = EventStore::list(&store, &Default::default(), None, 10)
        .await
        .unwrap();
    let e = page
        .items
        .iter()
        .find(|e| e.title.contains("KeyError"))
        .unwrap_or_else(|| panic!("no KeyError event: {page:?}"));
    assert_eq!(e.count, 2);
    assert_eq!(e.severity, domain::model::Severity::High);
}
