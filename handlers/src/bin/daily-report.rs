//! DailyReport: yesterday's activity, e-mailed through SES.

use handlers::lambda::{self, Error};
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let env = lambda::process_env();
    let m = lambda::exit_on_config_error(lambda::master_adapters(&env, &config));
    let mailer = lambda::exit_on_config_error(lambda::ses_mailer(&env, &config));
    lambda::warm("dynamodb", m.store.describe()).await;
    let (m, mailer) = (&m, &mailer);
    run(service_fn(|event: LambdaEvent<Value>| async move {
        let sent = lambda::daily_report(
            &m.store,
            &m.store,
            mailer,
            &event.payload,
            chrono::Utc::now(),
        )
        .await?;
        Ok::<_, Error>(serde_json::json!({ "sent": sent }))
    }))
    .await
}
