//! Start-up: logs, the SDK config, connection warm-up, the reads a binary
//! needs before its first event, and what happens when one fails.

use super::tls::https_client;
use super::Error;

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

/// The cursor-signing key, read once at start-up from SSM (never from the
/// environment: no secret sits in a Lambda's configuration). The error is
/// one line naming the parameter and the cause.
pub async fn cursor_key(ssm: &aws_sdk_ssm::Client, parameter: &str) -> Result<Vec<u8>, String> {
    let out = ssm
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
