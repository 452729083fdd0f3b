//! Real-time alerts, pure: which store writes alert, which channel hears of
//! them, storm control, and the message each kind of channel gets.
//!
//! A store records a [`Change`] (the event before and after a write) in the
//! same transaction as the write when [`Change::may_alert`] says so; the
//! notifier later matches it against each channel ([`Channel::transition`]),
//! admits it through the channel's storm window and renders it.

mod agent;
mod change;
mod config;
mod render;
mod signature;
mod storm;

pub use agent::{agent_problems, AgentProblem};
pub use change::{Before, Change, Transition};
pub use config::{AlertsConfig, Channel, ChannelKind, Secret, StormPolicy};
pub use render::{render, test_event, Message, MessageBody, Rendered, Summary};
pub use signature::{sign, SignatureError, WebhookSignature};
pub use storm::{StormWindow, MAX_SUMMARY_TITLES};

#[cfg(test)]
mod tests;
