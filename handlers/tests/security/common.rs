//! What several threats' tests send: the accounts, envelopes of every kind,
//! the master's delivery, and REST calls through the router.

use crate::support::{now, respond, rest_v1, Fixture};
use domain::envelope::Envelope;
use domain::usecases::api::Api;
use handlers::master::Master;
use lambda_http::Body;
use serde_json::{json, Value};

/// The monitored account that sends the envelopes.
pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "eu-west-1";
/// Another monitored account, whose events the sender must not reach.
pub const OTHER: &str = "444455556666";
/// What a lying sender claims inside `detail`.
pub const SPOOFED: &str = "999999999999";
pub const SPOOFED_REGION: &str = "us-east-1";

impl Fixture {
    /// Delivers an envelope as HandleMonitoringEvents / UpdateDeployment do.
    pub async fn deliver(&self, env: &Envelope) {
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

pub fn envelope(
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
pub fn log_errors_detail(title: &str, sample: &str, extra: Value) -> Value {
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
pub fn spoofing_envelopes(account: &str) -> Vec<Envelope> {
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

/// A REST v1 request through the router: its status and JSON body.
pub async fn call_api(
    api: &Api,
    method: &str,
    route: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Body>,
) -> (u16, Value) {
    respond(api, rest_v1(method, route, path, query, &[], body)).await
}

pub async fn list_events(f: &Fixture, query: &[(&str, &str)]) -> Vec<Value> {
    let (s, body) = call_api(&f.api, "GET", "/events", "/events", query, None).await;
    assert_eq!(s, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

/// 5 alarms, so that `limit=2` pages.
pub async fn seed_alarms(f: &Fixture) {
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

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
