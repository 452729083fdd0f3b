//! What the five Lambda binaries share: configuration from the environment
//! (checked at start-up), SDK clients built once, connection warm-up, JSON
//! logs, and the handler functions themselves, so that tests can call them
//! with the payloads Lambda would deliver.

use crate::master::{Master, NoPusher, Outcome};
use adapters::aws::dynamodb::DynamoStore;
use adapters::aws::eventbridge::{EventBridgeConfigPusher, EventBridgePublisher};
use adapters::aws::logs::InsightsLogSource;
use adapters::aws::ses::SesMailer;
use adapters::aws::ssm::SsmAgentState;
use chrono::{DateTime, NaiveDate, Utc};
use domain::envelope::{Envelope, DT_AGENT_CONFIG_UPDATE};
use domain::inbound::Target;
use domain::model::{AccountId, AgentConfig, AgentId, Region};
use domain::ports::{AgentStore, ConfigPusher, EventStore, Mailer};
use domain::usecases::agent::{AgentSettings, QueryErrorLogs, RunSummary};
use domain::usecases::report::send_daily_report;
use domain::window::WindowPolicy;
use serde_json::Value;
use std::str::FromStr;

pub use lambda_http::lambda_runtime::Error;

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
pub const AWS_REGION: EnvVar = var(
    "AWS_REGION",
    true,
    "set by Lambda: the region the function runs in",
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
        &[TABLE_NAME, RETENTION_DAYS, SENDER, RECIPIENTS],
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
        "api",
        &[
            TABLE_NAME,
            RETENTION_DAYS,
            CURSOR_KEY_PARAMETER,
            AGENT_BUS_ARN_TEMPLATE,
        ],
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

/// Structured JSON logs for CloudWatch.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_current_span(false)
        .with_target(false)
        .try_init();
}

/// Unwraps a start-up step, or ends the process: see [`fail_init`].
pub async fn or_fail_init<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => fail_init(&e.to_string()).await,
    }
}

/// Start-up failed (a missing variable, an unreadable parameter): log one
/// line, report it to the Runtime API's `/init/error` so that Lambda shows it
/// as the init error, and exit 2 without taking an event.
pub async fn fail_init(message: &str) -> ! {
    let message = domain::logtext::one_line(message);
    tracing::error!(error = %message, "start-up failed");
    eprintln!("{message}");
    if let Err(e) = report_init_error(&message).await {
        tracing::warn!(error = %e, "could not report the init error to the Runtime API");
    }
    std::process::exit(2)
}

async fn report_init_error(message: &str) -> Result<(), Error> {
    // Outside Lambda (a test, a shell) there is no Runtime API to tell.
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return Ok(());
    };
    let client = lambda_runtime_api_client::Client::builder()
        .with_endpoint(format!("http://{api}").parse()?)
        .build()?;
    let diagnostic = lambda_http::lambda_runtime::Diagnostic {
        error_type: "Runtime.InitError".into(),
        error_message: message.into(),
    };
    let request = lambda_runtime_api_client::build_request()
        .method(http::Method::POST)
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .body(serde_json::to_vec(&diagnostic)?.into())?;
    let response = client.call(request).await?;
    if !response.status().is_success() {
        return Err(format!("/init/error answered {}", response.status()).into());
    }
    Ok(())
}

/// The SDK config from the environment (honours `AWS_ENDPOINT_URL`), with
/// an HTTPS client that trusts only Amazon's roots (see [`https_client`]).
pub async fn sdk_config() -> aws_config::SdkConfig {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    match https_client() {
        Some(client) => loader.http_client(client),
        None => loader,
    }
    .load()
    .await
}

/// The roots of Amazon Trust Services, which sign the certificates of every
/// AWS service endpoint: Amazon Root CA 1-4 and Starfield Services Root
/// Certificate Authority - G2 (its cross-signer), as Debian ships them.
pub const AMAZON_ROOTS_PEM: &str = include_str!("amazon-trust-services-roots.pem");

