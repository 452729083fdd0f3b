//! The pure core of aws-monitoring: models, classification, fingerprints,
//! windows, cursors, the use cases and the ports they need. No AWS SDK, no I/O.

pub mod alerts;
pub mod classify;
pub mod cost;
pub mod cursor;
pub mod envelope;
pub mod fingerprint;
pub mod inbound;
pub mod logprefix;
pub mod logtext;
pub mod model;
pub mod ports;
pub mod time_text;
pub mod usecases;
pub mod window;

pub use model::*;
