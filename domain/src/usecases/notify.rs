//! Notify: deliver each store write that alerts to the channels that want
//! it, once per channel, through storm control; then the storm summaries.

use crate::alerts::{
    agent_problems, render, AlertsConfig, Channel, Message, MessageBody, Summary, Transition,
};
use crate::model::Agent;
use crate::ports::{
    Admission, AgentStore, AlertOutbox, AlertSender, DeliveryLog, HeldBack, PendingChange,
    PortError, SendError,
};
use crate::usecases::report::all_agents;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use std::collections::HashSet;

/// What one pass delivered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NotifyReport {
    pub sent: usize,
    pub held: usize,
    pub rejected: usize,
    pub summaries: usize,
}

/// How one (change, channel) delivery ended.
enum Delivered {
    Sent,
    Held,
    Rejected,
    /// Sent or rejected by an earlier attempt.
    Before,
}

/// A channel that failed transiently; the change stays pending (local) or
/// its stream record fails (AWS) so it is tried again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("channel {channel}: {error}")]
pub struct NotifyError {
    pub channel: String,
    pub error: PortError,
}

impl NotifyError {
    fn store(error: PortError) -> Self {
        NotifyError {
            channel: "(delivery log)".into(),
            error,
        }
    }
}

/// The `webhook-id` of a (change, channel) delivery: the same on every retry.
pub fn message_id(change_id: &str, channel: &str) -> String {
    let h = xxhash_rust::xxh3::xxh3_128(format!("{change_id}\u{1f}{channel}").as_bytes());
    format!("msg_{h:032x}")
}

pub struct Notifier<'a> {
    pub config: &'a AlertsConfig,
    pub log: &'a dyn DeliveryLog,
    pub sender: &'a dyn AlertSender,
}

