//! Notify: deliver each store write that alerts to the channels that want
//! it, once per channel, through storm control; then the storm summaries.

use crate::alerts::{render, AlertsConfig, Channel, Message, MessageBody, Summary};
use crate::ports::{
    Admission, AlertOutbox, AlertSender, DeliveryLog, HeldBack, PendingChange, PortError, SendError,
};
use chrono::{DateTime, Utc};

/// What one pass delivered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NotifyReport {
    pub sent: usize,
    pub held: usize,
    pub rejected: usize,
    pub summaries: usize,
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
    /// Delivers one change to every channel that wants it. Every channel is
    /// tried; the first transient failure is returned after that.
    pub async fn deliver(
        &self,
        pending: &PendingChange,
        now: DateTime<Utc>,
    ) -> Result<NotifyReport, NotifyError> {
        let mut report = NotifyReport::default();
        let mut failure = None;
        for channel in &self.config.channels {
            let Some(transition) = channel.transition(&pending.change) else {
                continue;
            };
            let event = &pending.change.after;
            let admission = self
                .log
                .admit(
                    &pending.id,
                    &channel.name,
                    now,
                    self.config.storm,
                    &event.title,
                )
                .await
                .map_err(NotifyError::store)?;
            match admission {
                Admission::Done => continue,
                Admission::Held => {
                    report.held += 1;
                    continue;
                }
                Admission::Send => {}
            }
            let message = Message {
                id: message_id(&pending.id, &channel.name),
                timestamp: now,
                body: MessageBody::Event {
                    transition,
                    event: Box::new(event.clone()),
                },
            };
            match self.send(channel, &message).await {
                Ok(()) => report.sent += 1,
                Err(SendError::Rejected(reason)) => {
                    tracing::warn!(channel = %channel.name, event = %event.id, "alert refused, not retried: {reason}");
                    report.rejected += 1;
                }
                Err(SendError::Port(error)) => {
                    tracing::warn!(channel = %channel.name, event = %event.id, "alert not delivered yet: {error}");
                    failure.get_or_insert(NotifyError {
                        channel: channel.name.clone(),
                        error,
                    });
                    continue;
                }
            }
            self.log
                .finished(&pending.id, &channel.name)
                .await
                .map_err(NotifyError::store)?;
        }
        failure.map_or(Ok(report), Err)
    }

    async fn send(&self, channel: &Channel, message: &Message) -> Result<(), SendError> {
        let link = match &message.body {
            MessageBody::Event { event, .. } => self.config.event_link(event.id.as_str()),
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
        for pending in outbox.pending(500).await.map_err(NotifyError::store)? {
            match self.deliver(&pending, now).await {
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
