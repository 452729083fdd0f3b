use crate::common::*;
use crate::support::*;
use adapters::memory::{
    FixedClock, MemoryAgentState, MemoryLogSource, MemoryPublisher, MemoryPusher,
};
use domain::cursor::CursorCodec;
use domain::model::AgentConfig;
use domain::ports::AgentStateStore;
use domain::usecases::agent::{AgentError, AgentSettings, QueryErrorLogs};
use domain::usecases::api::Api;
use domain::window::WindowPolicy;
use handlers::local::{ingest_files, DataDir};
use serde_json::{json, Value};
use std::sync::Arc;

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
