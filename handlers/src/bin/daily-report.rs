//! DailyReport: yesterday's activity, e-mailed through SES, each event linked
//! to its console page when `CONSOLE_URL` is set.

use handlers::lambda::{self, Error};
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let env = lambda::process_env();
    let store = lambda::or_fail_init(lambda::dynamo_store(&env, &config)).await;
    let mailer = lambda::or_fail_init(lambda::ses_mailer(&env, &config)).await;
    let console = lambda::or_fail_init(lambda::console_url(&env)).await;
    lambda::warm("dynamodb", store.describe()).await;
    let (store, mailer, console) = (&store, &mailer, console.as_ref());
    run(service_fn(|event: LambdaEvent<Value>| async move {
        let now = chrono::Utc::now();
        let sent =
            lambda::linked_daily_report(store, store, mailer, console, &event.payload, now).await?;
        Ok::<_, Error>(serde_json::json!({ "sent": sent }))
    }))
    .await
}
