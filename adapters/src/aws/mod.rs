//! The AWS adapters (feature `aws`): each implements a domain port with the
//! AWS SDK for Rust. Clients are built once by the caller and passed in.
//!
//! * [`alerts`]: the notify Lambda's `AlertSender` (HTTP, SES, SNS) and its SSM secrets.
//! * [`deliveries`]: `DeliveryLog` (alerts) on its own DynamoDB table.
//! * [`activity`]: one event's per-day counters (a Query of its partition).
//! * [`dynamodb`]: `EventStore` + `AgentStore` on one DynamoDB table.
//! * [`eventbridge`]: `Publisher` (PutEvents packing) and `ConfigPusher`.
//! * [`logs`]: `LogSource` over CloudWatch Logs Insights.
//! * [`ses`]: `Mailer` over SES `SendRawEmail`.
//! * [`ssm`]: `AgentStateStore` in an SSM parameter.
//! * [`errors`]: SDK errors to `PortError` (throttling and 5xx are transient).
//!
//! Feature `aws-logs` alone compiles only [`logs`] and [`errors`].
//! * [`testing`]: moto's SDK config, unique names and a fault injector, for tests.

#[cfg(feature = "aws")]
pub mod activity;
#[cfg(feature = "aws")]
pub mod alerts;
#[cfg(feature = "aws")]
pub mod deliveries;
#[cfg(feature = "aws")]
pub mod dynamodb;
pub mod errors;
#[cfg(feature = "aws")]
pub mod eventbridge;
pub mod logs;
#[cfg(feature = "aws")]
pub mod ses;
#[cfg(feature = "aws")]
pub mod ssm;
#[cfg(all(feature = "aws", any(test, feature = "test-support")))]
pub mod testing;
