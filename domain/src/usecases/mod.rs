//! The use cases, each a plain function or struct over the ports.

pub mod agent;
pub mod api;
pub mod console;
pub mod deployment;
pub mod ingest;
pub mod master;
pub mod notify;
pub mod report;
pub mod scan;
pub mod stream;
