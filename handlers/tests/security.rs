//! The security properties of SECURITY.md, each proven through the interface
//! an attacker reaches: envelopes through the master's dispatch (as the
//! Lambda handlers, the local bus and `monitoring ingest` deliver them), HTTP
//! requests through the REST router (the `api` Lambda's) or the local server,
//! log files through the local agent, the report through the outbox, and the
//! Terraform and the repository's files as they are committed.

use adapters::bus::{LocalBus, Rule, Subscriber};
use adapters::files::FileLogSource;
use adapters::memory::{
    FixedClock, MemoryAgentState, MemoryAgentStore, MemoryEventStore, MemoryLogSource,
    MemoryPublisher, MemoryPusher,
};
use adapters::outbox::OutboxMailer;
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::cursor::CursorCodec;
use domain::envelope::Envelope;
use domain::inbound::{Target, MAX_SAMPLE, MAX_TITLE};
use domain::model::{AgentConfig, AgentId};
use domain::ports::{AgentStateStore, PortError};
use domain::usecases::agent::{AgentError, AgentSettings, QueryErrorLogs, SAMPLE_LIMIT};
use domain::usecases::api::Api;
use domain::usecases::report::send_daily_report;
use domain::window::WindowPolicy;
use handlers::api::{router, MAX_BODY};
use handlers::local::{http_app, ingest_files, rule_for, DataDir};
use handlers::master::Master;
use lambda_http::Body;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The monitored account that sends the envelopes.
const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";
/// Another monitored account, whose events the sender must not reach.
const OTHER: &str = "444455556666";
/// What a lying sender claims inside `detail`.
const SPOOFED: &str = "999999999999";
const SPOOFED_REGION: &str = "us-east-1";

fn now() -> DateTime<Utc> {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

// ---------------------------------------------------------------------------
// Fixture: the master over the memory stores, and the REST router over them.
// ---------------------------------------------------------------------------

struct Fixture {
    api: Api,
    events: Arc<MemoryEventStore>,
    agents: Arc<MemoryAgentStore>,
    pusher: Arc<MemoryPusher>,
}

fn fixture_with_key(key: &[u8]) -> Fixture {
    let events = Arc::new(MemoryEventStore::new());
    let agents = Arc::new(MemoryAgentStore::new());
    let pusher = Arc::new(MemoryPusher::new());
    let api = Api {
        events: events.clone(),
        agents: agents.clone(),
        pusher: pusher.clone(),
        clock: Arc::new(FixedClock::new(now())),
        cursors: CursorCodec::new(key.to_vec()),
    };
    Fixture {
        api,
        events,
        agents,
        pusher,
    }
}

fn fixture() -> Fixture {
    fixture_with_key(b"security-test-key-0123456789abcdef")
}

impl Fixture {
    /// Delivers an envelope as HandleMonitoringEvents / UpdateDeployment do.
    async fn deliver(&self, env: &Envelope) {
        Master {
            events: self.events.as_ref(),
            agents: self.agents.as_ref(),
            pusher: self.pusher.as_ref(),
        }
        .handle(env, now())
        .await
        .unwrap_or_else(|e| panic!("{} / {}: {e}", env.source, env.detail_type));
    }
}

fn envelope(
    source: &str,
    detail_type: &str,
    account: &str,
    resources: &[String],
    detail: Value,
) -> Envelope {
    serde_json::from_value(json!({
        "version": "0", "id": format!("{account}-{detail_type}"), "detail-type": detail_type,
        "source": source, "account": account, "time": "2026-11-25T10:00:00Z", "region": REGION,
        "resources": resources, "detail": detail
    }))
    .unwrap()
}

/// A `Log Errors Detected` detail; `extra` is merged into it.
fn log_errors_detail(title: &str, sample: &str, extra: Value) -> Value {
    let mut d = json!({
        "agent_id": format!("{ACCOUNT}-{REGION}"), "occurrence_key": format!("occ-{title:.20}"),
        "log_group": "/aws/lambda/orders", "fingerprint": "0123456789abcdef", "severity": "high",
        "title": title, "sample": sample, "sample_truncated": false, "count": 3,
        "first_seen": "2026-11-25T09:58:00Z", "last_seen": "2026-11-25T09:59:00Z",
        "window_start": "2026-11-25T09:55:00Z", "window_end": "2026-11-25T10:00:00Z"
    });
    for (k, v) in extra.as_object().unwrap() {
        d[k] = v.clone();
    }
    d
}

/// The four kinds of monitoring envelopes, each from `account`, each with a
/// `detail` that names the spoofed account and region every way it can.
fn spoofing_envelopes(account: &str) -> Vec<Envelope> {
    let spoofed_agent = format!("{SPOOFED}-{SPOOFED_REGION}");
    let alarm_arn = format!("arn:aws:cloudwatch:{SPOOFED_REGION}:{SPOOFED}:alarm:api-5xx");
    vec![
        envelope(
            "monitoring.agent.logs",
            "Log Errors Detected",
            account,
            &[],
            log_errors_detail(
                "payment gateway timeout",
                "ERROR payment gateway timeout",
                json!({"agent_id": spoofed_agent, "account": SPOOFED, "accountId": SPOOFED, "region": SPOOFED_REGION}),
            ),
        ),
        envelope(
            "aws.guardduty",
            "GuardDuty Finding",
            account,
            &[],
            json!({"id": "f-1", "severity": 8, "title": "Recon", "accountId": SPOOFED,
                   "region": SPOOFED_REGION, "account": SPOOFED, "updatedAt": "2026-11-25T10:00:00Z"}),
        ),
        envelope(
            "aws.health",
            "AWS Health Event",
            account,
            &[],
            json!({"eventArn": "arn:aws:health:us-east-1::event/EC2/X/1", "eventTypeCategory": "issue",
                   "service": "EC2", "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE",
                   "affectedAccount": SPOOFED, "account": SPOOFED, "region": SPOOFED_REGION}),
        ),
        envelope(
            "aws.cloudwatch",
            "CloudWatch Alarm State Change",
            account,
            &[alarm_arn],
            json!({"alarmName": "api-5xx", "accountId": SPOOFED, "region": SPOOFED_REGION,
                   "state": {"value": "ALARM", "timestamp": "2026-11-25T10:00:00.000+0000", "reason": "r"}}),
        ),
    ]
}

/// A REST v1 proxy event, as API Gateway sends it to the `api` Lambda.
fn rest_v1(
    method: &str,
    route: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Body>,
) -> lambda_http::Request {
    let mut path_params = serde_json::Map::new();
    for (t, p) in route.split('/').zip(path.split('/')) {
        if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            path_params.insert(name.into(), json!(p));
        }
    }
    let single: serde_json::Map<String, Value> = query
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let multi: serde_json::Map<String, Value> = query
        .iter()
        .map(|(k, v)| (k.to_string(), json!([v])))
        .collect();
    let (body, base64) = match body {
        None | Some(Body::Empty) => (Value::Null, false),
        Some(Body::Text(t)) => (json!(t), false),
        Some(Body::Binary(b)) => (json!(base64_encode(&b)), true),
        Some(_) => unreachable!("no streaming bodies here"),
    };
    let event = json!({
        "resource": route, "path": path, "httpMethod": method,
        "headers": {"Host": "abc123.execute-api.eu-west-1.amazonaws.com"}, "multiValueHeaders": {},
        "queryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(single) },
        "multiValueQueryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(multi) },
        "pathParameters": if path_params.is_empty() { Value::Null } else { Value::Object(path_params) },
        "stageVariables": null,
        "requestContext": {
            "accountId": ACCOUNT, "resourceId": "r1", "stage": "prod", "requestId": "req-1",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "test"},
            "resourcePath": route, "httpMethod": method, "apiId": "abc123", "path": format!("/prod{path}"),
            "protocol": "HTTP/1.1", "requestTimeEpoch": 1764072000000u64
        },
        "body": body, "isBase64Encoded": base64
    });
    lambda_http::request::from_str(&event.to_string()).expect("a valid REST v1 event")
}

