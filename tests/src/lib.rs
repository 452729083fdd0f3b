//! End-to-end tests live in tests/tests/. This crate also offers what they
//! and the `lambda-bench` binary share: running the packaged Lambda
//! bootstraps against a mock Runtime API and a fake AWS endpoint
//! ([`lambda_mock`]); with feature `aws`, the moto tests' SDK config and
//! fault injector; and the static checker of the Terraform under
//! `terraform/` ([`terraform_check`]).

pub mod lambda_mock;
#[cfg(feature = "aws")]
pub mod moto;
pub mod terraform_check;