/// Whether the operator asked for the system's trust store.
fn uses_system_roots(is_set: impl Fn(&str) -> bool) -> bool {
    ["SSL_CERT_FILE", "SSL_CERT_DIR"].into_iter().any(is_set)
}

/// The SDK's default HTTPS client, but trusting only [`AMAZON_ROOTS_PEM`].
///
/// Why: the default client reads and decodes every root of the system store
/// (the bundle, then each file of the certificate folder) when it is built:
/// 79% of the instructions to a function's first answer, measured with
/// callgrind by `lambda-bench`. Trusting only Amazon's five roots removes that
/// cost and also means no other authority can vouch for an AWS endpoint.
/// An operator who must trust another root (a TLS-inspecting proxy, an
/// endpoint of their own) sets `SSL_CERT_FILE` or `SSL_CERT_DIR`: then the
/// system store is used as by default (`None`).
pub fn https_client() -> Option<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    if uses_system_roots(|v| std::env::var_os(v).is_some()) {
        return None;
    }
    Some(pinned_https_client())
}

/// [`https_client`] whatever the environment says.
pub fn pinned_https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{
        rustls_provider::CryptoMode, Provider, TlsContext, TrustStore,
    };
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    let tls = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(AMAZON_ROOTS_PEM.as_bytes()))
        .build()
        .expect("a trust store of valid PEM roots");
    // As the SDK's own default client builds its connector, trust store aside.
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut conn = ConnectorBuilder::default()
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(tls.clone());
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

/// Opens the connection pool during init: at 128 MB the first TLS handshake
/// costs hundreds of milliseconds, better spent before the first event.
/// A failure here is only logged: the real call will report it.
pub async fn warm<T, E: std::fmt::Display>(
    what: &str,
    call: impl std::future::Future<Output = Result<T, E>>,
) {
    if let Err(e) = call.await {
        tracing::debug!(%what, error = %e, "warm-up call failed");
    }
}

fn envelope_of(payload: Value) -> Result<Envelope, String> {
    serde_json::from_value(payload).map_err(|e| format!("not an EventBridge envelope: {e}"))
}

/// HandleMonitoringEvents: one envelope from the master bus. Only an
/// envelope at fault is skipped; a store failure fails the invocation.
pub async fn handle_monitoring_event<S: EventStore + AgentStore>(
    store: &S,
    payload: Value,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    let master = Master {
        events: store,
        agents: store,
        pusher: &NoPusher,
    };
    Ok(master
        .handle_json(payload, Some(Target::HandleMonitoringEvents), now)
        .await?)
}

/// UpdateDeployment: one agent lifecycle envelope.
pub async fn handle_deployment_event(
    events: &dyn EventStore,
    agents: &dyn AgentStore,
    pusher: &dyn ConfigPusher,
    payload: Value,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    let master = Master {
        events,
        agents,
        pusher,
    };
    Ok(master
        .handle_json(payload, Some(Target::UpdateDeployment), now)
        .await?)
}

/// DailyReport: the previous UTC day, or `{"date": "YYYY-MM-DD"}`.
pub async fn daily_report(
    events: &dyn EventStore,
    agents: &dyn AgentStore,
    mailer: &dyn Mailer,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    let day = match payload.get("date").and_then(Value::as_str) {
        Some(d) => {
            NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| format!("date {d:?}: {e}"))?
        }
        None => now.date_naive() - chrono::Duration::days(1),
    };
    let sent = send_daily_report(events, agents, mailer, day, now).await?;
    tracing::info!(%day, message = %sent, "daily report sent");
    Ok(sent)
}

/// What the agent was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentCommand {
    /// `{"action": "register"}`: Terraform's invocation at apply time.
    Register,
    /// An `Agent Config Update` envelope pushed by the master.
    ApplyConfig(Box<Envelope>),
    /// Anything else (the schedule's payload): one run.
    Run,
}

