//! The moto helpers live beside the AWS adapters, shared with their tests.
pub use adapters::aws::testing::*;
