//! The SES mailer and the SSM agent state against moto. Sent mail is read
//! back from moto's internal API (`GET /moto-api/data.json`, where
//! `ses.RawMessage` lists every `SendRawEmail` with its `raw_data`).
#![cfg(feature = "aws")]
mod common;

use adapters::aws::ses::SesMailer;
use adapters::aws::ssm::SsmAgentState;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::NaiveDate;
use domain::model::{AgentConfig, Rule, Severity};
use domain::ports::{AgentState, AgentStateStore, Email, Mailer, PortError};
use serde_json::Value;

async fn ses() -> aws_sdk_ses::Client {
    aws_sdk_ses::Client::new(&common::moto_config().await)
}

async fn ssm() -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&common::moto_config().await)
}

/// A parameter name no other test uses.
fn parameter() -> String {
    format!("/monitoring/test/{}", common::unique("agent-state"))
}

/// moto's view of everything it holds.
fn moto_data() -> Value {
    let url = format!("{}/moto-api/data.json", common::moto_endpoint());
    let out = std::process::Command::new("curl")
        .args(["-fsS", &url])
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "GET {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("data.json is JSON")
}

/// The raw message moto kept for this SES message id.
fn sent_raw_message(message_id: &str) -> Value {
    let data = moto_data();
    data["ses"]["RawMessage"]
        .as_array()
        .expect("ses.RawMessage in data.json")
        .iter()
        .find(|m| m["id"] == message_id)
        .unwrap_or_else(|| panic!("no sent message {message_id} in data.json"))
        .clone()
}

/// (name, value) pairs: headers, or a part's content type and decoded body.
type Pairs = Vec<(String, String)>;

/// Unfolded headers and (content type, decoded body) of each part.
fn parse_mime(message: &str) -> (Pairs, Pairs) {
    let (head, body) = message
        .split_once("\r\n\r\n")
        .expect("headers, then a body");
    let headers: Pairs = head
        .replace("\r\n ", " ")
        .split("\r\n")
        .map(|l| {
            let (k, v) = l.split_once(": ").expect("a header");
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let content_type = &headers.iter().find(|(k, _)| k == "Content-Type").unwrap().1;
    assert!(
        content_type.starts_with("multipart/alternative;"),
        "{content_type}"
    );
    let boundary = content_type
        .split_once("boundary=\"")
        .unwrap()
        .1
        .trim_end_matches('"');
    let (parts, _) = body
        .split_once(&format!("--{boundary}--"))
        .expect("a closing boundary");
    let parts = parts
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
            let decoded = BASE64
                .decode(part_body.replace("\r\n", ""))
                .expect("base64");
            (kind, String::from_utf8(decoded).expect("UTF-8"))
        })
        .collect();
    (headers, parts)
}

fn report() -> Email {
    Email {
        subject: "Daily report 2026-11-24: 3 critical events, 12 errors in total over 4 accounts"
            .into(),
        text: "3 critical events\n12 errors — café".into(),
        html: "<html><body><h1>Daily report</h1><p>3 critical events, 12 errors — café</p></body></html>".into(),
        day: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
    }
}

#[tokio::test]
async fn sends_one_email_with_a_text_and_an_html_part() {
    let client = ses().await;
    let from = format!("{}@example.com", common::unique("reports"));
    client
        .verify_email_identity()
        .email_address(&from)
        .send()
        .await
        .expect("VerifyEmailIdentity");
    let to = vec![
        "ops@example.com".to_owned(),
        "oncall@example.com".to_owned(),
    ];
    let mailer = SesMailer::new(client, from.clone(), to.clone());
    let email = report();

    let message_id = mailer.send(&email).await.expect("sent");

    assert!(!message_id.is_empty());
    let sent = sent_raw_message(&message_id);
    assert_eq!(sent["source"], from.as_str());
    let destinations: Vec<&str> = sent["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    for address in &to {
        assert!(destinations.contains(&address.as_str()), "{destinations:?}");
    }
    let (headers, parts) = parse_mime(sent["raw_data"].as_str().unwrap());
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} header"))
    };
    assert_eq!(header("Subject"), email.subject);
    assert_eq!(header("From"), from);
    assert_eq!(header("To"), "ops@example.com, oncall@example.com");
    assert_eq!(
        parts,
        [
            ("text/plain; charset=utf-8".to_owned(), email.text.clone()),
            ("text/html; charset=utf-8".to_owned(), email.html.clone()),
        ]
    );
}

