//! Alerts in local mode: the `--alerts` file, the notifier task that drains
//! the SQLite outbox (whoever wrote it: this server or `monitoring ingest`),
//! and `monitoring alerts test`.

use super::BoxError;
use adapters::alert_channels::{HttpDelivery, LocalChannels, RetryPolicy};
use adapters::sqlite::SqliteStore;
use chrono::Utc;
use domain::alerts::{
    render, test_event, AlertsConfig, ChannelKind, Message, MessageBody, Secret, Transition,
};
use domain::ports::AlertSender;
use domain::usecases::notify::{message_id, Notifier};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the notifier looks at the outbox: well under the 1 s target
/// from store to delivery.
const POLL: Duration = Duration::from_millis(200);

/// Reads and validates an alerts file for local use: secrets must be given
/// as values, and `sns` needs AWS.
pub fn load_alerts(path: &Path) -> Result<AlertsConfig, BoxError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--alerts {}: cannot read: {e}", path.display()))?;
    let config =
        AlertsConfig::from_json(&text).map_err(|e| format!("--alerts {}: {e}", path.display()))?;
    for (i, c) in config.channels.iter().enumerate() {
        let refuse = |field: &str, why: &str| -> BoxError {
            format!("--alerts {}: channels[{i}]: {field}: {why}", path.display()).into()
        };
        match &c.kind {
            ChannelKind::Sns { .. } => {
                return Err(refuse(
                    "kind",
                    "sns channels need AWS; use webhook, slack or email locally",
                ))
            }
            ChannelKind::Slack {
                url: Secret::Parameter(_),
            } => {
                return Err(refuse(
                    "url_parameter",
                    "SSM parameters are read on AWS only; give url",
                ))
            }
            ChannelKind::Webhook {
                secret: Secret::Parameter(_),
                ..
            } => {
                return Err(refuse(
                    "secret_parameter",
                    "SSM parameters are read on AWS only; give secret",
                ))
            }
            _ => {}
        }
    }
    Ok(config)
}

fn local_channels(outbox: PathBuf) -> LocalChannels {
    LocalChannels {
        http: HttpDelivery::new(RetryPolicy::default()),
        outbox,
    }
}

/// Delivers the outbox until `stop`. With no `--alerts`, the outbox is
/// emptied (there is nobody to tell), so a later start with channels does
/// not replay old changes.
pub(super) fn spawn_notifier(
    store: Arc<SqliteStore>,
    config: AlertsConfig,
    outbox: PathBuf,
    mut stop: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, BoxError> {
    let channels = local_channels(outbox);
    Ok(tokio::spawn(async move {
        let mut pass: u64 = 0;
        loop {
            let notifier = Notifier {
                config: &config,
                log: store.as_ref(),
                sender: &channels,
            };
            pass += 1;
            if pass % AGENT_CHECK_EVERY == 1 {
                check_agents(&notifier, store.as_ref()).await;
            }
            match notifier.drain(store.as_ref(), Utc::now()).await {
                Ok(r) if r.sent + r.held + r.rejected + r.summaries > 0 => tracing::info!(
                    sent = r.sent,
                    held = r.held,
                    refused = r.rejected,
                    summaries = r.summaries,
                    "alerts delivered"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!("alerts: {e}; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => break,
            }
        }
    }))
}

/// Agents are checked every 25 passes (5 s): staleness is minutes.
const AGENT_CHECK_EVERY: u64 = 25;

/// UpdateDeployment's alerts, locally: stale agents and configs not applied.
async fn check_agents(notifier: &Notifier<'_>, store: &SqliteStore) {
    match notifier.check_all_agents(store, Utc::now()).await {
        Ok(r) if r.sent > 0 => tracing::info!(sent = r.sent, "agent alerts delivered"),
        Ok(_) => {}
        Err(e) => tracing::warn!("agent alerts: {e}; retrying"),
    }
}

/// What `monitoring alerts test` did on one channel.
pub struct ChannelResult {
    pub channel: String,
    pub kind: &'static str,
    pub result: Result<(), String>,
}

/// Sends one test message to every channel of the file.
pub async fn send_test_alerts(
    config: &AlertsConfig,
    outbox: PathBuf,
) -> Result<Vec<ChannelResult>, BoxError> {
    let channels = local_channels(outbox);
    let now = Utc::now();
    let event = test_event(now);
    let mut out = Vec::new();
    for channel in &config.channels {
        let message = Message {
            id: message_id(&format!("test:{}", now.timestamp_millis()), &channel.name),
            timestamp: now,
            body: MessageBody::Event {
                transition: Transition::Opened,
                event: Box::new(event.clone()),
            },
        };
        let link = config.event_link(event.id.as_str());
        let rendered = render(&channel.kind, &message, link.as_deref());
        let result = channels
            .send(channel, &message.id, now, &rendered)
            .await
            .map_err(|e| e.to_string());
        out.push(ChannelResult {
            channel: channel.name.clone(),
            kind: channel.kind.name(),
            result,
        });
    }
    Ok(out)
}
