use crate::common::*;
use crate::support::*;
use adapters::bus::{LocalBus, Rule, Subscriber};
use adapters::files::FileLogSource;
use adapters::memory::MemoryAgentState;
use async_trait::async_trait;
use chrono::Duration;
use domain::envelope::Envelope;
use domain::inbound::{Target, MAX_SAMPLE, MAX_TITLE};
use domain::model::{AgentConfig, AgentId};
use domain::ports::PortError;
use domain::usecases::agent::{AgentSettings, QueryErrorLogs, SAMPLE_LIMIT};
use domain::window::WindowPolicy;
use handlers::api::MAX_BODY;
use handlers::local::{http_app, rule_for};
use handlers::master::Master;
use lambda_http::Body;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::sync::Arc;

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