#[tokio::test]
async fn an_unverified_sender_is_a_permanent_error() {
    let from = format!("{}@example.com", common::unique("unverified"));
    let mailer = SesMailer::new(ses().await, from, vec!["ops@example.com".into()]);
    match mailer.send(&report()).await {
        Err(PortError::Permanent(m)) => assert!(m.contains("SendRawEmail"), "{m}"),
        other => panic!("{other:?}"),
    }
}

adapters::agent_state_conformance!(ssm_agent_state, async {
    Box::new(SsmAgentState::new(ssm().await, parameter()))
});

#[tokio::test]
async fn a_missing_parameter_is_the_default_state() {
    let store = SsmAgentState::new(ssm().await, parameter());
    assert_eq!(store.load().await.unwrap(), AgentState::default());
}

#[tokio::test]
async fn save_then_load_round_trips() {
    let store = SsmAgentState::new(ssm().await, parameter());
    let state = AgentState {
        checkpoint: Some("2026-03-01T10:05:00Z".parse().unwrap()),
        config: Some(AgentConfig::default()),
        config_version: 2,
        registered: true,
        ..AgentState::default()
    };
    store.save(&state).await.unwrap();
    assert_eq!(store.load().await.unwrap(), state);
}

#[tokio::test]
async fn a_seeded_minimal_state_loads_with_defaults() {
    let client = ssm().await;
    let name = parameter();
    // What Terraform writes when it creates the parameter.
    client
        .put_parameter()
        .name(&name)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .value(r#"{"config": {"log_group_prefixes": ["/aws/lambda/orders-"], "schedule_minutes": 10}, "config_version": 0}"#)
        .send()
        .await
        .expect("seed");
    let store = SsmAgentState::new(client.clone(), &name);
    let state = store.load().await.expect("a seed loads");
    let config = state.config.clone().expect("the seeded config");
    assert_eq!(config.log_group_prefixes, ["/aws/lambda/orders-"]);
    assert_eq!(config.schedule_minutes, 10);
    assert_eq!(config.enabled, AgentConfig::default().enabled);
    assert_eq!(
        (state.checkpoint, state.config_version, state.registered),
        (None, 0, false)
    );

    // An empty object is the default state too.
    client
        .put_parameter()
        .name(&name)
        .value("{}")
        .overwrite(true)
        .send()
        .await
        .unwrap();
    assert_eq!(store.load().await.unwrap(), AgentState::default());

    // Something that is no state at all is a permanent error naming the parameter.
    client
        .put_parameter()
        .name(&name)
        .value("not json")
        .overwrite(true)
        .send()
        .await
        .unwrap();
    match store.load().await {
        Err(PortError::Permanent(m)) => assert!(m.contains(&name), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_state_over_4_kb_is_kept_and_one_over_8_kb_is_refused() {
    let store = SsmAgentState::new(ssm().await, parameter());
    let rules = |n: usize| {
        (0..n)
            .map(|i| Rule {
                pattern: format!("(?i)payment provider {i} declined the card"),
                severity: Severity::Medium,
            })
            .collect::<Vec<_>>()
    };
    let mut state = AgentState {
        config: Some(AgentConfig {
            rules: rules(100),
            ..AgentConfig::default()
        }),
        config_version: 9,
        ..AgentState::default()
    };
    let len = serde_json::to_string(&state).unwrap().len();
    assert!((4096..8192).contains(&len), "{len}");
    store
        .save(&state)
        .await
        .expect("Intelligent-Tiering takes it");
    assert_eq!(store.load().await.unwrap(), state);

    state.config.as_mut().unwrap().rules = rules(200);
    match store.save(&state).await {
        Err(PortError::Permanent(m)) => assert!(m.contains("8192"), "{m}"),
        other => panic!("{other:?}"),
    }
}
