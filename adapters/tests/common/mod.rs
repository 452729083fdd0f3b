//! Shared by the tests against moto: the SDK config and unique names.
#![allow(unused_imports)]

pub use adapters::aws::testing::{
    config as moto_config, endpoint as moto_endpoint, unique, FaultInjector,
};