async fn call_api(
    api: &Api,
    method: &str,
    route: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Body>,
) -> (u16, Value) {
    let resp = tower::ServiceExt::oneshot(
        router(Arc::new(api.clone())),
        rest_v1(method, route, path, query, body),
    )
    .await
    .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).expect("a JSON body");
    (status, body)
}

async fn list_events(f: &Fixture, query: &[(&str, &str)]) -> Vec<Value> {
    let (s, body) = call_api(&f.api, "GET", "/events", "/events", query, None).await;
    assert_eq!(s, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

// ---------------------------------------------------------------------------
// (a) Who sent an envelope: the envelope's `account`, never `detail`.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn spoofed_detail_accounts_are_ignored_for_every_envelope_kind() {
    let f = fixture();
    for env in spoofing_envelopes(ACCOUNT) {
        f.deliver(&env).await;
    }
    let items = list_events(&f, &[]).await;
    let kinds: Vec<&str> = items
        .iter()
        .map(|e| e["detail_type"].as_str().unwrap())
        .collect();
    assert_eq!(items.len(), 4, "{kinds:?}");
    for e in &items {
        assert_eq!(e["account"], ACCOUNT, "{e}");
        assert_eq!(e["region"], REGION, "{e}");
    }
    // The log event's agent is the envelope's too, not the one its detail names.
    let logs = items
        .iter()
        .find(|e| e["source"] == "monitoring.agent.logs")
        .unwrap();
    assert_eq!(logs["detail"]["agent_id"], format!("{ACCOUNT}-{REGION}"));
    assert!(!logs.to_string().contains(SPOOFED), "{logs}");
    // Nothing is filed under what the details claim.
    assert!(list_events(&f, &[("account", SPOOFED)]).await.is_empty());
    assert!(list_events(&f, &[("region", SPOOFED_REGION)])
        .await
        .is_empty());
}

#[tokio::test]
async fn monitoring_ingest_takes_the_account_from_the_envelope_too() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("spoofed.json");
    let envelopes: Vec<Value> = spoofing_envelopes(ACCOUNT)
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    std::fs::write(&file, Value::Array(envelopes).to_string()).unwrap();
    let data = tmp.path().join("data");
    let outcomes = ingest_files(&data, &[file]).await.unwrap();
    assert_eq!(outcomes[0].result.as_ref().unwrap().stored, 4);
    let store = DataDir(data).open_store().unwrap();
    let api = Api {
        events: store.clone(),
        agents: store,
        pusher: Arc::new(MemoryPusher::new()),
        clock: Arc::new(FixedClock::new(now())),
        cursors: CursorCodec::new(b"k".to_vec()),
    };
    let (_, body) = call_api(&api, "GET", "/events", "/events", &[], None).await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(items
        .iter()
        .all(|e| e["account"] == ACCOUNT && e["region"] == REGION));
}

#[tokio::test]
async fn an_agent_account_cannot_touch_another_accounts_events() {
    let f = fixture();
    // The other account's own alarm and log error.
    let alarm_arn = format!("arn:aws:cloudwatch:{REGION}:{OTHER}:alarm:db-errors");
    let alarm = |account: &str, state: &str, minute: u32| {
        envelope(
            "aws.cloudwatch",
            "CloudWatch Alarm State Change",
            account,
            std::slice::from_ref(&alarm_arn),
            json!({"alarmName": "db-errors", "accountId": OTHER,
                   "state": {"value": state, "timestamp": format!("2026-11-25T10:{minute:02}:00.000+0000")}}),
        )
    };
    f.deliver(&alarm(OTHER, "ALARM", 0)).await;
    let theirs = log_errors_detail("db down", "ERROR db down", json!({}));
    let mut their_log = envelope(
        "monitoring.agent.logs",
        "Log Errors Detected",
        OTHER,
        &[],
        theirs.clone(),
    );
    their_log.detail["agent_id"] = json!(format!("{OTHER}-{REGION}"));
    f.deliver(&their_log).await;
    let before = list_events(&f, &[("account", OTHER)]).await;
    assert_eq!(before.len(), 2);

    // The sender resolves "their" alarm and repeats "their" log error, naming
    // the other account in every field it controls.
    f.deliver(&alarm(ACCOUNT, "OK", 5)).await;
    let mut mine = their_log.clone();
    mine.account = ACCOUNT.into();
    mine.detail["occurrence_key"] = json!("replayed");
    mine.detail["count"] = json!(1_000_000);
    f.deliver(&mine).await;

    let after = list_events(&f, &[("account", OTHER)]).await;
    assert_eq!(after, before, "the other account's events did not change");
    assert!(after
        .iter()
        .any(|e| e["status"] == "open" && e["detail_type"] == "CloudWatch Alarm State Change"));
    let own = list_events(&f, &[("account", ACCOUNT)]).await;
    assert_eq!(own.len(), 2, "the sender got events of its own");
    let ids = |v: &[Value]| -> Vec<String> {
        v.iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(ids(&own).iter().all(|id| !ids(&after).contains(id)));
}

#[tokio::test]
async fn agent_messages_are_keyed_by_the_envelope_account_not_the_detail() {
    let f = fixture();
    let other_agent = format!("{OTHER}-{REGION}");
    f.deliver(&envelope(
        "monitoring.agent",
        "Agent Registered",
        OTHER,
        &[],
        json!({"name": "payments-prod", "version": "0.1.0", "config_version": 1}),
    ))
    .await;
    // The sender claims to be that agent in every message it can send.
    let claim = json!({"agent_id": other_agent, "account": OTHER, "region": REGION});
    for (dt, detail) in [
        (
            "Agent Registered",
            json!({"name": "hijacked", "version": "6.6.6", "config_version": 9}),
        ),
        (
            "Agent Heartbeat",
            json!({"name": "hijacked", "version": "6.6.6", "config_version": 9}),
        ),
        ("Agent Config Applied", json!({"config_version": 9})),
    ] {
        let mut detail = detail;
        for (k, v) in claim.as_object().unwrap() {
            detail[k] = v.clone();
        }
        f.deliver(&envelope("monitoring.agent", dt, ACCOUNT, &[], detail))
            .await;
    }
    let (s, theirs) = call_api(
        &f.api,
        "GET",
        "/agents/{agentId}",
        &format!("/agents/{other_agent}"),
        &[],
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            theirs["name"].as_str(),
            theirs["version"].as_str(),
            theirs["applied_config_version"].as_u64()
        ),
        (Some("payments-prod"), Some("0.1.0"), Some(1))
    );
    let (_, list) = call_api(&f.api, "GET", "/agents", "/agents", &[], None).await;
    let mut ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [format!("{ACCOUNT}-{REGION}"), other_agent]);
}

