//! The master's dispatcher lives in the domain
//! ([`domain::usecases::master`]); the entry points use it from here.

pub use domain::usecases::master::{handle_occurrence_json, Master, Outcome};
