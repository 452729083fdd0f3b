//! The handler functions of the Lambda binaries, plain functions over the
//! ports so that tests call them with the payloads Lambda would deliver.

use super::Error;
use crate::master::{handle_occurrence_json, Master, Outcome};
use chrono::{DateTime, NaiveDate, Utc};
use domain::envelope::{Envelope, DT_AGENT_CONFIG_UPDATE};
use domain::ports::{AgentStore, ConfigPusher, EventStore, Mailer};
use domain::usecases::agent::{QueryErrorLogs, RunSummary};
use domain::usecases::report::{send_linked_daily_report, ConsoleUrl};
use serde_json::Value;

/// HandleMonitoringEvents: one envelope from the master bus. Only an
/// envelope at fault is skipped; a store failure fails the invocation.
/// It takes the event store alone: the function's role allows no agent access.
pub async fn handle_monitoring_event(
    events: &dyn EventStore,
    payload: Value,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    Ok(handle_occurrence_json(events, payload, now).await?)
}

/// UpdateDeployment: one agent lifecycle envelope.
pub async fn handle_deployment_event(
    events: &dyn EventStore,
    agents: &dyn AgentStore,
    pusher: &dyn ConfigPusher,
    payload: Value,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    let master = Master {
        events,
        agents,
        pusher,
    };
    Ok(master.handle_agent_json(payload, now).await?)
}

/// DailyReport: the previous UTC day, or `{"date": "YYYY-MM-DD"}`, with
/// no console links.
pub async fn daily_report(
    events: &dyn EventStore,
    agents: &dyn AgentStore,
    mailer: &dyn Mailer,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    linked_daily_report(events, agents, mailer, None, payload, now).await
}

/// DailyReport with each event linked to its page of the console
/// (`CONSOLE_URL`) when one is given.
pub async fn linked_daily_report(
    events: &dyn EventStore,
    agents: &dyn AgentStore,
    mailer: &dyn Mailer,
    console: Option<&ConsoleUrl>,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    let day = match payload.get("date").and_then(Value::as_str) {
        Some(d) => {
            NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| format!("date {d:?}: {e}"))?
        }
        None => now.date_naive() - chrono::Duration::days(1),
    };
    let sent = send_linked_daily_report(events, agents, mailer, day, now, console).await?;
    tracing::info!(%day, message = %sent, "daily report sent");
    Ok(sent)
}

/// What the agent was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentCommand {
    /// `{"action": "register"}`: Terraform's invocation at apply time.
    Register,
    /// An `Agent Config Update` envelope pushed by the master.
    ApplyConfig(Box<Envelope>),
    /// Anything else (the schedule's payload): one run.
    Run,
}

pub fn agent_command(payload: Value) -> Result<AgentCommand, String> {
    if payload.get("action").and_then(Value::as_str) == Some("register") {
        return Ok(AgentCommand::Register);
    }
    if payload.get("detail-type").and_then(Value::as_str) == Some(DT_AGENT_CONFIG_UPDATE) {
        return Envelope::from_payload(payload).map(|e| AgentCommand::ApplyConfig(Box::new(e)));
    }
    Ok(AgentCommand::Run)
}

/// QueryErrorLogs: a scheduled run, a registration or a config update.
pub async fn query_error_logs(
    agent: &QueryErrorLogs<'_>,
    payload: Value,
    now: DateTime<Utc>,
) -> Result<Value, Error> {
    let command = match agent_command(payload) {
        Ok(c) => c,
        Err(reason) => return Ok(skipped_json(reason)),
    };
    let result = match command {
        AgentCommand::Register => agent
            .register(now)
            .await
            .map(|()| serde_json::json!({"registered": true})),
        AgentCommand::ApplyConfig(env) => agent
            .apply_config_update(&env, now)
            .await
            .map(|changed| serde_json::json!({"config_changed": changed})),
        AgentCommand::Run => agent.run(now).await.map(|s| {
            tracing::info!("{}", s.describe(&agent.settings.id));
            run_json(&s)
        }),
    };
    match result {
        Ok(v) => Ok(v),
        Err(e) if e.is_input_fault() => Ok(skipped_json(e.to_string())),
        // SSM, Logs or the bus failed: Lambda retries, and the checkpoint has
        // not moved past anything unpublished.
        Err(e) => Err(e.into()),
    }
}

fn skipped_json(reason: String) -> Value {
    serde_json::to_value(Outcome::skipped(reason)).expect("serializable")
}

fn run_json(s: &RunSummary) -> Value {
    serde_json::json!({
        "window_start": s.window.map(|w| w.start),
        "window_end": s.window.map(|w| w.end),
        "log_groups": s.log_groups,
        "records_matched": s.records_matched,
        "occurrences_published": s.occurrences_published,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_payloads_are_told_apart() {
        assert_eq!(
            agent_command(serde_json::json!({"action": "register"})),
            Ok(AgentCommand::Register)
        );
        assert_eq!(
            agent_command(serde_json::json!({"detail-type": "Scheduled Event"})),
            Ok(AgentCommand::Run)
        );
        assert!(agent_command(serde_json::json!({"detail-type": "Agent Config Update"})).is_err());
    }
}