impl Notifier<'_> {
    /// Delivers one change to every channel that wants it, concurrently.
    /// Every channel is tried; the first transient failure is returned after.
    pub async fn deliver(
        &self,
        pending: &PendingChange,
        now: DateTime<Utc>,
    ) -> Result<NotifyReport, NotifyError> {
        self.deliver_avoiding(pending, now, &mut HashSet::new())
            .await
    }

    /// [`Notifier::deliver`], not trying the channels in `down` (they failed
    /// earlier in this pass: the change stays pending for them) and adding
    /// those that fail now, so one dead receiver does not slow every change.
    pub async fn deliver_avoiding(
        &self,
        pending: &PendingChange,
        now: DateTime<Utc>,
        down: &mut HashSet<String>,
    ) -> Result<NotifyReport, NotifyError> {
        let mut report = NotifyReport::default();
        let mut failure = None;
        let mut attempts = Vec::new();
        for channel in &self.config.channels {
            let Some(transition) = channel.transition(&pending.change) else {
                continue;
            };
            if down.contains(&channel.name) {
                failure.get_or_insert(NotifyError {
                    channel: channel.name.clone(),
                    error: PortError::Transient("failed earlier in this pass".into()),
                });
                continue;
            }
            let event = &pending.change.after;
            let body = MessageBody::Event {
                transition,
                event: Box::new(event.clone()),
            };
            attempts.push(self.deliver_to(channel, &pending.id, &event.title, body, now));
        }
        for (channel, result) in join_all(attempts).await {
            match result {
                Ok(Delivered::Sent) => report.sent += 1,
                Ok(Delivered::Held) => report.held += 1,
                Ok(Delivered::Rejected) => report.rejected += 1,
                Ok(Delivered::Before) => {}
                Err(e) => {
                    down.insert(channel.to_owned());
                    failure.get_or_insert(e);
                }
            }
        }
        failure.map_or(Ok(report), Err)
    }

    /// One (change, channel) delivery: admitted by the storm window, sent,
    /// then recorded as finished.
    async fn deliver_to<'c>(
        &self,
        channel: &'c Channel,
        change_id: &str,
        title: &str,
        body: MessageBody,
        now: DateTime<Utc>,
    ) -> (&'c str, Result<Delivered, NotifyError>) {
        let name = channel.name.as_str();
        let failed = |error| NotifyError {
            channel: name.to_owned(),
            error,
        };
        let admission = self
            .log
            .admit(change_id, name, now, self.config.storm, title)
            .await;
        match admission {
            Err(e) => return (name, Err(failed(e))),
            Ok(Admission::Done) => return (name, Ok(Delivered::Before)),
            Ok(Admission::Held) => return (name, Ok(Delivered::Held)),
            Ok(Admission::Send) => {}
        }
        let message = Message {
            id: message_id(change_id, name),
            timestamp: now,
            body,
        };
        let delivered = match self.send(channel, &message).await {
            Ok(()) => Delivered::Sent,
            Err(SendError::Rejected(reason)) => {
                tracing::warn!(
                    channel = name,
                    change = change_id,
                    "alert refused, not retried: {reason}"
                );
                Delivered::Rejected
            }
            Err(SendError::Port(error)) => {
                tracing::warn!(
                    channel = name,
                    change = change_id,
                    "alert not delivered yet: {error}"
                );
                return (name, Err(failed(error)));
            }
        };
        match self.log.finished(change_id, name).await {
            Ok(()) => (name, Ok(delivered)),
            Err(e) => (name, Err(failed(e))),
        }
    }

    /// The agent alerts over every agent the store knows; nothing is read
    /// when no channel wants agent alerts. Local mode runs it every few
    /// seconds, the notify Lambda on its one-minute schedule.
    pub async fn check_all_agents(
        &self,
        agents: &dyn AgentStore,
        now: DateTime<Utc>,
    ) -> Result<NotifyReport, NotifyError> {
        let wanted = self
            .config
            .channels
            .iter()
            .any(|c| c.transitions.contains(&Transition::Agent));
        if !wanted {
            return Ok(NotifyReport::default());
        }
        let all = all_agents(agents).await.map_err(|error| NotifyError {
            channel: "(agents)".into(),
            error,
        })?;
        self.check_agents(&all, now).await
    }

    /// UpdateDeployment's alerts: each agent problem ([`agent_problems`]) to
    /// the channels that want agent alerts, once per episode.
    pub async fn check_agents(
        &self,
        agents: &[Agent],
        now: DateTime<Utc>,
    ) -> Result<NotifyReport, NotifyError> {
        let mut report = NotifyReport::default();
        let mut failure = None;
        for agent in agents {
            for (problem, key) in agent_problems(agent, now) {
                let title = problem.describe(agent);
                let attempts = self
                    .config
                    .channels
                    .iter()
                    .filter(|c| c.wants_agent_alerts(&agent.account))
                    .map(|c| {
                        let body = MessageBody::Agent {
                            problem,
                            agent: Box::new(agent.clone().with_derived_status(now)),
                        };
                        self.deliver_to(c, &key, &title, body, now)
                    });
                for (_, result) in join_all(attempts).await {
                    match result {
                        Ok(Delivered::Sent) => report.sent += 1,
                        Ok(Delivered::Held) => report.held += 1,
                        Ok(Delivered::Rejected) => report.rejected += 1,
                        Ok(Delivered::Before) => {}
                        Err(e) => {
                            failure.get_or_insert(e);
                        }
                    }
                }
            }
        }
        failure.map_or(Ok(report), Err)
    }

    async fn send(&self, channel: &Channel, message: &Message) -> Result<(), SendError> {
        let link = match &message.body {
            MessageBody::Event { event, .. } => self.config.event_link(event.id.as_str()),
            MessageBody::Agent { agent, .. } => self.config.agent_link(&agent.id.to_string()),
            MessageBody::Summary(_) => None,
        };
        let rendered = render(&channel.kind, message, link.as_deref());
        self.sender
            .send(channel, &message.id, message.timestamp, &rendered)
            .await
    }

    /// Sends the summary of every ended window that held alerts back.
    pub async fn send_summaries(&self, now: DateTime<Utc>) -> Result<usize, NotifyError> {
        let mut sent = 0;
        for held in self.log.held_back(now).await.map_err(NotifyError::store)? {
            let Some(channel) = self.config.channels.iter().find(|c| c.name == held.channel) else {
                // A channel since removed from the config: nobody to tell.
                self.log
                    .summarised(&held.channel, held.window)
                    .await
                    .map_err(NotifyError::store)?;
                continue;
            };
            let message = summary_message(&held, now);
            match self.send(channel, &message).await {
                Ok(()) => sent += 1,
                Err(SendError::Rejected(reason)) => {
                    tracing::warn!(channel = %channel.name, "storm summary refused, not retried: {reason}")
                }
                Err(SendError::Port(error)) => {
                    return Err(NotifyError {
                        channel: channel.name.clone(),
                        error,
                    })
                }
            }
            self.log
                .summarised(&held.channel, held.window)
                .await
                .map_err(NotifyError::store)?;
        }
        Ok(sent)
    }

    /// One pass over an outbox: every pending change, then the summaries.
    /// A change that failed on some channel stays pending for the next pass.
    pub async fn drain(
        &self,
        outbox: &dyn AlertOutbox,
        now: DateTime<Utc>,
    ) -> Result<NotifyReport, NotifyError> {
        let mut total = NotifyReport::default();
        let mut failure = None;
        let mut down = HashSet::new();
        for pending in outbox.pending(500).await.map_err(NotifyError::store)? {
            match self.deliver_avoiding(&pending, now, &mut down).await {
                Ok(r) => {
                    total.sent += r.sent;
                    total.held += r.held;
                    total.rejected += r.rejected;
                    outbox.done(&pending.id).await.map_err(NotifyError::store)?;
                }
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        total.summaries = self.send_summaries(now).await?;
        failure.map_or(Ok(total), Err)
    }
}

fn summary_message(held: &HeldBack, now: DateTime<Utc>) -> Message {
    Message {
        id: message_id(
            &format!("storm:{}", held.window.start.timestamp()),
            &held.channel,
        ),
        timestamp: now,
        body: MessageBody::Summary(Summary {
            suppressed: held.count,
            titles: held.titles.clone(),
            window_start: held.window.start,
            window_end: held.window.end,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::{test_event, Change};
    use crate::ports::{MockAlertOutbox, MockAlertSender, MockDeliveryLog};
    use std::sync::{Arc, Mutex};

    const TWO_WEBHOOKS: &str = r#"{"channels": [
      {"name": "dead", "kind": "webhook", "url": "http://127.0.0.1:9/x", "secret": "whsec_AAAA", "min_severity": "low"},
      {"name": "live", "kind": "webhook", "url": "http://127.0.0.1:9/y", "secret": "whsec_AAAA", "min_severity": "low"}]}"#;

    fn pending(id: &str) -> PendingChange {
        let now = "2026-11-25T10:00:00Z".parse().unwrap();
        PendingChange {
            id: id.into(),
            change: Change::new(None, &test_event(now)),
        }
    }

    fn log_admitting_everything() -> MockDeliveryLog {
        let mut log = MockDeliveryLog::new();
        log.expect_admit()
            .returning(|_, _, _, _, _| Ok(Admission::Send));
        log.expect_finished().returning(|_, _| Ok(()));
        log.expect_held_back().returning(|_| Ok(vec![]));
        log
    }

    #[tokio::test]
    async fn a_failing_channel_is_skipped_for_the_rest_of_the_pass_and_its_changes_stay_pending() {
        let config = AlertsConfig::from_json(TWO_WEBHOOKS).unwrap();
        let log = log_admitting_everything();
        let calls = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let mut sender = MockAlertSender::new();
        let seen = calls.clone();
        sender.expect_send().returning(move |channel, id, _, _| {
            seen.lock()
                .unwrap()
                .push((channel.name.clone(), id.to_owned()));
            if channel.name == "dead" {
                Err(SendError::Port(PortError::Transient("HTTP 503".into())))
            } else {
                Ok(())
            }
        });
        let mut outbox = MockAlertOutbox::new();
        outbox
            .expect_pending()
            .returning(|_| Ok(vec![pending("c1"), pending("c2")]));
        outbox.expect_done().never();
        let notifier = Notifier {
            config: &config,
            log: &log,
            sender: &sender,
        };
        let err = notifier
            .drain(&outbox, "2026-11-25T10:00:01Z".parse().unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.channel, "dead");
        let calls = calls.lock().unwrap();
        assert_eq!(calls.iter().filter(|(c, _)| c == "live").count(), 2);
        assert_eq!(
            calls.iter().filter(|(c, _)| c == "dead").count(),
            1,
            "not tried again in this pass: {calls:?}"
        );
    }

    #[tokio::test]
    async fn a_stale_agent_alerts_only_the_channels_that_list_agent() {
        const CHANNELS: &str = r#"{"channels": [
          {"name": "agents", "kind": "webhook", "url": "http://127.0.0.1:9/a", "secret": "whsec_AAAA",
           "transitions": ["opened", "agent"]},
          {"name": "events", "kind": "webhook", "url": "http://127.0.0.1:9/e", "secret": "whsec_AAAA",
           "min_severity": "low"}]}"#;
        let config = AlertsConfig::from_json(CHANNELS).unwrap();
        let log = log_admitting_everything();
        let sent = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let mut sender = MockAlertSender::new();
        let seen = sent.clone();
        sender
            .expect_send()
            .returning(move |channel, _, _, rendered| {
                let crate::alerts::Rendered::Json(body) = rendered else {
                    panic!("a webhook gets JSON")
                };
                let kind = serde_json::from_str::<serde_json::Value>(body).unwrap()["type"].clone();
                seen.lock()
                    .unwrap()
                    .push((channel.name.clone(), kind.as_str().unwrap().to_owned()));
                Ok(())
            });
        let notifier = Notifier {
            config: &config,
            log: &log,
            sender: &sender,
        };
        let now: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().unwrap();
        let id = "111122223333-eu-west-1".parse().unwrap();
        let mut stale = crate::usecases::deployment::new_agent(&id, Default::default(), 1, now);
        stale.last_seen_at = Some(now - chrono::Duration::hours(2));
        let mut fresh = stale.clone();
        fresh.last_seen_at = Some(now);
        let report = notifier.check_agents(&[stale, fresh], now).await.unwrap();
        assert_eq!(report.sent, 1);
        assert_eq!(
            *sent.lock().unwrap(),
            [("agents".to_owned(), "agent.stale".to_owned())]
        );
    }

    #[test]
    fn a_message_id_is_stable_per_change_and_channel() {
        assert_eq!(message_id("c1", "ops"), message_id("c1", "ops"));
        assert_ne!(message_id("c1", "ops"), message_id("c1", "pager"));
        assert_ne!(message_id("c1", "ops"), message_id("c2", "ops"));
        assert!(message_id("c1", "ops").starts_with("msg_"));
    }
}
