//! For tests against moto (used by the adapter and end-to-end tests): the SDK
//! config, unique names, and an
//! interceptor that turns a share of answers into throttling or 5xx errors.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// moto's endpoint, from `MOTO_ENDPOINT` (set by `ops/test`).
pub fn endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").unwrap_or_else(|_| {
        panic!("MOTO_ENDPOINT is not set: run the tests with ops/test, or `ops/moto start` and export MOTO_ENDPOINT")
    })
}

/// An SDK config that talks to moto with fake credentials.
pub async fn config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
}

/// A name no other test (or earlier run against the same moto) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Replaces every `every`-th answer, after the request reached moto, with a
/// throttling error or a 500 (alternately). So the write may have happened
/// while the client sees a failure: exactly what idempotency must survive.
#[derive(Debug, Clone)]
pub struct FaultInjector {
    every: u64,
    calls: Arc<AtomicU64>,
    injected: Arc<AtomicU64>,
}

impl FaultInjector {
    pub fn new(every: u64) -> Self {
        Self {
            every,
            calls: Arc::default(),
            injected: Arc::default(),
        }
    }

    /// How many answers were replaced.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }
}

impl Intercept for FaultInjector {
    fn name(&self) -> &'static str {
        "FaultInjector"
    }

    fn modify_before_deserialization(
        &self,
        ctx: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if !n.is_multiple_of(self.every) {
            return Ok(());
        }
        let k = self.injected.fetch_add(1, Ordering::Relaxed);
        let response = ctx.response_mut();
        if k.is_multiple_of(2) {
            *response.status_mut() = 400u16.try_into().expect("valid status");
            *response.body_mut() = SdkBody::from(
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}"#,
            );
        } else {
            *response.status_mut() = 500u16.try_into().expect("valid status");
            *response.body_mut() = SdkBody::from(
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected"}"#,
            );
        }
        Ok(())
    }
}

/// Creates a log group with one stream, `app`, for the Logs tests.
pub async fn create_log_group(client: &aws_sdk_cloudwatchlogs::Client, group: &str) {
    client
        .create_log_group()
        .log_group_name(group)
        .send()
        .await
        .expect("CreateLogGroup");
    client
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name("app")
        .send()
        .await
        .expect("CreateLogStream");
}

/// Puts `(time, message)` events into the group's `app` stream (sorted by
/// time, as PutLogEvents requires); none may be rejected.
pub async fn put_log_lines<M: AsRef<str>>(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    events: &[(chrono::DateTime<chrono::Utc>, M)],
) {
    let mut events: Vec<(chrono::DateTime<chrono::Utc>, &str)> =
        events.iter().map(|(t, m)| (*t, m.as_ref())).collect();
    events.sort_by_key(|e| e.0);
    let out = client
        .put_log_events()
        .log_group_name(group)
        .log_stream_name("app")
        .set_log_events(Some(
            events
                .iter()
                .map(|(t, m)| {
                    aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                        .timestamp(t.timestamp_millis())
                        .message(*m)
                        .build()
                        .expect("a log event")
                })
                .collect(),
        ))
        .send()
        .await
        .expect("PutLogEvents");
    assert!(out.rejected_log_events_info().is_none(), "{out:?}");
}

/// A new group holding `events`.
pub async fn seed_log_group<M: AsRef<str>>(
    config: &aws_config::SdkConfig,
    group: &str,
    events: &[(chrono::DateTime<chrono::Utc>, M)],
) {
    let client = aws_sdk_cloudwatchlogs::Client::new(config);
    create_log_group(&client, group).await;
    put_log_lines(&client, group, events).await;
}
