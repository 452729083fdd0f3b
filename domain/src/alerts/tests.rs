use super::*;
use crate::model::{Event, Severity, Status};
use chrono::{DateTime, Utc};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn event(severity: Severity, status: Status, count: u64) -> Event {
    let mut e = test_event(at("2026-11-25T10:00:00Z"));
    e.source = "monitoring.agent.logs".into();
    e.severity = severity;
    e.status = status;
    e.count = count;
    e
}

fn change(before: Option<(Severity, Status, u64)>, after: (Severity, Status, u64)) -> Change {
    let before = before.map(|(s, st, c)| event(s, st, c));
    Change::new(before.as_ref(), &event(after.0, after.1, after.2))
}

use Severity::{Critical, High, Low, Medium};
use Status::{Acknowledged, Ignored, Open, Resolved};

#[test]
fn a_new_event_opens_for_channels_at_or_below_its_severity() {
    let c = change(None, (High, Open, 1));
    assert_eq!(c.transition(High), Some(Transition::Opened));
    assert_eq!(c.transition(Low), Some(Transition::Opened));
    assert_eq!(c.transition(Critical), None);
    assert!(c.may_alert());
}

#[test]
fn further_occurrences_of_an_open_or_acknowledged_event_never_alert() {
    for status in [Open, Acknowledged] {
        let c = change(Some((High, status, 1)), (High, status, 5));
        assert_eq!(c.transition(Low), None, "{status}");
        assert!(!c.may_alert());
    }
}

#[test]
fn a_severity_crossing_the_threshold_escalates_only_for_that_channel() {
    let c = change(Some((Medium, Open, 1)), (Critical, Open, 2));
    assert_eq!(c.transition(High), Some(Transition::Escalated));
    assert_eq!(c.transition(Critical), Some(Transition::Escalated));
    // Already told at medium: no second alert for a rise above it.
    assert_eq!(c.transition(Medium), None);
}

#[test]
fn a_resolved_event_with_new_occurrences_regresses_but_a_person_reopening_it_does_not() {
    assert_eq!(
        change(Some((High, Resolved, 3)), (High, Open, 4)).transition(High),
        Some(Transition::Regressed)
    );
    assert_eq!(
        change(Some((High, Resolved, 3)), (High, Open, 3)).transition(High),
        None
    );
}

#[test]
fn any_change_to_resolved_is_a_resolution() {
    for from in [Open, Acknowledged] {
        assert_eq!(
            change(Some((High, from, 3)), (High, Resolved, 3)).transition(High),
            Some(Transition::Resolved)
        );
    }
    assert_eq!(
        change(Some((High, Resolved, 3)), (High, Resolved, 4)).transition(High),
        None
    );
    // An alarm first seen in OK is not news.
    assert_eq!(change(None, (High, Resolved, 1)).transition(Low), None);
}

#[test]
fn an_ignored_event_never_alerts() {
    assert_eq!(change(None, (Critical, Ignored, 1)).transition(Low), None);
    assert_eq!(
        change(Some((High, Ignored, 1)), (Critical, Ignored, 2)).transition(Low),
        None
    );
    assert_eq!(
        change(Some((High, Ignored, 1)), (High, Open, 1)).transition(Low),
        None
    );
    assert_eq!(
        change(Some((High, Open, 1)), (High, Ignored, 1)).transition(Low),
        None
    );
}

const DESIGN_EXAMPLE: &str = r#"{"console_url": "http://127.0.0.1:8080/console",
 "channels": [
   {"name": "ops", "kind": "slack", "url": "https://hooks.example/T0/B0/x", "min_severity": "high"},
   {"name": "pager", "kind": "webhook", "url": "http://127.0.0.1:9000/hook",
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "min_severity": "low",
    "transitions": ["opened", "regressed", "escalated", "resolved"]},
   {"name": "mail", "kind": "email", "to": ["oncall@example.com"]}],
 "storm": {"max_per_window": 10, "window_seconds": 300}}"#;

#[test]
fn the_documented_alerts_file_parses_with_its_defaults() {
    let c = AlertsConfig::from_json(DESIGN_EXAMPLE).unwrap();
    assert_eq!(c.channels.len(), 3);
    assert_eq!(c.channels[2].min_severity, High, "default min_severity");
    assert_eq!(
        c.channels[2].transitions,
        [
            Transition::Opened,
            Transition::Regressed,
            Transition::Escalated
        ]
    );
    assert_eq!(c.storm, StormPolicy::default());
    assert_eq!(
        c.event_link("abc").as_deref(),
        Some("http://127.0.0.1:8080/console/events/abc")
    );
}