#[tokio::test]
async fn an_agent_applies_only_config_updates_addressed_to_it() {
    let settings = AgentSettings {
        id: format!("{ACCOUNT}-{REGION}").parse().unwrap(),
        name: "payments".into(),
        version: "0.1.0".into(),
        policy: WindowPolicy::default(),
        initial_config: AgentConfig::default(),
    };
    let (source, publisher, state) = (
        MemoryLogSource::new(),
        MemoryPublisher::new(),
        MemoryAgentState::new(),
    );
    let agent = QueryErrorLogs {
        settings: &settings,
        source: &source,
        publisher: &publisher,
        state: &state,
    };
    let push = |agent_id: &str| {
        envelope(
            "monitoring.master",
            "Agent Config Update",
            "777788889999",
            &[],
            json!({"agent_id": agent_id, "config_version": 5, "config": AgentConfig {
                exclude_patterns: vec![".*".into()],
                ..AgentConfig::default()
            }}),
        )
    };
    let err = agent
        .apply_config_update(&push(&format!("{OTHER}-{REGION}")), now())
        .await
        .unwrap_err();
    assert!(matches!(err, AgentError::BadConfig(_)), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(state.load().await.unwrap().config_version, 0);
    assert!(publisher.published().is_empty());
    // Addressed to it, the same push applies.
    assert!(agent
        .apply_config_update(&push(&format!("{ACCOUNT}-{REGION}")), now())
        .await
        .unwrap());
    assert_eq!(state.load().await.unwrap().config_version, 5);
}

// ---------------------------------------------------------------------------
// (b) Cursors: HMAC-SHA256 with the deployment's key, bound to their query.
// ---------------------------------------------------------------------------

/// 5 alarms, so that `limit=2` pages.
async fn seed_alarms(f: &Fixture) {
    for i in 0..5 {
        f.deliver(&envelope(
            "aws.cloudwatch",
            "CloudWatch Alarm State Change",
            ACCOUNT,
            &[format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:a{i}")],
            json!({"alarmName": format!("a{i}"), "state": {"value": "ALARM",
                   "timestamp": format!("2026-11-25T10:0{i}:00.000+0000")}}),
        ))
        .await;
    }
}

#[tokio::test]
async fn a_cursor_signed_with_another_key_or_tampered_or_oversized_is_400() {
    let ours = fixture_with_key(b"deployment-one-key-0123456789abcdef");
    seed_alarms(&ours).await;
    // Another deployment (another key) over the very same data.
    let mut theirs = fixture_with_key(b"deployment-two-key-0123456789abcdef");
    theirs.api.events = ours.events.clone();
    theirs.api.agents = ours.agents.clone();
    ours.deliver(&envelope(
        "monitoring.agent",
        "Agent Heartbeat",
        OTHER,
        &[],
        json!({"version": "0.1.0"}),
    ))
    .await;
    ours.deliver(&envelope(
        "monitoring.agent",
        "Agent Heartbeat",
        ACCOUNT,
        &[],
        json!({"version": "0.1.0"}),
    ))
    .await;
    let page = |api: &'static str| match api {
        "events" => ("/events", vec![("limit", "2")]),
        _ => ("/agents", vec![("limit", "1")]),
    };
    for kind in ["events", "agents"] {
        let (path, q) = page(kind);
        let (s, first) = call_api(&theirs.api, "GET", path, path, &q, None).await;
        assert_eq!(s, 200);
        let foreign = first["next_cursor"].as_str().unwrap().to_owned();
        let mut with = q.clone();
        with.push(("cursor", foreign.as_str()));
        let (s, body) = call_api(&ours.api, "GET", path, path, &with, None).await;
        assert_eq!(s, 400, "{kind}: a cursor of another key: {body}");
        assert_eq!(body["error"]["code"], "bad_request");
        // Its own key accepts it: the 400 is the signature, not the content.
        assert_eq!(
            call_api(&theirs.api, "GET", path, path, &with, None)
                .await
                .0,
            200
        );
    }

    let (_, first) = call_api(
        &ours.api,
        "GET",
        "/events",
        "/events",
        &[("limit", "2")],
        None,
    )
    .await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (payload, tag) = cursor.split_once('.').unwrap();
    // The payload rewritten (a valid base64url JSON of another page key) under the old tag.
    let forged_payload = base64url_encode(
        &String::from_utf8(base64url_decode(payload))
            .unwrap()
            .replace("10:0", "10:1")
            .into_bytes(),
    );
    assert_ne!(forged_payload, payload, "the page key was rewritten");
    let too_long = format!("{}.{tag}", "A".repeat(5000));
    let agents_cursor = {
        let (_, a) = call_api(
            &ours.api,
            "GET",
            "/agents",
            "/agents",
            &[("limit", "1")],
            None,
        )
        .await;
        a["next_cursor"].as_str().unwrap().to_owned()
    };
    for bad in [
        format!("{forged_payload}.{tag}"),
        format!("{payload}.{}", base64url_encode(&[0u8; 32])),
        format!("{payload}."),
        payload.to_owned(),
        too_long,
        agents_cursor,
        "%00".to_owned(),
    ] {
        let (s, body) = call_api(
            &ours.api,
            "GET",
            "/events",
            "/events",
            &[("limit", "2"), ("cursor", bad.as_str())],
            None,
        )
        .await;
        assert_eq!(s, 400, "{bad:.60}: {body}");
    }
    // Bound to its query: the same cursor with another filter or limit is refused.
    for other_query in [
        vec![("limit", "2"), ("severity", "high")],
        vec![("limit", "2"), ("account", ACCOUNT)],
    ] {
        let mut q = other_query;
        q.push(("cursor", cursor.as_str()));
        assert_eq!(
            call_api(&ours.api, "GET", "/events", "/events", &q, None)
                .await
                .0,
            400,
            "{q:?}"
        );
    }
    // The events cursor on /agents was already refused the other way round.
    let (s, _) = call_api(
        &ours.api,
        "GET",
        "/agents",
        "/agents",
        &[("cursor", cursor.as_str())],
        None,
    )
    .await;
    assert_eq!(s, 400);
}

#[test]
fn the_local_cursor_key_is_random_private_stable_and_never_printed() {
    use std::os::unix::fs::PermissionsExt;
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let key_a = DataDir(a.path().to_owned()).cursor_key().unwrap();
    let key_b = DataDir(b.path().to_owned()).cursor_key().unwrap();
    assert_eq!(key_a.len(), 32);
    assert_ne!(key_a, key_b, "each data dir has its own key");
    assert_ne!(key_a, vec![0u8; 32]);
    let file = DataDir(a.path().to_owned()).cursor_key_file();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "cursor.key is readable by its owner only"
    );
    // Kept: a restart signs and checks with the same key.
    assert_eq!(DataDir(a.path().to_owned()).cursor_key().unwrap(), key_a);
    // A short (truncated, hand-written) key file is replaced, not used.
    std::fs::write(&file, b"weak").unwrap();
    let replaced = DataDir(a.path().to_owned()).cursor_key().unwrap();
    assert_eq!(replaced.len(), 32);
    assert_ne!(replaced, b"weak".to_vec());
    // The codec never shows its key.
    let shown = format!("{:?}", CursorCodec::new(b"very-secret-key".to_vec()));
    assert!(!shown.contains("very-secret-key"), "{shown}");
}

