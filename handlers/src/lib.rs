//! Thin entry points over the domain use cases: the REST router, the
//! master's envelope dispatch, and the local-mode wiring of `monitoring`.

pub mod api;
pub mod fuzz_checks;
#[cfg(feature = "aws")]
pub mod lambda;
pub mod local;
pub mod master;
