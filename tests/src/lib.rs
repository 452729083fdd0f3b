//! End-to-end tests live in tests/tests/. With feature `aws`, this crate also
//! offers what the moto tests share: the SDK config and a fault injector.

#[cfg(feature = "aws")]
pub mod moto;