// ---------------------------------------------------------------------------
// (c) Oversized input: bodies, parameters, log lines, envelopes.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn bodies_over_64_kib_are_413_on_both_put_routes() {
    let f = fixture();
    seed_alarms(&f).await;
    f.deliver(&envelope(
        "monitoring.agent",
        "Agent Registered",
        ACCOUNT,
        &[],
        json!({"version": "0.1.0"}),
    ))
    .await;
    let event_id = list_events(&f, &[]).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let routes = [
        ("/events/{eventId}", format!("/events/{event_id}")),
        ("/agents/{agentId}", format!("/agents/{ACCOUNT}-{REGION}")),
    ];
    // A JSON body of exactly `len` bytes.
    let body_of = |len: usize| {
        let pad = len - r#"{"note":""}"#.len();
        format!(r#"{{"note":"{}"}}"#, "x".repeat(pad))
    };
    for (route, path) in &routes {
        for body in [
            Body::Text(body_of(MAX_BODY + 1)),
            Body::Text(body_of(4 * 1024 * 1024)),
            Body::Binary(vec![b'x'; MAX_BODY + 1]),
        ] {
            let (s, err) = call_api(&f.api, "PUT", route, path, &[], Some(body)).await;
            assert_eq!(s, 413, "{route}: {err}");
            assert!(err["error"]["message"].as_str().unwrap().contains("65536"));
        }
        // At the limit the body is read (and refused for what it says, not its size).
        let (s, err) = call_api(
            &f.api,
            "PUT",
            route,
            path,
            &[],
            Some(Body::Text(body_of(MAX_BODY))),
        )
        .await;
        assert_eq!(s, 400, "{route}: {err}");
    }
}

/// A raw HTTP/1.1 exchange with the local server: the status line's code and
/// the JSON body of the answer.
fn raw_http(addr: std::net::SocketAddr, head: &str, body_len: usize) -> (u16, Value) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut reader = stream.try_clone().unwrap();
    let request = format!("{head}Content-Length: {body_len}\r\nConnection: close\r\n\r\n");
    // The server may answer (and stop reading) long before the body is sent.
    let writer = std::thread::spawn(move || {
        let _ = stream.write_all(request.as_bytes());
        let chunk = vec![b'x'; 64 * 1024];
        let mut left = body_len;
        while left > 0 {
            let n = left.min(chunk.len());
            if stream.write_all(&chunk[..n]).is_err() {
                break;
            }
            left -= n;
        }
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            // A reset after the answer arrived ends the exchange too.
            Err(_) if !answer.is_empty() => break,
            Err(e) => panic!("no answer: {e}"),
        }
        if let Some(end) = find(&answer, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&answer[..end]).to_string();
            if let Some(len) = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap())
            }) {
                if answer.len() >= end + 4 + len {
                    break;
                }
            }
        }
    }
    let _ = writer.join();
    let text = String::from_utf8_lossy(&answer).to_string();
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:.200}"));
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_server_answers_413_without_reading_a_huge_body() {
    let f = fixture();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, http_app(Arc::new(f.api)))
            .await
            .unwrap()
    });
    for (route, len) in [
        ("/events/0123456789abcdef0123456789abcdef", MAX_BODY + 1),
        ("/events/0123456789abcdef0123456789abcdef", 8 * 1024 * 1024),
        ("/agents/111122223333-eu-west-1", 8 * 1024 * 1024),
    ] {
        let head = format!("PUT {route} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        let (status, body) = tokio::task::spawn_blocking(move || raw_http(addr, &head, len))
            .await
            .unwrap();
        assert_eq!(status, 413, "{route} with {len} bytes: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{body}");
    }
    server.abort();
}

