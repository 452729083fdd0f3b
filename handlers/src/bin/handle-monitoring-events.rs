//! HandleMonitoringEvents: envelopes from the master bus into DynamoDB.

use handlers::lambda::{self, Error};
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let config = lambda::sdk_config().await;
    let store = lambda::exit_on_config_error(lambda::dynamo_store(&lambda::process_env(), &config));
    lambda::warm("dynamodb", store.describe()).await;
    let store = &store;
    run(service_fn(|event: LambdaEvent<Value>| async move {
        let outcome =
            lambda::handle_monitoring_event(store, event.payload, chrono::Utc::now()).await?;
        Ok::<_, Error>(serde_json::json!({ "outcome": format!("{outcome:?}") }))
    }))
    .await
}
