//! The notify Lambda's channels: Slack and webhooks over HTTP
//! ([`HttpDelivery`]), e-mail through SES `SendRawEmail`, SNS `Publish`;
//! and the SSM SecureString parameters holding the channels' secrets,
//! read once at start-up.

use super::errors::{cause, port_error};
use crate::alert_channels::{email_mime, HttpDelivery};
use async_trait::async_trait;
use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;
use chrono::{DateTime, Utc};
use domain::alerts::{AlertsConfig, Channel, ChannelKind, Rendered, Secret};
use domain::ports::{AlertSender, PortError, SendError};
use std::collections::{BTreeSet, HashMap};

/// SSM `GetParameters` takes at most ten names per call.
const GET_PARAMETERS_MAX: usize = 10;

/// Replaces every `Secret::Parameter` of `config` by the value of that
/// SecureString parameter. The error names the parameters, never a value.
pub async fn resolve_secrets(
    ssm: &aws_sdk_ssm::Client,
    config: &mut AlertsConfig,
) -> Result<(), String> {
    let mut names = BTreeSet::new();
    for channel in &config.channels {
        for secret in secrets(&channel.kind) {
            if let Secret::Parameter(name) = secret {
                names.insert(name.clone());
            }
        }
    }
    let names: Vec<String> = names.into_iter().collect();
    let values = read_parameters(ssm, &names).await?;
    for channel in &mut config.channels {
        let channel_name = channel.name.clone();
        for secret in secrets_mut(&mut channel.kind) {
            if let Secret::Parameter(name) = secret {
                let value = values
                    .get(name.as_str())
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| {
                        format!("channel {channel_name}: parameter {name} has no value")
                    })?;
                *secret = Secret::Value(value.clone());
            }
        }
    }
    Ok(())
}

/// The decrypted values of the named parameters, by name; a name SSM does
/// not know is an error.
async fn read_parameters(
    ssm: &aws_sdk_ssm::Client,
    names: &[String],
) -> Result<HashMap<String, String>, String> {
    let mut values: HashMap<String, String> = HashMap::new();
    for chunk in names.chunks(GET_PARAMETERS_MAX) {
        let out = ssm
            .get_parameters()
            .set_names(Some(chunk.to_vec()))
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| format!("reading the alert channels' parameters: {}", cause(&e)))?;
        if !out.invalid_parameters().is_empty() {
            return Err(format!(
                "alert channel parameters not found: {}",
                out.invalid_parameters().join(", ")
            ));
        }
        for p in out.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                values.insert(name.to_owned(), value.to_owned());
            }
        }
    }
    Ok(values)
}

fn secrets(kind: &ChannelKind) -> Vec<&Secret> {
    match kind {
        ChannelKind::Slack { url } => vec![url],
        ChannelKind::Webhook { secret, .. } => vec![secret],
        _ => vec![],
    }
}

fn secrets_mut(kind: &mut ChannelKind) -> Vec<&mut Secret> {
    match kind {
        ChannelKind::Slack { url } => vec![url],
        ChannelKind::Webhook { secret, .. } => vec![secret],
        _ => vec![],
    }
}

/// Every channel kind, on AWS.
pub struct AwsChannels {
    pub http: HttpDelivery,
    pub ses: aws_sdk_ses::Client,
    /// The SES-verified identity alerts are sent from.
    pub from: String,
    pub sns: aws_sdk_sns::Client,
}

impl AwsChannels {
    /// An e-mail alert as one MIME message through SES `SendRawEmail`.
    async fn send_email(
        &self,
        channel: &Channel,
        to: &[String],
        (subject, text, html): (&str, &str, &str),
        timestamp: DateTime<Utc>,
    ) -> Result<(), SendError> {
        let message = email_mime((subject, text, html), &self.from, to, timestamp);
        let raw = RawMessage::builder()
            .data(Blob::new(message.into_bytes()))
            .build()
            .map_err(|e| SendError::Port(PortError::Permanent(format!("SendRawEmail: {e}"))))?;
        self.ses
            .send_raw_email()
            .source(&self.from)
            .set_destinations(Some(to.to_vec()))
            .raw_message(raw)
            .send()
            .await
            .map_err(|e| {
                SendError::Port(port_error(
                    &format!("channel {}: SendRawEmail", channel.name),
                    e,
                ))
            })?;
        Ok(())
    }

    /// An SNS alert through `Publish`, the message id as its `webhook-id`
    /// attribute (as the signed webhooks carry it).
    async fn publish(
        &self,
        channel: &Channel,
        topic_arn: &str,
        (subject, text): (&str, &str),
        message_id: &str,
    ) -> Result<(), SendError> {
        let id = aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(message_id)
            .build()
            .map_err(|e| SendError::Port(PortError::Permanent(format!("Publish: {e}"))))?;
        self.sns
            .publish()
            .topic_arn(topic_arn)
            .subject(subject)
            .message(text)
            .message_attributes("webhook-id", id)
            .send()
            .await
            .map_err(|e| {
                SendError::Port(port_error(
                    &format!("channel {}: SNS Publish", channel.name),
                    e,
                ))
            })?;
        Ok(())
    }
}

#[async_trait]
impl AlertSender for AwsChannels {
    async fn send(
        &self,
        channel: &Channel,
        message_id: &str,
        timestamp: DateTime<Utc>,
        rendered: &Rendered,
    ) -> Result<(), SendError> {
        if let Some(result) = self
            .http
            .send_http(channel, message_id, timestamp, rendered)
            .await
        {
            return result;
        }
        match (&channel.kind, rendered) {
            (
                ChannelKind::Email { to },
                Rendered::Email {
                    subject,
                    text,
                    html,
                },
            ) => {
                let parts = (subject.as_str(), text.as_str(), html.as_str());
                self.send_email(channel, to, parts, timestamp).await
            }
            (ChannelKind::Sns { topic_arn }, Rendered::Sns { subject, text }) => {
                let parts = (subject.as_str(), text.as_str());
                self.publish(channel, topic_arn, parts, message_id).await
            }
            (kind, _) => Err(SendError::Rejected(format!(
                "channel {}: nothing to send to a {} channel",
                channel.name,
                kind.name()
            ))),
        }
    }
}
