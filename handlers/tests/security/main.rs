//! The security properties of SECURITY.md, each proven through the interface
//! an attacker reaches: envelopes through the master's dispatch (as the
//! Lambda handlers, the local bus and `monitoring ingest` deliver them), HTTP
//! requests through the REST router (the `api` Lambda's) or the local server,
//! log files through the local agent, the report through the outbox, and the
//! Terraform and the repository's files as they are committed.
//!
//! One module per threat; `common` holds what several of them send.

#[path = "../support/mod.rs"]
mod support;

mod common;

/// The API caller: loopback only by default in local mode.
mod callers;
/// (b) Cursors: HMAC-SHA256 with the deployment's key, bound to their query.
mod cursors;
/// (a) Who sent an envelope: the envelope's `account`, never `detail`.
mod ids;
/// (d) Log text in the daily report e-mail.
mod injection;
/// (c) Oversized input: bodies, parameters, log lines, envelopes.
mod limits;
/// (e) Secrets and identifiers, and the Lambda's cursor key from SSM.
mod secrets;
