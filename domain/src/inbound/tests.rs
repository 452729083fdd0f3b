//! Parsing and routing of envelopes.

use super::*;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

fn occurrence_of(env: &Envelope) -> Result<Occurrence, InboundError> {
    match Inbound::parse(env)? {
        Inbound::Occurrence(o) => Ok(*o),
        other => panic!("not an occurrence: {other:?}"),
    }
}

fn env(source: &str, dt: &str, detail: Value) -> Envelope {
    Envelope {
        version: "0".into(),
        id: "e1".into(),
        detail_type: dt.into(),
        source: source.into(),
        account: "111122223333".into(),
        time: "2026-11-25T10:00:00Z".parse().unwrap(),
        region: "eu-west-1".into(),
        resources: vec!["arn:aws:cloudwatch:eu-west-1:111122223333:alarm:api-5xx".into()],
        detail,
    }
}

#[test]
fn guardduty_scores_map_to_severities() {
    assert_eq!(guardduty_severity(9.0), Severity::Critical);
    assert_eq!(guardduty_severity(8.9), Severity::High);
    assert_eq!(guardduty_severity(7.0), Severity::High);
    assert_eq!(guardduty_severity(5.0), Severity::Medium);
    assert_eq!(guardduty_severity(1.0), Severity::Low);
}

#[test]
fn account_comes_from_the_envelope_not_the_detail() {
    let e = env(
        "aws.guardduty",
        DT_GUARDDUTY,
        json!({"id": "f1", "severity": 8, "accountId": "999999999999", "region": "us-east-1"}),
    );
    let o = occurrence_of(&e).unwrap();
    assert_eq!(o.account.as_str(), "111122223333");
    assert_eq!(o.region.as_str(), "eu-west-1");
    assert_eq!(o.severity, Severity::High);
}