pub fn agent_command(payload: Value) -> Result<AgentCommand, String> {
    if payload.get("action").and_then(Value::as_str) == Some("register") {
        return Ok(AgentCommand::Register);
    }
    if payload.get("detail-type").and_then(Value::as_str) == Some(DT_AGENT_CONFIG_UPDATE) {
        return envelope_of(payload).map(|e| AgentCommand::ApplyConfig(Box::new(e)));
    }
    Ok(AgentCommand::Run)
}

/// QueryErrorLogs: a scheduled run, a registration or a config update.
pub async fn query_error_logs(
    agent: &QueryErrorLogs<'_>,
    payload: Value,
    now: DateTime<Utc>,
) -> Result<Value, Error> {
    let command = match agent_command(payload) {
        Ok(c) => c,
        Err(reason) => return Ok(skipped_json(reason)),
    };
    let result = match command {
        AgentCommand::Register => agent
            .register(now)
            .await
            .map(|()| serde_json::json!({"registered": true})),
        AgentCommand::ApplyConfig(env) => agent
            .apply_config_update(&env, now)
            .await
            .map(|changed| serde_json::json!({"config_changed": changed})),
        AgentCommand::Run => agent.run(now).await.map(|s| {
            tracing::info!("{}", crate::local::describe_run(&agent.settings.id, &s));
            run_json(&s)
        }),
    };
    match result {
        Ok(v) => Ok(v),
        Err(e) if e.is_input_fault() => Ok(skipped_json(e.to_string())),
        // SSM, Logs or the bus failed: Lambda retries, and the checkpoint has
        // not moved past anything unpublished.
        Err(e) => Err(e.into()),
    }
}

fn skipped_json(reason: String) -> Value {
    serde_json::to_value(Outcome::skipped(reason)).expect("serializable")
}

fn run_json(s: &RunSummary) -> Value {
    serde_json::json!({
        "window_start": s.window.map(|w| w.start),
        "window_end": s.window.map(|w| w.end),
        "log_groups": s.log_groups,
        "records_matched": s.records_matched,
        "occurrences_published": s.occurrences_published,
    })
}

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
    Ok(AgentAdapters {
        settings: AgentSettings {
            id: AgentId::new(account, region),
            name: env.required(AGENT_NAME)?,
            version: env!("CARGO_PKG_VERSION").into(),
            policy: WindowPolicy {
                latency: chrono::Duration::seconds(latency),
                ..WindowPolicy::default()
            },
            initial_config: AgentConfig::default(),
        },
        source: InsightsLogSource::new(aws_sdk_cloudwatchlogs::Client::new(config)),
        publisher: EventBridgePublisher::new(events_client, AGENT_EVENT_BUS),
        state: SsmAgentState::new(
            aws_sdk_ssm::Client::new(config),
            env.required(STATE_PARAMETER)?,
        ),
    })
}

