//! HandleMonitoringEvents: envelopes in, one event per distinct problem out.

use crate::envelope::*;
use crate::model::*;
use crate::ports::{EventStore, PortError, Recorded};
use chrono::{DateTime, Utc};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The envelope cannot become an occurrence; retrying will not help.
    #[error("malformed {detail_type:?} envelope: {reason}")]
    Malformed { detail_type: String, reason: String },
    #[error("unsupported envelope {source_name:?} / {detail_type:?}")]
    Unsupported {
        source_name: String,
        detail_type: String,
    },
    #[error(transparent)]
    Store(#[from] PortError),
}

impl IngestError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, IngestError::Store(e) if e.is_retryable())
    }

    /// Whether the envelope itself is at fault (skip it), rather than our
    /// side (fail, so that it is retried and then dead-lettered).
    pub fn is_input_fault(&self) -> bool {
        matches!(
            self,
            IngestError::Malformed { .. } | IngestError::Unsupported { .. }
        )
    }
}

fn malformed(env: &Envelope, reason: impl Into<String>) -> IngestError {
    IngestError::Malformed {
        detail_type: env.detail_type.clone(),
        reason: reason.into(),
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// Alarm timestamps look like `2026-11-25T10:00:00.000+0000`.
fn parse_aws_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// GuardDuty score to severity: ≥ 9 critical, ≥ 7 high, ≥ 4 medium, else low.
pub fn guardduty_severity(score: f64) -> Severity {
    match score {
        s if s >= 9.0 => Severity::Critical,
        s if s >= 7.0 => Severity::High,
        s if s >= 4.0 => Severity::Medium,
        _ => Severity::Low,
    }
}

/// The longest title the master stores, in bytes. An agent's titles are at
/// most 160 (`logtext::title`) and AWS's are short: this bounds a sender that
/// keeps to neither.
pub const MAX_TITLE: usize = 1024;
/// The longest sample the master stores, in bytes. An agent cuts its samples
/// to [`crate::usecases::agent::SAMPLE_LIMIT`]; this bounds a sender that
/// does not (an entry of 256 KB would otherwise be stored and served whole).
pub const MAX_SAMPLE: usize = 2 * crate::usecases::agent::SAMPLE_LIMIT;

/// Turns an envelope into an occurrence. Account and region come from the
/// envelope only, never from `detail`. Whatever the sender wrote, the title
/// is one line of at most [`MAX_TITLE`] bytes and the sample at most
/// [`MAX_SAMPLE`] bytes.
pub fn occurrence_of(env: &Envelope) -> Result<Occurrence, IngestError> {
    let mut o = parse_occurrence(env)?;
    o.title = crate::logtext::truncate(&crate::logtext::one_line(&o.title), MAX_TITLE);
    if o.sample.len() > MAX_SAMPLE {
        o.sample = crate::logtext::truncate(&o.sample, MAX_SAMPLE);
        if let Some(flag) = o.detail.get_mut("sample_truncated") {
            *flag = Value::Bool(true);
        }
    }
    Ok(o)
}

fn parse_occurrence(env: &Envelope) -> Result<Occurrence, IngestError> {
    let account: AccountId = env
        .account
        .parse()
        .map_err(|e: InvalidValue| malformed(env, e.to_string()))?;
    let region: Region = env
        .region
        .parse()
        .map_err(|e: InvalidValue| malformed(env, e.to_string()))?;
    if !env.detail.is_object() {
        return Err(malformed(env, "detail is not an object"));
    }
    let occ = |key: &str, occ_key: &str, severity, title: String, time, effect| Occurrence {
        id: OccurrenceId::derive(&[account.as_str(), region.as_str(), &env.source, occ_key]),
        event_id: EventId::derive(&account, &region, &env.source, key),
        account: account.clone(),
        region: region.clone(),
        source: env.source.clone(),
        detail_type: env.detail_type.clone(),
        severity,
        title,
        fingerprint: None,
        log_group: None,
        sample: String::new(),
        resources: env.resources.clone(),
        detail: env.detail.clone(),
        first_time: time,
        time,
        count: 1,
        effect,
    };
    match (env.source.as_str(), env.detail_type.as_str()) {
        (SOURCE_LOGS, DT_LOG_ERRORS) => {
            let d: LogErrorsDetail = serde_json::from_value(env.detail.clone())
                .map_err(|e| malformed(env, e.to_string()))?;
            let fp: Fingerprint = d
                .fingerprint
                .parse()
                .map_err(|e: InvalidValue| malformed(env, e.to_string()))?;
            validate_log_group_name("log_group", &d.log_group)
                .map_err(|e| malformed(env, e.to_string()))?;
            if d.count == 0 || d.occurrence_key.is_empty() {
                return Err(malformed(
                    env,
                    "count must be positive and occurrence_key set",
                ));
            }
            let key = format!("{}\u{1f}{}", d.log_group, fp);
            let mut o = occ(
                &key,
                &d.occurrence_key,
                d.severity,
                d.title.clone(),
                d.last_seen,
                StatusEffect::Occurred,
            );
            if d.first_seen > d.last_seen {
                return Err(malformed(env, "first_seen is after last_seen"));
            }
            o.first_time = d.first_seen;
            o.fingerprint = Some(fp);
            o.log_group = Some(d.log_group.clone());
            o.sample = d.sample.clone();
            o.count = d.count;
            // The agent sends no resources; none are taken from a sender that does.
            o.resources = Vec::new();
            // The agent is named by the envelope too: `detail.agent_id` is only a claim.
            let agent_id = AgentId::new(account.clone(), region.clone());
            o.detail = serde_json::json!({
                "agent_id": agent_id.to_string(), "window_start": d.window_start, "window_end": d.window_end,
                "first_seen": d.first_seen, "sample_truncated": d.sample_truncated,
            });
            Ok(o)
        }
        (SOURCE_GUARDDUTY, DT_GUARDDUTY) => {
            let d = &env.detail;
            let id = str_at(d, &["id"]).ok_or_else(|| malformed(env, "detail.id missing"))?;
            let score = d
                .get("severity")
                .and_then(Value::as_f64)
                .ok_or_else(|| malformed(env, "detail.severity is not a number"))?;
            let updated = str_at(d, &["updatedAt"]).unwrap_or(&env.id);
            let title = str_at(d, &["title"])
                .or(str_at(d, &["type"]))
                .unwrap_or("GuardDuty finding");
            let time = str_at(d, &["updatedAt"])
                .and_then(parse_aws_time)
                .unwrap_or(env.time);
            let mut o = occ(
                id,
                &format!("{id}\u{1f}{updated}"),
                guardduty_severity(score),
                title.to_owned(),
                time,
                StatusEffect::Occurred,
            );
            o.sample = str_at(d, &["description"]).unwrap_or(title).to_owned();
            Ok(o)
        }
        (SOURCE_HEALTH, DT_HEALTH) => {
            let d = &env.detail;
            let arn = str_at(d, &["eventArn"])
                .ok_or_else(|| malformed(env, "detail.eventArn missing"))?;
            let severity = match str_at(d, &["eventTypeCategory"]) {
                Some("issue") => Severity::High,
                Some("scheduledChange") => Severity::Medium,
                Some("accountNotification") => Severity::Low,
                other => {
                    return Err(malformed(
                        env,
                        format!("unknown eventTypeCategory {other:?}"),
                    ))
                }
            };
            let status = str_at(d, &["statusCode"]).unwrap_or("open");
            let effect = if status == "closed" {
                StatusEffect::Resolve
            } else {
                StatusEffect::Occurred
            };
            let stamp = str_at(d, &["lastUpdatedTime"])
                .or(str_at(d, &["startTime"]))
                .unwrap_or(&env.id);
            let time = str_at(d, &["lastUpdatedTime"])
                .and_then(parse_aws_time)
                .unwrap_or(env.time);
            let title = format!(
                "{} {}",
                str_at(d, &["service"]).unwrap_or("AWS"),
                str_at(d, &["eventTypeCode"]).unwrap_or("health event")
            );
            let mut o = occ(
                arn,
                &format!("{arn}\u{1f}{stamp}\u{1f}{status}"),
                severity,
                title,
                time,
                effect,
            );
            o.sample = d
                .get("eventDescription")
                .and_then(|v| v.get(0))
                .and_then(|v| str_at(v, &["latestDescription"]))
                .unwrap_or_default()
                .to_owned();
            Ok(o)
        }
        (SOURCE_CLOUDWATCH, DT_ALARM) => {
            let d = &env.detail;
            let name = str_at(d, &["alarmName"])
                .ok_or_else(|| malformed(env, "detail.alarmName missing"))?;
            let state = str_at(d, &["state", "value"])
                .ok_or_else(|| malformed(env, "detail.state.value missing"))?;
            let (severity, effect) = match state {
                "ALARM" => (Severity::High, StatusEffect::Occurred),
                "OK" => (Severity::Info, StatusEffect::Resolve),
                "INSUFFICIENT_DATA" => (Severity::Low, StatusEffect::None),
                other => return Err(malformed(env, format!("unknown alarm state {other:?}"))),
            };
            let arn = env.resources.first().map_or(name, String::as_str);
            let stamp = str_at(d, &["state", "timestamp"]).unwrap_or(&env.id);
            let time = str_at(d, &["state", "timestamp"])
                .and_then(parse_aws_time)
                .unwrap_or(env.time);
            let mut o = occ(
                arn,
                &format!("{arn}\u{1f}{stamp}\u{1f}{state}"),
                severity,
                format!("Alarm {name} is {state}"),
                time,
                effect,
            );
            o.sample = str_at(d, &["state", "reason"])
                .unwrap_or_default()
                .to_owned();
            Ok(o)
        }
        _ => Err(IngestError::Unsupported {
            source_name: env.source.clone(),
            detail_type: env.detail_type.clone(),
        }),
    }
}

/// Stores one envelope idempotently.
pub async fn ingest(
    store: &dyn EventStore,
    env: &Envelope,
    now: DateTime<Utc>,
) -> Result<Recorded, IngestError> {
    let o = occurrence_of(env)?;
    Ok(store.record(&o, now).await?)
}

/// Whether the envelope belongs to HandleMonitoringEvents (rather than UpdateDeployment).
pub fn is_monitoring_event(env: &Envelope) -> bool {
    matches!(
        (env.source.as_str(), env.detail_type.as_str()),
        (SOURCE_LOGS, DT_LOG_ERRORS)
            | (SOURCE_GUARDDUTY, DT_GUARDDUTY)
            | (SOURCE_HEALTH, DT_HEALTH)
            | (SOURCE_CLOUDWATCH, DT_ALARM)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            Err(IngestError::Malformed { .. })
        ));
    }

    #[test]
    fn malformed_and_unsupported_envelopes_are_permanent_errors() {
        let mut e = env("aws.guardduty", DT_GUARDDUTY, json!({"severity": 5}));
        assert!(matches!(
            occurrence_of(&e),
            Err(IngestError::Malformed { .. })
        ));
        e.account = "12".into();
        let err = occurrence_of(&e).unwrap_err();
        assert!(!err.is_retryable());
        let u = occurrence_of(&env("x.y", "Z", json!({}))).unwrap_err();
        assert!(matches!(u, IngestError::Unsupported { .. }));
        let not_obj = occurrence_of(&env("aws.guardduty", DT_GUARDDUTY, json!([1]))).unwrap_err();
        assert!(matches!(not_obj, IngestError::Malformed { .. }));
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
        assert!(matches!(backwards, Err(IngestError::Malformed { .. })));
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
}