#[test]
fn alarm_states_set_effects_and_share_one_event() {
    let alarm = |state: &str, ts: &str| {
        env(
            "aws.cloudwatch",
            DT_ALARM,
            json!({"alarmName": "api-5xx", "state": {"value": state, "timestamp": ts, "reason": "r"}}),
        )
    };
    let a = occurrence_of(&alarm("ALARM", "2026-11-25T10:00:00.000+0000")).unwrap();
    let ok = occurrence_of(&alarm("OK", "2026-11-25T10:05:00.000+0000")).unwrap();
    assert_eq!(a.event_id, ok.event_id);
    assert_ne!(a.id, ok.id);
    assert_eq!(
        (a.severity, a.effect),
        (Severity::High, StatusEffect::Occurred)
    );
    assert_eq!(ok.effect, StatusEffect::Resolve);
    assert_eq!(
        ok.time,
        "2026-11-25T10:05:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let insufficient = occurrence_of(&alarm("INSUFFICIENT_DATA", "x")).unwrap();
    assert_eq!(
        (insufficient.severity, insufficient.effect),
        (Severity::Low, StatusEffect::None)
    );
}

#[test]
fn health_categories_map_to_severities() {
    for (cat, sev) in [
        ("issue", Severity::High),
        ("scheduledChange", Severity::Medium),
        ("accountNotification", Severity::Low),
    ] {
        let o = occurrence_of(&env(
            "aws.health",
            DT_HEALTH,
            json!({"eventArn": "arn:h", "eventTypeCategory": cat}),
        ))
        .unwrap();
        assert_eq!(o.severity, sev);
    }
    assert!(matches!(
        occurrence_of(&env(
            "aws.health",
            DT_HEALTH,
            json!({"eventArn": "arn:h", "eventTypeCategory": "nope"})
        )),
        Err(InboundError::Malformed { .. })
    ));
}

#[test]
fn aws_occurrences_keep_their_envelopes_detail() {
    for e in [
        env(
            "aws.guardduty",
            DT_GUARDDUTY,
            json!({"id": "f1", "severity": 8.0, "type": "Recon:EC2/PortProbe"}),
        ),
        env(
            "aws.health",
            DT_HEALTH,
            json!({"eventArn": "arn:h", "eventTypeCategory": "issue", "service": "EC2"}),
        ),
        env(
            "aws.cloudwatch",
            DT_ALARM,
            json!({"alarmName": "api-5xx", "state": {"value": "ALARM", "reason": "r"}}),
        ),
    ] {
        assert_eq!(occurrence_of(&e).unwrap().detail, e.detail, "{}", e.source);
    }
}

#[test]
fn malformed_and_unsupported_envelopes_are_permanent_errors() {
    let mut e = env("aws.guardduty", DT_GUARDDUTY, json!({"severity": 5}));
    assert!(matches!(
        occurrence_of(&e),
        Err(InboundError::Malformed { .. })
    ));
    e.account = "12".into();
    assert!(matches!(
        occurrence_of(&e),
        Err(InboundError::Malformed { .. })
    ));
    let u = occurrence_of(&env("x.y", "Z", json!({}))).unwrap_err();
    assert!(matches!(u, InboundError::Unsupported { .. }));
    let not_obj = occurrence_of(&env("aws.guardduty", DT_GUARDDUTY, json!([1]))).unwrap_err();
    assert!(matches!(not_obj, InboundError::Malformed { .. }));
}

fn log_errors(first_seen: &str, last_seen: &str) -> Envelope {
    env(
        SOURCE_LOGS,
        DT_LOG_ERRORS,
        json!({
            "agent_id": "111122223333-eu-west-1", "occurrence_key": "k",
            "log_group": "/aws/lambda/x", "fingerprint": "0123456789abcdef", "severity": "high",
            "title": "t", "sample": "s", "count": 6,
            "first_seen": first_seen, "last_seen": last_seen,
            "window_start": "2026-11-25T07:15:00Z", "window_end": "2026-11-25T07:20:00Z"
        }),
    )
}

#[test]
fn a_log_occurrence_spans_its_first_and_last_line() {
    let o = occurrence_of(&log_errors("2026-11-25T07:16:29Z", "2026-11-25T07:18:19Z")).unwrap();
    assert_eq!(
        o.first_time,
        "2026-11-25T07:16:29Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(
        o.time,
        "2026-11-25T07:18:19Z".parse::<DateTime<Utc>>().unwrap()
    );
    let event = Event::from_first(&o, o.time);
    assert_eq!((event.first_seen, event.last_seen), (o.first_time, o.time));
    let backwards = occurrence_of(&log_errors("2026-11-25T07:18:19Z", "2026-11-25T07:16:29Z"));
    assert!(matches!(backwards, Err(InboundError::Malformed { .. })));
}

#[test]
fn a_log_errors_detail_is_bounded_and_cannot_name_another_agent() {
    let e = env(
        SOURCE_LOGS,
        DT_LOG_ERRORS,
        json!({
            "agent_id": "999999999999-us-east-1", "occurrence_key": "k",
            "log_group": "/aws/lambda/x", "fingerprint": "0123456789abcdef", "severity": "high",
            "title": format!("first\r\nforged line\u{1b}[31m{}", "t".repeat(100_000)),
            "sample": "s".repeat(100_000), "count": 1,
            "first_seen": "2026-11-25T10:00:00Z", "last_seen": "2026-11-25T10:00:00Z",
            "window_start": "2026-11-25T09:55:00Z", "window_end": "2026-11-25T10:00:00Z"
        }),
    );
    let o = occurrence_of(&e).unwrap();
    assert_eq!(o.account.as_str(), "111122223333");
    assert_eq!(o.detail["agent_id"], "111122223333-eu-west-1");
    assert!(o.resources.is_empty());
    assert!(
        o.title.starts_with("first  forged line [31m"),
        "{}",
        &o.title[..40]
    );
    assert!(!o.title.chars().any(char::is_control));
    assert!(o.title.len() <= MAX_TITLE + '…'.len_utf8());
    assert!(o.sample.len() <= MAX_SAMPLE + '…'.len_utf8());
    assert_eq!(o.detail["sample_truncated"], true);
    // What an agent sends stays as it is.
    let agent_sample =
        crate::logtext::truncate(&"x".repeat(20_000), crate::usecases::agent::SAMPLE_LIMIT);
    let mut honest = e.clone();
    honest.detail["title"] = json!("ERROR payment\tdeclined");
    honest.detail["sample"] = json!(agent_sample);
    let o = occurrence_of(&honest).unwrap();
    assert_eq!(o.sample, agent_sample);
    assert_eq!(o.title, "ERROR payment declined");
}

#[test]
fn every_route_is_listed_once_and_agent_messages_parse_to_their_kind() {
    for (i, (s, d, t)) in ROUTES.iter().enumerate() {
        assert_eq!(route(s, d), Some(*t));
        assert!(!ROUTES[..i].iter().any(|(s2, d2, _)| s2 == s && d2 == d));
    }
    assert_eq!(route(SOURCE_AGENT, DT_LOG_ERRORS), None);
    let mut hb = env(
        SOURCE_AGENT,
        DT_AGENT_HEARTBEAT,
        json!({"version": "0.1.0"}),
    );
    let Inbound::Agent(m) = Inbound::parse(&hb).unwrap() else {
        panic!("an agent message")
    };
    assert_eq!(m.agent.to_string(), "111122223333-eu-west-1");
    assert!(matches!(m.kind, AgentMessageKind::Heartbeat(_)));
    hb.detail = json!({"version": "0.1.0", "config": {"schedule_minutes": 0}});
    assert!(matches!(
        Inbound::parse(&hb),
        Err(InboundError::Malformed { .. })
    ));
    let push = env(SOURCE_MASTER, DT_AGENT_CONFIG_UPDATE, json!({}));
    assert!(matches!(
        Inbound::parse(&push),
        Err(InboundError::Unsupported { .. })
    ));
}