#[tokio::test]
async fn query_parameters_and_fields_are_bounded() {
    let f = fixture();
    seed_alarms(&f).await;
    f.deliver(&envelope(
        "monitoring.agent",
        "Agent Registered",
        ACCOUNT,
        &[],
        json!({"version": "0.1.0"}),
    ))
    .await;
    let long_source = "s".repeat(257);
    let fine_source = "s".repeat(256);
    for (path, q, want) in [
        ("/events", vec![("limit", "0")], 400),
        ("/events", vec![("limit", "1")], 200),
        ("/events", vec![("limit", "200")], 200),
        ("/events", vec![("limit", "201")], 400),
        ("/events", vec![("limit", "18446744073709551616")], 400),
        ("/events", vec![("limit", "-1")], 400),
        ("/agents", vec![("limit", "0")], 400),
        ("/agents", vec![("limit", "200")], 200),
        ("/agents", vec![("limit", "201")], 400),
        ("/events", vec![("source", fine_source.as_str())], 200),
        ("/events", vec![("source", long_source.as_str())], 400),
    ] {
        let (s, body) = call_api(&f.api, "GET", path, path, &q, None).await;
        assert_eq!(s, want, "{path} {:.80?}: {body}", q);
    }
    let event = format!(
        "/events/{}",
        list_events(&f, &[]).await[0]["id"].as_str().unwrap()
    );
    let agent = format!("/agents/{ACCOUNT}-{REGION}");
    let text = |n: usize| "é".repeat(n);
    for (route, path, body, want) in [
        (
            "/events/{eventId}",
            &event,
            json!({"note": text(4096)}),
            200,
        ),
        (
            "/events/{eventId}",
            &event,
            json!({"note": text(4097)}),
            400,
        ),
        (
            "/events/{eventId}",
            &event,
            json!({"assignee": text(256)}),
            200,
        ),
        (
            "/events/{eventId}",
            &event,
            json!({"assignee": text(257)}),
            400,
        ),
        ("/agents/{agentId}", &agent, json!({"name": text(128)}), 200),
        ("/agents/{agentId}", &agent, json!({"name": text(129)}), 400),
        // Patterns: at most 1024 characters, and a small one that would
        // compile to a huge automaton is refused, not built.
        (
            "/agents/{agentId}",
            &agent,
            json!({"config": {"exclude_patterns": ["a".repeat(1025)]}}),
            400,
        ),
        (
            "/agents/{agentId}",
            &agent,
            json!({"config": {"rules": [{"pattern": "(?:(?:a{1000}){1000}){1000}", "severity": "high"}]}}),
            400,
        ),
        (
            "/agents/{agentId}",
            &agent,
            json!({"config": {"exclude_patterns": ["\\w{1000}"]}}),
            400,
        ),
        (
            "/agents/{agentId}",
            &agent,
            json!({"config": {"log_groups": (0..1001).map(|i| format!("/g/{i}")).collect::<Vec<_>>()}}),
            400,
        ),
    ] {
        let started = std::time::Instant::now();
        let (s, answer) = call_api(
            &f.api,
            "PUT",
            route,
            path,
            &[],
            Some(Body::Text(body.to_string())),
        )
        .await;
        assert_eq!(s, want, "{:.120}: {answer}", body.to_string());
        if want == 400 {
            // Refused for the bound it crosses, not for anything else.
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(
                [
                    "longer than",
                    "1-128 characters",
                    "size limit",
                    "at most 1000"
                ]
                .iter()
                .any(|m| message.contains(m)),
                "{message}"
            );
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}

/// The master's rules in front of the master over the memory stores.
struct MasterTarget(Arc<Fixture>);

#[async_trait]
impl Subscriber for MasterTarget {
    async fn deliver(&self, env: &Envelope) -> Result<(), PortError> {
        let f = &self.0;
        Master {
            events: f.events.as_ref(),
            agents: f.agents.as_ref(),
            pusher: f.pusher.as_ref(),
        }
        .handle(env, now())
        .await
        .map(|_| ())
        .map_err(|e| PortError::Transient(e.to_string()))
    }
}

#[tokio::test]
async fn a_huge_hostile_log_line_is_stored_with_a_bounded_title_and_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    // One error line of 4 MiB: markup, control characters, then filler.
    let hostile = format!(
        "2026-11-25T10:00:00.000Z ERROR <script>alert(1)</script>\u{1b}[2J\u{7}{}\n",
        "A".repeat(4 * 1024 * 1024)
    );
    std::fs::write(
        logs.join("app.log"),
        format!("{hostile}2026-11-25T10:00:01.000Z INFO next\n"),
    )
    .unwrap();

    let f = Arc::new(fixture());
    let bus = LocalBus::new();
    let (monitoring, deployment) = (
        rule_for(Target::HandleMonitoringEvents),
        rule_for(Target::UpdateDeployment),
    );
    bus.subscribe(monitoring, Arc::new(MasterTarget(f.clone())));
    bus.subscribe(deployment, Arc::new(MasterTarget(f.clone())));
    bus.subscribe(
        Rule::new("nobody", &["monitoring.master"], &["Agent Config Update"]),
        Arc::new(MasterTarget(f.clone())),
    );
    let settings = AgentSettings {
        id: AgentId::new(ACCOUNT.parse().unwrap(), REGION.parse().unwrap()),
        name: "local".into(),
        version: "0.1.0".into(),
        policy: WindowPolicy {
            latency: Duration::zero(),
            initial_lookback: Duration::minutes(1),
            max_window: Duration::days(1),
            max_catch_up: Duration::days(3650),
        },
        initial_config: AgentConfig {
            log_group_prefixes: vec![String::new()],
            ..AgentConfig::default()
        },
    };
    let source = FileLogSource::open(&logs, tmp.path().join("offsets.json")).unwrap();
    let state = MemoryAgentState::new();
    let agent = QueryErrorLogs {
        settings: &settings,
        source: &source,
        publisher: bus.as_ref(),
        state: &state,
    };
    let summary = agent.run(now()).await.unwrap();
    assert_eq!(summary.occurrences_published, 1, "{summary:?}");

    let items = list_events(&f, &[("source", "monitoring.agent.logs")]).await;
    assert_eq!(items.len(), 1);
    let e = &items[0];
    let title = e["title"].as_str().unwrap();
    let sample = e["sample"].as_str().unwrap();
    assert!(title.len() <= 160 + '…'.len_utf8(), "{} bytes", title.len());
    assert!(!title.chars().any(char::is_control), "{title:?}");
    assert!(title.contains("<script>"), "kept as text: {title}");
    assert!(
        sample.len() <= SAMPLE_LIMIT + '…'.len_utf8(),
        "{} bytes",
        sample.len()
    );
    assert!(sample.ends_with('…'));
    assert_eq!(e["detail"]["sample_truncated"], true);
    assert!(
        e.to_string().len() < 16 * 1024,
        "the stored event stays small"
    );
}

#[tokio::test]
async fn the_master_bounds_what_a_sender_writes_in_an_envelope() {
    let f = fixture();
    // What an agent account could send in one 256 KB PutEvents entry.
    let title = format!(
        "line one\r\nline two\u{0}\u{1b}[31m\u{2028}{}",
        "T".repeat(100_000)
    );
    let sample = "S".repeat(120_000);
    let resources: Vec<String> = (0..100)
        .map(|i| {
            format!(
                "arn:aws:lambda:{REGION}:{ACCOUNT}:function:{i}{}",
                "r".repeat(300)
            )
        })
        .collect();
    f.deliver(&envelope(
        "monitoring.agent.logs",
        "Log Errors Detected",
        ACCOUNT,
        &resources,
        log_errors_detail(&title, &sample, json!({})),
    ))
    .await;
    // And a forwarded alarm whose reason (the sample) is long.
    f.deliver(&envelope(
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
        ACCOUNT,
        &[],
        json!({"alarmName": "x\ny", "state": {"value": "ALARM", "reason": "R".repeat(50_000),
               "timestamp": "2026-11-25T10:00:00.000+0000"}}),
    ))
    .await;
    let items = list_events(&f, &[]).await;
    assert_eq!(items.len(), 2);
    for e in &items {
        let t = e["title"].as_str().unwrap();
        assert!(t.len() <= MAX_TITLE + '…'.len_utf8(), "{} bytes", t.len());
        assert!(
            !t.chars().any(|c| c.is_control() || c == '\u{2028}'),
            "{t:.60?}"
        );
        assert!(e["sample"].as_str().unwrap().len() <= MAX_SAMPLE + '…'.len_utf8());
    }
    let logs = items
        .iter()
        .find(|e| e["source"] == "monitoring.agent.logs")
        .unwrap();
    assert!(logs["title"]
        .as_str()
        .unwrap()
        .starts_with("line one  line two"));
    assert_eq!(logs["detail"]["sample_truncated"], true);
    assert_eq!(logs["resources"], json!([]), "an agent sends no resources");
    // A full page of such events stays far below Lambda's 6 MB answer.
    assert!(logs.to_string().len() < 20 * 1024);
}

// ---------------------------------------------------------------------------
// (d) Log text in the daily report e-mail.
// ---------------------------------------------------------------------------

fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, c)| n | (value(*c) << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

fn base64url_encode(bytes: &[u8]) -> String {
    base64_encode(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

fn base64url_decode(text: &str) -> Vec<u8> {
    base64_decode(text)
}

/// The parts of a MIME message: (content type, decoded body).
fn mime_parts(message: &str) -> Vec<(String, String)> {
    let (head, body) = message.split_once("\r\n\r\n").unwrap();
    let boundary = head
        .split_once("boundary=\"")
        .unwrap()
        .1
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (parts, epilogue) = body.split_once(&format!("\r\n--{boundary}--")).unwrap();
    assert_eq!(epilogue, "\r\n");
    parts
        .split(&format!("--{boundary}\r\n"))
        .skip(1)
        .map(|part| {
            let (part_head, part_body) = part.split_once("\r\n\r\n").unwrap();
            assert!(part_head.contains("Content-Transfer-Encoding: base64"));
            let kind = part_head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Type: "))
                .unwrap()
                .to_owned();
            (
                kind,
                String::from_utf8(base64_decode(&part_body.replace("\r\n", ""))).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn script_in_log_text_is_escaped_in_the_html_part_and_plain_in_the_text_part() {
    let f = fixture();
    let day: NaiveDate = "2026-11-25".parse().unwrap();
    let script = "<script>alert('x')</script>";
    let img = r#"<img src=x onerror="alert(1)">"#;
    let boundary_break =
        "\r\n--=_aws-monitoring_0\r\nContent-Type: text/html\r\n\r\n<h1>owned</h1>";
    // A log error whose title is markup, a forwarded alarm whose name is, and
    // an agent whose name is: every place a sender's text reaches the report.
    f.deliver(&envelope(
        "monitoring.agent.logs",
        "Log Errors Detected",
        ACCOUNT,
        &[],
        log_errors_detail(&format!("{script}{img}{boundary_break}"), script, json!({})),
    ))
    .await;
    f.deliver(&envelope(
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
        ACCOUNT,
        &[],
        json!({"alarmName": img, "state": {"value": "ALARM", "reason": script,
               "timestamp": "2026-11-25T10:00:00.000+0000"}}),
    ))
    .await;
    let mut quiet = envelope(
        "monitoring.agent",
        "Agent Registered",
        OTHER,
        &[],
        json!({"name": format!("{script}&amp;"), "version": "0.1.0"}),
    );
    quiet.time = "2026-11-23T10:00:00Z".parse().unwrap();
    Master {
        events: f.events.as_ref(),
        agents: f.agents.as_ref(),
        pusher: f.pusher.as_ref(),
    }
    .handle(&quiet, "2026-11-23T10:00:00Z".parse().unwrap())
    .await
    .unwrap();

    let outbox = tempfile::tempdir().unwrap();
    let path = send_daily_report(
        f.events.as_ref(),
        f.agents.as_ref(),
        &OutboxMailer::new(outbox.path()),
        day,
        "2026-11-26T06:00:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    let message = std::fs::read_to_string(path).unwrap();
    let parts = mime_parts(&message);
    assert_eq!(
        parts.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["text/plain; charset=utf-8", "text/html; charset=utf-8"],
        "the title's boundary and headers added no part"
    );
    let (text, html) = (&parts[0].1, &parts[1].1);
    // HTML: the sender's text is there, escaped; no markup of its own survives.
    for needle in ["<script", "<img", "onerror=\"", "<h1>owned"] {
        assert!(!html.contains(needle), "{needle} in {html}");
    }
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;"),
        "agent name: {html}"
    );
    // Text: the same words, as they were written (a text part renders no markup),
    // and the title stays on its line.
    assert!(text.contains(&format!("{script}{img}")), "{text}");
    assert!(text.contains(&format!("Alarm {img} is ALARM")), "{text}");
    assert!(text.contains(&format!("{script}&amp;")), "{text}");
    assert!(!text.contains("\n--=_aws-monitoring_0"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("<h1>")), "{text}");
    // And the API serves the same text as JSON only (`call_api` checks the
    // content type), never as a page.
    assert_eq!(list_events(&f, &[]).await.len(), 2);
}

// ---------------------------------------------------------------------------
// (e) Secrets and identifiers.
// ---------------------------------------------------------------------------

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo_root().join(rel)).unwrap()
}

/// The text of the HCL block that starts with `header` (up to its `{`),
/// matched brace for brace outside string literals.
fn hcl_block<'a>(text: &'a str, header: &str) -> &'a str {
    let start = text
        .find(header)
        .unwrap_or_else(|| panic!("no block {header}"));
    let open = start + text[start..].find('{').unwrap();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, c) in text[open..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[start..=open + i];
                }
            }
            _ => {}
        }
    }
    panic!("block {header} is not closed")
}

