//! The agent's own state ([`AgentState`]) as JSON in one SSM `String`
//! parameter of its account.
//!
//! Terraform creates the parameter with a seed (e.g.
//! `{"config": {...}, "config_version": 0}`) and ignores later changes, so
//! [`parse_state`] fills what a seed leaves out with the defaults, including
//! the fields of a partial `config`. A parameter that does not exist yet is
//! the default state.
//!
//! Size: the state is written compact and with the `Intelligent-Tiering`
//! tier: SSM keeps it a (free) Standard parameter while the value fits in
//! 4 KB and makes it Advanced (8 KB) only when a large pushed config needs
//! it. Asking for `Standard` would fail on such a config, and asking for
//! `Advanced` every time would pay for every agent; a fixed tier cannot go
//! back from Advanced either. A state over 8 KB is refused before the call.

use super::errors::port_error;
use async_trait::async_trait;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use domain::model::AgentConfig;
use domain::ports::{AgentState, AgentStateStore, PortError};
use serde_json::{Map, Value};

/// The largest value of a Standard parameter.
pub const STANDARD_TIER_LIMIT: usize = 4 * 1024;
/// The largest value of an Advanced parameter.
pub const ADVANCED_TIER_LIMIT: usize = 8 * 1024;

/// `AgentStateStore` in one SSM parameter.
#[derive(Debug, Clone)]
pub struct SsmAgentState {
    client: aws_sdk_ssm::Client,
    parameter_name: String,
}

impl SsmAgentState {
    pub fn new(client: aws_sdk_ssm::Client, parameter_name: impl Into<String>) -> Self {
        Self {
            client,
            parameter_name: parameter_name.into(),
        }
    }

    pub fn parameter_name(&self) -> &str {
        &self.parameter_name
    }
}

/// Reads a stored (or seeded) state: every field missing from the JSON, or
/// from its `config` object, takes its default value; unknown config fields
/// and wrong types are refused (`PortError::Permanent`).
pub fn parse_state(json: &str) -> Result<AgentState, PortError> {
    let invalid = |e: &dyn std::fmt::Display| {
        PortError::Permanent(format!("the stored agent state is not valid: {e}"))
    };
    let stored: Value = serde_json::from_str(json).map_err(|e| invalid(&e))?;
    let Value::Object(stored) = stored else {
        return Err(invalid(&"not a JSON object"));
    };
    let mut state = defaults(&AgentState::default());
    for (key, mut value) in stored {
        if key == "config" {
            if let Value::Object(config) = value {
                let mut merged = defaults(&AgentConfig::default());
                merged.extend(config);
                value = Value::Object(merged);
            }
        }
        state.insert(key, value);
    }
    serde_json::from_value(Value::Object(state)).map_err(|e| invalid(&e))
}

fn defaults<T: serde::Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

#[async_trait]
impl AgentStateStore for SsmAgentState {
    async fn load(&self) -> Result<AgentState, PortError> {
        let out = match self
            .client
            .get_parameter()
            .name(&self.parameter_name)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_parameter_not_found()) =>
            {
                return Ok(AgentState::default());
            }
            Err(e) => return Err(port_error("GetParameter", e)),
        };
        let value = out.parameter().and_then(|p| p.value()).unwrap_or_default();
        parse_state(value).map_err(|e| match e {
            PortError::Permanent(m) => {
                PortError::Permanent(format!("parameter {}: {m}", self.parameter_name))
            }
            other => other,
        })
    }

    async fn save(&self, state: &AgentState) -> Result<(), PortError> {
        let json = serde_json::to_string(state)
            .map_err(|e| PortError::Permanent(format!("agent state to JSON: {e}")))?;
        if json.len() > ADVANCED_TIER_LIMIT {
            return Err(PortError::Permanent(format!(
                "parameter {}: the agent state is {} bytes, over the {ADVANCED_TIER_LIMIT}-byte limit of SSM parameters",
                self.parameter_name,
                json.len()
            )));
        }
        self.client
            .put_parameter()
            .name(&self.parameter_name)
            .value(json)
            .r#type(ParameterType::String)
            .overwrite(true)
            .tier(ParameterTier::IntelligentTiering)
            .send()
            .await
            .map_err(|e| port_error("PutParameter", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_seed_takes_the_defaults() {
        assert_eq!(parse_state("{}").unwrap(), AgentState::default());
        let state = parse_state(
            r#"{"config": {"log_group_prefixes": ["/ecs/"], "schedule_minutes": 10}, "config_version": 0}"#,
        )
        .unwrap();
        let config = state.config.unwrap();
        assert_eq!(config.log_group_prefixes, ["/ecs/"]);
        assert_eq!(config.schedule_minutes, 10);
        assert_eq!(config.enabled, AgentConfig::default().enabled);
        assert_eq!((state.config_version, state.registered), (0, false));
        assert_eq!(state.checkpoint, None);
    }

    #[test]
    fn a_full_state_round_trips_and_bad_json_is_permanent() {
        let state = AgentState {
            config: Some(AgentConfig::default()),
            config_version: 3,
            registered: true,
            ..AgentState::default()
        };
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(parse_state(&json).unwrap(), state);
        for bad in [
            "[]",
            "not json",
            r#"{"config": {"nope": 1}}"#,
            r#"{"config_version": "x"}"#,
        ] {
            assert!(
                matches!(parse_state(bad), Err(PortError::Permanent(_))),
                "{bad}"
            );
        }
    }
}