/// The cursor-signing key, read once at start-up from SSM (never from the
/// environment: no secret sits in a Lambda's configuration). The error is
/// one line naming the parameter and the cause.
pub async fn cursor_key(
    config: &aws_config::SdkConfig,
    parameter: &str,
) -> Result<Vec<u8>, String> {
    let out = aws_sdk_ssm::Client::new(config)
        .get_parameter()
        .name(parameter)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            format!(
                "reading the cursor key {parameter}: {}",
                adapters::aws::errors::cause(&e)
            )
        })?;
    let key = out.parameter().and_then(|p| p.value()).unwrap_or_default();
    if key.len() < 16 {
        return Err(format!(
            "the cursor key {parameter} must hold at least 16 characters"
        ));
    }
    Ok(key.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env(move |k: &str| map.get(k).cloned())
    }

    #[test]
    fn the_sdk_trusts_amazons_five_roots_unless_the_operator_names_a_store() {
        let names: Vec<&str> = AMAZON_ROOTS_PEM
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .collect();
        assert_eq!(
            names,
            [
                "Amazon_Root_CA_1",
                "Amazon_Root_CA_2",
                "Amazon_Root_CA_3",
                "Amazon_Root_CA_4",
                "Starfield_Services_Root_Certificate_Authority_-_G2"
            ]
        );
        assert_eq!(
            AMAZON_ROOTS_PEM
                .matches("-----BEGIN CERTIFICATE-----")
                .count(),
            5
        );
        assert_eq!(
            AMAZON_ROOTS_PEM
                .matches("-----END CERTIFICATE-----")
                .count(),
            5
        );
        assert!(!uses_system_roots(|_| false));
        assert!(uses_system_roots(|v| v == "SSL_CERT_FILE"));
        assert!(uses_system_roots(|v| v == "SSL_CERT_DIR"));
    }

    fn openssl(args: &[&str], dir: &std::path::Path) {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (Debian's openssl package) makes the test certificates");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The error of one SDK call to `endpoint` through `client` (the SDK's
    /// default client when `None`), as text.
    async fn call_error(
        endpoint: &str,
        client: Option<aws_smithy_runtime_api::client::http::SharedHttpClient>,
    ) -> String {
        let mut conf = aws_sdk_ssm::Config::builder()
            .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
            .region(aws_sdk_ssm::config::Region::new("eu-west-1"))
            .credentials_provider(aws_sdk_ssm::config::Credentials::for_tests())
            .endpoint_url(endpoint)
            .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
            // openssl s_server answers no POST: only the handshake matters.
            .timeout_config(
                aws_sdk_ssm::config::timeout::TimeoutConfig::builder()
                    .operation_timeout(std::time::Duration::from_secs(3))
                    .build(),
            );
        if let Some(c) = client {
            conf = conf.http_client(c);
        }
        let err = aws_sdk_ssm::Client::from_conf(conf.build())
            .get_parameter()
            .name("x")
            .send()
            .await
            .unwrap_err();
        format!(
            "{:?}",
            aws_smithy_runtime_api::client::result::SdkError::into_source(err)
        )
    }

    /// The pinned store is really in use, and only it: a server whose
    /// certificate a test CA signed is refused at the handshake even while
    /// `SSL_CERT_FILE` names that CA, which the SDK's default client then
    /// trusts (so the test would fail if the system store were consulted).
    #[tokio::test]
    async fn only_amazons_roots_are_trusted_even_when_the_system_store_trusts_more() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("leaf.ext"),
            "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost\n",
        )
        .unwrap();
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=test-ca",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
            d,
        );
        openssl(
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                "key.pem",
                "-out",
                "leaf.csr",
            ],
            d,
        );
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                "leaf.ext",
                "-out",
                "cert.pem",
            ],
            d,
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = std::process::Command::new("openssl")
            .args([
                "s_server", "-quiet", "-www", "-cert", "cert.pem", "-key", "key.pem", "-accept",
            ])
            .arg(port.to_string())
            .current_dir(d)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // No other test of this crate reads the variable.
        std::env::set_var("SSL_CERT_FILE", d.join("ca.pem"));
        std::env::remove_var("SSL_CERT_DIR");
        let endpoint = format!("https://localhost:{port}");
        let pinned = call_error(&endpoint, Some(pinned_https_client())).await;
        let system = call_error(&endpoint, None).await;
        let escape_hatch = https_client().is_none();
        let _ = server.kill();
        let _ = server.wait();
        assert!(
            pinned.contains("UnknownIssuer"),
            "the pinned client trusted the test CA: {pinned}"
        );
        assert!(
            !system.contains("UnknownIssuer") && !system.contains("InvalidCertificate"),
            "the default client should trust the CA SSL_CERT_FILE names: {system}"
        );
        assert!(
            escape_hatch,
            "SSL_CERT_FILE must bring back the system store"
        );
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
    fn agent_payloads_are_told_apart() {
        assert_eq!(
            agent_command(serde_json::json!({"action": "register"})),
            Ok(AgentCommand::Register)
        );
        assert_eq!(
            agent_command(serde_json::json!({"detail-type": "Scheduled Event"})),
            Ok(AgentCommand::Run)
        );
        assert!(agent_command(serde_json::json!({"detail-type": "Agent Config Update"})).is_err());
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