#[test]
fn a_bad_alerts_file_names_the_offending_field() {
    let cases = [
        (r#"{"channels":[{"name":"a","kind":"pigeon"}]}"#, "kind:"),
        (
            r#"{"channels":[{"name":"a","kind":"email","to":["x@y"],"min_severity":"urgent"}]}"#,
            "min_severity:",
        ),
        (
            r#"{"channels":[{"name":"a","kind":"email","to":["x@y"],"transitions":["born"]}]}"#,
            "transitions:",
        ),
        (
            r#"{"channels":[{"name":"a","kind":"webhook","url":"http://h","secret":"plain"}]}"#,
            "secret:",
        ),
        (
            r#"{"channels":[{"name":"a","kind":"webhook","secret":"whsec_AAAA"}]}"#,
            "url:",
        ),
        (
            r#"{"channels":[{"name":"a","kind":"slack","url":"ftp://h"}]}"#,
            "url:",
        ),
        (
            r#"{"channels":[{"name":"a","kind":"email","to":[]}]}"#,
            "to:",
        ),
        (
            r#"{"channels":[{"name":"a","kind":"slack","url":"http://h","to":["x@y"]}]}"#,
            "to:",
        ),
        (r#"{"channels":[{"name":"a","kind":"sns"}]}"#, "topic_arn:"),
        (
            r#"{"channels":[{"name":"a","kind":"email","to":["x@y"]},{"name":"a","kind":"email","to":["x@y"]}]}"#,
            "name:",
        ),
        (
            r#"{"channels":[],"storm":{"max_per_window":0}}"#,
            "storm.max_per_window:",
        ),
        (
            r#"{"channels":[{"name":"a","kind":"email","to":["x@y"],"colour":"red"}]}"#,
            "colour",
        ),
        (
            r#"{"channels":[{"name":"a","kind":"email","to":["x@y"],"accounts":["12"]}]}"#,
            "accounts:",
        ),
    ];
    for (text, field) in cases {
        let e = AlertsConfig::from_json(text).unwrap_err().to_string();
        assert!(e.contains(field), "{text}: {e:?} should name {field}");
    }
}

#[test]
fn a_channel_filters_by_transition_account_and_source() {
    let mut c = AlertsConfig::from_json(DESIGN_EXAMPLE).unwrap().channels[1].clone();
    let opened = change(None, (High, Open, 1));
    assert_eq!(c.transition(&opened), Some(Transition::Opened));
    c.sources = Some(vec!["aws.guardduty".into()]);
    assert_eq!(c.transition(&opened), None);
    c.sources = None;
    c.accounts = Some(vec!["111111111111".parse().unwrap()]);
    assert_eq!(c.transition(&opened), None);
    c.accounts = Some(vec![opened.after.account.clone()]);
    c.transitions = vec![Transition::Resolved];
    assert_eq!(c.transition(&opened), None);
}

#[test]
fn a_storm_window_opens_at_its_first_alert_and_admits_up_to_the_maximum() {
    let p = StormPolicy {
        max_per_window: 2,
        window_seconds: 300,
    };
    let w = p.window_from(at("2026-11-25T10:00:07.900Z"));
    assert_eq!(w.start, at("2026-11-25T10:00:07Z"));
    assert_eq!(w.end, at("2026-11-25T10:05:07Z"));
    assert!(p.admits(0) && p.admits(1) && !p.admits(2));
}

fn message(body: MessageBody) -> Message {
    Message {
        id: "msg_1".into(),
        timestamp: at("2026-11-25T10:00:00Z"),
        body,
    }
}

#[test]
fn the_webhook_body_carries_the_type_timestamp_and_event() {
    let mut e = event(High, Open, 1);
    e.title = "boom <b>".into();
    let m = message(MessageBody::Event {
        transition: Transition::Regressed,
        event: Box::new(e.clone()),
    });
    let v: serde_json::Value = serde_json::from_str(&m.webhook_json()).unwrap();
    assert_eq!(v["type"], "event.regressed");
    assert_eq!(v["timestamp"], "2026-11-25T10:00:00Z");
    assert_eq!(v["data"]["event"], serde_json::to_value(&e).unwrap());

    let s = message(MessageBody::Summary(Summary {
        suppressed: 7,
        titles: vec!["a".into()],
        window_start: at("2026-11-25T10:00:00Z"),
        window_end: at("2026-11-25T10:05:00Z"),
    }));
    let v: serde_json::Value = serde_json::from_str(&s.webhook_json()).unwrap();
    assert_eq!(v["type"], "storm.summary");
    assert_eq!(v["data"]["suppressed"], 7);
    assert_eq!(v["data"]["window_end"], "2026-11-25T10:05:00Z");
}

#[test]
fn slack_gets_a_text_fallback_blocks_and_the_console_link() {
    let mut e = event(Critical, Open, 3);
    e.sample = "Traceback <module> & more".into();
    let m = message(MessageBody::Event {
        transition: Transition::Opened,
        event: Box::new(e),
    });
    let v: serde_json::Value =
        serde_json::from_str(&m.slack_json(Some("http://c/console/events/x"))).unwrap();
    assert!(v["text"]
        .as_str()
        .unwrap()
        .starts_with("[CRITICAL] opened:"));
    assert_eq!(v["blocks"][0]["type"], "header");
    let all = v["blocks"].to_string();
    assert!(all.contains("*Count*\\n3"), "{all}");
    assert!(all.contains("&lt;module&gt; &amp; more"), "{all}");
    assert!(all.contains("http://c/console/events/x"), "{all}");
}

#[test]
fn an_email_alert_escapes_the_event_in_its_html() {
    let mut e = event(High, Open, 1);
    e.sample = "<script>alert(1)</script>".into();
    let m = message(MessageBody::Event {
        transition: Transition::Opened,
        event: Box::new(e),
    });
    let (subject, text, html) = m.email(None);
    assert!(subject.starts_with("[aws-monitoring] [HIGH] opened:"));
    assert!(text.contains("<script>"), "the text part is plain text");
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));
}

