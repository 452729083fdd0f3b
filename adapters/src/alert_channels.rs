//! Alert delivery: Slack and signed webhooks over HTTP (reqwest, rustls),
//! e-mail as `.eml` files in the outbox locally. Transient failures
//! (connection errors, timeouts, 429 with its `Retry-After`, 5xx) are retried
//! with backoff; any other 4xx is a refusal and is not. URLs are never logged:
//! a Slack URL is a secret.

use crate::backoff::backoff;
use chrono::{DateTime, Utc};
use domain::alerts::{sign, Channel, ChannelKind, Rendered, Secret};
use domain::ports::{PortError, SendError};
use reqwest::StatusCode;
use std::sync::OnceLock;
use std::time::Duration;

/// How HTTP deliveries are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    pub max_wait: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(200),
            max_wait: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

/// POSTs JSON to a channel's URL, with retries.
#[derive(Debug, Clone)]
pub struct HttpDelivery {
    /// Built on the first POST: building it loads the system's trust store,
    /// the largest part of the notify Lambda's start, and most invocations
    /// (stream batches of repeats) send nothing.
    client: OnceLock<Result<reqwest::Client, String>>,
    policy: RetryPolicy,
}

impl HttpDelivery {
    pub fn new(policy: RetryPolicy) -> Self {
        HttpDelivery {
            client: OnceLock::new(),
            policy,
        }
    }

    fn client(&self) -> Result<&reqwest::Client, SendError> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .timeout(self.policy.timeout)
                    .connect_timeout(self.policy.timeout.min(Duration::from_secs(5)))
                    .user_agent(concat!("aws-monitoring/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| format!("cannot build the HTTP client: {e}"))
            })
            .as_ref()
            .map_err(|e| SendError::Port(PortError::Permanent(e.clone())))
    }

    /// POSTs `body`; `headers` go with every attempt unchanged (so a
    /// webhook's id and signature are the same on each retry).
    pub async fn post(
        &self,
        channel: &str,
        url: &str,
        body: &str,
        headers: &[(&str, String)],
    ) -> Result<(), SendError> {
        let client = self.client()?;
        let mut last = String::new();
        for attempt in 0..self.policy.attempts {
            let mut request = client
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_owned());
            for (name, value) in headers {
                request = request.header(*name, value);
            }
            let wait = match request.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                Ok(resp) => {
                    let status = resp.status();
                    last = format!("HTTP {status}");
                    if status != StatusCode::TOO_MANY_REQUESTS && status.is_client_error() {
                        return Err(SendError::Rejected(format!("channel {channel}: {last}")));
                    }
                    retry_after(&resp).unwrap_or_else(|| self.backoff(attempt))
                }
                // Never the URL: reqwest's error text would include it.
                Err(e) => {
                    last = if e.is_timeout() {
                        "timed out".into()
                    } else if e.is_connect() {
                        "cannot connect".into()
                    } else {
                        "request failed".into()
                    };
                    self.backoff(attempt)
                }
            };
            if attempt + 1 < self.policy.attempts {
                tracing::debug!(channel, attempt, "alert delivery failed ({last}); retrying");
                tokio::time::sleep(wait.min(self.policy.max_wait)).await;
            }
        }
        Err(SendError::Port(PortError::Transient(format!(
            "channel {channel}: {last} after {} attempts",
            self.policy.attempts
        ))))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        backoff(self.policy.base, self.policy.max_wait, attempt)
    }
}

/// `Retry-After` in seconds (the HTTP-date form falls back to our backoff).
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn value<'a>(secret: &'a Secret, channel: &str) -> Result<&'a str, SendError> {
    secret.value().ok_or_else(|| {
        SendError::Port(PortError::Permanent(format!(
            "channel {channel}: its secret parameter was not read"
        )))
    })
}

impl HttpDelivery {
    /// Slack and webhook channels; `None` for the kinds that are not HTTP.
    pub async fn send_http(
        &self,
        channel: &Channel,
        message_id: &str,
        timestamp: DateTime<Utc>,
        rendered: &Rendered,
    ) -> Option<Result<(), SendError>> {
        let Rendered::Json(body) = rendered else {
            return None;
        };
        Some(match &channel.kind {
            ChannelKind::Slack { url } => match value(url, &channel.name) {
                Ok(url) => self.post(&channel.name, url, body, &[]).await,
                Err(e) => Err(e),
            },
            ChannelKind::Webhook { url, secret } => {
                let signed = value(secret, &channel.name).and_then(|secret| {
                    sign(secret, message_id, timestamp.timestamp(), body)
                        .map_err(|e| SendError::Rejected(format!("channel {}: {e}", channel.name)))
                });
                match signed {
                    Ok(s) => {
                        let headers = [
                            ("webhook-id", s.id),
                            ("webhook-timestamp", s.timestamp.to_string()),
                            ("webhook-signature", s.signature),
                        ];
                        self.post(&channel.name, url, body, &headers).await
                    }
                    Err(e) => Err(e),
                }
            }
            _ => return None,
        })
    }
}

/// The MIME message of an e-mail alert, rendered as the report's is.
pub fn email_mime(
    (subject, text, html): (&str, &str, &str),
    from: &str,
    to: &[String],
    timestamp: DateTime<Utc>,
) -> String {
    let email = domain::ports::Email {
        subject: subject.to_owned(),
        text: text.to_owned(),
        html: html.to_owned(),
        day: timestamp.date_naive(),
    };
    crate::mime::render_mime(&email, from, to)
}

#[cfg(feature = "local")]
pub use local::LocalChannels;

/// The local mode's sender (the outbox folder is local-only).
#[cfg(feature = "local")]
mod local {
    use super::HttpDelivery;
    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use domain::alerts::{Channel, ChannelKind, Rendered};
    use domain::ports::{AlertSender, PortError, SendError};
    use std::path::PathBuf;

    /// The local channels: HTTP, and e-mail into the outbox folder.
    pub struct LocalChannels {
        pub http: HttpDelivery,
        pub outbox: PathBuf,
    }

    #[async_trait]
    impl AlertSender for LocalChannels {
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
                    let message =
                        super::email_mime(parts, crate::outbox::DEFAULT_FROM, to, timestamp);
                    // Named by the message id: a retry rewrites the same file.
                    let path = self.outbox.join(format!("alert-{message_id}.eml"));
                    let shown = path.display().to_string();
                    tokio::task::spawn_blocking(move || {
                        std::fs::create_dir_all(path.parent().unwrap_or(&path))?;
                        crate::atomic_file::write_atomically(&path, message.as_bytes())
                    })
                    .await
                    .map_err(|e| PortError::Transient(format!("outbox task failed: {e}")))?
                    .map_err(|e| PortError::Transient(format!("cannot write {shown}: {e}")))?;
                    Ok(())
                }
                (kind, _) => Err(SendError::Rejected(format!(
                    "channel {}: a {} channel cannot be delivered locally",
                    channel.name,
                    kind.name()
                ))),
            }
        }
    }
}
