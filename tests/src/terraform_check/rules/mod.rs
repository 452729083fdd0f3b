//! One module per rule (see the parent module's documentation).

pub mod api_gateway;
pub mod event_bus_policy;
pub mod event_target;
pub mod iam;
pub mod lambda;
pub mod lambda_env;
pub mod moved;
pub mod reference;
pub mod scheduler;
pub mod secrets;
pub mod sqs;
pub mod variable;
