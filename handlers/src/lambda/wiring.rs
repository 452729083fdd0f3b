//! Each binary's adapters, built once from its configuration.

use super::config::*;
use adapters::alert_channels::{HttpDelivery, RetryPolicy};
use adapters::aws::alerts::{resolve_secrets, AwsChannels};
use adapters::aws::deliveries::DeliveryTable;
use adapters::aws::dynamodb::DynamoStore;
use adapters::aws::eventbridge::{EventBridgeConfigPusher, EventBridgePublisher};
use adapters::aws::logs::InsightsLogSource;
use adapters::aws::ses::SesMailer;
use adapters::aws::ssm::SsmAgentState;
use domain::alerts::{AlertsConfig, ChannelKind};
use domain::model::{AccountId, AgentConfig, AgentId, Region};
use domain::usecases::agent::{AgentSettings, QueryErrorLogs};
use domain::usecases::notify::Notifier;
use domain::usecases::report::ConsoleUrl;
use domain::window::WindowPolicy;

/// The table, as every master function opens it (TTLs need the retention).
pub fn dynamo_store<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    config: &aws_config::SdkConfig,
) -> Result<DynamoStore, ConfigError> {
    let table = env.required(TABLE_NAME)?;
    let retention: u32 = env.parsed(RETENTION_DAYS, Some(30))?;
    if retention == 0 {
        return Err(ConfigError::Invalid {
            name: RETENTION_DAYS.name,
            reason: "must be at least 1".into(),
        });
    }
    Ok(
        DynamoStore::new(aws_sdk_dynamodb::Client::new(config), table)
            .with_retention_days(retention),
    )
}

/// Pushes configs to agents' default buses (UpdateDeployment, `PUT /agents`).
pub fn config_pusher<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    config: &aws_config::SdkConfig,
) -> EventBridgeConfigPusher {
    let template = env
        .optional(AGENT_BUS_ARN_TEMPLATE)
        .unwrap_or_else(|| EventBridgeConfigPusher::DEFAULT_TEMPLATE.to_owned());
    EventBridgeConfigPusher::new(aws_sdk_eventbridge::Client::new(config), template)
}

pub fn ses_mailer<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    config: &aws_config::SdkConfig,
) -> Result<SesMailer, ConfigError> {
    Ok(SesMailer::new(
        aws_sdk_ses::Client::new(config),
        env.required(SENDER)?,
        env.list(RECIPIENTS)?,
    ))
}

/// The console the daily report links its events to (`CONSOLE_URL`), if any.
pub fn console_url<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<ConsoleUrl>, ConfigError> {
    env.optional(CONSOLE_URL)
        .map(|url| {
            url.parse().map_err(|reason| ConfigError::Invalid {
                name: CONSOLE_URL.name,
                reason,
            })
        })
        .transpose()
}

/// The bus the agent publishes to: its own account's default bus, in its region.
pub const AGENT_EVENT_BUS: &str = "default";

/// The agent's settings and adapters.
pub struct AgentAdapters {
    pub settings: AgentSettings,
    pub source: InsightsLogSource,
    pub publisher: EventBridgePublisher,
    pub state: SsmAgentState,
}

impl AgentAdapters {
    pub fn use_case(&self) -> QueryErrorLogs<'_> {
        QueryErrorLogs {
            settings: &self.settings,
            source: &self.source,
            publisher: &self.publisher,
            state: &self.state,
        }
    }
}

pub fn agent_adapters<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    config: &aws_config::SdkConfig,
) -> Result<AgentAdapters, ConfigError> {
    let (settings, publisher, state) = agent_core(env, config)?;
    Ok(AgentAdapters {
        settings,
        source: InsightsLogSource::new(aws_sdk_cloudwatchlogs::Client::new(config)),
        publisher,
        state,
    })
}