fn agent(last_seen: &str, config_updated: Option<&str>) -> crate::model::Agent {
    use crate::model::{Agent, AgentConfig, AgentId, AgentStatus};
    let account: crate::model::AccountId = "111122223333".parse().unwrap();
    let region: crate::model::Region = "eu-west-1".parse().unwrap();
    Agent {
        id: AgentId::new(account.clone(), region.clone()),
        account,
        region,
        name: "prod".into(),
        status: AgentStatus::Active,
        version: "0.1.0".into(),
        registered_at: at("2026-11-25T08:00:00Z"),
        last_seen_at: Some(at(last_seen)),
        config: AgentConfig {
            schedule_minutes: 5,
            ..AgentConfig::default()
        },
        config_version: 2,
        applied_config_version: 1,
        config_updated_at: config_updated.map(at),
        last_run: None,
        revision: 1,
    }
}

#[test]
fn an_agent_silent_for_three_periods_is_stale_once_per_spell() {
    let now = at("2026-11-25T10:00:00Z");
    let quiet = agent("2026-11-25T09:44:00Z", None);
    let problems = agent_problems(&quiet, now);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, AgentProblem::Stale);
    let later = agent_problems(&quiet, at("2026-11-25T11:00:00Z"));
    assert_eq!(later[0].1, problems[0].1, "the same spell, the same key");
    let next_spell = agent_problems(
        &agent("2026-11-25T10:30:00Z", None),
        at("2026-11-25T11:00:00Z"),
    );
    assert_ne!(next_spell[0].1, problems[0].1);
    assert!(agent_problems(&agent("2026-11-25T09:50:00Z", None), now).is_empty());
}

#[test]
fn a_config_not_applied_three_periods_after_it_changed_alerts_for_that_version() {
    let now = at("2026-11-25T10:00:00Z");
    let late = agent("2026-11-25T09:59:00Z", Some("2026-11-25T09:44:00Z"));
    let problems = agent_problems(&late, now);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, AgentProblem::ConfigNotApplied);
    assert!(problems[0].1.ends_with(":config:2"));
    let recent = agent("2026-11-25T09:59:00Z", Some("2026-11-25T09:50:00Z"));
    assert!(agent_problems(&recent, now).is_empty());
    let mut applied = late.clone();
    applied.applied_config_version = 2;
    assert!(agent_problems(&applied, now).is_empty());
    let mut disabled = late;
    disabled.config.enabled = false;
    assert!(
        agent_problems(&disabled, now).is_empty(),
        "a disabled agent is quiet on purpose"
    );
}

#[test]
fn only_channels_listing_agent_hear_of_agents() {
    let config = AlertsConfig::from_json(DESIGN_EXAMPLE).unwrap();
    let account = "111122223333".parse().unwrap();
    assert!(config
        .channels
        .iter()
        .all(|c| !c.wants_agent_alerts(&account)));
    let mut c = config.channels[1].clone();
    c.transitions.push(Transition::Agent);
    assert!(c.wants_agent_alerts(&account));
    c.min_severity = Critical;
    assert!(
        !c.wants_agent_alerts(&account),
        "an agent problem counts as high"
    );
    c.min_severity = Low;
    c.sources = Some(vec!["aws.guardduty".into()]);
    assert!(!c.wants_agent_alerts(&account));
}

#[test]
fn an_agent_alert_names_its_type_and_carries_the_agent() {
    let a = agent("2026-11-25T09:00:00Z", None);
    let m = message(MessageBody::Agent {
        problem: AgentProblem::Stale,
        agent: Box::new(a.clone()),
    });
    let v: serde_json::Value = serde_json::from_str(&m.webhook_json()).unwrap();
    assert_eq!(v["type"], "agent.stale");
    assert_eq!(v["data"]["agent"]["id"], "111122223333-eu-west-1");
    assert!(m.headline().contains("no heartbeat since"));
    let slack = m.slack_json(Some("http://c/console/agents/111122223333-eu-west-1"));
    assert!(
        slack.contains("Config version (desired / applied)"),
        "{slack}"
    );
}