/// Every block of a kind (`environment {`), anywhere in `text`.
fn hcl_blocks<'a>(text: &'a str, header: &str) -> Vec<&'a str> {
    let mut out = vec![];
    let mut from = 0;
    while let Some(i) = text[from..].find(header) {
        let block = hcl_block(&text[from + i..], header);
        out.push(block);
        from += i + block.len();
    }
    out
}

/// The text without its whitespace, to compare HCL however it is aligned.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The value of `name = ...` on its own line in a block.
fn hcl_attr<'a>(block: &'a str, name: &str) -> Option<&'a str> {
    block.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == name).then(|| v.trim())
    })
}

fn tf_files() -> Vec<(String, String)> {
    let mut out = vec![];
    let mut dirs = vec![repo_root().join("terraform")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().unwrap() != ".terraform" {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "tf") {
                let rel = path
                    .strip_prefix(repo_root())
                    .unwrap()
                    .display()
                    .to_string();
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    assert!(out.len() >= 10, "the modules and examples are found");
    out
}

#[test]
fn the_master_bus_admits_only_listed_accounts_or_the_organisation_and_only_this_systems_sources() {
    let main = read("terraform/modules/master/main.tf");
    // The sources the bus admits are exactly those the master's rules handle.
    let sources_line = hcl_attr(hcl_block(&main, "locals {"), "bus_sources").unwrap();
    let mut admitted: Vec<&str> = sources_line
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .collect();
    admitted.sort_unstable();
    let (monitoring, deployment) = (
        rule_for(Target::HandleMonitoringEvents),
        rule_for(Target::UpdateDeployment),
    );
    let mut handled: Vec<String> = monitoring
        .sources
        .into_iter()
        .chain(deployment.sources)
        .collect();
    handled.sort_unstable();
    handled.dedup();
    assert_eq!(
        admitted, handled,
        "no other source (monitoring.master included) gets in"
    );

    let policy = hcl_block(&main, "data \"aws_iam_policy_document\" \"event_bus\" {");
    let statements = hcl_blocks(policy, "content {");
    assert_eq!(
        statements.len(),
        2,
        "one statement per way in: accounts, organisation"
    );
    for s in &statements {
        assert_eq!(
            hcl_attr(s, "actions"),
            Some(r#"["events:PutEvents"]"#),
            "{s}"
        );
        assert!(!s.contains("Deny"), "{s}");
        let conditions = hcl_blocks(s, "condition {");
        assert!(
            conditions
                .iter()
                .any(|c| hcl_attr(c, "variable") == Some("\"events:source\"")
                    && hcl_attr(c, "test") == Some("\"StringEquals\"")
                    && hcl_attr(c, "values") == Some("local.bus_sources")),
            "every statement is limited to the system's sources: {s}"
        );
        let principals = hcl_block(s, "principals {");
        match hcl_attr(principals, "identifiers").unwrap() {
            r#"["*"]"# => assert!(
                conditions.iter().any(|c| hcl_attr(c, "variable")
                    == Some("\"aws:PrincipalOrgID\"")
                    && hcl_attr(c, "values") == Some("[statement.value]")),
                "everyone only within the organisation: {s}"
            ),
            ids => assert!(
                ids.contains("var.agent_account_ids") || ids.contains("statement.value"),
                "only the listed accounts: {ids}"
            ),
        }
    }
    // The agents' default bus, in turn, takes config pushes only from the
    // master's account, only as monitoring.master, and routes only those.
    let agent = read("terraform/modules/agent/main.tf");
    let default_bus = hcl_block(&agent, "data \"aws_iam_policy_document\" \"default_bus\" {");
    let statement = hcl_block(default_bus, "statement {");
    assert!(
        squash(hcl_block(statement, "principals {")).contains("iam::${var.master_account_id}:root")
    );
    let condition = hcl_block(statement, "condition {");
    assert_eq!(hcl_attr(condition, "variable"), Some("\"events:source\""));
    assert_eq!(
        hcl_attr(condition, "values"),
        Some(r#"["monitoring.master"]"#)
    );
    let rule = hcl_block(
        &agent,
        "resource \"aws_cloudwatch_event_rule\" \"config_update\" {",
    );
    assert!(
        squash(rule).contains("account=[var.master_account_id]"),
        "{rule}"
    );
}

#[test]
fn the_cursor_key_is_a_securestring_and_no_function_environment_holds_a_secret() {
    let main = read("terraform/modules/master/main.tf");
    let parameter = hcl_block(&main, "resource \"aws_ssm_parameter\" \"cursor_key\" {");
    assert_eq!(hcl_attr(parameter, "type"), Some("\"SecureString\""));
    assert_eq!(hcl_attr(parameter, "key_id"), Some("aws_kms_key.this.arn"));
    assert_eq!(
        hcl_attr(parameter, "value"),
        Some("random_password.cursor_key.result")
    );
    let env = hcl_block(&main, "api_environment = {");
    assert_eq!(
        hcl_attr(env, "CURSOR_KEY_PARAMETER"),
        Some("aws_ssm_parameter.cursor_key.name"),
        "the function gets the parameter's name, not its value"
    );
    // Only the API functions may read it.
    let read_key = hcl_block(&main, "data \"aws_iam_policy_document\" \"api_read\" {");
    assert!(squash(read_key).contains("resources=[aws_ssm_parameter.cursor_key.arn]"));
    assert_eq!(main.matches("aws_ssm_parameter.cursor_key.arn").count(), 1);

    let secret_sources = [
        "random_password.",
        "random_string.",
        "tls_private_key.",
        "aws_secretsmanager_secret_version.",
        "aws_iam_access_key.",
        ".value",
        ".result",
    ];
    let mut environments = 0;
    let mut references_to_the_key = 0;
    for (file, text) in tf_files() {
        references_to_the_key += text.matches("random_password.cursor_key").count();
        // The function module's one `environment` block, and the maps the
        // modules pass it (`environment = {`, `api_environment = {`, ...).
        let blocks = hcl_blocks(&text, "environment {");
        for env in blocks
            .into_iter()
            .chain(hcl_blocks(&text, "environment = {"))
        {
            environments += 1;
            for source in secret_sources {
                assert!(!env.contains(source), "{file}: {source} in {env}");
            }
        }
        // No variable holds a secret default either: nothing is `sensitive`.
        for var in hcl_blocks(&text, "variable \"") {
            assert!(!var.contains("sensitive"), "{file}: {var}");
        }
        assert!(!text.contains("aws_secretsmanager"), "{file}");
    }
    // The function module's block; the master's three maps and the API's
    // shared one; the agent's map.
    assert_eq!(environments, 6, "the five kinds of functions are all seen");
    assert_eq!(
        references_to_the_key, 1,
        "the key's value goes into the SSM parameter and nowhere else (no output, no environment)"
    );
}

/// Documentation placeholders: three 4-digit runs of one digit each, like
/// AWS's own `111122223333` and `444455556666`, and `123456789012`.
fn is_placeholder_account(id: &str) -> bool {
    let b = id.as_bytes();
    id == "123456789012" || b.chunks(4).all(|run| run.iter().all(|d| *d == run[0]))
}

/// Tracked files (what a commit publishes), as `git ls-files` names them.
fn tracked_files() -> Vec<PathBuf> {
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repo_root())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<PathBuf> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| repo_root().join(String::from_utf8_lossy(p).as_ref()))
        .filter(|p| p.is_file())
        .collect();
    assert!(files.len() > 50, "{} files", files.len());
    files
}

/// Every run of ASCII letters, digits and `_` in `text`, with its offset.
fn tokens(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.char_indices()
        .filter(move |(i, c)| is_word(*c) && !text[..*i].chars().next_back().is_some_and(is_word))
        .map(move |(i, _)| {
            let end = text[i..]
                .find(|c: char| !is_word(c))
                .map_or(text.len(), |n| i + n);
            (i, &text[i..end])
        })
}

/// What in `text` looks like a real account id, access key or private key.
fn findings(text: &str) -> Vec<String> {
    let mut found = vec![];
    let line = |i: usize| text[..i].matches('\n').count() + 1;
    for (i, token) in tokens(text) {
        // An account id: exactly 12 digits standing alone (not part of a
        // longer number, a hex digest or the last group of a UUID).
        let uuid_tail = i >= 24
            && text.is_char_boundary(i - 24)
            && text[i - 24..i].chars().filter(|c| *c == '-').count() == 4
            && text[i - 24..i]
                .chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit());
        if token.len() == 12
            && token.bytes().all(|b| b.is_ascii_digit())
            && !uuid_tail
            && !is_placeholder_account(token)
        {
            found.push(format!("{}: account id {token}", line(i)));
        }
        // An access key id (AKIA long-term, ASIA temporary): only AWS's
        // documented example may appear.
        if token.len() == 20
            && (token.starts_with("AKIA") || token.starts_with("ASIA"))
            && token
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && !token.ends_with("EXAMPLE")
        {
            found.push(format!("{}: access key id {token}", line(i)));
        }
    }
    // Spelled in two pieces so that this file does not report itself.
    if let Some(i) = text.find(concat!("PRIVATE", " KEY-----")) {
        found.push(format!("{}: a private key", line(i)));
    }
    found
}

