//! Implementations of the domain ports.
//!
//! * [`memory`]: in-memory fakes of every port, for tests.
//! * [`sqlite`]: the local store (events, agents, occurrence dedup, agent state).
//! * [`files`]: log files as the log source (local mode).
//! * [`bus`]: the in-process bus that routes envelopes as the master's rules would.
//! * [`outbox`]: the mailer that writes each report as an `.eml` file.
//! * [`conformance`]: one test suite per store port, run against every store.
//! * `awslogs` (features `aws`, `test-support`): the base64 + gzip transport
//!   of CloudWatch Logs subscription payloads.
//! * `aws` (feature `aws`): DynamoDB, EventBridge, Logs Insights, SES and SSM;
//!   with feature `aws-logs` alone, only Logs Insights (`monitoring scan`).
//!
//! Mechanisms the adapters share, one copy each:
//! [`atomic_file`] (write temp + rename), [`backoff`] (exponential with
//! jitter), [`keys`] (sortable time and day keys), [`random`] and [`sync`]
//! (a lock that ignores poisoning).

#[cfg(feature = "alerts")]
pub mod alert_channels;
pub mod atomic_file;
#[cfg(feature = "aws-logs")]
pub mod aws;
#[cfg(any(feature = "aws", feature = "test-support"))]
pub mod awslogs;
pub mod backoff;
#[cfg(feature = "local")]
pub mod bus;
#[cfg(any(test, feature = "test-support"))]
pub mod conformance;
#[cfg(feature = "local")]
pub mod files;
pub mod keys;
#[cfg(any(test, feature = "test-support"))]
pub mod memory;
pub mod mime;
#[cfg(feature = "local")]
pub mod outbox;
pub mod random;
#[cfg(feature = "local")]
pub mod sqlite;
pub mod sync;
