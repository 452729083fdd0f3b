//! The four kinds of envelope HandleMonitoringEvents stores, each turned into
//! an [`Occurrence`] by one small function. Account and region come from the
//! envelope only, never from `detail`.

use super::InboundError;
use crate::envelope::*;
use crate::model::*;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// The longest title the master stores, in bytes. An agent's titles are at
/// most 160 (`logtext::title`) and AWS's are short: this bounds a sender that
/// keeps to neither.
pub const MAX_TITLE: usize = 1024;
/// The longest sample the master stores, in bytes. An agent cuts its samples
/// to [`crate::usecases::agent::SAMPLE_LIMIT`]; this bounds a sender that
/// does not (an entry of 256 KB would otherwise be stored and served whole).
pub const MAX_SAMPLE: usize = 2 * crate::usecases::agent::SAMPLE_LIMIT;

/// GuardDuty score to severity: ≥ 9 critical, ≥ 7 high, ≥ 4 medium, else low.
pub fn guardduty_severity(score: f64) -> Severity {
    match score {
        s if s >= 9.0 => Severity::Critical,
        s if s >= 7.0 => Severity::High,
        s if s >= 4.0 => Severity::Medium,
        _ => Severity::Low,
    }
}

/// What every kind shares: the envelope, its validated account and region.
pub(super) struct Source<'a> {
    pub env: &'a Envelope,
    pub account: AccountId,
    pub region: Region,
}

impl Source<'_> {
    fn malformed(&self, reason: impl Into<String>) -> InboundError {
        InboundError::malformed(self.env, reason)
    }

    /// An occurrence of the problem `key`, delivered as `occ_key`. Its
    /// `detail` is left empty: each kind sets what it keeps (the AWS kinds
    /// their envelope's, the agent's kind a rebuilt one), so nothing is
    /// deep-copied only to be replaced.
    fn occurrence(
        &self,
        key: &str,
        occ_key: &str,
        severity: Severity,
        title: String,
        time: DateTime<Utc>,
        effect: StatusEffect,
    ) -> Occurrence {
        let (account, region, env) = (&self.account, &self.region, self.env);
        Occurrence {
            id: OccurrenceId::derive(&[account.as_str(), region.as_str(), &env.source, occ_key]),
            event_id: EventId::derive(account, region, &env.source, key),
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
            detail: Value::Null,
            first_time: time,
            time,
            count: 1,
            effect,
        }
    }

    fn str_at(&self, path: &[&str]) -> Option<&str> {
        path.iter()
            .try_fold(&self.env.detail, |v, k| v.get(k))?
            .as_str()
    }

    /// A time in `detail`, or the envelope's. Alarm times look like
    /// `2026-11-25T10:00:00.000+0000`.
    fn time_at(&self, path: &[&str]) -> DateTime<Utc> {
        self.str_at(path)
            .and_then(|s| {
                DateTime::parse_from_rfc3339(s)
                    .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
                    .ok()
            })
            .map_or(self.env.time, |t| t.with_timezone(&Utc))
    }
}

/// Dispatches on the kind; the title is one line of at most [`MAX_TITLE`]
/// bytes and the sample at most [`MAX_SAMPLE`] bytes, whatever the sender wrote.
pub(super) fn parse(src: &Source<'_>) -> Result<Occurrence, InboundError> {
    let mut o = match (src.env.source.as_str(), src.env.detail_type.as_str()) {
        (SOURCE_LOGS, DT_LOG_ERRORS) => log_errors(src)?,
        (SOURCE_GUARDDUTY, DT_GUARDDUTY) => guardduty(src)?,
        (SOURCE_HEALTH, DT_HEALTH) => health(src)?,
        (SOURCE_CLOUDWATCH, DT_ALARM) => alarm(src)?,
        _ => return Err(InboundError::unsupported(src.env)),
    };
    o.title = crate::logtext::truncate(&crate::logtext::one_line(&o.title), MAX_TITLE);
    if o.sample.len() > MAX_SAMPLE {
        o.sample = crate::logtext::truncate(&o.sample, MAX_SAMPLE);
        if let Some(flag) = o.detail.get_mut("sample_truncated") {
            *flag = Value::Bool(true);
        }
    }
    Ok(o)
}