#[test]
fn the_repository_holds_no_real_account_ids_or_access_keys() {
    let mut found = vec![];
    // What a commit publishes, and this review even before it is committed.
    let mut files = tracked_files();
    files.push(repo_root().join("handlers/tests/security.rs"));
    files.push(repo_root().join("SECURITY.md"));
    files.sort();
    files.dedup();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // not text
        };
        let rel = path
            .strip_prefix(repo_root())
            .unwrap()
            .display()
            .to_string();
        found.extend(findings(&text).into_iter().map(|f| format!("{rel}:{f}")));
    }
    assert!(found.is_empty(), "{}", found.join("\n"));

    // The rule itself, on text built here (a literal would be reported).
    let real = format!("{}{}", "4130", "99315636");
    let key = format!("{}{}", "AKIA", "Q3EGRQ7ZNP2KLM4T");
    let sample = format!(
        "ok: 111122223333 123456789012 arn:aws:iam::000000000000:root\n\
         ok: sha {real}c588 id 550e8400-e29b-41d4-a716-{} n={real}7\n\
         ok: AKIAIOSFODNN7EXAMPLE\n\
         bad: arn:aws:iam::{real}:root\n\
         bad: {key}\n\
         bad: -----BEGIN RSA {}\n",
        concat!("4466", "55440000"),
        concat!("PRIVATE", " KEY-----"),
    );
    assert_eq!(
        findings(&sample),
        [
            format!("4: account id {real}"),
            format!("5: access key id {key}"),
            "6: a private key".to_owned(),
        ]
    );
}

