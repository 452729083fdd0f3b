//! Thin entry points over the domain use cases: the REST router, the
//! master's envelope dispatch, and the local-mode wiring of `monitoring`.

pub mod api;
#[cfg(feature = "local")]
pub mod cli;
pub mod console_api;
#[cfg(feature = "local")]
pub mod console_proxy;
#[cfg(feature = "local")]
pub mod console_ui;
#[cfg(feature = "test-support")]
pub mod fuzz_checks;
#[cfg(feature = "aws")]
pub mod lambda;
#[cfg(feature = "local")]
pub mod local;
pub mod master;