/// `Log Errors Detected`: one group of an agent's log records.
fn log_errors(src: &Source<'_>) -> Result<Occurrence, InboundError> {
    // Read from the envelope's value in place, not from a copy of it.
    let d =
        LogErrorsDetail::deserialize(&src.env.detail).map_err(|e| src.malformed(e.to_string()))?;
    let fp: Fingerprint = d
        .fingerprint
        .parse()
        .map_err(|e: InvalidValue| src.malformed(e.to_string()))?;
    validate_log_group_name("log_group", &d.log_group).map_err(|e| src.malformed(e.to_string()))?;
    if d.count == 0 || d.occurrence_key.is_empty() {
        return Err(src.malformed("count must be positive and occurrence_key set"));
    }
    if d.first_seen > d.last_seen {
        return Err(src.malformed("first_seen is after last_seen"));
    }
    let key = format!("{}\u{1f}{}", d.log_group, fp);
    let mut o = src.occurrence(
        &key,
        &d.occurrence_key,
        d.severity,
        d.title,
        d.last_seen,
        StatusEffect::Occurred,
    );
    o.first_time = d.first_seen;
    o.fingerprint = Some(fp);
    o.log_group = Some(d.log_group);
    o.sample = d.sample;
    o.count = d.count;
    // The agent sends no resources; none are taken from a sender that does.
    o.resources = Vec::new();
    // The agent is named by the envelope too: `detail.agent_id` is only a claim.
    let agent_id = AgentId::new(src.account.clone(), src.region.clone());
    o.detail = serde_json::json!({
        "agent_id": agent_id.to_string(), "window_start": d.window_start, "window_end": d.window_end,
        "first_seen": d.first_seen, "sample_truncated": d.sample_truncated,
    });
    Ok(o)
}

/// `GuardDuty Finding`: one event per finding id, one occurrence per update.
fn guardduty(src: &Source<'_>) -> Result<Occurrence, InboundError> {
    let id = src
        .str_at(&["id"])
        .ok_or_else(|| src.malformed("detail.id missing"))?;
    let score = src
        .env
        .detail
        .get("severity")
        .and_then(Value::as_f64)
        .ok_or_else(|| src.malformed("detail.severity is not a number"))?;
    let updated = src.str_at(&["updatedAt"]).unwrap_or(&src.env.id);
    let title = src
        .str_at(&["title"])
        .or(src.str_at(&["type"]))
        .unwrap_or("GuardDuty finding");
    let mut o = src.occurrence(
        id,
        &format!("{id}\u{1f}{updated}"),
        guardduty_severity(score),
        title.to_owned(),
        src.time_at(&["updatedAt"]),
        StatusEffect::Occurred,
    );
    o.sample = src.str_at(&["description"]).unwrap_or(title).to_owned();
    o.detail = src.env.detail.clone();
    Ok(o)
}

/// `AWS Health Event`: one event per event ARN; `closed` resolves it.
fn health(src: &Source<'_>) -> Result<Occurrence, InboundError> {
    let arn = src
        .str_at(&["eventArn"])
        .ok_or_else(|| src.malformed("detail.eventArn missing"))?;
    let severity = match src.str_at(&["eventTypeCategory"]) {
        Some("issue") => Severity::High,
        Some("scheduledChange") => Severity::Medium,
        Some("accountNotification") => Severity::Low,
        other => return Err(src.malformed(format!("unknown eventTypeCategory {other:?}"))),
    };
    let status = src.str_at(&["statusCode"]).unwrap_or("open");
    let effect = if status == "closed" {
        StatusEffect::Resolve
    } else {
        StatusEffect::Occurred
    };
    let stamp = src
        .str_at(&["lastUpdatedTime"])
        .or(src.str_at(&["startTime"]))
        .unwrap_or(&src.env.id);
    let title = format!(
        "{} {}",
        src.str_at(&["service"]).unwrap_or("AWS"),
        src.str_at(&["eventTypeCode"]).unwrap_or("health event")
    );
    let mut o = src.occurrence(
        arn,
        &format!("{arn}\u{1f}{stamp}\u{1f}{status}"),
        severity,
        title,
        src.time_at(&["lastUpdatedTime"]),
        effect,
    );
    o.sample = src
        .env
        .detail
        .get("eventDescription")
        .and_then(|v| v.get(0))
        .and_then(|v| v.get("latestDescription"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    o.detail = src.env.detail.clone();
    Ok(o)
}

/// `CloudWatch Alarm State Change`: one event per alarm ARN; `OK` resolves it.
fn alarm(src: &Source<'_>) -> Result<Occurrence, InboundError> {
    let name = src
        .str_at(&["alarmName"])
        .ok_or_else(|| src.malformed("detail.alarmName missing"))?;
    let state = src
        .str_at(&["state", "value"])
        .ok_or_else(|| src.malformed("detail.state.value missing"))?;
    let (severity, effect) = match state {
        "ALARM" => (Severity::High, StatusEffect::Occurred),
        "OK" => (Severity::Info, StatusEffect::Resolve),
        "INSUFFICIENT_DATA" => (Severity::Low, StatusEffect::None),
        other => return Err(src.malformed(format!("unknown alarm state {other:?}"))),
    };
    let arn = src.env.resources.first().map_or(name, String::as_str);
    let stamp = src.str_at(&["state", "timestamp"]).unwrap_or(&src.env.id);
    let mut o = src.occurrence(
        arn,
        &format!("{arn}\u{1f}{stamp}\u{1f}{state}"),
        severity,
        format!("Alarm {name} is {state}"),
        src.time_at(&["state", "timestamp"]),
        effect,
    );
    o.sample = src
        .str_at(&["state", "reason"])
        .unwrap_or_default()
        .to_owned();
    o.detail = src.env.detail.clone();
    Ok(o)
}
