//! Configuration from the environment: the variables each binary reads
//! (the README's table is checked against [`BINARIES`]), read and validated
//! at start-up.

use std::str::FromStr;

/// One environment variable a binary reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    pub name: &'static str,
    pub required: bool,
    pub description: &'static str,
}

const fn var(name: &'static str, required: bool, description: &'static str) -> EnvVar {
    EnvVar {
        name,
        required,
        description,
    }
}

pub const TABLE_NAME: EnvVar = var("TABLE_NAME", true, "DynamoDB table of events and agents");
pub const RETENTION_DAYS: EnvVar = var(
    "RETENTION_DAYS",
    false,
    "days before an event expires (TTL); default 30",
);
pub const AGENT_BUS_ARN_TEMPLATE: EnvVar = var(
    "AGENT_BUS_ARN_TEMPLATE",
    false,
    "where configs are pushed; default arn:aws:events:{region}:{account}:event-bus/default",
);
pub const SENDER: EnvVar = var(
    "SENDER",
    true,
    "SES-verified address the report is sent from",
);
pub const RECIPIENTS: EnvVar = var("RECIPIENTS", true, "comma-separated report recipients");
pub const CONSOLE_URL: EnvVar = var(
    "CONSOLE_URL",
    false,
    "base URL of the console; the report links each event to <CONSOLE_URL>/events/{id}; default no links",
);
pub const CURSOR_KEY_PARAMETER: EnvVar = var(
    "CURSOR_KEY_PARAMETER",
    true,
    "SSM SecureString parameter holding the key that signs cursors",
);
pub const AGENT_ACCOUNT_ID: EnvVar = var(
    "AGENT_ACCOUNT_ID",
    true,
    "the monitored account (12 digits)",
);
pub const AGENT_NAME: EnvVar = var("AGENT_NAME", true, "the agent's display name");
pub const STATE_PARAMETER: EnvVar = var(
    "STATE_PARAMETER",
    true,
    "SSM parameter with the agent's checkpoint and config",
);
pub const LATENCY_SECONDS: EnvVar = var(
    "LATENCY_SECONDS",
    false,
    "how far behind now the window ends; default 120",
);
pub const AGENT_MODE: EnvVar = var(
    "AGENT_MODE",
    false,
    "realtime (report the groups the config watches) or both (the groups it does not: the scheduled agent reads those); default realtime",
);
pub const AWS_REGION: EnvVar = var(
    "AWS_REGION",
    true,
    "set by Lambda: the region the function runs in",
);
pub const DELIVERIES_TABLE: EnvVar = var(
    "DELIVERIES_TABLE",
    true,
    "DynamoDB table of alert deliveries and storm windows",
);
pub const ALERT_CHANNELS: EnvVar = var(
    "ALERT_CHANNELS",
    true,
    "the alerts configuration as JSON (channels, storm, console_url), with SSM parameter names in place of secrets",
);
pub const ALERT_SENDER: EnvVar = var(
    "ALERT_SENDER",
    false,
    "SES-verified sender of e-mail alerts (required with an email channel)",
);

/// The environment variables of each binary, in the README's table and
/// compared with the Terraform modules' `environment` blocks.
pub const BINARIES: &[(&str, &[EnvVar])] = &[
    ("handle-monitoring-events", &[TABLE_NAME, RETENTION_DAYS]),
    (
        "update-deployment",
        &[TABLE_NAME, RETENTION_DAYS, AGENT_BUS_ARN_TEMPLATE],
    ),
    (
        "daily-report",
        &[TABLE_NAME, RETENTION_DAYS, SENDER, RECIPIENTS, CONSOLE_URL],
    ),
    (
        "query-error-logs",
        &[
            AGENT_ACCOUNT_ID,
            AGENT_NAME,
            STATE_PARAMETER,
            LATENCY_SECONDS,
            AWS_REGION,
        ],
    ),
    (
        "stream-error-logs",
        &[
            AGENT_ACCOUNT_ID,
            AGENT_NAME,
            STATE_PARAMETER,
            AGENT_MODE,
            LATENCY_SECONDS,
            AWS_REGION,
        ],
    ),
    (
        "api",
        &[
            TABLE_NAME,
            RETENTION_DAYS,
            CURSOR_KEY_PARAMETER,
            AGENT_BUS_ARN_TEMPLATE,
        ],
    ),
    (
        "notify",
        &[DELIVERIES_TABLE, ALERT_CHANNELS, ALERT_SENDER, TABLE_NAME],
    ),
];

/// A missing or invalid environment variable, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Reads configuration from a lookup function (the process environment in
/// `main`, a map in tests).
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

pub fn process_env() -> Env<impl Fn(&str) -> Option<String>> {
    Env(|name: &str| std::env::var(name).ok())
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn raw(&self, v: EnvVar) -> Option<String> {
        (self.0)(v.name)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    }

    pub fn required(&self, v: EnvVar) -> Result<String, ConfigError> {
        self.raw(v).ok_or(ConfigError::Missing(v.name))
    }

    pub fn optional(&self, v: EnvVar) -> Option<String> {
        self.raw(v)
    }

    pub fn parsed<T: FromStr>(&self, v: EnvVar, default: Option<T>) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.raw(v) {
            Some(s) => s.parse().map_err(|e: T::Err| ConfigError::Invalid {
                name: v.name,
                reason: e.to_string(),
            }),
            None => default.ok_or(ConfigError::Missing(v.name)),
        }
    }

    pub fn list(&self, v: EnvVar) -> Result<Vec<String>, ConfigError> {
        let items: Vec<String> = self
            .required(v)?
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        if items.is_empty() {
            return Err(ConfigError::Invalid {
                name: v.name,
                reason: "no value in the list".into(),
            });
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::model::AccountId;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env(move |k: &str| map.get(k).cloned())
    }

    #[test]
    fn missing_and_invalid_variables_are_named() {
        let e = env(&[("RETENTION_DAYS", "x"), ("RECIPIENTS", " , ")]);
        assert_eq!(
            e.required(TABLE_NAME),
            Err(ConfigError::Missing("TABLE_NAME"))
        );
        let err = e.parsed::<u32>(RETENTION_DAYS, Some(30)).unwrap_err();
        assert!(err.to_string().contains("RETENTION_DAYS"), "{err}");
        assert!(e
            .list(RECIPIENTS)
            .unwrap_err()
            .to_string()
            .contains("RECIPIENTS"));
        assert_eq!(env(&[]).parsed::<u32>(RETENTION_DAYS, Some(30)), Ok(30));
        let err = env(&[("AGENT_ACCOUNT_ID", "12")])
            .parsed::<AccountId>(AGENT_ACCOUNT_ID, None)
            .unwrap_err();
        assert!(err.to_string().contains("AGENT_ACCOUNT_ID"));
    }

    #[test]
    fn every_binary_lists_its_variables_once() {
        for (bin, vars) in BINARIES {
            let mut names: Vec<&str> = vars.iter().map(|v| v.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), vars.len(), "{bin} lists a variable twice");
        }
    }
}