// ---------------------------------------------------------------------------
// The API caller: loopback only by default in local mode.
// ---------------------------------------------------------------------------

#[test]
fn the_local_api_listens_on_loopback_by_default() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_monitoring"))
        .args(["local", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{help}");
    assert!(help.contains("[default: 127.0.0.1:8080]"), "{help}");
}

// ---------------------------------------------------------------------------
// (b, e) The Lambda's cursor key: read from SSM, decrypted, never from the
// environment (feature `aws`).
// ---------------------------------------------------------------------------

/// A fake SSM endpoint on loopback: answers GetParameter from `parameters`
/// and hands every request body it got to `seen`.
#[cfg(feature = "aws")]
fn fake_ssm(
    parameters: &'static [(&'static str, &'static str)],
) -> (String, std::sync::mpsc::Receiver<Value>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (seen, requests) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then as many body bytes as Content-Length says.
            let body = loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                raw.extend_from_slice(&buf[..n]);
                let Some(end) = find(&raw, b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if raw.len() >= end + 4 + len {
                    break Some(raw[end + 4..end + 4 + len].to_vec());
                }
            };
            let Some(body) = body else { continue };
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let name = request["Name"].as_str().unwrap_or_default().to_owned();
            let _ = seen.send(request);
            let (status, answer) = match parameters.iter().find(|(n, _)| *n == name) {
                Some((_, value)) => (
                    "200 OK",
                    json!({"Parameter": {"Name": name, "Type": "SecureString", "Value": value,
                           "Version": 1, "DataType": "text"}}),
                ),
                None => (
                    "400 Bad Request",
                    json!({"__type": "ParameterNotFound", "message": "no such parameter"}),
                ),
            };
            let answer = answer.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (endpoint, requests)
}

#[cfg(feature = "aws")]
#[tokio::test]
async fn the_lambda_reads_the_cursor_key_from_ssm_decrypted_and_refuses_a_weak_one() {
    const KEY: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01";
    let (endpoint, requests) = fake_ssm(&[("/monitoring/api/cursor-key", KEY), ("/weak", "short")]);
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ssm::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let key = handlers::lambda::cursor_key(&config, "/monitoring/api/cursor-key")
        .await
        .unwrap();
    assert_eq!(key, KEY.as_bytes());
    let request = requests.recv().unwrap();
    assert_eq!(
        request,
        json!({"Name": "/monitoring/api/cursor-key", "WithDecryption": true}),
        "a SecureString is asked for decrypted"
    );
    let err = handlers::lambda::cursor_key(&config, "/weak")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least 16"), "{err}");
    let err = handlers::lambda::cursor_key(&config, "/missing")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("/missing"), "{err}");
    assert!(!err.contains(KEY));
    // No variable a Lambda binary reads carries a secret: the key is reached
    // through the parameter's name only.
    for (binary, vars) in handlers::lambda::BINARIES {
        for v in *vars {
            assert!(
                !["KEY", "SECRET", "PASSWORD", "TOKEN"]
                    .iter()
                    .any(|s| v.name.contains(s))
                    || v.name.ends_with("_PARAMETER"),
                "{binary}: {}",
                v.name
            );
        }
    }
}
