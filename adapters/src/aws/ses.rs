//! The report mailer over SES (v1) `SendRawEmail`: one message with a text
//! and an HTML part (multipart/alternative), rendered by
//! [`crate::mime::render_mime`] like the local outbox's `.eml` files.
//! (Plain `SendEmail` would do too on AWS, but moto keeps only one of its
//! body parts; a raw message is the same everywhere.)

use super::errors::port_error;
use async_trait::async_trait;
use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;
use domain::ports::{Email, Mailer, PortError};

/// Sends each report to fixed recipients from a verified identity.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_ses::Client,
    from: String,
    to: Vec<String>,
}

impl SesMailer {
    /// `from`: an address (or `Name <address>`) of an SES-verified identity;
    /// `to`: the recipients (in the `To` header and the envelope).
    pub fn new(client: aws_sdk_ses::Client, from: String, to: Vec<String>) -> Self {
        Self { client, from, to }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    /// Answers the SES message id.
    async fn send(&self, email: &Email) -> Result<String, PortError> {
        if self.to.is_empty() {
            return Err(PortError::Permanent(
                "SES mailer: no recipients configured".into(),
            ));
        }
        let message = crate::mime::render_mime(email, &self.from, &self.to);
        let raw = RawMessage::builder()
            .data(Blob::new(message.into_bytes()))
            .build()
            .map_err(|e| PortError::Permanent(format!("SendRawEmail: {e}")))?;
        let out = self
            .client
            .send_raw_email()
            .source(&self.from)
            .set_destinations(Some(self.to.clone()))
            .raw_message(raw)
            .send()
            .await
            .map_err(|e| port_error("SendRawEmail", e))?;
        tracing::info!(
            message_id = out.message_id(),
            day = %email.day,
            recipients = self.to.len(),
            "report sent with SES"
        );
        Ok(out.message_id().to_owned())
    }
}