/// What both agent binaries (query-error-logs, stream-error-logs) are made
/// of: the agent's settings, its publisher and its state parameter.
pub fn agent_core<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    config: &aws_config::SdkConfig,
) -> Result<(AgentSettings, EventBridgePublisher, SsmAgentState), ConfigError> {
    let account: AccountId = env.parsed(AGENT_ACCOUNT_ID, None)?;
    let region: Region = env.parsed(AWS_REGION, None)?;
    let latency: i64 = env.parsed(LATENCY_SECONDS, Some(120))?;
    if !(0..=3600).contains(&latency) {
        return Err(ConfigError::Invalid {
            name: LATENCY_SECONDS.name,
            reason: "must be 0-3600".into(),
        });
    }
    // The agent publishes to its own account's default bus in its own region,
    // whose rule forwards to the master bus: EventBridge stamps the envelope
    // with the region where it was first put, so the master sees the agent's
    // real region (a direct PutEvents to the master bus would carry the
    // master's). The client's region is the agent's, whatever the SDK config says.
    let events_client = aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::config::Builder::from(config)
            .region(aws_config::Region::new(region.to_string()))
            .build(),
    );
    Ok((
        AgentSettings {
            id: AgentId::new(account, region),
            name: env.required(AGENT_NAME)?,
            version: env!("CARGO_PKG_VERSION").into(),
            policy: WindowPolicy {
                latency: chrono::Duration::seconds(latency),
                ..WindowPolicy::default()
            },
            initial_config: AgentConfig::default(),
        },
        EventBridgePublisher::new(events_client, AGENT_EVENT_BUS),
        SsmAgentState::new(
            aws_sdk_ssm::Client::new(config),
            env.required(STATE_PARAMETER)?,
        ),
    ))
}

/// The notify function's configuration and adapters.
pub struct NotifyAdapters {
    pub alerts: AlertsConfig,
    pub log: DeliveryTable,
    pub sender: AwsChannels,
    /// The events table, for the agents UpdateDeployment keeps there (the
    /// schedule's agent alerts); notify writes nothing to it.
    pub agents: DynamoStore,
}

impl NotifyAdapters {
    pub fn notifier(&self) -> Notifier<'_> {
        Notifier {
            config: &self.alerts,
            log: &self.log,
            sender: &self.sender,
        }
    }
}

/// Reads the channels from the environment and their secrets from SSM
/// (SecureString, decrypted once at start-up; never logged). The error is
/// one line naming the variable or parameter.
pub async fn notify_adapters<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    config: &aws_config::SdkConfig,
) -> Result<NotifyAdapters, String> {
    // In the order of `BINARIES`: the first missing variable is named.
    let table = env.required(DELIVERIES_TABLE).map_err(|e| e.to_string())?;
    let text = env.required(ALERT_CHANNELS).map_err(|e| e.to_string())?;
    let mut alerts = AlertsConfig::from_json(&text).map_err(|e| {
        format!(
            "environment variable {} is invalid: {e}",
            ALERT_CHANNELS.name
        )
    })?;
    let from = env.optional(ALERT_SENDER).unwrap_or_default();
    let wants_email = alerts
        .channels
        .iter()
        .any(|c| matches!(c.kind, ChannelKind::Email { .. }));
    if wants_email && from.is_empty() {
        return Err(ConfigError::Missing(ALERT_SENDER.name).to_string());
    }
    let events_table = env.required(TABLE_NAME).map_err(|e| e.to_string())?;
    resolve_secrets(&aws_sdk_ssm::Client::new(config), &mut alerts).await?;
    let http = HttpDelivery::new(RetryPolicy::default());
    Ok(NotifyAdapters {
        agents: DynamoStore::new(aws_sdk_dynamodb::Client::new(config), events_table),
        alerts,
        log: DeliveryTable::new(aws_sdk_dynamodb::Client::new(config), table),
        sender: AwsChannels {
            http,
            ses: aws_sdk_ses::Client::new(config),
            from,
            sns: aws_sdk_sns::Client::new(config),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_url_is_optional_and_checked() {
        let none = Env(|_: &str| None);
        assert_eq!(console_url(&none), Ok(None));
        let set =
            Env(|k: &str| (k == "CONSOLE_URL").then(|| "https://ops.example.com/console/".into()));
        assert_eq!(
            console_url(&set).unwrap().unwrap().as_str(),
            "https://ops.example.com/console"
        );
        let bad = Env(|k: &str| (k == "CONSOLE_URL").then(|| "ops.example.com".into()));
        let err = console_url(&bad).unwrap_err().to_string();
        assert!(err.contains("CONSOLE_URL") && err.contains("http"), "{err}");
    }
}
